"""An RV32IM encoder and a two-pass assembler with labels (the compiler's own, no toolchain).

`encode_*` build instruction words from fields; `Asm` collects instructions
and label references and resolves them once every address is known.
Branches whose target is out of the ±4 KiB range of a B-type instruction
are re-emitted as an inverted branch over a `jal` (±1 MiB) on a second
pass: every instruction keeps a fixed size within one pass, so addresses
are stable. The decoder of the co-processor (`stele.actors.coprocessor.decode`)
is the cross-check in the tests: every word this module emits decodes to
the instruction meant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["REG", "Asm", "AsmError", "encode"]

#: ABI register names -> numbers
REG: dict[str, int] = {
    "zero": 0, "ra": 1, "sp": 2, "gp": 3, "tp": 4, "t0": 5, "t1": 6, "t2": 7, "s0": 8, "s1": 9,
    **{f"a{i}": 10 + i for i in range(8)}, **{f"s{i}": 16 + i for i in range(2, 12)},
    **{f"t{i}": 25 + i for i in range(3, 7)},
}

_R = {  # mnemonic -> (funct3, funct7)
    "add": (0, 0), "sub": (0, 0x20), "sll": (1, 0), "slt": (2, 0), "sltu": (3, 0), "xor": (4, 0),
    "srl": (5, 0), "sra": (5, 0x20), "or": (6, 0), "and": (7, 0),
    "mul": (0, 1), "mulh": (1, 1), "mulhsu": (2, 1), "mulhu": (3, 1),
    "div": (4, 1), "divu": (5, 1), "rem": (6, 1), "remu": (7, 1),
}
_I = {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}
_SHIFT = {"slli": (1, 0), "srli": (5, 0), "srai": (5, 0x20)}
_LOAD = {"lb": 0, "lh": 1, "lw": 2, "lbu": 4, "lhu": 5}
_STORE = {"sb": 0, "sh": 1, "sw": 2}
_BRANCH = {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}
_INVERT = {"beq": "bne", "bne": "beq", "blt": "bge", "bge": "blt", "bltu": "bgeu", "bgeu": "bltu"}


class AsmError(Exception):
    """An operand does not fit its field, or a label is unknown or defined twice (a compiler bug)."""


def _fits(v: int, bits: int) -> bool:
    return -(1 << (bits - 1)) <= v < (1 << (bits - 1))


def encode(op: str, rd: int = 0, rs1: int = 0, rs2: int = 0, imm: int = 0) -> int:
    """The 32-bit word of one instruction (fields as in the ISA manual; imm sign-extended)."""
    if op in _R:
        f3, f7 = _R[op]
        return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33
    if op in _I or op in _LOAD or op == "jalr":
        if not _fits(imm, 12):
            raise AsmError(f"{op}: immediate {imm} does not fit 12 bits")
        opcode, f3 = (0x13, _I[op]) if op in _I else (0x03, _LOAD[op]) if op in _LOAD else (0x67, 0)
        return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode
    if op in _SHIFT:
        f3, f7 = _SHIFT[op]
        if not 0 <= imm < 32:
            raise AsmError(f"{op}: shift {imm} out of range")
        return (f7 << 25) | (imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x13
    if op in _STORE:
        if not _fits(imm, 12):
            raise AsmError(f"{op}: offset {imm} does not fit 12 bits")
        i = imm & 0xFFF
        return ((i >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (_STORE[op] << 12) | ((i & 31) << 7) | 0x23
    if op in _BRANCH:
        if imm & 1 or not _fits(imm, 13):
            raise AsmError(f"{op}: offset {imm} out of range")
        i = imm & 0x1FFF
        return (((i >> 12) & 1) << 31) | (((i >> 5) & 0x3F) << 25) | (rs2 << 20) | (rs1 << 15) \
            | (_BRANCH[op] << 12) | (((i >> 1) & 0xF) << 8) | (((i >> 11) & 1) << 7) | 0x63
    if op == "jal":
        if imm & 1 or not _fits(imm, 21):
            raise AsmError(f"jal: offset {imm} out of range")
        i = imm & 0x1FFFFF
        return (((i >> 20) & 1) << 31) | (((i >> 1) & 0x3FF) << 21) | (((i >> 11) & 1) << 20) \
            | (((i >> 12) & 0xFF) << 12) | (rd << 7) | 0x6F
    if op in ("lui", "auipc"):
        return (imm & 0xFFFFF000) | (rd << 7) | (0x37 if op == "lui" else 0x17)
    if op == "ecall":
        return 0x00000073
    raise AsmError(f"unknown mnemonic {op!r}")


@dataclass
class _Ref:
    """A label reference to resolve: a branch, a `jal`, or an absolute address (lui/addi)."""

    kind: str  # "b", "j", "abs"
    op: str
    regs: tuple[int, int]
    label: str


@dataclass
class Asm:
    """Instructions and labels of one program image placed at `base`."""

    base: int
    items: list[int | _Ref] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)  # label -> item index
    far: bool = False  # second pass: every conditional branch in its long form
    counter: int = 0

    def fresh(self, stem: str = "L") -> str:
        self.counter += 1
        return f".{stem}{self.counter}"

    def label(self, name: str) -> None:
        if name in self.labels:
            raise AsmError(f"label {name!r} defined twice")
        self.labels[name] = len(self.items)

    def __call__(self, op: str, rd: int = 0, rs1: int = 0, rs2: int = 0, imm: int = 0) -> None:
        self.items.append(encode(op, rd, rs1, rs2, imm))

    def li(self, rd: int, value: int) -> None:
        """Load a 32-bit constant (one instruction when it fits 12 bits)."""
        value &= 0xFFFFFFFF
        sv = value - (1 << 32) if value >= 1 << 31 else value
        if _fits(sv, 12):
            self("addi", rd, 0, imm=sv)
            return
        hi = ((value + 0x800) >> 12) & 0xFFFFF
        lo = ((value - (hi << 12) + 0x800) & 0xFFF) - 0x800
        self("lui", rd, imm=hi << 12)
        if lo:
            self("addi", rd, rd, imm=lo)

    def mv(self, rd: int, rs: int) -> None:
        if rd != rs:
            self("addi", rd, rs, imm=0)

    def branch(self, op: str, rs1: int, rs2: int, label: str) -> None:
        self.items.append(_Ref("b", op, (rs1, rs2), label))
        if self.far:
            self.items.append(0)  # room for the jal of the long form

    def jump(self, label: str, link: int = 0) -> None:
        self.items.append(_Ref("j", "jal", (link, 0), label))

    def la(self, rd: int, label: str) -> None:
        """The absolute address of `label` (two instructions)."""
        self.items.append(_Ref("abs", "lui", (rd, 0), label))
        self.items.append(0)

    def here(self) -> int:
        return self.base + 4 * len(self.items)

    def address(self, label: str) -> int:
        if label not in self.labels:
            raise AsmError(f"unknown label {label!r}")
        return self.base + 4 * self.labels[label]

    def assemble(self) -> bytes:
        """The program bytes; raises `_FarNeeded` if a short branch cannot reach its label."""
        words: list[int] = []
        i = 0
        items = self.items
        while i < len(items):
            it = items[i]
            pc = self.base + 4 * i
            if isinstance(it, int):
                words.append(it)
                i += 1
                continue
            target = self.address(it.label)
            if it.kind == "b":
                if self.far:
                    words.append(encode(_INVERT[it.op], 0, it.regs[0], it.regs[1], 8))
                    words.append(encode("jal", 0, imm=target - pc - 4))
                    i += 2
                    continue
                if not _fits(target - pc, 13):
                    raise FarNeeded()
                words.append(encode(it.op, 0, it.regs[0], it.regs[1], target - pc))
            elif it.kind == "j":
                words.append(encode("jal", it.regs[0], imm=target - pc))
            else:
                rd = it.regs[0]
                hi = ((target + 0x800) >> 12) & 0xFFFFF
                lo = ((target - (hi << 12) + 0x800) & 0xFFF) - 0x800
                words.append(encode("lui", rd, imm=hi << 12))
                words.append(encode("addi", rd, rd, imm=lo))
                i += 2
                continue
            i += 1
        return b"".join(w.to_bytes(4, "little") for w in words)


class FarNeeded(Exception):
    """Internal: a branch is out of short range; assemble again with `far=True`."""
