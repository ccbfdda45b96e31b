"""Free variables of TEL expressions (used for closure capture and canonical forms)."""

from __future__ import annotations

from ._ast import (
    Binary, Call, Expr, If, Lambda, Let, ListLit, Match, Perform, Proj, Seq, SomeE, TupleLit,
    Unary, Var,
)

__all__ = ["free_vars", "children"]


def children(e: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of `e`, in evaluation order."""
    if isinstance(e, (ListLit, TupleLit)):
        return e.items
    if isinstance(e, Unary):
        return (e.operand,)
    if isinstance(e, Binary):
        return (e.left, e.right)
    if isinstance(e, If):
        return (e.cond, e.then, e.else_)
    if isinstance(e, Let):
        return (e.value, e.body)
    if isinstance(e, Lambda):
        return (e.body,)
    if isinstance(e, Call):
        return (e.func, *e.args)
    if isinstance(e, Match):
        return (e.scrutinee, e.some_body, e.none_body)
    if isinstance(e, Seq):
        return (e.first, e.second)
    if isinstance(e, Perform):
        return e.args
    if isinstance(e, SomeE):
        return (e.value,)
    if isinstance(e, Proj):
        return (e.tuple,)
    return ()


def free_vars(e: Expr) -> set[str]:
    """Names used in `e` and not bound inside it (locals, definitions and builtins alike)."""
    if isinstance(e, Var):
        return {e.name}
    if isinstance(e, Let):
        return free_vars(e.value) | (free_vars(e.body) - {e.name})
    if isinstance(e, Lambda):
        return free_vars(e.body) - {p.name for p in e.params}
    if isinstance(e, Match):
        return (free_vars(e.scrutinee) | (free_vars(e.some_body) - {e.some_name})
                | free_vars(e.none_body))
    out: set[str] = set()
    for c in children(e):
        out |= free_vars(c)
    return out
