"""The committed program: one public row per covered instruction in the ELF's executable text.

The verifier rebuilds this table from the ELF bytes alone, so the statement's
ELF digest fixes it; every active trace row must look one of its rows up
(LogUp, see ``_air``).  A row holds everything the constraints need to know
about the instruction at ``pc``, precomputed as 16-bit limbs:

* ``pc``, ``ret = pc + 4`` and ``tgt = pc + offset`` (branches and ``jal``),
  all modulo 2^32;
* ``st``, the *static* result of instructions whose result does not depend on
  registers: ``lui`` (the immediate), ``auipc`` (``pc + imm``), ``jal``/``jalr``
  (the link ``pc + 4``);
* the register operands ``rd``/``rs1``/``rs2`` (``rs2 = 0`` for immediate
  forms, whose ``imm`` is the second ALU operand; ``imm = 0`` otherwise), and
  ``wr`` = 1 iff the instruction writes a register other than x0;
* one flag per constraint class (``f_add`` ... ``f_ecall``, and ``f_lb`` ...
  ``f_sw`` for the loads and stores, whose ``imm`` is the address offset;
  a store keeps its data register in ``rs2`` and has ``rd = 0``).

Words that do not decode to a covered instruction get no row, so a trace
can never execute them.  Provable mode covers: ``add sub addi slt sltu slti
sltiu and or xor andi ori xori sll srl sra slli srli srai mul mulh mulhsu mulhu
div divu rem remu lui auipc jal jalr beq bne blt bge bltu bgeu fence lb lbu lh lhu lw sb sh sw`` and
``ecall`` for the system calls of ``_syscalls`` (read, write, brk, exit).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from stele.actors.coprocessor._elf import Program
from stele.actors.coprocessor._isa import Instr, decode

from ._errors import Unprovable
from ._memory import heap_bounds
from ._syscalls import RET, VBASE, routine

__all__ = ["FIELDS", "FLAGS", "MEM_FLAGS", "LOADS", "STORES", "COVERED", "LOG_TABLE", "table_row", "build_table", "Bytecode"]

M = 0xFFFFFFFF
#: log2 of the bytecode table's padded size (so at most 2^16 covered instruction words).
LOG_TABLE = 16

#: the memory-access flags, one per load/store mnemonic.
MEM_FLAGS: tuple[str, ...] = ("f_lb", "f_lbu", "f_lh", "f_lhu", "f_lw", "f_sb", "f_sh", "f_sw")
FLAGS: tuple[str, ...] = ("f_add", "f_sub", "f_slt", "f_sltu", "f_st", "f_jal", "f_jalr", "f_beq", "f_bne",
                          "f_blt", "f_bge", "f_bltu", "f_bgeu", "f_ecall", "f_and", "f_or", "f_xor", "f_sll", "f_srl", "f_sra",
                          "f_mul", "f_mulhu", "f_mulh", "f_mulhsu", "f_div", "f_divu", "f_rem",
                          "f_remu") + MEM_FLAGS + ("f_brk",)
#: ``f_virt`` marks the rows of the syscall routine (``_syscalls``): only they may touch the I/O regions.
FIELDS: tuple[str, ...] = ("pc_lo", "pc_hi", "ret_lo", "ret_hi", "tgt_lo", "tgt_hi", "st_lo", "st_hi", "rd", "rs1",
                           "rs2", "imm_lo", "imm_hi", "wr") + FLAGS + ("f_virt",)

_CLASS = {"add": "f_add", "addi": "f_add", "sub": "f_sub", "slt": "f_slt", "slti": "f_slt", "sltu": "f_sltu",
          "sltiu": "f_sltu", "lui": "f_st", "auipc": "f_st", "jal": "f_jal", "jalr": "f_jalr", "beq": "f_beq",
          "bne": "f_bne", "blt": "f_blt", "bge": "f_bge", "bltu": "f_bltu", "bgeu": "f_bgeu", "ecall": "f_ecall",
          "fence": "", "and": "f_and", "andi": "f_and", "or": "f_or", "ori": "f_or", "xor": "f_xor",
          "xori": "f_xor", "sll": "f_sll", "slli": "f_sll", "srl": "f_srl", "srli": "f_srl", "sra": "f_sra",
          "srai": "f_sra", "mul": "f_mul", "mulhu": "f_mulhu",
          **{op: f"f_{op}" for op in ("mulh", "mulhsu", "div", "divu", "rem", "remu")},
          **{op: f"f_{op}" for op in ("lb", "lbu", "lh", "lhu", "lw", "sb", "sh", "sw")}}
#: the routine-only class: set the heap limit to x[rs1] (``_syscalls``); no guest instruction decodes to it.
_VIRTUAL_CLASS = {"brk": "f_brk"}
LOADS: tuple[str, ...] = MEM_FLAGS[:5]
STORES: tuple[str, ...] = MEM_FLAGS[5:]
#: the mnemonics provable mode covers.
COVERED: frozenset[str] = frozenset(_CLASS)
_ALL_CLASSES = {**_CLASS, **_VIRTUAL_CLASS}


def _limbs(v: int) -> tuple[int, int]:
    v &= M
    return v & 0xFFFF, v >> 16


def table_row(pc: int, ins: Instr, *, virtual: bool = False) -> dict[str, int] | None:
    """The table row for ``ins`` at ``pc``, or None if provable mode does not cover it.

    ``virtual`` builds a row of the syscall routine (``f_virt``; there ``ecall``
    is the run's end and ``brk`` sets the heap limit); a guest's own ``ecall``
    is the jump into that routine (see :func:`build_table`).
    """
    op = ins.op
    if op not in (_ALL_CLASSES if virtual else _CLASS):
        return None
    row = dict.fromkeys(FIELDS, 0)
    row["pc_lo"], row["pc_hi"] = _limbs(pc)
    row["ret_lo"], row["ret_hi"] = _limbs(pc + 4)
    rd, rs1, rs2, imm = ins.rd, ins.rs1, ins.rs2, 0
    if op in ("addi", "slti", "sltiu", "andi", "ori", "xori", "slli", "srli", "srai", "jalr", "lb", "lbu", "lh", "lhu", "lw", "sb", "sh", "sw"):
        imm = ins.imm
    elif op in ("beq", "bne", "blt", "bge", "bltu", "bgeu", "jal"):
        row["tgt_lo"], row["tgt_hi"] = _limbs(pc + ins.imm)
    if op == "lui":
        row["st_lo"], row["st_hi"] = _limbs(ins.imm)
    elif op == "auipc":
        row["st_lo"], row["st_hi"] = _limbs(pc + ins.imm)
    elif op in ("jal", "jalr"):
        row["st_lo"], row["st_hi"] = _limbs(pc + 4)
    if op == "ecall":
        rd, rs1, rs2 = 0, 17, 10
    if op in ("jal", "jalr"):
        row["f_st"] = 1
    if op == "fence":
        rd = rs1 = rs2 = 0
    row["rd"], row["rs1"], row["rs2"] = rd, rs1, rs2
    row["imm_lo"], row["imm_hi"] = _limbs(imm)
    row["wr"] = int(rd != 0)
    if _ALL_CLASSES[op]:
        row[_ALL_CLASSES[op]] = 1
    row["f_virt"] = int(virtual)
    return row


class Bytecode:
    """The table of a program: rows (``(R, len(FIELDS))`` int64) and a pc -> row index map."""

    def __init__(self, rows: NDArray[np.int64], index: dict[int, int]) -> None:
        self.rows = rows
        self.index = index

    @property
    def size(self) -> int:
        """Number of real (unpadded) rows."""
        return int(self.rows.shape[0])


def build_table(program: Program) -> Bytecode:
    """The bytecode table of ``program``'s executable segments and the syscall routine (module docstring).

    A guest ``ecall`` at ``pc`` becomes ``jal RET, VBASE``: the jump into the
    routine, linking ``pc + 4``.
    """
    segs = sorted(program.segments, key=lambda s: s.vaddr)
    for a, b in zip(segs, segs[1:]):
        if a.vaddr + a.memsz > b.vaddr:
            raise Unprovable("segments", f"segments at {a.vaddr:#x} and {b.vaddr:#x} overlap")
    start_brk, max_brk = heap_bounds(program)
    code = routine(start_brk, max_brk)
    for seg in segs:
        if seg.vaddr + seg.memsz > VBASE:
            raise Unprovable("segments", f"the segment at {seg.vaddr:#x} reaches the syscall routine's "
                             f"reserved addresses ({VBASE:#x} and up)")
    rows: list[list[int]] = []
    index: dict[int, int] = {}
    for seg in program.segments:
        if not seg.executable:
            continue
        data = seg.data
        start = (seg.vaddr + 3) & ~3
        for pc in range(start, seg.vaddr + len(data) - 3, 4):
            off = pc - seg.vaddr
            word = int.from_bytes(data[off:off + 4], "little")
            ins = decode(word)
            if ins.op == "ecall":
                ins = Instr("jal", RET, 0, 0, (VBASE - pc) & M, word)
            row = table_row(pc, ins)
            if row is None:
                continue
            index[pc] = len(rows)
            rows.append([row[f] for f in FIELDS])
    for v in code:
        row = table_row(v.pc, v.ins, virtual=True)
        assert row is not None, v  # the routine uses covered instructions only
        index[v.pc] = len(rows)
        rows.append([row[f] for f in FIELDS])
    if len(rows) > 1 << LOG_TABLE:
        raise Unprovable("text", f"{len(rows)} covered instruction words exceed the table limit 2^{LOG_TABLE}")
    arr = np.array(rows, dtype=np.int64).reshape(-1, len(FIELDS))
    return Bytecode(arr, index)
