"""Execution contexts: the tree of running executions, mirroring the allocator's grants.

A top-level execution gets a root context; an ``Exec.call`` runs its target
in a child context whose grant is carved out of the parent's.  A context
holds the mutable state of one execution -- its call stack (the chain of
targets from the root), trace events, usage and grant id -- and is closed
exactly once.  Cancellation follows the tree without bookkeeping: a child
runs inside its parent's task and cancel scope, so cancelling the parent
(or its timeout firing) cancels the child, and each level releases its own
grant in a shielded ``finally``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..allocator import Resources
from ..sandbox._tree import TreeBudget

__all__ = ["ExecutionContext", "TraceEvent", "TRACERS"]


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """Something that happened during an execution, stamped with Env monotonic time."""

    at_ns: int
    kind: str
    detail: str


#: Observers of every context event, ``tracer(context, event)`` (the profiler's
#: execution-tree trace installs one while it records; empty otherwise).
TRACERS: list[Callable[[ExecutionContext, TraceEvent], None]] = []


@dataclass(slots=True, eq=False)
class ExecutionContext:
    """One node of the execution tree (see the module docstring)."""

    id: str
    target: str
    engine: str
    parent: ExecutionContext | None = None
    grant: str | None = None
    usage: Resources = Resources.ZERO
    children: list[ExecutionContext] = field(default_factory=list)
    events: list[TraceEvent] = field(default_factory=list)
    closed: bool = False
    #: the nearest deadline of this execution and its ancestors (Env ns), None without one
    deadline_ns: int | None = None
    #: the tree's shared sandbox state (call counts, output budget), set by the executor
    shared: TreeBudget | None = None
    #: this runtime's own observers (``Runtime.trace``), shared by the whole tree; the
    #: process-wide :data:`TRACERS` see every runtime's events as well
    tracers: list[Callable[[ExecutionContext, TraceEvent], None]] | None = None

    def child(self, id: str, target: str, engine: str) -> ExecutionContext:
        """A new child context (its parent sees it until it closes; it inherits the deadline)."""
        if self.closed:
            raise RuntimeError(f"execution {self.id} is closed")
        c = ExecutionContext(id, target, engine, parent=self, deadline_ns=self.deadline_ns,
                             tracers=self.tracers)
        self.children.append(c)
        return c

    @property
    def depth(self) -> int:
        """0 for a top-level execution."""
        return 0 if self.parent is None else self.parent.depth + 1

    @property
    def stack(self) -> list[str]:
        """Targets from the root execution down to this one."""
        return ([] if self.parent is None else self.parent.stack) + [self.target]

    def event(self, at_ns: int, kind: str, detail: str = "") -> None:
        """Append a trace event (and show it to the :data:`TRACERS`, if any)."""
        ev = TraceEvent(at_ns, kind, detail)
        self.events.append(ev)
        for tracer in TRACERS:
            tracer(self, ev)
        if self.tracers:
            for tracer in self.tracers:
                tracer(self, ev)

    def note(self, clock: Callable[[], int], kind: str, detail: str = "") -> None:
        """Show a fine-grained event (an effect, an allocator wait) to the :data:`TRACERS` only.

        Not kept in :attr:`events` (nor in the result's ``events``); free when nothing traces.
        """
        if TRACERS or self.tracers:
            ev = TraceEvent(clock(), kind, detail)
            for tracer in TRACERS:
                tracer(self, ev)
            for tracer in self.tracers or ():
                tracer(self, ev)

    def add_usage(self, amount: Resources) -> None:
        """Account ``amount`` to this context (a child's usage rolls up through this)."""
        self.usage = self.usage + amount

    def close(self) -> None:
        """Close the context: detach it from its parent (idempotent)."""
        if self.closed:
            return
        self.closed = True
        if self.parent is not None and self in self.parent.children:
            self.parent.children.remove(self)
