"""Pins for machine-mode trap state found unpinned by mutation testing (issue 19).

On a trap, ``mstatus.MPIE`` takes the old ``MIE`` (bit 3 -> bit 7), ``MIE``
clears and ``MPP`` is M; ``MRET`` restores ``MIE`` from ``MPIE`` and sets
``MPIE``.  Checked with MIE both set and clear before the trap, on the
reference interpreter and the fast path.  Also: lowering the heap break,
effect calls with guest buffers that fault, and the PMP CSR ranges.
"""

from __future__ import annotations

import pytest

from stele.actors.coprocessor import (
    SYS_EFFECT,
    AccessFault,
    IllegalInstruction,
    Machine,
    encode,
    load_elf,
)
from stele.protocol import encode as cbor

from ._elfgen import DATA, li, make_elf, syscall

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


# -- heap: lowering the break makes the region above it unreachable ------------------

def _heap_program(store_at: int, regrow: bool) -> list[int]:
    """Grow the heap by 3 pages, store a word at +0x2000, lower the break to
    +0x1000, optionally grow it back, then load the word at ``store_at``."""
    text = syscall(214, 0) + [encode("addi", 20, 10, imm=0)]             # x20 = start
    text += li(6, 0x3000) + [encode("add", 10, 20, 6)] + li(17, 214) + [encode("ecall")]
    text += li(6, 0x2000) + [encode("add", 7, 20, 6)] + li(8, 0x5A5A5A5A)
    text += [encode("sw", 0, 7, 8)]                                        # [start+0x2000]
    text += li(6, 0x1000) + [encode("add", 10, 20, 6)] + li(17, 214) + [encode("ecall"),
                                                                         encode("addi", 21, 10, imm=0)]
    if regrow:
        text += li(6, 0x3000) + [encode("add", 10, 20, 6)] + li(17, 214) + [encode("ecall")]
    text += li(6, store_at) + [encode("add", 7, 20, 6), encode("lw", 22, 7, imm=0)]
    return text + syscall(93, 0)


@pytest.mark.parametrize("fast", [False, True])
def test_lowered_break_unmaps_the_region_above_it(fast: bool) -> None:
    m = Machine(load_elf(make_elf(_heap_program(0x2000, regrow=False), bss=4096)))
    with pytest.raises(AccessFault, match="load access fault"):
        m.run(10_000, fast=fast)
    assert m.regs[21] == m.regs[20] + 0x1000     # brk returned the lowered break
    assert m.brk == m.regs[20] + 0x1000


@pytest.mark.parametrize("fast", [False, True])
def test_below_a_lowered_break_stays_usable_and_regrowth_gives_zeros(fast: bool) -> None:
    m = Machine(load_elf(make_elf(_heap_program(0xFFC, regrow=False), bss=4096)))
    m.run(10_000, fast=fast)
    assert m.exit_code == 0 and m.regs[22] == 0
    m = Machine(load_elf(make_elf(_heap_program(0x2000, regrow=True), bss=4096)))
    m.run(10_000, fast=fast)
    assert m.exit_code == 0 and m.regs[22] == 0            # freed, not kept (Linux semantics)


def test_lowering_the_break_returns_its_pages_to_the_memory_limit() -> None:
    m = Machine(load_elf(make_elf(_heap_program(0xFFC, regrow=False), bss=4096)))
    m.run(10_000)
    start = m.regs[20]
    pn = (start + 0x2000) >> 12
    assert pn not in m.memory.pages                  # touched, then freed by brk
    assert ((start + 0xFFC) >> 12) in m.memory.pages  # below the new break: kept


# -- effect calls: guest pointers that fault are -EFAULT, not a crash -------------

def test_effect_with_an_unwritable_reply_buffer_is_efault_after_the_call() -> None:
    request = cbor({"op": "ping"})
    calls: list[object] = []

    def handler(req: object) -> object:
        calls.append(req)
        return {"ok": True}

    unmapped = 0x4000_0000
    text = syscall(SYS_EFFECT, DATA, len(request), unmapped, 64) \
        + [encode("addi", 20, 10, imm=0)] \
        + syscall(SYS_EFFECT, unmapped, 8, DATA + 256, 64) \
        + [encode("addi", 21, 10, imm=0)] + syscall(93, 0)
    m = Machine(load_elf(make_elf(text, request, bss=4096)), effect_handler=handler)
    m.run(1000)
    assert m.exit_code == 0
    assert m.regs[20] == (-14) & 0xFFFFFFFF          # reply could not be written
    assert m.regs[21] == (-14) & 0xFFFFFFFF          # request could not be read
    assert calls == [{"op": "ping"}]                 # the unreadable one never reached the host
    assert m.effect_log == [(request, cbor({"ok": True}))]


# -- PMP CSRs: pmpcfg0-3 and pmpaddr0-15 are plain words; their neighbours are not CSRs --

@pytest.mark.parametrize("csr", [0x3A0, 0x3A3, 0x3B0, 0x3BF])
def test_pmp_csrs_hold_a_full_word(csr: int) -> None:
    text = li(5, 0xDEADBEEF) + [encode("csrrw", 0, 5, imm=csr), encode("csrrs", 20, 0, imm=csr)]
    m = Machine(load_elf(make_elf(text + syscall(93, 0))))
    m.run(100)
    assert m.exit_code == 0 and m.regs[20] == 0xDEADBEEF


@pytest.mark.parametrize("csr", [0x39F, 0x3A4, 0x3AF, 0x3C0])
def test_csrs_just_outside_the_pmp_ranges_are_illegal(csr: int) -> None:
    m = Machine(load_elf(make_elf([encode("csrrs", 20, 0, imm=csr)] + syscall(93, 0))))
    with pytest.raises(IllegalInstruction, match=f"CSR 0x{csr:03x} is not implemented"):
        m.run(100)
