"""RISC-V guest profiles: cycles per function (from the ELF's symbols) and per pc.

Two modes on the co-processor's :class:`~stele.actors.coprocessor.Machine`:

- **exact** (:func:`profile_exact`): the reference interpreter, one
  instruction at a time.  Every cycle is charged to its pc and to the call
  stack current when it retired.  The stack is rebuilt from the RISC-V
  calling convention: an instruction ``jal``/``jalr`` that writes ``ra``
  (x1) is a call (push the function containing its target), ``jalr x0,
  0(ra)`` (``ret``) a return (pop).  A tail call (``j``/``jr`` to another
  function) is not a call: its cycles go to the stack of the function that
  made it, with the function the pc is in as the innermost frame.
- **sampling** (:func:`profile_sampled`): the fastest engine runs the guest
  in pieces of N instructions (``Machine.run_chunks``); after each piece the
  pc is sampled and the piece's cycles charged to the function it is in.
  Totals are exact (the pieces add up to the run); the split between
  functions is an estimate, and there are no call stacks.

Symbols come from the ELF's ``.symtab`` / ``.strtab`` (function symbols with
their sizes; without sizes a symbol extends to the next one).  A pc in no
symbol is shown as ``0x%08x``.  Both modes run the guest to completion under
the cycle limit; the result (exit code, cycles, output) is that of an
unprofiled run.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from ..actors.coprocessor import CycleLimitExceeded, Machine, MachineConfig, load_elf
from ..actors.coprocessor._elf import Program
from ._model import Profile

__all__ = ["Symbols", "GuestProfile", "profile_exact", "profile_sampled", "run_plain",
           "elf_symbols"]

_SHT_SYMTAB = 2
_STT_FUNC = 2
_STT_NOTYPE = 0


def elf_symbols(data: bytes) -> list[tuple[int, int, str]]:
    """``(address, size, name)`` of the function-like symbols of an ELF32 (sorted by address).

    ``STT_FUNC`` symbols, and ``STT_NOTYPE`` ones (assembly labels such as
    ``_start``) with a nonzero address; a malformed table gives what could be
    read (the loader has already validated the file).
    """
    if len(data) < 52 or data[:4] != b"\x7fELF":
        return []
    shoff = struct.unpack_from("<I", data, 32)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 46)
    if shoff == 0 or shentsize != 40 or shoff + 40 * shnum > len(data):
        return []
    heads = [struct.unpack_from("<IIIIIIIIII", data, shoff + 40 * i) for i in range(shnum)]
    out: dict[int, tuple[int, int, str]] = {}
    for h in heads:
        if h[1] != _SHT_SYMTAB or h[6] >= shnum:
            continue
        off, size, entsize = h[4], h[5], h[9] or 16
        st = heads[h[6]]
        strtab = data[st[4]:st[4] + st[5]]
        for k in range(min(size, len(data) - off) // entsize):
            name_off, value, sz, info = struct.unpack_from("<IIIB", data, off + k * entsize)
            kind = info & 15
            if kind not in (_STT_FUNC, _STT_NOTYPE) or name_off == 0 or not value:
                continue
            end = strtab.find(b"\0", name_off)
            name = strtab[name_off:end if end >= 0 else len(strtab)].decode("utf-8", "replace")
            if not name or name.startswith(("$", ".L")):
                continue
            prev = out.get(value)
            if prev is None or (kind == _STT_FUNC and prev[1] == 0):
                out[value] = (value, sz if kind == _STT_FUNC else 0, name)
    return sorted(out.values())


class Symbols:
    """pc -> function name, by binary search over the symbols (results cached per pc)."""

    def __init__(self, symbols: list[tuple[int, int, str]], program: Program) -> None:
        text = [(s.vaddr, s.vaddr + s.memsz) for s in program.segments if s.executable]
        syms = [s for s in symbols if any(lo <= s[0] < hi for lo, hi in text)]
        self._starts = [s[0] for s in syms]
        self._ends: list[int] = []
        for i, (addr, size, _name) in enumerate(syms):
            nxt = syms[i + 1][0] if i + 1 < len(syms) else max(
                (hi for lo, hi in text if lo <= addr < hi), default=addr + 4)
            self._ends.append(addr + size if size else nxt)
        self._names = [s[2] for s in syms]
        self._cache: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._names)

    def name(self, pc: int) -> str:
        """The function containing ``pc``, or its hex address."""
        got = self._cache.get(pc)
        if got is None:
            i = bisect.bisect_right(self._starts, pc) - 1
            got = (self._names[i] if i >= 0 and pc < self._ends[i] else f"0x{pc:08x}")
            self._cache[pc] = got
        return got


@dataclass
class GuestProfile:
    """The outcome of a profiled guest run."""

    cycles: Profile
    pcs: dict[int, int]
    exit_code: int
    total_cycles: int
    stdout: bytes
    stderr: bytes
    mode: str
    interval: int = 0
    #: (cycle, "B"/"E", function) call and return events, exact mode, up to the cap
    events: list[tuple[int, str, str]] = field(default_factory=list)
    events_dropped: int = 0
    symbols: int = 0


def _machine(image: bytes, input: bytes, memory: int,
             effect_handler: Callable[[object], object] | None) -> tuple[Machine, Program]:
    program = load_elf(image)
    config = MachineConfig(memory_limit=memory)
    return Machine(program, input=input, config=config, effect_handler=effect_handler), program


def run_plain(image: bytes, input: bytes, max_cycles: int, memory: int = 64 << 20,
              effect_handler: Callable[[object], object] | None = None,
              engine: str | None = None) -> Machine:
    """An unprofiled run (the reference for totals and for the overhead bench)."""
    m, _ = _machine(image, input, memory, effect_handler)
    m.run(max_cycles, engine=engine)
    return m


def profile_exact(image: bytes, input: bytes, max_cycles: int, memory: int = 64 << 20,
                  effect_handler: Callable[[object], object] | None = None,
                  max_events: int = 200_000) -> GuestProfile:
    """Every instruction on the reference interpreter (see the module docstring)."""
    m, program = _machine(image, input, memory, effect_handler)
    syms = Symbols(elf_symbols(image), program)
    entry = syms.name(m.pc)
    stack: list[tuple[str, ...]] = [(entry,)]
    per_stack: dict[tuple[str, ...], dict[int, int]] = {(entry,): {}}
    calls: dict[tuple[str, ...], int] = {(entry,): 1}
    cur = per_stack[(entry,)]
    events: list[tuple[int, str, str]] = [(0, "B", entry)]
    dropped = 0
    advance, instr_at = m.advance, m.instr_at
    while not m.halted:
        if m.cycle >= max_cycles:
            raise CycleLimitExceeded(max_cycles, pc=m.pc, cycle=m.cycle)
        pc = m.pc
        try:
            ins = instr_at(pc)
        except Exception:  # a fetch fault: the interpreter raises or traps it typed
            ins = None
        if not advance(1):
            break
        cur[pc] = cur.get(pc, 0) + 1
        if ins is None:
            continue
        op = ins.op
        if (op == "jal" or op == "jalr") and ins.rd == 1:
            callee = syms.name(m.pc)
            key = stack[-1] + (callee,)
            stack.append(key)
            cur = per_stack.setdefault(key, {})
            calls[key] = calls.get(key, 0) + 1
            if len(events) < max_events:
                events.append((m.cycle - 1, "B", callee))
            else:
                dropped += 1
        elif op == "jalr" and ins.rd == 0 and ins.rs1 == 1 and ins.imm == 0 and len(stack) > 1:
            done = stack.pop()
            cur = per_stack[stack[-1]]
            if len(events) < max_events:
                events.append((m.cycle, "E", done[-1]))
            else:
                dropped += 1
    prof = Profile("cycles", "cycles")
    pcs: dict[int, int] = {}
    for key, counts in per_stack.items():
        for pc, n in counts.items():
            pcs[pc] = pcs.get(pc, 0) + n
            leaf = syms.name(pc)
            prof.add(key if leaf == key[-1] else key + (leaf,), n)
    for key, n in calls.items():
        prof.add(key, 0, n)
    while len(stack) > 0 and len(events) < max_events:
        events.append((m.cycle, "E", stack.pop()[-1]))
    return GuestProfile(prof, pcs, _exit(m), m.cycle, bytes(m.stdout), bytes(m.stderr), "exact",
                        events=events, events_dropped=dropped, symbols=len(syms))


def profile_sampled(image: bytes, input: bytes, max_cycles: int, every: int,
                    memory: int = 64 << 20,
                    effect_handler: Callable[[object], object] | None = None,
                    engine: str | None = None) -> GuestProfile:
    """One pc sample every ``every`` instructions on the fastest engine (estimates; exact total)."""
    m, program = _machine(image, input, memory, effect_handler)
    syms = Symbols(elf_symbols(image), program)
    pcs: dict[int, int] = {}
    last = 0
    for cycle in m.run_chunks(max_cycles, chunk=every, engine=engine):
        pc = m.pc
        pcs[pc] = pcs.get(pc, 0) + (cycle - last)  # the piece's cycles, to where it stopped
        last = cycle
    if not m.halted:
        raise CycleLimitExceeded(max_cycles, pc=m.pc, cycle=m.cycle)
    prof = Profile("cycles (sampled)", "cycles", exact=False)
    for pc, n in pcs.items():
        prof.add((syms.name(pc),), n)
    return GuestProfile(prof, pcs, _exit(m), m.cycle, bytes(m.stdout), bytes(m.stderr),
                        "sampling", interval=every, symbols=len(syms))


def _exit(m: Machine) -> int:
    return m.exit_code if m.exit_code is not None else -1
