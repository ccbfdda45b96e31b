"""Profiling TEL: exact cost units and wall time per function and per call stack.

An *instrumentation mode*, chosen when a :class:`~stele.tel.Program` is
compiled: while a :class:`TelProfiler` is active (:func:`profiling`), every
definition body and lambda body compiled is wrapped in a closure that notes
the fuel spent (``m.limit - m.fuel``, the same counter the metering uses) and
a clock (the runtime Env's ``now_ns``) on entry and on exit.  Nothing else changes: the wrapper
charges nothing, so a profiled run spends exactly the cost of an unprofiled
one, stops at the same point, and returns the same value.  Programs compiled
with no profiler active have no wrapper at all: the normal path pays nothing
(the hook is read once per compiled function, at compile time).

Cost is attributed to the function whose body is running when it is
charged: a call node's own charge and its argument evaluation belong to the
caller, everything its body spends to the callee.  So the costs of all call
tree nodes sum to the run's total cost exactly.  Wall time includes the
wrapper's own overhead (two clock reads per call); it is a measurement, not
a contract.

A run is one ``Program.call`` (one entry-body activation).  Effect replay
re-runs a program from the start, so the runs of one execution are recorded
under the execution's key (:attr:`TelProfiler.scope`) and each new run
replaces the previous one: the last run is the complete one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._interp import Program

__all__ = ["CallNode", "TelRun", "TelProfiler", "Instrument", "profiling", "instrumenting",
           "active", "wrap"]

Ev = Callable[[list[Any]], Any]


@dataclass(eq=False, slots=True)
class CallNode:
    """One node of a call tree: a function reached by one particular chain of calls.

    ``cost`` and ``wall_ns`` are inclusive (the node and everything below);
    ``calls`` counts activations.  :meth:`self_cost` is what the node's own
    body spent.
    """

    name: str
    children: dict[str, CallNode] = field(default_factory=dict)
    calls: int = 0
    cost: int = 0
    wall_ns: int = 0

    def child(self, name: str) -> CallNode:
        """The child node for a call of ``name`` from here (made on first use)."""
        node = self.children.get(name)
        if node is None:
            node = self.children[name] = CallNode(name)
        return node

    def self_cost(self) -> int:
        """Cost charged while this node's own body was running."""
        return self.cost - sum(c.cost for c in self.children.values())

    def self_ns(self) -> int:
        """Wall time of this node's own body (never negative)."""
        return max(0, self.wall_ns - sum(c.wall_ns for c in self.children.values()))

    def walk(self, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], CallNode]]:
        """Every node below this one (itself excluded) with its stack of names, depth first."""
        for c in self.children.values():
            stack = prefix + (c.name,)
            yield stack, c
            yield from c.walk(stack)


@dataclass(eq=False)
class TelRun:
    """The call tree of one run of a program (``root`` is a synthetic node, cost 0 itself)."""

    scope: object
    root: CallNode = field(default_factory=lambda: CallNode("<root>"))
    finished: bool = False
    error: str = ""

    @property
    def cost(self) -> int:
        """Total cost of the run (the sum over its call tree)."""
        return sum(c.cost for c in self.root.children.values())


class TelProfiler:
    """Collects call trees of the TEL runs that happen while it is active.

    ``scope`` names the execution the next runs belong to (the executor
    profile sets it per execution); runs of one scope replace each other, so
    :attr:`runs` ends with the final, complete run of each.  ``clock`` is the
    clock read around each call, nanoseconds: pass the Env's ``now_ns`` (the
    default reads nothing and records wall times of 0).
    """

    def __init__(self, clock: Callable[[], int] | None = None) -> None:
        if clock is None:
            clock = _no_clock
        self.clock = clock
        self.scope: object = None
        self.runs: dict[object, TelRun] = {}
        self.order: list[object] = []
        self._cur: CallNode | None = None
        self._run: TelRun | None = None
        self._root: CallNode | None = None

    def wrap(self, program: Program, name: str, body: Ev) -> Ev:
        """``body`` instrumented: enter/exit bookkeeping around each activation."""
        m = program.m
        clock = self.clock
        prof = self

        def profiled(frame: list[Any]) -> Any:
            parent = prof._cur
            if parent is None:  # the entry of a new run
                parent = prof._begin().root
            node = parent.children.get(name)
            if node is None:
                node = parent.child(name)
            node.calls += 1
            prof._cur = node
            c0 = m.limit - m.fuel
            t0 = clock()
            ok = False
            try:
                value = body(frame)
                ok = True
                return value
            finally:
                node.wall_ns += clock() - t0
                node.cost += m.limit - m.fuel - c0
                if parent is prof._root:
                    prof._end(ok)
                else:
                    prof._cur = parent

        profiled.__qualname__ = f"profiled[{name}]"
        return profiled

    def _begin(self) -> TelRun:
        run = TelRun(self.scope)
        if self.scope not in self.runs:
            self.order.append(self.scope)
        self.runs[self.scope] = run
        self._run = run
        self._root = run.root
        return run

    def _end(self, ok: bool) -> None:
        if self._run is not None:
            self._run.finished = ok
        self._run = self._root = self._cur = None

    def final_runs(self) -> list[TelRun]:
        """The last run of each scope, in the order the scopes first ran."""
        return [self.runs[s] for s in self.order]


def _no_clock() -> int:
    return 0


_ACTIVE: list[TelProfiler] = []


class Instrument(Protocol):
    """Another compile-time observer of function bodies (the debugger's tracer).

    ``wrap`` gets the body of a definition or lambda named ``name``, the source
    name of each of its frame slots (``slots``: captured values, parameters,
    then its lets and matches) and how many leading slots are filled when the
    body is entered (``fixed``); it returns the body to run instead.
    """

    def wrap(self, program: Program, name: str, body: Ev, slots: Sequence[str],
             fixed: int) -> Ev: ...


_HOOKS: list[Instrument] = []


def active() -> TelProfiler | None:
    """The profiler programs compiled now are instrumented for, if any."""
    return _ACTIVE[-1] if _ACTIVE else None


def wrap(program: Program, name: str, body: Ev, slots: Sequence[str] = (), fixed: int = 0) -> Ev:
    """The compile-time hook of ``_interp``: ``body`` itself unless a profiler is active."""
    prof = active()
    out = body if prof is None else prof.wrap(program, name, body)
    if _HOOKS:
        out = _HOOKS[-1].wrap(program, name, out, tuple(slots), fixed)
    return out


@contextmanager
def instrumenting(hook: Instrument) -> Iterator[Instrument]:
    """Instrument the Programs compiled inside the block with ``hook`` (innermost wins)."""
    _HOOKS.append(hook)
    try:
        yield hook
    finally:
        _HOOKS.remove(hook)


@contextmanager
def profiling(profiler: TelProfiler | None = None) -> Iterator[TelProfiler]:
    """Instrument the Programs compiled inside the block for ``profiler`` (a new one if None)."""
    prof = profiler or TelProfiler()
    _ACTIVE.append(prof)
    try:
        yield prof
    finally:
        _ACTIVE.remove(prof)
