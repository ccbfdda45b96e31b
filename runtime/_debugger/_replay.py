"""Deterministic replay of a TEL execution from its effect journal, halted at any event.

A TEL run is a pure function of its code, its arguments, its limits and the
replies to its effects.  The journal of a durable execution holds those
replies, so re-running the program with every effect answered from the
journal (never performed) reproduces the run exactly, as many times as one
likes.  :class:`TelReplay` does that with the interpreter's instrumentation
hook (:func:`stele.tel._profile.instrumenting`) switched on while the program
is compiled: each definition and lambda body is wrapped in a closure that
counts *events* and keeps the stack of live frames.

Events, numbered from 0 in program order:

* ``call``: a function body is entered (its frame holds the arguments);
* ``return``: it returns (``value``), its frame still on the stack;
* ``effect``: the program performs an effect; the reply comes from the journal;
* ``error``: the run stopped with a TEL error (the last event; the stack is
  the one at the deepest frame the error left);
* ``pending``: the journal ended and the program asks for an effect it does
  not hold (the last event of an unfinished execution's post-mortem).

:meth:`TelReplay.state_at` re-runs from the start and stops at event ``n``
(``_Halt`` unwinds the interpreter), returning the :class:`State` there:
the event, the call stack with every frame's locals, the cost spent and the
number of journal entries consumed.  The first run also records a compact
*index* of every event (kind, depth, name), which the debugger searches for
breakpoints and for ``next``/``finish`` targets without re-running.

Reverse execution is therefore replay from the start: reaching event ``n``
costs a run of ``n`` events (``tests/bench/debugger.py`` measures it).  A TEL
interpreter has no checkpoint to restore mid-run (its state is Python's own
call stack); guests, whose co-processor has checkpoints, are not debugged yet.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..actors.sandbox._durable import DurableLog
from ..tel._cost import Limits
from ..tel._errors import TelError
from ..tel._interp import Program
from ..tel._profile import instrumenting
from ..tel._values import Value, show_value

__all__ = ["KINDS", "Frame", "State", "Outcome", "TelReplay", "show"]

#: event kinds, by their code in the index
KINDS = ("call", "return", "effect", "error", "pending")
CALL, RETURN, EFFECT, ERROR, PENDING = range(5)


class _Unset:
    """The value of a frame slot not assigned yet (a let or match not reached)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


UNSET = _Unset()


def show(v: Value) -> str:
    """A value as the debugger prints it (TEL source-like; stable across replays)."""
    return show_value(v, limit=10_000)


@dataclass(frozen=True, slots=True)
class Frame:
    """One live function activation: its name and its assigned locals, shown."""

    function: str
    locals: tuple[tuple[str, str], ...]
    values: tuple[Value, ...] = field(default=(), compare=False, repr=False)

    def lookup(self, name: str) -> tuple[bool, Value]:
        """``(True, value)`` of the innermost binding of ``name`` in this frame."""
        for (n, _text), v in zip(reversed(self.locals), reversed(self.values)):
            if n == name:
                return True, v
        return False, None


@dataclass(frozen=True, slots=True)
class State:
    """The execution at one event.  Equal states print identically (values are shown)."""

    position: int
    kind: str
    name: str
    detail: str
    stack: tuple[Frame, ...]
    cost: int
    effects: int
    value: Value = field(default=None, compare=False, repr=False)

    @property
    def depth(self) -> int:
        """Frames on the stack."""
        return len(self.stack)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the replayed run ended: ``value``, or a TEL ``error``, or ``pending`` (journal ended)."""

    kind: str  # "value" | "error" | "pending"
    text: str
    cost: int


class _Halt(BaseException):
    """Internal: unwinds the interpreter at the event asked for."""


class _JournalEnd(BaseException):
    """Internal: the program asks for an effect past the end of the journal.

    A BaseException, so that the interpreter's effect call does not wrap it
    in an ``EffectError``.
    """

    def __init__(self, request: str) -> None:
        super().__init__(request)
        self.request = request


@dataclass(slots=True)
class _Live:
    name: str
    frame: list[Value]
    slots: tuple[str, ...]


class _Tracer:
    """The instrument: wraps bodies at compile time, counts events at run time."""

    def __init__(self) -> None:
        self.names: list[str] = []  # name ids of the index
        self._ids: dict[str, int] = {}
        self.reset(None, False)

    def reset(self, stop: int | None, record: bool) -> None:
        self.n = 0
        self.stop = -1 if stop is None else stop
        self.record = record
        self.stack: list[_Live] = []
        self.kinds = array("B")
        self.depths = array("I")
        self.ids = array("I")
        self.state: State | None = None
        self.error_stack: tuple[Frame, ...] | None = None
        self.program: Program | None = None
        self.journal: DurableLog | None = None
        self.probe: Callable[[], None] | None = None

    def name_id(self, name: str) -> int:
        got = self._ids.get(name)
        if got is None:
            got = self._ids[name] = len(self.names)
            self.names.append(name)
        return got

    def wrap(self, program: Program, name: str, body: Any, slots: Sequence[str],
             fixed: int) -> Any:
        tracer = self
        ident = self.name_id(name)
        names = tuple(slots)

        def traced(frame: list[Value]) -> Value:
            for i in range(fixed, len(frame)):
                frame[i] = UNSET
            stack = tracer.stack
            stack.append(_Live(name, frame, names))
            try:
                tracer.event(CALL, ident, name, "")
                value = body(frame)
                if tracer.n == tracer.stop:
                    tracer.halt(RETURN, name, show(value), value)
                tracer.note(RETURN, ident)
                return value
            except TelError:
                if tracer.error_stack is None:
                    tracer.error_stack = tracer.frames()
                raise
            finally:
                stack.pop()

        traced.__qualname__ = f"debug[{name}]"
        return traced

    def event(self, kind: int, ident: int, name: str, detail: str, value: Value = None) -> None:
        if self.n == self.stop:
            self.halt(kind, name, detail, value)
        self.note(kind, ident)

    def note(self, kind: int, ident: int) -> None:
        if self.probe is not None:
            self.probe()
        if self.record:
            self.kinds.append(kind)
            self.depths.append(len(self.stack))
            self.ids.append(ident)
        self.n += 1

    def frames(self) -> tuple[Frame, ...]:
        out = []
        for live in self.stack:
            pairs, values = [], []
            for n, v in zip(live.slots, live.frame):
                if v is not UNSET and n:
                    pairs.append((n, show(v)))
                    values.append(v)
            out.append(Frame(live.name, tuple(pairs), tuple(values)))
        return tuple(out)

    def cost(self) -> int:
        assert self.program is not None
        m = self.program.m
        return m.limit - m.fuel

    def halt(self, kind: int, name: str, detail: str, value: Value = None) -> None:
        used = self.journal.cursor if self.journal is not None else 0
        self.state = State(self.n, KINDS[kind], name, detail, self.frames(), self.cost(), used,
                           value)
        raise _Halt()


class TelReplay:
    """Replays one TEL execution from its journal; :meth:`state_at` any event of it.

    ``module`` is the checked module, ``entry`` the definition run with
    ``args`` under ``limits``; ``entries`` the journal (canonical CBOR rows
    ``[effect, op, args, reply]``) and ``ident`` the execution's id (named
    in a :class:`~stele.actors.sandbox.ReplayDiverged`).  Replays never
    perform an effect: every reply comes from ``entries``.
    """

    def __init__(self, module: Any, entry: str, args: Sequence[Value], limits: Limits,
                 entries: Sequence[bytes], ident: str = "<debug>") -> None:
        self.entry = entry
        self.args = list(args)
        self.limits = limits
        self.entries = list(entries)
        self.ident = ident
        self._tracer = _Tracer()
        with instrumenting(self._tracer):
            self.program = Program(module, jit_after=None)
        #: runs made so far and the events they went through (for the bench and the tests)
        self.replays = 0
        self.events_replayed = 0
        self.effects_answered = 0
        kinds, depths, ids, outcome = self._index()
        self.kinds, self.depths, self.ids, self.outcome = kinds, depths, ids, outcome

    # -- the index -------------------------------------------------------------
    @property
    def length(self) -> int:
        """Events in the execution (positions ``0 .. length - 1``)."""
        return len(self.kinds)

    def kind(self, n: int) -> str:
        """The kind of event ``n``."""
        return KINDS[self.kinds[n]]

    def depth(self, n: int) -> int:
        """Frames on the stack at event ``n`` (a call counts its own frame)."""
        return self.depths[n]

    def name(self, n: int) -> str:
        """The function (call/return) or ``Effect.op`` (effect) of event ``n``."""
        return self._tracer.names[self.ids[n]]

    def functions(self) -> set[str]:
        """Names of the module's definitions."""
        return set(self.program.checked.defs)

    def effect_names(self) -> set[str]:
        """Effects the module declares."""
        return set(self.program.checked.effects)

    def _index(self) -> tuple[array[int], array[int], array[int], Outcome]:
        t = self._tracer
        outcome = self._run(None, True)
        return t.kinds, t.depths, t.ids, outcome

    # -- replays ---------------------------------------------------------------
    def state_at(self, n: int) -> State:
        """The state at event ``n`` (``0 <= n < length``), by replay from the start."""
        if not 0 <= n < self.length:
            raise IndexError(f"no event {n}: the execution has events 0..{self.length - 1}")
        self._run(n, False)
        state = self._tracer.state
        assert state is not None and state.position == n
        return state

    def watch_values(self, name: str, upto: int | None = None) -> list[str | None]:
        """The value of local ``name`` in the innermost frame at each event (None: unbound).

        One replay, up to event ``upto`` (excluded) or to the end.
        """
        t = self._tracer
        out: list[str | None] = []
        last: list[Any] = [None, None]  # the last value seen and its text (values repeat)

        def probe() -> None:
            stack = t.stack
            if stack:
                live = stack[-1]
                for n, v in zip(reversed(live.slots), reversed(live.frame)):
                    if n == name and v is not UNSET:
                        if v is not last[0]:
                            last[0], last[1] = v, f"{live.name}:{show(v)}"
                        out.append(last[1])
                        return
            out.append(None)

        stop = None if upto is None or upto >= self.length else upto
        self._run(stop, False, probe)
        while len(out) < (self.length if stop is None else stop):
            out.append(None)  # the final error/pending event: no live frame
        return out[: self.length if stop is None else stop]

    def _handler(self, journal: DurableLog) -> Any:
        t = self._tracer
        replay = self

        def handler(effect: str, op: str, args: tuple[Value, ...]) -> Value:
            label = f"{effect}.{op}"
            ident = t.name_id(label)
            found, reply = journal.lookup(effect, op, args)
            request = f"{label}({', '.join(show(a) for a in args)})"
            if not found:
                t.error_stack = t.frames()
                raise _JournalEnd(request)
            replay.effects_answered += 1
            t.event(EFFECT, ident, label, f"{request} -> {show(reply)}", reply)
            return reply
        return handler

    def _run(self, stop: int | None, record: bool,
             probe: Callable[[], None] | None = None) -> Outcome:
        t = self._tracer
        t.reset(stop, record)
        t.probe = probe
        t.program = self.program
        journal = DurableLog(None, self.ident, self.entries)  # type: ignore[arg-type]
        t.journal = journal
        self.replays += 1
        try:
            r = self.program.call(self.entry, self.args, limits=self.limits,
                                  handler=self._handler(journal))
            return Outcome("value", show(r.value), r.cost)
        except _Halt:
            return Outcome("halted", "", t.cost())
        except _JournalEnd as end:
            return self._final(PENDING, "<journal end>", f"not journaled: {end.request}")
        except TelError as exc:
            return self._final(ERROR, type(exc).__name__, str(exc), getattr(exc, "cost", 0))
        finally:
            self.events_replayed += t.n

    def _final(self, kind: int, name: str, detail: str, cost: int | None = None) -> Outcome:
        t = self._tracer
        spent = t.cost() if cost is None else cost
        stack = t.error_stack or ()
        if t.n == t.stop:
            used = t.journal.cursor if t.journal is not None else 0
            t.state = State(t.n, KINDS[kind], name, detail, stack, spent, used)
        if t.record:
            t.kinds.append(kind)
            t.depths.append(len(stack))
            t.ids.append(t.name_id(name))
        t.n += 1
        return Outcome("error" if kind == ERROR else "pending", detail, spent)
