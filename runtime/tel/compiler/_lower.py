"""Lowering: a checked TEL module to the compiler's IR, charging exactly as the interpreter.

The IR is a list of instructions per function over *virtual registers*,
each holding one 64-bit TEL value (an Int, a Bool as 0/1, Unit as 0).

Exact cost
    The reference interpreter (`stele.tel._interp`) charges in *units*:
    one charge per closure entry, and its fused fast paths (`a OP b` with
    leaf operands, `if a < b then ..`, `d(n - 1)`, `d(..) + d(..)`) charge
    several nodes as one unit. A unit's position decides how much was spent
    when a limit stops the run, so this lowering makes the same decisions,
    shape for shape, and emits one `charge` per unit in the same order
    (never merged further). Every instruction that can fail names a *site*:
    its kind, source location and cost, so the host turns a guest's exit
    into the same typed error, with the same message and cost, as the
    interpreter raises.

Only a subset of TEL compiles today (see `SUPPORTED`); anything else raises
`CompileUnsupported` naming the construct, and the program stays on the
interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._ast import (
    Binary, BoolLit, BytesLit, Call, Def, Expr, If, IntLit, Lambda, Let, ListLit, Match, NoneE, Proj, Seq,
    SomeE, StrLit, TFn, TList, TName, TOption, TTuple, TupleLit, Type, Unary, UnitLit, Var,
)
from .._builtins import BUILTINS
from .._cost import CostTable
from .._errors import Loc, TelError
from .._printer import print_type
from .._types import CheckedModule

__all__ = ["CompileUnsupported", "Site", "IrFunc", "IrModule", "lower_module", "SUPPORTED"]

#: builtins the compiled code implements (the rest raise CompileUnsupported)
COMPILED_BUILTINS = frozenset(("get_or_else", "size", "get", "append", "range", "map", "filter", "fold",
                               "exists", "forall", "slice", "int_to_string", "int_to_bytes", "bytes_to_int",
                               "string_to_bytes", "bytes_to_hex", "string_to_int", "bytes_to_string"))
#: what compiles (the rest raises CompileUnsupported)
SUPPORTED = (
    "types Int, Bool, Unit, String, Bytes, List[T], Option[T], tuples and functions; literals; "
    "local variables; let; if; `;`; unary - and !; "
    "+ - * / % with TEL's overflow and division errors; < <= > >=; == != on every comparable type "
    "(structural, charged per element as the interpreter); ++ on strings, bytes and lists; "
    "&& ||; calls of definitions (recursion, mutual recursion) under the depth limit; "
    "Option (Some, None, match) and tuples (literals, projection) with the memory limit; "
    "lambdas (closures capturing locals) and calls of function values; the builtins "
    + ", ".join(sorted(COMPILED_BUILTINS)) + "; "
    "entry arguments and results of any data type (not functions)"
)
INT, BOOL, UNIT = TName("Int"), TName("Bool"), TName("Unit")
STRING, BYTES = TName("String"), TName("Bytes")
#: the type of `None` before anything says what it holds
UNKNOWN_OPTION = TOption(TName("?"))
_SCALARS = (INT, BOOL, UNIT)
_ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod"}
_CMP = ("<", "<=", ">", ">=")


def _at(loc: Loc) -> str:
    return f"{loc}: " if loc.line else ""


class CompileUnsupported(TelError):
    """The program uses a TEL construct the RISC-V compiler does not translate (yet)."""


@dataclass(frozen=True)
class Site:
    """A point of the program that can stop a run: what stops there, where, and its cost."""

    kind: str  # "fuel", "depth", "overflow", "divzero"
    loc: Loc
    cost: int = 0


@dataclass
class IrFunc:
    """One function: its name, parameter count and instruction list."""

    name: str
    nparams: int
    code: list[tuple[Any, ...]] = field(default_factory=list)
    nvregs: int = 0

    def vreg(self) -> int:
        self.nvregs += 1
        return self.nvregs - 1

    def emit(self, *ins: Any) -> None:
        self.code.append(ins)


@dataclass
class IrModule:
    """Every definition's function, the sites table, and the entry's signature."""

    funcs: dict[str, IrFunc]
    sites: list[Site]
    entry: str
    param_types: tuple[Type, ...]
    ret_type: Type
    #: literal label -> (length word, bytes) of every String / Bytes literal
    lits: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    #: the per-type routines (`==`) the code calls
    typed: Any = None
    mem_base: int = 16


class _Lower:
    def __init__(self, checked: CheckedModule, table: CostTable) -> None:
        self.c = checked
        self.t = table
        self.sites: list[Site] = []
        self.labels = 0
        self.lambdas: dict[str, IrFunc] = {}
        from ._rttyped import Typed
        from ._typeinfo import expr_types
        self.types = expr_types(checked)
        self.lits: dict[str, tuple[int, bytes]] = {}
        self.lit_labels: dict[tuple[str, bytes], str] = {}
        self.typed = Typed()
        if table.per_element != 1 or table.mem_per_item != 8:
            raise CompileUnsupported("the compiler needs a cost table with per_element 1 and mem_per_item 8")

    def ty(self, e: Expr) -> Type:
        """The type the checker inferred for `e` (UNKNOWN if it left it open)."""
        from ._typeinfo import UNKNOWN
        return self.types.get(id(e), UNKNOWN)

    def site(self, kind: str, loc: Loc, cost: int = 0) -> int:
        self.sites.append(Site(kind, loc, cost))
        return len(self.sites) - 1

    def label(self) -> str:
        self.labels += 1
        return f"L{self.labels}"

    def charge(self, f: IrFunc, parts: list[tuple[str, int]], loc: Loc) -> None:
        """One interpreter unit: its parts are charged together, before its step."""
        cost = sum(c for _, c in parts)
        f.emit("charge", cost, self.site("fuel", loc, cost))

    def dyn(self, f: IrFunc, cost: int, loc: Loc) -> None:
        """A dynamic charge (`charge(m, c, kind, loc)` in the interpreter), if non-zero."""
        if cost:
            f.emit("charge", cost, self.site("fuel", loc, cost))

    def part(self, e: Expr) -> tuple[str, int]:
        kind = type(e).__name__
        return (kind, self.t.node[kind])

    # -- shapes of the reference interpreter (decision for decision)
    def is_leaf(self, e: Expr, env: dict[str, tuple[int, Type]]) -> bool:
        return isinstance(e, (IntLit, BoolLit, UnitLit)) or (isinstance(e, Var) and e.name in env) or \
            type(e).__name__ in ("StrLit", "BytesLit")

    def call1_ok(self, e: Expr, env: dict[str, tuple[int, Type]]) -> bool:
        if not (isinstance(e, Call) and len(e.args) == 1 and isinstance(e.func, Var)
                and e.func.name not in env and e.func.name in self.c.defs):
            return False
        a = e.args[0]
        return isinstance(a, Binary) and a.op in ("+", "-", "*") and self.is_leaf(a.left, env) \
            and self.is_leaf(a.right, env)

    def binary_ok(self, e: Expr, env: dict[str, tuple[int, Type]]) -> bool:
        if not (isinstance(e, Binary) and e.op in ("+", "-", "*", "<", "<=", ">", ">=")):
            return False
        return all(self.is_leaf(x, env) or self.call1_ok(x, env) for x in (e.left, e.right))

    def leaf(self, f: IrFunc, e: Expr, env: dict[str, tuple[int, Type]]) -> tuple[int, Type]:
        """The value of a leaf operand (no charge: its unit is its parent's)."""
        if isinstance(e, Var):
            return env[e.name]
        return self.literal(f, e)

    def literal(self, f: IrFunc, e: Expr) -> tuple[int, Type]:
        d = f.vreg()
        if isinstance(e, IntLit):
            f.emit("const", d, e.value)
            return d, INT
        if isinstance(e, BoolLit):
            f.emit("const", d, int(e.value))
            return d, BOOL
        if isinstance(e, UnitLit):
            f.emit("const", d, 0)
            return d, UNIT
        if isinstance(e, (StrLit, BytesLit)):
            data = e.value.encode("utf-8") if isinstance(e, StrLit) else e.value
            kind = "s" if isinstance(e, StrLit) else "b"
            label = self.lit_labels.get((kind, data))
            if label is None:
                label = self.lit_labels[(kind, data)] = f"lit_{len(self.lit_labels)}"
                self.lits[label] = (len(e.value), data)
            f.emit("lit", d, label)
            return d, STRING if isinstance(e, StrLit) else BYTES
        raise CompileUnsupported(f"{_at(e.loc)}{type(e).__name__} does not compile to RISC-V yet")

    # -- lowering
    def expr(self, f: IrFunc, e: Expr, env: dict[str, tuple[int, Type]]) -> tuple[int, Type]:
        if isinstance(e, Binary):
            return self.binary(f, e, env)
        if isinstance(e, If):
            return self.if_(f, e, env)
        if isinstance(e, Call):
            return self.call(f, e, env)
        if isinstance(e, (IntLit, BoolLit, UnitLit, StrLit, BytesLit)):
            self.charge(f, [self.part(e)], e.loc)
            return self.literal(f, e)
        if isinstance(e, ListLit):
            # the interpreter: the node, then one element per item, the items, then the memory
            self.charge(f, [self.part(e)], e.loc)
            n = len(e.items)
            self.dyn(f, self.t.per_element * n, e.loc)
            vals = [self.expr(f, i, env)[0] for i in e.items]
            d = f.vreg()
            mem = self.t.mem_base + self.t.mem_per_item * n
            f.emit("alloc", d, mem, n + 1, self.site("memory", e.loc, mem))
            f.emit("sethdr", d, n)
            for i, x in enumerate(vals):
                f.emit("store", d, 1 + i, x)
            return d, self.ty(e)
        if isinstance(e, Var):
            if e.name not in env:
                raise CompileUnsupported(f"{_at(e.loc)}a definition used as a value does not compile yet")
            self.charge(f, [self.part(e)], e.loc)
            return env[e.name]
        if isinstance(e, Let):
            self.charge(f, [self.part(e)], e.loc)
            v, t = self.expr(f, e.value, env)
            # a fresh register: the bound value must not change if `v` is a variable reassigned later
            d = f.vreg()
            f.emit("mov", d, v)
            return self.expr(f, e.body, {**env, e.name: (d, t)})
        if isinstance(e, Seq):
            self.charge(f, [self.part(e)], e.loc)
            self.expr(f, e.first, env)
            return self.expr(f, e.second, env)
        if isinstance(e, Lambda):
            return self.lambda_(f, e, env)
        if isinstance(e, NoneE):
            self.charge(f, [self.part(e)], e.loc)
            d = f.vreg()
            f.emit("const", d, 0)
            return d, UNKNOWN_OPTION
        if isinstance(e, SomeE):
            self.charge(f, [self.part(e)], e.loc)
            x, t = self.expr(f, e.value, env)
            d = f.vreg()
            f.emit("alloc", d, self.t.mem_base, 1, self.site("memory", e.loc, self.t.mem_base))
            f.emit("store", d, 0, x)
            return d, TOption(t)
        if isinstance(e, TupleLit):
            if len(e.items) > MAX_TUPLE:
                raise CompileUnsupported(f"{_at(e.loc)}a tuple of {len(e.items)} items does not compile "
                                         f"(at most {MAX_TUPLE})")
            self.charge(f, [self.part(e)], e.loc)
            items = [self.expr(f, i, env) for i in e.items]
            n = len(items)
            d = f.vreg()
            mem = self.t.mem_base + self.t.mem_per_item * n
            f.emit("alloc", d, mem, n, self.site("memory", e.loc, mem))
            for i, (x, _) in enumerate(items):
                f.emit("store", d, i, x)
            return d, TTuple(tuple(t for _, t in items))
        if isinstance(e, Proj):
            self.charge(f, [self.part(e)], e.loc)
            x, t = self.expr(f, e.tuple, env)
            d = f.vreg()
            f.emit("load", d, x, e.index)
            return d, t.items[e.index] if isinstance(t, TTuple) else UNKNOWN_OPTION
        if isinstance(e, Match):
            self.charge(f, [self.part(e)], e.loc)
            sv, st = self.expr(f, e.scrutinee, env)
            d = f.vreg()
            none, done = self.label(), self.label()
            f.emit("bz", sv, none)
            y = f.vreg()
            f.emit("load", y, sv, 0)
            et = st.elem if isinstance(st, TOption) else UNKNOWN_OPTION
            v, t = self.expr(f, e.some_body, {**env, e.some_name: (y, et)})
            f.emit("mov", d, v)
            f.emit("jmp", done)
            f.emit("label", none)
            v, t2 = self.expr(f, e.none_body, env)
            f.emit("mov", d, v)
            f.emit("label", done)
            return d, t if t != UNKNOWN_OPTION else t2
        if isinstance(e, Unary):
            self.charge(f, [self.part(e)], e.loc)
            x, t = self.expr(f, e.operand, env)
            d = f.vreg()
            if e.op == "!":
                f.emit("not", d, x)
                return d, BOOL
            f.emit("neg", d, x, self.site("overflow", e.loc))
            return d, INT
        raise CompileUnsupported(f"{_at(e.loc)}{type(e).__name__} does not compile to RISC-V yet")

    def operand(self, f: IrFunc, e: Expr, env: dict[str, tuple[int, Type]], fused: bool
                ) -> tuple[int, Type]:
        return self.leaf(f, e, env) if fused else self.expr(f, e, env)

    def binary(self, f: IrFunc, e: Binary, env: dict[str, tuple[int, Type]]) -> tuple[int, Type]:
        if self.binary_ok(e, env) and not (self.is_leaf(e.left, env) and self.is_leaf(e.right, env)):
            return self.gen_binary(f, e, env, [])
        parts = [("Binary", self.t.binary[e.op])]
        la = self.is_leaf(e.left, env)
        lb = e.op not in ("&&", "||") and self.is_leaf(e.right, env)
        if la:
            parts.append(self.part(e.left))
        if lb:
            parts.append(self.part(e.right))
        self.charge(f, parts, e.loc)
        a, ta = self.operand(f, e.left, env, la)
        if e.op in ("&&", "||"):
            d = f.vreg()
            done = self.label()
            f.emit("mov", d, a)
            f.emit("bz" if e.op == "&&" else "bnz", a, done)
            b, _ = self.expr(f, e.right, env)
            f.emit("mov", d, b)
            f.emit("label", done)
            return d, BOOL
        b, tb = self.operand(f, e.right, env, lb)
        return self.operate(f, e, a, ta, b)

    def operate(self, f: IrFunc, e: Binary, a: int, ta: Type, b: int) -> tuple[int, Type]:
        d = f.vreg()
        if e.op in _ARITH:
            kind = "divzero" if e.op in ("/", "%") else "overflow"
            f.emit(_ARITH[e.op], d, a, b, self.site(kind, e.loc),
                   self.site("overflow", e.loc) if e.op == "/" else -1)
            return d, INT
        if e.op in _CMP:
            f.emit("cmp", e.op, d, a, b)
            return d, BOOL
        if e.op in ("==", "!="):
            ta = self.ty(e.left)
            if ta in _SCALARS:
                if ta != INT:  # the interpreter pays per element of a non-Int left value (1 for a scalar)
                    self.dyn(f, self.t.per_element, e.loc)
                f.emit("cmp", e.op, d, a, b)
                return d, BOOL
            if not compilable_type(ta) or _has_fn(ta):
                raise CompileUnsupported(f"{_at(e.loc)}== on values of type {print_type(ta)} does not compile yet")
            # the left value's unfolded size is charged first (measured as the interpreter does)
            f.emit("rt", -1, self.typed.label("eqc", ta), [a], [self.site("fuel", e.loc)])
            if e.op == "==":
                f.emit("rt", d, self.typed.label("eq", ta), [a, b], [])
            else:
                x = f.vreg()
                f.emit("rt", x, self.typed.label("eq", ta), [a, b], [])
                f.emit("not", d, x)
            return d, BOOL
        if e.op == "++":
            t = self.ty(e)
            routine = "rt_concat_list" if isinstance(t, TList) else "rt_concat_str"
            f.emit("rt", d, routine, [a, b], [self.site("fuel", e.loc), self.site("memory", e.loc)])
            return d, t
        raise CompileUnsupported(f"{_at(e.loc)}the operator {e.op} does not compile to RISC-V yet")

    def gen_binary(self, f: IrFunc, e: Binary, env: dict[str, tuple[int, Type]],
                   pre: list[tuple[str, int]]) -> tuple[int, Type]:
        """The interpreter's `_gen_binary`: leaf or `d(a OP b)` operands, merged charges."""
        parts = pre + [("Binary", self.t.binary[e.op])]
        la, lb = self.is_leaf(e.left, env), self.is_leaf(e.right, env)
        parts += [self.part(x) for x, lf in ((e.left, la), (e.right, lb)) if lf]
        if not la:
            assert isinstance(e.left, Call)
            a, ta = self.gen_call1(f, e.left, env, parts)
        else:
            self.charge(f, parts, e.loc)
            a, ta = self.leaf(f, e.left, env)
        if not lb:
            assert isinstance(e.right, Call)
            b, _ = self.gen_call1(f, e.right, env, [])
        else:
            b, _ = self.leaf(f, e.right, env)
        return self.operate(f, e, a, ta, b)

    def gen_call1(self, f: IrFunc, e: Call, env: dict[str, tuple[int, Type]],
                  pre: list[tuple[str, int]]) -> tuple[int, Type]:
        """The interpreter's `_gen_call1`: `d(a OP b)`, one charge for the call and its argument."""
        arg = e.args[0]
        assert isinstance(arg, Binary) and isinstance(e.func, Var)
        self.charge(f, pre + [("Call", self.t.node["Call"]), ("Binary", self.t.binary[arg.op]),
                              self.part(arg.left), self.part(arg.right)], e.loc)
        a, _ = self.leaf(f, arg.left, env)
        b, _ = self.leaf(f, arg.right, env)
        x = f.vreg()
        f.emit(_ARITH[arg.op], x, a, b, self.site("overflow", arg.loc), -1)
        return self.call_def(f, e.func.name, [x], e.loc)

    def call_def(self, f: IrFunc, name: str, args: list[int], loc: Loc) -> tuple[int, Type]:
        d = f.vreg()
        f.emit("call", d, name, args, self.site("depth", loc))
        return d, self.c.def_types[name].ret

    def call(self, f: IrFunc, e: Call, env: dict[str, tuple[int, Type]]) -> tuple[int, Type]:
        fn = e.func
        if isinstance(fn, Var) and fn.name not in env and fn.name in self.c.defs:
            if self.call1_ok(e, env):
                return self.gen_call1(f, e, env, [])
            self.charge(f, [("Call", self.t.node["Call"])], e.loc)
            args = [self.expr(f, a, env)[0] for a in e.args]
            return self.call_def(f, fn.name, args, e.loc)
        if isinstance(fn, Var) and fn.name not in env and fn.name in BUILTINS and fn.name != "get_or_else":
            return self.builtin(f, e, fn.name, env)
        if isinstance(fn, Var) and fn.name not in env and fn.name == "get_or_else":
            # the interpreter's builtin call: Call and builtin cost as one unit, then the arguments
            self.charge(f, [("Call", self.t.node["Call"]), ("builtin:get_or_else", self.t.builtin[fn.name])],
                        e.loc)
            o, _ = self.expr(f, e.args[0], env)
            dflt, t = self.expr(f, e.args[1], env)
            d = f.vreg()
            none, done = self.label(), self.label()
            f.emit("bz", o, none)
            f.emit("load", d, o, 0)
            f.emit("jmp", done)
            f.emit("label", none)
            f.emit("mov", d, dflt)
            f.emit("label", done)
            return d, t
        if not (isinstance(fn, Var) and fn.name not in env):
            # a function value: Call charged, then the function, the arguments, the depth check
            self.charge(f, [("Call", self.t.node["Call"])], e.loc)
            fv, ft = self.expr(f, fn, env)
            args = [self.expr(f, a, env)[0] for a in e.args]
            d = f.vreg()
            f.emit("callv", d, fv, args, self.site("depth", e.loc))
            return d, ft.ret if isinstance(ft, TFn) else UNKNOWN_OPTION
        what = f"the builtin {fn.name}" if isinstance(fn, Var) and fn.name not in env else "a function value"
        raise CompileUnsupported(f"{_at(e.loc)}calling {what} does not compile to RISC-V yet")

    def builtin(self, f: IrFunc, e: Call, name: str, env: dict[str, tuple[int, Type]]) -> tuple[int, Type]:
        """A builtin call: Call and the builtin's cost as one unit, the arguments, then its own charges."""
        if name not in COMPILED_BUILTINS:
            raise CompileUnsupported(f"{_at(e.loc)}the builtin {name} does not compile to RISC-V yet")
        self.charge(f, [("Call", self.t.node["Call"]), (f"builtin:{name}", self.t.builtin[name])], e.loc)
        args = [self.expr(f, a, env)[0] for a in e.args]
        d = f.vreg()
        t = self.ty(e)
        loc = e.loc
        if name == "size":
            f.emit("len", d, args[0])
        elif name == "get":
            f.emit("rt", d, "rt_get", args, [self.site("memory", loc)])
        elif name == "slice":
            tx = self.ty(e.args[0])
            kind = 0 if isinstance(tx, TList) else 1 if tx == BYTES else 2
            f.emit("rt", d, "rt_slice", args, [self.site("fuel", loc), self.site("memory", loc), kind])
        elif name in ("int_to_string", "int_to_bytes", "bytes_to_int"):
            f.emit("rt", d, f"rt_{name}", args, [self.site("memory", loc)])
        elif name in ("string_to_bytes", "bytes_to_hex", "string_to_int", "bytes_to_string"):
            f.emit("rt", d, f"rt_{name}", args, [self.site("fuel", loc), self.site("memory", loc)])
        elif name in ("append", "range"):
            f.emit("rt", d, f"rt_{name}", args, [self.site("fuel", loc), self.site("memory", loc)])
        elif name in ("map", "filter"):
            f.emit("rt", d, f"rt_{name}", args,
                   [self.site("fuel", loc), self.site("depth", loc), self.site("memory", loc)])
        elif name in ("exists", "forall", "fold"):
            f.emit("rt", d, f"rt_{name}", args, [self.site("fuel", loc), self.site("depth", loc)])
        else:  # pragma: no cover - COMPILED_BUILTINS lists the cases above
            raise CompileUnsupported(f"{_at(loc)}the builtin {name} does not compile to RISC-V yet")
        return d, t

    def lambda_(self, f: IrFunc, e: Lambda, env: dict[str, tuple[int, Type]]) -> tuple[int, Type]:
        """A closure: [code address, captured...] on the heap; its body is a function of its own."""
        from .._free import free_vars
        self.charge(f, [self.part(e)], e.loc)
        names = sorted(free_vars(e) & env.keys())
        name = f"<lambda {len(self.lambdas)}>"
        g = IrFunc(name, 1 + len(e.params))
        self.lambdas[name] = g
        cp = g.vreg()
        g.emit("param", cp, 0)
        ienv: dict[str, tuple[int, Type]] = {}
        for i, n in enumerate(names):
            v = g.vreg()
            g.emit("load", v, cp, 1 + i)
            ienv[n] = (v, env[n][1])
        for i, p in enumerate(e.params):
            v = g.vreg()
            g.emit("param", v, 1 + i)
            ienv[p.name] = (v, p.type)
        r, rt = self.expr(g, e.body, ienv)
        g.emit("ret", r)
        mem = self.t.mem_base + self.t.mem_per_item * len(names)
        d = f.vreg()
        f.emit("alloc", d, mem, 1 + len(names), self.site("memory", e.loc, mem))
        f.emit("fnaddr", d, name)
        for i, n in enumerate(names):
            f.emit("store", d, 1 + i, env[n][0])
        return d, TFn(tuple(p.type for p in e.params), rt)

    def if_(self, f: IrFunc, e: If, env: dict[str, tuple[int, Type]]) -> tuple[int, Type]:
        c = e.cond
        d = f.vreg()
        els, done = self.label(), self.label()
        if (isinstance(c, Binary) and c.op in ("<", "<=", ">", ">=", "==", "!=")
                and self.is_leaf(c.left, env) and self.is_leaf(c.right, env)
                and (c.op not in ("==", "!=") or isinstance(c.left, IntLit) or isinstance(c.right, IntLit))):
            # the interpreter's `fused_if`: condition and a simple arm charged as one unit
            pre = [("If", self.t.node["If"]), ("Binary", self.t.binary[c.op]), self.part(c.left),
                   self.part(c.right)]
            a, _ = self.leaf(f, c.left, env)
            b, _ = self.leaf(f, c.right, env)
            cv = f.vreg()
            f.emit("cmp", c.op, cv, a, b)
            f.emit("bz", cv, els)
            t = self.fused_arm(f, e, e.then, env, pre, d)
            f.emit("jmp", done)
            f.emit("label", els)
            self.fused_arm(f, e, e.else_, env, pre, d)
            f.emit("label", done)
            return d, t
        self.charge(f, [("If", self.t.node["If"])], e.loc)
        cv, _ = self.expr(f, c, env)
        f.emit("bz", cv, els)
        v, t = self.expr(f, e.then, env)
        f.emit("mov", d, v)
        f.emit("jmp", done)
        f.emit("label", els)
        v, _ = self.expr(f, e.else_, env)
        f.emit("mov", d, v)
        f.emit("label", done)
        return d, t

    def fused_arm(self, f: IrFunc, e: If, br: Expr, env: dict[str, tuple[int, Type]],
                  pre: list[tuple[str, int]], d: int) -> Type:
        if self.is_leaf(br, env):
            self.charge(f, pre + [self.part(br)], br.loc)
            v, t = self.leaf(f, br, env)
        elif self.binary_ok(br, env):
            assert isinstance(br, Binary)
            v, t = self.gen_binary(f, br, env, pre)
        elif self.call1_ok(br, env):
            assert isinstance(br, Call)
            v, t = self.gen_call1(f, br, env, pre)
        else:
            self.charge(f, pre, e.loc)
            v, t = self.expr(f, br, env)
        f.emit("mov", d, v)
        return t

    def func(self, d: Def) -> IrFunc:
        f = IrFunc(d.name, len(d.params))
        env: dict[str, tuple[int, Type]] = {}
        for i, p in enumerate(d.params):
            if not compilable_type(p.type):
                raise CompileUnsupported(f"{_at(p.loc)}a parameter of type {print_type(p.type)} does not compile yet")
            v = f.vreg()
            f.emit("param", v, i)
            env[p.name] = (v, p.type)
        if not compilable_type(d.ret):
            raise CompileUnsupported(f"{_at(d.loc)}a result of type {print_type(d.ret)} does not compile yet")
        r, _ = self.expr(f, d.body, env)
        f.emit("ret", r)
        return f


def compilable_type(t: Type) -> bool:
    """Types whose values the compiled code represents (every data type; `?` for an open one)."""
    if isinstance(t, TName):
        return t.name in ("Int", "Bool", "Unit", "String", "Bytes", "?")
    if isinstance(t, (TOption, TList)):
        return compilable_type(t.elem)
    if isinstance(t, TTuple):
        return len(t.items) <= MAX_TUPLE and all(compilable_type(i) for i in t.items)
    assert isinstance(t, TFn)
    return False


#: the widest tuple the compiled code handles (its items are addressed by 12-bit offsets)
MAX_TUPLE = 200


def _has_fn(t: Type) -> bool:
    if isinstance(t, TFn):
        return True
    if isinstance(t, (TOption, TList)):
        return _has_fn(t.elem)
    if isinstance(t, TTuple):
        return any(_has_fn(i) for i in t.items)
    return False


def lower_module(checked: CheckedModule, entry: str, table: CostTable) -> IrModule:
    """Lower every definition `entry` can reach; raise `CompileUnsupported` for what cannot be."""
    if entry not in checked.defs:
        raise TelError(f"no definition named {entry!r}")
    for p in checked.defs[entry].params:
        if not compilable_type(p.type) or _has_fn(p.type):
            raise CompileUnsupported(f"{_at(p.loc)}an entry argument of type {print_type(p.type)} does not compile yet")
    low = _Lower(checked, table)
    reach = _reachable(checked, entry)
    funcs = {name: low.func(checked.defs[name]) for name in checked.defs if name in reach}
    funcs.update(low.lambdas)
    d = checked.defs[entry]
    return IrModule(funcs, low.sites, entry, tuple(p.type for p in d.params), d.ret, low.lits, low.typed, table.mem_base)


def _reachable(checked: CheckedModule, entry: str) -> set[str]:
    from .._free import children
    seen, todo = {entry}, [entry]
    while todo:
        stack: list[Expr] = [checked.defs[todo.pop()].body]
        while stack:
            e = stack.pop()
            if isinstance(e, Var) and e.name in checked.defs and e.name not in seen:
                seen.add(e.name)
                todo.append(e.name)
            stack.extend(children(e))
    return seen
