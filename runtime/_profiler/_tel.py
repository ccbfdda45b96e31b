"""Profiling a stored TEL definition through the embedded runtime.

The execution goes through :func:`stele.open_runtime` exactly as ``stele
run`` does (sandbox, grants, effects, nested ``Exec.call``), with two
observers switched on for its duration:

- the TEL interpreter's instrumentation mode (:mod:`stele.tel._profile`):
  the programs the executor compiles record a call tree of cost and wall
  time; while it is active the executor runs TEL inline (a run in a worker
  process could not be observed), which changes no cost or value;
- an execution-context recorder (:data:`~stele.actors.executor._context.TRACERS`):
  every context's start and end, its allocator wait, and each effect, with
  Env timestamps.  It also tells the TEL profiler which execution the runs
  that follow belong to.

:func:`merge_profiles` turns the final run of every execution into one cost
profile and one wall-time profile whose stacks start with the chain of
executions (``exec:parent``, ``exec:child``) -- so the profile's total is the
top-level execution's reported cost, children included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..actors.executor._context import TRACERS, ExecutionContext, TraceEvent
from ..tel._profile import TelProfiler, profiling
from ._model import Profile

__all__ = ["ContextRecord", "ExecTree", "TelProfileResult", "profile_tel", "merge_profiles"]


@dataclass
class ContextRecord:
    """One execution context as recorded: identity, parent, and its events in order."""

    id: str
    parent: str | None
    target: str
    engine: str
    events: list[TraceEvent] = field(default_factory=list)


class ExecTree:
    """A tracer of execution contexts (install with :meth:`recording`)."""

    def __init__(self, profiler: TelProfiler | None = None) -> None:
        self.contexts: dict[str, ContextRecord] = {}
        self.order: list[str] = []
        self._open: list[str] = []
        self._profiler = profiler

    def __call__(self, ctx: ExecutionContext, ev: TraceEvent) -> None:
        rec = self.contexts.get(ctx.id)
        if rec is None:
            parent = None if ctx.parent is None else ctx.parent.id
            rec = self.contexts[ctx.id] = ContextRecord(ctx.id, parent, ctx.target, ctx.engine)
            self.order.append(ctx.id)
        rec.events.append(ev)
        if ev.kind == "start":
            self._open.append(ctx.id)
        elif ev.kind == "end" and ctx.id in self._open:
            self._open.remove(ctx.id)
        if self._profiler is not None:
            self._profiler.scope = self._open[-1] if self._open else None

    def stack(self, cid: str) -> tuple[str, ...]:
        """``exec:target`` frames from the root execution down to ``cid``."""
        out: list[str] = []
        cur: str | None = cid
        while cur is not None:
            rec = self.contexts[cur]
            out.append(f"exec:{rec.target}")
            cur = rec.parent
        return tuple(reversed(out))


@dataclass
class TelProfileResult:
    """What :func:`profile_tel` returns."""

    result: Any  # the ExecResult of the top-level execution
    cost: Profile
    wall: Profile
    tree: ExecTree
    profiler: TelProfiler


def merge_profiles(profiler: TelProfiler, tree: ExecTree) -> tuple[Profile, Profile]:
    """One cost profile and one wall-time profile over every execution's final run."""
    cost = Profile("cost", "cost")
    wall = Profile("wall time", "nanoseconds")
    for run in profiler.final_runs():
        prefix = tree.stack(run.scope) if isinstance(run.scope, str) and \
            run.scope in tree.contexts else ()
        for stack, node in run.root.walk(prefix):
            cost.add(stack, node.self_cost(), node.calls)
            wall.add(stack, node.self_ns(), node.calls)
    for cid in tree.order:  # one activation per execution frame
        cost.add(tree.stack(cid), 0, 1)
        wall.add(tree.stack(cid), 0, 1)
    return cost, wall


async def profile_tel(path: str, target: str, args: list[Any], *, limits: Any, policy: Any,
                      env: Any = None) -> TelProfileResult:
    """Run ``target(args)`` in a fresh runtime on store ``path``, profiled (never memoized)."""
    import stele
    from .._core._realenv import RealEnv

    env = env or RealEnv()
    profiler = TelProfiler(clock=env.now_ns)  # wall time on the runtime's own clock
    tree = ExecTree(profiler)
    TRACERS.append(tree)
    try:
        with profiling(profiler):
            async with stele.open_runtime(path, env=env) as rt:
                result = await rt.execute(target, args, limits=limits, policy=policy,
                                          engine="tel", memo=False)
    finally:
        TRACERS.remove(tree)
    cost, wall = merge_profiles(profiler, tree)
    return TelProfileResult(result, cost, wall, tree, profiler)
