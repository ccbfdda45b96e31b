"""Guest routines generated per type: the `==` charge walk and structural equality.

``==`` / ``!=`` on a value that is not an Int charges one element per
element of its left operand *unfolded* (`stele.tel._measure`), measured
before the comparison by a walk that visits each distinct container once
and stops as soon as the total passes what the fuel left can pay. The
routines here make the same walk, container for container and check for
check, so that a run which cannot pay stops with the same (lower-bound)
cost in its error as the interpreter's:

* ``eqc T`` (a0 = the left value, t3 = the site): the walk, then the charge.
* ``visit T`` (a0 = a container not yet seen in this walk) -> a0 units,
  a1 depth; the per-walk memo lives in the block's 16-byte prefix (word
  -16 the walk's epoch, -12 the depth, -8 the units), so a shared
  sub-value is walked once per `==`, as the interpreter's memo by `id`.
* ``eq T`` (a0/a1, a2/a3) -> a0 = 1 if equal: structural, with an
  identity shortcut for pointers (values are immutable).

The walk keeps 32-bit counters: the fuel it may spend is capped at
2^31 - 1 units; a value larger than that (never built in practice) stops
the guest with a host failure (exit 92) rather than a wrong error.
"""

from __future__ import annotations

from .._ast import TFn, TList, TName, TOption, TTuple, Type
from .._printer import print_type
from ._asm import Asm
from ._codegen import A0, A1, A2, A3, ERR_FUEL, GP, RA, T0, T1, T2, T3, T4, T6, ZERO
from ._rtseq import S, enter, leave

__all__ = ["ERR_VDEPTH", "ERR_TOO_LARGE", "MWORK", "MCAP", "MEPOCH", "MSTACK", "MSITE", "MCLAMP",
           "Typed"]

#: `==` on a value nested deeper than MAX_VALUE_DEPTH; a walk the guest's counters cannot hold
ERR_VDEPTH, ERR_TOO_LARGE = 15, 92
MWORK, MCAP, MEPOCH, MSTACK, MSITE, MCLAMP = 32, 36, 40, 44, 48, 52
MAX_VALUE_DEPTH = 1000
CAP_MAX = (1 << 31) - 1


def _name(t: Type) -> str:
    from ._typeinfo import UNKNOWN
    return "?" if t == UNKNOWN else print_type(t)


def _scalar(t: Type) -> bool:
    return isinstance(t, TName) and t.name in ("Int", "Bool", "Unit", "?")


def _seq(t: Type) -> bool:
    return isinstance(t, TName) and t.name in ("String", "Bytes")


def _data(a: Asm, reg: int) -> None:
    from ._runtime import DATA
    a("lui", reg, imm=DATA)


class Typed:
    """Collects the types whose routines the program needs; emits each once."""

    def __init__(self) -> None:
        self.want: list[tuple[str, Type]] = []
        self.done: set[str] = set()

    def label(self, kind: str, t: Type) -> str:
        lab = f"{kind} {_name(t)}"
        if lab not in self.done:
            self.done.add(lab)
            self.want.append((kind, t))
        return lab

    def emit(self, a: Asm) -> None:
        _emit_walk_fail(a)
        i = 0
        while i < len(self.want):  # routines may ask for more (their items' types) as they are emitted
            kind, t = self.want[i]
            i += 1
            a.label(f"{kind} {_name(t)}")
            {"eqc": self._eqc, "visit": self._visit, "eq": self._eq}[kind](a, t)

    # -- the charge of `==`
    def _eqc(self, a: Asm, t: Type) -> None:
        """eqc T(a0 = value, t3 = site): charge the value's unfolded size (or stop as the interpreter)."""
        if _scalar(t):
            a.li(A0, 1)
            a.li(A1, 0)
            a.jump("rt_charge")
            return
        if _seq(t):
            a("lw", A0, A0, imm=0)
            a("addi", A0, A0, imm=7)
            a("srli", A0, A0, imm=3)
            a("addi", A0, A0, imm=1)
            a.li(A1, 0)
            a.jump("rt_charge")
            return
        size = enter(a, 1)
        if isinstance(t, TOption):
            some = a.fresh("eqc")
            a.branch("bne", A0, ZERO, some)
            a.li(A0, 1)
            a.li(A1, 0)
            a.jump("rt_charge", link=RA)
            leave(a, 1, size)
            a.label(some)
        a.mv(S[0], T3)
        # a new walk: epoch + 1, work 0, cap = min(fuel left, 2^31 - 1), one frame on the stack
        _data(a, T6)
        a("sw", 0, T6, T3, imm=MSITE)
        a("lw", T0, T6, imm=MEPOCH)
        a("addi", T0, T0, imm=1)
        a("sw", 0, T6, T0, imm=MEPOCH)
        a("sw", 0, T6, ZERO, imm=MWORK)
        a.li(T0, 1)
        a("sw", 0, T6, T0, imm=MSTACK)
        from ._runtime import RESERVE
        a("lw", T0, T6, imm=RESERVE)
        a("lw", T1, T6, imm=RESERVE + 4)
        a("add", T2, T0, GP)
        a("sltu", T4, T2, T0)
        a("add", T1, T1, T4)
        clamp, capped = a.fresh("eqc"), a.fresh("eqc")
        a.branch("bne", T1, ZERO, clamp)
        a.branch("blt", T2, ZERO, clamp)
        a("sw", 0, T6, T2, imm=MCAP)
        a("sw", 0, T6, ZERO, imm=MCLAMP)
        a.jump(capped)
        a.label(clamp)
        a.li(T2, CAP_MAX)
        a("sw", 0, T6, T2, imm=MCAP)
        a.li(T2, 1)
        a("sw", 0, T6, T2, imm=MCLAMP)
        a.label(capped)
        a.jump(self.label("visit", t), link=RA)
        a.li(A1, 0)
        a.mv(T3, S[0])
        a.jump("rt_charge", link=RA)
        leave(a, 1, size)

    def _kid(self, a: Asm, t: Type) -> None:
        """A child value in a0/a1 -> t0 = its units, t1 = its depth (calls visit for a new container)."""
        if isinstance(t, TName) and t.name == "Unit":
            a.li(T0, 1)
            a.li(T1, 1)
            return
        if _scalar(t) or isinstance(t, TFn):
            a.li(T0, 1)
            a.li(T1, 0)
            return
        if _seq(t):
            a("lw", T0, A0, imm=0)
            a("addi", T0, T0, imm=7)
            a("srli", T0, T0, imm=3)
            a("addi", T0, T0, imm=1)
            a.li(T1, 0)
            return
        done = a.fresh("k")
        if isinstance(t, TOption):
            some = a.fresh("k")
            a.branch("bne", A0, ZERO, some)
            a.li(T0, 1)
            a.li(T1, 0)
            a.jump(done)
            a.label(some)
        fresh = a.fresh("k")
        _data(a, T6)
        a("lw", T0, A0, imm=-16)
        a("lw", T2, T6, imm=MEPOCH)
        a.branch("bne", T0, T2, fresh)
        a("lw", T0, A0, imm=-8)
        a("lw", T1, A0, imm=-12)
        a.jump(done)
        a.label(fresh)
        a("lw", T2, T6, imm=MSTACK)
        a.li(T0, MAX_VALUE_DEPTH)
        a.branch("bgeu", T2, T0, "rt_walk_too_deep")
        a("addi", T2, T2, imm=1)
        a("sw", 0, T6, T2, imm=MSTACK)
        a.jump(self.label("visit", t), link=RA)
        _data(a, T6)
        a("lw", T2, T6, imm=MSTACK)
        a("addi", T2, T2, imm=-1)
        a("sw", 0, T6, T2, imm=MSTACK)
        a.mv(T0, A0)
        a.mv(T1, A1)
        a.label(done)

    def _visit(self, a: Asm, t: Type) -> None:
        """visit T(a0 = container) -> a0 units, a1 depth; records the memo in its prefix."""
        size = enter(a, 5)
        s0, s1, s2, s3, s4 = S[:5]
        a.mv(s0, A0)
        a.li(s1, 1)
        a.li(s2, 0)

        def kid(offset_reg: int, off: int, kt: Type) -> None:
            _data(a, T6)
            a("lw", T0, T6, imm=MWORK)
            a("addi", T0, T0, imm=1)
            a("sw", 0, T6, T0, imm=MWORK)
            a("lw", T1, T6, imm=MCAP)
            a.branch("bltu", T1, T0, "rt_walk_too_large_t0")
            a("lw", A0, offset_reg, imm=off)
            a("lw", A1, offset_reg, imm=off + 4)
            self._kid(a, kt)
            a("add", s1, s1, T0)
            keep = a.fresh("v")
            a.branch("bgeu", s2, T1, keep)
            a.mv(s2, T1)
            a.label(keep)
            _data(a, T6)
            a("lw", T1, T6, imm=MCAP)
            a.mv(T0, s1)
            a.branch("bltu", T1, T0, "rt_walk_too_large_t0")

        if isinstance(t, TList):
            a("lw", s3, s0, imm=0)
            a("addi", s4, s0, imm=8)
            loop, done = a.fresh("v"), a.fresh("v")
            a.label(loop)
            a.branch("beq", s3, ZERO, done)
            kid(s4, 0, t.elem)
            a("addi", s4, s4, imm=8)
            a("addi", s3, s3, imm=-1)
            a.jump(loop)
            a.label(done)
        elif isinstance(t, TTuple):
            for i, it in enumerate(t.items):
                kid(s0, 8 * i, it)
        elif isinstance(t, TOption):
            kid(s0, 0, t.elem)
        else:  # pragma: no cover - only containers are visited
            a.jump("rt_internal")
        a("addi", s2, s2, imm=1)
        _data(a, T6)
        a("lw", T0, T6, imm=MEPOCH)
        a("sw", 0, s0, T0, imm=-16)
        a("sw", 0, s0, s2, imm=-12)
        a("sw", 0, s0, s1, imm=-8)
        a.mv(A0, s1)
        a.mv(A1, s2)
        leave(a, 5, size)

    # -- structural equality
    def _eq(self, a: Asm, t: Type) -> None:
        """eq T(a0/a1 = x, a2/a3 = y) -> a0 = 1 if x == y (a1 = 0)."""
        if _scalar(t):
            a("xor", T0, A0, A2)
            a("xor", T1, A1, A3)
            a("or", T0, T0, T1)
            a("sltiu", A0, T0, imm=1)
            a.li(A1, 0)
            a("jalr", ZERO, RA, imm=0)
            return
        yes, no = a.fresh("eq"), a.fresh("eq")
        if _seq(t):
            a.branch("beq", A0, A2, yes)  # the same block
            a("lw", T0, A0, imm=4)
            a("lw", T1, A2, imm=4)
            a.branch("bne", T0, T1, no)
            a("addi", T2, A0, imm=8)
            a("addi", T3, A2, imm=8)
            loop = a.fresh("eq")
            a.label(loop)
            a.branch("beq", T0, ZERO, yes)
            a("lbu", T1, T2, imm=0)
            a("lbu", T4, T3, imm=0)
            a.branch("bne", T1, T4, no)
            a("addi", T2, T2, imm=1)
            a("addi", T3, T3, imm=1)
            a("addi", T0, T0, imm=-1)
            a.jump(loop)
            a.label(yes)
            a.li(A0, 1)
            a.li(A1, 0)
            a("jalr", ZERO, RA, imm=0)
            a.label(no)
            a.li(A0, 0)
            a.li(A1, 0)
            a("jalr", ZERO, RA, imm=0)
            return
        size = enter(a, 3)
        s0, s1, s2 = S[:3]
        out = a.fresh("eq")
        a.branch("beq", A0, A2, yes)  # the same block (or both None)
        if isinstance(t, TOption):
            a.branch("beq", A0, ZERO, no)
            a.branch("beq", A2, ZERO, no)
        a.mv(s0, A0)
        a.mv(s1, A2)

        def item(off_x: int, off_y: int, reg_x: int, reg_y: int, it: Type) -> None:
            a("lw", A0, reg_x, imm=off_x)
            a("lw", A1, reg_x, imm=off_x + 4)
            a("lw", A2, reg_y, imm=off_y)
            a("lw", A3, reg_y, imm=off_y + 4)
            a.jump(self.label("eq", it), link=RA)
            a.branch("beq", A0, ZERO, no)

        if isinstance(t, TOption):
            item(0, 0, s0, s1, t.elem)
        elif isinstance(t, TTuple):
            for i, it in enumerate(t.items):
                item(8 * i, 8 * i, s0, s1, it)
        elif isinstance(t, TList):
            a("lw", s2, s0, imm=0)
            a("lw", T0, s1, imm=0)
            a.branch("bne", s2, T0, no)
            loop = a.fresh("eq")
            a.label(loop)
            a.branch("beq", s2, ZERO, yes)
            a("addi", s0, s0, imm=8)
            a("addi", s1, s1, imm=8)
            item(0, 0, s0, s1, t.elem)
            a("addi", s2, s2, imm=-1)
            a.jump(loop)
        else:  # pragma: no cover - functions are never compared
            a.jump("rt_internal")
        a.label(yes)
        a.li(A0, 1)
        a.jump(out)
        a.label(no)
        a.li(A0, 0)
        a.label(out)
        a.li(A1, 0)
        leave(a, 3, size)


def _emit_walk_fail(a: Asm) -> None:
    """The walk's stops: too large (t0 = the units that passed the cap) and too deep."""
    from ._codegen import ERR_INTERNAL
    a.label("rt_walk_too_large_t0")
    _data(a, T6)
    a("lw", T1, T6, imm=MCLAMP)
    a.branch("bne", T1, ZERO, "rt_walk_clamped")
    a.mv(A2, T0)
    a.li(A3, 0)
    a.li(A0, ERR_FUEL)
    a("lw", A1, T6, imm=MSITE)
    a.jump("rt_fail")
    a.label("rt_walk_clamped")
    a.li(A0, ERR_TOO_LARGE)
    a("lw", A1, T6, imm=MSITE)
    a.li(A2, 0)
    a.li(A3, 0)
    a.jump("rt_fail")
    a.label("rt_walk_too_deep")
    _data(a, T6)
    a.li(A0, ERR_VDEPTH)
    a("lw", A1, T6, imm=MSITE)
    a.li(A2, 0)
    a.li(A3, 0)
    a.jump("rt_fail")
    a.label("rt_internal")
    a.li(A0, ERR_INTERNAL)
    a.li(A1, 0)
    a.li(A2, 0)
    a.li(A3, 0)
    a.jump("rt_fail")
