"""WitnessOracle: the witness as 16-bit limb polynomials over BabyBear."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.coprocessor._checkpoint import collect_trace
from stele.actors.coprocessor._oracle import BABYBEAR_P, WitnessOracle
from stele.actors.coprocessor._stream import WitnessStream
from stele.actors.coprocessor._stream_errors import StreamError

from ._toy import ToyProgram

WIDTHS = (32, 32, 32, 8)  # "low" fits one limb


def _oracle(t: int, interval: int = 16, window: int = 8) -> tuple[WitnessOracle, np.ndarray]:
    program = ToyProgram(t, seed=13)
    cps, trace = collect_trace(program, interval)
    return WitnessOracle(WitnessStream(program, cps, window=window), WIDTHS), trace


def test_layout_splits_words_into_limbs() -> None:
    oracle, _ = _oracle(10)
    assert oracle.num_polys == 7
    assert oracle.layout() == [
        (0, "cycle", 0), (1, "cycle", 1), (2, "x", 0), (3, "x", 1),
        (4, "x3", 0), (5, "x3", 1), (6, "low", 0),
    ]


@given(st.integers(1, 200), st.data())
def test_reads_reassemble_the_trace_with_zero_padding(t: int, data: st.DataObject) -> None:
    oracle, trace = _oracle(t)
    size = 1 << oracle.num_vars
    assert size >= t and (oracle.num_vars == 0 or size // 2 < t)
    start = data.draw(st.integers(0, size - 1))
    length = data.draw(st.integers(0, size - start))
    polys = data.draw(st.lists(st.integers(0, 6), max_size=7))
    got = oracle.read(polys, start, length)
    assert got.shape == (len(polys), length) and got.dtype == np.uint64
    assert np.all(got < BABYBEAR_P)
    for i, p in enumerate(polys):
        column, limb = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0)][p]
        for j in range(length):
            cycle = start + j
            want = (int(trace[cycle, column]) >> (16 * limb)) & 0xFFFF if cycle < t else 0
            assert got[i, j] == want


def test_limbs_recombine_to_words() -> None:
    oracle, trace = _oracle(100)
    lo, hi = oracle.read([2, 3], 0, 100)
    assert np.array_equal(lo + (hi << np.uint64(16)), trace[:, 1].astype(np.uint64))


def test_sequential_chunked_reads_stream_without_regeneration() -> None:
    oracle, _ = _oracle(1000, interval=100, window=64)
    for start in range(0, 1024, 128):
        oracle.read(list(range(7)), start, 128)
    assert oracle.stream.stats.regenerations == 0
    oracle.read([0], 0, 4)  # going back regenerates
    assert oracle.stream.stats.regenerations == 1


def test_bad_reads_are_typed_errors() -> None:
    oracle, _ = _oracle(10)
    with pytest.raises(StreamError, match="poly index 7"):
        oracle.read([7], 0, 1)
    with pytest.raises(StreamError, match=r"outside the evaluations \[0, 16\)"):
        oracle.read([0], 10, 7)
    program = ToyProgram(5)
    cps, _ = collect_trace(program, 2)
    with pytest.raises(StreamError, match="widths has 2 entries"):
        WitnessOracle(WitnessStream(program, cps), [32, 32])
