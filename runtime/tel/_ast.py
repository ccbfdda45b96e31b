"""TEL's abstract syntax: frozen dataclasses whose source locations never affect equality.

Locations (`loc`) are excluded from `==` and `hash`, so `parse(print(ast)) == ast`
compares meaning-bearing structure only. Names are still part of the AST; the
content-addressed form (`_hash`) erases them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from ._errors import NO_LOC, Loc

__all__ = [
    "TName", "TList", "TOption", "TTuple", "TFn", "Type",
    "IntLit", "BoolLit", "StrLit", "BytesLit", "UnitLit", "Var", "ListLit", "TupleLit",
    "Unary", "Binary", "If", "Let", "Lambda", "Call", "Match", "Seq", "Perform",
    "SomeE", "NoneE", "Proj", "Expr", "Param", "OpDecl", "EffectDecl", "Def", "Decl",
    "Module", "PRIMITIVE_TYPES", "EXPR_KINDS",
]

PRIMITIVE_TYPES = ("Int", "Bool", "Bytes", "String", "Unit")


def _loc() -> Loc:
    return field(default=NO_LOC, compare=False, repr=False)


# ---------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class TName:
    """A primitive type: Int, Bool, Bytes, String or Unit."""

    name: str
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class TList:
    """`List[T]`."""

    elem: Type
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class TOption:
    """`Option[T]`."""

    elem: Type
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class TTuple:
    """`(A, B, ...)`, two or more items."""

    items: tuple[Type, ...]
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class TFn:
    """`Fn(A, B) -> C ! {E}`: parameter types, result type and effect row."""

    params: tuple[Type, ...]
    ret: Type
    effects: frozenset[str] = frozenset()
    loc: Loc = _loc()


Type = Union[TName, TList, TOption, TTuple, TFn]

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class IntLit:
    """An Int literal (the parser folds a leading `-` into it)."""

    value: int
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class BoolLit:
    """`true` or `false`."""

    value: bool
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class StrLit:
    """A String literal."""

    value: str
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class BytesLit:
    """A Bytes literal, written `x"00ff"` (hex digits)."""

    value: bytes
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class UnitLit:
    """`()`."""

    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Var:
    """A local, a definition or a builtin, by name."""

    name: str
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class ListLit:
    """`[a, b, ...]`."""

    items: tuple[Expr, ...]
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class TupleLit:
    """`(a, b, ...)`, two or more items."""

    items: tuple[Expr, ...]
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Unary:
    """`-e` (negation) or `!e` (not)."""

    op: str
    operand: Expr
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Binary:
    """`a OP b` for the arithmetic, comparison, logical and `++` operators."""

    op: str
    left: Expr
    right: Expr
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class If:
    """`if c then a else b`."""

    cond: Expr
    then: Expr
    else_: Expr
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Let:
    """`let x = v in body` or `let x: T = v in body`."""

    name: str
    type: Type | None
    value: Expr
    body: Expr
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Param:
    """A typed parameter `name: T`."""

    name: str
    type: Type
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Lambda:
    """`fn (x: A, y: B) => body`."""

    params: tuple[Param, ...]
    body: Expr
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Call:
    """`f(a, b)`: application of a definition, builtin, local or any function value."""

    func: Expr
    args: tuple[Expr, ...]
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Match:
    """`match e { Some(x) => a, None => b }`."""

    scrutinee: Expr
    some_name: str
    some_body: Expr
    none_body: Expr
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Seq:
    """`a; b`: evaluate `a` (any type) for its effects, then `b`."""

    first: Expr
    second: Expr
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Perform:
    """`perform Effect.op(args)`: ask the host to handle an effect operation."""

    effect: str
    op: str
    args: tuple[Expr, ...]
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class SomeE:
    """`Some(e)`."""

    value: Expr
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class NoneE:
    """`None`."""

    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Proj:
    """`e.0`: the item of a tuple at a literal index (a TEL addition to DESIGN.md)."""

    tuple: Expr
    index: int
    loc: Loc = _loc()


Expr = Union[
    IntLit, BoolLit, StrLit, BytesLit, UnitLit, Var, ListLit, TupleLit, Unary, Binary, If,
    Let, Lambda, Call, Match, Seq, Perform, SomeE, NoneE, Proj,
]

#: every expression node kind, by class name (the cost table charges per kind)
EXPR_KINDS: tuple[str, ...] = (
    "IntLit", "BoolLit", "StrLit", "BytesLit", "UnitLit", "Var", "ListLit", "TupleLit",
    "Unary", "Binary", "If", "Let", "Lambda", "Call", "Match", "Seq", "Perform", "SomeE",
    "NoneE", "Proj",
)

# ---------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class OpDecl:
    """One operation of an effect: `name(params) -> T`."""

    name: str
    params: tuple[Param, ...]
    ret: Type
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class EffectDecl:
    """`effect Name { op(...) -> T; ... }`."""

    name: str
    ops: tuple[OpDecl, ...]
    loc: Loc = _loc()


@dataclass(frozen=True, slots=True)
class Def:
    """`def name(params) -> T ! {E} = body`."""

    name: str
    params: tuple[Param, ...]
    ret: Type
    effects: frozenset[str]
    body: Expr
    loc: Loc = _loc()


Decl = Union[EffectDecl, Def]


@dataclass(frozen=True, slots=True)
class Module:
    """A parsed source file: effect declarations and definitions, in order."""

    decls: tuple[Decl, ...]
    loc: Loc = _loc()

    @property
    def defs(self) -> dict[str, Def]:
        """The definitions by name."""
        return {d.name: d for d in self.decls if isinstance(d, Def)}

    @property
    def effects(self) -> dict[str, EffectDecl]:
        """The effect declarations by name (the prelude is not included)."""
        return {d.name: d for d in self.decls if isinstance(d, EffectDecl)}
