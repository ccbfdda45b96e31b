"""Sector faults on SimDisk (misdirected writes and reads, latent sector errors).

They damage data that was already synced, which no journal repairs, so the
contract is the store's checksums: every read of an acknowledged value gives
that value or a typed :class:`stele.store.StoreError` -- never another value,
never an untyped exception.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.sandbox import KVStore
from stele.sim import DiskFaults, Ratio, SimEnv
from stele.sim._faults import draw_faults
from stele._core._random import SeededRandom
from stele.store import StoreError

PATH = "db/store.sqlite"
ONE = Ratio(1, 1)


def _disk(**faults: Any) -> Any:
    env = SimEnv(3, disk_faults=DiskFaults(**faults))
    disk = env.disk
    disk.open_file("f", create=True)
    for i in range(8):
        disk.pwrite("f", i * 512, bytes([i]) * 512)
    disk.sync_file("f")
    return env, disk


def _events(env: SimEnv, what: str) -> list[tuple[Any, ...]]:
    return [f for _, kind, f in env.trace.recent() if kind == "fault.disk" and f[0] == what]


def test_a_misdirected_write_lands_in_another_slot_and_survives_sync() -> None:
    env, disk = _disk()
    disk.faults = DiskFaults(misdirect=ONE)
    disk.pwrite("f", 2 * 512, b"\xee" * 512)
    disk.sync_file("f")
    (_, _, offset, alt), = _events(env, "misdirect")
    assert offset == 1024 and alt != 1024 and alt % 512 == 0
    disk.faults = DiskFaults()
    assert disk.pread("f", 1024, 512) == bytes([2]) * 512  # the intended sector: old bytes
    assert disk.pread("f", alt, 512) == b"\xee" * 512       # another sector: overwritten
    assert disk.durable_snapshot()["f"][alt:alt + 512] == b"\xee" * 512
    assert disk.sector_faults == 1


def test_a_misdirected_read_returns_another_slot_and_changes_nothing() -> None:
    env, disk = _disk(misread=ONE)
    got = disk.pread("f", 0, 512)
    (_, _, offset, alt), = _events(env, "misread")
    assert offset == 0 and alt != 0 and got == bytes([alt // 512]) * 512
    disk.faults = DiskFaults()
    assert disk.pread("f", 0, 512) == bytes(512)


def test_a_file_of_one_slot_has_nowhere_else_to_misdirect() -> None:
    env = SimEnv(1, disk_faults=DiskFaults(misdirect=ONE, misread=ONE))
    env.disk.open_file("g", create=True)
    env.disk.pwrite("g", 0, b"abc")
    assert env.disk.pread("g", 0, 3) == b"abc" and env.disk.sector_faults == 0


def test_a_sector_gone_bad_fails_reads_until_rewritten_whole() -> None:
    env, disk = _disk()
    disk.faults = DiskFaults(sector_error=ONE)
    disk.pwrite("f", 0, b"x")
    disk.sync_file("f")
    (sector,) = disk.bad_sectors("f")
    disk.faults = DiskFaults()
    with pytest.raises(OSError) as info:
        disk.pread("f", sector * 512 + 100, 10)
    assert info.value.errno == errno.EIO
    other = (sector + 1) % 8
    assert len(disk.pread("f", other * 512, 512)) == 512  # other sectors still read
    disk.pwrite("f", sector * 512 + 1, b"y" * 510)           # partial: still bad
    assert disk.bad_sectors("f") == [sector]
    disk.pwrite("f", sector * 512, b"z" * 512)               # whole: remapped
    assert disk.bad_sectors("f") == []
    disk.faults = DiskFaults(sector_error=ONE)
    disk.sync_file("f")
    (sector,) = disk.bad_sectors("f")
    disk.ftruncate("f", sector * 512)                        # cut off: gone with the bytes
    assert disk.bad_sectors("f") == []


def test_swarm_draws_sector_errors_on_some_seeds_and_misdirection_on_none() -> None:
    drawn = [draw_faults(SeededRandom(s)).disk for s in range(200)]
    on = [d for d in drawn if d.sector_error]
    assert 0 < len(on) < 200
    assert not any(d.misdirect or d.misread for d in drawn)  # opt-in: a known gap
    flags = draw_faults(SeededRandom(0), {"disk-misdirect": "1/9", "disk-misread": "2/9"}).disk
    assert (flags.misdirect, flags.misread) == (Ratio(1, 9), Ratio(2, 9))
    off = draw_faults(SeededRandom(0), enabled=False).disk
    assert not (off.misdirect or off.misread or off.sector_error)


def _value(i: int) -> bytes:
    return i.to_bytes(8, "big") * 40


def _put_reopen_get(env: SimEnv) -> list[tuple[str, bytes, bytes | None]]:
    """Put 60 values, reopen, read each acknowledged key: ``(key, acked, got)`` for the
    keys read back (a typed error skips a key; a store refused at open returns [])."""
    acked: dict[str, bytes] = {}
    try:
        kv = KVStore(PATH, env=env)
    except (StoreError, sqlite3.Error):  # KVStore() raises SQLite's own error at open
        return []
    for i in range(60):
        key = f"k{i % 25}"
        try:
            kv.put("t", key, _value(i))
        except StoreError:
            continue
        acked[key] = _value(i)
    kv.close()
    try:
        kv = KVStore(PATH, env=env)
    except (StoreError, sqlite3.Error):
        return []  # refused to open a damaged store: typed, so fine
    out = []
    for key, value in sorted(acked.items()):
        try:
            out.append((key, value, kv.get("t", key)))
        except StoreError:
            continue
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000),
       bad=st.sampled_from([Ratio(1, 20), Ratio(1, 4), Ratio(1, 1)]))
def test_sectors_gone_bad_give_the_acknowledged_value_or_a_typed_error(
        seed: int, bad: Ratio) -> None:
    """Latent sector errors: right value or StoreError, never a wrong one."""
    env = SimEnv(seed, disk_faults=DiskFaults(sector_error=bad))
    for key, value, got in _put_reopen_get(env):
        assert got == value, (key, got[:8] if got else got)


def test_sector_errors_do_hit_the_store() -> None:
    """The property above is not vacuous: some reads fail and some keys still read."""
    refused = read = 0
    for seed in range(10):
        env = SimEnv(seed, disk_faults=DiskFaults(sector_error=Ratio(1, 4)))
        rows = _put_reopen_get(env)
        read += len(rows)
        refused += len(rows) < 25
    assert env.disk.sector_faults > 0 and refused > 0 and read > 0


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="known gap: a misdirected read or write can send "
                   "SQLite's b-tree search to the wrong page, so an acknowledged key reads "
                   "as absent; row checksums cannot see a missing row (page checksums that "
                   "bind the page number would)")
@pytest.mark.parametrize("faults", [{"misread": Ratio(1, 10)}, {"misdirect": Ratio(1, 10)}],
                         ids=["misread", "misdirect"])
def test_misdirected_sectors_give_the_acknowledged_value_or_a_typed_error(
        faults: dict[str, Ratio]) -> None:
    for seed in range(40):
        env = SimEnv(seed, disk_faults=DiskFaults(**faults))
        for key, value, got in _put_reopen_get(env):
            assert got == value, (seed, key, got[:8] if got else got)


def test_the_execution_workload_holds_its_checkers_under_sector_errors() -> None:
    """Sectors going bad under the whole runtime: typed refusals, never wrong answers.

    Seeds 0-3 with latent sector errors forced on: each run passes, and the
    damage reached the runtime (some check passed on the damaged-media path).
    """
    from stele.sim._runner import RunConfig, run_simulation

    typed = 0
    for seed in range(4):
        res = run_simulation(RunConfig(seed=seed, ticks=4000, workload="execution",
                                       faults={"disk-sector-error": "1/10"}))
        assert res.ok, (seed, res.error)
        typed += res.checks.get("recovery-damage-typed", 0)
        typed += res.checks.get("acked-kv-damage-typed", 0)
    assert typed > 0
