"""Random RV32IM programs for differential tests (hypothesis strategies).

A program is a list of *items* expanded to instruction words at ``CODE``; it
ends at ``end`` with an ``ebreak``, which stops our machine with a
:class:`Breakpoint` (state intact) and where unicorn's ``emu_start(until=)``
stops.  Memory accesses are aligned and land in the 4 KiB data page at
``DATA``; branches and jumps go forward (taken or not), and counted loops go
backward a bounded number of times, so every program terminates.  No CSR,
ECALL or trap: unicorn does not model our host interface.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hypothesis import strategies as st

from stele.actors.coprocessor import Machine, MachineConfig, Program, Segment, encode
from stele.actors.coprocessor._isa import ALU_IMM, ALU_REG

CODE = 0x10000
DATA = 0x20000
DATA_SIZE = 4096
M = 0xFFFFFFFF
EDGE = [0, 1, 2, 3, 31, 32, 0x7FF, 0x800, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF,
        0x80000000, 0x80000001, 0xFFFFFFFE, M]
R_OPS = sorted(ALU_REG.values())
I_OPS = sorted(ALU_IMM.values())
SHIFT_I = ["slli", "srli", "srai"]
LOAD_W = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4}
STORE_W = {"sb": 1, "sh": 2, "sw": 4}
BRANCH = ["beq", "bne", "blt", "bge", "bltu", "bgeu"]

words = st.one_of(st.sampled_from(EDGE), st.integers(0, M))
reg = st.integers(0, 31)
nonzero_reg = st.integers(1, 31)
imm12 = st.one_of(st.sampled_from([0, 1, -1, 2047, -2048, 31, 32, -2]), st.integers(-2048, 2047))
shamt = st.one_of(st.sampled_from([0, 1, 31, 16]), st.integers(0, 31))


def li(rd: int, value: int) -> list[int]:
    """lui + addi loading the 32-bit ``value`` into ``rd``."""
    value &= M
    hi = ((value + 0x800) >> 12) & 0xFFFFF
    lo = value - (hi << 12)
    lo = ((lo + 0x800) & 0xFFF) - 0x800
    return [encode("lui", rd, imm=hi << 12), encode("addi", rd, rd, imm=lo)]


@st.composite
def alu_item(draw: st.DrawFn, avoid: int = -1) -> list[int]:
    """One register-register, register-immediate, shift-immediate or upper-immediate op."""
    rd = draw(reg.filter(lambda r: r != avoid))
    kind = draw(st.sampled_from(["r", "r", "i", "s", "u"]))
    if kind == "r":
        return [encode(draw(st.sampled_from(R_OPS)), rd, draw(reg), draw(reg))]
    if kind == "i":
        return [encode(draw(st.sampled_from(I_OPS)), rd, draw(reg), imm=draw(imm12))]
    if kind == "s":
        return [encode(draw(st.sampled_from(SHIFT_I)), rd, draw(reg), imm=draw(shamt))]
    return [encode(draw(st.sampled_from(["lui", "auipc"])), rd, imm=draw(words) & 0xFFFFF000)]


@st.composite
def mem_item(draw: st.DrawFn, avoid: int = -1) -> list[int]:
    """Set a base register, then one aligned load or store inside the data page."""
    op = draw(st.sampled_from(sorted(LOAD_W) + sorted(STORE_W)))
    width = LOAD_W.get(op) or STORE_W[op]
    addr = DATA + draw(st.integers(0, DATA_SIZE // width - 1)) * width
    imm = draw(imm12)
    base = draw(nonzero_reg.filter(lambda r: r != avoid))
    out = li(base, addr - imm)
    if op in LOAD_W:
        out.append(encode(op, draw(reg.filter(lambda r: r != avoid)), base, imm=imm))
    else:
        out.append(encode(op, 0, base, draw(reg), imm=imm))
    return out


@st.composite
def jump_item(draw: st.DrawFn) -> list[int]:
    """A forward branch, jal or jalr over 0-3 filler instructions."""
    skip = draw(st.integers(0, 3))
    fill = [encode("addi", draw(nonzero_reg), draw(reg), imm=draw(imm12)) for _ in range(skip)]
    kind = draw(st.sampled_from(["b", "b", "b", "jal", "jalr"]))
    if kind == "b":
        return [encode(draw(st.sampled_from(BRANCH)), 0, draw(reg), draw(reg),
                       imm=4 * (skip + 1))] + fill
    if kind == "jal":
        return [encode("jal", draw(reg), imm=4 * (skip + 1))] + fill
    base = draw(nonzero_reg)
    odd = draw(st.integers(0, 1))
    return [encode("auipc", base, imm=0),
            encode("jalr", draw(reg), base, imm=8 + 4 * skip + odd)] + fill


@st.composite
def loop_item(draw: st.DrawFn) -> list[int]:
    """``counter = n; L: body; counter -= 1; bne counter, x0, L`` (n in 1..6)."""
    counter = draw(nonzero_reg)
    body = draw(st.lists(st.one_of(alu_item(avoid=counter), alu_item(avoid=counter),
                                   mem_item(avoid=counter)), min_size=0, max_size=6))
    flat = [w for item in body for w in item]
    out = [encode("addi", counter, 0, imm=draw(st.integers(1, 6)))] + flat
    out.append(encode("addi", counter, counter, imm=-1))
    out.append(encode("bne", 0, counter, 0, imm=-4 * (len(flat) + 1)))
    return out


def item(loops: bool = False) -> st.SearchStrategy[list[int]]:
    """Any one program item (``loops`` adds backward counted loops)."""
    options = [alu_item(), alu_item(), mem_item(), jump_item(),
               st.just([encode("fence")])]
    if loops:
        options.append(loop_item())
    return st.one_of(*options)


@dataclass
class Case:
    """A generated program with its initial registers and data page."""

    code: list[int]
    regs: list[int]
    data: bytes

    @property
    def end(self) -> int:
        return CODE + 4 * (len(self.code) - 1)

    def image(self) -> bytes:
        return b"".join(struct.pack("<I", w) for w in self.code)

    def machine(self, config: MachineConfig | None = None) -> Machine:
        prog = Program((Segment(CODE, self.image(), len(self.code) * 4),
                        Segment(DATA, self.data, DATA_SIZE, False)), CODE, {})
        m = Machine(prog, config=config)
        m.regs[1:] = self.regs
        return m


@st.composite
def cases(draw: st.DrawFn, loops: bool = False, max_items: int = 30) -> Case:
    """A random terminating program plus initial state."""
    items = draw(st.lists(item(loops), min_size=1, max_size=max_items))
    code = [w for it in items for w in it] + [encode("ebreak")]
    regs = draw(st.lists(words, min_size=31, max_size=31))
    data = draw(st.binary(min_size=64, max_size=64)) * (DATA_SIZE // 64)
    return Case(code, regs, data)


class _Reader:
    """Consumes a byte string as a stream of choices (zeros once exhausted)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def more(self) -> bool:
        return self.pos < len(self.data)

    def int(self, nbytes: int) -> int:
        chunk = self.data[self.pos:self.pos + nbytes]
        self.pos += nbytes
        return int.from_bytes(chunk.ljust(nbytes, b"\0"), "little")

    def pick(self, options: list[int] | list[str]) -> int | str:
        return options[self.int(1) % len(options)]

    def reg(self, lo: int = 0, avoid: int = -1) -> int:
        r = lo + self.int(1) % (32 - lo)
        return r if r != avoid else (r % 31) + 1 if lo else 0

    def word(self) -> int:
        b = self.int(1)
        return EDGE[b % len(EDGE)] if b < 160 else self.int(4)

    def imm12(self) -> int:
        b = self.int(1)
        if b < 64:
            return [0, 1, -1, 2047, -2048, 31, 32, -2][b % 8]
        return self.int(2) % 4096 - 2048


def _alu_from(rd_r: _Reader, avoid: int = -1) -> list[int]:
    r = rd_r
    rd = r.reg(avoid=avoid)
    kind = r.int(1) % 5
    if kind <= 1:
        return [encode(str(r.pick(R_OPS)), rd, r.reg(), r.reg())]
    if kind == 2:
        return [encode(str(r.pick(I_OPS)), rd, r.reg(), imm=r.imm12())]
    if kind == 3:
        amount = r.int(1)
        return [encode(str(r.pick(SHIFT_I)), rd, r.reg(), imm=[0, 1, 31, 16][amount % 4]
                       if amount < 64 else amount % 32)]
    return [encode(str(r.pick(["lui", "auipc"])), rd, imm=r.word() & 0xFFFFF000)]


def _mem_from(r: _Reader, avoid: int = -1) -> list[int]:
    op = str(r.pick(sorted(LOAD_W) + sorted(STORE_W)))
    width = LOAD_W.get(op) or STORE_W[op]
    addr = DATA + (r.int(2) % (DATA_SIZE // width)) * width
    imm = r.imm12()
    base = r.reg(1, avoid=avoid)
    out = li(base, addr - imm)
    out.append(encode(op, r.reg(avoid=avoid), base, imm=imm) if op in LOAD_W
               else encode(op, 0, base, r.reg(), imm=imm))
    return out


def case_from_bytes(data: bytes, loops: bool = True) -> Case:
    """A terminating program + state decoded from ``data`` (one cheap hypothesis draw).

    The same item kinds as :func:`cases`; shrinking the bytes shrinks the program.
    """
    r = _Reader(data)
    regs = [r.word() for _ in range(31)]
    page = bytes(r.int(1) for _ in range(64)) * (DATA_SIZE // 64)
    code: list[int] = []
    while r.more() and len(code) < 400:
        kind = r.int(1) % (8 if loops else 7)
        if kind <= 2:
            code += _alu_from(r)
        elif kind <= 4:
            code += _mem_from(r)
        elif kind == 5:
            skip = r.int(1) % 4
            fill = [encode("addi", r.reg(1), r.reg(), imm=r.imm12()) for _ in range(skip)]
            how = r.int(1) % 5
            if how <= 2:
                code.append(encode(str(r.pick(BRANCH)), 0, r.reg(), r.reg(), imm=4 * (skip + 1)))
            elif how == 3:
                code.append(encode("jal", r.reg(), imm=4 * (skip + 1)))
            else:
                base = r.reg(1)
                code += [encode("auipc", base, imm=0),
                         encode("jalr", r.reg(), base, imm=8 + 4 * skip + r.int(1) % 2)]
            code += fill
        elif kind == 6:
            code.append(encode("fence"))
        else:
            counter = r.reg(1)
            body = [w for _ in range(r.int(1) % 6)
                    for w in (_alu_from(r, avoid=counter) if r.int(1) % 3
                              else _mem_from(r, avoid=counter))]
            code.append(encode("addi", counter, 0, imm=1 + r.int(1) % 6))
            code += body
            code.append(encode("addi", counter, counter, imm=-1))
            code.append(encode("bne", 0, counter, 0, imm=-4 * (len(body) + 1)))
    return Case(code + [encode("ebreak")], regs, page)
