"""TEL's type and effect checker: local inference with unification, checked effect rows.

Definitions are monomorphic and fully annotated; inside bodies, types of
`let`s, lambda results, `None` and `[]` are inferred by unification.
Builtins are polymorphic (fresh type variables at each call). A function type
carries an effect row; a value of type `Fn(..) -> T ! {E}` may be used where
`Fn(..) -> T ! {F}` is expected when E is a subset of F. Every definition's
body may perform only the effects in its row (directly, by calling
definitions, or by calling function values). Errors are collected, not
thrown one by one: `check_module` reports all it finds in one `TelTypeError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from ._ast import (
    Binary, BoolLit, BytesLit, Call, Def, EffectDecl, Expr, If, IntLit, Lambda, Let, ListLit,
    Match, Module, NoneE, Perform, Proj, Seq, SomeE, StrLit, TFn, TList, TName, TOption, TTuple,
    TupleLit, Type, Unary, UnitLit, Var,
)
from ._builtins import BUILTINS, PRELUDE
from ._errors import Loc, TelTypeError, TypeDiagnostic
from ._parser import COMPARISONS
from ._printer import print_type

__all__ = ["CheckedModule", "check_module", "check_expr", "show_type"]

INT, BOOL, STRING, BYTES, UNIT = (TName(n) for n in ("Int", "Bool", "String", "Bytes", "Unit"))


@dataclass(frozen=True, slots=True)
class TVar:
    """A unification variable (internal to the checker)."""

    id: int


T = Union[Type, TVar]


@dataclass
class CheckedModule:
    """A module that type-checked: its definitions, their types and the effects in scope."""

    module: Module
    defs: dict[str, Def]
    def_types: dict[str, TFn]
    effects: dict[str, EffectDecl]
    source: str | None = None


def show_type(t: object) -> str:
    """A type as TEL source (`?N` for a type not yet inferred)."""
    if isinstance(t, TVar):
        return f"?{t.id}"
    if isinstance(t, TList):
        return f"List[{show_type(t.elem)}]"
    if isinstance(t, TOption):
        return f"Option[{show_type(t.elem)}]"
    if isinstance(t, TTuple):
        return "(" + ", ".join(show_type(i) for i in t.items) + ")"
    if isinstance(t, TFn):
        row = " ! {" + ", ".join(sorted(t.effects)) + "}" if t.effects else ""
        return "Fn(" + ", ".join(show_type(p) for p in t.params) + f") -> {show_type(t.ret)}{row}"
    assert isinstance(t, TName)
    return print_type(t)


class _Mismatch(Exception):
    pass


@dataclass
class _Checker:
    effects: dict[str, EffectDecl]
    def_types: dict[str, TFn]
    diags: list[TypeDiagnostic] = field(default_factory=list)
    subst: dict[int, T] = field(default_factory=dict)
    next_var: int = 0
    rows: list[set[str]] = field(default_factory=list)
    #: (type, loc, what) that must turn out to be List[T], String or Bytes (checked by `finish`)
    sequences: list[tuple[T, Loc, str]] = field(default_factory=list)

    def finish(self) -> None:
        """Check the deferred sequence constraints of `size`, `slice` and `++`."""
        for t, loc, what in self.sequences:
            r = self.find(t)
            if not (isinstance(r, (TList, TVar)) or r in (STRING, BYTES)):
                self.diags.append(TypeDiagnostic(loc, what, "List[T], String or Bytes", show_type(self.zonk(r))))
        self.sequences = []

    # ------------------------------------------------------------ unification
    def fresh(self) -> TVar:
        self.next_var += 1
        return TVar(self.next_var)

    def find(self, t: T) -> T:
        while isinstance(t, TVar) and t.id in self.subst:
            t = self.subst[t.id]
        return t

    def zonk(self, t: T) -> T:
        t = self.find(t)
        if isinstance(t, TList):
            return TList(self.zonk(t.elem))  # type: ignore[arg-type]
        if isinstance(t, TOption):
            return TOption(self.zonk(t.elem))  # type: ignore[arg-type]
        if isinstance(t, TTuple):
            return TTuple(tuple(self.zonk(i) for i in t.items))  # type: ignore[misc]
        if isinstance(t, TFn):
            return TFn(tuple(self.zonk(p) for p in t.params), self.zonk(t.ret), t.effects)  # type: ignore[misc, arg-type]
        return t

    def occurs(self, v: TVar, t: T) -> bool:
        t = self.find(t)
        if isinstance(t, TVar):
            return t.id == v.id
        if isinstance(t, (TList, TOption)):
            return self.occurs(v, t.elem)
        if isinstance(t, TTuple):
            return any(self.occurs(v, i) for i in t.items)
        if isinstance(t, TFn):
            return any(self.occurs(v, p) for p in t.params) or self.occurs(v, t.ret)
        return False

    def unify(self, actual: T, expected: T, rows: str = "equal") -> None:
        """Make `actual` and `expected` equal. rows: 'equal', 'sub' (actual ⊆ expected), 'any'."""
        a, e = self.find(actual), self.find(expected)
        if a is e:  # e.g. Int against Int: nothing to do
            return
        if isinstance(a, TVar) or isinstance(e, TVar):
            if a == e:
                return
            v, t = (a, e) if isinstance(a, TVar) else (e, a)
            assert isinstance(v, TVar)
            if self.occurs(v, t):
                raise _Mismatch
            self.subst[v.id] = t
            return
        if isinstance(a, TName) and isinstance(e, TName):
            if a.name != e.name:
                raise _Mismatch
        elif isinstance(a, TList) and isinstance(e, TList):
            self.unify(a.elem, e.elem, rows)
        elif isinstance(a, TOption) and isinstance(e, TOption):
            self.unify(a.elem, e.elem, rows)
        elif isinstance(a, TTuple) and isinstance(e, TTuple) and len(a.items) == len(e.items):
            for x, y in zip(a.items, e.items):
                self.unify(x, y, rows)
        elif isinstance(a, TFn) and isinstance(e, TFn) and len(a.params) == len(e.params):
            for x, y in zip(a.params, e.params):
                self.unify(x, y, "equal" if rows == "sub" else rows)
            self.unify(a.ret, e.ret, rows)
            if rows == "equal" and a.effects != e.effects:
                raise _Mismatch
            if rows == "sub" and not a.effects <= e.effects:
                raise _Mismatch
        else:
            raise _Mismatch

    def expect(self, actual: T, expected: T, loc: Loc, what: str, rows: str = "equal") -> None:
        try:
            self.unify(actual, expected, rows)
        except _Mismatch:
            self.error(loc, f"type mismatch in {what}", expected, actual)

    def error(self, loc: Loc, message: str, expected: T | None = None, actual: T | None = None) -> None:
        exp = None if expected is None else show_type(self.zonk(expected))
        act = None if actual is None else show_type(self.zonk(actual))
        self.diags.append(TypeDiagnostic(loc, message, exp, act))

    def perform(self, effects: frozenset[str]) -> None:
        if self.rows:
            self.rows[-1].update(effects)

    # ------------------------------------------------------------ inference
    def infer(self, e: Expr, env: dict[str, T]) -> T:
        t0 = type(e)  # the commonest exact classes first; then the general chain
        if t0 is Var:
            name = e.name  # type: ignore[union-attr]
            if name in env:
                return env[name]
            if name in self.def_types:
                return self.def_types[name]
        elif t0 is Binary:
            return self.binary(e, env)  # type: ignore[arg-type]
        elif t0 is Call:
            return self.call(e, env)  # type: ignore[arg-type]
        elif t0 is IntLit:
            return INT
        if isinstance(e, IntLit):
            return INT
        if isinstance(e, BoolLit):
            return BOOL
        if isinstance(e, StrLit):
            return STRING
        if isinstance(e, BytesLit):
            return BYTES
        if isinstance(e, UnitLit):
            return UNIT
        if isinstance(e, Var):
            if e.name in env:
                return env[e.name]
            if e.name in self.def_types:
                return self.def_types[e.name]
            if e.name in BUILTINS:
                self.error(e.loc, f"builtin {e.name!r} must be called directly, not used as a value")
            else:
                self.error(e.loc, f"unknown name {e.name!r}")
            return self.fresh()
        if isinstance(e, NoneE):
            return TOption(self.fresh())  # type: ignore[arg-type]
        if isinstance(e, SomeE):
            return TOption(self.infer(e.value, env))  # type: ignore[arg-type]
        if isinstance(e, ListLit):
            elem = self.fresh()
            for item in e.items:
                self.expect(self.infer(item, env), elem, item.loc, "list item")
            return TList(elem)  # type: ignore[arg-type]
        if isinstance(e, TupleLit):
            return TTuple(tuple(self.infer(i, env) for i in e.items))  # type: ignore[misc]
        if isinstance(e, Proj):
            t = self.find(self.infer(e.tuple, env))
            if isinstance(t, TTuple) and 0 <= e.index < len(t.items):
                return t.items[e.index]
            if isinstance(t, TTuple):
                self.error(e.loc, f"tuple index {e.index} out of range for {show_type(t)}")
            elif not isinstance(t, TVar):
                self.error(e.loc, "projection of a non-tuple", None, None)
                self.diags[-1] = TypeDiagnostic(e.loc, "projection of a non-tuple", "a tuple", show_type(self.zonk(t)))
            else:
                self.error(e.loc, "the tuple's type must be known here (add an annotation)")
            return self.fresh()
        if isinstance(e, Unary):
            t = self.infer(e.operand, env)
            want = INT if e.op == "-" else BOOL
            self.expect(t, want, e.operand.loc, f"operand of {e.op!r}")
            return want
        if isinstance(e, Binary):
            return self.binary(e, env)
        if isinstance(e, If):
            self.expect(self.infer(e.cond, env), BOOL, e.cond.loc, "if condition")
            t = self.infer(e.then, env)
            self.expect(self.infer(e.else_, env), t, e.else_.loc, "else branch (must match then)")
            return t
        if isinstance(e, Let):
            t = self.infer(e.value, env)
            if e.type is not None:
                self.expect(t, e.type, e.value.loc, f"let {e.name}", rows="sub")
                t = e.type
            return self.infer(e.body, {**env, e.name: t})
        if isinstance(e, Lambda):
            inner = dict(env)
            for p in e.params:
                inner[p.name] = p.type
            self.rows.append(set())
            ret = self.infer(e.body, inner)
            row = frozenset(self.rows.pop())
            return TFn(tuple(p.type for p in e.params), ret, row)  # type: ignore[arg-type]
        if isinstance(e, Call):
            return self.call(e, env)
        if isinstance(e, Match):
            elem = self.fresh()
            self.expect(self.infer(e.scrutinee, env), TOption(elem), e.scrutinee.loc, "match scrutinee")  # type: ignore[arg-type]
            t = self.infer(e.some_body, {**env, e.some_name: elem})
            self.expect(self.infer(e.none_body, env), t, e.none_body.loc, "None arm (must match Some arm)")
            return t
        if isinstance(e, Seq):
            self.infer(e.first, env)
            return self.infer(e.second, env)
        assert isinstance(e, Perform)
        decl = self.effects.get(e.effect)
        op = None if decl is None else next((o for o in decl.ops if o.name == e.op), None)
        arg_types = [self.infer(a, env) for a in e.args]
        if decl is None:
            self.error(e.loc, f"unknown effect {e.effect!r}")
            return self.fresh()
        if op is None:
            self.error(e.loc, f"effect {e.effect} has no operation {e.op!r}")
            return self.fresh()
        if len(e.args) != len(op.params):
            self.error(e.loc, f"{e.effect}.{e.op} takes {len(op.params)} argument(s), got {len(e.args)}")
        for a, t, p in zip(e.args, arg_types, op.params):
            self.expect(t, p.type, a.loc, f"argument {p.name!r} of {e.effect}.{e.op}", rows="sub")
        self.perform(frozenset({e.effect}))
        return op.ret

    def binary(self, e: Binary, env: dict[str, T]) -> T:
        lt, rt = self.infer(e.left, env), self.infer(e.right, env)
        if e.op in ("&&", "||"):
            self.expect(lt, BOOL, e.left.loc, f"left operand of {e.op!r}")
            self.expect(rt, BOOL, e.right.loc, f"right operand of {e.op!r}")
            return BOOL
        if e.op in ("==", "!="):
            self.expect(rt, lt, e.right.loc, f"right operand of {e.op!r} (must match the left)")
            if self.has_fn(lt):
                self.error(e.loc, f"functions cannot be compared with {e.op!r}")
            return BOOL
        if e.op == "++":
            self.expect(rt, lt, e.right.loc, "right operand of '++' (must match the left)")
            self.sequences.append((lt, e.left.loc, "operand of '++'"))
            return lt
        self.expect(lt, INT, e.left.loc, f"left operand of {e.op!r}")
        self.expect(rt, INT, e.right.loc, f"right operand of {e.op!r}")
        return BOOL if e.op in COMPARISONS else INT

    def has_fn(self, t: T) -> bool:
        t = self.find(t)
        if isinstance(t, TFn):
            return True
        if isinstance(t, (TList, TOption)):
            return self.has_fn(t.elem)
        if isinstance(t, TTuple):
            return any(self.has_fn(i) for i in t.items)
        return False

    def call(self, e: Call, env: dict[str, T]) -> T:
        f = e.func
        if isinstance(f, Var) and f.name not in env and f.name not in self.def_types and f.name in BUILTINS:
            return self.builtin(f.name, e, [self.infer(a, env) for a in e.args])
        ft = self.find(self.infer(f, env))
        arg_types = [self.infer(a, env) for a in e.args]
        if isinstance(ft, TVar):
            ret = self.fresh()
            self.expect(ft, TFn(tuple(arg_types), ret), f.loc, "call")  # type: ignore[arg-type]
            return ret
        if not isinstance(ft, TFn):
            self.diags.append(TypeDiagnostic(f.loc, "call of a non-function", "a function", show_type(self.zonk(ft))))
            return self.fresh()
        if len(arg_types) != len(ft.params):
            self.error(e.loc, f"call takes {len(ft.params)} argument(s), got {len(arg_types)}")
        for i, (a, t, p) in enumerate(zip(e.args, arg_types, ft.params)):
            self.expect(t, p, a.loc, f"argument {i + 1}", rows="sub")
        self.perform(ft.effects)
        return ft.ret

    def builtin(self, name: str, e: Call, args: list[T]) -> T:
        if len(args) != BUILTINS[name]:
            self.error(e.loc, f"builtin {name} takes {BUILTINS[name]} argument(s), got {len(args)}")
            return self.fresh()
        a, b = self.fresh(), self.fresh()
        la, oa = TList(a), TOption(a)  # type: ignore[arg-type]
        locs = [x.loc for x in e.args]

        def arg(i: int, want: T, rows: str = "equal") -> None:
            self.expect(args[i], want, locs[i], f"argument {i + 1} of {name}", rows)

        def fn_arg(i: int, params: tuple[T, ...], ret: T) -> None:
            t = self.find(args[i])
            arg(i, TFn(params, ret), rows="any")  # type: ignore[arg-type]
            if isinstance(t, TFn):
                self.perform(t.effects)

        if name in ("size", "slice"):
            # overloaded on List[T], String and Bytes; checked once the type is known
            self.sequences.append((args[0], locs[0], f"argument 1 of {name}"))
            if name == "size":
                return INT
            arg(1, INT)
            arg(2, INT)
            return args[0]
        if name == "get":
            arg(0, la); arg(1, INT)  # noqa: E702
            return oa
        if name == "get_or_else":
            arg(0, oa); arg(1, a)  # noqa: E702
            return a
        if name == "append":
            arg(0, la); arg(1, a)  # noqa: E702
            return la
        if name == "range":
            arg(0, INT); arg(1, INT)  # noqa: E702
            return TList(INT)
        if name == "map":
            arg(0, la); fn_arg(1, (a,), b)  # noqa: E702
            return TList(b)  # type: ignore[arg-type]
        if name in ("filter", "exists", "forall"):
            arg(0, la); fn_arg(1, (a,), BOOL)  # noqa: E702
            return la if name == "filter" else BOOL
        if name == "fold":
            arg(0, la); arg(1, b); fn_arg(2, (b, a), b)  # noqa: E702
            return b
        sig: dict[str, tuple[T, T]] = {
            "blake2b256": (BYTES, BYTES), "sha256": (BYTES, BYTES),
            "int_to_string": (INT, STRING), "string_to_int": (STRING, TOption(INT)),
            "int_to_bytes": (INT, BYTES), "bytes_to_int": (BYTES, TOption(INT)),
            "string_to_bytes": (STRING, BYTES), "bytes_to_string": (BYTES, TOption(STRING)),
            "bytes_to_hex": (BYTES, STRING),
        }
        param, ret = sig[name]
        arg(0, param)
        return ret


def _effect_table(module: Module, diags: list[TypeDiagnostic]) -> dict[str, EffectDecl]:
    effects = dict(PRELUDE)
    seen: set[str] = set()
    for d in module.decls:
        if not isinstance(d, EffectDecl):
            continue
        if d.name in seen:
            diags.append(TypeDiagnostic(d.loc, f"effect {d.name!r} is declared twice"))
        seen.add(d.name)
        if d.name in PRELUDE and d != PRELUDE[d.name]:
            diags.append(TypeDiagnostic(d.loc, f"effect {d.name!r} differs from the prelude's declaration"))
            continue
        ops = [o.name for o in d.ops]
        if len(set(ops)) != len(ops):
            diags.append(TypeDiagnostic(d.loc, f"effect {d.name!r} declares an operation twice"))
        effects[d.name] = d
    return effects


def check_module(module: Module, source: str | None = None) -> CheckedModule:
    """Type- and effect-check every definition; raise one `TelTypeError` listing all errors."""
    diags: list[TypeDiagnostic] = []
    effects = _effect_table(module, diags)
    defs: dict[str, Def] = {}
    for d in module.decls:
        if isinstance(d, Def):
            if d.name in defs:
                diags.append(TypeDiagnostic(d.loc, f"definition {d.name!r} is defined twice"))
            elif d.name in BUILTINS:
                diags.append(TypeDiagnostic(d.loc, f"definition {d.name!r} has the name of a builtin"))
            defs[d.name] = d
            for eff in sorted(d.effects):
                if eff not in effects:
                    diags.append(TypeDiagnostic(d.loc, f"unknown effect {eff!r} in the row of {d.name!r}"))
    def_types = {n: TFn(tuple(p.type for p in d.params), d.ret, d.effects) for n, d in defs.items()}
    checker = _Checker(effects, def_types, diags)
    for d in defs.values():
        names = [p.name for p in d.params]
        if len(set(names)) != len(names):
            diags.append(TypeDiagnostic(d.loc, f"{d.name!r} has two parameters with the same name"))
        checker.rows = [set()]
        body = checker.infer(d.body, {p.name: p.type for p in d.params})
        checker.expect(body, d.ret, d.body.loc, f"the body of {d.name!r}", rows="sub")
        checker.finish()
        extra = checker.rows[0] - d.effects
        for eff in sorted(extra):
            diags.append(TypeDiagnostic(
                d.loc, f"{d.name!r} performs effect {eff} outside its row",
                "{" + ", ".join(sorted(d.effects)) + "}",
                "{" + ", ".join(sorted(checker.rows[0])) + "}"))
    if diags:
        raise TelTypeError(diags, source)
    return CheckedModule(module, defs, def_types, effects, source)


def check_expr(checked: CheckedModule, expr: Expr, env: dict[str, Type] | None = None,
               allowed: frozenset[str] | None = None,
               source: str | None = None) -> tuple[Type, frozenset[str]]:
    """Type of `expr` in the scope of `checked` (plus `env`) and the effects it may perform.

    With `allowed` given, performing an effect outside it is a type error.
    """
    checker = _Checker(checked.effects, checked.def_types)
    checker.rows = [set()]
    t = checker.zonk(checker.infer(expr, dict(env or {})))
    checker.finish()
    row = frozenset(checker.rows[0])
    if allowed is not None and not row <= allowed:
        checker.error(expr.loc, "expression performs effects outside the allowed row")
    if checker.diags:
        raise TelTypeError(checker.diags, source)
    return t, row  # type: ignore[return-value]
