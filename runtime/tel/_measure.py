"""Sharing-aware measurement of TEL values: unfolded size and depth, in time bounded by a cap.

A TEL value is a DAG: ``let a = [x, x, x] in [a, a, a]`` holds one copy of
``a`` but *means* nine ``x``.  Host operations -- Python ``==`` on tuples,
encoding to CBOR, printing -- walk the unfolded tree, so their cost is the
unfolded size, which can be exponential in the memory a program was charged
for.  Every such operation is therefore preceded by :func:`measure`, which
computes the unfolded size (in cost elements, as ``value_units``) and the
nesting depth by visiting each *distinct* node once (a memo keyed by
``id``; the value is alive during the walk, so ids are stable), and gives up
as soon as the running total passes ``cap``.  The walk's own work is at most
the number of distinct nodes and edges visited, and each of those appears
at least once in the unfolding, so it never exceeds ``cap`` plus a constant:
the caller charges the returned size (or fails) *before* the real operation,
and the measurement itself is paid for by that same charge.

It also bounds depth without recursion (an explicit stack), so a value
nested a million levels deep is reported, never walked by C recursion.
"""

from __future__ import annotations

from typing import Final

from ._values import Some, Value

__all__ = ["MAX_VALUE_DEPTH", "ValueTooLarge", "ValueTooDeep", "measure", "unfolded_units"]

#: Deepest nesting of lists/tuples/options a host operation accepts (``==``, encoding,
#: printing, effect arguments, memoization).  CPython's tuple comparison and repr recurse
#: in C once per level; this keeps them far below any thread's C stack.
MAX_VALUE_DEPTH: Final = 1000


class ValueTooLarge(Exception):
    """Internal: the unfolded size passed the cap (``units`` is a lower bound, > cap)."""

    def __init__(self, units: int) -> None:
        self.units = units


class ValueTooDeep(Exception):
    """Internal: the value nests deeper than the depth cap (``depth`` is a lower bound)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth


def _scalar_units(v: Value) -> int:
    tv = type(v)
    if tv is str or tv is bytes:
        return 1 + (len(v) + 7) // 8
    return 1


class _Frame:
    """One container on the walk's explicit stack (its items, the next one, totals so far)."""

    __slots__ = ("node", "kids", "i", "units", "depth")

    def __init__(self, node: Value) -> None:
        self.node = node
        self.kids: tuple[Value, ...] = node if type(node) is tuple else (node.value,)
        self.i = 0
        self.units = 1
        self.depth = 0


def measure(v: Value, cap: int, max_depth: int = MAX_VALUE_DEPTH) -> tuple[int, int]:
    """``(units, depth)`` of ``v`` unfolded, or raise once either passes its cap.

    ``units`` counts like ``value_units`` (scalars 1, String/Bytes 1 per 8,
    containers 1 plus their items); ``depth`` is 0 for a scalar and one more
    than the deepest item for a list, tuple or ``Some``.  Raises
    :class:`ValueTooLarge` when the size passes ``cap`` and
    :class:`ValueTooDeep` when the nesting passes ``max_depth``; the work done
    before raising is O(min(cap, size)).
    """
    tv = type(v)
    if tv is not tuple and tv is not Some:
        units = _scalar_units(v)
        if units > cap:
            raise ValueTooLarge(units)
        return units, 0
    if max_depth < 1:
        raise ValueTooDeep(1)
    memo: dict[int, tuple[int, int]] = {}
    work = 0  # nodes + edges visited: each occurs in the unfolding, so work <= size
    stack = [_Frame(v)]
    while True:
        top = stack[-1]
        if top.i == len(top.kids):
            stack.pop()
            depth = top.depth + 1
            memo[id(top.node)] = (top.units, depth)
            if not stack:
                return top.units, depth
            parent = stack[-1]
            parent.units += top.units
            if depth > parent.depth:
                parent.depth = depth
            if parent.units > cap:
                raise ValueTooLarge(parent.units)
            continue
        c = top.kids[top.i]
        top.i += 1
        work += 1
        if work > cap:
            raise ValueTooLarge(work)
        tc = type(c)
        if tc is tuple or tc is Some:
            got = memo.get(id(c))
            if got is None:
                if len(stack) >= max_depth:
                    raise ValueTooDeep(len(stack) + 1)
                stack.append(_Frame(c))
                continue
            top.units += got[0]
            if got[1] > top.depth:
                top.depth = got[1]
        else:
            top.units += _scalar_units(c)
        if top.units > cap:
            raise ValueTooLarge(top.units)


def unfolded_units(v: Value, cap: int = 1 << 62, max_depth: int = 1 << 62) -> int | None:
    """The unfolded size of ``v`` in cost elements, or ``None`` if it passes ``cap``/``max_depth``."""
    try:
        return measure(v, cap, max_depth)[0]
    except (ValueTooLarge, ValueTooDeep):
        return None
