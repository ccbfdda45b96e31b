"""The debugger's session: a typed command set over a replayer, with no I/O of its own.

:func:`parse` (from :mod:`._commands`) turns a line into a :class:`Command` (or raises
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

from ._commands import (HELP, BadCommand, Break, Command, Continue, Delete, Finish, Goto, Help,
                        Info, Locals, Next, Print, Quit, Reply, Show, Step, Watch, Where, parse)
from ._core import SessionCore
from ._replay import Outcome, State

__all__ = ["BadCommand", "Command", "Step", "Next", "Finish", "Continue", "Goto", "Break",
           "Delete", "Watch", "Print", "Locals", "Where", "Show", "Info", "Help", "Quit",
           "Reply", "Replayer", "DebugSession", "parse", "HELP"]


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


@dataclass(frozen=True, slots=True)
class _Point:
    number: int
    kind: str  # "function" | "effect" | "op" | "watch"
    spec: str
    frame_at: int = -1  # a watch: the call event of the activation watched
    function: str = ""

    def key(self) -> tuple[object, ...]:
        return self.kind, self.spec, self.frame_at

    def describe(self) -> str:
        if self.kind == "watch":
            return (f"{self.number}: changes of {self.spec} in {self.function} "
                    f"(the call at #{self.frame_at})")
        what = {"function": "calls of", "effect": "effect", "op": "operation"}[self.kind]
        return f"{self.number}: {what} {self.spec}"


class DebugSession(SessionCore[_Point]):
    """A debugging session over ``replayer``, starting at event 0."""

    help_text = HELP

    def __init__(self, replayer: Replayer) -> None:
        if replayer.length == 0:
            raise BadCommand("the execution has no events")
        super().__init__()
        self.replayer = replayer
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
    def execute(self, command: Command) -> Reply:
        """Run one command (raises :class:`BadCommand` when it does not apply)."""
        shared = self._shared(command)
        if shared is not None:
            return shared
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
        if isinstance(command, Print):
            return self._print(command.name)
        if isinstance(command, Locals):
            top = self._top()
            if not top.locals:
                return Reply((f"{top.function}: no locals assigned",))
            return Reply(tuple(f"{n} = {v}" for n, v in top.locals))
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
        return self._add_point(lambda n: _Point(n, kind, spec, frame_at, function))

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
