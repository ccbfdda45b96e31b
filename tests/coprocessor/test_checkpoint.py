"""Checkpoint manager: interval rules, recording, CBOR round trip, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.coprocessor._checkpoint import (
    CheckpointSet,
    choose_interval,
    collect_trace,
    interval_for_workers,
    interval_sqrt,
    record,
    split_ranges,
)
from stele.actors.coprocessor._stream_errors import CheckpointError, StreamError
from stele.protocol import Digest

from ._toy import ToyProgram


@given(st.integers(0, 10**12), st.integers(1, 64))
def test_interval_for_workers_gives_at_most_m_checkpoints(t: int, m: int) -> None:
    n = interval_for_workers(t, m)
    assert n >= 1
    assert math.ceil(t / n) <= m  # M workers each own one interval
    if t >= m:
        assert math.ceil(t / (n - 1 or 1)) > m or n == 1  # and it is the smallest such


@given(st.integers(0, 10**12))
def test_interval_sqrt_is_ceil_sqrt(t: int) -> None:
    n = interval_sqrt(t)
    assert n * n >= t
    assert n == 1 or (n - 1) * (n - 1) < t
    assert choose_interval(t) == n
    assert choose_interval(t, 4) == interval_for_workers(t, 4)


def test_interval_rules_reject_bad_arguments() -> None:
    with pytest.raises(StreamError, match="workers=0"):
        interval_for_workers(10, 0)
    with pytest.raises(StreamError, match="total_cycles=-1"):
        interval_sqrt(-1)


@given(st.integers(0, 300), st.integers(1, 100), st.integers(1, 50))
def test_record_places_checkpoints_every_interval(t: int, interval: int, chunk: int) -> None:
    program = ToyProgram(t, seed=7)
    seen: list[tuple[int, int]] = []
    cps = record(program, interval, sink=lambda s, rows: seen.append((s, rows.shape[0])), chunk=chunk)
    assert cps.total_cycles == t
    assert [c.cycle for c in cps.checkpoints] == list(range(0, max(t, 1), interval))[: len(cps.checkpoints)]
    assert len(cps.checkpoints) == max(1, math.ceil(t / interval))
    # chunks arrive in order and tile [0, T)
    pos = 0
    for s, n in seen:
        assert s == pos and 1 <= n <= chunk
        pos += n
    assert pos == t
    # each checkpoint resumes to the trace row of its cycle
    _, trace = collect_trace(program, interval)
    for cp in cps.checkpoints:
        if cp.cycle < t:
            row = program.resume(cp.snapshot).trace(1)[0]
            assert np.array_equal(row, trace[cp.cycle])


@given(st.integers(0, 200), st.integers(1, 64))
def test_serialization_round_trips_and_is_canonical(t: int, interval: int) -> None:
    program = ToyProgram(t, seed=3)
    cps = record(program, interval)
    data, digest = cps.to_bytes(program)
    again, digest2 = cps.to_bytes(program)
    assert data == again and digest == digest2
    back = CheckpointSet.from_bytes(data, digest, program)
    assert back.interval == cps.interval and back.total_cycles == cps.total_cycles
    assert [c.cycle for c in back.checkpoints] == [c.cycle for c in cps.checkpoints]
    assert [c.snapshot for c in back.checkpoints] == [c.snapshot for c in cps.checkpoints]
    assert back.to_bytes(program)[0] == data


def test_shared_pages_are_stored_once() -> None:
    program = ToyProgram(1000)
    many = record(program, 10)
    few = record(program, 500)
    many_bytes = len(many.to_bytes(program)[0])
    few_bytes = len(few.to_bytes(program)[0])
    # 100 checkpoints vs 2: the 4 KiB shared page is not repeated
    assert many_bytes < few_bytes + 100 * 200


def test_bad_data_is_rejected_with_a_clear_error() -> None:
    program = ToyProgram(50)
    data, digest = record(program, 10).to_bytes(program)
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 1
    with pytest.raises(CheckpointError, match="digest mismatch"):
        CheckpointSet.from_bytes(bytes(flipped), digest, program)
    bad = b"\xa0"  # an empty map, with its own correct digest
    with pytest.raises(CheckpointError, match="format"):
        CheckpointSet.from_bytes(bad, Digest.of(bad), program)
    with pytest.raises(CheckpointError, match="must be a map"):
        CheckpointSet.from_bytes(b"\x01", Digest.of(b"\x01"), program)


def test_checkpoint_set_rejects_misplaced_checkpoints() -> None:
    program = ToyProgram(50)
    cps = record(program, 10)
    with pytest.raises(StreamError, match="expected 10"):
        CheckpointSet(10, 50, cps.columns, (cps.checkpoints[0], cps.checkpoints[2]))
    with pytest.raises(StreamError, match="cycle=51"):
        cps.nearest(51)


@given(st.integers(0, 1000), st.integers(1, 9), st.integers(1, 64))
def test_split_ranges_tile_the_run(t: int, parts: int, align: int) -> None:
    ranges = split_ranges(t, parts, align)
    assert len(ranges) <= parts
    pos = 0
    for s, e in ranges:
        assert s == pos and s % align == 0 and e > s
        pos = e
    assert pos == t


@given(st.integers(0, 300), st.integers(1, 100))
def test_fast_checkpoints_equal_witness_checkpoints(t: int, interval: int) -> None:
    program = ToyProgram(t, seed=17)
    slow = record(program, interval)
    fast = record(program, interval, witness=False)
    assert fast.total_cycles == slow.total_cycles == t
    assert [(c.cycle, c.snapshot) for c in fast.checkpoints] == [
        (c.cycle, c.snapshot) for c in slow.checkpoints
    ]
    with pytest.raises(StreamError, match="sink"):
        record(program, interval, sink=lambda s, r: None, witness=False)
