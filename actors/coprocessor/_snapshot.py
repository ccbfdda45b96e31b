"""Machine snapshots: cheap copy-on-write capture, restore, canonical CBOR.

:meth:`Machine.snapshot` shares every memory page with the snapshot (the
machine copies a page before its next write to it), so taking one costs
O(allocated pages) pointer copies, not a copy of memory.  A snapshot holds
the whole architectural and host state: registers, pc, cycle, CSRs, pages,
mapped regions, program break, input position, outputs so far and the halt
state.  It does not hold the program's symbols, the input bytes, the config
or the effect handler: resume with :meth:`Machine.from_snapshot` giving them.

:meth:`Snapshot.to_cbor` is canonical CBOR (``stele.protocol.encode``), so
equal states give equal bytes and :meth:`Snapshot.digest` identifies a state;
:meth:`Snapshot.from_cbor` validates every field (and the digest, if given)
and raises :class:`SnapshotError` naming the bad field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stele.protocol import Digest, ProtocolError, decode, encode

from ._errors import SnapshotError
from ._memory import PAGE_SIZE

if TYPE_CHECKING:
    from ._machine import Machine

__all__ = ["Snapshot", "take_snapshot", "restore_snapshot", "SNAPSHOT_VERSION"]

SNAPSHOT_VERSION = 1
_M = 0xFFFFFFFF


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The full state of a :class:`Machine` at one cycle (see the module docstring).

    ``pages`` maps page numbers to 4 KiB pages that nobody mutates any more.
    Two snapshots are equal when their canonical encodings are.
    """

    cycle: int
    pc: int
    regs: tuple[int, ...]
    csrs: Mapping[int, int]
    pages: Mapping[int, bytearray]
    regions: tuple[tuple[int, int], ...]
    heap_region: tuple[int, int] | None
    brk: int
    input_pos: int
    stdout: bytes
    stderr: bytes
    public_output: bytes
    halted: bool
    exit_code: int | None
    halt_reason: str
    trap_count: int

    def to_obj(self) -> dict[str, object]:
        """The canonical-CBOR-ready form (str keys, ints, bytes, lists)."""
        return {
            "v": SNAPSHOT_VERSION, "cycle": self.cycle, "pc": self.pc, "regs": list(self.regs),
            "csrs": dict(self.csrs), "pages": {k: bytes(v) for k, v in self.pages.items()},
            "regions": [list(r) for r in self.regions],
            "heap": None if self.heap_region is None else list(self.heap_region),
            "brk": self.brk, "input_pos": self.input_pos, "stdout": self.stdout,
            "stderr": self.stderr, "public": self.public_output, "halted": self.halted,
            "exit_code": self.exit_code, "halt_reason": self.halt_reason,
            "traps": self.trap_count,
        }

    def to_cbor(self) -> bytes:
        """Canonical CBOR bytes of the snapshot."""
        return encode(self.to_obj())

    def digest(self) -> Digest:
        """``Digest.of(self.to_cbor())``: the identity of this machine state."""
        return Digest.of(self.to_cbor())

    @property
    def memory_bytes(self) -> int:
        """Bytes of page data the snapshot holds (shared pages counted once each)."""
        return len(self.pages) * PAGE_SIZE

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and self.to_cbor() == other.to_cbor()

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_cbor(cls, data: bytes, *, digest: Digest | None = None,
                  max_size: int = 1 << 32) -> Snapshot:
        """Parse and validate a snapshot; check it against ``digest`` if given."""
        if digest is not None and Digest.of(data, digest.algorithm) != digest:
            raise SnapshotError(f"snapshot digest mismatch: expected {digest}, "
                                f"got {Digest.of(data, digest.algorithm)}")
        try:
            obj = decode(data, max_size=max_size)
        except ProtocolError as exc:
            raise SnapshotError(f"snapshot is not canonical CBOR: {exc}") from None
        return cls.from_obj(obj)

    @classmethod
    def from_obj(cls, obj: object) -> Snapshot:
        """Validate the decoded form produced by :meth:`to_obj`."""
        if not isinstance(obj, dict):
            raise SnapshotError(f"snapshot must be a map, got {type(obj).__name__}")
        keys = {"v", "cycle", "pc", "regs", "csrs", "pages", "regions", "heap", "brk",
                "input_pos", "stdout", "stderr", "public", "halted", "exit_code",
                "halt_reason", "traps"}
        if set(obj) != keys:
            raise SnapshotError(f"snapshot fields {sorted(map(str, obj))} != {sorted(keys)}")
        if obj["v"] != SNAPSHOT_VERSION:
            raise SnapshotError(f"snapshot field v={obj['v']!r}, expected {SNAPSHOT_VERSION}")

        def word(name: str, v: object, bound: int = _M) -> int:
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= bound:
                raise SnapshotError(f"snapshot field {name}={v!r} is not an int in [0, {bound}]")
            return v

        def blob(name: str) -> bytes:
            v = obj[name]
            if not isinstance(v, bytes):
                raise SnapshotError(f"snapshot field {name} is {type(v).__name__}, not bytes")
            return v

        regs = obj["regs"]
        if not isinstance(regs, list) or len(regs) != 32:
            raise SnapshotError("snapshot field regs must be a list of 32 words")
        reg_values = tuple(word(f"regs[{i}]", v) for i, v in enumerate(regs))
        if reg_values[0] != 0:
            raise SnapshotError(f"snapshot field regs[0]={reg_values[0]} must be 0")
        csrs = obj["csrs"]
        if not isinstance(csrs, dict):
            raise SnapshotError("snapshot field csrs must be a map")
        csr_values = {word("csrs key", k, 0xFFF): word(f"csrs[{k}]", v) for k, v in csrs.items()}
        pages_obj = obj["pages"]
        if not isinstance(pages_obj, dict):
            raise SnapshotError("snapshot field pages must be a map")
        pages: dict[int, bytearray] = {}
        for k, v in pages_obj.items():
            word("pages key", k, (1 << 20) - 1)
            if not isinstance(v, bytes) or len(v) != PAGE_SIZE:
                raise SnapshotError(f"snapshot field pages[{k}] must be {PAGE_SIZE} bytes")
            pages[k] = bytearray(v)

        def region(name: str, v: object) -> tuple[int, int]:
            if not isinstance(v, list) or len(v) != 2:
                raise SnapshotError(f"snapshot field {name} must be [start, end]")
            s, e = word(name, v[0], 1 << 32), word(name, v[1], 1 << 32)
            if s % PAGE_SIZE or e % PAGE_SIZE or e <= s:
                raise SnapshotError(f"snapshot field {name}=[{s}, {e}] is not a page range")
            return (s, e)

        regions_obj = obj["regions"]
        if not isinstance(regions_obj, list):
            raise SnapshotError("snapshot field regions must be a list")
        regions = tuple(region(f"regions[{i}]", v) for i, v in enumerate(regions_obj))
        heap = None if obj["heap"] is None else region("heap", obj["heap"])
        exit_code = obj["exit_code"]
        if exit_code is not None and (not isinstance(exit_code, int)
                                      or isinstance(exit_code, bool)):
            raise SnapshotError(f"snapshot field exit_code={exit_code!r} is not an int or null")
        if not isinstance(obj["halted"], bool):
            raise SnapshotError("snapshot field halted must be a bool")
        if not isinstance(obj["halt_reason"], str):
            raise SnapshotError("snapshot field halt_reason must be a str")
        return cls(
            cycle=word("cycle", obj["cycle"], 1 << 64), pc=word("pc", obj["pc"]),
            regs=reg_values, csrs=csr_values, pages=pages, regions=regions, heap_region=heap,
            brk=word("brk", obj["brk"]), input_pos=word("input_pos", obj["input_pos"], 1 << 64),
            stdout=blob("stdout"), stderr=blob("stderr"), public_output=blob("public"),
            halted=obj["halted"], exit_code=exit_code, halt_reason=obj["halt_reason"],
            trap_count=word("traps", obj["traps"], 1 << 64),
        )


def take_snapshot(m: Machine) -> Snapshot:
    """Capture ``m`` (see :meth:`Machine.snapshot`)."""
    mem = m.memory
    return Snapshot(
        cycle=m.cycle, pc=m.pc, regs=tuple(m.regs), csrs=dict(m.csrs), pages=mem.freeze(),
        regions=tuple(mem.regions), heap_region=m.heap_region, brk=m.brk,
        input_pos=m.input_pos, stdout=bytes(m.stdout), stderr=bytes(m.stderr),
        public_output=bytes(m.public_output), halted=m.halted, exit_code=m.exit_code,
        halt_reason=m.halt_reason, trap_count=m.trap_count,
    )


def restore_snapshot(m: Machine, s: Snapshot) -> None:
    """Put ``m`` in state ``s`` (see :meth:`Machine.restore`)."""
    m.regs[:] = s.regs
    m.pc = s.pc
    m.cycle = s.cycle
    m.csrs.clear()
    m.csrs.update(s.csrs)
    m.memory.thaw(dict(s.pages), list(s.regions))
    m.heap_region = s.heap_region
    m.brk = s.brk
    m.input_pos = s.input_pos
    m.stdout = bytearray(s.stdout)
    m.stderr = bytearray(s.stderr)
    m.public_output = bytearray(s.public_output)
    m.halted = s.halted
    m.exit_code = s.exit_code
    m.halt_reason = s.halt_reason
    m.trap_count = s.trap_count
