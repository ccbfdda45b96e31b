"""Pins for the fast-path instruction closures found unpinned by mutation testing (issue 19).

Behaviours, checked on the reference interpreter and on the fast path
(``actors/coprocessor/_ops.py``): a ``jalr`` whose target has bit 1 set
traps with cause 0 (instruction address misaligned), ``mtval`` = the
target, ``mepc`` = the ``jalr`` and its ``rd`` not written, while a target
with only bit 0 set is legal (``jalr`` clears bit 0).
"""

from __future__ import annotations

import pytest

from stele.actors.coprocessor import Machine, encode, load_elf

from ._elfgen import TEXT, li, make_elf, syscall

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
