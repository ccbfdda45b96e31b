"""SimDisk: an in-memory :class:`stele.Disk` that fails the way disks do.

Two views of every file are kept: what readers see now (*volatile*) and what
would survive a crash (*durable*).  ``write``/``append`` change the volatile
view and mark the file dirty; ``fsync`` copies it to the durable view.
``rename`` is atomic and moves both views (a journaled metadata operation, as
on ext4/XFS), so the classic *write tmp, fsync tmp, rename* is crash-safe while
*write, rename* without fsync is not.  :meth:`SimDisk.crash` resolves every
dirty file (under a prefix) to its durable contents, a torn mix, a corrupted
copy or the new contents, by the fault ratios, and records what happened.

Files opened through the *range* API (:meth:`SimDisk.pread`,
:meth:`SimDisk.pwrite`, :meth:`SimDisk.ftruncate`, :meth:`SimDisk.sync_file`;
synchronous, for the SQLite VFS in :mod:`stele.sim._sqlite`) keep every
unsynced write as its own pending operation, as a disk's write cache does.
A crash decides each pending write independently (lost, torn to a prefix,
one byte flipped, or kept), so a database sees its unsynced pages reordered,
half-written and damaged while its synced pages stay intact.  Sector faults
hit the range API while running, and reach synced data too: a misdirected
write lands in another aligned slot of the file, a misdirected read returns
another slot's bytes, and a latent sector error makes a 512-byte sector
unreadable until it is rewritten (see :class:`stele.sim.DiskFaults`).  Latency of
range operations is owed by the caller and paid, in virtual time, by
:meth:`stele.sim.SimEnv.run_blocking` when the blocking call returns.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

import trio

from .._core._env import Disk
from .._core._random import SeededRandom
from .._core._realenv import check_disk_path as _check_disk_path
from ._faults import DiskFaults

if TYPE_CHECKING:
    from ._simenv import SimEnv

__all__ = ["SimDisk", "SECTOR"]

#: The sector size of sector faults (and of the SQLite VFS).
SECTOR = 512

#: Paths already validated, mapped to their normal form (SQLite's VFS names the
#: same few files on every page read and write).
_CHECKED: dict[str, str] = {}


def check_disk_path(path: str, *, allow_root: bool = False) -> str:
    """:func:`stele._core._realenv.check_disk_path`, memoised for valid file paths."""
    if allow_root or type(path) is not str:
        return _check_disk_path(path, allow_root=allow_root)
    p = _CHECKED.get(path)
    if p is None:
        p = _check_disk_path(path)
        if len(_CHECKED) >= 4096:
            _CHECKED.clear()
        _CHECKED[path] = p
    return p


class SimDisk(Disk):
    """Simulated files with injected write/fsync failures and crash damage."""

    def __init__(self, env: SimEnv, rng: SeededRandom, faults: DiskFaults) -> None:
        self._env = env
        self._rng = rng
        self.faults = faults
        self._volatile: dict[str, bytes | bytearray] = {}
        self._durable: dict[str, bytes] = {}
        self._dirty: dict[str, None] = {}  # insertion-ordered set
        # Range files: unsynced operations in order, ("w", offset, data) / ("t", size, b"").
        self._pending: dict[str, list[tuple[str, int, bytes]]] = {}
        self.faults_injected = 0
        self.crashes = 0
        #: Virtual nanoseconds of range-operation latency not yet slept.
        self.owed_ns = 0
        #: Range operations by kind (pread, pwrite, sync, truncate), for reports.
        self.range_ops: dict[str, int] = {}
        # Power loss: after this many more range operations the disk stops (None: never).
        self._power_in: int | None = None
        self.powered = True
        #: Sector faults injected (misdirected writes and reads, sectors gone bad):
        #: damage to durable data that no journal repairs.
        self.sector_faults = 0
        # Latent sector errors: path -> unreadable 512-byte sector numbers.
        self._bad: dict[str, set[int]] = {}

    async def _op(self, kind: str, path: str) -> None:
        latency = self.faults.latency_ns
        if latency:
            await self._env.sleep_ns(self._rng.randbelow(latency + 1))
        else:
            await trio.lowlevel.checkpoint()

    def _fail(self, kind: str, path: str) -> None:
        self.faults_injected += 1
        self._env.trace.record("fault.disk", kind, path)
        raise OSError(errno.EIO, f"simulated {kind} failure", path)

    async def read(self, path: str) -> bytes:
        p = check_disk_path(path)
        await self._op("read", p)
        try:
            return bytes(self._volatile[p])
        except KeyError:
            raise FileNotFoundError(errno.ENOENT, "no such file", path) from None

    async def write(self, path: str, data: bytes) -> None:
        p = check_disk_path(path)
        data = bytes(data)
        await self._op("write", p)
        if self.faults.write_fail.hit(self._rng):
            self._fail("write", p)
        self._volatile[p] = data
        self._dirty[p] = None
        self._bad.pop(p, None)  # a whole-file rewrite replaces every sector

    async def append(self, path: str, data: bytes) -> None:
        p = check_disk_path(path)
        data = bytes(data)
        await self._op("append", p)
        if self.faults.write_fail.hit(self._rng):
            self._fail("append", p)
        self._volatile[p] = self._volatile.get(p, b"") + data
        self._dirty[p] = None

    async def fsync(self, path: str) -> None:
        p = check_disk_path(path)
        await self._op("fsync", p)
        if p not in self._volatile:
            raise FileNotFoundError(errno.ENOENT, "no such file", path)
        if self.faults.fsync_fail.hit(self._rng):
            self._fail("fsync", p)
        self._durable[p] = bytes(self._volatile[p])
        self._dirty.pop(p, None)

    async def rename(self, src: str, dst: str) -> None:
        s, d = check_disk_path(src), check_disk_path(dst)
        await self._op("rename", s)
        if s not in self._volatile:
            raise FileNotFoundError(errno.ENOENT, "no such file", src)
        if s == d:
            return
        self._volatile[d] = self._volatile.pop(s)
        if s in self._durable:
            self._durable[d] = self._durable.pop(s)
        else:
            self._durable.pop(d, None)
        was_dirty = self._dirty.pop(s, 0) is None
        self._dirty.pop(d, None)
        if was_dirty:
            self._dirty[d] = None

    async def remove(self, path: str) -> None:
        p = check_disk_path(path)
        await self._op("remove", p)
        if p not in self._volatile:
            raise FileNotFoundError(errno.ENOENT, "no such file", path)
        del self._volatile[p]
        self._durable.pop(p, None)  # unlink is journaled like rename
        self._dirty.pop(p, None)

    async def exists(self, path: str) -> bool:
        p = check_disk_path(path)
        await self._op("exists", p)
        return p in self._volatile

    async def listdir(self, path: str = "") -> list[str]:
        p = check_disk_path(path, allow_root=True)
        await self._op("listdir", p)
        prefix = p + "/" if p else ""
        names = {k[len(prefix):].split("/", 1)[0] for k in self._volatile if k.startswith(prefix)}
        return sorted(names)

    # -- the range API (synchronous: SQLite's VFS calls it) ---------------------
    def _range_op(self, kind: str) -> None:
        self.range_ops[kind] = self.range_ops.get(kind, 0) + 1
        if self._power_in is not None and kind in ("pwrite", "sync", "truncate"):
            self._power_in -= 1
            if self._power_in < 0:
                self._power_in = None
                self.powered = False
                self._env.trace.record("fault.disk.power_lost", kind)
        if not self.powered:
            raise OSError(errno.EIO, "simulated power loss: the disk is gone")
        latency = self.faults.latency_ns
        if latency:
            self.owed_ns += self._rng.randbelow(latency + 1)

    def lose_power_after(self, ops: int) -> None:
        """Stop the disk after ``ops`` more range writes/syncs, likely mid-transaction.

        From then on every range operation fails with ``OSError(EIO)``, so a
        database writer is cut off between two writes of one commit, as a
        process is by a power loss.  :meth:`crash` then resolves what was not
        synced, and :meth:`restore_power` brings the disk back.
        """
        self._power_in = ops

    def restore_power(self) -> None:
        """The disk works again (after :meth:`crash`)."""
        self._power_in = None
        self.powered = True

    def _buf(self, p: str) -> bytearray:
        """The volatile contents of ``p`` as a mutable buffer (converted once)."""
        buf = self._volatile[p]
        if isinstance(buf, bytes):
            buf = self._volatile[p] = bytearray(buf)
        return buf

    def take_owed_ns(self) -> int:
        """The latency owed by range operations since the last call (then zero)."""
        owed, self.owed_ns = self.owed_ns, 0
        return owed

    def open_file(self, path: str, *, create: bool) -> None:
        """Make sure ``path`` exists (creating it empty, durably, if ``create``)."""
        p = check_disk_path(path)
        if p in self._volatile:
            return
        if not create:
            raise FileNotFoundError(errno.ENOENT, "no such file", path)
        self._volatile[p] = bytearray()
        self._durable[p] = b""  # creation is journaled metadata, like rename

    def file_exists(self, path: str) -> bool:
        """Whether ``path`` exists (synchronous)."""
        return check_disk_path(path) in self._volatile

    def file_size(self, path: str) -> int:
        """The size of ``path`` as readers see it now."""
        return len(self._volatile[check_disk_path(path)])

    def pread(self, path: str, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` (short at the end of the file)."""
        p = check_disk_path(path)
        self._range_op("pread")
        if self.faults.read_fail.hit(self._rng):
            self._fail("read", p)
        buf = self._volatile[p]
        bad = self._bad.get(p)
        if bad and any(s in bad for s in range(offset // SECTOR, (offset + n - 1) // SECTOR + 1)):
            self.faults_injected += 1
            self._env.trace.record("fault.disk", "sector_error", p, offset)
            raise OSError(errno.EIO, "simulated unreadable sector", path)
        if n > 0 and self.faults.misread.hit(self._rng):
            alt = self._elsewhere(len(buf), offset, n)
            if alt is not None:
                self.faults_injected += 1
                self.sector_faults += 1
                self._env.trace.record("fault.disk", "misread", p, offset, alt)
                offset = alt
        return bytes(buf[offset:offset + n])

    def _elsewhere(self, size: int, offset: int, n: int) -> int | None:
        """Another ``n``-aligned slot of ``n`` bytes inside a file of ``size`` (or None)."""
        slots = size // n
        here = offset // n if offset % n == 0 else -1
        if slots - (0 <= here < slots) < 1:
            return None
        k = self._rng.randbelow(slots - (0 <= here < slots))
        if 0 <= here <= k:
            k += 1
        return k * n

    def pwrite(self, path: str, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` (zero-filling a gap); not durable until synced."""
        p = check_disk_path(path)
        self._range_op("pwrite")
        buf = self._buf(p)
        if self.faults.write_fail.hit(self._rng):
            self._fail("write", p)
        if offset + len(data) > len(buf) and self.faults.full.hit(self._rng):
            self.faults_injected += 1
            self._env.trace.record("fault.disk", "full", p)
            raise OSError(errno.ENOSPC, "simulated disk full", path)
        if data and self.faults.misdirect.hit(self._rng):
            alt = self._elsewhere(len(buf), offset, len(data))
            if alt is not None:
                self.faults_injected += 1
                self.sector_faults += 1
                self._env.trace.record("fault.disk", "misdirect", p, offset, alt)
                offset = alt
        if offset > len(buf):
            buf.extend(bytes(offset - len(buf)))
        buf[offset:offset + len(data)] = data
        bad = self._bad.get(p)
        if bad:  # a sector rewritten whole is remapped: readable again
            first = -(-offset // SECTOR)
            bad.difference_update(range(first, (offset + len(data)) // SECTOR))
        if p in self._dirty:  # written whole-file too: the whole-file model covers it
            return
        self._pending.setdefault(p, []).append(("w", offset, bytes(data)))

    def ftruncate(self, path: str, size: int) -> None:
        """Cut ``path`` to ``size`` bytes (or zero-extend it)."""
        p = check_disk_path(path)
        self._range_op("truncate")
        buf = self._buf(p)
        bad = self._bad.get(p)
        if bad:  # sectors cut off entirely are gone with the bytes
            bad.difference_update({s for s in bad if s * SECTOR >= size})
        if size < len(buf):
            del buf[size:]
        else:
            buf.extend(bytes(size - len(buf)))
        if p not in self._dirty:
            self._pending.setdefault(p, []).append(("t", size, b""))

    def sync_file(self, path: str) -> None:
        """fsync: every write to ``path`` so far becomes durable (or ``OSError``)."""
        p = check_disk_path(path)
        self._range_op("sync")
        if p not in self._volatile:
            raise FileNotFoundError(errno.ENOENT, "no such file", path)
        if self.faults.fsync_fail.hit(self._rng):
            self._fail("fsync", p)
        self._durable[p] = bytes(self._volatile[p])
        self._pending.pop(p, None)
        self._dirty.pop(p, None)
        size = len(self._durable[p])
        if size >= SECTOR and self.faults.sector_error.hit(self._rng):
            sector = self._rng.randbelow(size // SECTOR)
            self._bad.setdefault(p, set()).add(sector)
            self.faults_injected += 1
            self.sector_faults += 1
            self._env.trace.record("fault.disk", "sector_went_bad", p, sector)

    def delete_file(self, path: str) -> None:
        """Unlink ``path`` (journaled: durable at once); missing files are an error."""
        p = check_disk_path(path)
        self._range_op("delete")
        if p not in self._volatile:
            raise FileNotFoundError(errno.ENOENT, "no such file", path)
        del self._volatile[p]
        self._durable.pop(p, None)
        self._dirty.pop(p, None)
        self._pending.pop(p, None)
        self._bad.pop(p, None)

    # -- faults -----------------------------------------------------------------
    def crash(self, prefix: str = "") -> int:
        """Crash the files under ``prefix``: unsynced data may be lost, torn or corrupted.

        Returns how many files were damaged.  Files are visited in sorted
        order so the outcome depends only on the seed.
        """
        self.crashes += 1
        damaged = 0
        rng = self._rng
        victims = sorted(p for p in self._dirty if p.startswith(prefix))
        for p in victims:
            del self._dirty[p]
            current = self._volatile.get(p)
            new = None if current is None else bytes(current)
            old = self._durable.get(p)
            f = self.faults
            if new is None:
                continue
            if f.crash_lose.hit(rng):
                outcome = "lose"
                result = old
            elif f.crash_torn.hit(rng):
                outcome = "torn"
                base = old or b""
                k = rng.randbelow(len(new) + 1)
                result = new[:k] + base[k:]
            elif f.crash_corrupt.hit(rng) and _unsynced_start(old, new) < len(new):
                outcome = "corrupt"
                start = _unsynced_start(old, new)
                i = rng.randrange(start, len(new))
                flip = 1 + rng.randbelow(255)
                result = new[:i] + bytes([new[i] ^ flip]) + new[i + 1:]
            else:
                outcome = "keep"
                result = new
            if outcome != "keep":
                damaged += 1
                self.faults_injected += 1
            self._env.trace.record("fault.disk.crash", p, outcome)
            if result is None:
                self._volatile.pop(p, None)
                self._durable.pop(p, None)
            else:
                self._volatile[p] = result
                self._durable[p] = result
        for p in sorted(q for q in self._pending if q.startswith(prefix)):
            n = self._crash_pending(p, self._pending.pop(p))
            damaged += n
        return damaged

    def _crash_pending(self, p: str, ops: list[tuple[str, int, bytes]]) -> int:
        """Resolve the unsynced operations of a range file; returns how many were damaged."""
        f = self.faults
        rng = self._rng
        base = self._durable.get(p)
        out = bytearray(base or b"")
        counts = {"lose": 0, "torn": 0, "corrupt": 0, "keep": 0}
        for kind, offset, data in ops:
            if kind == "t":  # truncation is metadata: journaled, never torn
                if offset < len(out):
                    del out[offset:]
                else:
                    out.extend(bytes(offset - len(out)))
                continue
            if f.crash_lose.hit(rng):
                counts["lose"] += 1
                continue
            if f.crash_torn.hit(rng) and len(data) > 1:
                counts["torn"] += 1
                data = data[:rng.randbelow(len(data))]
            elif f.crash_corrupt.hit(rng) and data:
                counts["corrupt"] += 1
                i = rng.randbelow(len(data))
                data = data[:i] + bytes([data[i] ^ (1 + rng.randbelow(255))]) + data[i + 1:]
            else:
                counts["keep"] += 1
            if offset > len(out):
                out.extend(bytes(offset - len(out)))
            out[offset:offset + len(data)] = data
        damaged = counts["lose"] + counts["torn"] + counts["corrupt"]
        self.faults_injected += damaged
        self._env.trace.record("fault.disk.crash", p, "writes", counts["keep"], counts["lose"],
                               counts["torn"], counts["corrupt"])
        self._volatile[p] = bytearray(out)
        self._durable[p] = bytes(out)
        return damaged

    def durable_snapshot(self) -> dict[str, bytes]:
        """A copy of the durable view (what a crash of everything would leave)."""
        return dict(self._durable)

    def bad_sectors(self, path: str) -> list[int]:
        """The unreadable sectors of ``path`` (latent sector errors), sorted."""
        return sorted(self._bad.get(check_disk_path(path), ()))

    def pending_files(self) -> list[str]:
        """Range files with unsynced writes, sorted."""
        return sorted(self._pending)


def _unsynced_start(old: bytes | None, new: bytes) -> int:
    """Index of the first byte of ``new`` that differs from the durable ``old``."""
    if old is None:
        return 0
    n = min(len(old), len(new))
    i = 0
    while i < n and old[i] == new[i]:
        i += 1
    return i
