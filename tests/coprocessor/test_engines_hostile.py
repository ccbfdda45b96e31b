"""Hostile guests: every engine stops at exactly the interpreter's cycle and state.

Programs that never end by themselves -- a one-instruction spin, a loop that
rewrites its own next instruction every pass, a loop of ``ecall``s (each one a
return from the compiled loop to Python), a walk that maps a fresh page every
step until the memory limit -- run under a cycle budget (the fuel a caller's
deadline is checked on), whole and in odd slices, with and without the
witness.  The final state (snapshot CBOR), the error and the witness rows must
equal the reference interpreter's bit for bit at every budget, so the native
loop can neither overrun nor undershoot a limit.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor import (
    Machine,
    MachineConfig,
    MemoryLimitExceeded,
    Program,
    encode,
    load_elf,
)

from ._elfgen import DATA, TEXT, li, make_elf, syscall
from .test_engines import FAST, final, traced


def _spin() -> bytes:
    return make_elf([encode("addi", 5, 5, imm=1), encode("jal", 0, imm=-4)])


def _self_patching() -> bytes:
    # each pass stores a new "addi x10, x10, k" over the instruction it runs next
    text = li(6, TEXT + 4 * 8) + li(7, encode("addi", 10, 10, imm=1))
    text += [encode("addi", 7, 7, imm=1 << 20)]             # k += 1 in the imm field
    text += [encode("sw", 0, 6, 7), encode("addi", 0, 0, imm=0)]
    text += [0x13] * (8 - len(text))
    text += [encode("addi", 10, 10, imm=1), encode("jal", 0, imm=-4 * 5)]
    return make_elf(text)


def _ecall_loop() -> bytes:
    # write(1, DATA, 0) forever: a SYSTEM instruction (a return to Python) every 4 cycles
    body = li(10, 1) + li(11, DATA) + [encode("addi", 12, 0, imm=0), encode("addi", 17, 0, imm=64),
                                       encode("ecall")]
    return make_elf(body + [encode("jal", 0, imm=-4 * len(body))], b"\0" * 16)


def _page_walk() -> bytes:
    # brk to the memory limit, then store to a new page every 4 cycles: the last page passes it
    heap = 0x11000
    text = syscall(214, heap + 40 * 4096) + li(6, heap)
    text += [encode("sw", 0, 6, 6), encode("lui", 8, imm=0x1000), encode("add", 6, 6, 8),
             encode("jal", 0, imm=-12)]
    return make_elf(text + [0] * (1024 - len(text)))


HOSTILE = {"spin": _spin, "self_patching": _self_patching, "ecall_loop": _ecall_loop,
           "page_walk": _page_walk}
CONFIG = MachineConfig(memory_limit=40 * 4096)
LIMITS = [0, 1, 3, 4, 7, 65, 999, 65_537]


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("limit", LIMITS)
def test_budget_stops_every_engine_at_the_same_point(engine: str, name: str, limit: int) -> None:
    prog = load_elf(HOSTILE[name]())
    want = final(Machine(prog, config=CONFIG), "interp", limit)
    got = final(Machine(prog, config=CONFIG), engine, limit)
    assert got == want
    if not want[1]:
        assert want[2] == limit                # it ran the whole budget, not one more
    if limit <= 4096:
        assert _traced(prog, engine, limit) == _traced(prog, "interp", limit)


def _traced(prog: Program, engine: str, limit: int) -> tuple[object, ...]:
    """``traced`` plus the memory limit (not a GuestError, so it carries no rows)."""
    m = Machine(prog, config=CONFIG)
    try:
        return traced(m, engine, limit)
    except MemoryLimitExceeded as e:
        return m.snapshot().to_cbor(), f"{e} {e.pc} {e.cycle}"


def test_page_walk_reaches_the_memory_limit() -> None:
    """The page walk is a real attack on the limit: it ends in MemoryLimitExceeded."""
    prog = load_elf(_page_walk())
    assert "MemoryLimitExceeded" in final(Machine(prog, config=CONFIG), "interp", 65_537)[1]


@pytest.mark.parametrize("engine", FAST)
@settings(max_examples=15, deadline=None)
@given(name=st.sampled_from(sorted(HOSTILE)),
       slices=st.lists(st.integers(0, 300), min_size=1, max_size=12))
def test_odd_slices_sum_to_the_same_state(engine: str, name: str, slices: list[int]) -> None:
    """Budgets given piecewise (a deadline checked between slices) change nothing."""
    prog = load_elf(HOSTILE[name]())
    m = Machine(prog, config=CONFIG)
    got = None
    for n in slices:
        got = final(m, engine, n)
        if got[1]:
            break
    ref = Machine(prog, config=CONFIG)
    want = final(ref, "interp", m.cycle)
    assert got is not None and got[0] == want[0] and got[2] == want[2]
