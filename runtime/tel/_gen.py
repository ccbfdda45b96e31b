"""A generator of well-typed TEL programs, for property tests and the simulator.

Generation is type-directed: `expr(t)` only builds expressions of type `t`
from the productions that yield `t`, so every program type-checks by
construction. Programs have helper definitions (plain, self-recursive and
mutually recursive pairs, pure or effectful) and a `main`. Every expression
node kind, builtin and prelude effect operation has a production; `Weights`
tilt the mix (swarm testing: vary the weights per run). Choices come from a `choose(n) -> int in [0, n)` callable,
so the same generator runs under hypothesis (`programs()`, which shrinks) or
under any seeded chooser (`generate(choose)`; `splitmix_chooser(seed)`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, TypeVar

from ._ast import (
    EXPR_KINDS, Binary, BoolLit, Decl, BytesLit, Call, Def, Expr, If, IntLit, Lambda, Let, ListLit,
    Match, Module, NoneE, Param, Perform, Proj, Seq, SomeE, StrLit, TList, TName, TOption,
    TTuple, TupleLit, Type, Unary, UnitLit, Var,
)
from ._builtins import BUILTINS, PRELUDE
from ._free import children
from ._printer import print_module

__all__ = [
    "Weights", "GenProgram", "generate", "programs", "splitmix_chooser", "Coverage",
    "coverage_of", "ALL_EFFECT_OPS", "SWARM_PROFILES", "seeded_programs",
]

INT, BOOL, STRING, BYTES, UNIT = (TName(n) for n in ("Int", "Bool", "String", "Bytes", "Unit"))
ALL_EFFECTS = frozenset(PRELUDE)
ALL_EFFECT_OPS: tuple[str, ...] = tuple(sorted(f"{e}.{o.name}" for e, d in PRELUDE.items() for o in d.ops))
_INTS = (0, 1, 2, 3, 5, 7, -1, -2, 10, 100, 2**62, 2**63 - 1, -(2**63), 255, 6, 4)
_STRS = ("", "a", "b", "hello", "é", 'q"uote', "back\\slash", "line\nbreak", "∑", "12", "-7", "😀")
_KEYS = ("a", "b", "c")

Choose = Callable[[int], int]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Weights:
    """Relative weights of production families (0 disables one)."""

    leaf: int = 6
    arith: int = 4
    compare: int = 3
    logic: int = 2
    binding: int = 3
    control: int = 3
    apply: int = 2
    collection: int = 4
    crypto: int = 2
    conversion: int = 2
    effect: int = 3
    call_def: int = 2
    proj: int = 1


#: swarm profiles: named weight mixes the tests cycle through
SWARM_PROFILES: dict[str, Weights] = {
    "mixed": Weights(),
    "collections": Weights(collection=9, apply=4, arith=2, effect=1),
    "effects": Weights(effect=9, control=5, binding=5, collection=2),
    "crypto_conv": Weights(crypto=7, conversion=7, compare=4, collection=2),
}


@dataclass(frozen=True)
class GenProgram:
    """A generated program: its module, source text, and entry definition `main() -> ret`."""

    module: Module
    source: str
    ret: Type
    entry: str = "main"


@dataclass
class _Helper:
    name: str
    params: tuple[Type, ...]
    ret: Type
    pure: bool
    recursive: bool = False


class _Gen:
    def __init__(self, choose: Choose, weights: Weights, max_depth: int) -> None:
        self.choose = choose
        self.w = weights
        self.max_depth = max_depth
        self.counter = 0
        self.helpers: list[_Helper] = []

    # ---------------------------------------------------------------- choices
    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[self.choose(len(seq))]

    def fresh(self, env: dict[str, Type]) -> str:
        if env and self.choose(6) == 0:  # sometimes shadow an existing name
            return self.pick(sorted(env))
        self.counter += 1
        return f"v{self.counter}"

    def typ(self, depth: int = 2) -> Type:
        k = self.choose(8 if depth > 0 else 5)
        if k < 5:
            return (INT, BOOL, STRING, BYTES, UNIT)[k]
        inner = self.typ(depth - 1)
        if k == 5:
            return TList(inner)
        if k == 6:
            return TOption(inner)
        return TTuple((inner, self.typ(depth - 1)))

    # ---------------------------------------------------------------- leaves
    def literal(self, t: Type) -> Expr:
        if t == INT:
            return IntLit(self.pick(_INTS))
        if t == BOOL:
            return BoolLit(self.choose(2) == 1)
        if t == STRING:
            return StrLit(self.pick(_STRS))
        if t == BYTES:
            n = (0, 1, 4, 8, 32, 64, 65)[self.choose(7)]
            return BytesLit(bytes((i * 37 + self.choose(256)) % 256 for i in range(n)))
        if t == UNIT:
            return UnitLit()
        if isinstance(t, TList):
            return ListLit(tuple(self.literal(t.elem) for _ in range(self.choose(4))))
        if isinstance(t, TOption):
            return NoneE() if self.choose(2) == 0 else SomeE(self.literal(t.elem))
        assert isinstance(t, TTuple)
        return TupleLit(tuple(self.literal(i) for i in t.items))

    def leaf(self, t: Type, env: dict[str, Type]) -> Expr:
        names = sorted(n for n, nt in env.items() if nt == t)
        if names and self.choose(2) == 0:
            return Var(self.pick(names))
        return self.literal(t)

    # ---------------------------------------------------------------- expressions
    def expr(self, t: Type, env: dict[str, Type], depth: int, pure: bool) -> Expr:
        if depth <= 0:
            return self.leaf(t, env)
        opts = self.options(t, env, depth - 1, pure)
        total = sum(w for w, _ in opts)
        k = self.choose(total)
        for w, make in opts:
            if k < w:
                return make()
            k -= w
        raise AssertionError("unreachable")

    def options(self, t: Type, env: dict[str, Type], d: int, pure: bool) -> list[tuple[int, Callable[[], Expr]]]:
        w = self.w
        def e(ty: Type, en: dict[str, Type] = env) -> Expr:
            return self.expr(ty, en, d, pure)
        opts: list[tuple[int, Callable[[], Expr]]] = [(w.leaf, lambda: self.leaf(t, env))]

        def let_() -> Expr:
            t2 = self.typ(1)
            name = self.fresh(env)
            ann = t2 if self.choose(3) == 0 else None
            return Let(name, ann, e(t2), self.expr(t, {**env, name: t2}, d, pure))

        def match_() -> Expr:
            t2 = self.typ(1)
            name = self.fresh(env)
            return Match(e(TOption(t2)), name, self.expr(t, {**env, name: t2}, d, pure), e(t))

        def apply_() -> Expr:
            ps = [(self.fresh({}), self.typ(1)) for _ in range(self.choose(3))]
            inner = {**env, **{n: pt for n, pt in ps}}
            lam = Lambda(tuple(Param(n, pt) for n, pt in ps), self.expr(t, inner, d, pure))
            args = tuple(e(pt) for _, pt in ps)
            if self.choose(2) == 0:
                return Call(lam, args)
            f = self.fresh({})  # never shadows: the arguments were built in the outer scope
            return Let(f, None, lam, Call(Var(f), args))

        def proj_() -> Expr:
            other = self.typ(1)
            if self.choose(2) == 0:
                return Proj(TupleLit((e(t), e(other))), 0)
            return Proj(TupleLit((e(other), e(t))), 1)

        def get_or_else_() -> Expr:
            return Call(Var("get_or_else"), (e(TOption(t)), e(t)))

        def fold_() -> Expr:
            a = self.typ(1)
            acc, x = self.fresh({}), self.fresh({})
            body = self.expr(t, {**env, acc: t, x: a}, d, pure)
            return Call(Var("fold"), (e(TList(a)), e(t), Lambda((Param(acc, t), Param(x, a)), body)))

        opts += [
            (w.binding, let_), (w.control, lambda: If(e(BOOL), e(t), e(t))),
            (w.control, match_), (w.control, lambda: Seq(e(self.typ(1)), e(t))),
            (w.apply, apply_), (w.proj, proj_), (w.collection, get_or_else_),
            (w.collection, fold_),
        ]
        helpers = [h for h in self.helpers if h.ret == t and (h.pure or not pure)]
        if helpers:
            def call_def() -> Expr:
                h = helpers[self.choose(len(helpers))]
                if h.recursive:
                    return Call(Var(h.name), (Binary("%", e(INT), IntLit(6)),))
                return Call(Var(h.name), tuple(e(p) for p in h.params))
            opts.append((w.call_def * 2, call_def))
        tuple_vars = sorted(n for n, nt in env.items() if isinstance(nt, TTuple) and t in nt.items)
        if tuple_vars:
            def proj_var() -> Expr:
                n = self.pick(tuple_vars)
                tt = env[n]
                assert isinstance(tt, TTuple)
                # through an annotated let: the checker needs the tuple's type where it projects,
                # and a variable bound by `match` on `None` may not have one yet
                y = self.fresh({})
                return Let(y, tt, Var(n), Proj(Var(y), tt.items.index(t)))
            opts.append((w.proj, proj_var))
        opts += self.typed_options(t, env, d, pure, e)
        return [(wt, mk) for wt, mk in opts if wt > 0]

    def typed_options(self, t: Type, env: dict[str, Type], d: int, pure: bool,
                      e: Callable[[Type], Expr]) -> list[tuple[int, Callable[[], Expr]]]:
        w = self.w
        def b(name: str, *args: Expr) -> Expr:
            return Call(Var(name), tuple(args))
        eff = 0 if pure else w.effect

        def pred(elem: Type) -> Lambda:
            x = self.fresh({})
            return Lambda((Param(x, elem),), self.expr(BOOL, {**env, x: elem}, d, pure))

        if t == INT:
            def seqlike() -> Expr:
                k = self.choose(3)
                return e((TList(self.typ(1)), STRING, BYTES)[k])
            return [
                (w.arith, lambda: Binary(self.pick(("+", "-", "*", "/", "%")), e(INT), e(INT))),
                (w.arith, lambda: Unary("-", e(INT))),
                (w.collection, lambda: b("size", seqlike())),
                (eff, lambda: Perform("Clock", "now", ())),
                (eff, lambda: Perform("Rand", "int", (IntLit(-3), IntLit(self.pick(_INTS[:10]) + 3)))),
            ]
        if t == BOOL:
            def eq() -> Expr:
                t2 = self.typ(1)
                return Binary(self.pick(("==", "!=")), e(t2), e(t2))
            return [
                (w.compare, lambda: Binary(self.pick(("<", "<=", ">", ">=")), e(INT), e(INT))),
                (w.compare, eq),
                (w.logic, lambda: Binary(self.pick(("&&", "||")), e(BOOL), e(BOOL))),
                (w.logic, lambda: Unary("!", e(BOOL))),
                (w.collection, lambda: self.quantifier(e, pred)),
            ]
        if t == STRING:
            return [
                (w.collection, lambda: Binary("++", e(STRING), e(STRING))),
                (w.collection, lambda: b("slice", e(STRING), e(INT), e(INT))),
                (w.conversion, lambda: b("int_to_string", e(INT))),
                (w.conversion, lambda: b("bytes_to_hex", e(BYTES))),
                (w.conversion, lambda: b("get_or_else", b("bytes_to_string", e(BYTES)), e(STRING))),
            ]
        if t == BYTES:
            return [
                (w.collection, lambda: Binary("++", e(BYTES), e(BYTES))),
                (w.collection, lambda: b("slice", e(BYTES), e(INT), e(INT))),
                (w.crypto, lambda: b("blake2b256", e(BYTES))),
                (w.crypto, lambda: b("sha256", e(BYTES))),
                (w.conversion, lambda: b("int_to_bytes", e(INT))),
                (w.conversion, lambda: b("string_to_bytes", e(STRING))),
                (eff, lambda: Perform("Rand", "bytes", (IntLit(self.choose(40)),))),
            ]
        if t == UNIT:
            return [
                (eff, lambda: Perform("Log", "emit", (e(STRING),))),
                (eff, lambda: Perform("Clock", "sleep", (IntLit(self.choose(1000)),))),
                (eff, lambda: Perform("KV", "put", (StrLit(self.pick(_KEYS)), e(BYTES)))),
            ]
        if isinstance(t, TList):
            a = t.elem

            def map_() -> Expr:
                src = self.typ(1)
                x = self.fresh({})
                return b("map", e(TList(src)), Lambda((Param(x, src),), self.expr(a, {**env, x: src}, d, pure)))
            opts: list[tuple[int, Callable[[], Expr]]] = [
                (w.collection, lambda: ListLit(tuple(e(a) for _ in range(self.choose(4))))),
                (w.collection, lambda: b("append", e(t), e(a))),
                (w.collection, lambda: b("slice", e(t), e(INT), e(INT))),
                (w.collection, map_),
                (w.collection, lambda: b("filter", e(t), pred(a))),
                (w.collection, lambda: Binary("++", e(t), e(t))),
            ]
            if a == INT:
                opts.append((w.collection, lambda: b("range", IntLit(self.choose(5) - 1), IntLit(self.choose(12)))))
            return opts
        if isinstance(t, TOption):
            a = t.elem
            opts = [
                (w.leaf, lambda: NoneE()), (w.leaf, lambda: SomeE(e(a))),
                (w.collection, lambda: b("get", e(TList(a)), e(INT))),
            ]
            if a == INT:
                opts += [(w.conversion, lambda: b("string_to_int", e(STRING))),
                         (w.conversion, lambda: b("bytes_to_int", e(BYTES)))]
            if a == STRING:
                opts.append((w.conversion, lambda: b("bytes_to_string", e(BYTES))))
            if a == BYTES:
                opts.append((eff, lambda: Perform("KV", "get", (StrLit(self.pick(_KEYS)),))))
            return opts
        assert isinstance(t, TTuple)
        return [(w.leaf, lambda: TupleLit(tuple(e(i) for i in t.items)))]

    def quantifier(self, e: Callable[[Type], Expr], pred: Callable[[Type], Lambda]) -> Expr:
        a = self.typ(1)
        return Call(Var(self.pick(("exists", "forall"))), (e(TList(a)), pred(a)))

    # ---------------------------------------------------------------- definitions
    def helper(self, index: int) -> list[Def]:
        pure = self.choose(3) == 0
        row = frozenset() if pure else ALL_EFFECTS
        kind = self.choose(4)
        if kind == 0:  # a mutually recursive pair (one cycle for the hasher)
            names = (f"ev{index}", f"od{index}")
            for nm in names:
                self.helpers.append(_Helper(nm, (INT,), INT, pure, recursive=True))
            defs = []
            for nm, other in (names, names[::-1]):
                base = self.expr(INT, {"n": INT}, 2, pure)
                step = self.expr(INT, {"n": INT, "r": INT}, 2, pure)
                body0: Expr = If(Binary("<=", Var("n"), IntLit(0)), base,
                                 Let("r", None, Call(Var(other), (Binary("-", Var("n"), IntLit(1)),)), step))
                defs.append(Def(nm, (Param("n", INT),), INT, row, body0))
            return defs
        if kind == 1:
            name = f"rec{index}"
            n, r = "n", "r"
            base = self.expr(INT, {n: INT}, 2, pure)
            self.helpers.append(_Helper(name, (INT,), INT, pure, recursive=True))
            step = self.expr(INT, {n: INT, r: INT}, 2, pure)
            body: Expr = If(Binary("<=", Var(n), IntLit(0)), base,
                      Let(r, None, Call(Var(name), (Binary("-", Var(n), IntLit(1)),)), step))
            return [Def(name, (Param(n, INT),), INT, row, body)]
        name = f"h{index}"
        params = tuple(Param(f"p{i}", self.typ(1)) for i in range(self.choose(3)))
        ret = self.typ(1)
        body = self.expr(ret, {p.name: p.type for p in params}, self.max_depth - 1, pure)
        self.helpers.append(_Helper(name, tuple(p.type for p in params), ret, pure))
        return [Def(name, params, ret, row, body)]

    def program(self) -> GenProgram:
        decls: list[Decl] = []
        for i in range(self.choose(3)):
            decls.extend(self.helper(i))
        ret = self.typ(2)
        body = self.expr(ret, {}, self.max_depth, False)
        decls.append(Def("main", (), ret, ALL_EFFECTS, body))
        module = Module(tuple(decls))
        return GenProgram(module, print_module(module), ret)


def generate(choose: Choose, weights: Weights = Weights(), max_depth: int = 4) -> GenProgram:
    """Generate one well-typed program from the choices `choose(n) -> [0, n)` makes."""
    return _Gen(choose, weights, max_depth).program()


def splitmix_chooser(seed: int) -> Choose:
    """A deterministic chooser from a 64-bit seed (SplitMix64), independent of `random`."""
    state = [seed & ((1 << 64) - 1)]

    def choose(n: int) -> int:
        state[0] = (state[0] + 0x9E3779B97F4A7C15) & ((1 << 64) - 1)
        z = state[0]
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & ((1 << 64) - 1)
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & ((1 << 64) - 1)
        return (z ^ (z >> 31)) % n
    return choose


def programs(weights: Weights | None = None, max_depth: int = 4) -> Any:
    """A hypothesis strategy of `GenProgram`s (swarm: random profile unless `weights` given)."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> GenProgram:
        w = weights if weights is not None else draw(st.sampled_from(list(SWARM_PROFILES.values())))
        return generate(lambda n: draw(st.integers(0, n - 1)) if n > 1 else 0, w, max_depth)
    return build()


def seeded_programs(weights: Weights | None = None, max_depth: int = 4) -> Any:
    """A hypothesis strategy of programs from one drawn 64-bit seed (fast; shrinks the seed only).

    A failure reports the seed; `generate(splitmix_chooser(seed), weights)`
    rebuilds the program anywhere, e.g. in the simulator.
    """
    from hypothesis import strategies as st

    profiles = list(SWARM_PROFILES.values())

    def build(seed: int) -> GenProgram:
        w = weights if weights is not None else profiles[seed % len(profiles)]
        return generate(splitmix_chooser(seed), w, max_depth)
    return st.integers(0, 2**64 - 1).map(build)


@dataclass
class Coverage:
    """Counts of expression node kinds, builtins and effect operations seen in programs."""

    nodes: Counter[str] = field(default_factory=Counter)
    builtins: Counter[str] = field(default_factory=Counter)
    effects: Counter[str] = field(default_factory=Counter)

    def add(self, module: Module) -> None:
        """Count every node of every definition of `module`."""
        for d in module.decls:
            if isinstance(d, Def):
                self._walk(d.body)

    def _walk(self, e: Expr) -> None:
        self.nodes[type(e).__name__] += 1
        if isinstance(e, Call) and isinstance(e.func, Var) and e.func.name in BUILTINS:
            self.builtins[e.func.name] += 1
        if isinstance(e, Perform):
            self.effects[f"{e.effect}.{e.op}"] += 1
        for c in children(e):
            self._walk(c)

    def missing(self) -> dict[str, list[str]]:
        """What has not been seen yet, by category."""
        return {
            "nodes": [k for k in EXPR_KINDS if not self.nodes[k]],
            "builtins": [k for k in BUILTINS if not self.builtins[k]],
            "effects": [k for k in ALL_EFFECT_OPS if not self.effects[k]],
        }

    def report(self) -> dict[str, object]:
        """A JSON-ready summary: fraction covered per category and what is missing."""
        miss = self.missing()
        return {
            "nodes": f"{len(EXPR_KINDS) - len(miss['nodes'])}/{len(EXPR_KINDS)}",
            "builtins": f"{len(BUILTINS) - len(miss['builtins'])}/{len(BUILTINS)}",
            "effects": f"{len(ALL_EFFECT_OPS) - len(miss['effects'])}/{len(ALL_EFFECT_OPS)}",
            "missing": miss,
            "rarest": {
                "nodes": min(((self.nodes[k], k) for k in EXPR_KINDS), default=(0, "")),
                "builtins": min(((self.builtins[k], k) for k in BUILTINS), default=(0, "")),
                "effects": min(((self.effects[k], k) for k in ALL_EFFECT_OPS), default=(0, "")),
            },
        }


def coverage_of(module: Module) -> Coverage:
    """Coverage of one module."""
    c = Coverage()
    c.add(module)
    return c


