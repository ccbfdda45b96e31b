"""The compiled RV32IM loop: a plain-Python function that numba compiles with ``@njit``.

This module imports nothing from numba, so it stays importable (and its
function callable as ordinary, slow Python) without the ``fast`` extra;
:mod:`._native` compiles :func:`run_kernel` when numba is installed.

The kernel executes only the *plain* instructions -- ALU, M extension,
``lui``/``auipc``, jumps and branches with aligned targets, aligned loads and
stores on pages it may touch -- and returns :data:`SLOW` *before* any other
instruction (SYSTEM and CSR instructions, fences, illegal words, misaligned
accesses or jump targets, unmapped addresses, a page past the memory limit, a
store to a watched HTIF page).  The caller lets the reference interpreter
execute that one instruction, so traps, CSRs, syscalls, HTIF and the limits
keep exactly the interpreter's semantics.

Memory is a pool of 4 KiB page slots (``pool`` with ``uint16``/``uint32``
views of the same bytes), a page table ``ptab`` (page number -> slot, -1 when
not allocated) and ``nowrite`` (1 for pages whose stores must take the slow
path).  A page touched for the first time inside a mapped region (``regions``,
sorted [start, end) pairs) is allocated here, as the interpreter would.
"""

# The kernel is numba source: its locals mix numpy scalars (array reads) and
# Python ints, which numba unifies to int64 but mypy cannot; only these two
# checks are relaxed, for this file only.
# mypy: disable-error-code="assignment,no-any-return"
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["run_kernel", "_page_py", "BUDGET", "SLOW", "GROW", "C_PC", "C_SLOTS", "C_PAGES", "C_LIMIT",
           "C_STATUS", "C_DONE"]

#: status codes in ``ctl[C_STATUS]``
BUDGET, SLOW, GROW = 0, 1, 2
#: ``ctl`` indices: pc, used slots, allocated pages, page limit, status, cycles done
C_PC, C_SLOTS, C_PAGES, C_LIMIT, C_STATUS, C_DONE = 0, 1, 2, 3, 4, 5

_M = 0xFFFFFFFF


def _page_py(pn: int, ptab: NDArray[np.int32], regions: NDArray[np.int64],
          ctl: NDArray[np.int64], pool: NDArray[np.uint8],
          slot_pn: NDArray[np.int32], dirty: NDArray[np.uint8]) -> int:
    """The slot of page ``pn``, allocating it if mapped: -1 slow path, -2 pool full."""
    s = ptab[pn]
    if s >= 0:
        return s
    addr = pn << 12
    mapped = False
    for i in range(regions.shape[0]):
        if regions[i, 0] <= addr < regions[i, 1]:
            mapped = True
            break
    if not mapped or ctl[C_PAGES] + 1 > ctl[C_LIMIT]:
        return -1
    s = ctl[C_SLOTS]
    if s >= pool.shape[0]:
        return -2
    ctl[C_SLOTS] = s + 1
    ctl[C_PAGES] += 1
    pool[s, :] = 0
    ptab[pn] = s
    slot_pn[s] = pn
    dirty[s] = 1
    return s


#: the page helper the kernel calls; :mod:`._native` rebinds it to its compiled form.
_page = _page_py


def run_kernel(regs: NDArray[np.int64], ctl: NDArray[np.int64], budget: int,
               pool: NDArray[np.uint8], pool16: NDArray[np.uint16], pool32: NDArray[np.uint32],
               ptab: NDArray[np.int32], nowrite: NDArray[np.uint8],
               slot_pn: NDArray[np.int32], dirty: NDArray[np.uint8],
               regions: NDArray[np.int64], wit: NDArray[np.uint32], witness: bool) -> int:
    """Run up to ``budget`` plain instructions from ``ctl[C_PC]``; returns cycles run.

    Sets ``ctl[C_STATUS]`` (BUDGET, SLOW: the instruction at ``ctl[C_PC]`` needs
    the interpreter, GROW: the pool is full) and ``ctl[C_PC]``.  With
    ``witness`` row ``t`` of ``wit`` receives cycle ``t``'s 14 witness columns.
    """
    M = _M
    pc = ctl[C_PC]
    done = 0
    status = BUDGET
    while done < budget:
        if pc & 3:
            status = SLOW
            break
        s = ptab[pc >> 12]
        if s < 0:      # the call passes arrays (reference counts): keep it off the hot path
            s = _page(pc >> 12, ptab, regions, ctl, pool, slot_pn, dirty)
            if s < 0:
                status = SLOW if s == -1 else GROW
                break
        word = np.int64(pool32[s, (pc & 4095) >> 2])
        opcode = word & 0x7F
        rd = (word >> 7) & 31
        f3 = (word >> 12) & 7
        rs1 = (word >> 15) & 31
        rs2 = (word >> 20) & 31
        f7 = word >> 25
        a = regs[rs1]
        b = regs[rs2]
        npc = (pc + 4) & M
        nxt = npc
        val = np.int64(0)
        writes = False
        wrs1 = rs1
        wrs2 = rs2
        wimm = np.int64(0)
        maddr = np.int64(0)
        mread = np.int64(0)
        mwrite = np.int64(0)
        mprev = np.int64(0)
        v1 = np.int64(0)
        v2 = np.int64(0)
        if opcode == 0x13:                       # OP-IMM
            imm = (word >> 20) - ((word >> 19) & 0x1000)
            wrs2 = 0
            if f3 == 1:
                if f7 != 0:
                    status = SLOW
                    break
                val = (a << rs2) & M
                wimm = rs2
            elif f3 == 5:
                if f7 == 0:
                    val = a >> rs2
                elif f7 == 0x20:
                    val = (((a ^ 0x80000000) - 0x80000000) >> rs2) & M
                else:
                    status = SLOW
                    break
                wimm = rs2
            else:
                ui = imm & M
                wimm = ui
                if f3 == 0:
                    val = (a + ui) & M
                elif f3 == 2:
                    val = 1 if (a ^ 0x80000000) < (ui ^ 0x80000000) else 0
                elif f3 == 3:
                    val = 1 if a < ui else 0
                elif f3 == 4:
                    val = a ^ ui
                elif f3 == 6:
                    val = a | ui
                else:
                    val = a & ui
            writes = True
        elif opcode == 0x33:                     # OP
            if f7 == 0:
                if f3 == 0:
                    val = (a + b) & M
                elif f3 == 1:
                    val = (a << (b & 31)) & M
                elif f3 == 2:
                    val = 1 if (a ^ 0x80000000) < (b ^ 0x80000000) else 0
                elif f3 == 3:
                    val = 1 if a < b else 0
                elif f3 == 4:
                    val = a ^ b
                elif f3 == 5:
                    val = a >> (b & 31)
                elif f3 == 6:
                    val = a | b
                else:
                    val = a & b
            elif f7 == 0x20:
                if f3 == 0:
                    val = (a - b) & M
                elif f3 == 5:
                    val = (((a ^ 0x80000000) - 0x80000000) >> (b & 31)) & M
                else:
                    status = SLOW
                    break
            elif f7 == 1:
                sa = (a ^ 0x80000000) - 0x80000000
                sb = (b ^ 0x80000000) - 0x80000000
                if f3 == 0:
                    val = (a * b) & M
                elif f3 == 1:
                    val = ((sa * sb) >> 32) & M
                elif f3 == 2:
                    val = ((sa * b) >> 32) & M
                elif f3 == 3:
                    # (a*b) >> 32 without 64-bit overflow: split a into 16-bit halves
                    lo = (a & 0xFFFF) * b
                    hi = (a >> 16) * b
                    val = ((hi + (lo >> 16)) >> 16) & M
                elif f3 == 4:
                    if b == 0:
                        val = M
                    else:
                        q = abs(sa) // abs(sb)
                        val = (-q if (sa < 0) != (sb < 0) else q) & M
                elif f3 == 5:
                    val = a // b if b != 0 else M
                elif f3 == 6:
                    if b == 0:
                        val = a
                    else:
                        r = abs(sa) % abs(sb)
                        val = (-r if sa < 0 else r) & M
                else:
                    val = a % b if b != 0 else a
            else:
                status = SLOW
                break
            writes = True
        elif opcode == 0x03:                     # LOAD
            imm = (word >> 20) - ((word >> 19) & 0x1000)
            wrs2 = 0
            wimm = imm & M
            addr = (a + imm) & M
            if f3 == 2:
                if addr & 3:
                    status = SLOW
                    break
            elif f3 == 1 or f3 == 5:
                if addr & 1:
                    status = SLOW
                    break
            elif f3 != 0 and f3 != 4:
                status = SLOW
                break
            ds = ptab[addr >> 12]
            if ds < 0:
                ds = _page(addr >> 12, ptab, regions, ctl, pool, slot_pn, dirty)
                if ds < 0:
                    status = SLOW if ds == -1 else GROW
                    break
            off = addr & 4095
            if f3 == 2:
                raw = np.int64(pool32[ds, off >> 2])
                val = raw
            elif f3 == 1 or f3 == 5:
                raw = np.int64(pool16[ds, off >> 1])
                val = ((raw ^ 0x8000) - 0x8000) & M if f3 == 1 else raw
            else:
                raw = np.int64(pool[ds, off])
                val = ((raw ^ 0x80) - 0x80) & M if f3 == 0 else raw
            maddr = addr
            mread = raw
            writes = True
        elif opcode == 0x23:                     # STORE
            imm = (((word >> 25) << 5) | rd)
            imm = imm - ((imm & 0x800) << 1)
            rd = 0
            wimm = imm & M
            addr = (a + imm) & M
            if f3 == 2:
                if addr & 3:
                    status = SLOW
                    break
            elif f3 == 1:
                if addr & 1:
                    status = SLOW
                    break
            elif f3 != 0:
                status = SLOW
                break
            pn = addr >> 12
            if nowrite[pn]:
                status = SLOW
                break
            ds = ptab[pn]
            if ds < 0:
                ds = _page(pn, ptab, regions, ctl, pool, slot_pn, dirty)
                if ds < 0:
                    status = SLOW if ds == -1 else GROW
                    break
            off = addr & 4095
            if f3 == 2:
                mprev = np.int64(pool32[ds, off >> 2])
                mwrite = b
                pool32[ds, off >> 2] = np.uint32(b)
            elif f3 == 1:
                mprev = np.int64(pool16[ds, off >> 1])
                mwrite = b & 0xFFFF
                pool16[ds, off >> 1] = np.uint16(mwrite)
            else:
                mprev = np.int64(pool[ds, off])
                mwrite = b & 0xFF
                pool[ds, off] = np.uint8(mwrite)
            dirty[ds] = 1
            maddr = addr
        elif opcode == 0x63:                     # BRANCH
            if f3 == 2 or f3 == 3:
                status = SLOW
                break
            imm = (((word >> 31) & 1) << 12) | (((word >> 7) & 1) << 11) \
                | (((word >> 25) & 0x3F) << 5) | (((word >> 8) & 0xF) << 1)
            imm = imm - ((imm & 0x1000) << 1)
            rd = 0
            wimm = imm & M
            if f3 == 0:
                taken = a == b
            elif f3 == 1:
                taken = a != b
            elif f3 == 4:
                taken = (a ^ 0x80000000) < (b ^ 0x80000000)
            elif f3 == 5:
                taken = (a ^ 0x80000000) >= (b ^ 0x80000000)
            elif f3 == 6:
                taken = a < b
            else:
                taken = a >= b
            if taken:
                t = (pc + imm) & M
                if t & 3:
                    status = SLOW
                    break
                nxt = t
        elif opcode == 0x37 or opcode == 0x17:   # LUI, AUIPC
            wrs1 = 0
            wrs2 = 0
            wimm = word & 0xFFFFF000
            val = wimm if opcode == 0x37 else (pc + wimm) & M
            writes = True
        elif opcode == 0x6F:                     # JAL
            imm = (((word >> 31) & 1) << 20) | (((word >> 12) & 0xFF) << 12) \
                | (((word >> 20) & 1) << 11) | (((word >> 21) & 0x3FF) << 1)
            imm = imm - ((imm & 0x100000) << 1)
            t = (pc + imm) & M
            if t & 3:
                status = SLOW
                break
            wrs1 = 0
            wrs2 = 0
            wimm = imm & M
            val = npc
            writes = True
            nxt = t
        elif opcode == 0x67:                     # JALR
            if f3 != 0:
                status = SLOW
                break
            imm = (word >> 20) - ((word >> 19) & 0x1000)
            t = (a + imm) & 0xFFFFFFFE
            if t & 2:
                status = SLOW
                break
            wrs2 = 0
            wimm = imm & M
            val = npc
            writes = True
            nxt = t
        else:                                    # SYSTEM, MISC-MEM, illegal
            status = SLOW
            break
        if witness:
            v1 = regs[wrs1]
            v2 = regs[wrs2]
        if writes and rd != 0:
            regs[rd] = val
        if witness:
            wit[done, 0] = pc
            wit[done, 1] = nxt
            wit[done, 2] = word
            wit[done, 3] = rd if writes else 0
            wit[done, 4] = wrs1
            wit[done, 5] = wrs2
            wit[done, 6] = regs[rd] if writes else 0
            wit[done, 7] = v1
            wit[done, 8] = v2
            wit[done, 9] = wimm
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
