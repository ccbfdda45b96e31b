"""The debugger's session: a typed command set over a replayer, with no I/O of its own.

:func:`parse` turns a line into a :class:`Command` (or raises
:class:`BadCommand` saying what is wrong); :meth:`DebugSession.execute` runs
it and returns a :class:`Reply` -- the lines to show, and whether the session
ends.  The terminal front end (``stele debug``) only reads lines and prints
replies, so everything here is tested directly.

The session holds a position (an event number) and the :class:`State`
there.  Every move -- forwards or backwards -- asks the replayer for the
state at the target event, which re-runs the execution from its journal
(no effect is performed).  Targets are found in the replayer's index:

* ``step``/``rstep N``: N events on or back;
* ``next``/``rnext``: the next (previous) event in the same frame or an outer
  one (calls made from here are stepped over);
* ``finish``/``rfinish``: the current frame's return (its call);
* ``continue``/``rcontinue``: the next (previous) breakpoint hit, or the
  last (first) event;
* ``goto N``: event N.

Breakpoints are on a function (its ``call`` events) or an effect
(``Log``, or one operation ``KV.put``: its ``effect`` events); ``watch NAME``
watches the local ``NAME`` of the current activation (the function call the
session is in when it is set): ``continue`` stops where its value changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .._errors import SteleError
from ._replay import Outcome, State

__all__ = ["BadCommand", "Command", "Step", "Next", "Finish", "Continue", "Goto", "Break",
           "Delete", "Watch", "Print", "Locals", "Where", "Show", "Info", "Help", "Quit",
           "Reply", "Replayer", "DebugSession", "parse", "HELP"]


class BadCommand(SteleError):
    """A debugger command that cannot be parsed or does not apply (the message says why)."""


class Replayer(Protocol):
    """What the session needs of an execution: its index and the state at any event."""

    outcome: Outcome

    @property
    def length(self) -> int: ...

    def kind(self, n: int) -> str: ...

    def name(self, n: int) -> str: ...

    def depth(self, n: int) -> int: ...

    def functions(self) -> set[str]: ...

    def local_names(self, function: str) -> list[str]: ...

    def effect_names(self) -> set[str]: ...

    def state_at(self, n: int) -> State: ...

    def watch_values(self, name: str, frame_at: int, upto: int | None = None
                     ) -> list[str | None]: ...


# -- commands ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Step:
    """``step [N]`` / ``rstep [N]``: N events forwards (backwards)."""

    count: int = 1
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Next:
    """``next`` / ``rnext``: the next (previous) event not inside a call made from here."""

    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Finish:
    """``finish`` / ``rfinish``: the return (the call) of the current frame."""

    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Continue:
    """``continue`` / ``rcontinue``: to the next (previous) breakpoint or watch hit."""

    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Goto:
    """``goto N``: to event N."""

    position: int


@dataclass(frozen=True, slots=True)
class Break:
    """``break SPEC``: a function name, an effect (``Log``) or one operation (``KV.put``)."""

    spec: str


@dataclass(frozen=True, slots=True)
class Watch:
    """``watch NAME``: stop where the current activation's local NAME changes value."""

    name: str


@dataclass(frozen=True, slots=True)
class Delete:
    """``delete [N]``: remove breakpoint/watch N (all of them without N)."""

    number: int | None = None


@dataclass(frozen=True, slots=True)
class Print:
    """``print [NAME]``: a local of the innermost frame (or ``$value``, ``$cost``...)."""

    name: str | None = None


@dataclass(frozen=True, slots=True)
class Locals:
    """``locals``: every assigned local of the innermost frame."""


@dataclass(frozen=True, slots=True)
class Where:
    """``where``: the call stack, innermost last."""


@dataclass(frozen=True, slots=True)
class Show:
    """``show``: the current event again."""


@dataclass(frozen=True, slots=True)
class Info:
    """``info``: the execution's length, outcome and the breakpoints."""


@dataclass(frozen=True, slots=True)
class Help:
    """``help``: the commands."""


@dataclass(frozen=True, slots=True)
class Quit:
    """``quit``: end the session."""


Command = (Step | Next | Finish | Continue | Goto | Break | Watch | Delete | Print | Locals
           | Where | Show | Info | Help | Quit)

HELP = """\
commands (short forms in brackets):
  step [N] (s)        N events forwards (default 1)
  rstep [N] (rs)      N events backwards
  next (n)            next event in this frame or an outer one (steps over calls)
  rnext (rn)          the same, backwards
  finish (f)          to the return of the current frame
  rfinish (rf)        back to the call of the current frame
  continue (c)        to the next breakpoint or watch hit (or the last event)
  rcontinue (rc)      to the previous one (or the first event)
  goto N (g)          to event N
  break SPEC (b)      break on a function's calls, an effect (Log) or an operation (KV.put)
  watch NAME (w)      stop where the local NAME of this activation changes value
  delete [N] (d)      remove breakpoint N, or all
  print [NAME] (p)    a local of the innermost frame; $value $cost $effects $position
  locals (l)          the innermost frame's locals
  where (bt)          the call stack, with the event that made each call
  show                the current event
  info (i)            the execution and its breakpoints
  help (h, ?)         this text
  quit (q)            leave (also Ctrl-D)"""

_NO_ARG: dict[str, Command] = {
    "next": Next(), "n": Next(), "rnext": Next(True), "rn": Next(True),
    "finish": Finish(), "f": Finish(), "rfinish": Finish(True), "rf": Finish(True),
    "continue": Continue(), "c": Continue(), "rcontinue": Continue(True),
    "rc": Continue(True), "locals": Locals(), "l": Locals(), "where": Where(), "bt": Where(),
    "backtrace": Where(), "show": Show(), "info": Info(), "i": Info(), "help": Help(),
    "h": Help(), "?": Help(), "quit": Quit(), "q": Quit(), "exit": Quit(),
}


def _count(word: str, text: str) -> int:
    try:
        n = int(text, 10)
    except ValueError:
        raise BadCommand(f"{word}: {text!r} is not a number") from None
    if n < 0:
        raise BadCommand(f"{word}: {text!r} must not be negative")
    return n


def parse(line: str) -> Command | None:
    """The command on ``line`` (None for a blank line or a ``#`` comment)."""
    words = line.split()
    if not words or words[0].startswith("#"):
        return None
    word, rest = words[0].lower(), words[1:]
    if word in _NO_ARG:
        if rest:
            raise BadCommand(f"{word} takes no argument (got {' '.join(rest)!r})")
        return _NO_ARG[word]
    if len(rest) > 1:
        raise BadCommand(f"{word}: one argument at most (got {' '.join(rest)!r})")
    arg = rest[0] if rest else None
    if word in ("step", "s", "rstep", "rs"):
        count = 1 if arg is None else _count(word, arg)
        return Step(count, reverse=word in ("rstep", "rs"))
    if word in ("goto", "g"):
        if arg is None:
            raise BadCommand("goto: give an event number (goto N)")
        return Goto(_count(word, arg))
    if word in ("break", "b"):
        if arg is None:
            raise BadCommand("break: give a function, an effect or Effect.op (break fib)")
        return Break(arg)
    if word in ("watch", "w"):
        if arg is None:
            raise BadCommand("watch: give a local's name (watch acc)")
        return Watch(arg)
    if word in ("delete", "d"):
        return Delete(None if arg is None else _count(word, arg))
    if word in ("print", "p"):
        return Print(arg)
    raise BadCommand(f"unknown command {words[0]!r} (type 'help' for the commands)")


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command produced: lines to show, and whether the session is over."""

    lines: tuple[str, ...] = ()
    quit: bool = False

    @property
    def text(self) -> str:
        """The lines joined."""
        return "\n".join(self.lines)


@dataclass(frozen=True, slots=True)
class _Point:
    number: int
    kind: str  # "function" | "effect" | "op" | "watch"
    spec: str
    frame_at: int = -1  # a watch: the call event of the activation watched
    function: str = ""

    def describe(self) -> str:
        if self.kind == "watch":
            return (f"{self.number}: changes of {self.spec} in {self.function} "
                    f"(the call at #{self.frame_at})")
        what = {"function": "calls of", "effect": "effect", "op": "operation"}[self.kind]
        return f"{self.number}: {what} {self.spec}"


class DebugSession:
    """A debugging session over ``replayer``, starting at event 0."""

    def __init__(self, replayer: Replayer) -> None:
        if replayer.length == 0:
            raise BadCommand("the execution has no events")
        self.replayer = replayer
        self.points: list[_Point] = []
        self._next_number = 1
        self.state: State = replayer.state_at(0)

    @property
    def position(self) -> int:
        """The current event."""
        return self.state.position

    @property
    def last(self) -> int:
        """The last event's number."""
        return self.replayer.length - 1

    # -- entry points ----------------------------------------------------------
    def handle(self, line: str) -> Reply:
        """Parse and run ``line``; a bad command is a reply saying so (the session goes on)."""
        try:
            command = parse(line)
            if command is None:
                return Reply()
            return self.execute(command)
        except BadCommand as exc:
            return Reply((f"error: {exc}",))

    def execute(self, command: Command) -> Reply:
        """Run one command (raises :class:`BadCommand` when it does not apply)."""
        if isinstance(command, Step):
            return self._step(command)
        if isinstance(command, Next):
            return self._move(self._next(command.reverse), "next", command.reverse)
        if isinstance(command, Finish):
            return self._move(self._finish(command.reverse), "finish", command.reverse)
        if isinstance(command, Continue):
            return self._continue(command.reverse)
        if isinstance(command, Goto):
            if command.position > self.last:
                raise BadCommand(f"goto {command.position}: the execution has events "
                                 f"0..{self.last}")
            return self._go(command.position)
        if isinstance(command, Break):
            return self._break(command.spec)
        if isinstance(command, Watch):
            return self._watch(command.name)
        if isinstance(command, Delete):
            return self._delete(command.number)
        if isinstance(command, Print):
            return self._print(command.name)
        if isinstance(command, Locals):
            top = self._top()
            if not top.locals:
                return Reply((f"{top.function}: no locals assigned",))
            return Reply(tuple(f"{n} = {v}" for n, v in top.locals))
        if isinstance(command, Where):
            return Reply(tuple(self._where()))
        if isinstance(command, Show):
            return Reply((self.describe(),))
        if isinstance(command, Info):
            return Reply(tuple(self._info()))
        if isinstance(command, Help):
            return Reply(tuple(HELP.splitlines()))
        if isinstance(command, Quit):
            return Reply(quit=True)
        raise BadCommand(f"not a command: {command!r}")  # pragma: no cover (typed union)

    # -- rendering -------------------------------------------------------------
    def describe(self, state: State | None = None) -> str:
        """The one-line view of an event: ``#N/LAST kind ... [depth D, cost C]``."""
        s = self.state if state is None else state
        head = f"#{s.position}/{self.last}"
        if s.kind == "call":
            args = ", ".join(f"{n}={v}" for n, v in s.stack[-1].locals) if s.stack else ""
            what = f"call {s.name}({args})"
        elif s.kind == "return":
            what = f"return {s.name} -> {s.detail}"
        elif s.kind == "effect":
            what = f"effect {s.detail}"
        elif s.kind == "error":
            what = f"error {s.name}: {s.detail}"
        else:
            what = f"end of journal: {s.detail}"
        return f"{head} {what}  [depth {s.depth}, cost {s.cost}]"

    def call_events(self) -> list[int]:
        """The event that entered each frame on the stack (``goto`` one to go back there)."""
        r, p = self.replayer, self.position
        need = len(self.state.stack)
        found: list[int] = []
        q = p
        while need and q >= 0:
            if r.kind(q) == "call" and r.depth(q) == need:
                found.append(q)
                need -= 1
            q -= 1
        return found[::-1]

    def _where(self) -> Iterator[str]:
        frames = self.state.stack
        if not frames:
            yield "(no frames)"
        calls = self.call_events()
        for i, fr in enumerate(frames):
            args = ", ".join(f"{n}={v}" for n, v in fr.locals)
            at = f"  (called at #{calls[i]})" if i < len(calls) else ""
            yield f"{i}: {fr.function}({args}){at}"

    def _info(self) -> Iterator[str]:
        r = self.replayer
        end = {"value": "returned", "error": "stopped with", "pending": "unfinished:"}
        yield (f"{r.length} events, at #{self.position}; the run {end.get(r.outcome.kind, '')} "
               f"{r.outcome.text} (cost {r.outcome.cost})")
        marks = getattr(r, "checkpoints", [])
        if marks:
            yield f"{len(marks)} checkpoints, every {marks[0]} events"
        if not self.points:
            yield "no breakpoints"
        for p in self.points:
            yield p.describe()

    def _top(self) -> Any:
        if not self.state.stack:
            raise BadCommand("no frame here")
        return self.state.stack[-1]

    def _print(self, name: str | None) -> Reply:
        s = self.state
        if name is None:
            return Reply((self.describe(),))
        specials = {"$position": str(s.position), "$cost": str(s.cost),
                    "$effects": str(s.effects), "$depth": str(s.depth)}
        if name in specials:
            return Reply((f"{name} = {specials[name]}",))
        if name == "$value":
            if s.kind not in ("return", "effect"):
                raise BadCommand("$value: only a return or an effect has a value "
                                 f"(this is a {s.kind})")
            return Reply((f"$value = {s.value}",))
        top = self._top()
        for n, text in reversed(top.locals):
            if n == name:
                return Reply((f"{name} = {text}",))
        known = ", ".join(n for n, _ in top.locals) or "none assigned"
        raise BadCommand(f"no local {name!r} in {top.function} here (locals: {known})")

    # -- moves -----------------------------------------------------------------
    def _go(self, target: int, note: str = "") -> Reply:
        self.state = self.replayer.state_at(target)
        return Reply(((note,) if note else ()) + (self.describe(),))

    def _step(self, cmd: Step) -> Reply:
        p = self.position
        if cmd.reverse:
            if p == 0:
                return Reply(("already at the first event", self.describe()))
            return self._go(max(0, p - cmd.count))
        if p == self.last:
            return Reply(("already at the last event", self.describe()))
        return self._go(min(self.last, p + cmd.count))

    def _move(self, target: int | None, what: str, reverse: bool) -> Reply:
        if target is None:
            edge = "first" if reverse else "last"
            target = 0 if reverse else self.last
            if target == self.position:
                return Reply((f"{what}: already at the {edge} event", self.describe()))
            return self._go(target, f"{what}: no such event; at the {edge} event")
        return self._go(target)

    def _frame_depth(self) -> int:
        return self.replayer.depth(self.position)

    def _next(self, reverse: bool) -> int | None:
        r, p = self.replayer, self.position
        d = r.depth(p)
        if reverse:
            return next((q for q in range(p - 1, -1, -1) if r.depth(q) <= d), None)
        return next((q for q in range(p + 1, r.length) if r.depth(q) <= d), None)

    def _finish(self, reverse: bool) -> int | None:
        r, p = self.replayer, self.position
        d = r.depth(p)
        if reverse:
            if r.kind(p) == "call":  # already at the call: the caller's call
                d -= 1
            return next((q for q in range(p - 1, -1, -1)
                         if r.kind(q) == "call" and r.depth(q) == d), None)
        if r.kind(p) == "return":
            d -= 1
        return next((q for q in range(p + 1, r.length)
                     if (r.kind(q) == "return" and r.depth(q) == d) or r.depth(q) < d), None)

    def _continue(self, reverse: bool) -> Reply:
        r, p = self.replayer, self.position
        order = range(p - 1, -1, -1) if reverse else range(p + 1, r.length)
        watches = [pt for pt in self.points if pt.kind == "watch"]
        hits = self._scan_watch(order, watches) if watches else {}
        for q in order:
            point = self._hit(q)
            notes = ([f"breakpoint {point.describe()}"] if point is not None else []) \
                + hits.get(q, [])
            if notes:
                return self._go(q, "\n".join(notes))
        edge = "first" if reverse else "last"
        if (reverse and p == 0) or (not reverse and p == self.last):
            return Reply((f"already at the {edge} event", self.describe()))
        return self._go(0 if reverse else self.last, f"no breakpoint hit; at the {edge} event")

    def _hit(self, q: int) -> _Point | None:
        r = self.replayer
        kind = r.kind(q)
        if kind not in ("call", "effect"):
            return None
        name = r.name(q)
        for point in self.points:
            if point.kind == "function" and kind == "call" and name == point.spec:
                return point
            if point.kind == "effect" and kind == "effect" and name.split(".")[0] == point.spec:
                return point
            if point.kind == "op" and kind == "effect" and name == point.spec:
                return point
        return None

    # -- watches (one replay each: values are not in the index) -----------------
    def _scan_watch(self, order: range, watches: list[_Point]) -> dict[int, list[str]]:
        """For each watch, the first event in ``order`` where its value changes: notes by event.

        A change at event q is a value at q that differs from the one at q - 1
        (forwards and backwards alike: going back stops where it was set).
        """
        p, reverse = self.position, order.step < 0
        out: dict[int, list[str]] = {}
        for w in watches:
            values = self.replayer.watch_values(w.spec, w.frame_at, p + 1 if reverse else None)
            for q in order:
                prev = values[q - 1] if q > 0 else None
                now = values[q]
                if now is not None and now != prev:
                    old = "unset" if prev is None else prev
                    out.setdefault(q, []).append(f"watch {w.describe()}: {old} -> {now}")
                    break
        return out

    # -- breakpoints -----------------------------------------------------------
    def _add(self, kind: str, spec: str, frame_at: int = -1, function: str = "") -> Reply:
        for p in self.points:
            if p.kind == kind and p.spec == spec and p.frame_at == frame_at:
                return Reply((f"already set: {p.describe()}",))
        point = _Point(self._next_number, kind, spec, frame_at, function)
        self._next_number += 1
        self.points.append(point)
        return Reply((f"breakpoint {point.describe()}",))

    def _break(self, spec: str) -> Reply:
        r = self.replayer
        effects = r.effect_names()
        if "." in spec:
            effect, _, op = spec.partition(".")
            if effect not in effects:
                raise BadCommand(f"break {spec}: no effect {effect!r} in this program "
                                 f"(effects: {', '.join(sorted(effects)) or 'none'})")
            return self._add("op", spec)
        if spec in r.functions():
            return self._add("function", spec)
        if spec in effects:
            return self._add("effect", spec)
        funcs = ", ".join(sorted(r.functions()))
        raise BadCommand(f"break {spec}: no function or effect of that name "
                         f"(functions: {funcs}; effects: {', '.join(sorted(effects)) or 'none'})")

    def _watch(self, name: str) -> Reply:
        if not name.isidentifier():
            raise BadCommand(f"watch {name!r}: not a local's name")
        r, p = self.replayer, self.position
        if r.kind(p) not in ("call", "return", "effect"):
            raise BadCommand("watch: no function is running here")
        d = r.depth(p)
        call = p if r.kind(p) == "call" else next(
            (q for q in range(p - 1, -1, -1) if r.kind(q) == "call" and r.depth(q) == d), 0)
        top = self._top()
        defined = self.replayer.local_names(top.function)
        if name not in defined:
            raise BadCommand(f"watch {name}: {top.function} has no local {name!r} "
                             f"(locals: {', '.join(defined) or 'none'})")
        return self._add("watch", name, call, top.function)

    def _delete(self, number: int | None) -> Reply:
        if number is None:
            n = len(self.points)
            self.points.clear()
            return Reply((f"deleted {n} breakpoint(s)",))
        for p in self.points:
            if p.number == number:
                self.points.remove(p)
                return Reply((f"deleted {p.describe()}",))
        raise BadCommand(f"delete {number}: no breakpoint {number} (see 'info')")
