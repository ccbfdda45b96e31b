"""The RISC-V (RV32IM) co-processor: engine, witness, checkpoints, and its actor.

Engine API (a plain library; see each module's docstring for details)::

    from stele.actors.coprocessor import Machine, MachineConfig, load_elf

    m = Machine(load_elf(open("guest.elf", "rb").read()), input=b"...")
    m.advance(n)          # interpreter, up to n cycles (stops at halt), returns cycles run
    m.advance_fast(n)     # the same with compiled basic blocks, no witness
    rows = m.trace(n)     # the same, returning witness rows (cycles, K) uint32 -- COLUMNS
    snap = m.snapshot()   # copy-on-write capture; m.restore(snap); snap.to_cbor()/digest()
    res = m.run(max_cycles)   # to completion: RunResult(exit_code, cycles, stdout, ...)

Errors derive from :class:`CoprocessorError`.
"""

from ._elf import Program as Program
from ._elf import Segment as Segment
from ._elf import load_elf as load_elf
from ._elf import load_program as load_program
from ._elf import load_raw as load_raw
from ._errors import AccessFault as AccessFault
from ._errors import Breakpoint as Breakpoint
from ._errors import CoprocessorError as CoprocessorError
from ._errors import CycleLimitExceeded as CycleLimitExceeded
from ._errors import ElfError as ElfError
from ._errors import GuestError as GuestError
from ._errors import GuestFault as GuestFault
from ._errors import IllegalInstruction as IllegalInstruction
from ._errors import MemoryLimitExceeded as MemoryLimitExceeded
from ._errors import MisalignedAccess as MisalignedAccess
from ._errors import SnapshotError as SnapshotError
from ._errors import UnknownSyscall as UnknownSyscall
from ._isa import Instr as Instr
from ._isa import decode as decode
from ._isa import encode as encode
from ._machine import SYS_EFFECT as SYS_EFFECT
from ._machine import Machine as Machine
from ._machine import MachineConfig as MachineConfig
from ._machine import RunResult as RunResult
from ._snapshot import Snapshot as Snapshot
from ._witness import COLUMNS as COLUMNS
from ._witness import K as K
from ._witness import deinterleave as deinterleave
from ._witness import flat_index as flat_index
from ._witness import interleave as interleave

__all__ = [
    "Program", "Segment", "load_elf", "load_program", "load_raw",
    "AccessFault", "Breakpoint", "CoprocessorError", "CycleLimitExceeded", "ElfError",
    "GuestError", "GuestFault", "IllegalInstruction", "MemoryLimitExceeded",
    "MisalignedAccess", "SnapshotError", "UnknownSyscall",
    "Instr", "decode", "encode",
    "SYS_EFFECT", "Machine", "MachineConfig", "RunResult", "Snapshot",
    "COLUMNS", "K", "deinterleave", "flat_index", "interleave",
]
