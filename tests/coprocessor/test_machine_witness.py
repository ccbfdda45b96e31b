"""The witness: column table, interleaving, and compiled witness blocks vs the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from stele.actors.coprocessor import (
    COLUMNS,
    K,
    Breakpoint,
    GuestError,
    MachineConfig,
    deinterleave,
    encode,
    flat_index,
    interleave,
)
from stele.actors.coprocessor._witness import trace_reference

from ._rvgen import DATA, Case, case_from_bytes, cases


def col(name: str) -> int:
    return COLUMNS.index(name)


def test_column_table() -> None:
    assert K == len(COLUMNS) == 14
    assert COLUMNS[:3] == ("pc", "next_pc", "instr")


@given(hnp.arrays(np.uint32, st.tuples(st.just(K), st.integers(0, 50))))
def test_interleave_round_trip(columns: np.ndarray) -> None:  # type: ignore[type-arg]
    vec = interleave(columns)
    assert vec.shape == (columns.size,)
    assert np.array_equal(deinterleave(vec), columns)
    for t in range(columns.shape[1]):
        for c in range(K):
            assert vec[flat_index(t, c)] == columns[c, t]


def test_deinterleave_rejects_a_ragged_vector() -> None:
    with pytest.raises(ValueError, match="multiple of k=14"):
        deinterleave(np.zeros(15, dtype=np.uint32))


def reference(case: Case, n: int, config: MachineConfig | None = None) -> tuple[list[int], str]:
    m = case.machine(config)
    out: list[int] = []
    err = ""
    try:
        while not m.halted and m.cycle < n:
            out += trace_reference(m, 1)
    except GuestError as e:
        err = type(e).__name__
    return out, err


def compiled(case: Case, n: int, chunks: int, threshold: int) -> tuple[list[int], str]:
    m = case.machine(MachineConfig(jit_threshold=threshold))
    out: list[int] = []
    err = ""
    try:
        while not m.halted and m.cycle < n:
            out += m.trace(min(chunks, n - m.cycle)).reshape(-1).tolist()
    except GuestError as e:
        err = type(e).__name__
        assert isinstance(e.rows, np.ndarray)
        out += e.rows.reshape(-1).tolist()
    return out, err


@settings(max_examples=300)
@given(st.binary(min_size=50, max_size=600), st.integers(1, 50), st.integers(1, 3))
def test_compiled_witness_equals_reference(data: bytes, chunk: int, threshold: int) -> None:
    case = case_from_bytes(data)
    want, err = reference(case, 10_000)
    assert err == "Breakpoint"
    got, err2 = compiled(case, 10_000, chunk, threshold)
    # the compiled trace stops at the same ebreak; rows before it are identical
    assert err2 == "Breakpoint"
    assert got == want


@settings(max_examples=50)
@given(cases(loops=True), st.integers(0, 120))
def test_trace_respects_the_cycle_budget(case: Case, n: int) -> None:
    m = case.machine(MachineConfig(jit_threshold=1))
    try:
        rows = m.trace(n)
    except Breakpoint:
        return
    assert rows.shape == (n, K) and m.cycle == n
    want, _ = reference(case, n)
    assert rows.reshape(-1).tolist() == want


def test_rows_of_a_store_a_load_and_a_branch() -> None:
    code = [encode("lui", 5, imm=DATA), encode("addi", 6, 0, imm=-2),
            encode("sh", 0, 5, 6, imm=6), encode("lh", 7, 5, imm=6),
            encode("beq", 0, 7, 6, imm=8), 0x13, encode("ebreak")]
    data = bytes(range(64)) * 64
    m = Case(code, [0] * 31, data).machine()
    rows = m.trace(5)
    st_row, ld_row, br_row = rows[2], rows[3], rows[4]
    assert st_row[col("mem_addr")] == DATA + 6
    assert st_row[col("mem_write")] == 0xFFFE and st_row[col("mem_prev")] == 0x0706
    assert st_row[col("rs2_val")] == 0xFFFFFFFE and st_row[col("rd")] == 0
    assert ld_row[col("mem_read")] == 0xFFFE and ld_row[col("rd_val")] == 0xFFFFFFFE
    assert ld_row[col("imm")] == 6 and ld_row[col("rs1")] == 5 and ld_row[col("rs2")] == 0
    assert br_row[col("next_pc")] == br_row[col("pc")] + 8
    assert br_row[col("imm")] == 8 and br_row[col("rd_val")] == 0
    assert [int(r[col("next_pc")]) for r in rows[:-1]] == [int(r[col("pc")]) for r in rows[1:]]
    with pytest.raises(Breakpoint):
        m.trace(10)
