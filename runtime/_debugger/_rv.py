"""How the guest debugger names RISC-V things: registers, words and instructions.

The session shows a guest the way a disassembler does, so a position line
reads like ``objdump -d``: ABI register names (``a0``, ``sp``), words in
hex with their signed value, and branch and jump targets as absolute
addresses.  Everything here is a pure function of its arguments.
"""

from __future__ import annotations

from ..actors.coprocessor import Instr
from ..actors.coprocessor._isa import ALU_IMM, ALU_REG, BRANCHES, CSR_OPS, LOADS, STORES

__all__ = ["ABI", "register_number", "hex_word", "show_word", "disassemble"]

#: the ABI names of x0..x31 (x8 is also ``fp``)
ABI: tuple[str, ...] = (
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
    "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
    "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
    "t3", "t4", "t5", "t6",
)
_BY_NAME = {**{n: i for i, n in enumerate(ABI)}, **{f"x{i}": i for i in range(32)}, "fp": 8}
_M = 0xFFFFFFFF
_SHIFTS = ("slli", "srli", "srai")


def register_number(name: str) -> int | None:
    """The index of register ``name`` (``x5``, ``t0``, ``fp``...), or None if it is not one."""
    return _BY_NAME.get(name.lower())


def hex_word(value: int) -> str:
    """``0x%08x`` of a 32-bit value."""
    return f"0x{value & _M:08x}"


def show_word(value: int) -> str:
    """A word in hex with its signed decimal value: ``0xffffffff (-1)``."""
    v = value & _M
    return f"{hex_word(v)} ({v - ((v & 0x80000000) << 1)})"


def disassemble(ins: Instr, pc: int) -> str:
    """One instruction in assembler syntax, with branch and jump targets resolved."""
    op, rd, rs1, rs2, imm = ins.op, ABI[ins.rd], ABI[ins.rs1], ABI[ins.rs2], ins.imm
    if ins.op in ALU_REG.values():
        return f"{op} {rd}, {rs1}, {rs2}"
    if ins.op in ALU_IMM.values() or ins.op in _SHIFTS:
        return f"{op} {rd}, {rs1}, {imm}"
    if ins.op in LOADS.values():
        return f"{op} {rd}, {imm}({rs1})"
    if ins.op in STORES.values():
        return f"{op} {rs2}, {imm}({rs1})"
    if ins.op in BRANCHES.values():
        return f"{op} {rs1}, {rs2}, {hex_word(pc + imm)}"
    if op in ("lui", "auipc"):
        return f"{op} {rd}, 0x{(imm & _M) >> 12:x}"
    if op == "jal":
        return f"jal {rd}, {hex_word(pc + imm)}"
    if op == "jalr":
        return f"jalr {rd}, {imm}({rs1})"
    if ins.op in CSR_OPS.values():
        source = str(ins.rs1) if op.endswith("i") else rs1
        return f"{op} {rd}, 0x{imm & 0xFFF:03x}, {source}"
    if op == "illegal":
        return f"illegal {hex_word(ins.word)}"
    return op
