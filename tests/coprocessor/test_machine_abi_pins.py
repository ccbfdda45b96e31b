"""ABI and accounting pins for the reference interpreter found unpinned by
mutation testing (issue 19).

The effect ecall number is the documented ABI value 0x5E1E (guests hard-code
it, see docs/coprocessor.md); ``mip`` is read-only zero; ``mcycle``/``minstret``
and their user aliases read the cycle count (high words: bits 32..63); the
default memory limit is the documented 64 MiB; ``result()`` before a halt
reports exit code -1; a trap taken on an already-decoded instruction costs
exactly one cycle, as on the first execution; and an internal ``KeyError``
raised *by* a decoded instruction surfaces instead of being mistaken for a
missing decode (which would execute the instruction a second time).
"""

from __future__ import annotations

import pytest

from stele.actors.coprocessor import SYS_EFFECT, Machine, MachineConfig, encode, load_elf
from stele.protocol import encode as cbor

from ._elfgen import DATA, li, make_elf, syscall

NOP = 0x13


def test_the_effect_ecall_number_is_the_documented_0x5e1e() -> None:
    request = cbor(["Log", "info", ["hi"]])
    seen: list[object] = []

    def handler(req: object) -> object:
        seen.append(req)
        return 7

    # the number is written literally, as a guest's C header does
    text = syscall(0x5E1E, DATA, len(request), DATA + 256, 64) \
        + [encode("addi", 20, 10, imm=0)] + syscall(93, 0)
    m = Machine(load_elf(make_elf(text, request, bss=4096)), effect_handler=handler)
    m.run(1000)
    assert m.exit_code == 0
    assert seen == [["Log", "info", ["hi"]]]
    assert m.regs[20] == len(cbor(7))
    assert SYS_EFFECT == 0x5E1E


@pytest.mark.parametrize("fast", [False, True])
def test_mip_is_read_only_zero(fast: bool) -> None:
    text = li(5, 0xFFFFFFFF) + [encode("csrrw", 0, 5, imm=0x344),
                                encode("csrrs", 0, 5, imm=0x344),
                                encode("csrrs", 20, 0, imm=0x344)]
    m = Machine(load_elf(make_elf(text + syscall(93, 0))))
    m.run(100, fast=fast)
    assert m.exit_code == 0 and m.regs[20] == 0


@pytest.mark.parametrize("fast", [False, True])
def test_cycle_counters_read_the_cycle_count(fast: bool) -> None:
    # five nops, then read mcycle, minstret, cycle, instret (low words) and
    # their high words: the n-th instruction (0-based) sees n cycles done
    csrs = [0xB00, 0xB02, 0xC00, 0xC02, 0xB80, 0xB82, 0xC80, 0xC82]
    text = [NOP] * 5 + [encode("csrrs", 20 + i, 0, imm=c) for i, c in enumerate(csrs)]
    m = Machine(load_elf(make_elf(text + syscall(93, 0))))
    m.run(1000, fast=fast)
    assert m.exit_code == 0
    assert [m.regs[20 + i] for i in range(4)] == [5, 6, 7, 8]
    assert [m.regs[24 + i] for i in range(4)] == [0, 0, 0, 0]


def test_the_default_memory_limit_is_the_documented_64_mib() -> None:
    assert MachineConfig().memory_limit == 64 * 1024 * 1024


def test_result_before_the_guest_halts_reports_exit_code_minus_one() -> None:
    m = Machine(load_elf(make_elf([NOP, NOP] + syscall(93, 5))))
    assert m.result().exit_code == -1
    m.step()
    assert not m.halted and m.result().exit_code == -1 and m.result().cycles == 1
    m.run(100)
    assert m.result().exit_code == 5


def _trap_loop(times: int) -> bytes:
    """Execute a load from an unmapped address ``times`` times; the handler
    skips it.  The load decodes fine, so from the second time on it traps
    from the decoded-instruction cache."""
    handler = 0x10000 + 4 * 32
    text = li(5, handler) + [encode("csrrw", 0, 5, imm=0x305)] + li(6, times) + li(9, 0x50000000)
    loop = len(text)
    text += [encode("lw", 7, 9, imm=0), encode("addi", 6, 6, imm=-1)]
    text += [encode("bne", 0, 6, 0, imm=(loop - len(text)) * 4)]
    text += syscall(93, 0)
    text += [NOP] * (32 - len(text))
    text += [encode("csrrs", 13, 0, imm=0x341), encode("addi", 13, 13, imm=4),
             encode("csrrw", 0, 13, imm=0x341), encode("mret")]
    return make_elf(text, b"", bss=4096)


def test_a_trap_on_an_already_decoded_instruction_costs_one_cycle() -> None:
    # each iteration: faulting load (1) + 4 handler instructions + addi + bne
    # = 7 cycles, whether the load is being decoded or was cached
    one = Machine(load_elf(_trap_loop(1)))
    one.run(10_000, fast=False)
    four = Machine(load_elf(_trap_loop(4)))
    four.run(10_000, fast=False)
    assert one.exit_code == four.exit_code == 0
    assert four.trap_count == 4
    assert four.cycle - one.cycle == 3 * 7
    jit = Machine(load_elf(_trap_loop(4)))
    jit.run(10_000, fast=True)
    assert jit.cycle == four.cycle


def test_a_keyerror_raised_by_a_decoded_instruction_is_not_retried() -> None:
    m = Machine(load_elf(make_elf([NOP, NOP] + syscall(93, 0))))
    m.step()                          # decodes the first nop: the cache is in use
    calls: list[int] = []

    def broken() -> int:
        calls.append(m.pc)
        raise KeyError("internal")

    m._ops[m.pc] = broken
    with pytest.raises(KeyError, match="internal"):
        m.advance(10)
    assert len(calls) == 1            # not re-run through the decoder
