"""Regeneration consistency on the real RV32IM machine (the seed's property test).

For random programs and random checkpoint intervals, the witness regenerated
from checkpoints -- by a stream reading forwards, backwards and at random, and
by parallel ranges -- equals the witness recorded in one pass.
"""

from __future__ import annotations

import numpy as np
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor import CycleLimitExceeded
from stele.actors.coprocessor._binding import Execution
from stele.actors.coprocessor._checkpoint import CheckpointSet, collect_trace, record, split_ranges
from stele.actors.coprocessor._guests import guest_elf, guest_input
from stele.actors.coprocessor._stream import WitnessStream, regenerate_ranges, regenerate_ranges_async

from ._randprog import programs


def _check_regeneration(image: bytes, interval: int, window: int, data: st.DataObject) -> None:
    ex = Execution(image, max_cycles=100_000)
    cps, trace = collect_trace(ex, interval)
    t = trace.shape[0]
    assert t == ex.run_fast().cycles
    stream = WitnessStream(ex, cps, window=window)
    # backwards, then random, then the whole thing forwards
    for cycle in data.draw(st.lists(st.integers(0, t - 1), max_size=12)):
        length = data.draw(st.integers(1, t - cycle))
        assert np.array_equal(stream.rows(cycle, length), trace[cycle:cycle + length])
    assert np.array_equal(stream.rows(0, t), trace)
    # sequential and "parallel" (out-of-order map) range regeneration
    parts = data.draw(st.integers(1, 4))
    ranges = split_ranges(t, parts, interval)
    got = regenerate_ranges(ex, cps, ranges, lambda fn, jobs: [fn(*j) for j in jobs[::-1]][::-1])
    assert np.array_equal(np.concatenate(got), trace)


@settings(max_examples=40)
@given(programs(), st.integers(1, 400), st.integers(1, 200), st.data())
def test_regenerated_witness_equals_recorded(
    image: bytes, interval: int, window: int, data: st.DataObject
) -> None:
    _check_regeneration(image, interval, window, data)


@pytest.mark.slow
@settings(max_examples=600)
@given(programs(max_body=60, max_iterations=200), st.integers(1, 3000), st.integers(1, 500), st.data())
def test_regenerated_witness_equals_recorded_slow(
    image: bytes, interval: int, window: int, data: st.DataObject
) -> None:
    _check_regeneration(image, interval, window, data)


def _check_parallel(image: bytes, interval: int, parts: int) -> None:
    from stele import RealEnv

    ex = Execution(image, max_cycles=100_000)
    cps, trace = collect_trace(ex, interval)
    ranges = split_ranges(trace.shape[0], parts, interval)

    async def go() -> list[np.ndarray]:
        return await regenerate_ranges_async(RealEnv(max_workers=2), ex, cps, ranges)

    assert np.array_equal(np.concatenate(trio.run(go)), trace)


@settings(max_examples=4)
@given(programs(), st.integers(1, 300), st.integers(2, 4))
def test_parallel_regeneration_in_processes_equals_recorded(image: bytes, interval: int, parts: int) -> None:
    _check_parallel(image, interval, parts)


@pytest.mark.slow
@settings(max_examples=40)
@given(programs(max_body=60, max_iterations=100), st.integers(1, 2000), st.integers(2, 6))
def test_parallel_regeneration_in_processes_equals_recorded_slow(
    image: bytes, interval: int, parts: int
) -> None:
    _check_parallel(image, interval, parts)

@settings(max_examples=10)
@given(programs(max_iterations=10), st.integers(1, 100))
def test_serialized_checkpoints_regenerate_the_same_witness(image: bytes, interval: int) -> None:
    ex = Execution(image)
    cps, trace = collect_trace(ex, interval)
    data, digest = cps.to_bytes(ex)
    back = CheckpointSet.from_bytes(data, digest, ex)
    stream = WitnessStream(ex, back, window=17)
    assert np.array_equal(stream.rows(0, trace.shape[0]), trace)
    for cp, orig in zip(back.checkpoints, cps.checkpoints, strict=True):
        assert cp.snapshot == orig.snapshot


async def test_parallel_regeneration_in_worker_processes_on_a_guest() -> None:
    from stele import RealEnv

    ex = Execution(guest_elf("sort").read_bytes(), guest_input("sort", 64))
    cps, trace = collect_trace(ex, 2000)
    ranges = split_ranges(trace.shape[0], 3, 2000)
    got = await regenerate_ranges_async(RealEnv(max_workers=2), ex, cps, ranges)
    assert np.array_equal(np.concatenate(got), trace)


def test_cycle_limit_is_exact_while_recording() -> None:
    ex = Execution(guest_elf("sort").read_bytes(), guest_input("sort", 16))
    t = ex.run_fast().cycles
    assert record(Execution(ex.image, ex.input, max_cycles=t), 100).total_cycles == t
    with pytest.raises(CycleLimitExceeded, match=f"max_cycles={t - 1}"):
        record(Execution(ex.image, ex.input, max_cycles=t - 1), 100)


@settings(max_examples=15)
@given(programs(), st.integers(1, 500))
def test_fast_forward_checkpoints_equal_witness_checkpoints(image: bytes, interval: int) -> None:
    ex = Execution(image, max_cycles=100_000)
    slow = record(ex, interval)
    fast = record(ex, interval, witness=False)
    assert fast.total_cycles == slow.total_cycles
    assert [c.cycle for c in fast.checkpoints] == [c.cycle for c in slow.checkpoints]
    for a, b in zip(fast.checkpoints, slow.checkpoints, strict=True):
        assert a.snapshot == b.snapshot
    assert fast.to_bytes(ex) == slow.to_bytes(ex)


def _loop_storing_after_snapshot() -> bytes:
    """Init, then 3 iterations of a 6-instruction loop with a stack store at index 2."""
    import struct

    from stele.actors.coprocessor import encode

    words = [encode("addi", 28, 0, 0, 3)] * 1 + [encode("addi", 0, 0, 0, 0)] * 22
    words += [
        encode("add", 5, 5, 5), encode("lui", 5, imm=0), encode("sw", 0, 2, 5, -4),
        encode("add", 5, 5, 5), encode("addi", 28, 28, 0, -1), encode("bne", 0, 28, 0, -20),
        encode("addi", 17, 0, 0, 93), encode("addi", 10, 0, 0, 0), encode("ecall"),
    ]
    return struct.pack(f"<{len(words)}I", *words)


@pytest.mark.parametrize("chunk", [1, 3, 6, 7, 12])
def test_snapshots_between_chunks_inside_a_compiled_loop(chunk: int) -> None:
    """Regression (found by the property test above): a snapshot freezes the pages,
    so the loop block's store falls back to the interpreter in its first
    iteration; the block must report the cycles it completed before the store
    (in _jit.block_source: ``-1 - (it * n + k)``, not ``-1 - it * n + k``)."""
    ex = Execution(_loop_storing_after_snapshot())
    whole = ex.machine().trace(1000)
    final = ex.machine()
    final.advance_fast(1000)
    witness, fast = ex.machine(), ex.machine()
    parts = []
    while not witness.halted:
        parts.append(witness.trace(chunk))
        witness.snapshot()
    while not fast.halted:
        fast.advance_fast(chunk)
        fast.snapshot()
    assert np.array_equal(np.concatenate(parts), whole)
    assert fast.snapshot() == final.snapshot()
