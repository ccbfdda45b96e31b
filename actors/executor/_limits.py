"""Limits of the execution tree that no single engine sees: nesting, result size, descriptions.

* **Nesting.** Each ``Exec.call`` level is a chain of awaiting coroutines;
  resuming the innermost one goes through every level in C, so unbounded
  nesting overflows the C stack (a 5,000-deep ``Exec.call`` recursion
  killed the process).  :data:`MAX_NESTING` caps the depth of the tree, and a
  child beyond it fails with :class:`NestingLimitExceeded` before it starts.
* **Memoization.** A result is stored only when its value's unfolded size
  and depth fit (:func:`memoizable`); measuring is sharing-aware and gives
  up at the cap, so a small DAG that unfolds to 10^8 elements costs
  O(cap) to refuse instead of being serialized.
* **Descriptions.** Error messages never ``repr`` a program's value (that
  walks it unfolded): :func:`describe` prints at most a short, bounded form.
"""

from __future__ import annotations

from typing import Any, Final

from ...tel import show_value
from ...tel._measure import MAX_VALUE_DEPTH, ValueTooDeep, ValueTooLarge, measure
from ._errors import ExecutorError

__all__ = ["MAX_NESTING", "MEMO_MAX_UNITS", "MEMO_MAX_DEPTH", "NestingLimitExceeded",
           "check_nesting", "memoizable", "describe"]

#: Deepest ``Exec.call`` nesting (a top-level execution is level 0).
MAX_NESTING: Final = 64
#: Largest result (unfolded cost elements, ~8 bytes each) the memo cache stores.
MEMO_MAX_UNITS: Final = 1 << 17
#: Deepest result value the memo cache stores (its CBOR form nests one level per list,
#: tuple or option, inside the entry's own array: canonical CBOR allows 64).
MEMO_MAX_DEPTH: Final = 60


class NestingLimitExceeded(ExecutorError):
    """An ``Exec.call`` would nest deeper than :data:`MAX_NESTING` levels."""

    def __init__(self, target: str, depth: int, limit: int = MAX_NESTING) -> None:
        self.target = target
        self.depth = depth
        self.limit = limit
        super().__init__(f"Exec.call({target!r}) would nest {depth} executions deep, "
                         f"limit {limit}")


def check_nesting(target: str, depth: int) -> None:
    """Raise :class:`NestingLimitExceeded` if a child at ``depth`` is too deep."""
    if depth > MAX_NESTING:
        raise NestingLimitExceeded(target, depth)


def memoizable(value: Any) -> bool:
    """Whether ``value`` is small and shallow enough to serialize into the memo cache."""
    try:
        measure(value, MEMO_MAX_UNITS, min(MEMO_MAX_DEPTH, MAX_VALUE_DEPTH))
    except (ValueTooLarge, ValueTooDeep):
        return False
    return True


def describe(value: Any, width: int = 60) -> str:
    """A short text of ``value`` for an error message (bounded work, never unfolded)."""
    text = show_value(value, limit=256)
    return text if len(text) <= width else text[:width - 3] + "..."
