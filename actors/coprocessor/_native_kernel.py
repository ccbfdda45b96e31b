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

Memory is a pool of 4 KiB page slots (``pool`` with ``uint16``/``uint32``
views of the same bytes), a page table ``ptab`` (page number -> slot, -1 when
not in the pool), ``nowrite`` (1 for pages whose stores must take the slow
path) and ``dirty`` (slots written since the caller last copied them back).

Instructions are predecoded, one page at a time by :func:`decode_page`
(vectorised numpy, on the first fetch from a page), into ``dec``: one
``int64`` per word of each slot, 0 = not decoded, holding the operation
number in bits 0-5, ``rd``/``rs1``/``rs2`` in bits 6-20 and the immediate
(as an unsigned 32-bit value) in bits 32-63.  The register fields are the
witness columns (0 where the instruction does not use the register), so one
decoded entry serves both execution and the witness.  A store into a slot
that holds decoded words (``hascode``) clears the entry of the word it wrote,
so self-modifying code is re-decoded before it runs.
"""

# The kernel is numba source: its locals mix numpy scalars (array reads) and
# Python ints, which numba unifies to int64 but mypy cannot; only these two
# checks are relaxed, for this file only.
# mypy: disable-error-code="assignment,no-any-return"
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["run_kernel", "decode_page", "BUDGET", "SLOW", "PAGE", "DECODE", "C_PC", "C_STATUS",
           "C_DONE", "C_BUDGET", "C_WITNESS", "C_PAGE", "CTL_SIZE", "OP_SLOW", "OPS"]

#: status codes in ``ctl[C_STATUS]``: the budget is spent; the instruction at
#: pc needs the interpreter; page ``ctl[C_PAGE]`` is not in the pool; the
#: word at pc is not decoded.
BUDGET, SLOW, PAGE, DECODE = 0, 1, 2, 3
#: ``ctl`` indices: pc, status, cycles done, the cycle budget of the call,
#: 1 to write witness rows, the missing page of a PAGE status.
C_PC, C_STATUS, C_DONE, C_BUDGET, C_WITNESS, C_PAGE = range(6)
CTL_SIZE = 8

_M = 0xFFFFFFFF

#: operation numbers in ``dec`` (0 means "not decoded yet")
OP_SLOW = 1
(_ADDI, _SLTI, _SLTIU, _XORI, _ORI, _ANDI, _SLLI, _SRLI, _SRAI,
 _ADD, _SUB, _SLL, _SLT, _SLTU, _XOR, _SRL, _SRA, _OR, _AND,
 _MUL, _MULH, _MULHSU, _MULHU, _DIV, _DIVU, _REM, _REMU,
 _LB, _LH, _LW, _LBU, _LHU, _SB, _SH, _SW,
 _BEQ, _BNE, _BLT, _BGE, _BLTU, _BGEU, _LUI, _AUIPC, _JAL, _JALR) = range(2, 47)


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

#: mnemonic of each operation number (index 0: not decoded, 1: the slow path).
OPS: tuple[str, ...] = (
    "", "slow", "addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli", "srai",
    "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
    "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
    "lb", "lh", "lw", "lbu", "lhu", "sb", "sh", "sw",
    "beq", "bne", "blt", "bge", "bltu", "bgeu", "lui", "auipc", "jal", "jalr")

_S = OP_SLOW
_OPIMM = np.array([_ADDI, _S, _SLTI, _SLTIU, _XORI, _S, _ORI, _ANDI], np.int64)
_OP0 = np.array([_ADD, _SLL, _SLT, _SLTU, _XOR, _SRL, _OR, _AND], np.int64)
_LOADS = np.array([_LB, _LH, _LW, _S, _LBU, _LHU, _S, _S], np.int64)
_BRANCHES = np.array([_BEQ, _BNE, _S, _S, _BLT, _BGE, _BLTU, _BGEU], np.int64)


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
    shift = (f3 == 1) | (f3 == 5)
    shift_op = np.where((f7 == 0) & (f3 == 1), _SLLI,
                        np.where((f7 == 0) & (f3 == 5), _SRLI,
                                 np.where((f7 == 0x20) & (f3 == 5), _SRAI, _S)))
    reg_op = np.where(f7 == 0, _OP0[f3],
                      np.where(f7 == 1, _MUL + f3,
                               np.where((f7 == 0x20) & (f3 == 0), _SUB,
                                        np.where((f7 == 0x20) & (f3 == 5), _SRA, _S))))
    upper = (opc == 0x37) | (opc == 0x17)
    kinds = [opc == 0x13, opc == 0x33, opc == 0x03, opc == 0x23, opc == 0x63, upper,
             opc == 0x6F, (opc == 0x67) & (f3 == 0)]
    op = np.select(kinds, [
        np.where(shift, shift_op, _OPIMM[f3]), reg_op, _LOADS[f3],
        np.where(f3 <= 2, _SB + np.minimum(f3, 2), _S),
        np.where(bimm & 2, _S, _BRANCHES[f3]),
        np.where(opc == 0x37, _LUI, _AUIPC),
        np.where(jimm & 2, _S, _JAL), _JALR], _S)
    imm = np.select(kinds, [
        np.where(shift, rs2, iimm), 0, iimm, simm, bimm - ((bimm & 0x1000) << 1),
        w & 0xFFFFF000, jimm - ((jimm & 0x100000) << 1), iimm], 0)
    no_rd = (opc == 0x23) | (opc == 0x63)
    no_rs1 = upper | (opc == 0x6F)
    no_rs2 = (opc == 0x13) | (opc == 0x03) | no_rs1 | (opc == 0x67)
    out = op | (np.where(no_rd, 0, rd) << 6) | (np.where(no_rs1, 0, rs1) << 11) \
        | (np.where(no_rs2, 0, rs2) << 16) | ((imm & _M) << 32)
    result: NDArray[np.int64] = np.where(op == _S, _S, out)
    return result


def run_kernel(regs: NDArray[np.int64], ctl: NDArray[np.int64],
               pool: NDArray[np.uint8], pool16: NDArray[np.uint16], pool32: NDArray[np.uint32],
               dec: NDArray[np.int64], hascode: NDArray[np.uint8],
               ptab: NDArray[np.int32], nowrite: NDArray[np.uint8],
               dirty: NDArray[np.uint8], wit: NDArray[np.uint32]) -> int:
    """Run up to ``ctl[C_BUDGET]`` plain instructions from ``ctl[C_PC]``; returns cycles run.

    Sets ``ctl[C_STATUS]`` (see :data:`BUDGET`), ``ctl[C_PC]`` (the next
    instruction, not executed) and ``ctl[C_DONE]``.
    With ``ctl[C_WITNESS]`` row ``t`` of ``wit`` receives cycle ``t``'s 14
    witness columns.
    """
    M = _M
    pc = ctl[C_PC]
    budget = ctl[C_BUDGET]
    witness = ctl[C_WITNESS] != 0
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
            cs = ptab[pn]
            if cs < 0:
                ctl[C_PAGE] = pn
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
        a = regs[(d >> 11) & 31]
        b = regs[(d >> 16) & 31]
        nxt = (pc + 4) & M
        val = 0
        maddr = 0
        mread = 0
        mwrite = 0
        mprev = 0
        if op == OP_SLOW:
            status = SLOW
            break
        elif op == _ADDI:
            val = (a + imm) & M
        elif op == _ADD:
            val = (a + b) & M
        elif op <= _SRAI:
            if op == _SLTI:
                val = 1 if (a ^ 0x80000000) < (imm ^ 0x80000000) else 0
            elif op == _SLTIU:
                val = 1 if a < imm else 0
            elif op == _XORI:
                val = a ^ imm
            elif op == _ORI:
                val = a | imm
            elif op == _ANDI:
                val = a & imm
            elif op == _SLLI:
                val = (a << imm) & M
            elif op == _SRLI:
                val = a >> imm
            else:
                val = (((a ^ 0x80000000) - 0x80000000) >> imm) & M
        elif op <= _AND:
            if op == _SUB:
                val = (a - b) & M
            elif op == _SLL:
                val = (a << (b & 31)) & M
            elif op == _SLT:
                val = 1 if (a ^ 0x80000000) < (b ^ 0x80000000) else 0
            elif op == _SLTU:
                val = 1 if a < b else 0
            elif op == _XOR:
                val = a ^ b
            elif op == _SRL:
                val = a >> (b & 31)
            elif op == _SRA:
                val = (((a ^ 0x80000000) - 0x80000000) >> (b & 31)) & M
            elif op == _OR:
                val = a | b
            else:
                val = a & b
        elif op <= _REMU:
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
            elif op == _DIV:
                if b == 0:
                    val = M
                else:
                    q = _udiv(abs(sa), abs(sb))
                    val = (-q if (sa < 0) != (sb < 0) else q) & M
            elif op == _DIVU:
                val = _udiv(a, b) if b != 0 else M
            elif op == _REM:
                if b == 0:
                    val = a
                else:
                    r = _urem(abs(sa), abs(sb))
                    val = (-r if sa < 0 else r) & M
            else:
                val = _urem(a, b) if b != 0 else a
        elif op <= _LHU:
            addr = (a + imm) & M
            if op == _LW:
                if addr & 3:
                    status = SLOW
                    break
            elif op == _LH or op == _LHU:
                if addr & 1:
                    status = SLOW
                    break
            ds = ptab[addr >> 12]
            if ds < 0:
                ctl[C_PAGE] = addr >> 12
                status = PAGE
                break
            off = addr & 4095
            if op == _LW:
                val = pool32[ds, off >> 2]
                mread = val
            elif op == _LBU:
                val = pool[ds, off]
                mread = val
            elif op == _LB:
                mread = pool[ds, off]
                val = ((mread ^ 0x80) - 0x80) & M
            elif op == _LHU:
                val = pool16[ds, off >> 1]
                mread = val
            else:
                mread = pool16[ds, off >> 1]
                val = ((mread ^ 0x8000) - 0x8000) & M
            maddr = addr
        elif op <= _SW:
            addr = (a + imm) & M
            if op == _SW:
                if addr & 3:
                    status = SLOW
                    break
            elif op == _SH:
                if addr & 1:
                    status = SLOW
                    break
            pn = addr >> 12
            if nowrite[pn]:
                status = SLOW
                break
            ds = ptab[pn]
            if ds < 0:
                ctl[C_PAGE] = pn
                status = PAGE
                break
            off = addr & 4095
            if op == _SW:
                mprev = pool32[ds, off >> 2]
                mwrite = b
                pool32[ds, off >> 2] = b
            elif op == _SH:
                mprev = pool16[ds, off >> 1]
                mwrite = b & 0xFFFF
                pool16[ds, off >> 1] = mwrite
            else:
                mprev = pool[ds, off]
                mwrite = b & 0xFF
                pool[ds, off] = mwrite
            dirty[ds] = 1
            if hascode[ds]:
                dec[ds, off >> 2] = 0
            maddr = addr
        elif op <= _BGEU:
            if op == _BEQ:
                taken = a == b
            elif op == _BNE:
                taken = a != b
            elif op == _BLT:
                taken = (a ^ 0x80000000) < (b ^ 0x80000000)
            elif op == _BGE:
                taken = (a ^ 0x80000000) >= (b ^ 0x80000000)
            elif op == _BLTU:
                taken = a < b
            else:
                taken = a >= b
            if taken:
                nxt = (pc + imm) & M
        elif op == _LUI:
            val = imm
        elif op == _AUIPC:
            val = (pc + imm) & M
        elif op == _JAL:
            val = nxt
            nxt = (pc + imm) & M
        else:                                # JALR
            t = (a + imm) & 0xFFFFFFFE
            if t & 2:
                status = SLOW
                break
            val = nxt
            nxt = t
        regs[rd] = val
        regs[0] = 0
        if witness:
            wit[done, 0] = pc
            wit[done, 1] = nxt
            wit[done, 2] = word
            wit[done, 3] = rd
            wit[done, 4] = (d >> 11) & 31
            wit[done, 5] = (d >> 16) & 31
            wit[done, 6] = regs[rd]
            wit[done, 7] = a
            wit[done, 8] = b
            wit[done, 9] = imm
            wit[done, 10] = maddr
            wit[done, 11] = mread
            wit[done, 12] = mwrite
            wit[done, 13] = mprev
        pc = nxt
        done += 1
    ctl[C_PC] = pc
    ctl[C_STATUS] = status
    ctl[C_DONE] = done
    return done
