"""The bank workload: invariants hold under faults; its log format is robust."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.sim._bank import decode_log, decode_snapshot, encode_record, encode_snapshot
from stele.sim._runner import RunConfig, run_simulation


@pytest.mark.parametrize("seed", range(6))
def test_bank_passes_under_faults(seed: int) -> None:
    res = run_simulation(RunConfig(seed=seed, ticks=1500))
    assert res.ok, res.error
    assert res.checks.get("money-conserved", 0) > 0
    assert res.checks.get("acked-transfer-kept", 0) > 0


def test_bank_exercises_every_fault_kind() -> None:
    cfg = RunConfig(seed=1, ticks=3000, faults={
        "net-loss": "1/10", "net-duplicate": "1/10", "net-reorder": "1/10",
        "disk-write-fail": "1/20", "disk-fsync-fail": "1/20", "crash": "1/50",
        "disk-crash-lose": "1/2", "clock-jump": "1/5", "net-partition": "1/3",
    })
    res = run_simulation(cfg)
    assert res.ok, res.error
    assert res.faults_injected > 20


def test_bank_without_faults_applies_transfers() -> None:
    res = run_simulation(RunConfig(seed=2, ticks=1000, faults_enabled=False))
    assert res.ok and res.faults_injected == 0
    assert res.checks["applied-once"] > 10


def test_a_run_is_a_function_of_its_seed() -> None:
    a = run_simulation(RunConfig(seed=9, ticks=1500))
    b = run_simulation(RunConfig(seed=9, ticks=1500))
    assert (a.trace_hash, a.events, a.checks) == (b.trace_hash, b.events, b.checks)


@given(st.lists(st.tuples(st.text(max_size=10), st.integers(0, 9), st.integers(0, 9),
                          st.integers(1, 2**40), st.booleans()), max_size=10),
       st.binary(max_size=40))
def test_log_decodes_its_valid_prefix(
    records: list[tuple[str, int, int, int, bool]], junk: bytes
) -> None:
    data = b"".join(encode_record(*r) for r in records)
    got, valid = decode_log(data + junk)
    assert got[:len(records)] == records
    assert valid >= len(data)


@given(st.binary(max_size=200))
def test_random_bytes_never_crash_the_log_decoder(data: bytes) -> None:
    got, valid = decode_log(data)
    assert 0 <= valid <= len(data)
    assert decode_snapshot(data) is None or data.startswith(b"SNAP")


def test_snapshot_roundtrip_and_damage() -> None:
    snap = encode_snapshot([1, 2], {"a": "ok", "b": "rejected"})
    assert decode_snapshot(snap) == ([1, 2], {"a": "ok", "b": "rejected"})
    damaged = snap[:-1] + bytes([snap[-1] ^ 1])
    assert decode_snapshot(damaged) is None


@pytest.mark.slow
def test_200_seeds_with_faults_find_no_violation() -> None:
    failures = []
    for seed in range(200):
        res = run_simulation(RunConfig(seed=seed, ticks=5000))
        if not res.ok:
            failures.append((seed, res.error))
    assert failures == []


@pytest.mark.parametrize("seed", range(4))
def test_ticker_workload_passes(seed: int) -> None:
    res = run_simulation(RunConfig(seed=seed, ticks=1000, workload="ticker"))
    assert res.ok, res.error
    assert res.checks["timer-exact"] > 0 and res.checks["tick-order"] > 0


@pytest.mark.parametrize("seed", range(2))
def test_timers_workload_passes(seed: int) -> None:
    res = run_simulation(RunConfig(seed=seed, ticks=1000, workload="timers"))
    assert res.ok, res.error
    assert res.checks["timer-exact"] > 0
