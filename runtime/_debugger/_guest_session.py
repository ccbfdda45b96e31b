"""The guest debugger's session: the TEL debugger's commands over a RISC-V guest's cycles.

The commands are the ones :func:`~._session.parse` reads, with guest
meanings; a position is a cycle (:mod:`._guest`):

* ``step``/``rstep N``: N cycles (instructions) on or back;
* ``next``/``rnext``: over a call (``jal``/``jalr`` writing ``ra``) to the
  instruction after it; backwards, over a return to its call;
* ``finish``/``rfinish``: to just after the current function's return,
  or back to the call that entered it;
* ``continue``/``rcontinue``: the next (previous) breakpoint or watch hit;
* ``goto N``: cycle N.

``break`` takes a hex instruction address or a function symbol of the
ELF; ``watch`` a register (``x5``, ``a0``, ``pc``), a hex address or a
symbol (the 4-byte word there); ``print`` the same, or ``$cycle``,
``$stdout``.  Searches read witness rows from the nearest checkpoint
(:mod:`._guest_scan`); every other move is one :meth:`GuestReplay.seek`.
Like :class:`~._session.DebugSession` the session does no I/O: it returns
:class:`~._session.Reply` objects, and a bad command raises
:class:`~._session.BadCommand`, whose message says what was wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..actors.coprocessor import Machine, decode
from ._guest import GuestReplay, Piece
from ._guest_scan import (depth_deltas, depth_reaches, pc_changes, pc_hits, register_changes,
                          word_changes)
from ._commands import (BadCommand, Break, Command, Continue, Finish, Goto, Locals, Next, Print,
                        Reply, Watch)
from ._core import SessionCore
from ._rv import ABI, disassemble, hex_word, register_number, show_word

__all__ = ["GuestSession", "GUEST_HELP"]

GUEST_HELP = """\
commands (short forms in brackets); a position is a cycle:
  step [N] (s)        N instructions forwards (default 1)
  rstep [N] (rs)      N instructions backwards
  next (n)            the next instruction, stepping over a call
  rnext (rn)          the previous one, stepping back over a call
  finish (f)          to just after the current function returns
  rfinish (rf)        back to the call of the current function
  continue (c)        to the next breakpoint or watch hit (or the last cycle)
  rcontinue (rc)      to the previous one (or the first cycle, 0)
  goto N (g)          to cycle N
  break SPEC (b)      break at a hex address (0x10074) or a function symbol (main)
  watch SPEC (w)      stop where a register (a0, x5, pc) or a word (0x20000, a symbol) changes
  delete [N] (d)      remove breakpoint N, or all
  print [SPEC] (p)    a register, a word (hex address or symbol); $cycle $pc $stdout
  locals (l)          all the registers
  where (bt)          pc, function and cycle
  show                the current position
  info (i)            the run and its breakpoints
  help (h, ?)         this text
  quit (q)            leave (also Ctrl-D)"""

_PC = -1  # the "register" number of a watch on the pc


@dataclass(frozen=True, slots=True)
class _Point:
    number: int
    kind: str  # "address" | "register" | "word"
    value: int  # the address, the register's number (_PC for the pc) or the word's address
    label: str

    def key(self) -> tuple[object, ...]:
        return self.kind, self.value

    def describe(self) -> str:
        if self.kind == "address":
            return f"{self.number}: {self.label}"
        return f"{self.number}: changes of {self.label}"


class GuestSession(SessionCore[_Point]):
    """A debugging session over a recorded guest run, starting at cycle 0."""

    unit = "cycle"
    help_text = GUEST_HELP

    def __init__(self, replay: GuestReplay) -> None:
        super().__init__()
        self.replay = replay
        self._position = 0
        replay.seek(0)

    @property
    def position(self) -> int:
        """The current cycle."""
        return self._position

    @property
    def last(self) -> int:
        """The last position: the cycle where the run ended."""
        return self.replay.last

    def _here(self) -> Machine:
        return self.replay.seek(self.position)

    # -- entry points ----------------------------------------------------------
    def execute(self, command: Command) -> Reply:
        """Run one command (raises :class:`BadCommand` when it does not apply)."""
        shared = self._shared(command)
        if shared is not None:
            return shared
        if isinstance(command, Next):
            return self._move(self._next(command.reverse), "rnext" if command.reverse else "next",
                              command.reverse)
        if isinstance(command, Finish):
            return self._move(self._finish(command.reverse),
                              "rfinish" if command.reverse else "finish", command.reverse)
        if isinstance(command, Continue):
            return self._continue(command.reverse)
        if isinstance(command, Goto):
            if command.position > self.last:
                raise BadCommand(f"goto {command.position}: the run has cycles 0..{self.last}")
            return self._go(command.position)
        if isinstance(command, Break):
            return self._add(*self._breakpoint(command.spec))
        if isinstance(command, Watch):
            return self._add(*self._watchable(command.name, "watch"))
        if isinstance(command, Print):
            return Reply((self._print(command.name),))
        if isinstance(command, Locals):
            return Reply(tuple(self._registers()))
        raise BadCommand(f"not a command: {command!r}")  # pragma: no cover (typed union)

    # -- rendering -------------------------------------------------------------
    def describe(self) -> str:
        """The one-line view of a position: ``#C/LAST 0xPC function+off: instruction``."""
        m = self._here()
        pc = m.pc
        if m.memory.is_mapped(pc) and not pc & 3:
            ins = disassemble(decode(m.memory.peek(pc, 4)), pc)
        else:
            ins = "(no instruction: the pc is not mapped code)"
        line = f"#{self.position}/{self.last} {hex_word(pc)} {self.replay.function(pc)}: {ins}"
        if self.position == self.last:
            line += f"  [end: {self.replay.outcome.text}]"
        return line

    def _registers(self) -> Iterator[str]:
        regs = self._here().regs
        for row in range(0, 32, 4):
            yield "  ".join(f"{f'{ABI[i]}/x{i}':>8} {hex_word(regs[i])}" for i in range(row, row + 4))
        yield f"{'pc':>8} {hex_word(self._here().pc)}"

    def _where(self) -> Iterator[str]:
        m = self._here()
        yield f"pc {hex_word(m.pc)} in {self.replay.function(m.pc)}, cycle {self.position} of {self.last}"
        ra = m.regs[1]
        yield f"ra {hex_word(ra)} in {self.replay.function(ra)} (the return address, if a call made it)"

    def _info(self) -> Iterator[str]:
        r = self.replay
        yield (f"{r.label}: cycles 0..{self.last}, at cycle {self.position}; the run "
               f"{r.outcome.text} ({r.outcome.cycles} cycles)")
        marks = r.checkpoints
        yield f"{len(marks)} checkpoint(s), every {r.every} cycles" if r.every else \
            "1 checkpoint (cycle 0): moves replay from the start"
        if not self.points:
            yield "no breakpoints"
        for p in self.points:
            yield p.describe()

    def _print(self, spec: str | None) -> str:
        if spec is None:
            return self.describe()
        m = self._here()
        specials = {"$cycle": str(self.position), "$position": str(self.position),
                    "$pc": hex_word(m.pc), "$stdout": repr(bytes(m.stdout)),
                    "$exit": str(self.replay.outcome.exit_code)}
        if spec in specials:
            return f"{spec} = {specials[spec]}"
        kind, value, label = self._watchable(spec, "print")
        if kind == "register":
            return f"{label} = {show_word(m.pc if value == _PC else m.regs[value])}"
        return f"{label} = {show_word(m.memory.peek(value, 4))}"

    # -- what a spec names -----------------------------------------------------
    def _address(self, spec: str, word: str) -> int | None:
        """The address ``0x...`` spells (None if ``spec`` is not hex-prefixed)."""
        if not spec.lower().startswith("0x"):
            return None
        try:
            addr = int(spec[2:], 16)
        except ValueError:
            raise BadCommand(f"{word} {spec}: not a hex address") from None
        if addr > 0xFFFFFFFF:
            raise BadCommand(f"{word} {spec}: past the 32-bit address space")
        if addr & 3:
            raise BadCommand(f"{word} {spec}: not 4-byte aligned")
        return addr

    def _breakpoint(self, spec: str) -> tuple[str, int, str]:
        r = self.replay
        addr = self._address(spec, "break")
        if addr is None:
            if spec not in r.functions:
                names = sorted(r.functions)
                shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
                raise BadCommand(f"break {spec}: no function symbol {spec!r} in the ELF (give "
                                 f"a hex address or one of: {shown or 'none'})")
            addr = r.functions[spec]
        code = r.code_ranges()
        if not any(lo <= addr < hi for lo, hi in code):
            where = ", ".join(f"{hex_word(lo)}..{hex_word(hi)}" for lo, hi in code)
            raise BadCommand(f"break {spec}: {hex_word(addr)} is not in the program's code "
                             f"({where})")
        return "address", addr, f"{hex_word(addr)} {r.function(addr)}"

    def _watchable(self, spec: str, word: str) -> tuple[str, int, str]:
        """A register or a memory word: ``(kind, number or address, label)``."""
        if spec.lower() == "pc":
            return "register", _PC, "pc"
        reg = register_number(spec)
        if reg is not None:
            return "register", reg, ABI[reg] if spec.lower() == ABI[reg] else f"{spec} ({ABI[reg]})"
        addr = self._address(spec, word)
        label = f"[{spec}]"
        if addr is None:
            sym = self.replay.program.symbols.get(spec)
            if sym is None:
                raise BadCommand(f"{word} {spec}: not a register (x0..x31, a0, sp, pc...), a "
                                 "hex address or a symbol of the ELF")
            if sym & 3:
                raise BadCommand(f"{word} {spec}: its address {hex_word(sym)} is not 4-byte "
                                 "aligned")
            addr, label = sym, f"{spec} [{hex_word(sym)}]"
        if not self._here().memory.is_mapped(addr):
            raise BadCommand(f"{word} {spec}: {hex_word(addr)} is not mapped at cycle "
                             f"{self.position}")
        return "word", addr, label

    # -- moves -----------------------------------------------------------------
    def _go(self, target: int, note: str = "") -> Reply:
        self.replay.seek(target)
        self._position = target
        return Reply(((note,) if note else ()) + (self.describe(),))

    def _depth_search(self, start: int, stop: int, target: int, reverse: bool) -> int | None:
        """The row in ``start..stop-1`` where the call depth (0 at the scan's start) is ``target``."""
        level = 0
        for piece in self.replay.pieces(start, stop, reverse):
            hit, level = depth_reaches(depth_deltas(piece.rows), level, target, reverse)
            if hit is not None:
                return piece.start + hit
        return None

    def _next(self, reverse: bool) -> int | None:
        p = self.position
        if reverse:
            if p == 0:
                return None
            before = depth_deltas(self.replay.rows(p - 1, p))
            if before[0] >= 0:  # not a return: the instruction before
                return p - 1
            return self._depth_search(0, p, 0, True)  # the return's call
        if p == self.last:
            return None
        ins = decode(self._here().memory.peek(self._here().pc, 4))
        if ins.op not in ("jal", "jalr") or ins.rd != 1:
            return p + 1
        row = self._depth_search(p, self.last, 0, False)
        return None if row is None else row + 1

    def _finish(self, reverse: bool) -> int | None:
        p = self.position
        if reverse:
            return self._depth_search(0, p, 1, True) if p else None
        row = self._depth_search(p, self.last, -1, False)
        return None if row is None else row + 1

    # -- continue: breakpoints and watches, read from witness rows --------------
    def _continue(self, reverse: bool) -> Reply:
        p = self.position
        edge = "the first cycle" if reverse else "the last cycle"
        if p == (0 if reverse else self.last):
            return Reply((f"already at {edge}", self.describe()))
        start, stop = (0, p) if reverse else (p, self.last)
        words = tuple(pt.value for pt in self.points if pt.kind == "word")
        for piece in self.replay.pieces(start, stop, reverse, words):
            hits = self._hits(piece)
            ok = [q for q in hits if (q < p if reverse else q > p)]
            if ok:
                q = max(ok) if reverse else min(ok)
                return self._go(q, "\n".join(hits[q]))
        if not reverse:  # the last position runs no row: a breakpoint on its pc (a fault's)
            notes = [f"breakpoint {pt.describe()}" for pt in self.points
                     if pt.kind == "address" and pt.value == self.replay.seek(self.last).pc]
            if notes:
                return self._go(self.last, "\n".join(notes))
        return self._go(0 if reverse else self.last, f"no breakpoint hit; at {edge}")

    def _hits(self, piece: Piece) -> dict[int, list[str]]:
        """Notes by position for every breakpoint hit and watch change in this piece."""
        lo, rows = piece.start, piece.rows
        out: dict[int, list[str]] = {}
        bps = [pt for pt in self.points if pt.kind == "address"]
        for j in pc_hits(rows, [pt.value for pt in bps]).tolist() if bps else ():
            for pt in bps:
                if pt.value == int(rows[j, 0]):
                    out.setdefault(lo + j, []).append(f"breakpoint {pt.describe()}")
        for pt in self.points:
            if pt.kind == "address":
                continue
            changes: tuple[list[int], list[int], list[int]]
            if pt.kind == "word":
                def after(j: int, addr: int = pt.value) -> int:
                    return self.replay.seek(lo + j + 1).memory.peek(addr, 4)
                changes = word_changes(rows, pt.value, piece.words[pt.value], after)
            else:
                idx, old, new = (pc_changes(rows) if pt.value == _PC else
                                 register_changes(rows, pt.value, piece.regs[pt.value]))
                changes = (idx.tolist(), old, new)
            for j, old_v, new_v in zip(*changes):
                out.setdefault(lo + j + 1, []).append(
                    f"watch {pt.describe()}: {hex_word(old_v)} -> {hex_word(new_v)}")
        return out

    # -- breakpoints -----------------------------------------------------------
    def _add(self, kind: str, value: int, label: str) -> Reply:
        return self._add_point(lambda n: _Point(n, kind, value, label))
