"""Streaming witness generator: random access, streaming, regeneration, parallel."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor._checkpoint import collect_trace, split_ranges
from stele.actors.coprocessor._stream import (
    WitnessStream,
    deinterleave,
    interleave,
    regenerate_ranges,
    regenerate_ranges_async,
)
from stele.actors.coprocessor._stream_errors import StreamError

from ._toy import ToyProgram


@given(
    st.integers(1, 400),
    st.integers(1, 80),
    st.integers(1, 64),
    st.lists(st.tuples(st.integers(0, 399), st.integers(0, 3)), max_size=40),
)
def test_random_access_matches_the_recorded_trace(
    t: int, interval: int, window: int, reads: list[tuple[int, int]]
) -> None:
    program = ToyProgram(t, seed=11)
    cps, trace = collect_trace(program, interval)
    stream = WitnessStream(program, cps, window=window)
    flat = interleave(trace)
    for cycle, column in reads:
        cycle %= t
        assert stream.value(cycle, column) == trace[cycle, column]
        assert stream.flat(cycle * 4 + column) == flat[cycle * 4 + column]
    assert np.array_equal(deinterleave(flat, 4), trace)


@given(st.integers(1, 500), st.integers(1, 100), st.integers(1, 50), st.integers(1, 70))
def test_forward_streaming_never_regenerates(t: int, interval: int, window: int, size: int) -> None:
    program = ToyProgram(t, seed=5)
    cps, trace = collect_trace(program, interval)
    stream = WitnessStream(program, cps, window=window)
    parts = [rows for _, rows in stream.chunks(size=size)]
    assert np.array_equal(np.concatenate(parts), trace)
    assert stream.stats.regenerations == 0
    assert stream.stats.cycles_reexecuted == 0
    assert stream.stats.cycles_executed == t


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 50)), max_size=30))
def test_reexecuted_counts_each_cycle_once_per_repeat(spans: list[tuple[int, int]]) -> None:
    from stele.actors.coprocessor._stream import _cover

    done: list[tuple[int, int]] = []
    seen = [0] * 260
    for start, length in spans:
        want = sum(1 for c in range(start, start + length) if seen[c])
        assert _cover(done, start, start + length) == want
        for c in range(start, start + length):
            seen[c] = 1
        assert all(b < c for (_, b), (c, _) in zip(done, done[1:]))
    assert sum(b - a for a, b in done) == sum(seen)


def test_backward_read_regenerates_from_the_nearest_checkpoint() -> None:
    program = ToyProgram(1000)
    cps, trace = collect_trace(program, 100)
    stream = WitnessStream(program, cps, window=10)
    assert np.array_equal(stream.rows(0, 500), trace[:500])
    assert np.array_equal(stream.rows(900, 10), trace[900:910])
    # far ahead: jumped to the checkpoint at 900 instead of running 500..900
    assert (stream.stats.regenerations, stream.stats.jumps) == (0, 1)
    assert stream.stats.cycles_executed == 510
    assert stream.stats.cycles_reexecuted == 0
    assert np.array_equal(stream.rows(455, 1), trace[455:456])
    assert (stream.stats.regenerations, stream.stats.jumps) == (1, 1)
    # restored at 400, re-ran 400..465 (catch-up 55, window 10): 400..465 seen before
    assert stream.stats.cycles_executed == 510 + 65
    assert stream.stats.cycles_reexecuted == 65
    assert np.array_equal(stream.rows(495, 1), trace[495:496])
    # on from 465 to 505: 465..500 seen before, 500..505 new
    assert stream.stats.cycles_executed == 510 + 65 + 40
    assert stream.stats.cycles_reexecuted == 65 + 35
    assert np.array_equal(stream.rows(700, 1), trace[700:701])
    assert (stream.stats.regenerations, stream.stats.jumps) == (1, 2)
    assert stream.stats.cycles_reexecuted == 65 + 35


def test_flat_range_crosses_rows() -> None:
    program = ToyProgram(50)
    cps, trace = collect_trace(program, 7)
    stream = WitnessStream(program, cps, window=3)
    flat = interleave(trace)
    for start, length in ((0, 0), (0, 200), (3, 17), (198, 2), (101, 50)):
        assert np.array_equal(stream.flat_range(start, length), flat[start:start + length])


def test_out_of_range_reads_are_typed_errors() -> None:
    program = ToyProgram(10)
    cps, _ = collect_trace(program, 3)
    stream = WitnessStream(program, cps)
    with pytest.raises(StreamError, match=r"\[8, 12\)"):
        stream.rows(8, 4)
    with pytest.raises(StreamError, match="column=4"):
        stream.value(0, 4)
    with pytest.raises(StreamError, match="flat index=40"):
        stream.flat(40)
    with pytest.raises(StreamError, match="window=0"):
        WitnessStream(program, cps, window=0)


@settings(max_examples=30)
@given(st.integers(0, 300), st.integers(1, 60), st.integers(1, 5))
def test_parallel_ranges_equal_the_recorded_trace(t: int, interval: int, parts: int) -> None:
    program = ToyProgram(t, seed=9)
    cps, trace = collect_trace(program, interval)
    ranges = split_ranges(t, parts, interval)
    calls: list[int] = []

    def map_fn(fn, jobs):  # type: ignore[no-untyped-def]
        calls.append(len(jobs))
        return [fn(*job) for job in reversed(jobs)][::-1]

    got = regenerate_ranges(program, cps, ranges, map_fn)
    assert calls == [len(ranges)]
    whole = np.concatenate(got) if got else np.zeros((0, 4), dtype=np.uint32)
    assert np.array_equal(whole, trace)
    # unaligned ranges too
    odd = [(0, t // 3), (t // 3, t)]
    assert np.array_equal(np.concatenate(regenerate_ranges(program, cps, odd)), trace)


async def test_parallel_ranges_through_the_env() -> None:
    from stele.sim import SimEnv

    program = ToyProgram(2000, seed=2)
    cps, trace = collect_trace(program, 500)
    got = await regenerate_ranges_async(SimEnv(seed=1), program, cps, split_ranges(2000, 4, 500))
    assert np.array_equal(np.concatenate(got), trace)


async def test_parallel_ranges_in_worker_processes() -> None:
    from stele import RealEnv

    program = ToyProgram(3000, seed=4)
    cps, trace = collect_trace(program, 1000)
    got = await regenerate_ranges_async(RealEnv(max_workers=2), program, cps, split_ranges(3000, 3, 1000))
    assert np.array_equal(np.concatenate(got), trace)


@given(st.integers(1, 300), st.integers(1, 60), st.integers(1, 4), st.integers(1, 50))
def test_range_digests_equal_the_recorded_rows_digest(t: int, interval: int, parts: int, chunk: int) -> None:
    from stele.actors.coprocessor._stream import _jobs, digest_range, rows_bytes, rows_hasher

    program = ToyProgram(t, seed=21)
    cps, trace = collect_trace(program, interval)
    for (prog, data, start, stop) in _jobs(program, cps, split_ranges(t, parts)):
        want = rows_hasher()
        want.update(rows_bytes(trace[start:stop]))
        assert digest_range(prog, data, start, stop, chunk) == want.digest()
    # a different range gives a different digest
    if t >= 2:
        (prog, data, _, _), = _jobs(program, cps, [(0, t)])
        assert digest_range(prog, data, 0, t) != digest_range(prog, data, 0, t - 1)


async def test_digest_ranges_through_the_env() -> None:
    from stele.actors.coprocessor._stream import digest_ranges_async, rows_bytes, rows_hasher
    from stele.sim import SimEnv

    program = ToyProgram(1000, seed=6)
    cps, trace = collect_trace(program, 250)
    ranges = split_ranges(1000, 4, 250)
    got = await digest_ranges_async(SimEnv(seed=2), program, cps, ranges)
    for (s, e), d in zip(ranges, got, strict=True):
        h = rows_hasher()
        h.update(rows_bytes(trace[s:e]))
        assert d == h.digest()


@given(st.integers(1, 300), st.integers(1, 60), st.integers(1, 4), st.integers(1, 70))
def test_block_digests_do_not_depend_on_the_split(t: int, interval: int, parts: int, block: int) -> None:
    from stele.actors.coprocessor._stream import _jobs, digest_blocks, rows_bytes, rows_hasher

    program = ToyProgram(t, seed=23)
    cps, trace = collect_trace(program, interval)
    want = []
    for s in range(0, t, block):
        h = rows_hasher()
        h.update(rows_bytes(trace[s:s + block]))
        want.append(h.digest())
    got = []
    for (prog, data, start, stop) in _jobs(program, cps, split_ranges(t, parts, block)):
        got += digest_blocks(prog, data, start, stop, block)
    assert got == want
    with pytest.raises(StreamError, match="not a multiple of block"):
        (prog, data, _, _), = _jobs(program, cps, [(0, t)])
        digest_blocks(prog, data, 1, t, 2) if t > 1 else digest_blocks(prog, data, 0, t, 0)
