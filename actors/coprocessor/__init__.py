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
from ._errors import GuestOutputLimit as GuestOutputLimit
from ._errors import IllegalInstruction as IllegalInstruction
from ._errors import MemoryLimitExceeded as MemoryLimitExceeded
from ._errors import MisalignedAccess as MisalignedAccess
from ._errors import SnapshotError as SnapshotError
from ._errors import UnknownSyscall as UnknownSyscall
from ._errors import WorkerLost as WorkerLost
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

from ._actor import CoprocessorActor as CoprocessorActor
from ._actor import record_execution as record_execution
from ._actor import run_execution as run_execution
from ._actor import run_program as run_program
from ._binding import WIDTHS as WIDTHS
from ._binding import Execution as Execution
from ._checkpoint import Checkpoint as Checkpoint
from ._checkpoint import CheckpointSet as CheckpointSet
from ._checkpoint import TraceMachine as TraceMachine
from ._checkpoint import TraceProgram as TraceProgram
from ._checkpoint import choose_interval as choose_interval
from ._checkpoint import collect_trace as collect_trace
from ._checkpoint import interval_for_workers as interval_for_workers
from ._checkpoint import interval_sqrt as interval_sqrt
from ._checkpoint import record as record
from ._checkpoint import split_ranges as split_ranges
from ._guests import BENCH_SIZES as BENCH_SIZES
from ._guests import GUESTS as GUESTS
from ._guests import guest_elf as guest_elf
from ._guests import guest_input as guest_input
from ._messages import GuestFinished as GuestFinished
from ._messages import GuestStopped as GuestStopped
from ._messages import GuestSuspended as GuestSuspended
from ._messages import ReadWitness as ReadWitness
from ._messages import RecordWitness as RecordWitness
from ._messages import ResumeGuest as ResumeGuest
from ._messages import RunGuest as RunGuest
from ._messages import RunLimits as RunLimits
from ._messages import RunOutcome as RunOutcome
from ._messages import RunProgram as RunProgram
from ._messages import WitnessRecorded as WitnessRecorded
from ._messages import WitnessRows as WitnessRows
from ._oracle import WitnessOracle as WitnessOracle
from ._stream import StreamStats as StreamStats
from ._stream import WitnessStream as WitnessStream
from ._stream import regenerate_ranges as regenerate_ranges
from ._stream import regenerate_ranges_async as regenerate_ranges_async
from ._stream_errors import CheckpointError as CheckpointError
from ._stream_errors import GuestRunFailed as GuestRunFailed
from ._stream_errors import StreamError as StreamError

__all__ = [
    "Program", "Segment", "load_elf", "load_program", "load_raw",
    "AccessFault", "Breakpoint", "CoprocessorError", "CycleLimitExceeded", "ElfError",
    "GuestError", "GuestFault", "GuestOutputLimit", "IllegalInstruction", "MemoryLimitExceeded",
    "MisalignedAccess", "SnapshotError", "UnknownSyscall", "WorkerLost",
    "Instr", "decode", "encode",
    "SYS_EFFECT", "Machine", "MachineConfig", "RunResult", "Snapshot",
    "COLUMNS", "K", "deinterleave", "flat_index", "interleave",
    # streaming half, checkpoints, guests and the actor
    "CoprocessorActor", "record_execution", "run_execution", "run_program",
    "WIDTHS", "Execution", "Checkpoint", "CheckpointSet", "TraceMachine", "TraceProgram",
    "choose_interval", "collect_trace", "interval_for_workers", "interval_sqrt", "record",
    "split_ranges", "BENCH_SIZES", "GUESTS", "guest_elf", "guest_input",
    "ReadWitness", "RecordWitness", "RunLimits", "RunOutcome", "RunProgram",
    "GuestFinished", "GuestStopped", "GuestSuspended", "ResumeGuest", "RunGuest",
    "WitnessRecorded", "WitnessRows", "WitnessOracle", "StreamStats", "WitnessStream",
    "regenerate_ranges", "regenerate_ranges_async", "CheckpointError", "GuestRunFailed",
    "StreamError",
]
