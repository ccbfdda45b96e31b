"""Test helper: alpha-rename every local and every definition of a module."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from stele.tel._ast import (
    Binary, Call, Def, Expr, If, Lambda, Let, ListLit, Match, Module, Param, Perform, Proj,
    Seq, SomeE, TupleLit, Unary, Var,
)


def rename_module(m: Module, def_name: Callable[[str], str], prefix: str = "r") -> Module:
    """Rename definitions by `def_name` and give every local binder a fresh name."""
    defs = m.defs
    counter = [0]

    def fresh() -> str:
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def ex(e: Expr, env: dict[str, str]) -> Expr:
        if isinstance(e, Var):
            if e.name in env:
                return Var(env[e.name])
            if e.name in defs:
                return Var(def_name(e.name))
            return e
        if isinstance(e, Let):
            n = fresh()
            return Let(n, e.type, ex(e.value, env), ex(e.body, {**env, e.name: n}))
        if isinstance(e, Lambda):
            names = [fresh() for _ in e.params]
            inner = {**env, **{p.name: n for p, n in zip(e.params, names)}}
            return Lambda(tuple(Param(n, p.type) for p, n in zip(e.params, names)), ex(e.body, inner))
        if isinstance(e, Match):
            n = fresh()
            return Match(ex(e.scrutinee, env), n, ex(e.some_body, {**env, e.some_name: n}),
                         ex(e.none_body, env))
        if isinstance(e, (ListLit, TupleLit)):
            return replace(e, items=tuple(ex(i, env) for i in e.items))
        if isinstance(e, Unary):
            return replace(e, operand=ex(e.operand, env))
        if isinstance(e, Binary):
            return replace(e, left=ex(e.left, env), right=ex(e.right, env))
        if isinstance(e, If):
            return If(ex(e.cond, env), ex(e.then, env), ex(e.else_, env))
        if isinstance(e, Call):
            return Call(ex(e.func, env), tuple(ex(a, env) for a in e.args))
        if isinstance(e, Seq):
            return Seq(ex(e.first, env), ex(e.second, env))
        if isinstance(e, Perform):
            return replace(e, args=tuple(ex(a, env) for a in e.args))
        if isinstance(e, SomeE):
            return SomeE(ex(e.value, env))
        if isinstance(e, Proj):
            return replace(e, tuple=ex(e.tuple, env))
        return e

    decls = []
    for d in m.decls:
        if isinstance(d, Def):
            names = [fresh() for _ in d.params]
            env = {p.name: n for p, n in zip(d.params, names)}
            decls.append(Def(def_name(d.name), tuple(Param(n, p.type) for p, n in zip(d.params, names)),
                             d.ret, d.effects, ex(d.body, env)))
        else:
            decls.append(d)
    return Module(tuple(decls))
