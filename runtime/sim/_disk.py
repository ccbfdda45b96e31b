"""SimDisk: an in-memory :class:`stele.Disk` that fails the way disks do.

Two views of every file are kept: what readers see now (*volatile*) and what
would survive a crash (*durable*).  ``write``/``append`` change the volatile
view and mark the file dirty; ``fsync`` copies it to the durable view.
``rename`` is atomic and moves both views (a journaled metadata operation, as
on ext4/XFS), so the classic *write tmp, fsync tmp, rename* is crash-safe while
*write, rename* without fsync is not.  :meth:`SimDisk.crash` resolves every
dirty file (under a prefix) to its durable contents, a torn mix, a corrupted
copy or the new contents, by the fault ratios, and records what happened.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

import trio

from .._core._env import Disk
from .._core._random import SeededRandom
from .._core._realenv import check_disk_path
from ._faults import DiskFaults

if TYPE_CHECKING:
    from ._simenv import SimEnv

__all__ = ["SimDisk"]


class SimDisk(Disk):
    """Simulated files with injected write/fsync failures and crash damage."""

    def __init__(self, env: SimEnv, rng: SeededRandom, faults: DiskFaults) -> None:
        self._env = env
        self._rng = rng
        self.faults = faults
        self._volatile: dict[str, bytes] = {}
        self._durable: dict[str, bytes] = {}
        self._dirty: dict[str, None] = {}  # insertion-ordered set
        self.faults_injected = 0
        self.crashes = 0

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
            return self._volatile[p]
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
        self._durable[p] = self._volatile[p]
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
            new = self._volatile.get(p)
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
        return damaged

    def durable_snapshot(self) -> dict[str, bytes]:
        """A copy of the durable view (what a crash of everything would leave)."""
        return dict(self._durable)


def _unsynced_start(old: bytes | None, new: bytes) -> int:
    """Index of the first byte of ``new`` that differs from the durable ``old``."""
    if old is None:
        return 0
    n = min(len(old), len(new))
    i = 0
    while i < n and old[i] == new[i]:
        i += 1
    return i
