"""TEL runtime values and their Python representation.

=============  ===================================================
TEL type       Python value
=============  ===================================================
Int            `int` (always within signed 64 bits)
Bool           `bool`
String, Bytes  `str`, `bytes`
Unit           `()` (the empty tuple)
List[T]        `tuple` of items (immutable)
(A, B, ...)    `tuple`
Option[T]      `None` or `Some(value)`
Fn(...)        `Closure` (opaque; never crosses to the host)
=============  ===================================================

Equality is structural (Python `==` on these representations); the type
checker forbids comparing functions, and never lets Int meet Bool.
"""

from __future__ import annotations

from typing import Any, Callable

from ._ast import TFn, TList, TName, TOption, TTuple, Type

__all__ = ["Some", "Closure", "Value", "check_value", "show_value", "value_units"]

Value = Any


class Some:
    """`Some(value)`: a present optional value."""

    __slots__ = ("value",)

    def __init__(self, value: Value) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is Some and self.value == other.value

    def __hash__(self) -> int:
        return hash(("Some", self.value))

    def __repr__(self) -> str:
        return f"Some({self.value!r})"


class Closure:
    """A function value: compiled body, captured values and frame shape."""

    __slots__ = ("body", "captured", "nparams", "pad", "name")

    def __init__(self, body: Callable[[list[Value]], Value], captured: list[Value], nparams: int,
                 pad: list[Value], name: str) -> None:
        self.body = body
        self.captured = captured
        self.nparams = nparams
        self.pad = pad
        self.name = name

    def __repr__(self) -> str:
        return f"<fn {self.name}>"


def check_value(t: Type, v: Value) -> bool:
    """Whether the Python value `v` is a valid TEL value of type `t` (functions never are)."""
    if isinstance(t, TName):
        if t.name == "Int":
            return type(v) is int and -(2**63) <= v < 2**63
        return {
            "Bool": type(v) is bool, "String": type(v) is str, "Bytes": type(v) is bytes,
            "Unit": type(v) is tuple and v == (),
        }[t.name]
    if isinstance(t, TList):
        if type(v) is not tuple:
            return False
        if isinstance(t.elem, TName) and t.elem.name == "Int":  # fast path: large Int lists
            return all(type(x) is int for x in v) and (not v or (-(2**63) <= min(v) and max(v) < 2**63))
        return all(check_value(t.elem, x) for x in v)
    if isinstance(t, TOption):
        return v is None or (type(v) is Some and check_value(t.elem, v.value))
    if isinstance(t, TTuple):
        return type(v) is tuple and len(v) == len(t.items) and all(
            check_value(i, x) for i, x in zip(t.items, v))
    assert isinstance(t, TFn)
    return False


def value_units(v: Value) -> int:
    """Size of a value in cost elements, unfolded (scalars 1; String/Bytes 1 per 8; containers add items).

    Computed sharing-aware (each distinct node visited once), never by
    walking the unfolded tree; see `stele.tel._measure`.
    """
    from ._measure import measure
    return measure(v, 1 << 62, 1 << 62)[0]


#: The most a value's unfolded size may be for `show_value` to print it in full (elements).
SHOW_LIMIT = 1 << 20


def show_value(v: Value, t: Type | None = None, *, limit: int = SHOW_LIMIT) -> str:
    """TEL source-like text of a value (lists and tuples told apart by `t` when given).

    A value whose unfolded size passes `limit` elements, or that nests deeper
    than `MAX_VALUE_DEPTH`, is not printed (that could take time and memory
    exponential in what it cost to build): its text is a placeholder saying so.
    """
    from ._measure import MAX_VALUE_DEPTH, ValueTooDeep, ValueTooLarge, measure
    try:
        measure(v, limit)
    except ValueTooLarge:
        return f"<value of more than {limit} elements unfolded: not printed>"
    except ValueTooDeep:
        return f"<value nested deeper than {MAX_VALUE_DEPTH} levels: not printed>"
    return _show(v, t)


def _show(v: Value, t: Type | None) -> str:
    from ._printer import quote_string

    if type(v) is bool:
        return "true" if v else "false"
    if type(v) is int:
        return str(v)
    if type(v) is str:
        return quote_string(v)
    if type(v) is bytes:
        return f'x"{v.hex()}"'
    if v is None:
        return "None"
    if type(v) is Some:
        return f"Some({_show(v.value, t.elem if isinstance(t, TOption) else None)})"
    if type(v) is tuple:
        if isinstance(t, TList):
            return "[" + ", ".join(_show(x, t.elem) for x in v) + "]"
        if v == ():
            return "()"
        items = t.items if isinstance(t, TTuple) else (None,) * len(v)
        if isinstance(t, TTuple):
            return "(" + ", ".join(_show(x, i) for x, i in zip(v, items)) + ")"
        return "[" + ", ".join(_show(x, None) for x in v) + "]"
    return repr(v)
