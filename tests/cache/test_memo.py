"""The two-level memo cache: keys, limits, LRU eviction, persistence, corruption."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from stele.actors.cache import CachedResult, MemoCache, MemoKey
from stele.protocol import Digest

CODE = Digest.of(b"def f(x: Int) -> Int = x")


def key(arg: int, *, version: str = "cost-v1", engine: str = "interp") -> MemoKey:
    return MemoKey.build(CODE, [arg], version, engine, {"depth": 64})


def result(cost: int, size: int = 8) -> CachedResult:
    return CachedResult(b"x" * size, (("fuel", cost), ("memory", size)))


def test_every_key_component_changes_the_digest() -> None:
    base = key(1)
    others = [
        key(2),
        key(1, version="cost-v2"),
        key(1, engine="coprocessor"),
        MemoKey.build(Digest.of(b"other"), [1], "cost-v1", "interp", {"depth": 64}),
        MemoKey.build(CODE, [1], "cost-v1", "interp", {"depth": 65}),
    ]
    assert len({base.digest} | {k.digest for k in others}) == 1 + len(others)
    assert key(1).digest == base.digest


@given(cost=st.integers(0, 1000), limit=st.integers(0, 1000))
def test_served_to_a_smaller_limit_only_if_recorded_cost_fits(cost: int, limit: int) -> None:
    cache = MemoCache()
    cache.put(key(1), result(cost))
    got = cache.get(key(1), {"fuel": limit})
    assert (got is not None) == (cost <= limit)
    assert cache.stats.refused_over_limit == (0 if cost <= limit else 1)


def test_lru_evicts_least_recently_used_and_counts() -> None:
    cache = MemoCache(memory_entries=2)
    cache.put(key(1), result(1))
    cache.put(key(2), result(1))
    assert cache.get(key(1), {}) is not None  # 1 is now most recent
    cache.put(key(3), result(1))  # evicts 2
    assert cache.get(key(2), {}) is None
    assert cache.get(key(1), {}) is not None and cache.get(key(3), {}) is not None
    s = cache.stats
    assert (s.evictions_memory, s.misses, s.hits_memory) == (1, 1, 3)


def test_byte_limit_bounds_level_one() -> None:
    cache = MemoCache(memory_bytes=3 * result(1, 100).size)
    for i in range(10):
        cache.put(key(i), result(1, 100))
    assert cache.memory_bytes <= 3 * result(1, 100).size
    assert len(cache) == 3


def test_level_two_survives_reopen_and_promotes(tmp_path: Path) -> None:
    path = str(tmp_path / "memo.sqlite")
    first = MemoCache(disk_path=path)
    first.put(key(7), result(42))
    first.close()
    second = MemoCache(disk_path=path)
    got = second.get(key(7), {"fuel": 42})
    assert got == result(42)
    assert second.stats.hits_disk == 1
    assert second.get(key(7), {"fuel": 42}) == result(42)
    assert second.stats.hits_memory == 1
    second.close()


def test_level_two_evicts_by_size(tmp_path: Path) -> None:
    entry = result(1, 1000)
    cache = MemoCache(memory_entries=0, disk_path=str(tmp_path / "m.sqlite"),
                      disk_bytes=3 * entry.size)
    for i in range(6):
        cache.put(key(i), entry)
    assert cache.disk_bytes() <= 3 * entry.size
    assert cache.stats.evictions_disk == 3
    assert cache.get(key(0), {}) is None and cache.get(key(5), {}) is not None


def test_corrupt_disk_entry_is_dropped_not_served(tmp_path: Path) -> None:
    path = str(tmp_path / "m.sqlite")
    cache = MemoCache(memory_entries=0, disk_path=path)
    cache.put(key(1), result(1))
    cache.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE memo SET entry = ?", (b"\xff\x00garbage",))
    db.commit()
    db.close()
    again = MemoCache(memory_entries=0, disk_path=path)
    assert again.get(key(1), {}) is None
    assert again.stats.corrupt_dropped == 1 and again.disk_bytes() == 0
