"""The runtime's policy for CPython's cyclic garbage collector: full collections when idle.

A full (generation-2) collection scans every tracked object in the process
and holds the event loop for all of it.  Under load that heap is at its
largest -- a thousand in-flight executions are about 100,000 tracked objects
(coroutines, cancel scopes, events, closures) -- and CPython starts a full
collection whenever its counters say so, in the middle of the burst: the load
bench measured 40-100 ms pauses, every other actor frozen behind them.

``IdleCollector`` moves that work to where it costs nobody anything: moments
when the executor has nothing running, when the heap is smallest.

- CPython's young collections (generations 0 and 1) are untouched: they scan
  only recent objects and stay short.
- The automatic full collection is made ``DEFERRAL`` times rarer (the third
  threshold is multiplied), so a busy runtime that never goes idle still gets
  one, as a safety valve on memory held by garbage cycles.
- When the executor becomes idle, a full collection runs if one is due: at
  least as many young collections happened since the last full one as CPython
  itself would wait for, and at least ``SPACING`` times the last full
  collection's duration has passed since it (so full collections never take
  more than about 1/SPACING of the time, however often the runtime idles).

The collector's thresholds are process-wide.  Runtimes share one policy:
the first to open installs it, the last to close restores the thresholds it
found (unless someone else changed them meanwhile).  ``open_runtime(gc="python")``
leaves the collector alone; under the simulator it is always left alone
(collection timing is not part of what a seed reproduces).
"""

from __future__ import annotations

import gc
from collections.abc import Callable

__all__ = ["DEFERRAL", "SPACING", "IdleCollector", "GC_POLICIES"]

GC_POLICIES = ("idle", "python")
"""The values ``open_runtime(gc=...)`` accepts."""

DEFERRAL = 50
"""How many times rarer CPython's own full collections become while a runtime is open."""

SPACING = 50
"""Idle full collections are at least this many times their last duration apart."""

_installed: list[IdleCollector] = []
_saved: tuple[int, int, int] | None = None
_ours: tuple[int, int, int] | None = None


class IdleCollector:
    """Full collections at the executor's idle moments (see the module docstring).

    ``clock`` returns nanoseconds (the runtime's ``Env.now_ns``); it times the
    collections for the spacing rule, nothing else.
    """

    def __init__(self, clock: Callable[[], int]) -> None:
        self._clock = clock
        self._last_end = 0
        self._last_cost = 0
        self._young_due = 10
        self.collections = 0
        """Full collections this policy ran (idle moments that found one due)."""

    # -- lifetime ---------------------------------------------------------------
    def install(self) -> None:
        """Start deferring CPython's full collections (nested installs share one policy)."""
        global _saved, _ours
        if not _installed:
            _saved = gc.get_threshold()
            t0, t1, t2 = _saved
            _ours = (t0, t1, max(1, t2) * DEFERRAL)
            gc.set_threshold(*_ours)
        self._young_due = max(1, (_saved or gc.get_threshold())[2])
        self._last_end = self._clock()
        _installed.append(self)

    def uninstall(self) -> None:
        """Stop; the last policy to go restores the thresholds found at the first install."""
        global _saved, _ours
        if self not in _installed:
            return
        _installed.remove(self)
        if not _installed and _saved is not None:
            if gc.get_threshold() == _ours:  # nobody changed them meanwhile
                gc.set_threshold(*_saved)
            _saved = _ours = None

    # -- the hook ---------------------------------------------------------------
    def due(self) -> bool:
        """Whether an idle moment now should run a full collection."""
        if not gc.isenabled():  # someone paused the collector (e.g. a parse): respect it
            return False
        if gc.get_count()[2] < self._young_due:
            return False
        return self._clock() - self._last_end >= SPACING * self._last_cost

    def idle(self) -> None:
        """The executor has nothing running: run a full collection if one is due."""
        if not self.due():
            return
        start = self._clock()
        gc.collect()
        self._last_end = self._clock()
        self._last_cost = self._last_end - start
        self.collections += 1
