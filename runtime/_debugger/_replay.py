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

Reverse execution is therefore replay: reaching event ``n`` costs a run
of ``n`` events from the start.  With ``checkpoint_every=N`` it is replay
from a *checkpoint*, in rr's model: a TEL interpreter's state is Python's
own call stack and cannot be saved as data, so during the index run the
process forks every N events and the copy stays paused there.  To reach
event ``n`` the nearest checkpoint before it forks a worker that runs on to
``n`` and sends the :class:`State` back through a pipe (a state is plain
text, so it pickles); the checkpoint stays paused for the next request.  A
move then costs a fork and at most N events.  ``tests/bench/debugger.py``
measures both.  Guests, whose co-processor has checkpoints of its own, are
replayed by :mod:`._guest`.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import weakref
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..actors.sandbox._durable import ReplayDiverged
from ..actors.sandbox._values import value_from_cbor
from ..protocol import decode
from ..store._errors import StoreCorrupted
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
    """One live function activation: its name and its assigned locals, shown as TEL text."""

    function: str
    locals: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class State:
    """The execution at one event, as text (equal states print identically; picklable).

    ``detail`` is a return's value or an effect's request and reply, or the
    error; ``value`` is a return's or an effect's value as TEL text ("" otherwise).
    """

    position: int
    kind: str
    name: str
    detail: str
    stack: tuple[Frame, ...]
    cost: int
    effects: int
    value: str = ""

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


#: a live frame on the tracer's stack: (function name, its frame list, its slots' names)
_Live = tuple[str, list[Value], tuple[str, ...]]
#: a decoded journal entry: effect, op, arguments, reply, and the index's name id of Effect.op
_Entry = tuple[str, str, tuple[Value, ...], Value, int]


class _Tracer:
    """The instrument: wraps bodies at compile time, counts events at run time.

    The hot path (every call, return and effect) is a counter compare and an
    increment; the index (``record``) and a watch (``probe``) take the slow
    path, :meth:`note`.
    """

    def __init__(self) -> None:
        self.names: list[str] = []  # name ids of the index
        self._ids: dict[str, int] = {}
        self.slots: dict[str, tuple[str, ...]] = {}  # each function's frame slot names
        self.reset(None, False, None)

    def reset(self, stop: int | None, record: bool, probe: Callable[[], None] | None) -> None:
        self.fork: Callable[[], None] | None = None  # the index run's checkpoint hook
        self.n = 0
        self.stop = -1 if stop is None else stop
        self.record = record
        self.probe = probe
        self.slow = record or probe is not None
        self.stack: list[_Live] = []
        self.kinds = array("B")
        self.depths = array("I")
        self.ids = array("I")
        self.state: State | None = None
        self.error_stack: tuple[Frame, ...] | None = None
        self.program: Program | None = None
        self.cursor = 0  # journal entries answered

    def name_id(self, name: str) -> int:
        got = self._ids.get(name)
        if got is None:
            got = self._ids[name] = len(self.names)
            self.names.append(name)
        return got

    def wrap(self, program: Program, name: str, body: Any, slots: Sequence[str],
             fixed: int) -> Any:
        t = self
        ident = self.name_id(name)
        names = tuple(slots)
        self.slots[name] = names
        unsets = [UNSET] * (len(names) - fixed)
        pad = bool(unsets)

        def traced(frame: list[Value]) -> Value:
            if pad:
                frame[fixed:] = unsets
            stack = t.stack
            stack.append((name, frame, names))
            try:
                n = t.n
                if n == t.stop:
                    t.halt(CALL, name, "")
                if t.slow:
                    t.note(CALL, ident)
                t.n = n + 1
                value = body(frame)
                n = t.n
                if n == t.stop:
                    shown = show(value)
                    t.halt(RETURN, name, shown, shown)
                if t.slow:
                    t.note(RETURN, ident)
                t.n = n + 1
                return value
            except TelError:
                if t.error_stack is None:
                    t.error_stack = t.frames()
                raise
            finally:
                stack.pop()

        traced.__qualname__ = f"debug[{name}]"
        return traced

    def note(self, kind: int, ident: int) -> None:
        """The slow path of an event: the checkpoint hook, the watch's probe, the index."""
        if self.fork is not None:
            self.fork()
        if self.probe is not None:
            self.probe()
        if self.record:
            self.kinds.append(kind)
            self.depths.append(len(self.stack))
            self.ids.append(ident)

    def frames(self) -> tuple[Frame, ...]:
        out = []
        for fname, frame, slots in self.stack:
            pairs = [(n, show(v)) for n, v in zip(slots, frame) if v is not UNSET and n]
            out.append(Frame(fname, tuple(pairs)))
        return tuple(out)

    def cost(self) -> int:
        assert self.program is not None
        m = self.program.m
        return m.limit - m.fuel

    def halt(self, kind: int, name: str, detail: str, value: str = "") -> None:
        self.state = State(self.n, KINDS[kind], name, detail, self.frames(), self.cost(),
                           self.cursor, value)
        raise _Halt()


@dataclass(slots=True)
class _Checkpoint:
    position: int
    pid: int
    requests: int  # our end of its request pipe
    results: int  # our end of its result pipe


def _close_checkpoints(checkpoints: list[_Checkpoint]) -> None:
    for c in checkpoints:
        for fd in (c.requests, c.results):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.waitpid(c.pid, 0)  # it reads end-of-file and exits
        except ChildProcessError:
            pass
    checkpoints.clear()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, size: int) -> bytes:
    parts, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("checkpoint went away")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _read_request(fd: int) -> int | None:
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 32)
        if not chunk:
            return None
        line += chunk
    return int(line)


def _request(effect: str, op: str, args: Sequence[Value]) -> str:
    return f"{effect}.{op}({', '.join(show(a) for a in args)})"


class TelReplay:
    """Replays one TEL execution from its journal; :meth:`state_at` any event of it.

    ``module`` is the checked module, ``entry`` the definition run with
    ``args`` under ``limits``; ``entries`` the journal (canonical CBOR rows
    ``[effect, op, args, reply]``) and ``ident`` the execution's id (named
    in a :class:`~stele.actors.sandbox.ReplayDiverged`).  Replays never
    perform an effect: every reply comes from ``entries``.
    """

    def __init__(self, module: Any, entry: str, args: Sequence[Value], limits: Limits,
                 entries: Sequence[bytes], ident: str = "<debug>", *,
                 checkpoint_every: int | None = None, max_checkpoints: int = 32) -> None:
        self.entry = entry
        self.args = list(args)
        self.limits = limits
        self.entries = list(entries)
        self.ident = ident
        self._tracer = _Tracer()
        self._journal = [self._decode(i, e) for i, e in enumerate(self.entries)]
        with instrumenting(self._tracer):
            self.program = Program(module, jit_after=None)
        #: runs made so far and the events they went through (for the bench and the tests)
        self.replays = 0
        self.events_replayed = 0
        self.effects_answered = 0
        self.checkpoint_hits = 0
        usable = checkpoint_every is not None and checkpoint_every > 0 and hasattr(os, "fork")
        self._every = checkpoint_every if usable else None
        self._max_checkpoints = max(2, max_checkpoints)
        self._checkpoints: list[_Checkpoint] = []
        self._worker_out: int | None = None  # set in a checkpoint's worker process only
        self._closer = weakref.finalize(self, _close_checkpoints, self._checkpoints)
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

    def local_names(self, function: str) -> list[str]:
        """The names of a function's parameters and locals (its frame slots), in order."""
        return [n for n in dict.fromkeys(self._tracer.slots.get(function, ())) if n]

    def functions(self) -> set[str]:
        """Names of the module's definitions."""
        return set(self.program.checked.defs)

    def effect_names(self) -> set[str]:
        """Effects the module declares."""
        return set(self.program.checked.effects)

    def _index(self) -> tuple[array[int], array[int], array[int], Outcome]:
        t = self._tracer
        outcome = self._run(None, True, fork=self._fork if self._every else None)
        return t.kinds, t.depths, t.ids, outcome

    # -- checkpoints (rr's model: a forked process paused at an event) -------------
    @property
    def checkpoints(self) -> list[int]:
        """The events at which a paused copy of the run waits (empty without checkpoints)."""
        return [c.position for c in self._checkpoints]

    def close(self) -> None:
        """End the checkpoint processes (also done when the replay is garbage-collected)."""
        self._closer()

    def _fork(self) -> None:
        """In the index run, at event ``t.n``: leave a paused copy of the process here."""
        t = self._tracer
        n, every = t.n, self._every
        assert every is not None
        if n == 0 or n % every:
            return
        if len(self._checkpoints) >= self._max_checkpoints:  # thin out: twice the spacing
            every = self._every = every * 2
            keep = [c for c in self._checkpoints if c.position % every == 0]
            _close_checkpoints([c for c in self._checkpoints if c.position % every])
            self._checkpoints[:] = keep
            if n % every:
                return
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the checkpoint: serve requests until the debugger goes away
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                os.close(req_w)
                os.close(res_r)
                for c in self._checkpoints:
                    os.close(c.requests)
                    os.close(c.results)
                self._checkpoints.clear()
                self._serve(req_r, res_w)
            except BaseException:  # noqa: BLE001 -- a checkpoint never returns to the caller
                os._exit(1)
            return  # a worker: continue the run from this event
        os.close(req_r)
        os.close(res_w)
        self._checkpoints.append(_Checkpoint(n, pid, req_w, res_r))

    def _drop(self, checkpoint: _Checkpoint) -> None:
        """Stop using one checkpoint (it failed, or its answer can no longer be trusted)."""
        self._checkpoints.remove(checkpoint)
        _close_checkpoints([checkpoint])

    def _serve(self, requests: int, results: int) -> None:
        """A checkpoint's loop: fork one worker per requested event (returns in the worker)."""
        while True:
            target = _read_request(requests)
            if target is None:  # the debugger closed its end: leave
                os._exit(0)
            pid = os.fork()
            if pid == 0:
                os.close(requests)
                t = self._tracer
                t.fork, t.probe, t.record, t.slow = None, None, False, False
                t.stop = target
                self._worker_out = results
                return
            os.waitpid(pid, 0)

    def _worker_exit(self) -> None:
        """A worker's end: send the state it halted at (or nothing) and exit."""
        assert self._worker_out is not None
        state = self._tracer.state
        data = pickle.dumps(state) if state is not None else b""
        try:
            _write_all(self._worker_out, struct.pack(">Q", len(data)) + data)
        finally:
            os._exit(0)

    def _from_checkpoint(self, n: int) -> State | None:
        """The state at ``n`` from the nearest checkpoint before it, or None."""
        best = None
        for c in self._checkpoints:
            if c.position < n and (best is None or c.position > best.position):
                best = c
        if best is None:
            return None
        try:
            _write_all(best.requests, f"{n}\n".encode())
            size = struct.unpack(">Q", _read_exact(best.results, 8))[0]
            state = pickle.loads(_read_exact(best.results, size)) if size else None
        except (OSError, EOFError, struct.error, pickle.UnpicklingError):
            self._drop(best)
            return None
        except BaseException:  # Ctrl-C mid-answer: its pipe may still get this answer
            self._drop(best)
            raise
        if not isinstance(state, State) or state.position != n:
            return None
        self.replays += 1
        self.checkpoint_hits += 1
        self.events_replayed += n - best.position
        return state

    # -- replays ---------------------------------------------------------------
    def state_at(self, n: int) -> State:
        """The state at event ``n`` (``0 <= n < length``), by replay from the start."""
        if not 0 <= n < self.length:
            raise IndexError(f"no event {n}: the execution has events 0..{self.length - 1}")
        if self._checkpoints:
            got = self._from_checkpoint(n)
            if got is not None:
                return got
        self._run(n, False)
        state = self._tracer.state
        assert state is not None and state.position == n
        return state

    def watch_values(self, name: str, frame_at: int, upto: int | None = None
                     ) -> list[str | None]:
        """The value of local ``name`` of one activation at each event (None: not bound).

        The activation is the one whose ``call`` is event ``frame_at``; before
        that event, and while ``name`` is not assigned in it, the value is None.
        Its value stays after it returns (it can no longer change).  One replay,
        up to event ``upto`` (excluded) or to the end.
        """
        t = self._tracer
        out: list[str | None] = []
        target: list[Any] = []  # [frame, slot indices of name] once the call is reached
        last: list[Any] = [UNSET, None]  # the last value seen and its text

        def probe() -> None:
            if not target:
                if t.n == frame_at and t.stack:
                    _fname, frame, slots = t.stack[-1]
                    target.extend([frame, [i for i, n in enumerate(slots) if n == name]])
                else:
                    out.append(None)
                    return
            frame, where = target
            for i in reversed(where):  # the innermost binding of the name
                v = frame[i]
                if v is not UNSET:
                    if v is not last[0]:
                        last[0], last[1] = v, show(v)
                    out.append(last[1])
                    return
            out.append(None)

        stop = None if upto is None or upto >= self.length else upto
        want = self.length if stop is None else stop
        self._run(stop, False, probe)
        while len(out) < want:  # the final error/pending event: the last value stays
            out.append(out[-1] if out else None)
        return out[:want]

    def _decode(self, seq: int, entry: bytes) -> _Entry:
        obj = decode(entry)
        if not (isinstance(obj, list) and len(obj) == 4 and isinstance(obj[0], str)
                and isinstance(obj[1], str) and isinstance(obj[2], list)):
            raise StoreCorrupted("durable_journal", f"{self.ident}#{seq}",
                                 "not an [effect, op, args, reply] entry")
        args = tuple(value_from_cbor(a) for a in obj[2])
        label = f"{obj[0]}.{obj[1]}"
        return obj[0], obj[1], args, value_from_cbor(obj[3]), self._tracer.name_id(label)

    def _handler(self) -> Any:
        t = self._tracer
        journal = self._journal
        ident = self.ident

        def handler(effect: str, op: str, args: tuple[Value, ...]) -> Value:
            i = t.cursor
            if i >= len(journal):
                t.error_stack = t.frames()
                raise _JournalEnd(_request(effect, op, args))
            je, jo, jargs, reply, name_id = journal[i]
            if je != effect or jo != op or jargs != args:
                raise ReplayDiverged(ident, i, _request(je, jo, jargs), _request(effect, op, args))
            t.cursor = i + 1
            n = t.n
            if n == t.stop:
                shown = show(reply)
                t.halt(EFFECT, f"{effect}.{op}", f"{_request(effect, op, args)} -> {shown}",
                       shown)
            if t.slow:
                t.note(EFFECT, name_id)
            t.n = n + 1
            return reply
        return handler

    def _run(self, stop: int | None, record: bool,
             probe: Callable[[], None] | None = None,
             fork: Callable[[], None] | None = None) -> Outcome:
        t = self._tracer
        t.reset(stop, record, probe)
        t.fork = fork
        t.slow = t.slow or fork is not None
        t.program = self.program
        self.replays += 1
        try:
            r = self.program.call(self.entry, self.args, limits=self.limits,
                                  handler=self._handler())
            return Outcome("value", show(r.value), r.cost)
        except _Halt:
            return Outcome("halted", "", t.cost())
        except _JournalEnd as end:
            return self._final(PENDING, "<journal end>", f"not journaled: {end.request}")
        except TelError as exc:
            return self._final(ERROR, type(exc).__name__, str(exc), getattr(exc, "cost", 0))
        finally:
            if self._worker_out is not None:  # a checkpoint's worker: never returns
                self._worker_exit()
            self.events_replayed += t.n
            self.effects_answered += t.cursor

    def _final(self, kind: int, name: str, detail: str, cost: int | None = None) -> Outcome:
        t = self._tracer
        spent = t.cost() if cost is None else cost
        stack = t.error_stack or ()
        if t.n == t.stop:
            t.state = State(t.n, KINDS[kind], name, detail, stack, spent, t.cursor)
        if t.record:
            t.kinds.append(kind)
            t.depths.append(len(stack))
            t.ids.append(t.name_id(name))
        t.n += 1
        return Outcome("error" if kind == ERROR else "pending", detail, spent)
