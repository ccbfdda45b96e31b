"""The type of every expression of a checked module, as the type checker inferred it.

The compiler needs static types where a value's shape is not visible from
the expression itself (the items of `[]`, the operands of `==`, what a
builtin returns), so it re-runs the checker over each definition and keeps
the inferred type of every node, keyed by the node's identity. A type
variable left unsolved (the items of a list that is always empty) becomes
`UNKNOWN`; code for such a type is never reached at run time.
"""

from __future__ import annotations

from typing import Any

from .._ast import Expr, TFn, TList, TName, TOption, TTuple, Type
from .._types import CheckedModule, TVar, _Checker

__all__ = ["UNKNOWN", "expr_types", "known"]

#: a type the checker left open (no value of it exists at run time)
UNKNOWN = TName("?")


class _Recorder(_Checker):
    seen: list[tuple[Expr, Any]]

    def infer(self, e: Expr, env: dict[str, Any]) -> Any:
        t = super().infer(e, env)
        self.seen.append((e, t))
        return t


def _close(t: Any) -> Type:
    if isinstance(t, TVar):
        return UNKNOWN
    if isinstance(t, TList):
        return TList(_close(t.elem))
    if isinstance(t, TOption):
        return TOption(_close(t.elem))
    if isinstance(t, TTuple):
        return TTuple(tuple(_close(i) for i in t.items))
    if isinstance(t, TFn):
        return TFn(tuple(_close(p) for p in t.params), _close(t.ret), t.effects)
    assert isinstance(t, TName)
    return t


def expr_types(checked: CheckedModule) -> dict[int, Type]:
    """id(node) -> its inferred type, for every expression node of every definition.

    A node object that occurs twice with different types (possible only in
    a hand-built AST) maps to `UNKNOWN`, so the compiler refuses it rather
    than guess.
    """
    rec = _Recorder(checked.effects, checked.def_types, [])
    rec.seen = []
    for d in checked.defs.values():
        rec.rows = [set()]
        body = rec.infer(d.body, {p.name: p.type for p in d.params})
        rec.expect(body, d.ret, d.body.loc, "body", rows="sub")
        rec.finish()
    out: dict[int, Type] = {}
    for e, t in rec.seen:
        ty = _close(rec.zonk(t))
        prev = out.get(id(e))
        out[id(e)] = ty if prev is None or prev == ty else UNKNOWN
    return out


def known(t: Type) -> bool:
    """Whether `t` has no open part."""
    if isinstance(t, TName):
        return t.name != "?"
    if isinstance(t, (TList, TOption)):
        return known(t.elem)
    if isinstance(t, TTuple):
        return all(known(i) for i in t.items)
    assert isinstance(t, TFn)
    return all(known(p) for p in t.params) and known(t.ret)
