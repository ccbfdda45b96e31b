"""One semantics, several engines: every engine against the reference interpreter.

Each test runs the same program on ``interp`` (the specification), ``jit``
and ``native`` (skipped cleanly when numba, the ``fast`` extra, is missing)
and compares the full final state (the snapshot's canonical CBOR: registers,
pc, cycle, CSRs, pages, I/O), the error (type, message, pc, cycle) and the
witness rows bit for bit.  Programs: the random instruction streams of the
existing generators, every guest in ``examples/guests``, trap handlers,
cycle-limit edges and the memory limit.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor import (
    GUESTS,
    CoprocessorError,
    CycleLimitExceeded,
    GuestError,
    Machine,
    MachineConfig,
    MemoryLimitExceeded,
    encode,
    guest_elf,
    guest_input,
    load_elf,
    load_raw,
)
from stele.actors.coprocessor._machine import ENGINES, default_engine

from ._elfgen import DATA, TEXT, li, make_elf, syscall
from ._randprog import programs
from ._rvgen import Case, case_from_bytes, cases

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the fast extra) not installed")
FAST = [pytest.param("jit"), pytest.param("native", marks=needs_numba)]


def final(m: Machine, engine: str, n: int) -> tuple[bytes, str, int]:
    err = ""
    try:
        m.advance_with(engine, n)
    except CoprocessorError as e:
        err = f"{type(e).__name__} {e} {getattr(e, 'pc', None)} {getattr(e, 'cycle', None)}"
    return m.snapshot().to_cbor(), err, m.cycle


def traced(m: Machine, engine: str, n: int) -> tuple[bytes, str, bytes]:
    err = ""
    try:
        rows = m.trace_with(engine, n)
    except GuestError as e:
        err = f"{type(e).__name__} {e} {e.pc} {e.cycle}"
        rows = e.rows  # type: ignore[assignment]
    assert isinstance(rows, np.ndarray)
    return m.snapshot().to_cbor(), err, rows.astype(np.uint32).tobytes()


def test_engine_names_and_default() -> None:
    assert ENGINES == ("interp", "jit", "native")
    assert default_engine() == ("native" if HAVE_NUMBA else "jit")
    m = Machine(load_elf(make_elf(syscall(93, 0))))
    with pytest.raises(CoprocessorError, match="unknown engine 'fastest'"):
        m.advance_with("fastest", 10)


@pytest.mark.skipif(HAVE_NUMBA, reason="numba is installed")
def test_native_without_numba_is_a_typed_error() -> None:
    from stele.actors.coprocessor._native import NativeUnavailable

    m = Machine(load_elf(make_elf(syscall(93, 0))))
    with pytest.raises(NativeUnavailable, match="fast"):
        m.advance_with("native", 10)


@pytest.mark.parametrize("engine", FAST)
@settings(max_examples=150, deadline=None)
@given(data=st.binary(min_size=50, max_size=800), limit=st.integers(0, 3000))
def test_random_streams_match_the_interpreter(engine: str, data: bytes, limit: int) -> None:
    case = case_from_bytes(data)
    assert final(case.machine(), engine, limit) == final(case.machine(), "interp", limit)


@pytest.mark.parametrize("engine", FAST)
@settings(max_examples=60, deadline=None)
@given(case=cases(loops=True), limit=st.integers(0, 400))
def test_witness_matches_the_reference_bit_for_bit(engine: str, case: Case, limit: int) -> None:
    assert traced(case.machine(), engine, limit) == traced(case.machine(), "interp", limit)


@pytest.mark.parametrize("engine", FAST)
@settings(max_examples=40, deadline=None)
@given(image=programs(), slices=st.lists(st.integers(1, 300), min_size=1, max_size=6))
def test_slices_with_snapshots_between_them(engine: str, image: bytes,
                                            slices: list[int]) -> None:
    """Chunked runs with copy-on-write snapshots and restores between the chunks."""
    a, b = Machine(load_raw(image)), Machine(load_raw(image))
    for k, n in enumerate(slices):
        snap = a.snapshot()
        if k % 2:
            a.restore(snap)
            b.restore(b.snapshot())
        ra = traced(a, engine, n)
        rb = traced(b, "interp", n)
        assert ra == rb


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("guest", sorted(GUESTS))
def test_every_example_guest(engine: str, guest: str) -> None:
    sizes = {"sha256": 3000, "sort": 300, "matmul": 6, "bf": 3}
    prog = load_elf(guest_elf(guest).read_bytes())
    inp = guest_input(guest, sizes[guest])
    a, b = Machine(prog, input=inp), Machine(prog, input=inp)
    ra, rb = a.run(10**8, engine=engine), b.run(10**8, engine="jit")
    assert ra == rb and ra.exit_code == 0
    assert a.snapshot().to_cbor() == b.snapshot().to_cbor()
    # the witness of a prefix, and of a window in the middle, bit for bit
    c, d = Machine(prog, input=inp), Machine(prog, input=inp)
    mid = ra.cycles // 2
    c.advance_with(engine, mid)
    d.advance(mid)
    assert traced(c, engine, 2000) == traced(d, "interp", 2000)


def _handler_program() -> bytes:
    """Illegal instruction, misaligned load, unmapped store and ebreak, each handled."""
    handler = TEXT + 4 * 64
    text = li(5, handler) + [encode("csrrw", 0, 5, imm=0x305)]
    text += [0xFFFFFFFF] + li(6, DATA + 2) + [encode("lw", 7, 6, imm=0)]
    text += li(6, 0x50000010) + [encode("sw", 0, 6, 6, imm=4), encode("ebreak")]
    text += [encode("csrrs", 20, 0, imm=0xB00)] + syscall(93, 7)
    text += [0x13] * (64 - len(text))
    # handler: accumulate mcause and mtval, mepc += 4, mret
    text += [encode("csrrs", 11, 0, imm=0x342), encode("csrrs", 12, 0, imm=0x343),
             encode("add", 21, 21, 11), encode("xor", 22, 22, 12),
             encode("csrrs", 13, 0, imm=0x341), encode("addi", 13, 13, imm=4),
             encode("csrrw", 0, 13, imm=0x341), encode("mret")]
    return make_elf(text, bytes(64), bss=4096)


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("limit", [0, 1, 5, 9, 10, 11, 40, 60, 10_000])
def test_traps_and_cycle_limit_edges(engine: str, limit: int) -> None:
    prog = load_elf(_handler_program())
    assert traced(Machine(prog), engine, limit) == traced(Machine(prog), "interp", limit)
    assert final(Machine(prog), engine, limit) == final(Machine(prog), "interp", limit)


@pytest.mark.parametrize("engine", FAST)
def test_cycle_limit_is_exact_through_run(engine: str) -> None:
    prog = load_elf(_handler_program())
    total = Machine(prog).run(10_000, engine="interp").cycles
    assert Machine(prog).run(total, engine=engine).cycles == total
    with pytest.raises(CycleLimitExceeded) as info:
        Machine(prog).run(total - 1, engine=engine)
    assert info.value.cycle == total - 1


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("pages", [3, 4, 5, 8])
def test_memory_limit_edge(engine: str, pages: int) -> None:
    """A store walk over fresh heap pages stops with MemoryLimitExceeded at the same cycle."""
    heap = 0x11000                     # the break starts at the end of the one text page
    text = syscall(214, heap + pages * 4096) + li(6, heap) + li(7, 64)
    text += [encode("sw", 0, 6, 7), encode("lui", 8, imm=0x1000), encode("add", 6, 6, 8),
             encode("addi", 7, 7, imm=-1), encode("bne", 0, 7, 0, imm=-16)] + syscall(93, 0)
    prog = load_elf(make_elf(text + [0] * (1024 - len(text)), b"", bss=0))
    assert prog.end == heap
    config = MachineConfig(memory_limit=pages * 4096)
    got = final(Machine(prog, config=config), engine, 10_000)
    want = final(Machine(prog, config=config), "interp", 10_000)
    assert got == want
    assert "MemoryLimitExceeded" in got[1]
    with pytest.raises(MemoryLimitExceeded):
        Machine(prog, config=config).run(10_000, engine=engine)


@pytest.mark.parametrize("engine", FAST)
def test_self_modifying_code_and_tohost(engine: str) -> None:
    """A store into code that already ran is seen by every engine; tohost halts."""
    patch = encode("addi", 10, 0, imm=42)
    text = li(5, patch) + li(6, TEXT + 4 * 12) + [encode("jal", 1, imm=4 * 3)]
    text += [0x13] * (12 - len(text))
    # TEXT + 4*12: overwritten after the first pass
    text += [encode("addi", 10, 0, imm=1), encode("sw", 0, 6, 5), encode("addi", 9, 9, imm=1),
             encode("addi", 11, 0, imm=2), encode("blt", 0, 9, 11, imm=-16)]
    text += li(6, DATA + 64) + [encode("slli", 10, 10, imm=1), encode("ori", 10, 10, imm=1),
                                encode("sw", 0, 6, 10)]
    elf = make_elf(text, bytes(128), symbols={"tohost": DATA + 64})
    a, b = Machine(load_elf(elf)), Machine(load_elf(elf))
    assert final(a, engine, 1000) == final(b, "interp", 1000)
    assert a.halt_reason == "tohost" and a.exit_code == 42


@pytest.mark.parametrize("engine", [pytest.param("interp"), *FAST])
def test_run_chunks_yields_between_bounded_pieces(engine: str) -> None:
    prog = load_elf(_handler_program())
    total = Machine(prog).run(10_000, engine="interp").cycles
    m = Machine(prog)
    seen = list(m.run_chunks(10_000, chunk=7, engine=engine))
    assert seen[-1] == total and m.halted
    assert all(b - a <= 7 for a, b in zip([0, *seen], seen))
    m = Machine(prog)
    for cycle in m.run_chunks(10_000, chunk=3, engine=engine):
        if cycle >= 9:
            break                    # the caller's deadline check stops the run
    assert m.cycle == 9 and not m.halted
