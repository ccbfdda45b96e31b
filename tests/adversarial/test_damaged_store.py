"""Damaged stores (issue 10, item 9): every row read is verified; damage is typed and found.

``tests/store/test_integrity.py`` damages the object, name, KV and memo tables
at random; this file covers the rest of what a store file holds -- durable
executions (rows, journals, guest snapshots) and the daemon's jobs and
tenants -- and the whole path through ``open_runtime``: a program reading a
flipped KV value gets :class:`StoreCorrupted` naming the row, and a memo
entry tampered to 666 is not served as a hit.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stele
from stele.actors.executor import ExecLimits
from stele.actors.sandbox import Policy
from stele.actors.sandbox._durable import DurableStore, GuestSnapshot
from stele.daemon._jobs import JobStore
from stele.daemon._tenants import Quota, TenantStore
from stele.sim import SimEnv
from stele.store import StoreCorrupted
from stele.store._integrity import check_store


def _fill(path: str) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    durable = DurableStore(db)
    for i in range(3):
        ident = f"run{i}"
        durable.begin(ident, {"target": "f", "i": i})
        for seq in range(3):
            durable.append(ident, seq, bytes([i, seq]) * 4)
        if i == 0:
            durable.finish(ident, {"target": "f", "i": i}, [i, "done"])
        else:
            durable.save_snapshot(ident, GuestSnapshot(2, b"snap%d" % i, bytes(32), 7, b"ans"))
    db.close()
    jobs = JobStore(path)
    for i in range(3):
        jobs.submit(f"tenant{i}", f"idem{i}" if i else None, b"request %d" % i)
    jobs.close()
    tenants = TenantStore(path)
    env = SimEnv(seed=1)
    for name in ("alice", "bob"):
        tenants.add(env, name, Quota())
    tenants.close()


#: (table, key columns, the row's name from the key, a damageable column of each kind)
_TABLES: list[tuple[str, str, str]] = [
    ("durable_exec", "id", "{0}"),
    ("durable_journal", "id, seq", "{0}#{1}"),
    ("durable_snapshot", "id", "{0}"),
    ("daemon_jobs", "seq", "job-{0}"),
    ("daemon_tenants", "name", "{0}"),
]
_BLOBS = {"durable_exec": "header", "durable_journal": "entry", "durable_snapshot": "snapshot",
          "daemon_jobs": "request", "daemon_tenants": "quota"}
_TEXTS = {"durable_exec": "state", "daemon_jobs": "state"}
_INTS = {"durable_snapshot": "output", "daemon_jobs": "attempts", "daemon_tenants": "admin"}


def _damage(path: str, rng: random.Random, count: int) -> set[tuple[str, str]]:
    db = sqlite3.connect(path, isolation_level=None)
    pool: list[tuple[str, str, str, tuple[Any, ...]]] = []
    for table, keys, name in _TABLES:
        for key in db.execute(f"SELECT {keys} FROM {table}"):
            pool.append((table, keys, name, tuple(key)))
    hit: set[tuple[str, str]] = set()
    for table, keys, name, key in rng.sample(pool, count):
        where = " AND ".join(f"{k.strip()} = ?" for k in keys.split(","))
        choices = ["flip", "truncate", "chk"]
        if table in _TEXTS:
            choices.append("utf8")
        if table in _INTS:
            choices.append("int")
        how = rng.choice(choices)
        if how in ("flip", "truncate"):
            col = _BLOBS[table]
            (blob,) = db.execute(f"SELECT {col} FROM {table} WHERE {where}", key).fetchone()
            if how == "flip":
                i = rng.randrange(len(blob))
                new = blob[:i] + bytes([blob[i] ^ (1 << rng.randrange(8))]) + blob[i + 1:]
            else:
                new = blob[:rng.randrange(len(blob))]
            db.execute(f"UPDATE {table} SET {col} = ? WHERE {where}", (new, *key))
        elif how == "chk":
            db.execute(f"UPDATE {table} SET chk = ? WHERE {where}", (bytes(16), *key))
        elif how == "utf8":
            db.execute(f"UPDATE {table} SET {_TEXTS[table]} = CAST(x'646fff6e65' AS TEXT) "
                       f"WHERE {where}", key)
        else:
            db.execute(f"UPDATE {table} SET {_INTS[table]} = {_INTS[table]} + 1 WHERE {where}",
                       key)
        hit.add((table, name.format(*key)))
    db.close()
    return hit


_ROWS = 3 + 9 + 2 + 3 + 2  # durable_exec, journal, snapshots, jobs, tenants


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 8))
def test_check_finds_every_damaged_durable_and_daemon_row(
        tmp_path_factory: pytest.TempPathFactory, seed: int, count: int) -> None:
    path = str(tmp_path_factory.mktemp("owned") / "store.sqlite")
    _fill(path)
    assert check_store(path) == (_ROWS, [])
    hit = _damage(path, random.Random(seed), count)
    scanned, damage = check_store(path)
    assert {(d.table, d.row) for d in damage if d.table != "sqlite"} == hit
    assert scanned == _ROWS


def test_a_deleted_journal_entry_is_a_gap_that_check_names(tmp_path: Path) -> None:
    path = str(tmp_path / "store.sqlite")
    _fill(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DELETE FROM durable_journal WHERE id = 'run1' AND seq = 1")
    db.close()
    _, damage = check_store(path)
    assert [(d.table, d.row, d.reason) for d in damage] == [
        ("durable_journal", "run1#2", "journal gap: expected entry #1")]
    db = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(StoreCorrupted) as info:  # the reader names the same row
        DurableStore(db).entries("run1")
    assert (info.value.table, info.value.row) == ("durable_journal", "run1#2")
    db.close()


SRC = """
def read(n: Int) -> Int ! {KV} = match perform KV.get("k") { Some(b) => size(b), None => 0 - 1 }
def write(n: Int) -> Int ! {KV} = perform KV.put("k", string_to_bytes("abcdef")); n
def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)
"""
KV = Policy.allow("p", "KV")


def test_a_program_never_sees_a_damaged_kv_value_or_a_tampered_memo_entry(
        tmp_path: Path) -> None:
    path = str(tmp_path / "store.sqlite")

    async def fill() -> None:
        async with stele.open_runtime(path) as rt:
            await rt.store(SRC)
            assert (await rt.execute("write", [1], policy=KV, tenant="t", memo=False)).value == 1
            assert (await rt.execute("fib", [12])).value == 144  # memoized

    anyio.run(fill, backend="trio")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE kv SET value = x'616263646567' WHERE tenant = 't'")  # one bit, same size
    (memo_rows,) = db.execute("SELECT count(*) FROM memo").fetchone()
    assert memo_rows >= 1
    # the measured attack: the memo entry's value becomes 666 (a re-encoded entry, no chk)
    from stele.actors.cache._key import CachedResult
    db.execute("UPDATE memo SET entry = ?",
               (CachedResult(b"\x19\x02\x9a", (("fuel", 0),)).to_cbor(),))
    db.close()

    async def read() -> None:
        async with stele.open_runtime(path) as rt:
            with pytest.raises(StoreCorrupted) as info:
                await rt.execute("read", [0], policy=KV, tenant="t", memo=False)
            assert (info.value.table, info.value.row) == ("kv", "t/k")
            r = await rt.execute("fib", [12], limits=ExecLimits())
            assert (r.value, r.memo_hit) == (144, False)  # recomputed, never 666
            assert (await rt.stats()).cache.stats.corrupt_dropped == 1

    anyio.run(read, backend="trio")
    _, damage = check_store(path)
    assert {(d.table, d.row) for d in damage} >= {("kv", "t/k")}
