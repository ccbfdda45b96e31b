"""The RV32IM machine: decoding, M edge cases, CSRs and traps, syscalls, HTIF, limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor import (
    SYS_EFFECT,
    AccessFault,
    Breakpoint,
    CycleLimitExceeded,
    IllegalInstruction,
    Machine,
    MachineConfig,
    MemoryLimitExceeded,
    MisalignedAccess,
    UnknownSyscall,
    decode,
    encode,
    load_elf,
)
from stele.actors.coprocessor._isa import MNEMONICS
from stele.actors.coprocessor._ops import div, divu, rem, remu
from stele.protocol import encode as cbor

from ._elfgen import DATA, li, make_elf, syscall

M = 0xFFFFFFFF
INT_MIN = 0x80000000


def run(text: list[int], data: bytes = b"", *, fast: bool = False, limit: int = 10_000,
        **kw: object) -> Machine:
    m = Machine(load_elf(make_elf(text, data, bss=4096, **kw)))  # type: ignore[arg-type]
    m.run(limit, fast=fast)
    return m


def exit_with(reg: int) -> list[int]:
    return [encode("addi", 10, reg, imm=0)] + li(17, 93) + [encode("ecall")]


# -- decoding ----------------------------------------------------------------

@given(st.sampled_from(MNEMONICS), st.integers(0, 31), st.integers(0, 31), st.integers(0, 31),
       st.integers(-(1 << 20), (1 << 20) - 1))
def test_encode_decode_round_trip(op: str, rd: int, rs1: int, rs2: int, imm: int) -> None:
    word = encode(op, rd, rs1, rs2, imm & ~1)
    ins = decode(word)
    assert ins.op == op
    assert encode(ins.op, ins.rd, ins.rs1, ins.rs2, ins.imm) == word


@given(st.integers(0, M))
def test_decode_never_raises_and_is_stable(word: int) -> None:
    ins = decode(word)
    if ins.op != "illegal" and ins.op not in ("fence", "fence.i"):
        assert decode(encode(ins.op, ins.rd, ins.rs1, ins.rs2, ins.imm)) == ins


def test_compressed_and_unknown_words_are_illegal() -> None:
    for word in (0, M, 0x4501, 0x0000000B, 0x02001013, 0x40002033, 0x00002063):
        assert decode(word).op == "illegal", hex(word)


# -- the M extension's edge cases (RISC-V spec, table 7.1) ----------------------

def test_division_edge_cases() -> None:
    assert div(5, 0) == M and divu(5, 0) == M
    assert rem(5, 0) == 5 and remu(5, 0) == 5
    assert div(INT_MIN, M) == INT_MIN and rem(INT_MIN, M) == 0
    assert div((-7) & M, 2) == (-3) & M and rem((-7) & M, 2) == (-1) & M
    assert div(7, (-2) & M) == (-3) & M and rem(7, (-2) & M) == 1


@given(st.integers(-(1 << 31), (1 << 31) - 1), st.integers(-(1 << 31), (1 << 31) - 1))
def test_signed_division_truncates_toward_zero(a: int, b: int) -> None:
    if b == 0 or (a == -(1 << 31) and b == -1):
        return
    q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    assert div(a & M, b & M) == q & M
    assert rem(a & M, b & M) == (a - q * b) & M


def test_mul_high_variants_in_a_program() -> None:
    text = li(1, M) + li(2, M) + [
        encode("mulh", 3, 1, 2), encode("mulhu", 4, 1, 2), encode("mulhsu", 5, 1, 2),
        encode("mul", 6, 1, 2),
    ] + li(7, DATA) + [encode("sw", 0, 7, r, imm=4 * (r - 3)) for r in (3, 4, 5, 6)] \
        + syscall(93, 0)
    m = run(text)
    assert [m.memory.peek(DATA + 4 * i, 4) for i in range(4)] == [0, 0xFFFFFFFE, M, 1]


# -- CSRs and traps --------------------------------------------------------------

def test_machine_csrs_read_values() -> None:
    text = [encode("csrrs", 5, 0, imm=0x301), encode("csrrs", 6, 0, imm=0xF14),
            encode("csrrwi", 0, 21, imm=0x340), encode("csrrs", 7, 0, imm=0x340),
            encode("csrrci", 8, 1, imm=0x340), encode("csrrs", 9, 0, imm=0x340)] \
        + li(10, 0) + li(17, 93) + [encode("ecall")]
    m = run(text)
    r = m.regs
    assert r[5] == (1 << 30) | (1 << 8) | (1 << 12)      # misa: RV32 I M
    assert r[6] == 0                                     # mhartid
    assert r[7] == 21 and r[8] == 21 and r[9] == 20


def test_illegal_instruction_vectors_to_mtvec_and_mret_returns() -> None:
    handler = 0x10000 + 4 * 40
    text = li(5, handler) + [encode("csrrw", 0, 5, imm=0x305), 0xFFFFFFFF] \
        + syscall(93, 3)
    text += [0x13] * (40 - len(text))
    # handler: mepc += 4, a1 = mcause, a2 = mtval, a3 = mepc, mret
    text += [encode("csrrs", 11, 0, imm=0x342), encode("csrrs", 12, 0, imm=0x343),
             encode("csrrs", 13, 0, imm=0x341), encode("addi", 14, 13, imm=4),
             encode("csrrw", 0, 14, imm=0x341), encode("mret")]
    m = run(text)
    assert m.exit_code == 3
    assert m.regs[11] == 2 and m.regs[12] == M and m.regs[13] == 0x10000 + 12
    assert m.trap_count == 1


def test_ecall_traps_when_host_syscalls_are_off() -> None:
    handler = 0x10000 + 4 * 20
    text = li(5, handler) + [encode("csrrw", 0, 5, imm=0x305), encode("ecall")]
    text += [0x13] * (20 - len(text))
    text += [encode("csrrs", 11, 0, imm=0x342)] + li(6, DATA + 64) + li(7, 1) \
        + [encode("sw", 0, 6, 7)]
    m = Machine(load_elf(make_elf(text, bytes(128), symbols={"tohost": DATA + 64})),
                config=MachineConfig(host_syscalls=False))
    m.run(100)
    assert m.regs[11] == 11 and m.halt_reason == "tohost" and m.exit_code == 0


def test_unimplemented_and_read_only_csrs_are_illegal() -> None:
    with pytest.raises(IllegalInstruction, match="CSR 0x7c0"):
        run([encode("csrrs", 5, 0, imm=0x7C0)])
    with pytest.raises(IllegalInstruction, match="read-only"):
        run([encode("csrrw", 0, 5, imm=0xF14)])


# -- bad programs get clear errors --------------------------------------------------

def test_illegal_instruction_error() -> None:
    with pytest.raises(IllegalInstruction) as info:
        run([0x13, 0x0000000B])
    assert info.value.pc == 0x10004 and info.value.cycle == 1


@pytest.mark.parametrize("fast", [False, True])
def test_jump_into_unmapped_memory(fast: bool) -> None:
    with pytest.raises(AccessFault, match="instruction access fault") as info:
        run(li(5, 0x5000_0000) + [encode("jalr", 0, 5)], fast=fast)
    assert info.value.pc == 0x5000_0000 and info.value.cycle == 3


@pytest.mark.parametrize("fast", [False, True])
def test_misaligned_load_and_jump(fast: bool) -> None:
    with pytest.raises(MisalignedAccess, match="load address misaligned"):
        run(li(5, DATA + 2) + [encode("lw", 6, 5)], fast=fast)
    with pytest.raises(MisalignedAccess, match="store address misaligned"):
        run(li(5, DATA + 1) + [encode("sh", 0, 5, 6)], fast=fast)
    with pytest.raises(MisalignedAccess, match="instruction address misaligned"):
        run([encode("jal", 0, imm=6)], fast=fast)


@pytest.mark.parametrize("fast", [False, True])
def test_load_from_unmapped_memory(fast: bool) -> None:
    with pytest.raises(AccessFault, match="load access fault"):
        run(li(5, 0x4000_0000) + [encode("lw", 6, 5)], fast=fast)


def test_ebreak_without_handler() -> None:
    with pytest.raises(Breakpoint):
        run([encode("ebreak")])


@pytest.mark.parametrize("fast", [False, True])
def test_memory_limit(fast: bool) -> None:
    # touch one stack page after another until the 64 KiB limit is passed
    text = li(5, 0x7FFF0000 - 4) + [encode("sw", 0, 5, 0), encode("lui", 6, imm=0x1000),
                                     encode("sub", 5, 5, 6), encode("jal", 0, imm=-12)]
    m = Machine(load_elf(make_elf(text)), config=MachineConfig(memory_limit=64 << 10))
    with pytest.raises(MemoryLimitExceeded, match="memory_limit=65536") as info:
        m.run(10_000, fast=fast)
    assert info.value.pc == m.pc == 0x10008 and info.value.cycle == m.cycle


def test_program_larger_than_the_memory_limit() -> None:
    with pytest.raises(MemoryLimitExceeded, match="segments"):
        Machine(load_elf(make_elf([0x13], bss=1 << 20)), config=MachineConfig(memory_limit=1 << 16))


@pytest.mark.parametrize("fast", [False, True])
def test_infinite_loop_hits_the_exact_cycle_limit(fast: bool) -> None:
    m = Machine(load_elf(make_elf([encode("jal", 0, imm=0)])))
    with pytest.raises(CycleLimitExceeded, match="max_cycles=12345") as info:
        m.run(12345, fast=fast)
    assert info.value.cycle == 12345 == m.cycle


@pytest.mark.parametrize("fast", [False, True])
@given(n=st.integers(0, 40))
@settings(max_examples=20)
def test_cycle_limit_is_exact(fast: bool, n: int) -> None:
    """A guest that halts on cycle C succeeds with limit C and fails with C - 1."""
    loop = [encode("addi", 5, 0, imm=n), encode("beq", 0, 5, 0, imm=12),
            encode("addi", 5, 5, imm=-1), encode("jal", 0, imm=-8)]
    text = loop + syscall(93, 0)
    cycles = Machine(load_elf(make_elf(text))).run(10_000, fast=False).cycles
    assert cycles == 1 + 3 * n + 1 + 5
    assert Machine(load_elf(make_elf(text))).run(cycles, fast=fast).cycles == cycles
    with pytest.raises(CycleLimitExceeded):
        Machine(load_elf(make_elf(text))).run(cycles - 1, fast=fast)


# -- syscalls ----------------------------------------------------------------------------

def test_read_write_and_exit() -> None:
    text = syscall(63, 0, DATA, 100) + [encode("addi", 20, 10, imm=0)] \
        + li(10, 1) + li(11, DATA) + [encode("addi", 12, 20, imm=0)] + li(17, 64) \
        + [encode("ecall")] + li(10, 3) + li(11, DATA) + li(12, 2) + li(17, 64) \
        + [encode("ecall")] + syscall(63, 0, DATA, 100) + exit_with(10)
    m = Machine(load_elf(make_elf(text, bss=4096)), input=b"hello world")
    res = m.run(1000)
    assert res.stdout == b"hello world" and res.public_output == b"he"
    assert res.exit_code == 0 and res.halt_reason == "exit"       # second read: EOF


def test_bad_fd_and_bad_buffer() -> None:
    text = syscall(64, 7, DATA, 1) + [encode("addi", 20, 10, imm=0)] \
        + syscall(64, 1, 0x6000_0000, 4) + [encode("addi", 21, 10, imm=0)] + syscall(93, 0)
    m = run(text)
    assert m.regs[20] == (-9) & M and m.regs[21] == (-14) & M


def test_exit_status_is_signed() -> None:
    assert run(syscall(93, (-3) & M)).exit_code == -3


def test_unknown_syscall() -> None:
    with pytest.raises(UnknownSyscall, match="a7=999"):
        run(syscall(999))


def test_brk_grows_the_heap() -> None:
    text = syscall(214, 0) + [encode("addi", 20, 10, imm=0), encode("lui", 6, imm=0x3000),
                              encode("add", 11, 20, 6), encode("addi", 10, 11, imm=0)] \
        + li(17, 214) + [encode("ecall"), encode("addi", 21, 10, imm=0),
                         encode("sw", 0, 20, 6, imm=8), encode("lw", 22, 20, imm=8)] \
        + li(10, 0xF000_0000) + li(17, 214) + [encode("ecall"), encode("addi", 23, 10, imm=0)] \
        + syscall(93, 0)
    m = run(text)
    start = m.regs[20]
    assert start == DATA + 4096
    assert m.regs[21] == start + 0x3000 and m.regs[22] == 0x3000
    assert m.regs[23] == start + 0x3000                     # refused: old break


def test_heap_is_unmapped_above_the_break() -> None:
    text = syscall(214, 0) + [encode("sw", 0, 10, 0, imm=0x100)]
    with pytest.raises(AccessFault, match="store access fault"):
        run(text)


def test_effect_call_round_trips_cbor() -> None:
    request = cbor({"op": "add", "args": [2, 3]})
    seen: list[object] = []

    def handler(req: object) -> object:
        seen.append(req)
        assert isinstance(req, dict)
        return {"sum": sum(req["args"])}

    text = syscall(SYS_EFFECT, DATA, len(request), DATA + 256, 64) \
        + [encode("addi", 20, 10, imm=0)] \
        + syscall(SYS_EFFECT, DATA, len(request), DATA + 512, 1) \
        + [encode("addi", 21, 10, imm=0)] + syscall(93, 0)
    m = Machine(load_elf(make_elf(text, request, bss=4096)), effect_handler=handler)
    m.run(1000)
    reply = cbor({"sum": 5})
    assert seen == [{"op": "add", "args": [2, 3]}] * 2
    assert m.regs[20] == len(reply) == m.regs[21]
    assert m.memory.read_bytes(DATA + 256, len(reply)) == reply
    assert m.memory.read_bytes(DATA + 512, len(reply)) == bytes(len(reply))   # did not fit
    assert m.effect_log == [(request, reply)] * 2


def test_effect_call_without_handler_or_with_bad_cbor() -> None:
    text = syscall(SYS_EFFECT, DATA, 4, DATA + 64, 64) + [encode("addi", 20, 10, imm=0)]
    m = run(text + syscall(93, 0), b"\xa1\x01")
    assert m.regs[20] == (-38) & M
    m = Machine(load_elf(make_elf(text + syscall(93, 0), b"\xff\xff\xff\xff")),
                effect_handler=lambda r: r)
    m.run(1000)
    assert m.regs[20] == (-22) & M


# -- HTIF and signatures ------------------------------------------------------------------

@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("value,code", [(1, 0), (11, 5), (0x201, 0x100)])
def test_tohost_stops_the_run(fast: bool, value: int, code: int) -> None:
    text = li(5, DATA + 64) + [encode("sw", 0, 5, 0)] + li(6, value) \
        + [encode("sw", 0, 5, 6), encode("jal", 0, imm=0)]
    m = Machine(load_elf(make_elf(text, bytes(128), symbols={"tohost": DATA + 64})))
    res = m.run(100, fast=fast)
    assert res.exit_code == code and res.halt_reason == "tohost" and res.cycles == len(text) - 1


def test_signature_dump() -> None:
    data = bytes(range(16)) + b"\xff" * 16
    m = run(syscall(93, 0), data, symbols={"begin_signature": DATA, "end_signature": DATA + 16})
    assert m.signature_text() == "03020100\n07060504\n0b0a0908\n0f0e0d0c\n"


# -- self-modifying code ---------------------------------------------------------------------

@pytest.mark.parametrize("fast", [False, True])
def test_self_modifying_code_is_seen(fast: bool) -> None:
    """Overwrite an instruction that already ran (and was compiled) and run it again."""
    patch = encode("addi", 7, 7, imm=100)
    body = [encode("addi", 7, 7, imm=1)]                 # the instruction patched below
    text = [encode("addi", 8, 0, imm=3)]                  # loop counter
    loop_at = len(text)
    text += body + [encode("addi", 8, 8, imm=-1), encode("bne", 0, 8, 0, imm=-8)]
    text += li(5, 0x10000 + 4 * loop_at) + li(6, patch) + [encode("sw", 0, 5, 6)]
    text += [encode("addi", 8, 0, imm=2), encode("jal", 0, imm=-4 * (len(text) + 1 - loop_at))]
    # 3 passes with +1, patch, 2 passes with +100, then one more instruction
    m = Machine(load_elf(make_elf(text)))
    with pytest.raises(CycleLimitExceeded):
        m.run(3 + 4 * 3 + 6 + 2 + 2 * 3 + 1, fast=fast)
    assert m.regs[7] == 3 + 200


def test_memory_limit_in_a_syscall_names_the_ecall() -> None:
    text = syscall(63, 0, 0x7FFF0000 - 64, 32)          # read into the (unallocated) stack
    m = Machine(load_elf(make_elf(text)), input=b"x" * 32,
                config=MachineConfig(memory_limit=4096))
    with pytest.raises(MemoryLimitExceeded, match="memory_limit=4096") as info:
        m.run(100)
    assert info.value.pc == m.pc == 0x10000 + 4 * (len(text) - 1)
