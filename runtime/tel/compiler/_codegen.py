"""Code generation: the IR of each function, allocated, to RV32IM instructions.

Conventions (the compiler's own; nothing else calls this code)
    * ``gp`` holds the fuel of the current slice (unsigned 32 bits; the rest
      of the fuel is in the data word ``RESERVE``), ``tp`` the calls left
      before the depth limit.
    * A caller stores its arguments (8 bytes each, little-endian words lo,
      hi) at the bottom of its own frame; the callee reads argument i at
      ``sp + frame + 8 i``. The result comes back in ``a0`` (lo), ``a1`` (hi).
    * s0..s11 are callee-saved (they hold the allocated pairs); t*, a* are
      scratch. The runtime routines (`_runtime`) touch only t* and a*.
    * A fuel charge is ``sltiu t0, gp, c; bnez t0, slow; addi gp, gp, -c``.
      Its slow path (at the end of the function) calls ``rt_refuel``, which
      hands out the next slice or stops the run with the fuel error at the
      charge's site; then the charge is tried again, so the stopping point
      is the interpreter's exactly.
"""

from __future__ import annotations

from typing import Any

from ._asm import REG, Asm
from ._lower import CompileUnsupported, IrFunc
from ._regalloc import Allocation, allocate, intervals

__all__ = ["gen_function", "ERR_FUEL", "ERR_DEPTH", "ERR_OVERFLOW", "ERR_DIVZERO", "ERR_MEMORY",
           "ERR_INPUT", "ERR_HOST_MEMORY", "ERR_INTERNAL"]

ERR_FUEL, ERR_DEPTH, ERR_MEMORY, ERR_OVERFLOW, ERR_DIVZERO, ERR_INPUT = 10, 11, 12, 13, 14, 90
#: the heap could not grow (a host limit, not a TEL error); code no TEL program reaches (a compiler bug)
ERR_HOST_MEMORY, ERR_INTERNAL = 91, 93
ZERO, RA, SP, GP, TP = 0, 1, 2, 3, 4
T0, T1, T2, T3, T4, T5, T6 = (REG[f"t{i}"] for i in range(7))
A0, A1, A2, A3, A4, A5, A6, A7 = (REG[f"a{i}"] for i in range(8))


def _operands(ins: tuple[Any, ...]) -> list[int]:
    op = ins[0]
    if op in ("const", "param"):
        return [ins[1]]
    if op in ("mov", "not", "neg"):
        return [ins[1], ins[2]]
    if op in ("add", "sub", "mul", "div", "mod"):
        return [ins[1], ins[2], ins[3]]
    if op == "cmp":
        return [ins[2], ins[3], ins[4]]
    if op == "alloc":
        return [ins[1]]
    if op == "store":
        return [ins[1], ins[3]]
    if op == "load":
        return [ins[1], ins[2]]
    if op in ("bz", "bnz", "ret"):
        return [ins[1]]
    if op == "call":
        return [ins[1], *ins[3]]
    if op == "callv":
        return [ins[1], ins[2], *ins[3]]
    if op in ("fnaddr", "lit", "sethdr"):
        return [ins[1]]
    if op == "len":
        return [ins[1], ins[2]]
    if op == "rt":
        return ([ins[1]] if ins[1] >= 0 else []) + list(ins[3])
    return []


class _Func:
    def __init__(self, asm: Asm, f: IrFunc, fn_label: dict[str, str]) -> None:
        self.a = asm
        self.f = f
        self.fn_label = fn_label
        ops = [_operands(i) for i in f.code]
        self.alloc: Allocation = allocate(intervals(f.code, ops))
        self.out: int = 8 * max([len(i[3]) + (i[0] == "callv") for i in f.code if i[0] in ("call", "callv")]
                           + [0])
        self.spill = self.out
        nsave = 2 * len(self.alloc.used)
        size = self.out + 8 * len(self.alloc.slots) + 4 * nsave + 4
        self.frame: int = (size + 15) & ~15
        if self.frame > 2032:
            raise CompileUnsupported(f"{f.name}: its frame ({self.frame} bytes) is too large to compile yet")
        self.slow: list[tuple[str, list[tuple[str, Any]]]] = []
        self.epilogue = asm.fresh("ret")
        self.labels: dict[str, str] = {}

    # -- operand access
    def src(self, v: int, lo: int, hi: int) -> tuple[int, int]:
        """The registers holding `v` (loading a spilled one into lo/hi)."""
        pair = self.alloc.pairs.get(v)
        if pair is not None:
            return pair
        off = self.spill + 8 * self.alloc.slots[v]
        self.a("lw", lo, SP, imm=off)
        self.a("lw", hi, SP, imm=off + 4)
        return lo, hi

    def dst(self, v: int, lo: int, hi: int) -> None:
        """Store the value in lo/hi to `v`'s home."""
        pair = self.alloc.pairs.get(v)
        if pair is not None:
            self.a.mv(pair[0], lo)
            self.a.mv(pair[1], hi)
            return
        off = self.spill + 8 * self.alloc.slots[v]
        self.a("sw", 0, SP, lo, imm=off)
        self.a("sw", 0, SP, hi, imm=off + 4)

    def stub(self, kind: str, *args: Any) -> str:
        """A label of an out-of-line slow path, emitted after the function's body."""
        label = self.a.fresh(kind)
        self.slow.append((label, [(kind, args)]))
        return label

    def lab(self, name: str) -> str:
        if name not in self.labels:
            self.labels[name] = self.a.fresh("b")
        return self.labels[name]

    # -- the function
    def gen(self) -> None:
        a, f = self.a, self.f
        a.label(self.fn_label[f.name])
        a("addi", SP, SP, imm=-self.frame)
        a("sw", 0, SP, RA, imm=self.frame - 4)
        saves = [r for pair in self.alloc.used for r in pair]
        for i, r in enumerate(saves):
            a("sw", 0, SP, r, imm=self.frame - 8 - 4 * i)
        for ins in f.code:
            self.ins(ins)
        a.label(self.epilogue)
        for i, r in enumerate(saves):
            a("lw", r, SP, imm=self.frame - 8 - 4 * i)
        a("lw", RA, SP, imm=self.frame - 4)
        a("addi", SP, SP, imm=self.frame)
        a("jalr", ZERO, RA, imm=0)
        for label, items in self.slow:
            a.label(label)
            for kind, args in items:
                self.slow_path(kind, args)

    def slow_path(self, kind: str, args: tuple[Any, ...]) -> None:
        a = self.a
        if kind == "fuel":
            cost, site, retry = args
            a.li(A0, cost)
            a.li(A1, site)
            a.jump("rt_refuel", link=RA)
            a.jump(retry)
            return
        code = {"depth": ERR_DEPTH, "ovf": ERR_OVERFLOW, "divz": ERR_DIVZERO}[kind]
        a.li(A0, code)
        a.li(A1, args[0])
        a.li(A2, 0)
        a.li(A3, 0)
        a.jump("rt_fail")

    def charge(self, cost: int, site: int) -> None:
        a = self.a
        retry = a.fresh("c")
        a.label(retry)
        if cost < 2048:
            a("sltiu", T0, GP, imm=cost)
        else:
            a.li(T1, cost)
            a("sltu", T0, GP, T1)
        a.branch("bne", T0, ZERO, self.stub("fuel", cost, site, retry))
        if cost < 2048:
            a("addi", GP, GP, imm=-cost)
        else:
            a("sub", GP, GP, T1)

    def ins(self, ins: tuple[Any, ...]) -> None:
        a = self.a
        op = ins[0]
        if op == "charge":
            self.charge(ins[1], ins[2])
        elif op == "const":
            v = ins[2] & 0xFFFFFFFFFFFFFFFF
            pair = self.alloc.pairs.get(ins[1])
            lo, hi = pair if pair is not None else (T0, T1)
            a.li(lo, v & 0xFFFFFFFF)
            a.li(hi, v >> 32)
            self.dst(ins[1], lo, hi)
        elif op == "param":
            base, off = self.addr(SP, self.frame + 8 * ins[2])
            pair = self.alloc.pairs.get(ins[1])
            lo, hi = pair if pair is not None else (T0, T1)
            a("lw", lo, base, imm=off)
            a("lw", hi, base, imm=off + 4)
            self.dst(ins[1], lo, hi)
        elif op == "mov":
            lo, hi = self.src(ins[2], T0, T1)
            self.dst(ins[1], lo, hi)
        elif op == "not":
            lo, _ = self.src(ins[2], T0, T1)
            a("xori", T2, lo, imm=1)
            self.dst(ins[1], T2, ZERO)
        elif op == "neg":
            lo, hi = self.src(ins[2], T0, T1)
            # MIN is the only Int whose negation overflows: hi = 0x80000000, lo = 0
            a.li(T4, 0x80000000)
            skip = a.fresh("n")
            a.branch("bne", hi, T4, skip)
            a.branch("beq", lo, ZERO, self.stub("ovf", ins[3]))
            a.label(skip)
            a("sltu", T4, ZERO, lo)  # borrow = lo != 0
            a("sub", T2, ZERO, lo)
            a("sub", T3, ZERO, hi)
            a("sub", T3, T3, T4)
            self.dst(ins[1], T2, T3)
        elif op in ("add", "sub"):
            alo, ahi = self.src(ins[2], A0, A1)
            blo, bhi = self.src(ins[3], A2, A3)
            if op == "add":
                a("add", T2, alo, blo)
                a("sltu", T4, T2, alo)
                a("add", T3, ahi, bhi)
                a("add", T3, T3, T4)
                a("xor", T5, T3, ahi)
                a("xor", T6, T3, bhi)
            else:
                a("sub", T2, alo, blo)
                a("sltu", T4, alo, blo)
                a("sub", T3, ahi, bhi)
                a("sub", T3, T3, T4)
                a("xor", T5, ahi, bhi)
                a("xor", T6, ahi, T3)
            a("and", T5, T5, T6)
            a.branch("blt", T5, ZERO, self.stub("ovf", ins[4]))
            self.dst(ins[1], T2, T3)
        elif op == "mul":
            self.load_args(ins[2], ins[3])
            a.jump("rt_mul", link=RA)
            a.branch("bne", A4, ZERO, self.stub("ovf", ins[4]))
            self.dst(ins[1], A0, A1)
        elif op in ("div", "mod"):
            self.load_args(ins[2], ins[3])
            a("or", T0, A2, A3)
            a.branch("beq", T0, ZERO, self.stub("divz", ins[4]))
            if op == "div":  # MIN / -1 overflows
                skip = a.fresh("d")
                a("and", T0, A2, A3)
                a("addi", T0, T0, imm=1)
                a.branch("bne", T0, ZERO, skip)
                a.branch("bne", A0, ZERO, skip)
                a.li(T1, 0x80000000)
                a.branch("beq", A1, T1, self.stub("ovf", ins[5]))
                a.label(skip)
            a.jump("rt_divmod", link=RA)
            if op == "div":
                self.dst(ins[1], A0, A1)
            else:
                self.dst(ins[1], A2, A3)
        elif op == "alloc":
            _, d, mem, nwords, site = ins
            a.li(A0, mem)
            a.li(A1, site)
            a.li(A2, 8 * nwords)
            a.jump("rt_alloc", link=RA)
            self.dst(d, A0, ZERO)
        elif op == "store":
            p, _ = self.src(ins[1], T0, T1)
            lo, hi = self.src(ins[3], T2, T3)
            p, off = self.addr(p, 8 * ins[2])
            a("sw", 0, p, lo, imm=off)
            a("sw", 0, p, hi, imm=off + 4)
        elif op == "load":
            p, _ = self.src(ins[2], T0, T1)
            p, off = self.addr(p, 8 * ins[3])
            a("lw", T2, p, imm=off)
            a("lw", T3, p, imm=off + 4)
            self.dst(ins[1], T2, T3)
        elif op == "cmp":
            self.compare(ins[1], ins[2], ins[3], ins[4])
        elif op in ("bz", "bnz"):
            lo, _ = self.src(ins[1], T0, T1)
            a.branch("beq" if op == "bz" else "bne", lo, ZERO, self.lab(ins[2]))
        elif op == "jmp":
            a.jump(self.lab(ins[1]))
        elif op == "label":
            a.label(self.lab(ins[1]))
        elif op == "call":
            _, d, name, args, site = ins
            for i, v in enumerate(args):
                lo, hi = self.src(v, T0, T1)
                a("sw", 0, SP, lo, imm=8 * i)
                a("sw", 0, SP, hi, imm=8 * i + 4)
            a.branch("beq", TP, ZERO, self.stub("depth", site))
            a("addi", TP, TP, imm=-1)
            a.jump(self.fn_label[name], link=RA)
            a("addi", TP, TP, imm=1)
            self.dst(d, A0, A1)
        elif op == "callv":
            _, d, fv, args, site = ins
            for i, v in enumerate([fv, *args]):
                lo, hi = self.src(v, T0, T1)
                a("sw", 0, SP, lo, imm=8 * i)
                a("sw", 0, SP, hi, imm=8 * i + 4)
            a.branch("beq", TP, ZERO, self.stub("depth", site))
            a("addi", TP, TP, imm=-1)
            p, _ = self.src(fv, T0, T1)
            a("lw", T2, p, imm=0)
            a("jalr", RA, T2, imm=0)
            a("addi", TP, TP, imm=1)
            self.dst(d, A0, A1)
        elif op == "fnaddr":
            p, _ = self.src(ins[1], T0, T1)
            a.la(T2, self.fn_label[ins[2]])
            a("sw", 0, p, T2, imm=0)
            a("sw", 0, p, ZERO, imm=4)
        elif op == "lit":
            pair = self.alloc.pairs.get(ins[1])
            lo, hi = pair if pair is not None else (T0, T1)
            a.la(lo, ins[2])
            a.li(hi, 0)
            self.dst(ins[1], lo, hi)
        elif op == "len":
            p, _ = self.src(ins[2], T0, T1)
            a("lw", T2, p, imm=0)
            self.dst(ins[1], T2, ZERO)
        elif op == "sethdr":
            p, _ = self.src(ins[1], T0, T1)
            a.li(T2, ins[2])
            a("sw", 0, p, T2, imm=0)
            a("sw", 0, p, ZERO, imm=4)
        elif op == "rt":
            _, d, label, args, imms = ins
            if len(args) > 3 or len(imms) > 3:
                raise CompileUnsupported(f"internal: runtime call {label} with too many operands")
            for i, v in enumerate(args):
                lo, hi = self.src(v, (A0, A2, A4)[i], (A1, A3, A5)[i])
                a.mv((A0, A2, A4)[i], lo)
                a.mv((A1, A3, A5)[i], hi)
            for r, imm in zip((T3, T4, T5), imms):
                a.li(r, imm)
            a.jump(label, link=RA)
            if d >= 0:
                self.dst(d, A0, A1)
        elif op == "ret":
            lo, hi = self.src(ins[1], A0, A1)
            a.mv(A0, lo)
            a.mv(A1, hi)
            a.jump(self.epilogue)
        else:
            raise CompileUnsupported(f"internal: unknown IR instruction {op!r}")

    def addr(self, base: int, off: int) -> tuple[int, int]:
        """`base` + `off` as a register and an offset that fits a load or store (t5 if needed)."""
        if off + 4 < 2048:
            return base, off
        self.a.li(T5, off)
        self.a("add", T5, base, T5)
        return T5, 0

    def load_args(self, x: int, y: int) -> None:
        """x into a0/a1 and y into a2/a3 (for the runtime's arithmetic routines)."""
        lo, hi = self.src(x, A0, A1)
        self.a.mv(A0, lo)
        self.a.mv(A1, hi)
        lo, hi = self.src(y, A2, A3)
        self.a.mv(A2, lo)
        self.a.mv(A3, hi)

    def compare(self, op: str, d: int, x: int, y: int) -> None:
        a = self.a
        alo, ahi = self.src(x, A0, A1)
        blo, bhi = self.src(y, A2, A3)
        if op in ("==", "!="):
            a("xor", T0, alo, blo)
            a("xor", T1, ahi, bhi)
            a("or", T0, T0, T1)
            if op == "==":
                a("sltiu", T2, T0, imm=1)
            else:
                a("sltu", T2, ZERO, T0)
            self.dst(d, T2, ZERO)
            return
        if op in (">", "<="):  # a > b is b < a
            alo, ahi, blo, bhi = blo, bhi, alo, ahi
        a("slt", T2, ahi, bhi)
        a("xor", T3, ahi, bhi)
        a("sltiu", T3, T3, imm=1)
        a("sltu", T4, alo, blo)
        a("and", T3, T3, T4)
        a("or", T2, T2, T3)
        if op in ("<=", ">="):
            a("xori", T2, T2, imm=1)
        self.dst(d, T2, ZERO)


def gen_function(asm: Asm, f: IrFunc, fn_label: dict[str, str]) -> int:
    """Emit `f` into `asm`; return its frame size in bytes."""
    g = _Func(asm, f, fn_label)
    g.gen()
    return g.frame
