"""Guest runtime for sequences: strings, bytes and lists, and the builtins that walk them.

Heap layout (every block from `rt_palloc` has a 16-byte prefix *before* its
address, used by the `==` size walk as its per-walk memo: epoch, depth,
units -- see `_rttyped`):

* String, Bytes: word 0 the length (code points for a String, bytes for
  Bytes), word 1 the byte length, then the UTF-8 / raw bytes.
* List: word 0 the number of items, word 1 zero, then the items, 8 bytes
  each (a 64-bit scalar, or a pointer in the low word).

Calling convention of these routines (see `_codegen`): arguments in the
pairs a0/a1, a2/a3, a4/a5; immediates (site indices) in t3, t4, t5; the
result in a0/a1. They keep s0..s11 (saved on their own frame) and the
`gp` / `tp` meters. Every charge and allocation happens in the order the
interpreter's builtin does it (`stele.tel._builtin_impl`), so a run stops
at the same point with the same typed error.
"""

from __future__ import annotations

from ._asm import Asm
from ._codegen import (
    A0, A1, A2, A3, A4, A5, A7, ERR_DEPTH, ERR_FUEL, ERR_MEMORY, GP, RA, SP, T0, T1, T2, T3, T4, T5, T6,
    TP, ZERO,
)

__all__ = ["emit_seq_runtime", "enter", "leave", "S"]

S = (8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27)  # s0..s11
SYS_WRITE, SYS_BRK = 64, 214


def _data(a: Asm, reg: int) -> None:
    from ._runtime import DATA
    a("lui", reg, imm=DATA)


def enter(a: Asm, nsaved: int, out: int = 0) -> int:
    """A frame saving ra and s0..s(nsaved-1) above `out` bytes of outgoing arguments; its size."""
    size = (out + 4 * (nsaved + 1) + 15) & ~15
    a("addi", SP, SP, imm=-size)
    a("sw", 0, SP, RA, imm=size - 4)
    for i in range(nsaved):
        a("sw", 0, SP, S[i], imm=size - 8 - 4 * i)
    return size


def leave(a: Asm, nsaved: int, size: int) -> None:
    for i in range(nsaved):
        a("lw", S[i], SP, imm=size - 8 - 4 * i)
    a("lw", RA, SP, imm=size - 4)
    a("addi", SP, SP, imm=size)
    a("jalr", ZERO, RA, imm=0)


def _copy_words(a: Asm, src: int, nwords: int, dst: int) -> None:
    """Copy `nwords` words (registers; all three advance; clobbers t4)."""
    loop, done = a.fresh("cw"), a.fresh("cw")
    a.label(loop)
    a.branch("beq", nwords, ZERO, done)
    a("lw", T4, src, imm=0)
    a("sw", 0, dst, T4, imm=0)
    a("addi", src, src, imm=4)
    a("addi", dst, dst, imm=4)
    a("addi", nwords, nwords, imm=-1)
    a.jump(loop)
    a.label(done)


def _copy_bytes(a: Asm, src: int, n: int, dst: int) -> None:
    """Copy `n` bytes (registers; all three advance; clobbers t4, t5): by words while both
    addresses are word-aligned (the co-processor traps a misaligned access), then by bytes."""
    loop, done, words = a.fresh("cb"), a.fresh("cb"), a.fresh("cb")
    a("or", T5, src, dst)
    a("andi", T5, T5, imm=3)
    a.branch("bne", T5, ZERO, loop)
    a.label(words)
    a("sltiu", T5, n, imm=4)
    a.branch("bne", T5, ZERO, loop)
    a("lw", T4, src, imm=0)
    a("sw", 0, dst, T4, imm=0)
    a("addi", src, src, imm=4)
    a("addi", dst, dst, imm=4)
    a("addi", n, n, imm=-4)
    a.jump(words)
    a.label(loop)
    a.branch("beq", n, ZERO, done)
    a("lbu", T4, src, imm=0)
    a("sb", 0, dst, T4, imm=0)
    a("addi", src, src, imm=1)
    a("addi", dst, dst, imm=1)
    a("addi", n, n, imm=-1)
    a.jump(loop)
    a.label(done)


def _mem_items(a: Asm, n: int, base: int) -> None:
    """a0/a1 = base + 8 * n (64-bit), for the memory accounted for a list of n items."""
    a("slli", A0, n, imm=3)
    a("srli", A1, n, imm=29)
    a("addi", A0, A0, imm=base)
    a("sltiu", T0, A0, imm=base)
    a("add", A1, A1, T0)


def emit_seq_runtime(a: Asm, mem_base: int) -> None:
    """rt_charge, rt_account, rt_palloc and the sequence routines."""
    _emit_charge(a)
    _emit_account(a)
    _emit_palloc(a)
    _emit_putbytes(a)
    _emit_concat_list(a, mem_base)
    _emit_concat_str(a, mem_base)
    _emit_get(a, mem_base)
    _emit_append(a, mem_base)
    _emit_range(a, mem_base)
    _emit_slice(a, mem_base)
    _emit_conversions(a, mem_base)
    _emit_parsers(a, mem_base)
    for kind in ("map", "filter", "exists", "forall"):
        _emit_iter(a, kind, mem_base)
    _emit_fold(a)


def _emit_charge(a: Asm) -> None:
    """rt_charge(a0/a1 = cost, t3 = site): take `cost` fuel, or stop with the fuel error (extra = cost).

    Keeps a0..a7 and t3; clobbers t0-t2, t4-t6.
    """
    a.label("rt_charge")
    slow = a.fresh("ch")
    a.branch("bne", A1, ZERO, slow)
    a.branch("bltu", GP, A0, slow)
    a("sub", GP, GP, A0)
    a("jalr", ZERO, RA, imm=0)
    a.label(slow)
    from ._runtime import RESERVE
    _data(a, T6)
    a("lw", T0, T6, imm=RESERVE)
    a("lw", T1, T6, imm=RESERVE + 4)
    a("sltu", T2, A0, GP)
    a("sub", T4, A0, GP)  # need = cost - gp (64-bit)
    a("sub", T5, A1, T2)
    fail, ok = a.fresh("ch"), a.fresh("ch")
    a.branch("bltu", T1, T5, fail)
    a.branch("bne", T1, T5, ok)
    a.branch("bltu", T0, T4, fail)
    a.label(ok)
    a("sltu", T2, T0, T4)
    a("sub", T0, T0, T4)
    a("sub", T1, T1, T5)
    a("sub", T1, T1, T2)
    a("sw", 0, T6, T0, imm=RESERVE)
    a("sw", 0, T6, T1, imm=RESERVE + 4)
    a.li(GP, 0)
    a("jalr", ZERO, RA, imm=0)
    a.label(fail)
    a.mv(A2, A0)
    a.mv(A3, A1)
    a.li(A0, ERR_FUEL)
    a.mv(A1, T3)
    a.jump("rt_fail")


def _emit_account(a: Asm) -> None:
    """rt_account(a0/a1 = bytes, t3 = site): the memory limit (extra = bytes). Keeps a*, t3-t5."""
    from ._runtime import MEMLEFT
    a.label("rt_account")
    _data(a, T6)
    a("lw", T0, T6, imm=MEMLEFT)
    a("lw", T1, T6, imm=MEMLEFT + 4)
    fail, ok = a.fresh("ac"), a.fresh("ac")
    a.branch("bltu", T1, A1, fail)
    a.branch("bne", T1, A1, ok)
    a.branch("bltu", T0, A0, fail)
    a.label(ok)
    a("sltu", T2, T0, A0)
    a("sub", T0, T0, A0)
    a("sub", T1, T1, A1)
    a("sub", T1, T1, T2)
    a("sw", 0, T6, T0, imm=MEMLEFT)
    a("sw", 0, T6, T1, imm=MEMLEFT + 4)
    a("jalr", ZERO, RA, imm=0)
    a.label(fail)
    a.mv(A2, A0)
    a.mv(A3, A1)
    a.li(A0, ERR_MEMORY)
    a.mv(A1, T3)
    a.jump("rt_fail")


def _emit_palloc(a: Asm) -> None:
    """rt_palloc(a0 = bytes) -> a0: a fresh zeroed block after a 16-byte prefix (not accounted).

    Keeps a1..a6 and t3; clobbers t0-t2, t4-t6 and a7.
    """
    from ._runtime import HEAP, HEAPEND
    a.label("rt_palloc")
    _data(a, T6)
    a("lw", T4, T6, imm=HEAP)
    a("addi", T0, A0, imm=16 + 7)
    a("andi", T0, T0, imm=-8)
    a("add", T5, T4, T0)
    a("lw", T1, T6, imm=HEAPEND)
    fits = a.fresh("pa")
    a.branch("bgeu", T1, T5, fits)
    a.branch("bltu", T5, T4, "rt_out_of_host_memory")  # wrapped around
    a.li(T0, 65536)
    a("add", A0, T5, T0)
    a.mv(T2, A0)
    a.li(A7, SYS_BRK)
    a("ecall")
    a.branch("bne", A0, T2, "rt_out_of_host_memory")
    a("sw", 0, T6, A0, imm=HEAPEND)
    a.label(fits)
    a("sw", 0, T6, T5, imm=HEAP)
    a("addi", A0, T4, imm=16)
    a("jalr", ZERO, RA, imm=0)


def _emit_putbytes(a: Asm) -> None:
    """rt_putbytes(a0 = ptr, a1 = n): append n raw bytes to the output (flushing to fd 3 when full)."""
    from ._runtime import OUTBUF, OUTCAP, OUTLEN
    a.label("rt_putbytes")
    size = enter(a, 2)
    a.mv(S[0], A0)
    a.mv(S[1], A1)
    loop, done, room = a.fresh("pb"), a.fresh("pb"), a.fresh("pb")
    a.label(loop)
    a.branch("beq", S[1], ZERO, done)
    _data(a, T6)
    a("lw", T5, T6, imm=OUTLEN)
    a.li(T0, OUTCAP)
    a.branch("bltu", T5, T0, room)
    a.jump("rt_flush", link=RA)
    _data(a, T6)
    a.li(T5, 0)
    a.label(room)
    a("lbu", T1, S[0], imm=0)
    a("add", T2, T6, T5)
    a("sb", 0, T2, T1, imm=OUTBUF)
    a("addi", T5, T5, imm=1)
    a("sw", 0, T6, T5, imm=OUTLEN)
    a("addi", S[0], S[0], imm=1)
    a("addi", S[1], S[1], imm=-1)
    a.jump(loop)
    a.label(done)
    leave(a, 2, size)
    # rt_flush: write the output buffer to fd 3 and empty it (keeps t0-t5 except as noted; clobbers a0-a2, a7)
    a.label("rt_flush")
    _data(a, T6)
    a.li(A0, 3)
    a("addi", A1, T6, imm=OUTBUF)
    a("lw", A2, T6, imm=OUTLEN)
    a.li(A7, SYS_WRITE)
    a("ecall")
    a("sw", 0, T6, ZERO, imm=OUTLEN)
    a("jalr", ZERO, RA, imm=0)


def _emit_concat_list(a: Asm, mem_base: int) -> None:
    """rt_concat_list(a0 = xs, a2 = ys, t3 = fuel site, t4 = memory site) -> a0 = xs ++ ys.

    As the interpreter: charge the items of the result, account its memory, then build it
    (an empty operand gives the other one itself, as CPython's tuple concatenation does).
    """
    a.label("rt_concat_list")
    size = enter(a, 4)
    s0, s1, s2, s3 = S[:4]
    a.mv(s0, A0)
    a.mv(s1, A2)
    a.mv(s3, T4)
    a("lw", T0, s0, imm=0)
    a("lw", T1, s1, imm=0)
    a("add", s2, T0, T1)
    a.mv(A0, s2)
    a.li(A1, 0)
    a.jump("rt_charge", link=RA)
    _mem_items(a, s2, mem_base)
    a.mv(T3, s3)
    a.jump("rt_account", link=RA)
    ret_ys, ret_xs, out = a.fresh("cl"), a.fresh("cl"), a.fresh("cl")
    a("lw", T0, s0, imm=0)
    a.branch("beq", T0, ZERO, ret_ys)
    a("lw", T0, s1, imm=0)
    a.branch("beq", T0, ZERO, ret_xs)
    a("slli", A0, s2, imm=3)
    a("addi", A0, A0, imm=8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, s2, imm=0)
    a("addi", T2, A0, imm=8)
    for src in (s0, s1):
        a("lw", T1, src, imm=0)
        a("slli", T1, T1, imm=1)
        a("addi", T0, src, imm=8)
        _copy_words(a, T0, T1, T2)
    a.jump(out)
    a.label(ret_ys)
    a.mv(A0, s1)
    a.jump(out)
    a.label(ret_xs)
    a.mv(A0, s0)
    a.label(out)
    a.li(A1, 0)
    leave(a, 4, size)


def _emit_concat_str(a: Asm, mem_base: int) -> None:
    """rt_concat_str(a0 = x, a2 = y, t3, t4) -> a0: String or Bytes concatenation.

    Charges one element per 8 code points (bytes) of the result, accounts
    `mem_base` + one per code point (byte), then copies the bytes.
    """
    a.label("rt_concat_str")
    size = enter(a, 4)
    s0, s1, s2, s3 = S[:4]
    a.mv(s0, A0)
    a.mv(s1, A2)
    a.mv(s3, T4)
    a("lw", T0, s0, imm=0)
    a("lw", T1, s1, imm=0)
    a("add", s2, T0, T1)
    a("addi", A0, s2, imm=7)
    a("srli", A0, A0, imm=3)
    a.li(A1, 0)
    a.jump("rt_charge", link=RA)
    a("addi", A0, s2, imm=mem_base)
    a("sltiu", A1, A0, imm=mem_base)
    a.mv(T3, s3)
    a.jump("rt_account", link=RA)
    a("lw", T0, s0, imm=4)
    a("lw", T1, s1, imm=4)
    a("add", s3, T0, T1)  # byte length of the result
    a("addi", A0, s3, imm=8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, s2, imm=0)
    a("sw", 0, A0, s3, imm=4)
    a("addi", T2, A0, imm=8)
    for src in (s0, s1):
        a("lw", T1, src, imm=4)
        a("addi", T0, src, imm=8)
        _copy_bytes(a, T0, T1, T2)
    a.li(A1, 0)
    leave(a, 4, size)


def _emit_get(a: Asm, mem_base: int) -> None:
    """rt_get(a0 = xs, a2/a3 = i, t3 = memory site) -> a0: Some(xs[i]) or None (0)."""
    a.label("rt_get")
    size = enter(a, 3)
    s0, s1, s2 = S[:3]
    none, out = a.fresh("g"), a.fresh("g")
    a.branch("bne", A3, ZERO, none)
    a("lw", T0, A0, imm=0)
    a.branch("bgeu", A2, T0, none)
    a("slli", T1, A2, imm=3)
    a("add", T1, T1, A0)
    a("lw", s0, T1, imm=8)
    a("lw", s1, T1, imm=12)
    a.li(A0, mem_base)
    a.li(A1, 0)
    a.jump("rt_account", link=RA)
    a.li(A0, 8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, s0, imm=0)
    a("sw", 0, A0, s1, imm=4)
    a.jump(out)
    a.label(none)
    a.li(A0, 0)
    a.label(out)
    a.li(A1, 0)
    leave(a, 3, size)


def _emit_append(a: Asm, mem_base: int) -> None:
    """rt_append(a0 = xs, a2/a3 = x, t3 = fuel site, t4 = memory site) -> a0 = xs + [x]."""
    a.label("rt_append")
    size = enter(a, 5)
    s0, s1, s2, s3, s4 = S[:5]
    a.mv(s0, A0)
    a.mv(s1, A2)
    a.mv(s2, A3)
    a.mv(s4, T4)
    a("lw", s3, s0, imm=0)
    a("addi", s3, s3, imm=1)
    a.mv(A0, s3)
    a.li(A1, 0)
    a.jump("rt_charge", link=RA)
    _mem_items(a, s3, mem_base)
    a.mv(T3, s4)
    a.jump("rt_account", link=RA)
    a("slli", A0, s3, imm=3)
    a("addi", A0, A0, imm=8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, s3, imm=0)
    a("addi", T2, A0, imm=8)
    a("addi", T0, s0, imm=8)
    a("addi", T1, s3, imm=-1)
    a("slli", T1, T1, imm=1)
    _copy_words(a, T0, T1, T2)
    a("sw", 0, T2, s1, imm=0)
    a("sw", 0, T2, s2, imm=4)
    a.li(A1, 0)
    leave(a, 5, size)


def _emit_range(a: Asm, mem_base: int) -> None:
    """rt_range(a0/a1 = lo, a2/a3 = hi, t3 = fuel site, t4 = memory site) -> a0 = [lo, hi)."""
    a.label("rt_range")
    size = enter(a, 6)
    s0, s1, s2, s3, s4, s5 = S[:6]
    a.mv(s0, A0)
    a.mv(s1, A1)
    a.mv(s5, T4)
    empty, counted = a.fresh("r"), a.fresh("r")
    # n = hi - lo if hi > lo (signed) else 0, as an unsigned 64-bit count
    a.branch("blt", A3, A1, empty)
    gt = a.fresh("r")
    a.branch("bne", A3, A1, gt)
    a.branch("bgeu", A0, A2, empty)
    a.label(gt)
    a("sltu", T0, A2, A0)
    a("sub", s2, A2, A0)
    a("sub", s3, A3, A1)
    a("sub", s3, s3, T0)
    a.jump(counted)
    a.label(empty)
    a.li(s2, 0)
    a.li(s3, 0)
    a.label(counted)
    a.mv(A0, s2)
    a.mv(A1, s3)
    a.jump("rt_charge", link=RA)
    # memory: mem_base + 8 n (64-bit)
    a("slli", A0, s2, imm=3)
    a("srli", T0, s2, imm=29)
    a("slli", A1, s3, imm=3)
    a("or", A1, A1, T0)
    a("addi", A0, A0, imm=mem_base)
    a("sltiu", T0, A0, imm=mem_base)
    a("add", A1, A1, T0)
    a.mv(T3, s5)
    a.jump("rt_account", link=RA)
    a("slli", A0, s2, imm=3)
    a("addi", A0, A0, imm=8)
    a.jump("rt_palloc", link=RA)
    a.mv(s4, A0)
    a("sw", 0, A0, s2, imm=0)
    a("addi", T2, A0, imm=8)
    loop, done = a.fresh("r"), a.fresh("r")
    a.label(loop)
    a.branch("beq", s2, ZERO, done)
    a("sw", 0, T2, s0, imm=0)
    a("sw", 0, T2, s1, imm=4)
    a("addi", T2, T2, imm=8)
    a("addi", s0, s0, imm=1)
    a("sltiu", T0, s0, imm=1)
    a("add", s1, s1, T0)
    a("addi", s2, s2, imm=-1)
    a.jump(loop)
    a.label(done)
    a.mv(A0, s4)
    a.li(A1, 0)
    leave(a, 6, size)


def _call_closure(a: Asm, fv: int, depth_site: int, nargs: int) -> None:
    """Call closure `fv` (args already at sp+8..): the depth check, then the call (result a0/a1)."""
    a("sw", 0, SP, fv, imm=0)
    a("sw", 0, SP, ZERO, imm=4)
    ok = a.fresh("cc")
    a.branch("bne", TP, ZERO, ok)
    a.li(A0, ERR_DEPTH)
    a.mv(A1, depth_site)
    a.li(A2, 0)
    a.li(A3, 0)
    a.jump("rt_fail")
    a.label(ok)
    a("addi", TP, TP, imm=-1)
    a("lw", T2, fv, imm=0)
    a("jalr", RA, T2, imm=0)
    a("addi", TP, TP, imm=1)


def _check_frame(size: int) -> None:
    from ._driver import RT_FRAME
    if size > RT_FRAME:  # pragma: no cover - a compiler bug: the stack is sized with RT_FRAME
        raise AssertionError(f"a runtime frame of {size} bytes exceeds RT_FRAME")


def _emit_iter(a: Asm, kind: str, mem_base: int) -> None:
    """rt_map / rt_filter / rt_exists / rt_forall(a0 = xs, a2 = f, t3 fuel, t4 depth, t5 memory sites).

    Per item, as the interpreter: one element charged, then the call under
    the depth limit. map and filter account the result's memory at the end.
    """
    a.label(f"rt_{kind}")
    size = enter(a, 8, out=16)
    _check_frame(size)
    s0, s1, s2, s3, s4, s5, s6, s7 = S[:8]
    a.mv(s0, A0)
    a.mv(s1, A2)
    a.mv(s5, T3)
    a.mv(s6, T4)
    a.mv(s7, T5)
    a("lw", s2, s0, imm=0)
    a.li(s3, 0)
    if kind in ("map", "filter"):
        a("slli", A0, s2, imm=3)
        a("addi", A0, A0, imm=8)
        a.jump("rt_palloc", link=RA)
        a.mv(s4, A0)
    else:
        a.li(s4, 0)
    a("sw", 0, SP, ZERO, imm=8)  # keep the frame's words defined
    loop, done, early = a.fresh("it"), a.fresh("it"), a.fresh("it")
    a.label(loop)
    a.branch("beq", s3, s2, done)
    a.li(A0, 1)
    a.li(A1, 0)
    a.mv(T3, s5)
    a.jump("rt_charge", link=RA)
    a("slli", T0, s3, imm=3)
    a("add", T0, T0, s0)
    a("lw", T1, T0, imm=8)
    a("sw", 0, SP, T1, imm=8)
    a("lw", T1, T0, imm=12)
    a("sw", 0, SP, T1, imm=12)
    _call_closure(a, s1, s6, 1)
    if kind == "map":
        a("slli", T0, s3, imm=3)
        a("add", T0, T0, s4)
        a("sw", 0, T0, A0, imm=8)
        a("sw", 0, T0, A1, imm=12)
    elif kind == "filter":
        skip = a.fresh("it")
        a.branch("beq", A0, ZERO, skip)
        a("lw", T0, s4, imm=0)  # items kept so far
        a("slli", T1, T0, imm=3)
        a("add", T1, T1, s4)
        a("lw", T2, SP, imm=8)
        a("sw", 0, T1, T2, imm=8)
        a("lw", T2, SP, imm=12)
        a("sw", 0, T1, T2, imm=12)
        a("addi", T0, T0, imm=1)
        a("sw", 0, s4, T0, imm=0)
        a.label(skip)
    elif kind == "exists":
        a.branch("bne", A0, ZERO, early)
    else:
        a.branch("beq", A0, ZERO, early)
    a("addi", s3, s3, imm=1)
    a.jump(loop)
    a.label(done)
    if kind == "map":
        a("sw", 0, s4, s2, imm=0)
    if kind in ("map", "filter"):
        a("lw", T1, s4, imm=0)
        _mem_items(a, T1, mem_base)
        a.mv(T3, s7)
        a.jump("rt_account", link=RA)
        a.mv(A0, s4)
    else:
        a.li(A0, 0 if kind == "exists" else 1)
    a.li(A1, 0)
    leave(a, 8, size)
    if kind in ("exists", "forall"):
        a.label(early)
        a.li(A0, 1 if kind == "exists" else 0)
        a.li(A1, 0)
        leave(a, 8, size)


def _emit_fold(a: Asm) -> None:
    """rt_fold(a0 = xs, a2/a3 = acc, a4 = f, t3 fuel site, t4 depth site) -> a0/a1 = the fold."""
    a.label("rt_fold")
    size = enter(a, 7, out=24)
    _check_frame(size)
    s0, s1, s2, s3, s4, s5, s6 = S[:7]
    a.mv(s0, A0)
    a.mv(s4, A2)
    a.mv(s5, A3)
    a.mv(s1, A4)
    a.mv(s6, T3)
    a.mv(s3, T4)  # the depth site
    a("lw", s2, s0, imm=0)
    a("addi", s0, s0, imm=8)  # cursor
    loop, done = a.fresh("fo"), a.fresh("fo")
    a.label(loop)
    a.branch("beq", s2, ZERO, done)
    a.li(A0, 1)
    a.li(A1, 0)
    a.mv(T3, s6)
    a.jump("rt_charge", link=RA)
    a("sw", 0, SP, s4, imm=8)
    a("sw", 0, SP, s5, imm=12)
    a("lw", T1, s0, imm=0)
    a("sw", 0, SP, T1, imm=16)
    a("lw", T1, s0, imm=4)
    a("sw", 0, SP, T1, imm=20)
    _call_closure(a, s1, s3, 2)
    a.mv(s4, A0)
    a.mv(s5, A1)
    a("addi", s0, s0, imm=8)
    a("addi", s2, s2, imm=-1)
    a.jump(loop)
    a.label(done)
    a.mv(A0, s4)
    a.mv(A1, s5)
    leave(a, 7, size)



def _clamp(a: Asm, lo: int, hi: int, n: int, out: int) -> None:
    """out = min(max(hi:lo, 0), n) for a signed 64-bit hi:lo and an unsigned 32-bit n."""
    neg, big, done = a.fresh("sl"), a.fresh("sl"), a.fresh("sl")
    a.branch("blt", hi, ZERO, neg)
    a.branch("bne", hi, ZERO, big)
    a.branch("bltu", n, lo, big)
    a.mv(out, lo)
    a.jump(done)
    a.label(neg)
    a.li(out, 0)
    a.jump(done)
    a.label(big)
    a.mv(out, n)
    a.label(done)


def _cp_offset(a: Asm, base: int, nbytes: int, index: int, out: int) -> None:
    """out = the byte offset of code point `index` in the UTF-8 bytes at base (nbytes if past the end).

    Clobbers t0, t1, t2, t4.
    """
    loop, done, cont = a.fresh("cp"), a.fresh("cp"), a.fresh("cp")
    a.li(T0, 0)  # byte offset
    a.li(T1, 0)  # code points started before T0
    a.label(loop)
    a.branch("beq", T0, nbytes, done)
    a("add", T2, base, T0)
    a("lbu", T2, T2, imm=0)
    a("andi", T2, T2, imm=0xC0)
    a.li(T4, 0x80)
    a.branch("beq", T2, T4, cont)  # a continuation byte
    a.branch("beq", T1, index, done)  # the start of code point `index`
    a("addi", T1, T1, imm=1)
    a.label(cont)
    a("addi", T0, T0, imm=1)
    a.jump(loop)
    a.label(done)
    a.mv(out, T0)


def _emit_slice(a: Asm, mem_base: int) -> None:
    """rt_slice(a0 = x, a2/a3 = start, a4/a5 = end, t3 fuel, t4 memory, t5 kind) -> a0 = x[start:end].

    kind 0 a list, 1 Bytes, 2 a String (indices in code points). As the
    interpreter: both ends clamped to [0, len], end at least start; the
    elements of the result charged, its memory accounted, then built (a
    list's full slice is the list itself, as CPython's).
    """
    a.label("rt_slice")
    size = enter(a, 8)
    s0, s1, s2, s3, s4, s5, s6, s7 = S[:8]
    a.mv(s0, A0)
    a.mv(s6, T4)
    a.mv(s7, T5)
    a("lw", s3, s0, imm=0)  # n
    _clamp(a, A2, A3, s3, s1)
    _clamp(a, A4, A5, s3, s2)
    ok = a.fresh("sl")
    a.branch("bgeu", s2, s1, ok)
    a.mv(s2, s1)
    a.label(ok)
    a("sub", s4, s2, s1)  # k = end - start
    lst, charged = a.fresh("sl"), a.fresh("sl")
    a.branch("beq", s7, ZERO, lst)
    a("addi", A0, s4, imm=7)
    a("srli", A0, A0, imm=3)
    a.li(A1, 0)
    a.jump("rt_charge", link=RA)
    a("addi", A0, s4, imm=mem_base)
    a("sltiu", A1, A0, imm=mem_base)
    a.mv(T3, s6)
    a.jump("rt_account", link=RA)
    # bytes [b0, b1) of the result
    isbytes, have = a.fresh("sl"), a.fresh("sl")
    a.li(T0, 1)
    a.branch("beq", s7, T0, isbytes)
    a("lw", s5, s0, imm=4)
    a("lw", T0, s0, imm=0)
    a.branch("beq", T0, s5, have)  # ASCII (as many code points as bytes): indices are offsets
    a("addi", s3, s0, imm=8)
    _cp_offset(a, s3, s5, s1, s1)
    _cp_offset(a, s3, s5, s2, s2)
    a.jump(have)
    a.label(isbytes)
    a.label(have)
    a("sub", s5, s2, s1)  # byte length of the result
    a("addi", A0, s5, imm=8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, s4, imm=0)
    a("sw", 0, A0, s5, imm=4)
    a.mv(s3, A0)
    a("addi", T0, s0, imm=8)
    a("add", T0, T0, s1)
    a("addi", T2, A0, imm=8)
    _copy_bytes(a, T0, s5, T2)
    a.mv(A0, s3)
    a.jump(charged)
    a.label(lst)
    a.mv(A0, s4)
    a.li(A1, 0)
    a.jump("rt_charge", link=RA)
    _mem_items(a, s4, mem_base)
    a.mv(T3, s6)
    a.jump("rt_account", link=RA)
    part, done = a.fresh("sl"), a.fresh("sl")
    a("lw", T0, s0, imm=0)
    a.branch("bne", s4, T0, part)
    a.mv(A0, s0)  # the whole list: the list itself
    a.jump(charged)
    a.label(part)
    a("slli", A0, s4, imm=3)
    a("addi", A0, A0, imm=8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, s4, imm=0)
    a.mv(s3, A0)
    a("slli", T0, s1, imm=3)
    a("add", T0, T0, s0)
    a("addi", T0, T0, imm=8)
    a("slli", T1, s4, imm=1)
    a("addi", T2, A0, imm=8)
    _copy_words(a, T0, T1, T2)
    a.mv(A0, s3)
    a.label(done)
    a.label(charged)
    a.li(A1, 0)
    leave(a, 8, size)


def _emit_conversions(a: Asm, mem_base: int) -> None:
    """int_to_string, int_to_bytes, bytes_to_int, string_to_bytes, bytes_to_hex (as `_builtin_impl`)."""
    # rt_int_to_string(a0/a1 = x, t3 = memory site): memory mem_base + digits (+1 for '-')
    a.label("rt_int_to_string")
    size = enter(a, 6, out=32)
    s0, s1, s2, s3, s4, s5 = S[:6]
    a.mv(s0, A0)
    a.mv(s1, A1)
    a.mv(s4, A1)  # the sign
    a.mv(s5, T3)
    a.li(s2, 0)  # digits, least significant first, at sp + 0..
    loop = a.fresh("its")
    a.label(loop)
    a.mv(A0, s0)
    a.mv(A1, s1)
    a.li(A2, 10)
    a.li(A3, 0)
    a.jump("rt_divmod", link=RA)
    a.mv(s0, A0)
    a.mv(s1, A1)
    pos = a.fresh("its")
    a.branch("bge", A2, ZERO, pos)
    a("sub", A2, ZERO, A2)
    a.label(pos)
    a("addi", A2, A2, imm=ord("0"))
    a("add", T0, SP, s2)
    a("sb", 0, T0, A2, imm=0)
    a("addi", s2, s2, imm=1)
    a("or", T0, s0, s1)
    a.branch("bne", T0, ZERO, loop)
    a.mv(s3, s2)
    nosign = a.fresh("its")
    a.branch("bge", s4, ZERO, nosign)
    a("addi", s3, s3, imm=1)
    a.label(nosign)
    a("addi", A0, s3, imm=mem_base)
    a.li(A1, 0)
    a.mv(T3, s5)
    a.jump("rt_account", link=RA)
    a("addi", A0, s3, imm=8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, s3, imm=0)
    a("sw", 0, A0, s3, imm=4)
    a("addi", T2, A0, imm=8)
    nominus = a.fresh("its")
    a.branch("bge", s4, ZERO, nominus)
    a.li(T0, ord("-"))
    a("sb", 0, T2, T0, imm=0)
    a("addi", T2, T2, imm=1)
    a.label(nominus)
    rev, fin = a.fresh("its"), a.fresh("its")
    a.label(rev)
    a.branch("beq", s2, ZERO, fin)
    a("addi", s2, s2, imm=-1)
    a("add", T0, SP, s2)
    a("lbu", T0, T0, imm=0)
    a("sb", 0, T2, T0, imm=0)
    a("addi", T2, T2, imm=1)
    a.jump(rev)
    a.label(fin)
    a.li(A1, 0)
    leave(a, 6, size)

    # rt_int_to_bytes(a0/a1 = x, t3 = memory site): 8 bytes, big-endian
    a.label("rt_int_to_bytes")
    size = enter(a, 2)
    a.mv(S[0], A0)
    a.mv(S[1], A1)
    a.li(A0, mem_base + 8)
    a.li(A1, 0)
    a.jump("rt_account", link=RA)
    a.li(A0, 16)
    a.jump("rt_palloc", link=RA)
    a.li(T0, 8)
    a("sw", 0, A0, T0, imm=0)
    a("sw", 0, A0, T0, imm=4)
    for k in range(8):
        reg, shift = (S[1], 24 - 8 * k) if k < 4 else (S[0], 24 - 8 * (k - 4))
        a("srli", T1, reg, imm=shift)
        a("sb", 0, A0, T1, imm=8 + k)
    a.li(A1, 0)
    leave(a, 2, size)

    # rt_bytes_to_int(a0 = b, t3 = memory site): Some(signed big-endian) when exactly 8 bytes
    a.label("rt_bytes_to_int")
    size = enter(a, 2)
    none, out = a.fresh("bti"), a.fresh("bti")
    a("lw", T0, A0, imm=0)
    a.li(T1, 8)
    a.branch("bne", T0, T1, none)
    a.li(S[0], 0)
    a.li(S[1], 0)
    for k in range(8):
        a("lbu", T1, A0, imm=8 + k)
        reg, shift = (S[1], 24 - 8 * k) if k < 4 else (S[0], 24 - 8 * (k - 4))
        if shift:
            a("slli", T1, T1, imm=shift)
        a("or", reg, reg, T1)
    a.li(A0, mem_base)
    a.li(A1, 0)
    a.jump("rt_account", link=RA)
    a.li(A0, 8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, S[0], imm=0)
    a("sw", 0, A0, S[1], imm=4)
    a.jump(out)
    a.label(none)
    a.li(A0, 0)
    a.label(out)
    a.li(A1, 0)
    leave(a, 2, size)

    # rt_string_to_bytes(a0 = s, t3 fuel, t4 memory): one element per 8 code points, then the copy
    a.label("rt_string_to_bytes")
    size = enter(a, 3)
    a.mv(S[0], A0)
    a.mv(S[2], T4)
    a("lw", A0, S[0], imm=0)
    a("addi", A0, A0, imm=7)
    a("srli", A0, A0, imm=3)
    a.li(A1, 0)
    a.jump("rt_charge", link=RA)
    a("lw", S[1], S[0], imm=4)
    a("addi", A0, S[1], imm=mem_base)
    a("sltiu", A1, A0, imm=mem_base)
    a.mv(T3, S[2])
    a.jump("rt_account", link=RA)
    a("addi", A0, S[1], imm=8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, S[1], imm=0)
    a("sw", 0, A0, S[1], imm=4)
    a.mv(S[2], A0)
    a("addi", T0, S[0], imm=8)
    a("addi", T2, A0, imm=8)
    a.mv(T1, S[1])
    _copy_bytes(a, T0, T1, T2)
    a.mv(A0, S[2])
    a.li(A1, 0)
    leave(a, 3, size)

    # rt_bytes_to_hex(a0 = b, t3 fuel, t4 memory): two elements per 8 bytes, lowercase hex
    a.label("rt_bytes_to_hex")
    size = enter(a, 3)
    a.mv(S[0], A0)
    a.mv(S[2], T4)
    a("lw", A0, S[0], imm=0)
    a("addi", A0, A0, imm=7)
    a("srli", A0, A0, imm=3)
    a("slli", A0, A0, imm=1)
    a.li(A1, 0)
    a.jump("rt_charge", link=RA)
    a("lw", S[1], S[0], imm=0)
    a("slli", S[1], S[1], imm=1)
    a("addi", A0, S[1], imm=mem_base)
    a("sltiu", A1, A0, imm=mem_base)
    a.mv(T3, S[2])
    a.jump("rt_account", link=RA)
    a("addi", A0, S[1], imm=8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, S[1], imm=0)
    a("sw", 0, A0, S[1], imm=4)
    a("addi", T0, S[0], imm=8)
    a("addi", T2, A0, imm=8)
    a("lw", T1, S[0], imm=0)
    hl, hd = a.fresh("hx"), a.fresh("hx")
    a.label(hl)
    a.branch("beq", T1, ZERO, hd)
    a("lbu", T4, T0, imm=0)
    for half, shift in ((0, 4), (1, 0)):
        if shift:
            a("srli", T5, T4, imm=shift)
        else:
            a("andi", T5, T4, imm=15)
        digit = a.fresh("hx")
        a("addi", T6, T5, imm=-10)
        a("addi", T5, T5, imm=ord("0"))
        a.branch("blt", T6, ZERO, digit)
        a("addi", T5, T5, imm=ord("a") - ord("0") - 10)
        a.label(digit)
        a("sb", 0, T2, T5, imm=half)
    a("addi", T0, T0, imm=1)
    a("addi", T2, T2, imm=2)
    a("addi", T1, T1, imm=-1)
    a.jump(hl)
    a.label(hd)
    a.li(A1, 0)
    leave(a, 3, size)


def _emit_parsers(a: Asm, mem_base: int) -> None:
    """string_to_int and bytes_to_string (as `_builtin_impl`: charge, check, then memory)."""
    # rt_string_to_int(a0 = s, t3 fuel, t4 memory) -> Some(n) for an optional '-' and 1..19
    # ASCII digits within the Int range, else None
    a.label("rt_string_to_int")
    size = enter(a, 6)
    s0, s1, s2, s3, s4, s5 = S[:6]
    a.mv(s0, A0)
    a.mv(s5, T4)
    a("lw", A0, s0, imm=0)
    a("addi", A0, A0, imm=7)
    a("srli", A0, A0, imm=3)
    a.li(A1, 0)
    a.jump("rt_charge", link=RA)
    none, out = a.fresh("sti"), a.fresh("sti")
    a("lw", s1, s0, imm=4)  # bytes left
    a("addi", s2, s0, imm=8)  # cursor
    a.li(s3, 0)  # negative?
    a.branch("beq", s1, ZERO, none)
    a("lbu", T0, s2, imm=0)
    a.li(T1, ord("-"))
    digits = a.fresh("sti")
    a.branch("bne", T0, T1, digits)
    a.li(s3, 1)
    a("addi", s2, s2, imm=1)
    a("addi", s1, s1, imm=-1)
    a.label(digits)
    a.branch("beq", s1, ZERO, none)
    a.li(T0, 20)
    a.branch("bgeu", s1, T0, none)  # more than 19 digits
    a.li(A0, 0)  # the value, unsigned 64-bit in a0/a1
    a.li(A1, 0)
    loop, done = a.fresh("sti"), a.fresh("sti")
    a.label(loop)
    a.branch("beq", s1, ZERO, done)
    a("lbu", T0, s2, imm=0)
    a("addi", T0, T0, imm=-ord("0"))
    a.li(T1, 10)
    a.branch("bgeu", T0, T1, none)
    a("mulhu", T2, A0, T1)
    a("mul", A0, A0, T1)
    a("mul", A1, A1, T1)
    a("add", A1, A1, T2)
    a("add", A0, A0, T0)
    a("sltu", T2, A0, T0)
    a("add", A1, A1, T2)
    a("addi", s2, s2, imm=1)
    a("addi", s1, s1, imm=-1)
    a.jump(loop)
    a.label(done)
    # in range: <= 2^63 - 1, or <= 2^63 when negative
    a.li(T1, 0x80000000)
    neg, ok = a.fresh("sti"), a.fresh("sti")
    a.branch("bne", s3, ZERO, neg)
    a.branch("bgeu", A1, T1, none)
    a.jump(ok)
    a.label(neg)
    a.branch("bltu", A1, T1, ok)
    a.branch("bne", A1, T1, none)
    a.branch("bne", A0, ZERO, none)
    a.label(ok)
    a.mv(s1, A0)
    a.mv(s4, A1)
    fix = a.fresh("sti")
    a.branch("beq", s3, ZERO, fix)
    a("sltu", T0, ZERO, s1)
    a("sub", s1, ZERO, s1)
    a("sub", s4, ZERO, s4)
    a("sub", s4, s4, T0)
    a.label(fix)
    a.li(A0, mem_base)
    a.li(A1, 0)
    a.mv(T3, s5)
    a.jump("rt_account", link=RA)
    a.li(A0, 8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, s1, imm=0)
    a("sw", 0, A0, s4, imm=4)
    a.jump(out)
    a.label(none)
    a.li(A0, 0)
    a.label(out)
    a.li(A1, 0)
    leave(a, 6, size)

    # rt_bytes_to_string(a0 = b, t3 fuel, t4 memory) -> Some(s) if b is well-formed UTF-8, else None;
    # memory: the string (mem_base + one per code point), then the Some
    a.label("rt_bytes_to_string")
    size = enter(a, 6)
    a.mv(s0, A0)
    a.mv(s5, T4)
    a("lw", A0, s0, imm=0)
    a("addi", A0, A0, imm=7)
    a("srli", A0, A0, imm=3)
    a.li(A1, 0)
    a.jump("rt_charge", link=RA)
    none2, out2 = a.fresh("bts"), a.fresh("bts")
    a("lw", s1, s0, imm=0)  # bytes left
    a("addi", s2, s0, imm=8)  # cursor
    a.li(s3, 0)  # code points
    loop2, valid = a.fresh("bts"), a.fresh("bts")
    a.label(loop2)
    a.branch("beq", s1, ZERO, valid)
    a("lbu", T0, s2, imm=0)
    a("addi", s3, s3, imm=1)
    one = a.fresh("bts")
    a.li(T1, 0x80)
    a.branch("bltu", T0, T1, one)
    # lead byte: t4 = continuation bytes, t5/t6 = the range of the first one
    a.li(T1, 0xC2)
    a.branch("bltu", T0, T1, none2)
    cases = [(0xE0, 1, 0x80, 0xBF), (0xE1, 2, 0xA0, 0xBF), (0xED, 2, 0x80, 0xBF), (0xEE, 2, 0x80, 0x9F),
             (0xF0, 2, 0x80, 0xBF), (0xF1, 3, 0x90, 0xBF), (0xF4, 3, 0x80, 0xBF), (0xF5, 3, 0x80, 0x8F)]
    # a lead byte below `bound` (and above the previous one): n continuation bytes, the first in [lo, hi]
    have = a.fresh("bts")
    for bound, n, lo, hi in cases:
        nxt = a.fresh("bts")
        a.li(T1, bound)
        a.branch("bgeu", T0, T1, nxt)
        a.li(T4, n)
        a.li(T5, lo)
        a.li(T6, hi)
        a.jump(have)
        a.label(nxt)
    a.jump(none2)
    a.label(have)
    a.branch("bltu", s1, T4, none2)  # truncated
    a.branch("beq", s1, T4, none2)
    a("lbu", T0, s2, imm=1)
    a.branch("bltu", T0, T5, none2)
    a.branch("bltu", T6, T0, none2)
    a("addi", T2, s2, imm=2)
    a("addi", T1, T4, imm=-1)
    rest, rest_done = a.fresh("bts"), a.fresh("bts")
    a.label(rest)
    a.branch("beq", T1, ZERO, rest_done)
    a("lbu", T0, T2, imm=0)
    a("andi", T0, T0, imm=0xC0)
    a.li(T5, 0x80)
    a.branch("bne", T0, T5, none2)
    a("addi", T2, T2, imm=1)
    a("addi", T1, T1, imm=-1)
    a.jump(rest)
    a.label(rest_done)
    a("addi", T4, T4, imm=1)
    a("add", s2, s2, T4)
    a("sub", s1, s1, T4)
    a.jump(loop2)
    a.label(one)
    a("addi", s2, s2, imm=1)
    a("addi", s1, s1, imm=-1)
    a.jump(loop2)
    a.label(valid)
    a("addi", A0, s3, imm=mem_base)
    a("sltiu", A1, A0, imm=mem_base)
    a.mv(T3, s5)
    a.jump("rt_account", link=RA)
    a("lw", s1, s0, imm=0)
    a("addi", A0, s1, imm=8)
    a.jump("rt_palloc", link=RA)
    a.mv(s4, A0)
    a("sw", 0, s4, s3, imm=0)
    a("sw", 0, s4, s1, imm=4)
    a("addi", T0, s0, imm=8)
    a("addi", T2, s4, imm=8)
    _copy_bytes(a, T0, s1, T2)
    a.li(A0, mem_base)
    a.li(A1, 0)
    a.mv(T3, s5)
    a.jump("rt_account", link=RA)
    a.li(A0, 8)
    a.jump("rt_palloc", link=RA)
    a("sw", 0, A0, s4, imm=0)
    a("sw", 0, A0, ZERO, imm=4)
    a.jump(out2)
    a.label(none2)
    a.li(A0, 0)
    a.label(out2)
    a.li(A1, 0)
    leave(a, 6, size)
