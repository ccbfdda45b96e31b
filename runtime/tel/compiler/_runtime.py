"""The guest runtime, in assembly: start-up, canonical CBOR in and out, 64-bit arithmetic, metering.

Guest ABI (the co-processor's, as for the C guests)
    * fd 0 (input): the canonical CBOR array ``[fuel, memory, depth, [args...]]``.
    * fd 3 (public output): the canonical CBOR array
      ``[code, value_or_site, fuel_left, memory_left]``; ``code`` 0 is a
      result (then the second item is the value), any other code is the
      TEL error the run stopped with (then it is the site index, which the
      compiled program's site table maps to the error's kind, location and
      cost). The exit code is ``code``.
    * The call stack lives in the heap (``brk``), sized for the deepest
      call chain the depth limit allows, so only the pages used count
      against the memory limit.

Data words (at `DATA`): the fuel withheld from the current slice
(``RESERVE``, 64 bits), the memory budget left (``MEMLEFT``, 64 bits), the
output length and buffer.
"""

from __future__ import annotations

from .._ast import TList, TName, TOption, TTuple, Type
from ._asm import Asm
from ._codegen import (
    A0, A1, A2, A3, A4, A5, A6, A7, ERR_FUEL, ERR_HOST_MEMORY, ERR_INPUT, GP, RA, SP, T0, T1, T2, T3, T4, T5, T6, TP,
    ZERO,
)
from ._lower import CompileUnsupported

__all__ = ["DATA", "DATA_SIZE", "SLICE", "emit_runtime", "emit_start"]

S0, S1, S2, S3, S4 = 8, 9, 18, 19, 20
DATA = 0x10000000
RESERVE, MEMLEFT, OUTLEN, HEAP, HEAPEND = 0, 8, 16, 20, 24
OUTBUF = 64
OUTCAP = 4096
DATA_SIZE = OUTBUF + OUTCAP
#: fuel is handed to the `gp` counter in slices of at most this many units
SLICE = 1 << 30
SYS_READ, SYS_WRITE, SYS_EXIT, SYS_BRK = 63, 64, 93, 214


def _data(a: Asm, reg: int) -> None:
    a("lui", reg, imm=DATA)


def _neg64(a: Asm, lo: int, hi: int) -> None:
    a("sltu", T0, ZERO, lo)
    a("sub", lo, ZERO, lo)
    a("sub", hi, ZERO, hi)
    a("sub", hi, hi, T0)


def _syscall(a: Asm, num: int) -> None:
    a.li(A7, num)
    a("ecall")


def emit_start(a: Asm, entry: str, params: tuple[Type, ...], ret: Type, stack_bytes: int) -> None:
    """`_start`: stack, input, limits, arguments; call the entry; write the result; exit."""
    a.label("_start")
    a.li(A0, 0)
    _syscall(a, SYS_BRK)
    a.mv(S0, A0)
    a.li(T0, stack_bytes)
    a("add", A0, S0, T0)
    a.mv(S1, A0)
    _syscall(a, SYS_BRK)
    a.branch("bne", A0, S1, "rt_bad_input")  # no room for the stack
    a("andi", SP, S1, imm=-16)
    a.mv(S2, S1)  # input cursor (the input is read into the heap above the stack)
    a.label("rt_read")
    a.li(T0, 4096)
    a("add", A0, S2, T0)
    _syscall(a, SYS_BRK)
    a.li(A0, 0)
    a.mv(A1, S2)
    a.li(A2, 4096)
    _syscall(a, SYS_READ)
    a.branch("blt", A0, ZERO, "rt_bad_input")
    done = a.fresh("rd")
    a.branch("beq", A0, ZERO, done)
    a("add", S2, S2, A0)
    a.jump("rt_read")
    a.label(done)
    _data(a, T6)
    a("addi", T0, S2, imm=7)
    a("andi", T0, T0, imm=-8)
    a("sw", 0, T6, T0, imm=HEAP)
    a.li(T0, 4096)
    a("add", T0, S2, T0)
    a("sw", 0, T6, T0, imm=HEAPEND)
    # [fuel, memory, depth, args]
    a.mv(A0, S1)
    _expect(a, 4, 4)
    a.jump("rt_head", link=RA)
    _major(a, 0)
    # gp = min(fuel, SLICE); RESERVE = fuel - gp
    _data(a, T6)
    small = a.fresh("f")
    stored = a.fresh("f")
    a.li(T3, SLICE)
    a.branch("bne", A2, ZERO, "rt_fuel_big")
    a.branch("bltu", A1, T3, small)
    a.label("rt_fuel_big")
    a.mv(GP, T3)
    a("sltu", T0, A1, T3)
    a("sub", A1, A1, T3)
    a("sub", A2, A2, T0)
    a("sw", 0, T6, A1, imm=RESERVE)
    a("sw", 0, T6, A2, imm=RESERVE + 4)
    a.jump(stored)
    a.label(small)
    a.mv(GP, A1)
    a.label(stored)
    a.mv(A0, A3)
    a.jump("rt_head", link=RA)
    _major(a, 0)
    _data(a, T6)
    a("sw", 0, T6, A1, imm=MEMLEFT)
    a("sw", 0, T6, A2, imm=MEMLEFT + 4)
    a.mv(A0, A3)
    a.jump("rt_head", link=RA)
    _major(a, 0)
    a.mv(TP, A1)
    a.mv(A0, A3)
    _expect(a, 4, len(params))
    frame = (8 * len(params) + 15) & ~15
    a("addi", SP, SP, imm=-frame)
    a.mv(S2, A3)
    for i, t in enumerate(params):
        a.mv(A0, S2)
        _decode(a, t)
        a("sw", 0, SP, A1, imm=8 * i)
        a("sw", 0, SP, A2, imm=8 * i + 4)
        a.mv(S2, A3)
    a.jump(entry, link=RA)
    a.mv(S3, A0)
    a.mv(S4, A1)
    _data(a, T6)
    a("sw", 0, T6, ZERO, imm=OUTLEN)
    _put(a, 4, 5)
    _put(a, 0, 0)
    a.mv(A0, S3)
    a.mv(A1, S4)
    a.jump(encoder_label(ret), link=RA)
    a.jump("rt_finish_meters", link=RA)
    _put(a, 0, 0)
    a.li(A0, 0)
    a.jump("rt_write_exit")


def _expect(a: Asm, major: int, n: int) -> None:
    """Read a head at a0 and check it is `major` with argument `n` (else: bad input)."""
    a.jump("rt_head", link=RA)
    a.li(T0, major)
    a.branch("bne", A0, T0, "rt_bad_input")
    a.li(T0, n)
    a.branch("bne", A1, T0, "rt_bad_input")
    a.branch("bne", A2, ZERO, "rt_bad_input")
    a.mv(A0, A3)


def _major(a: Asm, major: int) -> None:
    a.li(T0, major)
    a.branch("bne", A0, T0, "rt_bad_input")


def _decode_scalar(a: Asm, t: Type) -> None:
    """Decode a value of type `t` at a0 into a1 (lo) / a2 (hi); a3 = the next byte."""
    if not isinstance(t, TName) or t.name not in ("Int", "Bool", "Unit"):
        raise CompileUnsupported(f"an argument of type {t} does not compile yet")
    a.jump("rt_head", link=RA)
    if t.name == "Int":
        pos, done = a.fresh("i"), a.fresh("i")
        a.branch("beq", A0, ZERO, pos)
        _major(a, 1)
        a("xori", A1, A1, imm=-1)
        a("xori", A2, A2, imm=-1)
        a.branch("bge", A2, ZERO, "rt_bad_input")
        a.jump(done)
        a.label(pos)
        a.branch("blt", A2, ZERO, "rt_bad_input")
        a.label(done)
    elif t.name == "Bool":
        _major(a, 7)
        a("addi", A1, A1, imm=-20)
        a.li(T0, 2)
        a.branch("bgeu", A1, T0, "rt_bad_input")
    else:
        _major(a, 4)
        a.branch("bne", A1, ZERO, "rt_bad_input")


def _scalar_type(t: Type) -> bool:
    return isinstance(t, TName) and t.name in ("Int", "Bool", "Unit")


def _decode(a: Asm, t: Type) -> None:
    """A value of type `t` at a0 into a1/a2, a3 = the next byte (clobbers t*, a*; keeps s*)."""
    if _scalar_type(t):
        _decode_scalar(a, t)
    else:
        a.jump(decoder_label(t), link=RA)


def decoder_label(t: Type) -> str:
    from .._printer import print_type
    return "dec " + print_type(t)


def emit_decoders(a: Asm, types: tuple[Type, ...], done: set[str] | None = None) -> None:
    """The CBOR decoders of the entry's argument types (arguments are not charged memory:
    the interpreter receives them built). Blocks come from `rt_palloc`."""
    from .._ast import TFn
    from ._rtseq import enter, leave
    done = set() if done is None else done
    for t in types:
        if _scalar_type(t) or decoder_label(t) in done:
            continue
        if isinstance(t, TFn) or (isinstance(t, TName) and t.name not in ("String", "Bytes")):
            raise CompileUnsupported(f"an entry argument of type {t} does not compile")
        done.add(decoder_label(t))
        a.label(decoder_label(t))
        size = enter(a, 4)
        s0, s1, s2, s3 = S0, S1, S2, S3
        inner: list[Type] = []
        if isinstance(t, TName):  # String or Bytes
            a.jump("rt_head", link=RA)
            _major(a, 3 if t.name == "String" else 2)
            a.branch("bne", A2, ZERO, "rt_bad_input")
            a.mv(s0, A3)
            a.mv(s1, A1)
            a("addi", A0, s1, imm=8)
            a.jump("rt_palloc", link=RA)
            a.mv(s2, A0)
            a("sw", 0, s2, s1, imm=4)
            a.mv(T0, s0)
            a.mv(T1, s1)
            a("addi", T2, s2, imm=8)
            a.li(T3, 0)  # code points
            loop, done_l, cont = a.fresh("dc"), a.fresh("dc"), a.fresh("dc")
            a.label(loop)
            a.branch("beq", T1, ZERO, done_l)
            a("lbu", T4, T0, imm=0)
            a("sb", 0, T2, T4, imm=0)
            a("andi", T4, T4, imm=0xC0)
            a.li(T5, 0x80)
            a.branch("beq", T4, T5, cont)
            a("addi", T3, T3, imm=1)
            a.label(cont)
            a("addi", T0, T0, imm=1)
            a("addi", T2, T2, imm=1)
            a("addi", T1, T1, imm=-1)
            a.jump(loop)
            a.label(done_l)
            if t.name == "Bytes":
                a.mv(T3, s1)
            a("sw", 0, s2, T3, imm=0)
            a.mv(A1, s2)
            a("add", A3, s0, s1)
        elif isinstance(t, TOption):
            some, out = a.fresh("dc"), a.fresh("dc")
            a("lbu", T0, A0, imm=0)
            a.li(T1, 0xF6)
            a.branch("bne", T0, T1, some)
            a.li(A1, 0)
            a("addi", A3, A0, imm=1)
            a.jump(out)
            a.label(some)
            a.li(T1, 0xA1)  # {"s": value}
            a.branch("bne", T0, T1, "rt_bad_input")
            a("lbu", T0, A0, imm=1)
            a.li(T1, 0x61)
            a.branch("bne", T0, T1, "rt_bad_input")
            a("lbu", T0, A0, imm=2)
            a.li(T1, ord("s"))
            a.branch("bne", T0, T1, "rt_bad_input")
            a("addi", s0, A0, imm=3)
            a.li(A0, 8)
            a.jump("rt_palloc", link=RA)
            a.mv(s1, A0)
            a.mv(A0, s0)
            _decode(a, t.elem)
            a("sw", 0, s1, A1, imm=0)
            a("sw", 0, s1, A2, imm=4)
            a.mv(A1, s1)
            a.label(out)
            inner.append(t.elem)
        else:
            assert isinstance(t, (TList, TTuple))
            a.jump("rt_head", link=RA)
            _major(a, 4)
            a.branch("bne", A2, ZERO, "rt_bad_input")
            a.mv(s0, A3)  # cursor
            if isinstance(t, TTuple):
                a.li(T0, len(t.items))
                a.branch("bne", A1, T0, "rt_bad_input")
                a.li(A0, 8 * len(t.items))
                a.jump("rt_palloc", link=RA)
                a.mv(s1, A0)
                for i, it in enumerate(t.items):
                    a.mv(A0, s0)
                    _decode(a, it)
                    a("sw", 0, s1, A1, imm=8 * i)
                    a("sw", 0, s1, A2, imm=8 * i + 4)
                    a.mv(s0, A3)
                    inner.append(it)
            else:
                a.mv(s2, A1)  # items left
                a("slli", A0, s2, imm=3)
                a("addi", A0, A0, imm=8)
                a.jump("rt_palloc", link=RA)
                a.mv(s1, A0)
                a("sw", 0, s1, s2, imm=0)
                a("addi", s3, s1, imm=8)
                loop, fin = a.fresh("dc"), a.fresh("dc")
                a.label(loop)
                a.branch("beq", s2, ZERO, fin)
                a.mv(A0, s0)
                _decode(a, t.elem)
                a("sw", 0, s3, A1, imm=0)
                a("sw", 0, s3, A2, imm=4)
                a.mv(s0, A3)
                a("addi", s3, s3, imm=8)
                a("addi", s2, s2, imm=-1)
                a.jump(loop)
                a.label(fin)
                inner.append(t.elem)
            a.mv(A1, s1)
            a.mv(A3, s0)
        a.li(A2, 0)
        leave(a, 4, size)
        emit_decoders(a, tuple(inner), done)


def _encode_scalar(a: Asm, t: Type, lo: int, hi: int) -> None:
    if not isinstance(t, TName) or t.name not in ("Int", "Bool", "Unit"):
        raise CompileUnsupported(f"a result of type {t} does not compile yet")
    if t.name == "Int":
        neg, done = a.fresh("e"), a.fresh("e")
        a.branch("blt", hi, ZERO, neg)
        a.li(A0, 0)
        a.mv(A1, lo)
        a.mv(A2, hi)
        a.jump("rt_put", link=RA)
        a.jump(done)
        a.label(neg)
        a.li(A0, 1)
        a("xori", A1, lo, imm=-1)
        a("xori", A2, hi, imm=-1)
        a.jump("rt_put", link=RA)
        a.label(done)
    elif t.name == "Bool":
        a.li(A0, 7)
        a("addi", A1, lo, imm=20)
        a.li(A2, 0)
        a.jump("rt_put", link=RA)
    else:
        _put(a, 4, 0)


def encoder_label(t: Type) -> str:
    """The label of the routine that appends a value of type `t` (in a0/a1) as CBOR."""
    from .._printer import print_type
    return "enc " + print_type(t)


def emit_encoders(a: Asm, t: Type, done: set[str] | None = None) -> None:
    """The CBOR encoders of `t` and of the types inside it (value in a0/a1; s1, s2, s3 saved)."""
    done = set() if done is None else done
    label = encoder_label(t)
    if label in done:
        return
    done.add(label)
    a.label(label)
    a("addi", SP, SP, imm=-16)
    a("sw", 0, SP, RA, imm=12)
    for i, r in enumerate((S1, S2, S3)):
        a("sw", 0, SP, r, imm=8 - 4 * i)
    a.mv(S1, A0)
    a.mv(S2, A1)
    inner: list[Type] = []
    if isinstance(t, TOption):
        some, out = a.fresh("enc"), a.fresh("enc")
        a.branch("bne", S1, ZERO, some)
        _put(a, 7, 22)  # null
        a.jump(out)
        a.label(some)
        _put(a, 5, 1)  # {"s": value}
        _put(a, 3, 1)
        _put(a, 0, 0)  # placeholder head byte 0x00, rewritten to 's' below
        _data(a, T6)
        a("lw", T5, T6, imm=OUTLEN)
        a("add", T5, T5, T6)
        a.li(T0, ord("s"))
        a("sb", 0, T5, T0, imm=OUTBUF - 1)
        a("lw", A0, S1, imm=0)
        a("lw", A1, S1, imm=4)
        a.jump(encoder_label(t.elem), link=RA)
        a.label(out)
        inner.append(t.elem)
    elif isinstance(t, TTuple):
        _put(a, 4, len(t.items))
        for i, it in enumerate(t.items):
            a("lw", A0, S1, imm=8 * i)
            a("lw", A1, S1, imm=8 * i + 4)
            a.jump(encoder_label(it), link=RA)
            inner.append(it)
    elif isinstance(t, TName) and t.name in ("String", "Bytes"):
        a.li(A0, 3 if t.name == "String" else 2)
        a("lw", A1, S1, imm=4)
        a.li(A2, 0)
        a.jump("rt_put", link=RA)
        a("addi", A0, S1, imm=8)
        a("lw", A1, S1, imm=4)
        a.jump("rt_putbytes", link=RA)
    elif isinstance(t, TList):
        a.li(A0, 4)
        a("lw", A1, S1, imm=0)
        a.li(A2, 0)
        a.jump("rt_put", link=RA)
        a("lw", S3, S1, imm=0)
        a("addi", S2, S1, imm=8)
        loop, fin = a.fresh("enc"), a.fresh("enc")
        a.label(loop)
        a.branch("beq", S3, ZERO, fin)
        a("lw", A0, S2, imm=0)
        a("lw", A1, S2, imm=4)
        a.jump(encoder_label(t.elem), link=RA)
        a("addi", S2, S2, imm=8)
        a("addi", S3, S3, imm=-1)
        a.jump(loop)
        a.label(fin)
        inner.append(t.elem)
    elif isinstance(t, TName) and t.name == "?":
        a.jump("rt_internal")
    else:
        _encode_scalar(a, t, S1, S2)
    for i, r in enumerate((S1, S2, S3)):
        a("lw", r, SP, imm=8 - 4 * i)
    a("lw", RA, SP, imm=12)
    a("addi", SP, SP, imm=16)
    a("jalr", ZERO, RA, imm=0)
    for it in inner:
        emit_encoders(a, it, done)


def _put(a: Asm, major: int, n: int) -> None:
    a.li(A0, major)
    a.li(A1, n)
    a.li(A2, 0)
    a.jump("rt_put", link=RA)


def emit_runtime(a: Asm, mem_base: int) -> None:
    """The routines the generated code calls (they use only t* and a*, except where noted)."""
    # -- rt_bad_input: the input was not what the host sends (exit ERR_INPUT)
    a.label("rt_bad_input")
    a.li(A0, ERR_INPUT)
    a.li(A1, 0)
    a.li(A2, 0)
    a.li(A3, 0)
    a.jump("rt_fail")

    # -- rt_refuel(a0 = cost, a1 = site): next slice into gp, or the fuel error
    a.label("rt_refuel")
    _data(a, T6)
    a("lw", T0, T6, imm=RESERVE)
    a("lw", T1, T6, imm=RESERVE + 4)
    a("or", T2, T0, T1)
    out = a.fresh("rf")
    a.branch("beq", T2, ZERO, out)
    a.li(T3, SLICE)
    big, small = a.fresh("rf"), a.fresh("rf")
    a.branch("bne", T1, ZERO, big)
    a.branch("bltu", T0, T3, small)
    a.label(big)
    a("add", GP, GP, T3)
    a("sltu", T4, T0, T3)
    a("sub", T0, T0, T3)
    a("sub", T1, T1, T4)
    a("sw", 0, T6, T0, imm=RESERVE)
    a("sw", 0, T6, T1, imm=RESERVE + 4)
    a("jalr", ZERO, RA, imm=0)
    a.label(small)
    a("add", GP, GP, T0)
    a("sw", 0, T6, ZERO, imm=RESERVE)
    a("sw", 0, T6, ZERO, imm=RESERVE + 4)
    a("jalr", ZERO, RA, imm=0)
    a.label(out)
    a.mv(A2, A0)
    a.li(A3, 0)
    a.li(A0, ERR_FUEL)
    a.jump("rt_fail")

    # -- rt_fail(a0 = code, a1 = site, a2/a3 = extra): [code, site, fuel_left, memory_left, extra]
    #    to fd 3, exit code (extra: the dynamic cost or bytes that did not fit, for the error)
    a.label("rt_fail")
    a.mv(S0, A0)
    a.mv(S1, A1)
    a.mv(S2, A2)
    a.mv(S3, A3)
    _data(a, T6)
    a("sw", 0, T6, ZERO, imm=OUTLEN)
    _put(a, 4, 5)
    a.li(A0, 0)
    a.mv(A1, S0)
    a.li(A2, 0)
    a.jump("rt_put", link=RA)
    a.li(A0, 0)
    a.mv(A1, S1)
    a.li(A2, 0)
    a.jump("rt_put", link=RA)
    a.jump("rt_finish_meters", link=RA)
    a.li(A0, 0)
    a.mv(A1, S2)
    a.mv(A2, S3)
    a.jump("rt_put", link=RA)
    a.mv(A0, S0)
    a.jump("rt_write_exit")

    # -- rt_finish_meters: put fuel_left (gp + RESERVE) and MEMLEFT (uses s5, called last)
    a.label("rt_finish_meters")
    a.mv(21, RA)
    _data(a, T6)
    a("lw", T0, T6, imm=RESERVE)
    a("lw", T1, T6, imm=RESERVE + 4)
    a("add", A1, T0, GP)
    a("sltu", T2, A1, T0)
    a("add", A2, T1, T2)
    a.li(A0, 0)
    a.jump("rt_put", link=RA)
    _data(a, T6)
    a("lw", A1, T6, imm=MEMLEFT)
    a("lw", A2, T6, imm=MEMLEFT + 4)
    a.li(A0, 0)
    a.jump("rt_put", link=RA)
    a("jalr", ZERO, 21, imm=0)

    # -- rt_write_exit(a0 = code): write the output buffer to fd 3 and exit with a0
    a.label("rt_write_exit")
    a.mv(S0, A0)
    _data(a, T6)
    a.li(A0, 3)
    a("addi", A1, T6, imm=OUTBUF)
    a("lw", A2, T6, imm=OUTLEN)
    _syscall(a, SYS_WRITE)
    a.mv(A0, S0)
    _syscall(a, SYS_EXIT)

    _emit_alloc(a)
    from ._rtseq import emit_seq_runtime
    emit_seq_runtime(a, mem_base)
    _emit_head(a)
    _emit_put(a)
    _emit_mul(a)
    _emit_divmod(a)


def _emit_head(a: Asm) -> None:
    """rt_head(a0 = ptr) -> a0 major, a1/a2 argument (64 bits), a3 next byte."""
    a.label("rt_head")
    a("lbu", T0, A0, imm=0)
    a("addi", A3, A0, imm=1)
    a("srli", T5, T0, imm=5)
    a("andi", T1, T0, imm=31)
    small = a.fresh("h")
    a.li(T2, 24)
    a.branch("bltu", T1, T2, small)
    a("addi", T1, T1, imm=-24)
    a.li(T2, 4)
    a.branch("bgeu", T1, T2, "rt_bad_input")
    a.li(T3, 1)
    a("sll", T3, T3, T1)
    a.li(A1, 0)
    a.li(A2, 0)
    loop = a.fresh("h")
    a.label(loop)
    a("lbu", T0, A3, imm=0)
    a("addi", A3, A3, imm=1)
    a("srli", T4, A1, imm=24)
    a("slli", A2, A2, imm=8)
    a("or", A2, A2, T4)
    a("slli", A1, A1, imm=8)
    a("or", A1, A1, T0)
    a("addi", T3, T3, imm=-1)
    a.branch("bne", T3, ZERO, loop)
    a.mv(A0, T5)
    a("jalr", ZERO, RA, imm=0)
    a.label(small)
    a.mv(A1, T1)
    a.li(A2, 0)
    a.mv(A0, T5)
    a("jalr", ZERO, RA, imm=0)


def _emit_put(a: Asm) -> None:
    """rt_put(a0 = major, a1/a2 = argument): append the shortest CBOR head to the output."""
    a.label("rt_put")
    _data(a, T6)
    a("lw", T5, T6, imm=OUTLEN)
    room = a.fresh("p")
    a.li(T0, OUTCAP - 16)
    a.branch("bltu", T5, T0, room)
    a.mv(T0, A0)
    a.mv(T1, A1)
    a.mv(T2, A2)
    a.li(A0, 3)
    a("addi", A1, T6, imm=OUTBUF)
    a.mv(A2, T5)
    _syscall(a, SYS_WRITE)
    a.mv(A0, T0)
    a.mv(A1, T1)
    a.mv(A2, T2)
    a.li(T5, 0)
    a("sw", 0, T6, ZERO, imm=OUTLEN)
    a.label(room)
    a("addi", T4, T6, imm=OUTBUF)
    a("add", T4, T4, T5)
    a("slli", A0, A0, imm=5)
    b0, b1, b2, b4, b8, done = (a.fresh("p") for _ in range(6))
    a.branch("bne", A2, ZERO, b8)
    a.li(T0, 24)
    a.branch("bltu", A1, T0, b0)
    a.li(T0, 256)
    a.branch("bltu", A1, T0, b1)
    a.li(T0, 65536)
    a.branch("bltu", A1, T0, b2)
    a.jump(b4)

    def bytes_be(reg: int, n: int, at: int) -> None:
        for k in range(n):
            shift = 8 * (n - 1 - k)
            if shift:
                a("srli", T2, reg, imm=shift)
                a("sb", 0, T4, T2, imm=at + k)
            else:
                a("sb", 0, T4, reg, imm=at + k)

    a.label(b0)
    a("or", T1, A0, A1)
    a("sb", 0, T4, T1, imm=0)
    a("addi", T4, T4, imm=1)
    a.jump(done)
    for label, ai, n in ((b1, 24, 1), (b2, 25, 2), (b4, 26, 4)):
        a.label(label)
        a("ori", T1, A0, imm=ai)
        a("sb", 0, T4, T1, imm=0)
        bytes_be(A1, n, 1)
        a("addi", T4, T4, imm=1 + n)
        a.jump(done)
    a.label(b8)
    a("ori", T1, A0, imm=27)
    a("sb", 0, T4, T1, imm=0)
    bytes_be(A2, 4, 1)
    bytes_be(A1, 4, 5)
    a("addi", T4, T4, imm=9)
    a.label(done)
    a("sub", T5, T4, T6)
    a("addi", T5, T5, imm=-OUTBUF)
    a("sw", 0, T6, T5, imm=OUTLEN)
    a("jalr", ZERO, RA, imm=0)


def _emit_mul(a: Asm) -> None:
    """rt_mul(a0/a1 = x, a2/a3 = y) -> a0/a1 = x * y, a4 = 1 if it leaves the signed 64-bit range."""
    a.label("rt_mul")
    ovf = a.fresh("m")
    a("xor", A5, A1, A3)
    for lo, hi in ((A0, A1), (A2, A3)):
        pos = a.fresh("m")
        a.branch("bge", hi, ZERO, pos)
        _neg64(a, lo, hi)
        a.label(pos)
    xsmall, cross = a.fresh("m"), a.fresh("m")
    a.branch("beq", A1, ZERO, xsmall)
    a.branch("bne", A3, ZERO, ovf)
    a("mulhu", T0, A1, A2)
    a.branch("bne", T0, ZERO, ovf)
    a("mul", T1, A1, A2)
    a.jump(cross)
    a.label(xsmall)
    a("mulhu", T0, A0, A3)
    a.branch("bne", T0, ZERO, ovf)
    a("mul", T1, A0, A3)
    a.label(cross)
    a("mul", T2, A0, A2)
    a("mulhu", T3, A0, A2)
    a("add", T3, T3, T1)
    a.branch("bltu", T3, T1, ovf)
    neg, ok = a.fresh("m"), a.fresh("m")
    a.branch("blt", A5, ZERO, neg)
    a.branch("blt", T3, ZERO, ovf)
    a.mv(A0, T2)
    a.mv(A1, T3)
    a.li(A4, 0)
    a("jalr", ZERO, RA, imm=0)
    a.label(neg)
    a.li(T4, 0x80000000)
    a.branch("bltu", T4, T3, ovf)
    a.branch("bne", T3, T4, ok)
    a.branch("bne", T2, ZERO, ovf)
    a.label(ok)
    a.mv(A0, T2)
    a.mv(A1, T3)
    _neg64(a, A0, A1)
    a.li(A4, 0)
    a("jalr", ZERO, RA, imm=0)
    a.label(ovf)
    a.li(A4, 1)
    a("jalr", ZERO, RA, imm=0)


def _emit_divmod(a: Asm) -> None:
    """rt_divmod(a0/a1 = x, a2/a3 = y != 0) -> a0/a1 = x / y (toward zero), a2/a3 = x % y (x's sign)."""
    a.label("rt_divmod")
    a("xor", A6, A1, A3)
    a.mv(A7, A1)
    for lo, hi in ((A0, A1), (A2, A3)):
        pos = a.fresh("q")
        a.branch("bge", hi, ZERO, pos)
        _neg64(a, lo, hi)
        a.label(pos)
    slow, signs = a.fresh("q"), a.fresh("q")
    a("or", T0, A1, A3)
    a.branch("bne", T0, ZERO, slow)
    a("divu", T1, A0, A2)
    a("remu", T2, A0, A2)
    a.mv(A0, T1)
    a.li(A1, 0)
    a.mv(A2, T2)
    a.li(A3, 0)
    a.jump(signs)
    a.label(slow)
    a.li(T2, 0)
    a.li(T3, 0)
    a.li(T6, 64)
    loop, sub, skip = a.fresh("q"), a.fresh("q"), a.fresh("q")
    a.label(loop)
    a("srli", T0, T2, imm=31)
    a("slli", T3, T3, imm=1)
    a("or", T3, T3, T0)
    a("srli", T0, A1, imm=31)
    a("slli", T2, T2, imm=1)
    a("or", T2, T2, T0)
    a("srli", T0, A0, imm=31)
    a("slli", A1, A1, imm=1)
    a("or", A1, A1, T0)
    a("slli", A0, A0, imm=1)
    a.branch("bltu", T3, A3, skip)
    a.branch("bne", T3, A3, sub)
    a.branch("bltu", T2, A2, skip)
    a.label(sub)
    a("sltu", T0, T2, A2)
    a("sub", T2, T2, A2)
    a("sub", T3, T3, A3)
    a("sub", T3, T3, T0)
    a("ori", A0, A0, imm=1)
    a.label(skip)
    a("addi", T6, T6, imm=-1)
    a.branch("bne", T6, ZERO, loop)
    a.mv(A2, T2)
    a.mv(A3, T3)
    a.label(signs)
    qpos, rpos = a.fresh("q"), a.fresh("q")
    a.branch("bge", A6, ZERO, qpos)
    _neg64(a, A0, A1)
    a.label(qpos)
    a.branch("bge", A7, ZERO, rpos)
    _neg64(a, A2, A3)
    a.label(rpos)
    a("jalr", ZERO, RA, imm=0)


def _emit_alloc(a: Asm) -> None:
    """rt_alloc(a0 = bytes accounted, a1 = site, a2 = bytes used) -> a0 = a fresh 8-aligned block.

    The TEL memory limit is an allocation budget in the cost table's units
    (`MEMLEFT`, `rt_account`); the block itself comes from a bump pointer
    whose heap grows by `brk` in 64 KiB steps (`rt_palloc`; a refused `brk`
    is a host limit: exit 91).
    """
    a.label("rt_alloc")
    a("addi", SP, SP, imm=-16)
    a("sw", 0, SP, RA, imm=12)
    a.mv(T3, A1)
    a.li(A1, 0)
    a.jump("rt_account", link=RA)
    a.mv(A0, A2)
    a.jump("rt_palloc", link=RA)
    a("lw", RA, SP, imm=12)
    a("addi", SP, SP, imm=16)
    a("jalr", ZERO, RA, imm=0)
    a.label("rt_out_of_host_memory")
    a.li(A0, ERR_HOST_MEMORY)
    a.li(A1, 0)
    a.li(A2, 0)
    a.li(A3, 0)
    a.jump("rt_fail")
