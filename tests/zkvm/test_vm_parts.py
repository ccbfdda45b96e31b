"""The zkVM's building blocks against their definitions: shift MLE, expressions, bytecode rows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.prover import P, eq_table, evaluate, expand_ext
from stele.actors.zkvm._air import PUBLIC_COLUMNS, TRACE_COLUMNS, constraints
from stele.actors.zkvm._batched import public_eval, shift_eval
from stele.actors.zkvm._bytecode import COVERED, table_row
from stele.actors.zkvm._expr import col
from stele.actors.zkvm._prove import ROUND_DEGREE, _batch, _public_tables
from stele.actors.coprocessor._isa import decode
from stele.actors.coprocessor import encode


def _pts(seed: bytes, n: int) -> list[tuple[int, int, int, int]]:
    return [tuple(int(x) for x in row) for row in expand_ext(seed, n)]  # type: ignore[misc]


def test_shift_eval_is_the_cyclic_shift_mle() -> None:
    for n in (1, 2, 3, 5):
        e, r = _pts(b"e%d" % n, n), _pts(b"r%d" % n, n)
        w = np.roll(eq_table(e), 1, axis=0)  # w(s) = eq(e, s - 1 mod N)
        assert shift_eval(e, r) == evaluate(w, r)


def test_public_columns_match_their_tables() -> None:
    from coprocessor._elfgen import make_elf

    from stele.actors.coprocessor._elf import load_elf
    from stele.actors.zkvm._memory import memory_image

    n = 6
    r = _pts(b"p", n)
    # a text of 3 words and a data segment of 9 bytes + 30 bytes of bss: 3 + 10 words, padded to 16
    image = memory_image(load_elf(make_elf([0x13, 0x13, 0x73], data=bytes(range(1, 10)), bss=30)))
    assert image.size == 13 and image.log_size == 4 and image.ro.tolist() == [1] * 3 + [0] * 10
    assert image.init[3] == 0x04030201 and image.init[5] == 9 and not image.init[6:].any()
    tabs = _public_tables(n, image)
    got = public_eval(r)
    got.update(image.public_eval(r))
    assert set(got) == set(tabs)
    for name, tab in tabs.items():
        assert got[name] == evaluate(tab, r), name
    # with an input, a public output and the heap page the break starts in (its words past the segment)
    from stele.actors.zkvm._memory import heap_page_range

    prog = load_elf(make_elf([0x13, 0x13, 0x73], data=bytes(range(1, 10)), bss=30))
    first, _ = heap_page_range(prog)
    image = memory_image(prog, b"abcde", b"xyz", (first,))
    heap = (first + 1) * 1024 - ((prog.end + 3) >> 2)
    assert image.size == 13 + heap + 3 and heap == 1024 - 10
    assert image.kind.tolist() == [1] * 3 + [0] * 10 + [4] * heap + [3, 3] + [2]
    n = image.log_size
    r = _pts(b"q", n)
    assert image.out.tolist()[-1] == 1 and image.fin[-1] == int.from_bytes(b"xyz", "little")
    assert image.init[-3] == int.from_bytes(b"abcd", "little") and image.init[-2] == ord("e")
    tabs = _public_tables(n, image)
    got = public_eval(r)
    got.update(image.public_eval(r))
    for name, tab in tabs.items():
        assert got[name] == evaluate(tab, r), name


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_poly_vector_and_point_evaluation_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cols = {c: rng.integers(0, P, size=8, dtype=np.uint64) for c in ("a", "b", "c")}
    p = col("a") * col("b") * col("c") - 3 * col("a") + (5, 1, 0, 2) * col("b") + 7
    vec = p.eval_vec(cols, 8)
    for i in range(8):
        at = p.eval_at({k: (int(v[i]), 0, 0, 0) for k, v in cols.items()})
        assert at == tuple(int(x) for x in vec[i])


def test_constraint_degrees_and_round_degree() -> None:
    zc, lnext, lcur = _batch(0x10000, 3, 0x4000, (1, 2, 3, 4), (5, 6, 7, 8), (9, 1, 1, 1), (2, 2, 2, 2))
    assert zc.degree == 3 and lnext.degree == lcur.degree == 1
    assert ROUND_DEGREE == zc.degree + 1
    for name, c in constraints(0x10000, 3):
        assert c.degree <= 3, name
        assert c.columns <= set(TRACE_COLUMNS) | set(PUBLIC_COLUMNS), name


def test_bytecode_rows_cover_exactly_the_covered_mnemonics() -> None:
    lw = table_row(0x100, decode(encode("lw", 1, 2, imm=4)))
    assert lw is not None and (lw["f_lw"], lw["rd"], lw["rs1"], lw["rs2"], lw["imm_lo"], lw["wr"]) == (1, 1, 2, 0, 4, 1)
    sb = table_row(0x100, decode(encode("sb", 0, 2, 3, imm=-1)))
    assert sb is not None and (sb["f_sb"], sb["rd"], sb["rs2"], sb["imm_hi"], sb["wr"]) == (1, 0, 3, 0xFFFF, 0)
    div = table_row(0x100, decode(encode("div", 1, 2, 3)))
    assert div is not None and (div["f_div"], div["rd"], div["rs1"], div["rs2"], div["imm_lo"], div["wr"]) == (1, 1, 2, 3, 0, 1)
    assert table_row(0x100, decode(encode("csrrs", 1, 0, imm=0xC00))) is None
    assert table_row(0x100, decode(encode("ebreak"))) is None
    row = table_row(0xFFFFFFFC, decode(encode("jal", 1, imm=-8)))
    assert row is not None
    assert (row["ret_lo"], row["ret_hi"]) == (0, 0)  # pc + 4 wraps mod 2^32
    assert (row["tgt_lo"] | row["tgt_hi"] << 16) == 0xFFFFFFF4
    assert row["f_jal"] == row["f_st"] == row["wr"] == 1
    assert table_row(0, decode(encode("addi", 0, 0, imm=0)))["wr"] == 0  # type: ignore[index]
    assert {"lw", "sb", "add", "xori", "srai", "mulhu", "mulh", "mulhsu", "div", "divu", "rem", "remu"} <= COVERED
    assert not {"csrrs", "csrrw", "ebreak", "mret", "wfi"} & COVERED
