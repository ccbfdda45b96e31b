"""Pins for the fast-path instruction closures found unpinned by mutation testing (issue 19).

Behaviours, checked on the reference interpreter and on the fast path
(``actors/coprocessor/_ops.py``): a ``jalr`` whose target has bit 1 set
traps with cause 0 (instruction address misaligned), ``mtval`` = the
target, ``mepc`` = the ``jalr`` and its ``rd`` not written, while a target
with only bit 0 set is legal (``jalr`` clears bit 0); a branch to a
half-word-aligned target traps the same way when it is taken, for each
condition and both outcomes, and does nothing when it is not; a halfword
load from an odd address traps load-misaligned (cause 4) naming a 2-byte
load, while aligned halfword loads sign- or zero-extend.
"""

from __future__ import annotations

import pytest

from stele.actors.coprocessor import Machine, MachineConfig, MisalignedAccess, encode, load_elf
from stele.actors.coprocessor._witness import trace_reference

from ._elfgen import DATA, TEXT, li, make_elf, syscall

HANDLER = TEXT + 4 * 40
JALR_PC = TEXT + 28  # after li x5, csrrw, li x6, li x1 (7 instructions)


def _jalr_to(target: int, fast: bool) -> Machine:
    text = li(5, HANDLER) + [encode("csrrw", 0, 5, imm=0x305)]  # mtvec = handler
    text += li(6, target) + li(1, 0x55)
    jalr_pc = TEXT + 4 * len(text)
    text += [encode("jalr", 1, 6, imm=0)]
    assert jalr_pc == JALR_PC
    text += syscall(93, 9)                       # not reached when the jalr traps
    text += [0x13] * (30 - len(text))
    text += syscall(93, 4)                       # TEXT + 120: a legal landing place
    text += [0x13] * (40 - len(text))
    text += [encode("csrrs", 15, 0, imm=0x342),  # x15 = mcause
             encode("csrrs", 16, 0, imm=0x343),  # x16 = mtval
             encode("csrrs", 13, 0, imm=0x341)]  # x13 = mepc
    text += syscall(93, 7)
    m = Machine(load_elf(make_elf(text, b"", bss=4096)))
    m.run(10_000, fast=fast)
    return m


@pytest.mark.parametrize("fast", [False, True])
def test_a_jalr_to_a_half_word_aligned_target_traps_misaligned(fast: bool) -> None:
    target = TEXT + 120 + 2
    m = _jalr_to(target, fast)
    assert m.exit_code == 7 and m.trap_count == 1
    assert (m.regs[15], m.regs[16], m.regs[13]) == (0, target, JALR_PC)
    assert m.regs[1] == 0x55  # rd is not written by a jalr that traps


@pytest.mark.parametrize("fast", [False, True])
def test_a_jalr_clears_bit_zero_of_its_target(fast: bool) -> None:
    m = _jalr_to(TEXT + 120 + 1, fast)
    assert m.exit_code == 4 and m.trap_count == 0
    assert m.regs[1] == JALR_PC + 4  # the link: the instruction after the jalr


def _branch(op: str, a: int, b: int, fast: bool) -> Machine:
    text = li(5, HANDLER) + [encode("csrrw", 0, 5, imm=0x305)]  # mtvec = handler
    text += li(6, a) + li(7, b)
    assert TEXT + 4 * len(text) == JALR_PC  # the branch sits where the jalr does
    text += [encode(op, 0, 6, 7, imm=6)]         # target JALR_PC + 6: misaligned
    text += syscall(93, 4)                       # not taken: falls through to exit(4)
    text += [0x13] * (40 - len(text))
    text += [encode("csrrs", 15, 0, imm=0x342),  # x15 = mcause
             encode("csrrs", 16, 0, imm=0x343),  # x16 = mtval
             encode("csrrs", 13, 0, imm=0x341)]  # x13 = mepc
    text += syscall(93, 7)
    m = Machine(load_elf(make_elf(text, b"", bss=4096)))
    m.run(10_000, fast=fast)
    return m


NEG = 0xFFFFFFFF  # -1


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize(("op", "a", "b", "taken"), [
    ("beq", 3, 3, True), ("beq", 3, 4, False),
    ("bne", 3, 4, True), ("bne", 3, 3, False),
    ("blt", NEG, 0, True), ("blt", 0, NEG, False),
    ("bge", 0, NEG, True), ("bge", NEG, 0, False),
    ("bltu", 0, NEG, True), ("bltu", NEG, 0, False),
    ("bgeu", NEG, 0, True), ("bgeu", 0, NEG, False),
])
def test_a_taken_branch_to_a_half_word_aligned_target_traps_misaligned(
        op: str, a: int, b: int, taken: bool, fast: bool) -> None:
    m = _branch(op, a, b, fast)
    if taken:
        assert m.exit_code == 7 and m.trap_count == 1
        assert (m.regs[15], m.regs[16], m.regs[13]) == (0, JALR_PC + 6, JALR_PC)
    else:
        assert m.exit_code == 4 and m.trap_count == 0


HALVES = bytes([0x01, 0x80, 0xFF, 0x7F, 0x10, 0x20, 0x30, 0x40])


def _loads(ins: list[int], fast: bool) -> Machine:
    text = li(6, DATA) + ins + syscall(93, 5)
    m = Machine(load_elf(make_elf(text, HALVES, bss=4096)))
    m.run(10_000, fast=fast)
    return m


@pytest.mark.parametrize("fast", [False, True])
def test_aligned_halfword_loads_extend_by_their_signedness(fast: bool) -> None:
    m = _loads([encode("lh", 11, 6, imm=0), encode("lhu", 12, 6, imm=0),
                encode("lh", 13, 6, imm=2), encode("lhu", 14, 6, imm=2)], fast)
    assert m.exit_code == 5
    assert m.regs[11:15] == [0xFFFF8001, 0x8001, 0x7FFF, 0x7FFF]


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("op", ["lh", "lhu"])
def test_a_halfword_load_from_an_odd_address_traps_misaligned(op: str, fast: bool) -> None:
    with pytest.raises(MisalignedAccess) as info:
        _loads([encode(op, 10, 6, imm=1)], fast)
    assert (info.value.cause, info.value.tval) == (4, DATA + 1)
    assert "2-byte load" in str(info.value)


def _loop_machine(threshold: int) -> Machine:
    loop = TEXT + 4 * 4
    text = li(6, 7) + li(8, DATA)                     # x6 = 7 iterations, x8 = DATA
    text += [encode("addi", 7, 7, imm=3), encode("sw", 0, 8, 7, imm=0),
             encode("lw", 9, 8, imm=0), encode("addi", 6, 6, imm=-1),
             encode("bne", 0, 6, 0, imm=loop - (loop + 16))]   # back to the loop's start
    text += syscall(93, 0)
    return Machine(load_elf(make_elf(text, b"", bss=4096)), config=MachineConfig(jit_threshold=threshold))


@pytest.mark.parametrize("chunk", [3, 1000])
@pytest.mark.parametrize("threshold", [1, 2])
def test_the_python_jit_witness_of_a_loop_equals_the_reference(threshold: int, chunk: int) -> None:
    ref = _loop_machine(threshold)
    want: list[int] = []
    while not ref.halted:
        want += trace_reference(ref, 1)
    m = _loop_machine(threshold)
    got: list[int] = []
    while not m.halted:
        got += m.trace_with("jit", chunk).reshape(-1).tolist()
    assert m.exit_code == ref.exit_code == 0 and m.cycle == ref.cycle > 30
    assert got == want


@pytest.mark.parametrize("threshold", [1, 2, 3])
def test_the_python_jit_compiles_a_hot_loop_while_tracing(threshold: int) -> None:
    m = _loop_machine(threshold)
    while not m.halted:
        m.trace_with("jit", 1000)
    jit = m._compiler()  # white box: the compiled-block counter
    assert jit.compiled >= 1  # the loop (entered 7 times) ran as a compiled block
