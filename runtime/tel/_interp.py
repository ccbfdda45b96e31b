"""The reference interpreter: checked TEL compiled to Python closures, with exact metering.

Every expression node becomes a closure `ev(frame) -> value` that first charges
its cost (stopping *before* the limit would be passed) and then does its work.
Operands that are variables or literals of a binary operator are fused into
the operator's closure and charged together with it at the operator's entry:
they cannot fail or have effects, so the total cost, the value and the point
at which a limit stops a run do not change, only the number of Python calls.

Locals live in one flat frame (a list) per function call; a lambda copies the
values it captures into its closure when it is created. Ints trap outside
signed 64 bits; `/` truncates toward zero and `%` takes the dividend's sign
(`MIN / -1` overflows). Calls nest up to `Limits.depth`.

Effects go to a plain callable `EffectHandler(effect, op, args) -> value`; its
reply is checked against the operation's declared type. For asynchronous hosts,
`evaluate_async` re-runs the (deterministic) program, replaying the replies
recorded so far, each time it needs a new one -- Temporal's workflow-replay
model; its cost is quadratic in the number of effects, its semantics identical.
"""

from __future__ import annotations

import sys
from types import CodeType
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Protocol, Sequence

from ._ast import (
    Binary, BoolLit, BytesLit, Call, Def, Expr, If, IntLit, Lambda, Let, ListLit, Match, NoneE,
    Perform, Proj, Seq, SomeE, StrLit, TupleLit, Type, Unary, UnitLit, Var,
)
from ._builtin_impl import IMPLS, Machine, alloc, charge, fuel_left, out_of_fuel, size_of
from ._builtins import BUILTINS
from ._compile import JitModule, JitUnsupported, compile_module
from ._cost import COST_TABLE, CostTable, Limits
from ._errors import (
    CostLimitExceeded, DepthLimitExceeded, DivisionByZero, EffectError, IntegerOverflow, Loc, TelError,
    TelRuntimeError,
)
from ._free import free_vars
from ._measure import MAX_VALUE_DEPTH, ValueTooDeep, ValueTooLarge, measure
from ._parser import parse_expr
from ._profile import wrap as _profile_wrap
from ._types import CheckedModule, check_expr
from ._values import Closure, Some, Value, check_value

__all__ = ["EffectHandler", "AsyncEffectHandler", "EvalResult", "Program", "evaluate_async"]

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
#: a definition's module is JIT-compiled on this call of it through `Program.call` (None: never)
JIT_AFTER = 2
#: without a `check`, fuel beyond this is handed out in slices of this size (below 2**30)
_BIG_SLICE = 1 << 29
Ev = Callable[[list[Value]], Value]


class EffectHandler(Protocol):
    """The host's side of `perform`: given effect, operation and arguments, return the reply.

    Raise a `SteleError` (e.g. a sandbox denial) to stop the program with that
    error; any other exception is wrapped in `EffectError`.
    """

    def __call__(self, effect: str, op: str, args: tuple[Value, ...]) -> Value: ...


class AsyncEffectHandler(Protocol):
    """An asynchronous `EffectHandler` (used by `evaluate_async`)."""

    def __call__(self, effect: str, op: str, args: tuple[Value, ...]) -> Awaitable[Value]: ...


@dataclass(frozen=True)
class EvalResult:
    """The outcome of a successful evaluation.

    `cost` is the total charged; `breakdown` splits it by node kind (plus
    `builtin:<name>`, `elements`, `hash_blocks` and `effects`); `memory` is
    the allocation accounted; `steps` the number of expression nodes evaluated.
    """

    value: Value
    cost: int
    breakdown: dict[str, int]
    memory: int
    cost_table: str
    steps: int = 0


def _overflow(loc: Loc) -> None:
    raise IntegerOverflow("Int overflow (signed 64-bit)", loc)


def _divzero(loc: Loc) -> None:
    raise DivisionByZero("division by zero", loc)


def _eq_charge(m: Machine, a: Value, loc: Loc) -> None:
    """Charge `==`/`!=` per element of the left value *unfolded*, before comparing.

    The size is measured sharing-aware in time bounded by what the fuel left
    can pay for (`_measure`), so a small DAG that unfolds to 10^8 elements
    fails here, having done O(fuel) work, instead of being walked by Python.
    """
    charge(m, m.per_element * measured_units(m, a, loc), "elements", loc)


def measured_units(m: Machine, v: Value, loc: Loc) -> int:
    """The unfolded size of `v`, or the cost/depth error for a host walk that can't be paid for.

    The walk may spend all the fuel the run has left -- the current slice
    and what is withheld (`fuel_left`) -- not just the slice: fuel handed out
    in slices (a run with a `check`, or a huge limit) must not change where
    or whether a run stops.
    """
    per = m.per_element
    cap = fuel_left(m) // per if per else 1 << 62
    try:
        return measure(v, cap)[0]
    except ValueTooLarge as exc:
        raise CostLimitExceeded("fuel", m.limit - m.fuel + per * exc.units, m.limit + m.reserve,
                                loc) from None
    except ValueTooDeep as exc:
        raise DepthLimitExceeded("value depth", exc.depth, MAX_VALUE_DEPTH, loc) from None


def _concat(m: Machine, a: Value, b: Value, loc: Loc) -> Value:
    n = len(a) + len(b)
    charge(m, m.per_element * (n if type(a) is tuple else (n + 7) // 8), "elements", loc)
    alloc(m, m.mem_base + (m.mem_per_item if type(a) is tuple else 1) * n, loc)
    return a + b


_BODIES = {
    "+": "x = a + b\n        if x > 9223372036854775807 or x < -9223372036854775808: ovf(loc)\n        return x",
    "-": "x = a - b\n        if x > 9223372036854775807 or x < -9223372036854775808: ovf(loc)\n        return x",
    "*": "x = a * b\n        if x > 9223372036854775807 or x < -9223372036854775808: ovf(loc)\n        return x",
    "/": ("if b == 0: divz(loc)\n        q = abs(a) // abs(b)\n        if (a < 0) != (b < 0): q = -q\n"
          "        if q > 9223372036854775807: ovf(loc)\n        return q"),
    "%": "if b == 0: divz(loc)\n        x = abs(a) % abs(b)\n        return -x if a < 0 else x",
    "<": "return a < b", "<=": "return a <= b", ">": "return a > b", ">=": "return a >= b",
    "==": "if type(a) is not int: eqc(m, a, loc)\n        return a == b",
    "!=": "if type(a) is not int: eqc(m, a, loc)\n        return a != b",
    "++": "return cat(m, a, b, loc)",
    "&&": "return a and {B}", "||": "return a or {B}",
}
_TEMPLATE = """
def make(m, hits, s, C, l, r, K1, K2, loc, fail, ovf, divz, eqc, cat):
    def ev(f):
        if m.fuel < C: fail(m, C, loc)
        m.fuel -= C
        hits[s] += 1
        a = {A}
        {BODY}
    return ev
"""
_MAKERS: dict[tuple[str, str, str], Callable[..., Ev]] = {}


def _binary_maker(op: str, ka: str, kb: str) -> Callable[..., Ev]:
    """Generate (once per shape) a closure factory for `a OP b` with fused leaf operands."""
    key = (op, ka, kb)
    if key not in _MAKERS:
        srcs = {"c": "l(f)", "s": "f[K1]", "k": "K1"}
        a = srcs[ka]
        b = {"c": "r(f)", "s": "f[K2]", "k": "K2"}[kb]
        body = _BODIES[op]
        if op in ("&&", "||"):
            body = body.replace("{B}", b)
        else:
            body = f"b = {b}\n        " + body
        namespace: dict[str, Any] = {}
        exec(_TEMPLATE.format(A=a, BODY=body), namespace)  # fixed templates, no user text
        _MAKERS[key] = namespace["make"]
    return _MAKERS[key]


_CODE: dict[str, CodeType] = {}


def _code(text: str) -> CodeType:
    """Compiled code for a generated closure factory, cached by its (shape-only) text."""
    code = _CODE.get(text)
    if code is None:
        code = _CODE[text] = compile(text, "<tel-fused>", "exec")
    return code


class _Gen:
    """Builds one generated closure: code lines (shape only) and the values they name."""

    def __init__(self, comp: _Compiler) -> None:
        self.comp = comp
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {"m": comp.m, "hits": comp.p.hits, "fail": out_of_fuel,
                                   "ovf": _overflow, "DL": DepthLimitExceeded}
        self.n = 0

    def name(self, value: Any) -> str:
        self.n += 1
        key = f"_{self.n}"
        self.ns[key] = value
        return key

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def leaf(self, leaf: tuple[str, Value] | None) -> str:
        assert leaf is not None
        return f"f[{self.name(leaf[1])}]" if leaf[0] == "s" else self.name(leaf[1])

    def charge(self, parts: list[tuple[str, int]], loc: Loc, indent: int) -> None:
        s, cost = self.comp.site(parts)
        c, sn, lc = self.name(cost), self.name(s), self.name(loc)
        self.emit(indent, f"if m.fuel < {c}: fail(m, {c}, {lc})")
        self.emit(indent, f"m.fuel -= {c}")
        self.emit(indent, f"hits[{sn}] += 1")

    def build(self) -> Ev:
        # a factory whose parameters become the closure's cells (faster than globals)
        names = list(self.ns)
        text = (f"def make({', '.join(names)}):\n    def ev(f):\n"
                + "\n".join("    " + ln for ln in self.lines) + "\n    return ev\n")
        scope: dict[str, Any] = {}
        exec(_code(text), scope)  # generated from fixed pieces, never from program text
        ev: Ev = scope["make"](**self.ns)
        return ev


class _Compiler:
    """Compiles one function body (a def, a lambda or the entry expression) to closures."""

    def __init__(self, prog: Program) -> None:
        self.p = prog
        self.m = prog.m
        self.nslots = 0
        #: the source name of each frame slot (for the debugger's view of a frame)
        self.slot_names: list[str] = []

    def new_slot(self, name: str = "") -> int:
        self.nslots += 1
        self.slot_names.append(name)
        return self.nslots - 1

    def site(self, parts: list[tuple[str, int]]) -> tuple[int, int]:
        self.p.sites.append(tuple(parts))
        self.p.hits.append(0)
        return len(self.p.sites) - 1, sum(c for _, c in parts)

    def leaf(self, e: Expr, env: dict[str, int]) -> tuple[str, Value] | None:
        """('s', slot) or ('k', constant) for operands that can be fused into their parent."""
        if isinstance(e, (IntLit, BoolLit, StrLit, BytesLit)):
            return ("k", e.value)
        if isinstance(e, UnitLit):
            return ("k", ())
        if isinstance(e, Var) and e.name in env:
            return ("s", env[e.name])
        return None

    def compile(self, e: Expr, env: dict[str, int]) -> Ev:
        m, hits, table = self.m, self.p.hits, self.p.table
        kind = type(e).__name__
        if isinstance(e, Binary):
            return self.binary(e, env)
        s, C = self.site([(kind, table.node[kind])])
        loc = e.loc
        fail = out_of_fuel

        def const(v: Value) -> Ev:
            def ev(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                return v
            return ev

        if isinstance(e, (IntLit, BoolLit, StrLit, BytesLit)):
            return const(e.value)
        if isinstance(e, UnitLit):
            return const(())
        if isinstance(e, NoneE):
            return const(None)
        if isinstance(e, Var):
            if e.name in env:
                i = env[e.name]

                def ev_var(f: list[Value]) -> Value:
                    if m.fuel < C:
                        fail(m, C, loc)
                    m.fuel -= C
                    hits[s] += 1
                    return f[i]
                return ev_var
            return const(self.p.def_closures[e.name])
        if isinstance(e, If):
            fused = self.fused_if(e, env)
            if fused is not None:
                return fused
            c, t, el = self.compile(e.cond, env), self.compile(e.then, env), self.compile(e.else_, env)

            def ev_if(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                if c(f):
                    return t(f)
                return el(f)
            return ev_if
        if isinstance(e, Let):
            slot = self.new_slot(e.name)
            v = self.compile(e.value, env)
            b = self.compile(e.body, {**env, e.name: slot})

            def ev_let(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                f[slot] = v(f)
                return b(f)
            return ev_let
        if isinstance(e, Seq):
            a, b = self.compile(e.first, env), self.compile(e.second, env)

            def ev_seq(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                a(f)
                return b(f)
            return ev_seq
        if isinstance(e, Match):
            slot = self.new_slot(e.some_name)
            sc = self.compile(e.scrutinee, env)
            sb = self.compile(e.some_body, {**env, e.some_name: slot})
            nb = self.compile(e.none_body, env)

            def ev_match(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                v = sc(f)
                if v is None:
                    return nb(f)
                f[slot] = v.value
                return sb(f)
            return ev_match
        if isinstance(e, Unary):
            x = self.compile(e.operand, env)
            if e.op == "!":
                def ev_not(f: list[Value]) -> Value:
                    if m.fuel < C:
                        fail(m, C, loc)
                    m.fuel -= C
                    hits[s] += 1
                    return not x(f)
                return ev_not

            def ev_neg(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                r = -x(f)
                if r > INT_MAX:
                    _overflow(loc)
                return r
            return ev_neg
        if isinstance(e, SomeE):
            x = self.compile(e.value, env)

            def ev_some(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                v = x(f)
                alloc(m, m.mem_base, loc)
                return Some(v)
            return ev_some
        if isinstance(e, (ListLit, TupleLit)):
            items = [self.compile(i, env) for i in e.items]
            is_list = isinstance(e, ListLit)
            n = len(items)

            def ev_seqlit(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                if is_list:
                    charge(m, m.per_element * n, "elements", loc)
                vs = tuple([i(f) for i in items])
                alloc(m, m.mem_base + m.mem_per_item * n, loc)
                return vs
            return ev_seqlit
        if isinstance(e, Proj):
            t_ev, idx = self.compile(e.tuple, env), e.index

            def ev_proj(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                return t_ev(f)[idx]
            return ev_proj
        if isinstance(e, Lambda):
            return self.lambda_(e, env, s, C)
        if isinstance(e, Perform):
            return self.perform(e, env, s, C)
        assert isinstance(e, Call)
        return self.call(e, env, s, C)

    def binary(self, e: Binary, env: dict[str, int]) -> Ev:
        fused = self.fused_binary(e, env)
        if fused is not None:
            return fused
        table = self.p.table
        parts = [("Binary", table.binary[e.op])]
        la = self.leaf(e.left, env)
        lb = None if e.op in ("&&", "||") else self.leaf(e.right, env)
        l_ev = r_ev = None
        k1: Value = None
        k2: Value = None
        if la is None:
            l_ev = self.compile(e.left, env)
        else:
            parts.append((type(e.left).__name__, table.node[type(e.left).__name__]))
            k1 = la[1]
        if lb is None:
            r_ev = self.compile(e.right, env)
        else:
            parts.append((type(e.right).__name__, table.node[type(e.right).__name__]))
            k2 = lb[1]
        s, C = self.site(parts)
        make = _binary_maker(e.op, "c" if la is None else la[0], "c" if lb is None else lb[0])
        return make(self.m, self.p.hits, s, C, l_ev, r_ev, k1, k2, e.loc, out_of_fuel,
                    _overflow, _divzero, _eq_charge, _concat)

    # ---------------------------------------------------------------- generated fast paths
    # Straight-line code for the hottest shapes (`if a < b then .. else ..`, `d(a - 1)`,
    # `d(..) + d(..)`). Charges that follow each other with nothing that can fail or have
    # an effect in between are merged into one (the total and the outcome are unchanged).

    def _call1_ok(self, e: Expr, env: dict[str, int]) -> bool:
        if not (isinstance(e, Call) and len(e.args) == 1 and isinstance(e.func, Var)
                and e.func.name not in env and e.func.name in self.p.def_closures):
            return False
        arg = e.args[0]
        return (isinstance(arg, Binary) and arg.op in ("+", "-", "*")
                and self.leaf(arg.left, env) is not None and self.leaf(arg.right, env) is not None)

    def _gen_call1(self, g: _Gen, e: Call, env: dict[str, int], out: str,
                   pre: list[tuple[str, int]], ind: int) -> None:
        arg = e.args[0]
        assert isinstance(arg, Binary) and isinstance(e.func, Var)
        t = self.p.table
        g.charge(pre + [("Call", t.node["Call"]), ("Binary", t.binary[arg.op]),
                        self._part(arg.left), self._part(arg.right)], e.loc, ind)
        a, b = g.leaf(self.leaf(arg.left, env)), g.leaf(self.leaf(arg.right, env))
        clo, aloc, loc = g.name(self.p.def_closures[e.func.name]), g.name(arg.loc), g.name(e.loc)
        g.emit(ind, f"x = {a} {arg.op} {b}")
        g.emit(ind, f"if x > {INT_MAX} or x < {INT_MIN}: ovf({aloc})")
        g.emit(ind, f"if not m.room: raise DL('depth', m.max_depth + 1, m.max_depth, {loc})")
        g.emit(ind, "m.room -= 1")
        pad = self.p.def_closures[e.func.name].pad  # known before any body is compiled
        g.emit(ind, f"{out} = {clo}.body([x] + {g.name(pad)})" if pad else f"{out} = {clo}.body([x])")
        g.emit(ind, "m.room += 1")

    def _binary_ok(self, e: Expr, env: dict[str, int]) -> bool:
        if not (isinstance(e, Binary) and e.op in ("+", "-", "*", "<", "<=", ">", ">=")):
            return False
        return all(self.leaf(x, env) is not None or self._call1_ok(x, env) for x in (e.left, e.right))

    def _gen_binary(self, g: _Gen, e: Binary, env: dict[str, int], out: str,
                    pre: list[tuple[str, int]], ind: int) -> None:
        parts = pre + [("Binary", self.p.table.binary[e.op])]
        la, lb = self.leaf(e.left, env), self.leaf(e.right, env)
        parts += [self._part(x) for x, lf in ((e.left, la), (e.right, lb)) if lf is not None]
        if la is None:  # the left call's charge merges with the operator's
            assert isinstance(e.left, Call)
            self._gen_call1(g, e.left, env, "a", parts, ind)
        else:
            g.charge(parts, e.loc, ind)
            g.emit(ind, f"a = {g.leaf(la)}")
        if lb is None:
            assert isinstance(e.right, Call)
            self._gen_call1(g, e.right, env, "b", [], ind)
        else:
            g.emit(ind, f"b = {g.leaf(lb)}")
        if e.op in ("+", "-", "*"):
            g.emit(ind, f"{out} = a {e.op} b")
            g.emit(ind, f"if {out} > {INT_MAX} or {out} < {INT_MIN}: ovf({g.name(e.loc)})")
        else:
            g.emit(ind, f"{out} = a {e.op} b")

    def _part(self, e: Expr) -> tuple[str, int]:
        kind = type(e).__name__
        return (kind, self.p.table.node[kind])

    def fused_if(self, e: If, env: dict[str, int]) -> Ev | None:
        """`if a CMP b then x else y` with leaf a, b: one closure; simple branches inlined."""
        c = e.cond
        if not (isinstance(c, Binary) and c.op in ("<", "<=", ">", ">=", "==", "!=")):
            return None
        la, lb = self.leaf(c.left, env), self.leaf(c.right, env)
        if la is None or lb is None:
            return None
        if c.op in ("==", "!=") and not (isinstance(c.left, IntLit) or isinstance(c.right, IntLit)):
            return None  # non-Int equality pays per element
        g = _Gen(self)
        pre = [("If", self.p.table.node["If"]), ("Binary", self.p.table.binary[c.op]),
               self._part(c.left), self._part(c.right)]
        g.emit(1, f"if {g.leaf(la)} {c.op} {g.leaf(lb)}:")
        for i, br in enumerate((e.then, e.else_)):
            if i:
                g.emit(1, "else:")
            leaf = self.leaf(br, env)
            if leaf is not None:
                g.charge(pre + [self._part(br)], br.loc, 2)
                g.emit(2, f"return {g.leaf(leaf)}")
            elif self._binary_ok(br, env):
                assert isinstance(br, Binary)
                self._gen_binary(g, br, env, "r", pre, 2)
                g.emit(2, "return r")
            elif self._call1_ok(br, env):
                assert isinstance(br, Call)
                self._gen_call1(g, br, env, "r", pre, 2)
                g.emit(2, "return r")
            else:
                g.charge(pre, e.loc, 2)
                g.emit(2, f"return {g.name(self.compile(br, env))}(f)")
        return g.build()

    def fused_call1(self, e: Call, env: dict[str, int], clo: Closure) -> Ev | None:
        """`d(a OP b)` for a definition d and leaf a, b (+, -, *): one closure, one charge."""
        if not self._call1_ok(e, env):
            return None
        g = _Gen(self)
        self._gen_call1(g, e, env, "r", [], 1)
        g.emit(1, "return r")
        return g.build()

    def fused_binary(self, e: Binary, env: dict[str, int]) -> Ev | None:
        """`a OP b` where an operand is an inlinable call (`fib(n - 1) + fib(n - 2)`)."""
        if not self._binary_ok(e, env) or (self.leaf(e.left, env) and self.leaf(e.right, env)):
            return None
        g = _Gen(self)
        self._gen_binary(g, e, env, "r", [], 1)
        g.emit(1, "return r")
        return g.build()

    def lambda_(self, e: Lambda, env: dict[str, int], s: int, C: int) -> Ev:
        m, hits, loc, fail = self.m, self.p.hits, e.loc, out_of_fuel
        names = sorted(free_vars(e) & env.keys())
        cap_slots = [env[n] for n in names]
        inner = _Compiler(self.p)
        ienv = {n: inner.new_slot(n) for n in names}
        for prm in e.params:
            ienv[prm.name] = inner.new_slot(prm.name)
        fixed = inner.nslots
        body = _profile_wrap(self.p, f"<lambda {e.loc.line}:{e.loc.col}>",
                             inner.compile(e.body, ienv),  # itself unless instrumented
                             inner.slot_names, fixed)
        pad: list[Value] = [None] * (inner.nslots - len(ienv))
        nparams = len(e.params)
        mem = self.p.table.mem_base + self.p.table.mem_per_item * len(names)  # m.* is 0 before a run

        def ev_lambda(f: list[Value]) -> Value:
            if m.fuel < C:
                fail(m, C, loc)
            m.fuel -= C
            hits[s] += 1
            alloc(m, mem, loc)
            return Closure(body, [f[i] for i in cap_slots], nparams, pad, "<lambda>")
        return ev_lambda

    def perform(self, e: Perform, env: dict[str, int], s: int, C: int) -> Ev:
        m, hits, loc, fail = self.m, self.p.hits, e.loc, out_of_fuel
        args = [self.compile(a, env) for a in e.args]
        decl = self.p.checked.effects[e.effect]
        ret: Type = next(o for o in decl.ops if o.name == e.op).ret
        effect, op, per = e.effect, e.op, self.p.table.per_effect
        label = f"{effect}.{op}"

        def ev_perform(f: list[Value]) -> Value:
            if m.fuel < C:
                fail(m, C, loc)
            m.fuel -= C
            hits[s] += 1
            vals = tuple([a(f) for a in args])
            charge(m, per, "effects", loc)
            for v in vals:  # a container crosses to the host unfolded: pay for it first
                tv = type(v)
                if tv is tuple or tv is Some:
                    charge(m, m.per_element * measured_units(m, v, loc), "elements", loc)
            if m.handler is None:
                raise EffectError(f"no effect handler for {label}", loc)
            try:
                reply = m.handler(effect, op, vals)
            except TelError:
                raise
            except Exception as exc:
                from .._errors import SteleError
                if isinstance(exc, SteleError):
                    raise
                raise EffectError(f"handler for {label} failed: {type(exc).__name__}: {exc}", loc) from exc
            if not check_value(ret, reply):
                raise EffectError(f"handler for {label} replied {reply!r}, not a value of the declared type", loc)
            alloc(m, size_of(m, reply), loc)
            return reply
        return ev_perform

    def call(self, e: Call, env: dict[str, int], s: int, C: int) -> Ev:
        m, hits, loc, fail = self.m, self.p.hits, e.loc, out_of_fuel
        f_ = e.func
        if isinstance(f_, Var) and f_.name not in env and f_.name in self.p.def_closures:
            fused = self.fused_call1(e, env, self.p.def_closures[f_.name])
            if fused is not None:
                self.p.sites[s] = ()  # the fused closure charges through its own site
                return fused
        args = [self.compile(a, env) for a in e.args]
        if isinstance(f_, Var) and f_.name not in env and f_.name not in self.p.def_closures \
                and f_.name in BUILTINS:
            impl = IMPLS[f_.name]
            s, C = s, C + self.p.table.builtin[f_.name]
            self.p.sites[s] = self.p.sites[s] + ((f"builtin:{f_.name}", self.p.table.builtin[f_.name]),)

            def ev_builtin(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                return impl(m, loc, *[a(f) for a in args])
            return ev_builtin
        if isinstance(f_, Var) and f_.name not in env:
            clo = self.p.def_closures[f_.name]
            if len(args) == 1:
                a0 = args[0]

                def ev_call1(f: list[Value]) -> Value:
                    if m.fuel < C:
                        fail(m, C, loc)
                    m.fuel -= C
                    hits[s] += 1
                    x = a0(f)
                    if not m.room:
                        raise DepthLimitExceeded("depth", m.max_depth + 1, m.max_depth, loc)
                    m.room -= 1
                    r = clo.body([x] + clo.pad if clo.pad else [x])
                    m.room += 1
                    return r
                return ev_call1

            def ev_calld(f: list[Value]) -> Value:
                if m.fuel < C:
                    fail(m, C, loc)
                m.fuel -= C
                hits[s] += 1
                xs = [a(f) for a in args]
                if not m.room:
                    raise DepthLimitExceeded("depth", m.max_depth + 1, m.max_depth, loc)
                m.room -= 1
                r = clo.body(xs + clo.pad)
                m.room += 1
                return r
            return ev_calld
        fn = self.compile(f_, env)

        def ev_callv(f: list[Value]) -> Value:
            if m.fuel < C:
                fail(m, C, loc)
            m.fuel -= C
            hits[s] += 1
            fv = fn(f)
            xs = [a(f) for a in args]
            if not m.room:
                raise DepthLimitExceeded("depth", m.max_depth + 1, m.max_depth, loc)
            m.room -= 1
            r = fv.body(fv.captured + xs + fv.pad)
            m.room += 1
            return r
        return ev_callv


class _Suspend(BaseException):
    """Internal: the async wrapper needs a reply it does not have yet."""

    def __init__(self, request: tuple[str, str, tuple[Value, ...]]) -> None:
        self.request = request


class Program:
    """A checked module compiled to closures, ready to run many times (not reentrant).

    `call(name, args)` runs a definition; `evaluate(expr)` type-checks and runs
    an expression in the module's scope. Both return an `EvalResult` or raise a
    `TelError` whose `cost` says what was spent before it stopped.

    On the `jit_after`-th call of a definition (default `JIT_AFTER`; None:
    never) the module is compiled by the JIT (`stele.tel._compile`), which
    charges exactly what these closures charge, step for step.
    """

    def __init__(self, checked: CheckedModule, table: CostTable = COST_TABLE, *,
                 jit_after: int | None | str = "default") -> None:
        if isinstance(jit_after, str) and jit_after == "default":
            jit_after = JIT_AFTER  # read at construction, so tests can switch the default
        if not (jit_after is None or (type(jit_after) is int and jit_after >= 1)):
            raise TelError(f"jit_after must be >= 1 or None, got {jit_after}")
        self.checked = checked
        self.table = table
        #: compile the module (`_compile`) on the jit_after-th `call` of a definition; None: never
        self.jit_after: int | None = jit_after
        self.jit: JitModule | None = None
        self.jit_error: str | None = None
        self._entries: dict[str, int] = {}
        self.m = Machine()
        self.sites: list[tuple[tuple[str, int], ...]] = []
        self.hits: list[int] = []
        self.def_closures: dict[str, Closure] = {}
        for name, d in checked.defs.items():
            self.def_closures[name] = Closure(_unset, [], len(d.params), [None] * _locals(d.body), name)
        for name, d in checked.defs.items():
            self._compile_def(d)

    def _compile_def(self, d: Def) -> None:
        comp = _Compiler(self)
        env = {p.name: comp.new_slot(p.name) for p in d.params}
        body = comp.compile(d.body, env)
        clo = self.def_closures[d.name]
        if comp.nslots != len(d.params) + len(clo.pad):
            raise TelError(f"internal: {d.name} uses {comp.nslots} frame slots, expected "
                           f"{len(d.params) + len(clo.pad)}")
        # itself unless a profiler (or the debugger) is active
        wrapped = _profile_wrap(self, d.name, body, comp.slot_names, len(d.params))
        if wrapped is not body:
            # An instrumented program stays interpreted: the JIT's generated code
            # would replace the profiler's wrappers and lose the attribution.
            self.jit_error = "instrumented for the profiler: runs interpreted"
        clo.body = wrapped

    def call(self, name: str, args: Sequence[Value] = (), *, limits: Limits = Limits(),
             handler: EffectHandler | None = None, check: Callable[[int], None] | None = None,
             check_every: int = 10_000) -> EvalResult:
        """Run definition `name` on `args` (checked against its parameter types).

        With `check`, fuel is handed out `check_every` units at a time and
        `check(c)` is called before each further slice, with the cost `c` of
        the step about to be charged (a large builtin may charge far more than
        a slice): a cooperative hook on the fuel counter (the executor checks
        its deadline there; whatever `check` raises ends the run, before the
        step).  Costs and limits are unchanged.
        """
        d = self.checked.defs.get(name)
        if d is None:
            raise TelError(f"no definition named {name!r}")
        if len(args) != len(d.params):
            raise TelError(f"{name} takes {len(d.params)} argument(s), got {len(args)}")
        for p, v in zip(d.params, args):
            if not check_value(p.type, v):
                raise TelError(f"argument {p.name!r} of {name}: {v!r} is not a TEL value of its type")
        self._hot(name)
        clo = self.def_closures[name]
        return self._run(clo.body, list(args) + clo.pad, limits, handler, check, check_every)

    def _hot(self, name: str) -> None:
        """Count an entry into `name`; compile the module on the `jit_after`-th one."""
        if self.jit is None and self.jit_after is not None and self.jit_error is None:
            n = self._entries[name] = self._entries.get(name, 0) + 1
            if n >= self.jit_after:
                self.compile()

    def compile(self) -> bool:
        """JIT-compile the module now (idempotent); False if it stays interpreted (`jit_error`).

        Every definition's closure then runs generated code that charges
        exactly what the interpreter charges (see `stele.tel._compile`).
        """
        if self.jit is None and self.jit_error is None:
            if self.m.running:
                raise TelError("cannot compile a Program while it runs")
            try:
                self.jit = compile_module(self)
            except JitUnsupported as exc:
                self.jit_error = str(exc)
                return False
            for name, body in self.jit.bodies.items():
                self.def_closures[name].body = body
        return self.jit is not None

    def evaluate(self, expr: Expr | str, *, limits: Limits = Limits(),
                 handler: EffectHandler | None = None) -> EvalResult:
        """Type-check `expr` in the module's scope and run it (it calls compiled definitions once hot)."""
        self._hot("")
        mark = len(self.sites)
        body, nslots = self._entry(expr)
        try:
            return self._run(body, [None] * nslots, limits, handler)
        finally:
            self._forget(mark)

    def _forget(self, mark: int) -> None:
        """Drop the cost sites of an entry expression that will not run again."""
        del self.sites[mark:]
        del self.hits[mark:]

    def _entry(self, expr: Expr | str) -> tuple[Ev, int]:
        e = parse_expr(expr) if isinstance(expr, str) else expr
        check_expr(self.checked, e)
        comp = _Compiler(self)
        return comp.compile(e, {}), comp.nslots

    def _run(self, body: Ev, frame: list[Value], limits: Limits,
             handler: EffectHandler | None, check: Callable[[int], None] | None = None,
             check_every: int = 10_000) -> EvalResult:
        m = self.m
        if m.running:
            raise TelError("this Program is already running (evaluation is not reentrant)")
        t = self.table
        every = max(1, check_every) if check is not None else _BIG_SLICE
        first = min(limits.fuel, every)  # a huge fuel is handed out in slices: the counter stays a
        m.fuel = m.limit = first         # one-digit (fast) Python int; costs and limits are unchanged
        m.reserve, m.slice, m.check = limits.fuel - first, every, check
        m.mem = m.mem_limit = limits.memory
        m.room = m.max_depth = limits.depth  # calls left before the limit
        m.handler, m.dyn = handler, {}
        m.per_element, m.per_hash_block, m.per_effect = t.per_element, t.per_hash_block, t.per_effect
        m.mem_base, m.mem_per_item = t.mem_base, t.mem_per_item
        self.hits[:] = [0] * len(self.hits)  # in place: the closures hold this list
        if self.jit is not None:
            self.jit.reset()
        old = sys.getrecursionlimit()
        need = 5000 + 60 * limits.depth  # Python frames: a few per TEL call level
        m.running = True
        try:
            if need > old:
                sys.setrecursionlimit(need)
            value = body(frame)
        except TelRuntimeError as exc:
            exc.cost = m.limit - m.fuel
            raise
        except RecursionError:
            err = DepthLimitExceeded("host stack", m.max_depth - m.room, limits.depth)
            err.cost = m.limit - m.fuel
            raise err from None
        finally:
            m.running = False
            m.handler = m.check = None
            if need > old:
                sys.setrecursionlimit(old)
        steps = sum(h * len(site) for site, h in zip(self.sites, self.hits) if h)
        breakdown = self._breakdown()
        if self.jit is not None:
            steps += self.jit.add_breakdown(breakdown)
            breakdown = dict(sorted(breakdown.items()))
        return EvalResult(value, m.limit - m.fuel, breakdown, m.mem_limit - m.mem,
                          t.version, steps)

    def _breakdown(self) -> dict[str, int]:
        out: dict[str, int] = dict(self.m.dyn)
        for site, h in zip(self.sites, self.hits):
            if h:
                for kind, c in site:
                    out[kind] = out.get(kind, 0) + h * c
        return dict(sorted(out.items()))


def _locals(e: Expr) -> int:
    """Frame slots a function body needs beyond its parameters (its lets and matches)."""
    from ._free import children
    own = 1 if isinstance(e, (Let, Match)) else 0
    if isinstance(e, Lambda):
        return 0  # a lambda has its own frame
    return own + sum(_locals(c) for c in children(e))


def _unset(frame: list[Value]) -> Value:
    raise TelError("definition called before it was compiled")


async def evaluate_async(program: Program, expr: Expr | str, handler: AsyncEffectHandler, *,
                         limits: Limits = Limits(), max_effects: int = 10_000) -> EvalResult:
    """Run `expr` with an async effect handler by deterministic replay (see module docstring)."""
    mark = len(program.sites)
    body, nslots = program._entry(expr)
    try:
        return await _replay(program, body, nslots, handler, limits, max_effects)
    finally:
        program._forget(mark)


async def _replay(program: Program, body: Ev, nslots: int, handler: AsyncEffectHandler,
                  limits: Limits, max_effects: int) -> EvalResult:
    replies: list[tuple[tuple[str, str, tuple[Value, ...]], Value]] = []

    def replay(effect: str, op: str, args: tuple[Value, ...]) -> Value:
        i = replay.calls  # type: ignore[attr-defined]
        replay.calls = i + 1  # type: ignore[attr-defined]
        if i < len(replies):
            if replies[i][0] != (effect, op, args):
                raise EffectError(f"replay diverged at effect #{i}: {effect}.{op}{args!r}")
            return replies[i][1]
        raise _Suspend((effect, op, args))

    while True:
        replay.calls = 0  # type: ignore[attr-defined]
        try:
            return program._run(body, [None] * nslots, limits, replay)
        except _Suspend as s:
            if len(replies) >= max_effects:
                raise EffectError(f"more than {max_effects} effects") from None
            effect, op, args = s.request
            reply = await handler(effect, op, args)
            replies.append((s.request, reply))
