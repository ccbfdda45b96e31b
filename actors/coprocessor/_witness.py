"""The execution witness: one fixed-width row of K columns per cycle.

Column table (all values unsigned 32-bit; "before"/"after" = the state
before/after the cycle):

====  ===========  ==============================================================
 #    name         meaning
====  ===========  ==============================================================
 0    pc           address of the instruction
 1    next_pc      pc after the cycle (the trap vector when the cycle trapped)
 2    instr        the instruction word (0 when the fetch itself faulted)
 3    rd           destination register index (0 if none)
 4    rs1          first source register index (0 if none)
 5    rs2          second source register index (0 if none)
 6    rd_val       value of x[rd] after the cycle (0 when rd = 0)
 7    rs1_val      value of x[rs1] before the cycle
 8    rs2_val      value of x[rs2] before the cycle
 9    imm          the immediate, sign-extended to 32 bits; for CSR instructions
                   the CSR number, plus ``zimm << 12`` for the ``csrr*i`` forms
10    mem_addr     effective address of a load or store (else 0)
11    mem_read     value loaded, zero-extended to 32 bits (else 0)
12    mem_write    value stored, truncated to the access width (else 0)
13    mem_prev     previous memory value at mem_addr of a store, access width (else 0)
====  ===========  ==============================================================

Special rows: ``ecall`` reads a7 and a0 and writes a0, so it records
rd = 10, rs1 = 17, rs2 = 10 (the bulk memory effects of read/effect syscalls
are host I/O, not in the witness).  A cycle that traps into a guest handler
records no memory columns.

Layout: a trace of T cycles is a ``(T, K)`` uint32 array; its row-major
flattening is the **interleaved vector**, where column ``c`` of cycle ``t``
sits at index ``t * K + c`` (:func:`interleave`, :func:`deinterleave`,
:func:`flat_index`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import array

import numpy as np
from numpy.typing import NDArray

from ._isa import Instr
from ._memory import Trap

if TYPE_CHECKING:
    from ._machine import Machine

__all__ = ["COLUMNS", "K", "interleave", "deinterleave", "flat_index", "trace_reference",
           "rows_array", "column_index", "operands"]

COLUMNS: tuple[str, ...] = ("pc", "next_pc", "instr", "rd", "rs1", "rs2", "rd_val", "rs1_val",
                            "rs2_val", "imm", "mem_addr", "mem_read", "mem_write", "mem_prev")
K = len(COLUMNS)
M = 0xFFFFFFFF
_LOAD_W = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4}
_STORE_W = {"sb": 1, "sh": 2, "sw": 4}
_WMASK = {1: 0xFF, 2: 0xFFFF, 4: M}


def column_index(name: str) -> int:
    """The index of column ``name`` in :data:`COLUMNS`."""
    return COLUMNS.index(name)


def interleave(columns: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """K column vectors, shape (K, T), as one interleaved vector of length K*T."""
    return np.ascontiguousarray(columns.T).reshape(-1)


def deinterleave(vector: NDArray[np.uint32], k: int = K) -> NDArray[np.uint32]:
    """The inverse of :func:`interleave`: a length K*T vector back to shape (K, T)."""
    if vector.size % k:
        raise ValueError(f"vector length {vector.size} is not a multiple of k={k}")
    return np.ascontiguousarray(vector.reshape(-1, k).T)


def flat_index(cycle: int, column: int, k: int = K) -> int:
    """Index of (cycle, column) in the interleaved vector."""
    return cycle * k + column


def operands(ins: Instr) -> tuple[int, int, int, int]:
    """(rd, rs1, rs2, imm column) that the witness records for ``ins``."""
    op = ins.op
    if op == "ecall":
        return 10, 17, 10, 0
    if op.startswith("csrr"):
        if op.endswith("i"):
            return ins.rd, 0, 0, ins.imm | (ins.rs1 << 12)
        return ins.rd, ins.rs1, 0, ins.imm
    return ins.rd, ins.rs1, ins.rs2, ins.imm & M


def trace_reference(m: Machine, n: int, out: list[int] | None = None) -> list[int]:
    """The witness of up to ``n`` cycles, one interpreter step at a time (flat list).

    The obviously-correct definition the fast witness generator is tested against.
    Rows are appended to ``out`` (a new list if None) as each cycle completes,
    so they survive an error raised by a later cycle.
    """
    if out is None:
        out = []
    r = m.regs
    mem = m.memory
    for _ in range(n):
        if m.halted:
            break
        pc = m.pc
        try:
            ins: Instr | None = m.instr_at(pc)
        except Trap:
            ins = None
        if ins is None:
            rd = rs1 = rs2 = imm = word = 0
            op = ""
        else:
            rd, rs1, rs2, imm = operands(ins)
            word, op = ins.word, ins.op
        v1, v2 = r[rs1], r[rs2]
        addr = prev = wval = 0
        lw = _LOAD_W.get(op, 0)
        sw = _STORE_W.get(op, 0)
        if lw or sw:
            addr = (v1 + imm) & M
        if sw:
            prev = mem.peek(addr, sw)
            wval = v2 & _WMASK[sw]
        traps = m.trap_count
        m.advance(1)
        if m.trap_count != traps:
            addr = prev = wval = 0
            lw = 0
        read = mem.peek(addr, lw) if lw else 0
        out += (pc, m.pc, word, rd, rs1, rs2, r[rd], v1, v2, imm, addr, read, wval, prev)
    return out


def rows_array(flat: list[int]) -> NDArray[np.uint32]:
    """A flat list of witness values as a (cycles, K) uint32 array."""
    return np.frombuffer(array.array("I", flat), dtype=np.uint32).reshape(-1, K)
