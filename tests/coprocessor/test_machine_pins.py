"""Pins for machine-mode trap state found unpinned by mutation testing (issue 19).

On a trap, ``mstatus.MPIE`` takes the old ``MIE`` (bit 3 -> bit 7), ``MIE``
clears and ``MPP`` is M; ``MRET`` restores ``MIE`` from ``MPIE`` and sets
``MPIE``.  Checked with MIE both set and clear before the trap, on the
reference interpreter and the fast path.
"""

from __future__ import annotations

import pytest

from stele.actors.coprocessor import Machine, encode, load_elf

from ._elfgen import li, make_elf, syscall

MIE, MPIE, MPP = 1 << 3, 1 << 7, 3 << 11


def _trap_and_return(clear_mie: bool, fast: bool) -> Machine:
    handler = 0x10000 + 4 * 40
    text = li(5, handler) + [encode("csrrw", 0, 5, imm=0x305)]
    # set or clear MIE explicitly (csrrs / csrrc with the bit in x6)
    text += li(6, MIE) + [encode("csrrc" if clear_mie else "csrrs", 0, 6, imm=0x300)]
    text += [encode("csrrs", 16, 0, imm=0x300),   # x16 = mstatus before the trap
             0xFFFFFFFF,                          # illegal instruction -> handler
             encode("csrrs", 18, 0, imm=0x300)]   # x18 = mstatus after mret
    text += syscall(93, 3)
    text += [0x13] * (40 - len(text))
    text += [encode("csrrs", 15, 0, imm=0x300),   # x15 = mstatus inside the handler
             encode("csrrs", 13, 0, imm=0x341), encode("addi", 14, 13, imm=4),
             encode("csrrw", 0, 14, imm=0x341), encode("mret")]
    m = Machine(load_elf(make_elf(text, b"", bss=4096)))
    m.run(10_000, fast=fast)
    return m


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("clear_mie", [False, True])
def test_trap_and_mret_move_mie_through_mpie(clear_mie: bool, fast: bool) -> None:
    m = _trap_and_return(clear_mie, fast)
    assert m.exit_code == 3 and m.trap_count == 1
    before, inside, after = m.regs[16], m.regs[15], m.regs[18]
    assert bool(before & MIE) is (not clear_mie)
    # trap: MPIE <- MIE, MIE <- 0, MPP <- M
    assert inside & MIE == 0
    assert bool(inside & MPIE) is (not clear_mie)
    assert inside & MPP == MPP
    # mret: MIE <- MPIE, MPIE <- 1
    assert bool(after & MIE) is (not clear_mie)
    assert after & MPIE == MPIE
    # nothing outside these bits moved
    others = ~(MIE | MPIE | MPP) & 0xFFFFFFFF
    assert before & others == inside & others == after & others
