"""Free variables of TEL expressions (used for closure capture and canonical forms)."""

from __future__ import annotations

from ._ast import (
    Binary, BoolLit, BytesLit, Call, Expr, If, IntLit, Lambda, Let, ListLit, Match, NoneE, Perform,
    Proj, Seq, SomeE, StrLit, TupleLit, Unary, UnitLit, Var,
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
    out: set[str] = set()
    _collect(e, _NOTHING, out)
    return out


_NOTHING: frozenset[str] = frozenset()
_LEAVES = (IntLit, BoolLit, StrLit, BytesLit, UnitLit, NoneE)


def _collect(e: Expr, bound: frozenset[str], out: set[str]) -> None:
    """Add to `out` the names used in `e` that are bound neither in `e` nor by `bound`.

    Dispatches on the exact node class (cheaper than a chain of isinstance
    tests); any other class, e.g. a subclass, goes through `_free_slow`.
    """
    t = type(e)
    if t is Var:
        name = e.name  # type: ignore[union-attr]
        if name not in bound:
            out.add(name)
    elif t is Binary:
        _collect(e.left, bound, out)  # type: ignore[union-attr]
        _collect(e.right, bound, out)  # type: ignore[union-attr]
    elif t is Call:
        _collect(e.func, bound, out)  # type: ignore[union-attr]
        for a in e.args:  # type: ignore[union-attr]
            _collect(a, bound, out)
    elif t in _LEAVES:
        pass
    elif t is Let:
        _collect(e.value, bound, out)  # type: ignore[union-attr, arg-type]
        _collect(e.body, bound | {e.name}, out)  # type: ignore[union-attr]
    elif t is Lambda:
        _collect(e.body, bound.union([p.name for p in e.params]), out)  # type: ignore[union-attr]
    elif t is Match:
        _collect(e.scrutinee, bound, out)  # type: ignore[union-attr]
        _collect(e.some_body, bound | {e.some_name}, out)  # type: ignore[union-attr]
        _collect(e.none_body, bound, out)  # type: ignore[union-attr]
    elif t in _PLAIN:
        for c in children(e):
            _collect(c, bound, out)
    else:
        out.update(n for n in _free_slow(e) if n not in bound)


_PLAIN = (ListLit, TupleLit, Unary, If, Seq, Perform, SomeE, Proj)


def _free_slow(e: Expr) -> set[str]:
    """`free_vars` by isinstance tests (the reference definition; any node class)."""
    if isinstance(e, Var):
        return {e.name}
    if isinstance(e, Let):
        return _free_slow(e.value) | (_free_slow(e.body) - {e.name})
    if isinstance(e, Lambda):
        return _free_slow(e.body) - {p.name for p in e.params}
    if isinstance(e, Match):
        return (_free_slow(e.scrutinee) | (_free_slow(e.some_body) - {e.some_name})
                | _free_slow(e.none_body))
    out: set[str] = set()
    for c in children(e):
        out |= _free_slow(c)
    return out
