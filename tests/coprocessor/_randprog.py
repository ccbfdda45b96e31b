"""Random terminating RV32IM programs (raw images) for the regeneration property tests.

A program initialises eleven data registers, then runs a loop ``iterations``
times whose body is a random mix of ALU (including M-extension) operations,
stack loads and stores of every width, and short forward branches; it ends
with the ``exit`` syscall.  Every such program halts, so its witness is finite.
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from stele.actors.coprocessor import encode

DATA = (5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16)  # avoid sp (x2), a0 (x10), a7 (x17), t3 (x28)
ALU_REG = ("add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
           "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu")
ALU_IMM = ("addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli", "srai")
LOADS = (("lw", 4), ("lh", 2), ("lhu", 2), ("lb", 1), ("lbu", 1))
STORES = (("sw", 4), ("sh", 2), ("sb", 1))

reg = st.sampled_from(DATA)


@st.composite
def _instr(draw: st.DrawFn) -> list[int]:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return [encode(draw(st.sampled_from(ALU_REG)), draw(reg), draw(reg), draw(reg))]
    if kind == 1:
        return [encode(draw(st.sampled_from(ALU_IMM)), draw(reg), draw(reg), 0, draw(st.integers(-2048, 2047)))]
    if kind == 2:
        return [encode(draw(st.sampled_from(("lui", "auipc"))), draw(reg), imm=draw(st.integers(0, 0xFFFFF)) << 12)]
    if kind == 3:
        op, width = draw(st.sampled_from(LOADS))
        return [encode(op, draw(reg), 2, 0, -width * draw(st.integers(1, 2048 // width)))]
    if kind == 4:
        op, width = draw(st.sampled_from(STORES))
        return [encode(op, 0, 2, draw(reg), -width * draw(st.integers(1, 2048 // width)))]
    branch = draw(st.sampled_from(("beq", "bne", "blt", "bge", "bltu", "bgeu")))
    return [encode(branch, 0, draw(reg), draw(reg), 8),
            encode(draw(st.sampled_from(ALU_REG)), draw(reg), draw(reg), draw(reg))]


@st.composite
def programs(draw: st.DrawFn, max_body: int = 30, max_iterations: int = 40) -> bytes:
    """A raw RV32IM image (loaded at 0x10000) that halts with exit status 0."""
    words: list[int] = []
    for r in DATA:
        words.append(encode("lui", r, imm=draw(st.integers(0, 0xFFFFF)) << 12))
        words.append(encode("addi", r, r, 0, draw(st.integers(-2048, 2047))))
    words.append(encode("addi", 28, 0, 0, draw(st.integers(1, max_iterations))))
    body: list[int] = []
    for part in draw(st.lists(_instr(), min_size=1, max_size=max_body)):
        body += part
    words += body
    words.append(encode("addi", 28, 28, 0, -1))
    words.append(encode("bne", 0, 28, 0, -4 * (len(body) + 1)))
    words += [encode("addi", 17, 0, 0, 93), encode("addi", 10, 0, 0, 0), encode("ecall")]
    return struct.pack(f"<{len(words)}I", *words)
