"""Deterministic replay of a RISC-V guest, positioned at any cycle from co-processor checkpoints.

A guest run is a pure function of its image and its input (the debugger
serves no effects: an effect ``ecall`` ends the run, as in ``stele
profile``), so re-executing it gives the same state at every cycle, as many
times as one likes.  A *position* is a cycle count ``c``: the state after
``c`` instructions retired, with ``pc`` the next one to run.  Positions run
from 0 (the entry point) to :attr:`GuestReplay.last`, where the run ended:
it exited, hit its cycle limit, faulted (the state just before the faulting
instruction) or asked for an effect (the state just before the ``ecall``).

:class:`GuestReplay` records the run once on the fastest engine
(:func:`~stele.actors.coprocessor.default_engine`: numba-compiled, else the
block JIT), taking a co-processor snapshot every ``checkpoint_every``
cycles.  Snapshots are copy-on-write, so one costs O(pages) pointers.  Past
:data:`MAX_CHECKPOINTS` every other one is dropped and the spacing doubles
(the TEL debugger's thinning), so a long run keeps a bounded set.

Reaching cycle ``c`` restores the nearest snapshot at or before it and runs
the rest on the fast engine, which is exact (it never runs past the cycles
asked for): a move costs one restore and at most one spacing of cycles,
forwards or backwards, never a replay from cycle 0.  Searches (breakpoints,
watches, ``next``/``finish``) read the run as witness rows
(:meth:`Machine.trace_with`: pc, instruction, register and memory writes of
every cycle) in :data:`SCAN` sized pieces, which :mod:`._guest_scan`
searches with numpy.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..actors.coprocessor import (CoprocessorError, CycleLimitExceeded, Machine, MachineConfig,
                                  Snapshot, load_elf)
from ..actors.coprocessor._machine import default_engine
from .._profiler._guest import Symbols, elf_symbols
from ._session import BadCommand

__all__ = ["Piece", "GuestOutcome", "GuestReplay", "CHECKPOINT_EVERY", "MAX_CHECKPOINTS", "SCAN"]

#: cycles between two checkpoints at the start (the spacing doubles when thinned)
CHECKPOINT_EVERY = 100_000
#: checkpoints kept at most; past it every other one is dropped
MAX_CHECKPOINTS = 64
#: witness rows read at a time by a search (14 words a row: 16 MB)
SCAN = 1 << 18


class _EffectAsked(BaseException):
    """Leaves the machine just before an effect ``ecall`` (the debugger serves no effects)."""

    def __init__(self, request: object) -> None:
        self.request = request


def _no_effects(request: object) -> object:
    raise _EffectAsked(request)


def _effect_name(request: object) -> str:
    if isinstance(request, list) and len(request) >= 2 and all(
            isinstance(x, str) for x in request[:2]):
        return f"{request[0]}.{request[1]}"
    return "an effect"


@dataclass(frozen=True, slots=True)
class Piece:
    """Witness rows of cycles ``start..``, with the registers and watched words at ``start``."""

    start: int
    regs: tuple[int, ...]
    words: dict[int, int]
    rows: NDArray[np.uint32]


@dataclass(frozen=True, slots=True)
class GuestOutcome:
    """How the recorded run ended: ``kind`` is ``exit`` or ``error``; ``text`` says the rest."""

    kind: str
    text: str
    exit_code: int | None
    cycles: int


class GuestReplay:
    """A guest's run, recorded with checkpoints, that can be put at any cycle.

    ``image`` is the ELF, ``input`` the guest's fd 0.  ``checkpoint_every=0``
    keeps the one checkpoint at cycle 0 (every move replays from the start:
    the baseline of the benchmark).
    """

    def __init__(self, image: bytes, input: bytes = b"", *, max_cycles: int,
                 memory_limit: int = 64 << 20, checkpoint_every: int = CHECKPOINT_EVERY,
                 engine: str | None = None, label: str = "guest",
                 max_checkpoints: int = MAX_CHECKPOINTS) -> None:
        self.label = label
        self.program = load_elf(image)
        syms = elf_symbols(image)
        code = self.code_ranges()
        #: the function symbols (in the code), by name
        self.functions: dict[str, int] = {
            name: addr for addr, _size, name in syms if any(lo <= addr < hi for lo, hi in code)}
        self.symbols = Symbols(syms, self.program)
        self.engine = engine or default_engine()
        self.every = checkpoint_every
        self._max_checkpoints = max(2, max_checkpoints)
        self.machine = Machine(self.program, input=input,
                               config=MachineConfig(memory_limit=memory_limit),
                               effect_handler=_no_effects)
        self._snaps: list[Snapshot] = [self.machine.snapshot()]
        self.outcome = self._record(max_cycles)
        self.last = self.machine.cycle

    @property
    def checkpoints(self) -> list[int]:
        """The cycles of the checkpoints kept."""
        return [s.cycle for s in self._snaps]

    # -- the recording ---------------------------------------------------------
    def _record(self, max_cycles: int) -> GuestOutcome:
        m = self.machine
        try:
            while not m.halted and m.cycle < max_cycles:
                left = max_cycles - m.cycle
                m.advance_with(self.engine, min(left, self.every - m.cycle % self.every)
                               if self.every else left)
                if self.every and not m.halted and m.cycle % self.every == 0:
                    self._keep(m.snapshot())
        except _EffectAsked as asked:
            return GuestOutcome("error", f"the guest asked for {_effect_name(asked.request)}: "
                                "stele debug serves no effects to a guest", None, m.cycle)
        except CoprocessorError as exc:
            return GuestOutcome("error", f"{type(exc).__name__}: {exc}", None, m.cycle)
        if not m.halted:
            limit = CycleLimitExceeded(max_cycles, pc=m.pc, cycle=m.cycle)
            return GuestOutcome("error", f"CycleLimitExceeded: {limit}", None, m.cycle)
        return GuestOutcome("exit", f"exited with {m.exit_code}", m.exit_code, m.cycle)

    def _keep(self, snap: Snapshot) -> None:
        self._snaps.append(snap)
        if len(self._snaps) > self._max_checkpoints:
            self._snaps = self._snaps[::2]  # cycle 0 stays; the spacing doubles
            self.every *= 2

    # -- positioning -----------------------------------------------------------
    def seek(self, cycle: int) -> Machine:
        """The machine at ``cycle``: from where it is if that is on the way, else a checkpoint."""
        if not 0 <= cycle <= self.last:
            raise BadCommand(f"cycle {cycle}: the run has cycles 0..{self.last}")
        m = self.machine
        i = bisect.bisect_right(self.checkpoints, cycle) - 1
        if not self._snaps[i].cycle <= m.cycle <= cycle:
            m.restore(self._snaps[i])
        m.advance_with(self.engine, cycle - m.cycle)
        return m

    def rows(self, start: int, stop: int) -> NDArray[np.uint32]:
        """The witness rows of cycles ``start..stop-1`` (the machine ends at ``stop``)."""
        m = self.seek(start)
        return m.trace_with(self.engine, stop - start)

    def pieces(self, start: int, stop: int, reverse: bool = False,
               words: tuple[int, ...] = ()) -> Iterator[Piece]:
        """Rows ``start..stop-1`` in pieces of at most :data:`SCAN`, last piece first if ``reverse``.

        Each :class:`Piece` carries the registers (and the pc, last) and
        the memory ``words`` at its first cycle, which a watch compares
        the piece's writes against.
        """
        bounds = list(range(start, stop, SCAN))
        for lo in (reversed(bounds) if reverse else bounds):
            hi = min(lo + SCAN, stop)
            m = self.seek(lo)
            regs = (*m.regs, m.pc)
            values = {a: m.memory.peek(a, 4) for a in words}
            yield Piece(lo, regs, values, m.trace_with(self.engine, hi - lo))

    def function(self, pc: int) -> str:
        """``name+0xOFF`` of the function containing ``pc`` (its hex address if none does)."""
        name = self.symbols.name(pc)
        start = self.functions.get(name)
        if start is None:
            return name
        return name if pc == start else f"{name}+0x{pc - start:x}"

    def code_ranges(self) -> list[tuple[int, int]]:
        """The executable segments' address ranges."""
        return [(s.vaddr, s.vaddr + s.memsz) for s in self.program.segments if s.executable]

    def close(self) -> None:
        """Drop the checkpoints (the session's end)."""
        self._snaps = self._snaps[:1]
