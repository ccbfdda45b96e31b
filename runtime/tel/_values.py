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
        return type(v) is tuple and all(check_value(t.elem, x) for x in v)
    if isinstance(t, TOption):
        return v is None or (type(v) is Some and check_value(t.elem, v.value))
    if isinstance(t, TTuple):
        return type(v) is tuple and len(v) == len(t.items) and all(
            check_value(i, x) for i, x in zip(t.items, v))
    assert isinstance(t, TFn)
    return False


def value_units(v: Value) -> int:
    """Size of a value in cost elements (scalars 1; String/Bytes 1 per 8; containers add items)."""
    tv = type(v)
    if tv is int or tv is bool or v is None:
        return 1
    if tv is str or tv is bytes:
        return 1 + (len(v) + 7) // 8
    if tv is tuple:
        return 1 + sum(value_units(x) for x in v)
    if tv is Some:
        return 1 + value_units(v.value)
    return 1


def show_value(v: Value, t: Type | None = None) -> str:
    """TEL source-like text of a value (lists and tuples told apart by `t` when given)."""
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
        return f"Some({show_value(v.value, t.elem if isinstance(t, TOption) else None)})"
    if type(v) is tuple:
        if isinstance(t, TList):
            return "[" + ", ".join(show_value(x, t.elem) for x in v) + "]"
        if v == ():
            return "()"
        items = t.items if isinstance(t, TTuple) else (None,) * len(v)
        if isinstance(t, TTuple):
            return "(" + ", ".join(show_value(x, i) for x, i in zip(v, items)) + ")"
        return "[" + ", ".join(show_value(x) for x in v) + "]"
    return repr(v)
