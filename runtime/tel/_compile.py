"""The TEL JIT: a checked module compiled to generated Python functions, charging exactly as the interpreter.

The reference interpreter (`_interp`) turns every expression node into a
closure that charges its cost at its entry. This module compiles a whole
module to *generated Python source* instead: one Python function per
definition and per lambda, TEL locals as Python locals, definitions calling
each other directly, the call depth passed as an argument. It runs the same
operations in the same order as the interpreter; only the fuel checks move.

Exact cost
    The interpreter's charges are "charge units" (one per closure entry; its
    fused fast paths charge several nodes as one unit). The compiler emits
    the same units in the same order. Units that follow each other with only
    *pure, infallible* work between them (reading a local, a literal, an Int
    comparison, `!`, a projection, a folded constant) form a *block* that is
    checked and charged at once: ``if m.fuel < T: slow(...) else: m.fuel -= T``.
    The slow path charges the block's units one by one, exactly as the
    interpreter does (same `out_of_fuel` calls with the same step costs, so
    the same stopping point, error, message and `check(c)` calls). A check
    that can fail without side effects (an Int range check, the depth check)
    does not close the block: its failure branch first charges the open units
    one by one, then raises -- what the interpreter would have spent. Before
    anything else that can fail (division, a memory allocation) or that looks
    at the fuel (a call, a builtin, an effect, `==` on containers, `++`) the
    block is closed, so every failure happens with exactly the fuel spent
    that the interpreter would have spent.

Optimizations (each charges what the unoptimized program charges)
    * constant folding: operators on constants are computed at compile time
      when they cannot fail (an overflowing or dividing-by-zero constant stays
      a run-time operation, so it raises at the same point); a constant `if`
      condition, `match` scrutinee or `&&`/`||` left operand compiles only the
      branch taken. The folded nodes are still charged.
    * let-floating: a `let` bound to a constant (after folding) is floated
      into its uses -- no run-time binding at all; the Let and Var nodes are
      still charged.
    * range facts: a guard `if x < k` (any Int comparison with a constant)
      bounds `x` in each branch; range checks that cannot fail are dropped.
    * inlining: a call of a small definition that calls no definition (hence
      is not recursive) compiles the callee's body in place, with its
      arguments propagated (constants fold through); a small definition that
      calls only itself (at most twice) is unrolled one level. The Call node
      and the depth check are kept.
    * `map`, `filter` and `fold` whose function argument is a lambda literal
      compile to a Python loop with the lambda's body inlined (the Lambda node,
      its allocation, the per-element charge and the depth check are kept).

Breakdown and steps are counted per block (one counter cell per block), and
added to the interpreter's own site counters by `Program`.  Generated code
is built only from fixed pieces and generated names: program text (names,
strings) never reaches the source; constants and locations are bound as
arguments of the factory. Compiled code objects are cached by the digest of
the generated source.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import CodeType
from typing import TYPE_CHECKING, Any, Callable

from ._ast import (
    Binary, BoolLit, BytesLit, Call, Def, Expr, If, IntLit, Lambda, Let, ListLit, Match, NoneE,
    Perform, Proj, Seq, SomeE, StrLit, TupleLit, Unary, UnitLit, Var,
)
from ._builtin_impl import IMPLS, Machine, alloc, charge, out_of_fuel, size_of
from ._builtins import BUILTINS
from ._errors import (
    DepthLimitExceeded, DivisionByZero, EffectError, IntegerOverflow, Loc, TelError,
)
from ._free import children, free_vars
from ._values import Closure, Some, Value, check_value

if TYPE_CHECKING:
    from ._interp import Program

__all__ = ["JitModule", "compile_module", "JIT_VERSION", "JitUnsupported"]

#: bump when the generated code changes meaning (it is part of the code cache key)
JIT_VERSION = "tel-jit-1"
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_CMP = ("<", "<=", ">", ">=", "==", "!=")
_APPLYING = frozenset({"map", "filter", "fold", "exists", "forall"})
#: a definition is inlined when its body has at most this many nodes
INLINE_MAX_NODES = 24
#: a small self-recursive definition is unrolled this many levels into itself
UNROLL = 1
#: expressions nested deeper than this are not compiled (the module stays interpreted)
MAX_NESTING = 120
_NO = object()
_CODE: dict[str, CodeType] = {}


class JitUnsupported(TelError):
    """The module cannot be compiled (e.g. nested too deeply); it keeps running interpreted."""


# ----------------------------------------------------------------------------- run-time helpers
# Called by generated code; each does exactly what the interpreter's closure does at that point.

def _slow(m: Machine, units: tuple[tuple[int, Loc], ...]) -> None:
    """Charge a block's units one by one, as the interpreter does (the block did not fit)."""
    for c, loc in units:
        if m.fuel < c:
            out_of_fuel(m, c, loc)
        m.fuel -= c


def _ovf(loc: Loc) -> None:
    raise IntegerOverflow("Int overflow (signed 64-bit)", loc)


def _deep(m: Machine, loc: Loc) -> None:
    raise DepthLimitExceeded("depth", m.max_depth + 1, m.max_depth, loc)


def _div(a: int, b: int, loc: Loc) -> int:
    if b == 0:
        raise DivisionByZero("division by zero", loc)
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    if q > INT_MAX:
        _ovf(loc)
    return q


def _mod(a: int, b: int, loc: Loc) -> int:
    if b == 0:
        raise DivisionByZero("division by zero", loc)
    x = abs(a) % abs(b)
    return -x if a < 0 else x


def _eq(m: Machine, a: Value, b: Value, loc: Loc) -> bool:
    from ._interp import _eq_charge
    if type(a) is not int:
        _eq_charge(m, a, loc)
    return bool(a == b)


def _cat(m: Machine, a: Value, b: Value, loc: Loc) -> Value:
    from ._interp import _concat
    return _concat(m, a, b, loc)


def _elem(m: Machine, loc: Loc) -> None:
    """One per-element charge of map/filter/fold (a dynamic charge, as the builtin makes it)."""
    charge(m, m.per_element, "elements", loc)


def _perform(m: Machine, effect: str, op: str, vals: tuple[Value, ...], ret: Any, loc: Loc) -> Value:
    """The rest of a `perform` once its node, arguments and per-effect cost were charged."""
    from ._interp import measured_units
    label = f"{effect}.{op}"
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


# ----------------------------------------------------------------------------- code generation

@dataclass
class _Unit:
    """One charge of the reference interpreter: its cost, breakdown parts and location."""

    cost: int
    parts: tuple[tuple[str, int], ...]
    loc: Loc
    steps: int


@dataclass
class _V:
    """A lowered value: Python source of a pure expression, and its value when it is a constant."""

    code: str
    const: Any = _NO
    lo: int = INT_MIN  # bounds known for an Int (from the conditions that guard this code)
    hi: int = INT_MAX

    @property
    def is_const(self) -> bool:
        return self.const is not _NO

    def bounds(self) -> tuple[int, int]:
        if self.is_const and type(self.const) is int:
            return self.const, self.const
        return self.lo, self.hi


@dataclass
class _Fn:
    """One generated Python function: its lines, the open block and the counter cells it uses."""

    header: str
    lines: list[str] = field(default_factory=list)
    pending: list[_Unit] = field(default_factory=list)
    cells: set[str] = field(default_factory=set)
    ind: int = 1
    #: the counter of the straight-line region being emitted: every block of a region runs
    #: as often as its first one in a run that succeeds (TEL has no way to catch an error),
    #: and breakdowns are only reported for successful runs, so one counter serves them all
    region: list[int] = field(default_factory=list)
    #: inside a loop whose body neither calls nor allocates: the fuel lives in the local `fu`
    #: and is written back to `m.fuel` before anything can fail and after the loop
    fuel_local: bool = False

    def sync(self) -> str:
        """The statement prefix that makes `m.fuel` exact before a failure (local-fuel loops)."""
        return "m.fuel = fu; " if self.fuel_local else ""

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.ind + line)


class _Scope:
    """Lowering state inside one function: the depth expression and the inlining budget."""

    def __init__(self, fn: _Fn, depth: str, inline_stack: tuple[str, ...] = ()) -> None:
        self.fn = fn
        self.depth = depth
        self.inline_stack = inline_stack
        #: the depth was checked non-zero on every path to here (a second check cannot fail)
        self.depth_ok = False


class _Gen:
    """Compiles every definition of a module (and every lambda in it) to one generated factory."""

    def __init__(self, prog: Program) -> None:
        self.p = prog
        self.t = prog.table
        self.ns: dict[str, Any] = {
            "m": prog.m, "slow": _slow, "ovf": _ovf, "deep": _deep, "div": _div, "mod": _mod,
            "eq": _eq, "cat": _cat, "alloc": alloc, "Some": Some, "Closure": Closure,
            "perform": _perform, "elem": _elem,
        }
        self.ids: dict[int, str] = {}
        self.sites: list[tuple[tuple[tuple[str, int], ...], int]] = []
        self.fns: list[_Fn] = []
        self.tmp = 0
        self.defs = prog.checked.defs
        self.def_fn = {name: f"fn_{i}" for i, name in enumerate(self.defs)}
        self.inlinable = {name for name, d in self.defs.items() if self._small(d, set())}
        #: small definitions that call only themselves (at most twice): unrolled one level
        self.unrollable = {name for name, d in self.defs.items()
                           if name not in self.inlinable and self._small(d, {name}) and _self_calls(d) <= 2}

    # -- names
    def name(self, value: Any) -> str:
        key = id(value)
        got = self.ids.get(key)
        if got is not None and self.ns[got] is value:
            return got
        n = f"K{len(self.ns)}"
        self.ns[n] = value
        self.ids[key] = n
        return n

    def fresh(self, prefix: str = "t") -> str:
        self.tmp += 1
        return f"{prefix}{self.tmp}"

    def const(self, v: Value) -> _V:
        if type(v) is bool or v is None:
            return _V(repr(v), v)
        if type(v) is int:
            return _V(f"({v})" if v < 0 else repr(v), v)
        if v == ():
            return _V("()", v)
        return _V(self.name(v), v)

    # -- charges
    def part(self, e: Expr) -> tuple[str, int]:
        kind = type(e).__name__
        return (kind, self.t.node[kind])

    def unit(self, s: _Scope, parts: list[tuple[str, int]], loc: Loc, steps: int | None = None) -> None:
        s.fn.pending.append(_Unit(sum(c for _, c in parts), tuple(parts), loc,
                                  len(parts) if steps is None else steps))

    def on_fail(self, s: _Scope) -> str:
        """Statements that, before a failure, charge the open block exactly as the interpreter would."""
        fn = s.fn
        pre = fn.sync()
        if fn.pending:
            pre += f"slow(m, {self.name(tuple((u.cost, u.loc) for u in fn.pending))}); "
        return pre

    def depth_check(self, s: _Scope, loc: Loc) -> None:
        if not s.depth_ok:
            s.fn.emit(f"if not {s.depth}: {self.on_fail(s)}deep(m, {self.name(loc)})")
            s.depth_ok = True

    def flush(self, s: _Scope) -> None:
        """Close the open block: one check and charge for its units, exact fallback, one counter."""
        fn = s.fn
        units, fn.pending = fn.pending, []
        if not units:
            return
        total = sum(u.cost for u in units)
        parts = tuple(p for u in units for p in u.parts)
        steps = sum(u.steps for u in units)
        plan = self.name(tuple((u.cost, u.loc) for u in units))
        if fn.fuel_local:
            fn.emit(f"if fu < {total}: m.fuel = fu; slow(m, {plan}); fu = m.fuel")
            fn.emit(f"else: fu -= {total}")
        else:
            fn.emit("fu = m.fuel")
            fn.emit(f"if fu < {total}: slow(m, {plan})")
            fn.emit(f"else: m.fuel = fu - {total}")
        if fn.region:
            k = fn.region[0]
            old_parts, old_steps = self.sites[k]
            self.sites[k] = (old_parts + parts, old_steps + steps)
            return
        self.sites.append((parts, steps))
        fn.region.append(len(self.sites) - 1)
        cell = f"h{len(self.sites) - 1}"
        fn.cells.add(cell)
        fn.emit(f"{cell} += 1")

    # -- reference-interpreter shapes (must match `_interp._Compiler` decision for decision)
    def leaf(self, e: Expr, env: dict[str, _V]) -> _V | None:
        if isinstance(e, (IntLit, BoolLit, StrLit, BytesLit)):
            return self.const(e.value)
        if isinstance(e, UnitLit):
            return self.const(())
        if isinstance(e, Var) and e.name in env:
            return env[e.name]
        return None

    def call1_ok(self, e: Expr, env: dict[str, _V]) -> bool:
        if not (isinstance(e, Call) and len(e.args) == 1 and isinstance(e.func, Var)
                and e.func.name not in env and e.func.name in self.defs):
            return False
        arg = e.args[0]
        return (isinstance(arg, Binary) and arg.op in ("+", "-", "*")
                and self.leaf(arg.left, env) is not None and self.leaf(arg.right, env) is not None)

    def binary_ok(self, e: Expr, env: dict[str, _V]) -> bool:
        if not (isinstance(e, Binary) and e.op in ("+", "-", "*", "<", "<=", ">", ">=")):
            return False
        return all(self.leaf(x, env) is not None or self.call1_ok(x, env) for x in (e.left, e.right))

    # -- inlining
    def _small(self, d: Def, allowed: set[str]) -> bool:
        count = 0
        stack: list[Expr] = [d.body]
        while stack:
            e = stack.pop()
            count += 1
            if count > INLINE_MAX_NODES or isinstance(e, (Lambda, Perform)):
                return False
            if (isinstance(e, Var) and e.name in self.defs and e.name not in allowed
                    and e.name not in {p.name for p in d.params}):
                return False  # mentions another definition: may recurse (conservative)
            stack.extend(children(e))
        return True

    # -- operations
    def arith(self, s: _Scope, op: str, a: _V, b: _V, loc: Loc) -> _V:
        if a.is_const and b.is_const:
            x, y = a.const, b.const
            v: int | None = None
            try:
                if op == "+":
                    v = x + y
                elif op == "-":
                    v = x - y
                elif op == "*":
                    v = x * y
                else:
                    v = _div(x, y, loc) if op == "/" else _mod(x, y, loc)
            except TelError:
                v = None  # raises at run time, at its own point
            if v is not None and INT_MIN <= v <= INT_MAX:
                return self.const(v)
        fn = s.fn
        (alo, ahi), (blo, bhi) = a.bounds(), b.bounds()
        if op == "+":
            lo, hi = alo + blo, ahi + bhi
        elif op == "-":
            lo, hi = alo - bhi, ahi - blo
        else:
            lo, hi = INT_MIN - 1, INT_MAX + 1
        up, down = hi > INT_MAX, lo < INT_MIN  # which way the result can leave the Int range
        if op in ("+", "-") and not (up or down):  # cannot fail: a pure expression, no block end
            return _V(f"({a.code} {op} {b.code})", lo=lo, hi=hi)
        t = self.fresh()
        lc = self.name(loc)
        if op in ("/", "%"):
            self.flush(s)
            if fn.fuel_local:
                fn.emit("m.fuel = fu")
            fn.emit(f"{t} = {'div' if op == '/' else 'mod'}({a.code}, {b.code}, {lc})")
            return _V(t)
        # the Python operation cannot fail; only its range check can, and then the open
        # block is charged unit by unit first (what the interpreter spent before it)
        fn.emit(f"{t} = {a.code} {op} {b.code}")
        if up and down:
            fn.emit(f"if {t} > {INT_MAX} or {t} < {INT_MIN}: {self.on_fail(s)}ovf({lc})")
        elif up:
            fn.emit(f"if {t} > {INT_MAX}: {self.on_fail(s)}ovf({lc})")
        elif down:
            fn.emit(f"if {t} < {INT_MIN}: {self.on_fail(s)}ovf({lc})")
        return _V(t, lo=max(lo, INT_MIN), hi=min(hi, INT_MAX))

    def compare(self, op: str, a: _V, b: _V) -> _V:
        if a.is_const and b.is_const:
            return self.const({"<": a.const < b.const, "<=": a.const <= b.const, ">": a.const > b.const,
                               ">=": a.const >= b.const, "==": a.const == b.const,
                               "!=": a.const != b.const}[op])
        return _V(f"({a.code} {op} {b.code})")

    def bind(self, s: _Scope, v: _V) -> _V:
        """A value as a local name (or constant), so that it is evaluated once, here."""
        if v.is_const or v.code.isidentifier():
            return v
        t = self.fresh()
        s.fn.emit(f"{t} = {v.code}")
        return _V(t)

    def branch(self, s: _Scope, cond: _V, arms: list[Callable[[_Scope], _V]], tail: bool,
               test: str | None = None) -> _V:
        """`if cond: arm0 else: arm1`; the open block continues into both arms and closes in each."""
        fn = s.fn
        pending = list(fn.pending)
        region = fn.region
        depth_ok = s.depth_ok
        out = "" if tail else self.fresh()
        fn.emit(f"if {test if test is not None else cond.code}:")
        for i, arm in enumerate(arms):
            if i:
                fn.emit("else:")
            fn.ind += 1
            fn.pending = list(pending)
            fn.region = []
            s.depth_ok = depth_ok
            v = arm(s)
            self.flush(s)
            fn.emit(f"return {v.code}" if tail else f"{out} = {v.code}")
            fn.ind -= 1
        fn.region = region
        s.depth_ok = depth_ok
        return _V(out)

    # -- lowering
    def lower(self, s: _Scope, e: Expr, env: dict[str, _V], tail: bool = False) -> _V:
        if isinstance(e, Binary):
            return self.binary(s, e, env, tail)
        if isinstance(e, If):
            return self.if_(s, e, env, tail)
        if isinstance(e, Call):
            return self.call(s, e, env, tail)
        kind = type(e).__name__
        self.unit(s, [(kind, self.t.node[kind])], e.loc)
        if isinstance(e, (IntLit, BoolLit, StrLit, BytesLit)):
            return self.const(e.value)
        if isinstance(e, UnitLit):
            return self.const(())
        if isinstance(e, NoneE):
            return self.const(None)
        if isinstance(e, Var):
            if e.name in env:
                return env[e.name]
            return _V(self.name(self.p.def_closures[e.name]))
        if isinstance(e, Let):
            v = self.bind(s, self.lower(s, e.value, env))
            return self.lower(s, e.body, {**env, e.name: v}, tail)
        if isinstance(e, Seq):
            self.lower(s, e.first, env)
            return self.lower(s, e.second, env, tail)
        if isinstance(e, Match):
            sv = self.bind(s, self.lower(s, e.scrutinee, env))
            if sv.is_const and sv.const is None:
                return self.lower(s, e.none_body, env, tail)

            def some(sc: _Scope) -> _V:
                y = self.fresh("v")
                sc.fn.emit(f"{y} = {sv.code}.value")
                return self.lower(sc, e.some_body, {**env, e.some_name: _V(y)})

            return self.branch(s, sv, [lambda sc: self.lower(sc, e.none_body, env), some], tail,
                               test=f"{sv.code} is None")
        if isinstance(e, Unary):
            x = self.lower(s, e.operand, env)
            if e.op == "!":
                return self.const(not x.const) if x.is_const else _V(f"(not {x.code})")
            if x.is_const and x.const != INT_MIN:
                return self.const(-x.const)
            t = self.fresh()
            s.fn.emit(f"{t} = -{x.code}")
            s.fn.emit(f"if {t} > {INT_MAX}: {self.on_fail(s)}ovf({self.name(e.loc)})")
            return _V(t)
        if isinstance(e, SomeE):
            x = self.bind(s, self.lower(s, e.value, env))
            self.flush(s)
            t = self.fresh()
            s.fn.emit(f"alloc(m, {self.t.mem_base}, {self.name(e.loc)})")
            s.fn.emit(f"{t} = Some({x.code})")
            return _V(t)
        if isinstance(e, (ListLit, TupleLit)):
            n = len(e.items)
            if isinstance(e, ListLit) and self.t.per_element * n:
                self.unit(s, [("elements", self.t.per_element * n)], e.loc, steps=0)
            items = [self.bind(s, self.lower(s, i, env)) for i in e.items]
            self.flush(s)
            t = self.fresh()
            s.fn.emit(f"alloc(m, {self.t.mem_base + self.t.mem_per_item * n}, {self.name(e.loc)})")
            s.fn.emit(f"{t} = ({''.join(i.code + ', ' for i in items)})")
            return _V(t)
        if isinstance(e, Proj):
            x = self.lower(s, e.tuple, env)
            return _V(f"{x.code}[{e.index}]")
        if isinstance(e, Lambda):
            return self.lambda_(s, e, env)
        assert isinstance(e, Perform)
        args = [self.bind(s, self.lower(s, a, env)) for a in e.args]
        if self.t.per_effect:
            self.unit(s, [("effects", self.t.per_effect)], e.loc, steps=0)
        self.flush(s)
        decl = self.p.checked.effects[e.effect]
        ret = next(o for o in decl.ops if o.name == e.op).ret
        t = self.fresh()
        vals = "(" + "".join(a.code + ", " for a in args) + ")"
        s.fn.emit(f"{t} = perform(m, {self.name(e.effect)}, {self.name(e.op)}, {vals}, "
                  f"{self.name(ret)}, {self.name(e.loc)})")
        return _V(t)

    def binary(self, s: _Scope, e: Binary, env: dict[str, _V], tail: bool) -> _V:
        if self.binary_ok(e, env) and not (self.leaf(e.left, env) and self.leaf(e.right, env)):
            return self.gen_binary(s, e, env, [])
        parts = [("Binary", self.t.binary[e.op])]
        la = self.leaf(e.left, env)
        lb = None if e.op in ("&&", "||") else self.leaf(e.right, env)
        if la is not None:
            parts.append(self.part(e.left))
        if lb is not None:
            parts.append(self.part(e.right))
        self.unit(s, parts, e.loc)
        a = la if la is not None else self.bind(s, self.lower(s, e.left, env))
        if e.op in ("&&", "||"):
            if a.is_const:
                if bool(a.const) == (e.op == "||"):
                    return a
                return self.lower(s, e.right, env, tail)
            if e.op == "&&":
                return self.branch(s, a, [lambda sc: self.lower(sc, e.right, env), lambda sc: a], tail)
            return self.branch(s, a, [lambda sc: a, lambda sc: self.lower(sc, e.right, env)], tail)
        b = lb if lb is not None else self.bind(s, self.lower(s, e.right, env))
        return self.operate(s, e, a, b)

    def operate(self, s: _Scope, e: Binary, a: _V, b: _V) -> _V:
        op = e.op
        if op in ("+", "-", "*", "/", "%"):
            return self.arith(s, op, a, b, e.loc)
        if op in ("==", "!="):
            if isinstance(e.left, IntLit) or isinstance(e.right, IntLit) or (
                    type(a.const) is int and a.is_const):
                return self.compare(op, a, b)
            self.flush(s)
            t = self.fresh()
            s.fn.emit(f"{t} = {'' if op == '==' else 'not '}eq(m, {a.code}, {b.code}, {self.name(e.loc)})")
            return _V(t)
        if op == "++":
            self.flush(s)
            t = self.fresh()
            s.fn.emit(f"{t} = cat(m, {a.code}, {b.code}, {self.name(e.loc)})")
            return _V(t)
        return self.compare(op, a, b)

    def gen_binary(self, s: _Scope, e: Binary, env: dict[str, _V], pre: list[tuple[str, int]]) -> _V:
        """The interpreter's `_gen_binary` shape: leaf or `d(a OP b)` operands, merged charges."""
        parts = pre + [("Binary", self.t.binary[e.op])]
        la, lb = self.leaf(e.left, env), self.leaf(e.right, env)
        parts += [self.part(x) for x, lf in ((e.left, la), (e.right, lb)) if lf is not None]
        if la is None:
            assert isinstance(e.left, Call)
            a = self.gen_call1(s, e.left, env, parts)
        else:
            self.unit(s, parts, e.loc)
            a = la
        if lb is None:
            assert isinstance(e.right, Call)
            b = self.gen_call1(s, e.right, env, [])
        else:
            b = lb
        if e.op in ("+", "-", "*"):
            return self.arith(s, e.op, a, b, e.loc)
        return self.compare(e.op, a, b)

    def gen_call1(self, s: _Scope, e: Call, env: dict[str, _V], pre: list[tuple[str, int]]) -> _V:
        """The interpreter's `_gen_call1` shape: `d(a OP b)`, one charge for call and argument."""
        arg = e.args[0]
        assert isinstance(arg, Binary) and isinstance(e.func, Var)
        self.unit(s, pre + [("Call", self.t.node["Call"]), ("Binary", self.t.binary[arg.op]),
                            self.part(arg.left), self.part(arg.right)], e.loc)
        la, lb = self.leaf(arg.left, env), self.leaf(arg.right, env)
        assert la is not None and lb is not None
        x = self.arith(s, arg.op, la, lb, arg.loc)
        return self.call_def(s, e.func.name, [x], e.loc)

    def call_def(self, s: _Scope, name: str, args: list[_V], loc: Loc) -> _V:
        fn = s.fn
        self.depth_check(s, loc)
        stack = s.inline_stack
        if ((name in self.inlinable and name not in stack and len(stack) < 4)
                or (name in self.unrollable and stack == (name,) * len(stack) and len(stack) <= UNROLL)):
            d = self.defs[name]
            dn = self.fresh("d")
            fn.emit(f"{dn} = {s.depth} - 1")
            inner = _Scope(fn, dn, s.inline_stack + (name,))
            env = {p.name: self.bind(s, a) for p, a in zip(d.params, args)}
            return self.bind(inner, self.lower(inner, d.body, env))
        self.flush(s)
        t = self.fresh()
        fn.emit(f"{t} = {self.def_fn[name]}({s.depth} - 1{''.join(', ' + a.code for a in args)})")
        return _V(t)

    def if_(self, s: _Scope, e: If, env: dict[str, _V], tail: bool) -> _V:
        c = e.cond
        if (isinstance(c, Binary) and c.op in _CMP and self.leaf(c.left, env) is not None
                and self.leaf(c.right, env) is not None
                and (c.op not in ("==", "!=") or isinstance(c.left, IntLit) or isinstance(c.right, IntLit))):
            return self.fused_if(s, e, c, env, tail)
        self.unit(s, [("If", self.t.node["If"])], e.loc)
        cv = self.bind(s, self.lower(s, e.cond, env))
        if cv.is_const:
            return self.lower(s, e.then if cv.const else e.else_, env, tail)
        return self.branch(s, cv, [lambda sc: self.lower(sc, e.then, env),
                                   lambda sc: self.lower(sc, e.else_, env)], tail)

    def fused_if(self, s: _Scope, e: If, c: Binary, env: dict[str, _V], tail: bool) -> _V:
        """The interpreter's `fused_if` shape: `if a CMP b` with leaves; simple arms merged."""
        la, lb = self.leaf(c.left, env), self.leaf(c.right, env)
        assert la is not None and lb is not None
        pre = [("If", self.t.node["If"]), ("Binary", self.t.binary[c.op]), self.part(c.left),
               self.part(c.right)]
        cv = self.compare(c.op, la, lb)

        def arm(br: Expr, env: dict[str, _V]) -> Callable[[_Scope], _V]:
            def go(sc: _Scope) -> _V:
                leaf = self.leaf(br, env)
                if leaf is not None:
                    self.unit(sc, pre + [self.part(br)], br.loc)
                    return leaf
                if self.binary_ok(br, env):
                    assert isinstance(br, Binary)
                    return self.gen_binary(sc, br, env, pre)
                if self.call1_ok(br, env):
                    assert isinstance(br, Call)
                    return self.gen_call1(sc, br, env, pre)
                self.unit(sc, pre, e.loc)
                return self.lower(sc, br, env)
            return go

        if cv.is_const:
            return arm(e.then if cv.const else e.else_, env)(s)
        yes, no = _facts(c.op, la, lb)
        return self.branch(s, cv, [arm(e.then, _narrow(env, yes)), arm(e.else_, _narrow(env, no))], tail)

    def call(self, s: _Scope, e: Call, env: dict[str, _V], tail: bool) -> _V:
        f_ = e.func
        if isinstance(f_, Var) and f_.name not in env and f_.name in self.defs:
            if self.call1_ok(e, env):
                return self.gen_call1(s, e, env, [])
            self.unit(s, [("Call", self.t.node["Call"])], e.loc)
            args = [self.bind(s, self.lower(s, a, env)) for a in e.args]
            return self.call_def(s, f_.name, args, e.loc)
        if isinstance(f_, Var) and f_.name not in env and f_.name in BUILTINS:
            name = f_.name
            self.unit(s, [("Call", self.t.node["Call"]), (f"builtin:{name}", self.t.builtin[name])], e.loc)
            if name in ("map", "filter", "fold") and isinstance(e.args[-1], Lambda):
                return self.loop(s, name, e, env)
            args = [self.bind(s, self.lower(s, a, env)) for a in e.args]
            self.flush(s)
            if name in _APPLYING:
                s.fn.emit(f"m.room = {s.depth}")
            t = self.fresh()
            s.fn.emit(f"{t} = {self.name(IMPLS[name])}(m, {self.name(e.loc)}"
                      f"{''.join(', ' + a.code for a in args)})")
            return _V(t)
        self.unit(s, [("Call", self.t.node["Call"])], e.loc)
        fv = self.bind(s, self.lower(s, f_, env))
        args = [self.bind(s, self.lower(s, a, env)) for a in e.args]
        fn = s.fn
        self.depth_check(s, e.loc)
        self.flush(s)
        fn.emit(f"m.room = {s.depth} - 1")
        t = self.fresh()
        fn.emit(f"{t} = {fv.code}.body({fv.code}.captured + [{', '.join(a.code for a in args)}] "
                f"+ {fv.code}.pad)")
        return _V(t)

    def lambda_(self, s: _Scope, e: Lambda, env: dict[str, _V]) -> _V:
        self.flush(s)
        names = sorted(free_vars(e) & env.keys())
        mem = self.t.mem_base + self.t.mem_per_item * len(names)
        s.fn.emit(f"alloc(m, {mem}, {self.name(e.loc)})")
        body = self.lambda_fn(e, names, env)
        t = self.fresh()
        s.fn.emit(f"{t} = Closure({body}, [{', '.join(env[n].code for n in names)}], "
                  f"{len(e.params)}, [], '<lambda>')")
        return _V(t)

    def lambda_fn(self, e: Lambda, names: list[str], env: dict[str, _V]) -> str:
        """A lambda's body as its own function over the frame protocol (captured + arguments)."""
        fname = self.fresh("lam")
        fn = _Fn(f"def {fname}(f):")
        self.fns.append(fn)
        fn.emit("d = m.room")
        ienv: dict[str, _V] = {}
        slots = [(n, env[n]) for n in names] + [(p.name, _V("")) for p in e.params]
        for i, (n, outer) in enumerate(slots):
            if outer.is_const:
                ienv[n] = outer
            else:
                local = self.fresh("v")
                fn.emit(f"{local} = f[{i}]")
                ienv[n] = _V(local)
        sc = _Scope(fn, "d")
        v = self.bind(sc, self.lower(sc, e.body, ienv))
        self.flush(sc)
        fn.emit("m.room = d")
        fn.emit(f"return {v.code}")
        return fname

    def loop(self, s: _Scope, name: str, e: Call, env: dict[str, _V]) -> _V:
        """`map`/`filter`/`fold` over a lambda literal: a Python loop with the body inlined.

        The builtin's charges are kept in its order: the lambda node and its
        allocation, then per element one `elements` charge, the depth check
        and the body (which runs at depth - 1). The depth check cannot change
        inside the loop, so it is made once, before the first element: a run
        at depth 0 pays for that element exactly and stops there.
        """
        lam = e.args[-1]
        assert isinstance(lam, Lambda)
        args = [self.bind(s, self.lower(s, a, env)) for a in e.args[:-1]]
        self.unit(s, [("Lambda", self.t.node["Lambda"])], lam.loc)
        self.flush(s)
        fn = s.fn
        names = sorted(free_vars(lam) & env.keys())
        mem = self.t.mem_base + self.t.mem_per_item * len(names)
        fn.emit(f"alloc(m, {mem}, {self.name(lam.loc)})")
        xs = args[0]
        out = self.fresh("acc" if name == "fold" else "out")
        x = self.fresh("v")
        dn = self.fresh("d")
        lc = self.name(e.loc)
        per = self.t.per_element
        fn.emit(f"if not {s.depth} and {xs.code}:")
        fn.emit(f"    elem(m, {lc})")
        fn.emit(f"    deep(m, {lc})")
        fn.emit(f"{out} = {args[1].code if name == 'fold' else '[]'}")
        fn.emit(f"{dn} = {s.depth} - 1")
        k = len(self.sites)  # the body's region runs once per element in a run that succeeds
        self.sites.append(((), 0))
        fn.cells.add(f"h{k}")
        fn.emit(f"h{k} += len({xs.code})")
        local = _loop_simple(lam.body) and not fn.fuel_local
        if local:
            fn.emit("fu = m.fuel")
        fn.emit(f"for {x} in {xs.code}:")
        fn.ind += 1
        region, fn.region = fn.region, [k]
        fn.fuel_local = fn.fuel_local or local
        inner = _Scope(fn, dn, s.inline_stack)
        if per:
            self.unit(inner, [("elements", per)], e.loc, steps=0)
        ienv = {n: env[n] for n in names}
        ps = [p.name for p in lam.params]
        if name == "fold":
            ienv[ps[0]], ienv[ps[1]] = _V(out), _V(x)
        else:
            ienv[ps[0]] = _V(x)
        v = self.bind(inner, self.lower(inner, lam.body, ienv))
        self.flush(inner)
        if name == "fold":
            fn.emit(f"{out} = {v.code}")
        elif name == "map":
            fn.emit(f"{out}.append({v.code})")
        else:
            fn.emit(f"if {v.code}: {out}.append({x})")
        fn.ind -= 1
        fn.region = region
        if local:
            fn.fuel_local = False
            fn.emit("m.fuel = fu")
        if name == "fold":
            return _V(out)
        t = self.fresh()
        fn.emit(f"{t} = tuple({out})")
        fn.emit(f"alloc(m, {self.t.mem_base} + {self.t.mem_per_item} * len({t}), {lc})")
        return _V(t)

    # -- the module
    def def_fn_source(self, name: str, d: Def) -> None:
        fn = _Fn(f"def {self.def_fn[name]}(d{''.join(f', a{i}' for i in range(len(d.params)))}):")
        self.fns.append(fn)
        env = {p.name: _V(f"a{i}") for i, p in enumerate(d.params)}
        sc = _Scope(fn, "d", (name,))
        v = self.lower(sc, d.body, env, tail=True)
        if v.code:  # not already returned by a tail `if`
            self.flush(sc)
            fn.emit(f"return {v.code}")

    def source(self) -> str:
        for name, d in self.defs.items():
            if _nesting(d.body) > MAX_NESTING:
                raise JitUnsupported(f"{name} is nested more than {MAX_NESTING} levels deep")
            self.def_fn_source(name, d)
        ncells = len(self.sites)
        out = [f"def make({', '.join(self.ns)}):"]
        out += [f"    h{i} = 0" for i in range(ncells)]
        for fn in self.fns:
            out.append("    " + fn.header)
            if fn.cells:
                out.append(f"        nonlocal {', '.join(sorted(fn.cells, key=lambda c: int(c[1:])))}")
            out += ["    " + ln for ln in fn.lines] or ["        pass"]
        out.append(f"    def counts():\n        return [{', '.join(f'h{i}' for i in range(ncells))}]")
        out.append("    def reset():")
        if ncells:
            out.append(f"        nonlocal {', '.join(f'h{i}' for i in range(ncells))}")
            out.append("        " + " = ".join(f"h{i}" for i in range(ncells)) + " = 0")
        else:
            out.append("        pass")
        for name, d in self.defs.items():
            n = len(d.params)
            fname = self.def_fn[name]
            out.append(f"    def body_{fname}(f):\n        r = m.room\n"
                       f"        v = {fname}(r{''.join(f', f[{i}]' for i in range(n))})\n"
                       f"        m.room = r\n        return v")
        entries = ", ".join(f"{name!r}: body_{fn}" for name, fn in
                            ((self.name_key(n), self.def_fn[n]) for n in self.defs))
        out.append(f"    return {{{entries}}}, counts, reset")
        return "\n".join(out) + "\n"

    def name_key(self, name: str) -> str:
        # def names are TEL identifiers; they appear in the source only as dict keys via repr,
        # but to keep program text out of the source entirely we key by index
        return str(list(self.defs).index(name))


def _facts(op: str, a: _V, b: _V) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Bounds an Int comparison `a OP b` of a local and a constant proves in its then/else arms."""
    flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
    if b.is_const and type(b.const) is int and not a.is_const:
        x, k = a, b.const
    elif a.is_const and type(a.const) is int and not b.is_const:
        x, k, op = b, a.const, flip[op]
    else:
        return {}, {}
    if not x.code.isidentifier():
        return {}, {}
    lo, hi = x.bounds()
    yes = {"<": (lo, min(hi, k - 1)), "<=": (lo, min(hi, k)), ">": (max(lo, k + 1), hi),
           ">=": (max(lo, k), hi), "==": (k, k), "!=": (lo, hi)}[op]
    no = {"<": (max(lo, k), hi), "<=": (max(lo, k + 1), hi), ">": (lo, min(hi, k)),
          ">=": (lo, min(hi, k - 1)), "==": (lo, hi), "!=": (k, k)}[op]
    return {x.code: yes}, {x.code: no}


def _narrow(env: dict[str, _V], facts: dict[str, tuple[int, int]]) -> dict[str, _V]:
    if not facts:
        return env
    out = dict(env)
    for name, v in env.items():
        if not v.is_const and v.code in facts:
            lo, hi = facts[v.code]
            out[name] = _V(v.code, lo=lo, hi=hi)
    return out


def _self_calls(d: Def) -> int:
    n, stack = 0, [d.body]
    while stack:
        x = stack.pop()
        n += isinstance(x, Var) and x.name == d.name
        stack.extend(children(x))
    return n


def _loop_simple(e: Expr) -> bool:
    """A lambda body that never calls, allocates or looks at the fuel (its loop keeps fuel local)."""
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, (Call, Lambda, Perform, ListLit, TupleLit, SomeE)):
            return False
        if isinstance(x, Binary) and (x.op == "++" or (
                x.op in ("==", "!=") and not (isinstance(x.left, IntLit) or isinstance(x.right, IntLit)))):
            return False
        stack.extend(children(x))
    return True


def _nesting(e: Expr) -> int:
    depth, stack = 0, [(e, 1)]
    while stack:
        x, d = stack.pop()
        depth = max(depth, d)
        stack.extend((c, d + 1) for c in children(x))
    return depth


def _code(text: str) -> CodeType:
    key = hashlib.blake2b(f"{JIT_VERSION}\n{text}".encode(), digest_size=16).hexdigest()
    code = _CODE.get(key)
    if code is None:
        if len(_CODE) > 512:
            _CODE.clear()
        code = _CODE[key] = compile(text, "<tel-jit>", "exec")
    return code


class JitModule:
    """A module's compiled code: the per-definition entry bodies and the block counters."""

    def __init__(self, bodies: dict[str, Callable[[list[Value]], Value]],
                 counts: Callable[[], list[int]], reset: Callable[[], None],
                 sites: list[tuple[tuple[tuple[str, int], ...], int]], source: str) -> None:
        self.bodies = bodies
        self.counts = counts
        self.reset = reset
        self.sites = sites
        self.source = source

    def add_breakdown(self, out: dict[str, int]) -> int:
        """Add the blocks' charges to a breakdown; return the steps (expression nodes) they ran."""
        steps = 0
        for (parts, nsteps), h in zip(self.sites, self.counts()):
            if h:
                steps += h * nsteps
                for kind, c in parts:
                    out[kind] = out.get(kind, 0) + h * c
        return steps


def compile_module(prog: Program) -> JitModule:
    """Compile every definition of `prog`'s module; raise `JitUnsupported` if it cannot be."""
    gen = _Gen(prog)
    try:
        text = gen.source()
        scope: dict[str, Any] = {}
        exec(_code(text), scope)  # generated from fixed pieces and generated names only
        bodies_by_index, counts, reset = scope["make"](**gen.ns)
    except (RecursionError, SyntaxError, MemoryError) as exc:
        raise JitUnsupported(f"module not compiled: {type(exc).__name__}") from None
    names = list(prog.checked.defs)
    bodies = {names[int(k)]: v for k, v in bodies_by_index.items()}
    return JitModule(bodies, counts, reset, gen.sites, text)
