"""The compiled RV32IM loop: a plain-Python function that numba compiles.

This module imports nothing from numba, so it stays importable (and
:func:`run_kernel` callable as ordinary, slow Python) without the ``fast``
extra; :mod:`._native` compiles it when numba is installed.

The kernel executes only the *plain* instructions -- ALU, M extension,
``lui``/``auipc``, jumps and branches with aligned targets, aligned loads and
stores on pages in the pool -- and returns *before* any other instruction:
:data:`SLOW` for SYSTEM and CSR instructions, fences, illegal words,
misaligned accesses or jump targets and stores to a watched HTIF page (the
caller lets the reference interpreter execute that one instruction, so traps,
CSRs, syscalls, HTIF and the limits keep exactly the interpreter's
semantics); :data:`PAGE` for a page not in the pool (the caller allocates it
if it is mapped and within the memory limit, else hands the instruction to
the interpreter, which faults as the specification says); :data:`DECODE` for
a word not decoded yet.

Memory is a pool of 4 KiB page slots (``pool32``, accessed as little-endian
32-bit words; byte and halfword accesses shift and mask within their word),
a page table ``ptab`` (page number -> slot + 1, 0 when not in the pool, so
the table is all zeros when created and costs memory only where touched),
``nowrite`` (1 for pages whose stores must take the slow path) and ``flags``
per slot (:data:`DIRTY`: written since the caller last copied it back;
:data:`HASCODE`: holds decoded words).

Instructions are predecoded, one page at a time by :func:`decode_page`
(vectorised numpy, on the first fetch from a page), into ``dec``: one
``int64`` per word of each slot, 0 = not decoded, holding the operation
number in bits 0-5, ``rd``/``rs1``/``rs2`` in bits 6-20, the branch sense,
access width and load sign in bits 21-24 and the immediate (as an unsigned
32-bit value) in bits 32-63.  The register fields are the
witness columns (0 where the instruction does not use the register), so one
decoded entry serves both execution and the witness.  A store into a slot
that holds decoded words clears the entry of the word it wrote,
so self-modifying code is re-decoded before it runs.
"""

# The kernel is numba source: its locals mix numpy scalars (array reads) and
# Python ints, which numba unifies to int64 but mypy cannot; only these two
# checks are relaxed, for this file only.
# mypy: disable-error-code="assignment,no-any-return"
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["run_kernel", "decode_page", "mnemonic", "BUDGET", "SLOW", "PAGE", "DECODE", "C_PC",
           "C_STATUS", "C_DONE", "C_BUDGET", "C_WITNESS", "C_PAGE", "STATE_SIZE", "OP_SLOW",
           "DIRTY", "HASCODE"]

#: status codes in ``state[C_STATUS]``: the budget is spent; the instruction at
#: pc needs the interpreter; page ``state[C_PAGE]`` is not in the pool; the
#: word at pc is not decoded.
BUDGET, SLOW, PAGE, DECODE = 0, 1, 2, 3
#: ``state`` holds the 32 registers, then: pc, status, cycles done, the cycle
#: budget of the call, 1 to write witness rows, the missing page of a PAGE status.
C_PC, C_STATUS, C_DONE, C_BUDGET, C_WITNESS, C_PAGE = range(32, 38)
STATE_SIZE = 40
#: bits of ``flags[slot]``: written since the last copy back; holds decoded words.
DIRTY, HASCODE = 1, 2

_M = 0xFFFFFFFF

#: operation numbers in ``dec`` (0 means "not decoded yet").  The ALU ops
#: serve both forms: the second operand is ``x[rs2] | imm``, and the decoder
#: leaves rs2 = 0 for the immediate form and imm = 0 for the register form.
OP_SLOW = 1
(_ADD, _SUB, _SLL, _SLT, _SLTU, _XOR, _SRL, _SRA, _OR, _AND,
 _MUL, _MULH, _MULHSU, _MULHU, _DIV, _DIVU, _REM, _REMU,
 _LOAD, _STORE, _BEQ, _BLT, _BLTU, _LUI, _AUIPC, _JAL, _JALR) = range(2, 29)
#: ``dec`` bits above the register fields: branch sense inverted (bne, bge,
#: bgeu); log2 of the access width; a sign-extending load.
_INV, _WIDTH, _SIGNED = 21, 22, 24


def _udiv_py(a: int, b: int) -> int:
    """``a // b`` for non-negative ``a`` and positive ``b`` (numba: one ``udiv``)."""
    return a // b


def _urem_py(a: int, b: int) -> int:
    """``a % b`` for non-negative ``a`` and positive ``b`` (numba: one ``urem``)."""
    return a % b


#: the division helpers the kernel calls; :mod:`._native` rebinds them to
#: intrinsics (Python's ``//`` would bring a ZeroDivisionError path along).
_udiv = _udiv_py
_urem = _urem_py

_S = OP_SLOW
_ALU = np.array([_ADD, _SLL, _SLT, _SLTU, _XOR, _SRL, _OR, _AND], np.int64)
_ALU_IMM_OK = np.array([1, 0, 1, 1, 1, 0, 1, 1], bool)      # f3 1, 5: the shift forms
_LOAD_BITS = np.array([0, 1 << _WIDTH, 2 << _WIDTH, -1, 0, 1 << _WIDTH, -1, -1], np.int64)
_BRANCH = np.array([_BEQ, _BEQ, _S, _S, _BLT, _BLT, _BLTU, _BLTU], np.int64)

_ALU_NAMES = ("add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
              "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu")


def decode_page(words: NDArray[np.uint32]) -> NDArray[np.int64]:
    """The ``dec`` entries of a page of instruction words (vectorised).

    Non-plain words (and branches and jumps whose offset is not a multiple of
    4, which trap when taken) decode as :data:`OP_SLOW`.
    """
    w = words.astype(np.int64)
    opc = w & 0x7F
    rd = (w >> 7) & 31
    f3 = (w >> 12) & 7
    rs1 = (w >> 15) & 31
    rs2 = (w >> 20) & 31
    f7 = w >> 25
    iimm = (w >> 20) - ((w >> 19) & 0x1000)
    simm = ((w >> 25) << 5) | rd
    simm = simm - ((simm & 0x800) << 1)
    bimm = (((w >> 31) & 1) << 12) | (((w >> 7) & 1) << 11) | (((w >> 25) & 0x3F) << 5) \
        | (((w >> 8) & 0xF) << 1)
    jimm = (((w >> 31) & 1) << 20) | (((w >> 12) & 0xFF) << 12) | (((w >> 20) & 1) << 11) \
        | (((w >> 21) & 0x3FF) << 1)
    shift_op = np.where((f7 == 0) & (f3 == 1), _SLL,
                        np.where((f7 == 0) & (f3 == 5), _SRL,
                                 np.where((f7 == 0x20) & (f3 == 5), _SRA, _S)))
    reg_op = np.where(f7 == 0, _ALU[f3],
                      np.where(f7 == 1, _MUL + f3,
                               np.where((f7 == 0x20) & (f3 == 0), _SUB,
                                        np.where((f7 == 0x20) & (f3 == 5), _SRA, _S))))
    upper = (opc == 0x37) | (opc == 0x17)
    load_bits = _LOAD_BITS[f3]
    kinds = [opc == 0x13, opc == 0x33, opc == 0x03, opc == 0x23, opc == 0x63, upper,
             opc == 0x6F, (opc == 0x67) & (f3 == 0)]
    op = np.select(kinds, [
        np.where(_ALU_IMM_OK[f3], _ALU[f3], shift_op), reg_op,
        np.where(load_bits < 0, _S, _LOAD), np.where(f3 <= 2, _STORE, _S),
        np.where(bimm & 2, _S, _BRANCH[f3]), np.where(opc == 0x37, _LUI, _AUIPC),
        np.where(jimm & 2, _S, _JAL), _JALR], _S)
    imm = np.select(kinds, [
        np.where(_ALU_IMM_OK[f3], iimm, rs2), 0, iimm, simm, bimm - ((bimm & 0x1000) << 1),
        w & 0xFFFFF000, jimm - ((jimm & 0x100000) << 1), iimm], 0)
    extra = np.select([opc == 0x03, opc == 0x23, opc == 0x63], [
        np.maximum(load_bits, 0) | np.where(f3 < 4, 1 << _SIGNED, 0),
        np.minimum(f3, 2) << _WIDTH, (f3 & 1) << _INV], 0)
    no_rd = (opc == 0x23) | (opc == 0x63)
    no_rs1 = upper | (opc == 0x6F)
    no_rs2 = (opc == 0x13) | (opc == 0x03) | no_rs1 | (opc == 0x67)
    out = op | (np.where(no_rd, 0, rd) << 6) | (np.where(no_rs1, 0, rs1) << 11) \
        | (np.where(no_rs2, 0, rs2) << 16) | extra | ((imm & _M) << 32)
    result: NDArray[np.int64] = np.where(op == _S, _S, out)
    return result


def mnemonic(word: int, entry: int) -> str:
    """The RV32IM mnemonic a ``dec`` entry stands for (``"slow"``, or ``""`` if undecoded).

    For the tests, which check :func:`decode_page` against the ISA decoder;
    ``word`` tells the immediate ALU forms from the register forms.
    """
    op = entry & 63
    if op < 2:
        return ("", "slow")[op]
    if op <= _REMU:
        name = _ALU_NAMES[op - _ADD]
        if word & 0x7F != 0x13:
            return name
        return "sltiu" if name == "sltu" else name + "i"
    width = (entry >> _WIDTH) & 3
    if op == _LOAD:
        return ("lb", "lh", "lw")[width] + ("" if entry >> _SIGNED & 1 or width == 2 else "u")
    if op == _STORE:
        return ("sb", "sh", "sw")[width]
    if op <= _BLTU:
        inv = entry >> _INV & 1
        return (("beq", "bne"), ("blt", "bge"), ("bltu", "bgeu"))[op - _BEQ][inv]
    return ("lui", "auipc", "jal", "jalr")[op - _LUI]


def run_kernel(state: NDArray[np.int64], pool32: NDArray[np.uint32], dec: NDArray[np.int64],
               flags: NDArray[np.uint8], ptab: NDArray[np.int32], nowrite: NDArray[np.uint8],
               wit: NDArray[np.uint32]) -> int:
    """Run up to ``state[C_BUDGET]`` plain instructions from ``state[C_PC]``; returns cycles run.

    ``state[0:32]`` are the registers.  Sets ``state[C_STATUS]`` (see
    :data:`BUDGET`), ``state[C_PC]`` (the next instruction, not executed) and
    ``state[C_DONE]``.  With ``state[C_WITNESS]`` row ``t`` of ``wit``
    receives cycle ``t``'s 14 witness columns.
    """
    M = _M
    pc = state[C_PC]
    budget = state[C_BUDGET]
    witness = state[C_WITNESS] != 0
    done = 0
    status = BUDGET
    cpn = -1                                 # the page of the code slot ``cs``
    cs = 0
    if pc & 3:
        budget = 0
        status = SLOW
    while done < budget:
        pn = pc >> 12
        if pn != cpn:
            cs = ptab[pn] - 1
            if cs < 0:
                state[C_PAGE] = pn
                status = PAGE
                break
            cpn = pn
        wi = (pc & 4095) >> 2
        d = dec[cs, wi]
        if d == 0:
            status = DECODE
            break
        word = 0
        if witness:                          # as fetched: a store may rewrite it
            word = pool32[cs, wi]
        op = d & 63
        rd = (d >> 6) & 31
        imm = (d >> 32) & M
        a = state[(d >> 11) & 31]
        b = state[(d >> 16) & 31]
        c = b | imm                          # the ALU's second operand, either form
        nxt = (pc + 4) & M
        val = 0
        maddr = 0
        mread = 0
        mwrite = 0
        mprev = 0
        if op == _ADD:
            val = (a + c) & M
        elif op == _LOAD or op == _STORE:
            addr = (a + imm) & M
            width = (d >> _WIDTH) & 3
            if addr & ((1 << width) - 1):
                status = SLOW
                break
            pn = addr >> 12
            if op == _STORE and nowrite[pn]:
                status = SLOW
                break
            ds = ptab[pn] - 1
            if ds < 0:
                state[C_PAGE] = pn
                status = PAGE
                break
            mi = (addr & 4095) >> 2
            old = pool32[ds, mi]
            sh = (addr & 3) << 3
            mask = (1 << (8 << width)) - 1
            maddr = addr
            if op == _LOAD:
                mread = (old >> sh) & mask
                val = mread
                if (d >> _SIGNED) & 1:
                    sign = (mask + 1) >> 1
                    val = ((mread ^ sign) - sign) & M
            else:
                mprev = (old >> sh) & mask
                mwrite = b & mask
                pool32[ds, mi] = (old & ~(mask << sh)) | (mwrite << sh)
                f = flags[ds]
                if f & HASCODE:
                    dec[ds, mi] = 0
                flags[ds] = f | DIRTY
        elif op <= _BLTU and op >= _BEQ:
            if op == _BEQ:
                taken = a == b
            elif op == _BLT:
                taken = (a ^ 0x80000000) < (b ^ 0x80000000)
            else:
                taken = a < b
            if taken != (((d >> _INV) & 1) == 1):
                nxt = (pc + imm) & M
        elif op == _SLL:
            val = (a << (c & 31)) & M
        elif op == _SRL:
            val = a >> (c & 31)
        elif op == _SRA:
            val = (((a ^ 0x80000000) - 0x80000000) >> (c & 31)) & M
        elif op == _AND:
            val = a & c
        elif op == _OR:
            val = a | c
        elif op == _XOR:
            val = a ^ c
        elif op == _SLT:
            val = 1 if (a ^ 0x80000000) < (c ^ 0x80000000) else 0
        elif op == _SLTU:
            val = 1 if a < c else 0
        elif op == _SUB:
            val = (a - b) & M
        elif op == _LUI:
            val = imm
        elif op == _AUIPC:
            val = (pc + imm) & M
        elif op == _JAL:
            val = nxt
            nxt = (pc + imm) & M
        elif op == _JALR:
            t = (a + imm) & 0xFFFFFFFE
            if t & 2:
                status = SLOW
                break
            val = nxt
            nxt = t
        elif op >= _MUL and op <= _REMU:
            sa = (a ^ 0x80000000) - 0x80000000
            sb = (b ^ 0x80000000) - 0x80000000
            if op == _MUL:
                val = (a * b) & M
            elif op == _MULH:
                val = ((sa * sb) >> 32) & M
            elif op == _MULHSU:
                val = ((sa * b) >> 32) & M
            elif op == _MULHU:
                # (a*b) >> 32 without 64-bit overflow: split a into 16-bit halves
                val = ((((a >> 16) * b) + (((a & 0xFFFF) * b) >> 16)) >> 16) & M
            elif b == 0:
                val = M if op == _DIV or op == _DIVU else a
            elif op == _DIV:
                q = _udiv(abs(sa), abs(sb))
                val = (-q if (sa < 0) != (sb < 0) else q) & M
            elif op == _DIVU:
                val = _udiv(a, b)
            elif op == _REM:
                r = _urem(abs(sa), abs(sb))
                val = (-r if sa < 0 else r) & M
            else:
                val = _urem(a, b)
        else:                                # OP_SLOW: SYSTEM, fences, illegal words
            status = SLOW
            break
        state[rd] = val
        state[0] = 0
        if witness:
            wit[done, 0] = pc
            wit[done, 1] = nxt
            wit[done, 2] = word
            wit[done, 3] = rd
            wit[done, 4] = (d >> 11) & 31
            wit[done, 5] = (d >> 16) & 31
            wit[done, 6] = state[rd]
            wit[done, 7] = a
            wit[done, 8] = b
            wit[done, 9] = imm
            wit[done, 10] = maddr
            wit[done, 11] = mread
            wit[done, 12] = mwrite
            wit[done, 13] = mprev
        pc = nxt
        done += 1
    state[C_PC] = pc
    state[C_STATUS] = status
    state[C_DONE] = done
    return done
