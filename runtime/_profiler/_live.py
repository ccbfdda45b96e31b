"""Tracing of a live runtime: ``Runtime.trace()`` and ``stele serve --trace FILE``.

A :class:`RuntimeTrace` observes one runtime's execution contexts while it is
installed -- every execution that *starts* meanwhile, its nested
``Exec.call`` children, its allocator waits and its effects -- and renders
them as the same Chrome trace-event / Perfetto JSON as ``stele profile
--perfetto`` (:func:`~._perfetto.exec_tree_trace`).  Timestamps are the
runtime Env's monotonic clock, so a trace taken under the simulator is on
virtual time and reproducible from the seed.

What it does not show: executions answered from the memo cache without
running (they create no context), and executions that began before the trace
was installed (their later events are ignored, so no slice is left without
its start).  The recording lives in memory until :meth:`RuntimeTrace.write`;
it grows with the traffic (a few hundred bytes per event).
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..actors.executor._context import ExecutionContext, TraceEvent
from ._perfetto import exec_tree_trace
from ._tel import ExecTree

__all__ = ["RuntimeTrace"]


class RuntimeTrace:
    """A recording of a runtime's execution-context tree (see the module docstring)."""

    def __init__(self, *, label: str = "stele runtime trace") -> None:
        self._tree = ExecTree()
        self._label = label

    def __call__(self, ctx: ExecutionContext, ev: TraceEvent) -> None:
        """The tracer hook (``ExecutionContext.tracers``)."""
        if ctx.id not in self._tree.contexts:
            root = ctx
            while root.parent is not None:
                root = root.parent
            # only trees whose root started while recording: never an end without its start
            if ev.kind != "start" or (root is not ctx and root.id not in self._tree.contexts):
                return
        self._tree(ctx, ev)

    @property
    def executions(self) -> int:
        """How many execution contexts (top-level and nested) were recorded."""
        return len(self._tree.contexts)

    @property
    def events(self) -> int:
        """How many context events were recorded."""
        return sum(len(r.events) for r in self._tree.contexts.values())

    def document(self) -> dict[str, Any]:
        """The Perfetto / Chrome trace-event JSON document of what was recorded so far."""
        return exec_tree_trace(self._tree, meta={"tool": "stele", "source": self._label,
                                                 "executions": self.executions})

    def write(self, path: str) -> None:
        """Write :meth:`document` to ``path`` (atomically: a temporary file, then a rename)."""
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.document(), f)
        os.replace(tmp, path)
