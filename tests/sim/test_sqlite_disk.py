"""The real store's SQLite on SimDisk: faults become typed errors, crashes keep acked writes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.sandbox import KVStore
from stele.sim import DiskFaults, Ratio, SimEnv
from stele.store import StoreUnavailable

PATH = "db/store.sqlite"


def _env(seed: int = 1, **faults: Any) -> SimEnv:
    return SimEnv(seed, disk_faults=DiskFaults(**faults))


def _value(i: int) -> bytes:
    return i.to_bytes(8, "big") * 40  # 320 bytes: a few rows per page, pages fill and split


def _acked_run(env: SimEnv, power_after: int, journal_off: bool = False) -> dict[str, bytes]:
    """Put keys until the power fails after ``power_after`` ops; the acknowledged puts."""
    kv = KVStore(PATH, env=env)
    if journal_off:
        kv._db.execute("PRAGMA journal_mode=OFF")
    acked: dict[str, bytes] = {}
    env.disk.lose_power_after(power_after)
    for i in range(60):
        key = f"k{i % 25}"
        try:
            kv.put("t", key, _value(i))
        except StoreUnavailable:
            break
        acked[key] = _value(i)
    kv.close()
    env.disk.crash()
    env.disk.restore_power()
    return acked


def test_round_trip_and_reopen() -> None:
    env = _env()
    kv = KVStore(PATH, env=env)
    kv.put("t", "a", b"1")
    assert kv.get("t", "a") == b"1"
    kv.close()
    assert env.disk.file_exists(PATH)
    kv = KVStore(PATH, env=env)
    assert kv.get("t", "a") == b"1"
    assert env.disk.range_ops["sync"] >= 1  # the commit went through fsync on SimDisk


def test_read_errors_and_full_disk_are_typed() -> None:
    env = _env(read_fail=Ratio(1, 1))
    kv = KVStore(PATH, env=_env())  # a healthy store first, on another disk
    kv.close()
    with pytest.raises(Exception) as info:  # opening itself reads: typed sqlite error
        KVStore(PATH, env=env)
    assert "disk I/O error" in str(info.value)
    env = _env()
    kv = KVStore(PATH, env=env)
    env.disk.faults = DiskFaults(full=Ratio(1, 1))
    with pytest.raises(StoreUnavailable, match="full"):
        for i in range(100):
            kv.put("t", f"k{i}", _value(i))
    env.disk.faults = DiskFaults(read_fail=Ratio(1, 1))
    with pytest.raises(StoreUnavailable, match="I/O"):
        kv.get("t", "k0")


@settings(max_examples=60, deadline=None)
@given(power=st.integers(0, 400), seed=st.integers(0, 10_000),
       torn=st.sampled_from([Ratio(0, 1), Ratio(1, 2), Ratio(1, 1)]),
       lose=st.sampled_from([Ratio(0, 1), Ratio(1, 2)]),
       corrupt=st.sampled_from([Ratio(0, 1), Ratio(1, 2)]))
def test_power_loss_keeps_every_acknowledged_put(power: int, seed: int, torn: Ratio,
                                                 lose: Ratio, corrupt: Ratio) -> None:
    """SQLite's rollback journal on SimDisk: whatever the crash damages, acked puts survive."""
    env = _env(seed, crash_torn=torn, crash_lose=lose, crash_corrupt=corrupt)
    acked = _acked_run(env, power)
    kv = KVStore(PATH, env=env)
    for key, value in acked.items():
        assert kv.get("t", key) == value, (key, power)


def test_without_a_journal_the_same_crashes_lose_acknowledged_puts() -> None:
    """The fault model bites: with journal_mode=OFF some power-loss point loses acked data."""
    damaged = 0
    for power in range(0, 300, 3):
        env = _env(power, crash_torn=Ratio(1, 1))
        acked = _acked_run(env, power, journal_off=True)
        try:
            kv = KVStore(PATH, env=env)
            bad = any(kv.get("t", k) != v for k, v in acked.items())
        except Exception:  # noqa: BLE001 - a damaged database: that is the point
            bad = True
        damaged += bad
    assert damaged > 0
