"""The fast path (compiled blocks) against the interpreter: same state, traps and cycles."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor import (
    Breakpoint,
    CycleLimitExceeded,
    GuestError,
    MachineConfig,
    encode,
)
from stele.actors.coprocessor._jit import Jit
from stele.actors.coprocessor._witness import trace_reference

from ._rvgen import DATA, Case, case_from_bytes, cases


def final(case: Case, fast: bool, limit: int = 100_000,
          config: MachineConfig | None = None) -> tuple[bytes, str, int]:
    m = case.machine(config)
    err = ""
    try:
        (m.advance_fast if fast else m.advance)(limit)
    except GuestError as e:
        err = f"{type(e).__name__} {e}"
    return m.snapshot().to_cbor(), err, m.cycle


@settings(max_examples=400)
@given(st.binary(min_size=50, max_size=800), st.integers(1, 3))
def test_fast_path_matches_interpreter(data: bytes, threshold: int) -> None:
    case = case_from_bytes(data)
    config = MachineConfig(jit_threshold=threshold)
    assert final(case, True, config=config) == final(case, False)


@settings(max_examples=100)
@given(cases(loops=True), st.integers(0, 200))
def test_fast_path_stops_at_any_cycle_limit(case: Case, limit: int) -> None:
    """advance_fast(n) stops after exactly min(n, cycles to the end) cycles, like advance(n)."""
    config = MachineConfig(jit_threshold=1)
    assert final(case, True, limit, config) == final(case, False, limit)


@settings(max_examples=150)
@given(cases(loops=True), st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_fast_path_resumes_in_slices(case: Case, slices: list[int]) -> None:
    """Slices with a snapshot between them: compiled blocks hit copy-on-write pages."""
    a, b = case.machine(MachineConfig(jit_threshold=1)), case.machine()
    for n in slices:
        a.snapshot()
        try:
            got = a.advance_fast(n)
        except Breakpoint:
            got = -1
        try:
            want = b.advance(n)
        except Breakpoint:
            want = -1
        assert got == want
        assert a.snapshot().to_cbor() == b.snapshot().to_cbor()


def test_hot_loop_is_compiled_and_block_cache_invalidated_on_write() -> None:
    loop = [encode("addi", 5, 0, imm=50), encode("addi", 6, 6, imm=3),
            encode("addi", 5, 5, imm=-1), encode("bne", 0, 5, 0, imm=-8)]
    # then overwrite the loop body's first instruction (its page is compiled code)
    patch = [encode("lui", 7, imm=0x10000), encode("lui", 8, imm=0x0),
             encode("sw", 0, 7, 0, imm=4), encode("ebreak")]
    case = Case(loop + patch, [0] * 31, bytes(4096))
    m = case.machine()
    with pytest.raises(Breakpoint):
        m.advance_fast(10_000)
    jit = m._jit
    assert isinstance(jit, Jit)
    assert jit.compiled >= 1
    assert m.regs[6] == 150
    assert m.memory.peek(0x10004, 4) == 0        # the patched word
    assert not any(0x10000 <= pc < 0x11000 for pc in jit.blocks)   # invalidated


def test_block_exit_on_unallocated_page_and_snapshot_restore() -> None:
    """A compiled block whose stores hit a copy-on-write page after a snapshot."""
    body = [encode("lui", 5, imm=DATA), encode("addi", 6, 0, imm=20),
            encode("sw", 0, 5, 6), encode("addi", 5, 5, imm=4),
            encode("addi", 6, 6, imm=-1), encode("bne", 0, 6, 0, imm=-12), encode("ebreak")]
    case = Case(body, [0] * 31, bytes(4096))
    m = case.machine(MachineConfig(jit_threshold=1))
    m.advance_fast(30)
    snap = m.snapshot()
    before = bytes(snap.pages[DATA >> 12])
    with pytest.raises(Breakpoint):
        m.advance_fast(1000)
    assert bytes(snap.pages[DATA >> 12]) == before           # the snapshot kept its page
    end = m.snapshot().to_cbor()
    m.restore(snap)
    with pytest.raises(Breakpoint):
        m.advance_fast(1000)
    assert m.snapshot().to_cbor() == end


def test_superblock_across_pages_is_invalidated_by_a_write_to_either_page() -> None:
    """A jal into the next page extends a block; patching that page must drop the block."""
    patched = encode("addi", 7, 7, imm=100)
    code = [0x13] * 1100                       # nops: the code spans two pages
    code[0] = encode("addi", 9, 0, imm=3)      # loop counter
    code[1] = encode("jal", 0, imm=4 * (1030 - 1))           # into page 2
    code[1030] = encode("addi", 7, 7, imm=1)                  # the instruction we patch
    code[1031] = encode("addi", 9, 9, imm=-1)
    code[1032] = encode("beq", 0, 9, 0, imm=8)
    code[1033] = encode("jal", 0, imm=-4 * (1033 - 1))       # back to code[1]
    code[1034:1040] = [                                      # patch code[1030], loop again
        encode("lui", 5, imm=0x11000),
        encode("lui", 6, imm=(patched + 0x800) & 0xFFFFF000),
        encode("addi", 6, 6, imm=((patched & 0xFFF) ^ 0x800) - 0x800),
        encode("sw", 0, 5, 6, imm=4 * 1030 - 0x1000),
        encode("addi", 9, 0, imm=1),
        encode("jal", 0, imm=-4 * (1039 - 1)),
    ]
    interp = Case(code, [0] * 31, bytes(4096)).machine()
    fast = Case(code, [0] * 31, bytes(4096)).machine(MachineConfig(jit_threshold=1))
    for m, is_fast in ((interp, False), (fast, True)):
        with pytest.raises(CycleLimitExceeded):
            m.run(60, fast=is_fast)
    assert fast.snapshot().to_cbor() == interp.snapshot().to_cbor()
    assert fast.regs[7] == interp.regs[7] > 100         # the patched instruction ran


def _rotated_loop(words: int) -> Case:
    """A loop entered mid-body whose guard is reached by a backward ``jal``.

    The shape of the C start-up code's BSS clear: the block starting at the
    ``addi`` ends with the ``sw`` and falls through to its own start, so it is
    compiled as a loop block; its exit is the guard's forward branch.
    """
    body = [encode("lui", 5, imm=DATA), encode("addi", 6, 5, imm=4 * words),
            encode("jal", 0, imm=12),                 # enter at the body's addi
            encode("bgeu", 0, 5, 6, imm=16),          # guard: leave when done
            encode("sw", 0, 5, 5),
            encode("addi", 5, 5, imm=4),              # the loop block starts here
            encode("jal", 0, imm=-12),                # back to the guard
            encode("ebreak")]
    return Case(body, [0] * 31, bytes(4096))


@settings(max_examples=100)
@given(st.integers(1, 300), st.integers(0, 1300))
def test_loop_that_falls_through_to_its_start_stops_at_any_limit(words: int, limit: int) -> None:
    case = _rotated_loop(words)
    config = MachineConfig(jit_threshold=1)
    assert final(case, True, limit, config) == final(case, False, limit)
    m = case.machine(config)
    out: list[int] = []
    try:
        out = m.trace(limit).reshape(-1).tolist()
    except Breakpoint as e:
        out = e.rows.reshape(-1).tolist()
    ref = case.machine()
    want: list[int] = []
    try:
        while not ref.halted and ref.cycle < limit:
            want += trace_reference(ref, 1)
    except Breakpoint:
        pass
    assert out == want


def test_loop_that_falls_through_to_its_start_runs_in_one_block_call() -> None:
    m = _rotated_loop(500).machine(MachineConfig(jit_threshold=1))
    with pytest.raises(Breakpoint):
        m.advance_fast(10_000)
    jit = m._jit
    assert isinstance(jit, Jit)
    start = 0x10000 + 4 * 5
    fn, n, pcs, _base = jit.blocks[start]
    assert pcs[-1] + 4 == start                      # it ends by falling through to its start
    regs = [0] * 32
    regs[5], regs[6] = DATA, DATA + 4 * 100
    got = fn(regs, 1_000, None)
    assert got & 0xFFFFFFFF == 0x10000 + 4 * 7       # left through the guard, to the ebreak
    assert got >> 32 == 4 * 99 + 3                   # every iteration in this one call
    assert m.memory.peek(DATA + 4 * 99, 4) == DATA + 4 * 99


@pytest.mark.slow
@settings(max_examples=5000)
@given(st.binary(min_size=50, max_size=2000), st.integers(1, 3))
def test_fast_path_matches_interpreter_long(data: bytes, threshold: int) -> None:
    case = case_from_bytes(data)
    assert final(case, True, config=MachineConfig(jit_threshold=threshold)) == final(case, False)


def test_loop_closed_by_a_backward_branch_runs_in_one_block_call() -> None:
    """A block whose last branch goes back to its own start runs whole iterations per call."""
    loop = [encode("addi", 5, 0, imm=50), encode("addi", 6, 6, imm=3),   # the loop starts at +4
            encode("addi", 5, 5, imm=-1), encode("bne", 0, 5, 0, imm=-8), encode("ebreak")]
    m = Case(loop, [0] * 31, bytes(4096)).machine(MachineConfig(jit_threshold=1))
    with pytest.raises(Breakpoint):
        m.advance_fast(10_000)
    jit = m._jit
    assert isinstance(jit, Jit)
    fn, n, pcs, _base = jit.blocks[0x10004]
    assert n == 3 and pcs[-1] == 0x1000C            # addi, addi, bne (back to 0x10004)
    regs = [0] * 32
    regs[5] = 10
    got = fn(regs, 1_000, None)
    assert got & 0xFFFFFFFF == 0x10010              # fell out of the loop, to the ebreak
    assert got >> 32 == 3 * 10                      # all ten iterations in this one call
    assert regs[6] == 30 and regs[5] == 0
    regs[5], regs[6] = 10, 0
    got = fn(regs, 3 * 4 + 2, None)                 # a budget of 4 whole iterations (and a bit)
    assert (got & 0xFFFFFFFF, got >> 32) == (0x10004, 3 * 4)
    assert regs[6] == 12 and regs[5] == 6
