"""The RV32IM machine seen through the streaming layer's two interfaces.

:class:`Execution` is a picklable value -- program image, input, limits --
that implements :class:`~._checkpoint.TraceProgram` for the real
:class:`~._machine.Machine`, so checkpoints, streams, oracles and worker
processes all work on guest programs::

    ex = Execution(elf_bytes, input=b"...", max_cycles=10**8)
    cps = record(ex, choose_interval(ex.run_fast().cycles, workers=4))
    stream = WitnessStream(ex, cps)
    oracle = WitnessOracle(stream, WIDTHS)

The cycle limit is exact: tracing or advancing past ``max_cycles`` without
the guest halting raises :class:`CycleLimitExceeded`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._elf import Program, load_program
from ._errors import CycleLimitExceeded
from ._machine import Machine, MachineConfig, RunResult
from ._snapshot import Snapshot
from ._stream_errors import StreamError
from ._witness import COLUMNS

__all__ = ["Execution", "WIDTHS", "DEFAULT_MAX_CYCLES", "DEFAULT_MEMORY_LIMIT"]

DEFAULT_MAX_CYCLES = 1 << 32
DEFAULT_MEMORY_LIMIT = 64 << 20

#: Bit width of every witness column, for :class:`~._oracle.WitnessOracle`:
#: register indices fit one 16-bit limb, everything else is a 32-bit word.
WIDTHS: tuple[int, ...] = tuple(5 if name in ("rd", "rs1", "rs2") else 32 for name in COLUMNS)


@lru_cache(maxsize=8)
def _load(image: bytes) -> Program:
    return load_program(image)


class _Traced:
    """A :class:`Machine` behind the :class:`~._checkpoint.TraceMachine` interface."""

    def __init__(self, machine: Machine, max_cycles: int) -> None:
        self.machine = machine
        self._limit = max_cycles

    @property
    def cycle(self) -> int:
        return self.machine.cycle

    @property
    def halted(self) -> bool:
        return self.machine.halted

    def _budget(self, n: int) -> int:
        m = self.machine
        room = self._limit - m.cycle
        if n > 0 and room <= 0 and not m.halted:
            raise CycleLimitExceeded(self._limit, pc=m.pc, cycle=m.cycle)
        return min(n, room)

    def trace(self, max_cycles: int) -> NDArray[np.uint32]:
        return self.machine.trace(self._budget(max_cycles))

    def advance(self, cycles: int) -> None:
        # the machine's configured engine ("auto": the fastest available), as trace() uses
        done = self.machine.advance_with(self.machine.config.engine, self._budget(cycles))
        if done != cycles:
            m = self.machine
            if not m.halted:
                raise CycleLimitExceeded(self._limit, pc=m.pc, cycle=m.cycle)
            raise StreamError(f"guest halted at cycle {m.cycle}, {cycles - done} cycles early")

    def skip(self, max_cycles: int) -> int:
        return self.machine.advance_with(self.machine.config.engine, self._budget(max_cycles))

    def snapshot(self) -> object:
        return self.machine.snapshot()


@dataclass(frozen=True)
class Execution:
    """One guest execution: ``image`` (ELF or raw), ``input`` and limits.

    Implements :class:`~._checkpoint.TraceProgram`; plain bytes and ints, so
    it pickles cheaply into worker processes.
    """

    image: bytes
    input: bytes = b""
    max_cycles: int = DEFAULT_MAX_CYCLES
    memory_limit: int = DEFAULT_MEMORY_LIMIT

    def __post_init__(self) -> None:
        if self.max_cycles < 0:
            raise StreamError(f"max_cycles={self.max_cycles} is negative")
        if self.memory_limit < 1:
            raise StreamError(f"memory_limit={self.memory_limit} is below the minimum 1")

    @property
    def program(self) -> Program:
        """The loaded image (cached per process)."""
        return _load(self.image)

    @property
    def config(self) -> MachineConfig:
        """The machine configuration for this execution."""
        return MachineConfig(memory_limit=self.memory_limit)

    def machine(self) -> Machine:
        """A fresh :class:`Machine` at cycle 0."""
        return Machine(self.program, input=self.input, config=self.config)

    def run_fast(self) -> RunResult:
        """Run to completion on the fastest engine available (no witness); exact cycle limit."""
        return self.machine().run(self.max_cycles)

    # -- TraceProgram ----------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS

    def start(self) -> _Traced:
        return _Traced(self.machine(), self.max_cycles)

    def resume(self, snapshot: object) -> _Traced:
        snap = _snapshot(snapshot)
        m = Machine.from_snapshot(snap, self.program, input=self.input, config=self.config)
        return _Traced(m, self.max_cycles)

    def snapshot_cycle(self, snapshot: object) -> int:
        return _snapshot(snapshot).cycle

    def encode_snapshot(
        self, snapshot: object
    ) -> tuple[dict[str, Any], dict[int, bytes | bytearray]]:
        snap = _snapshot(snapshot)
        # the state without copying pages; the pages themselves keep their
        # identity, so pages shared copy-on-write are hashed once
        obj = replace(snap, pages={}).to_obj()
        del obj["pages"]
        return obj, dict(snap.pages)

    def decode_snapshot(self, state: dict[str, Any], pages: dict[int, bytes]) -> object:
        return Snapshot.from_obj({**state, "pages": pages})


def _snapshot(obj: object) -> Snapshot:
    if not isinstance(obj, Snapshot):
        raise StreamError(f"expected a machine Snapshot, got {type(obj).__name__}")
    return obj
