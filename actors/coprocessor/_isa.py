"""RV32IM + Zicsr instruction decoding and encoding.

One decoder, :func:`decode`, serves the interpreter, the block compiler, the
witness and the tests, so they cannot disagree about what a word means.  It
returns an :class:`Instr`: the mnemonic plus the *architectural* operands
(register indices that the instruction really reads or writes, zero when it
does not use that operand, and the sign-extended immediate as a Python int).
:func:`encode` is its inverse for every mnemonic, used to build test programs.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Instr", "decode", "encode", "MNEMONICS", "BRANCHES", "LOADS", "STORES",
           "ALU_IMM", "ALU_REG", "CSR_OPS", "TERMINATORS"]

MASK = 0xFFFFFFFF


class Instr(NamedTuple):
    """A decoded instruction.

    ``op`` is the lowercase mnemonic (``"illegal"`` for a word this machine
    does not implement); ``rd``/``rs1``/``rs2`` are the registers it writes
    and reads (0 when unused); ``imm`` is the sign-extended immediate (the
    CSR number for CSR instructions, the 5-bit ``zimm`` lives in ``rs1`` for
    ``csrr*i`` and is flagged by the mnemonic); ``word`` is the raw word.
    """

    op: str
    rd: int
    rs1: int
    rs2: int
    imm: int
    word: int


BRANCHES = {0: "beq", 1: "bne", 4: "blt", 5: "bge", 6: "bltu", 7: "bgeu"}
LOADS = {0: "lb", 1: "lh", 2: "lw", 4: "lbu", 5: "lhu"}
STORES = {0: "sb", 1: "sh", 2: "sw"}
ALU_IMM = {0: "addi", 2: "slti", 3: "sltiu", 4: "xori", 6: "ori", 7: "andi"}
_SHIFT_IMM = {(1, 0): "slli", (5, 0): "srli", (5, 0x20): "srai"}
ALU_REG = {
    (0, 0): "add", (0, 0x20): "sub", (1, 0): "sll", (2, 0): "slt", (3, 0): "sltu",
    (4, 0): "xor", (5, 0): "srl", (5, 0x20): "sra", (6, 0): "or", (7, 0): "and",
    (0, 1): "mul", (1, 1): "mulh", (2, 1): "mulhsu", (3, 1): "mulhu",
    (4, 1): "div", (5, 1): "divu", (6, 1): "rem", (7, 1): "remu",
}
CSR_OPS = {1: "csrrw", 2: "csrrs", 3: "csrrc", 5: "csrrwi", 6: "csrrsi", 7: "csrrci"}
_SYSTEM = {0x00000073: "ecall", 0x00100073: "ebreak", 0x30200073: "mret", 0x10500073: "wfi"}

#: every mnemonic :func:`decode` can return except ``"illegal"``.
MNEMONICS: tuple[str, ...] = (
    ("lui", "auipc", "jal", "jalr") + tuple(BRANCHES.values()) + tuple(LOADS.values())
    + tuple(STORES.values()) + tuple(ALU_IMM.values()) + tuple(_SHIFT_IMM.values())
    + tuple(ALU_REG.values()) + ("fence", "fence.i") + tuple(_SYSTEM.values())
    + tuple(CSR_OPS.values())
)

#: mnemonics that end a basic block (control transfer or anything the host handles).
TERMINATORS = frozenset(
    ("jal", "jalr", "ecall", "ebreak", "mret", "wfi", "fence.i", "illegal")
    + tuple(BRANCHES.values()) + tuple(CSR_OPS.values())
)


def _sext(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


def _illegal(word: int) -> Instr:
    return Instr("illegal", 0, 0, 0, 0, word)


def decode(word: int) -> Instr:
    """Decode one 32-bit instruction word (never raises; unknown words decode as illegal)."""
    opcode = word & 0x7F
    rd = (word >> 7) & 31
    f3 = (word >> 12) & 7
    rs1 = (word >> 15) & 31
    rs2 = (word >> 20) & 31
    f7 = word >> 25
    if opcode == 0x13:
        if f3 in ALU_IMM:
            return Instr(ALU_IMM[f3], rd, rs1, 0, _sext(word >> 20, 12), word)
        name = _SHIFT_IMM.get((f3, f7))
        return _illegal(word) if name is None else Instr(name, rd, rs1, 0, rs2, word)
    if opcode == 0x33:
        name = ALU_REG.get((f3, f7))
        return _illegal(word) if name is None else Instr(name, rd, rs1, rs2, 0, word)
    if opcode == 0x03:
        name = LOADS.get(f3)
        return _illegal(word) if name is None else Instr(name, rd, rs1, 0, _sext(word >> 20, 12), word)
    if opcode == 0x23:
        name = STORES.get(f3)
        imm = _sext(((word >> 25) << 5) | rd, 12)
        return _illegal(word) if name is None else Instr(name, 0, rs1, rs2, imm, word)
    if opcode == 0x63:
        name = BRANCHES.get(f3)
        imm = (((word >> 31) & 1) << 12) | (((word >> 7) & 1) << 11) \
            | (((word >> 25) & 0x3F) << 5) | (((word >> 8) & 0xF) << 1)
        return _illegal(word) if name is None else Instr(name, 0, rs1, rs2, _sext(imm, 13), word)
    if opcode == 0x37:
        return Instr("lui", rd, 0, 0, word & 0xFFFFF000, word)
    if opcode == 0x17:
        return Instr("auipc", rd, 0, 0, word & 0xFFFFF000, word)
    if opcode == 0x6F:
        imm = (((word >> 31) & 1) << 20) | (((word >> 12) & 0xFF) << 12) \
            | (((word >> 20) & 1) << 11) | (((word >> 21) & 0x3FF) << 1)
        return Instr("jal", rd, 0, 0, _sext(imm, 21), word)
    if opcode == 0x67:
        return _illegal(word) if f3 else Instr("jalr", rd, rs1, 0, _sext(word >> 20, 12), word)
    if opcode == 0x0F:
        if f3 == 0:
            return Instr("fence", 0, 0, 0, 0, word)
        return Instr("fence.i", 0, 0, 0, 0, word) if f3 == 1 else _illegal(word)
    if opcode == 0x73:
        if f3 == 0:
            name = _SYSTEM.get(word)
            return _illegal(word) if name is None else Instr(name, 0, 0, 0, 0, word)
        name = CSR_OPS.get(f3)
        return _illegal(word) if name is None else Instr(name, rd, rs1, 0, word >> 20, word)
    return _illegal(word)


_INV_ALU_REG = {v: k for k, v in ALU_REG.items()}
_INV_SHIFT = {v: k for k, v in _SHIFT_IMM.items()}
_INV = {**{v: (0x63, k) for k, v in BRANCHES.items()}, **{v: (0x03, k) for k, v in LOADS.items()},
        **{v: (0x23, k) for k, v in STORES.items()}, **{v: (0x13, k) for k, v in ALU_IMM.items()},
        **{v: (0x73, k) for k, v in CSR_OPS.items()}}


def encode(op: str, rd: int = 0, rs1: int = 0, rs2: int = 0, imm: int = 0) -> int:
    """Encode one instruction (the inverse of :func:`decode`), for tests and tools.

    Immediates are taken modulo their field width, so callers may pass
    negative values; branch and jump offsets must be even.
    """
    if op in _INV_ALU_REG:
        f3, f7 = _INV_ALU_REG[op]
        return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33
    if op in _INV_SHIFT:
        f3, f7 = _INV_SHIFT[op]
        return (f7 << 25) | ((imm & 31) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x13
    if op in ("lui", "auipc"):
        return (imm & 0xFFFFF000) | (rd << 7) | (0x37 if op == "lui" else 0x17)
    if op == "jal":
        i = imm & 0x1FFFFF
        return ((((i >> 20) & 1) << 31) | (((i >> 1) & 0x3FF) << 21) | (((i >> 11) & 1) << 20)
                | (((i >> 12) & 0xFF) << 12) | (rd << 7) | 0x6F)
    if op == "jalr":
        return ((imm & 0xFFF) << 20) | (rs1 << 15) | (rd << 7) | 0x67
    if op == "fence":
        return 0x0FF0000F
    if op == "fence.i":
        return 0x0000100F
    for word, name in _SYSTEM.items():
        if name == op:
            return word
    opcode, f3 = _INV[op]
    if opcode == 0x63:
        i = imm & 0x1FFF
        return ((((i >> 12) & 1) << 31) | (((i >> 5) & 0x3F) << 25) | (rs2 << 20) | (rs1 << 15)
                | (f3 << 12) | (((i >> 1) & 0xF) << 8) | (((i >> 11) & 1) << 7) | 0x63)
    if opcode == 0x23:
        i = imm & 0xFFF
        return ((i >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((i & 31) << 7) | 0x23
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode
