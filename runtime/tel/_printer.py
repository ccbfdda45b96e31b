"""TEL's pretty-printer: the inverse of the parser, `parse(print(x)) == x` for every AST.

It prints each child at the precedence level its position needs and adds
parentheses only where the child's own level is lower (see `_parser` for the
levels). Open-right forms (let, if, fn) are parenthesized anywhere but last.
"""

from __future__ import annotations

from ._ast import (
    Binary, BoolLit, BytesLit, Call, Decl, Def, EffectDecl, Expr, If, IntLit, Lambda, Let,
    ListLit, Match, Module, NoneE, Param, Perform, Proj, Seq, SomeE, StrLit, TFn, TList,
    TName, TOption, TTuple, TupleLit, Type, Unary, UnitLit, Var,
)
from ._parser import BINARY_LEVELS, COMPARISONS

__all__ = ["print_module", "print_decl", "print_expr", "print_type", "quote_string"]

_CLOSED = 10  # atoms, match, perform, literals


def _level(e: Expr) -> int:
    if isinstance(e, Seq):
        return 0
    if isinstance(e, (Let, If, Lambda)):
        return 1
    if isinstance(e, Binary):
        return BINARY_LEVELS[e.op]
    if isinstance(e, Unary) or (isinstance(e, IntLit) and e.value < 0):
        return 8
    if isinstance(e, (Call, Proj)):
        return 9
    return _CLOSED


def quote_string(s: str) -> str:
    """A TEL string literal for `s` (printable ASCII kept, everything else escaped)."""
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif " " <= c <= "~":
            out.append(c)
        else:
            out.append("\\u{%x}" % ord(c))
    out.append('"')
    return "".join(out)


def print_type(t: Type) -> str:
    """TEL source text of a type."""
    if isinstance(t, TName):
        return t.name
    if isinstance(t, TList):
        return f"List[{print_type(t.elem)}]"
    if isinstance(t, TOption):
        return f"Option[{print_type(t.elem)}]"
    if isinstance(t, TTuple):
        return "(" + ", ".join(print_type(i) for i in t.items) + ")"
    params = ", ".join(print_type(p) for p in t.params)
    return f"Fn({params}) -> {_ret_and_row(t.ret, t.effects)}"


def _ret_and_row(ret: Type, effects: frozenset[str]) -> str:
    text = print_type(ret)
    if effects and isinstance(ret, TFn):
        text = f"({text})"  # else the inner Fn would take the row
    if effects:
        text += " ! {" + ", ".join(sorted(effects)) + "}"
    return text


def _params(ps: tuple[Param, ...]) -> str:
    return "(" + ", ".join(f"{p.name}: {print_type(p.type)}" for p in ps) + ")"


def _args(es: tuple[Expr, ...]) -> str:
    return ", ".join(_p(e, 0) for e in es)


def _p(e: Expr, need: int) -> str:
    text = print_expr(e)
    return f"({text})" if _level(e) < need else text


def print_expr(e: Expr) -> str:
    """TEL source text of an expression (one line)."""
    if isinstance(e, IntLit):
        return str(e.value)
    if isinstance(e, BoolLit):
        return "true" if e.value else "false"
    if isinstance(e, StrLit):
        return quote_string(e.value)
    if isinstance(e, BytesLit):
        return f'x"{e.value.hex()}"'
    if isinstance(e, UnitLit):
        return "()"
    if isinstance(e, Var):
        return e.name
    if isinstance(e, NoneE):
        return "None"
    if isinstance(e, SomeE):
        return f"Some({_p(e.value, 0)})"
    if isinstance(e, ListLit):
        return f"[{_args(e.items)}]"
    if isinstance(e, TupleLit):
        return f"({_args(e.items)})"
    if isinstance(e, Seq):
        return f"{_p(e.first, 2)}; {_p(e.second, 0)}"
    if isinstance(e, Let):
        ann = f": {print_type(e.type)}" if e.type is not None else ""
        return f"let {e.name}{ann} = {_p(e.value, 0)} in {_p(e.body, 0)}"
    if isinstance(e, If):
        return f"if {_p(e.cond, 0)} then {_p(e.then, 0)} else {_p(e.else_, 0)}"
    if isinstance(e, Lambda):
        return f"fn {_params(e.params)} => {_p(e.body, 0)}"
    if isinstance(e, Binary):
        level = BINARY_LEVELS[e.op]
        left_need = level + 1 if e.op in COMPARISONS else level
        return f"{_p(e.left, left_need)} {e.op} {_p(e.right, level + 1)}"
    if isinstance(e, Unary):
        operand = _p(e.operand, 8)
        if e.op == "-" and isinstance(e.operand, IntLit) and e.operand.value >= 0:
            operand = f"({operand})"  # `-5` would read back as the literal -5
        return f"{e.op}{operand}"
    if isinstance(e, Call):
        return f"{_p(e.func, 9)}({_args(e.args)})"
    if isinstance(e, Proj):
        return f"{_p(e.tuple, 9)}.{e.index}"
    if isinstance(e, Match):
        return (f"match {_p(e.scrutinee, 0)} {{ Some({e.some_name}) => {_p(e.some_body, 0)}, "
                f"None => {_p(e.none_body, 0)} }}")
    assert isinstance(e, Perform)
    return f"perform {e.effect}.{e.op}({_args(e.args)})"


def print_decl(d: Decl) -> str:
    """TEL source text of one declaration."""
    if isinstance(d, EffectDecl):
        ops = "; ".join(f"{o.name}{_params(o.params)} -> {print_type(o.ret)}" for o in d.ops)
        return f"effect {d.name} {{ {ops} }}" if ops else f"effect {d.name} {{ }}"
    assert isinstance(d, Def)
    return f"def {d.name}{_params(d.params)} -> {_ret_and_row(d.ret, d.effects)} =\n  " + _p(d.body, 0)


def print_module(m: Module) -> str:
    """TEL source text of a module, one declaration per paragraph."""
    return "\n\n".join(print_decl(d) for d in m.decls) + "\n"
