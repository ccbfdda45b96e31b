"""Damaged stores: random damage is found by ``stele store check`` and never served.

A store is filled through the real layers (repository objects and names, the
KV effect's table, memo level two), closed, then damaged at random: bit
flips in blobs, truncated values, invalid UTF-8 in TEXT cells, rows moved to
another key, checksums overwritten.  ``check_store`` must report exactly the
damaged rows, the CLI must exit 1, and reads of a damaged row must raise
:class:`StoreCorrupted` (KV, objects) or be dropped as a miss (memo).
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.cache import MemoCache
from stele.actors.cache._key import CachedResult, MemoKey
from stele.actors.sandbox import KVStore
from stele.protocol import Digest
from stele.store import DigestMismatch, ObjectStore, StoreCorrupted
from stele.store._cli import check_main
from stele.store._integrity import check_store
from stele.store._store import NewObject


def _fill(path: str, n: int = 12) -> None:
    store = ObjectStore(path, clock=lambda: 0)
    ds: list[Digest] = []
    for i in range(n):
        ds.append(store.put(NewObject("blob", f"payload {i}".encode() * (i + 1),
                                      tuple(ds[-1:]))))
    store.commit(bindings=[(f"n.x{i}", ds[i]) for i in range(min(4, n))],
                 meta=[(ds[i], "locals", bytes([i + 1]) * 3) for i in range(min(3, n))])
    store.close()
    kv = KVStore(path)
    for i in range(n):
        kv.put(f"tenant{i % 3}", f"key{i}", bytes([i]) * (i + 5))
    kv.close()
    memo = MemoCache(disk_path=path)
    for i in range(n):
        memo.put(MemoKey.build(Digest.of(b"code"), [i], "v1", "tel"),
                 CachedResult(b"\x18" + bytes([i + 24]), (("fuel", i),)))
    memo.close()


def _flip(b: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(b))
    return b[:i] + bytes([b[i] ^ (1 << rng.randrange(8))]) + b[i + 1:]


def _damage(path: str, rng: random.Random, count: int) -> set[tuple[str, str]]:
    """Damage ``count`` distinct rows with SQL; return their (table, row) names."""
    db = sqlite3.connect(path, isolation_level=None)
    db.text_factory = bytes
    rows: list[tuple[str, bytes, bytes]] = []
    rows += [("objects", oid, b"") for (oid,) in db.execute("SELECT id FROM objects")]
    rows += [("kv", t, k) for t, k in db.execute("SELECT tenant, key FROM kv")]
    rows += [("memo", k, b"") for (k,) in db.execute("SELECT key FROM memo")]
    extra: list[tuple[str, str, tuple[object, ...]]] = []
    for table, where in (("deps", "id, position"), ("names", "name"),
                         ("name_history", "seq, name"), ("meta", "id, key")):
        for r in db.execute(f"SELECT {where} FROM {table}"):
            key = tuple(c.decode() if isinstance(c, bytes) else c for c in r)
            extra.append((table, where, key))
    pool: list[object] = [*rows, *extra]
    hit: set[tuple[str, str]] = set()
    other = [oid.decode() for t, oid, _ in rows if t == "objects"]
    for pick in rng.sample(pool, count):
        if len(pick) == 3 and isinstance(pick[2], tuple):  # type: ignore[arg-type]
            table, where, key = pick  # type: ignore[misc]
            cond = " AND ".join(f"{c.strip()} = ?" for c in where.split(","))
            if rng.random() < 0.3:
                db.execute(f"UPDATE {table} SET chk = ? WHERE {cond}", (bytes(16), *key))
            elif table in ("deps", "names"):  # a valid-looking but different digest
                col = "dep" if table == "deps" else "id"
                (cur,) = db.execute(f"SELECT {col} FROM {table} WHERE {cond}", key).fetchone()
                new = next(o for o in rng.sample(other, len(other)) if o != cur.decode())
                db.execute(f"UPDATE {table} SET {col} = ? WHERE {cond}", (new, *key))
            elif table == "name_history":
                db.execute(f"UPDATE {table} SET author = 'mallory' WHERE {cond}", key)
            else:
                (v,) = db.execute(f"SELECT value FROM meta WHERE {cond}", key).fetchone()
                db.execute(f"UPDATE meta SET value = ? WHERE {cond}", (_flip(v, rng), *key))
            hit.add((table, "/".join(str(c) for c in key)))
            continue
        table, a, b = pick  # type: ignore[misc]
        ta, tb = a.decode("latin-1"), b.decode()  # TEXT cells are bound as str (memo keys unused)
        how = rng.choice(("flip", "truncate", "utf8", "chk", "move"))
        if table == "objects":
            (payload,) = db.execute("SELECT payload FROM objects WHERE id = ?", (ta,)).fetchone()
            if how == "truncate":
                new = payload[: rng.randrange(len(payload))]
            else:
                new = _flip(payload, rng)
            if how == "utf8":
                db.execute("UPDATE objects SET kind = ? WHERE id = ?", (b"bl\xffob", ta))
            else:
                db.execute("UPDATE objects SET payload = ? WHERE id = ?", (new, ta))
            hit.add(("objects", a.decode()))
        elif table == "kv":
            (value,) = db.execute("SELECT value FROM kv WHERE tenant = ? AND key = ?",
                                  (ta, tb)).fetchone()
            name = f"{a.decode()}/{b.decode()}"
            if how == "flip":
                db.execute("UPDATE kv SET value = ? WHERE tenant = ? AND key = ?",
                           (_flip(value, rng), ta, tb))
            elif how == "truncate":
                db.execute("UPDATE kv SET value = ? WHERE tenant = ? AND key = ?",
                           (value[: rng.randrange(len(value))], ta, tb))
            elif how == "utf8":  # invalid UTF-8 in a TEXT cell
                db.execute("UPDATE kv SET key = CAST(? AS TEXT) WHERE tenant = ? AND key = ?",
                           (b + b"\xff", ta, tb))
                bad = b + bytes([0xFF])
                name = f"{a.decode()}/{bad.hex()}"
            elif how == "chk":
                db.execute("UPDATE kv SET chk = ? WHERE tenant = ? AND key = ?",
                           (bytes(16), ta, tb))
            else:  # the value moved to another row
                db.execute("UPDATE kv SET key = ? WHERE tenant = ? AND key = ?",
                           (tb + "-moved", ta, tb))
                name = f"{a.decode()}/{b.decode()}-moved"
            hit.add(("kv", name))
        else:
            (entry,) = db.execute("SELECT entry FROM memo WHERE key = ?", (a,)).fetchone()
            if how in ("flip", "utf8"):
                db.execute("UPDATE memo SET entry = ? WHERE key = ?", (_flip(entry, rng), a))
            elif how == "truncate":
                db.execute("UPDATE memo SET entry = ? WHERE key = ?",
                           (entry[: rng.randrange(len(entry))], a))
            elif how == "chk":
                db.execute("UPDATE memo SET chk = NULL WHERE key = ?", (a,))
            else:
                moved = bytes(32 - len(a)) + _flip(a, rng)[len(a) - 32:] if len(a) < 32 \
                    else _flip(a, rng)
                db.execute("UPDATE memo SET key = ? WHERE key = ?", (moved, a))
                a = moved
            hit.add(("memo", a.hex()))
    db.close()
    return hit


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 10))
def test_check_finds_every_damaged_row(tmp_path_factory: pytest.TempPathFactory,
                                       seed: int, count: int) -> None:
    path = str(tmp_path_factory.mktemp("dmg") / "store.sqlite")
    _fill(path)
    hit = _damage(path, random.Random(seed), count)
    scanned, damage = check_store(path)
    found = {(d.table, d.row) for d in damage if d.table != "sqlite"}
    assert found == hit
    assert scanned == 58


def test_clean_store_checks_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "store.sqlite")
    _fill(path)
    assert check_main([path, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["damaged"] == 0 and out["rows"] == [] and out["rows_scanned"] == 58


def test_reads_of_damaged_rows_are_typed(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "store.sqlite")
    _fill(path, 3)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE kv SET value = x'00010203040506' WHERE key = 'key1'")  # same length
    db.execute("UPDATE kv SET key = CAST(x'6b6579ff' AS TEXT) WHERE key = 'key2'")
    (oid,) = db.execute("SELECT id FROM objects LIMIT 1").fetchone()
    db.execute("UPDATE objects SET payload = x'00' WHERE id = ?", (oid,))
    # the measured attack: a memo entry whose value was changed to 666
    (mk,) = db.execute("SELECT key FROM memo LIMIT 1").fetchone()
    db.execute("UPDATE memo SET entry = ? WHERE key = ?",
               (CachedResult(b"\x19\x02\x9a", (("fuel", 0),)).to_cbor(), mk))
    db.close()
    kv = KVStore(path)
    with pytest.raises(StoreCorrupted) as info:
        kv.get("tenant1", "key1")
    assert info.value.table == "kv" and info.value.row == "tenant1/key1"
    with pytest.raises(StoreCorrupted, match="invalid UTF-8"):
        kv.keys("tenant2")
    assert kv.get("tenant0", "key0") == bytes(5)
    kv.close()
    store = ObjectStore(path, clock=lambda: 0)
    with pytest.raises(DigestMismatch) as dm:
        store.get(Digest.parse(oid))
    assert isinstance(dm.value, StoreCorrupted) and dm.value.table == "objects"
    store.close()
    memo = MemoCache(disk_path=path)
    keys = [MemoKey.build(Digest.of(b"code"), [i], "v1", "tel") for i in range(3)]
    served = [memo.get(k, {}) for k in keys]
    assert all(r is None or r.value != b"\x19\x02\x9a" for r in served)
    assert memo.stats.corrupt_dropped == 1
    memo.close()
    assert check_main([path]) == 6
    out = capsys.readouterr().out
    assert "damaged: kv tenant1/key1: checksum mismatch" in out


def test_truncated_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "store.sqlite"
    _fill(str(path), 40)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert check_main([str(path), "--json"]) == 6
    out = json.loads(capsys.readouterr().out)
    assert out["damaged"] >= 1


def test_missing_store_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main([str(tmp_path / "nope.sqlite")]) == 5
    assert "no store at" in capsys.readouterr().err


def test_invalid_utf8_in_a_name_is_typed(tmp_path: Path) -> None:
    path = str(tmp_path / "store.sqlite")
    store = ObjectStore(path, clock=lambda: 0)
    d = store.put(NewObject("blob", b"x"))
    store.set_name("a.b", d)
    store.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE names SET name = CAST(x'612eff' AS TEXT)")
    db.close()
    store = ObjectStore(path, clock=lambda: 0)
    with pytest.raises(StoreCorrupted, match="not UTF-8"):
        store.names()
    store.close()


def test_reads_of_damaged_name_deps_meta_rows_are_typed(tmp_path: Path) -> None:
    path = str(tmp_path / "store.sqlite")
    _fill(path, 4)
    db = sqlite3.connect(path, isolation_level=None)
    (x1,) = db.execute("SELECT id FROM names WHERE name = 'n.x1'").fetchone()
    db.execute("UPDATE names SET id = ? WHERE name = 'n.x0'", (x1,))  # valid, but different
    db.execute("UPDATE name_history SET time_ns = 7 WHERE name = 'n.x2'")
    db.execute("UPDATE meta SET value = x'000000' WHERE key = 'locals'")
    (dep_of,) = db.execute("SELECT id FROM deps WHERE position = 0 LIMIT 1").fetchone()
    db.execute("UPDATE deps SET dep = ? WHERE id = ?", (x1, dep_of))
    db.close()
    store = ObjectStore(path, clock=lambda: 0)
    with pytest.raises(StoreCorrupted) as info:
        store.lookup("n.x0")
    assert (info.value.table, info.value.row) == ("names", "n.x0")
    with pytest.raises(StoreCorrupted, match="row 'n.x0'"):
        store.names()
    with pytest.raises(StoreCorrupted) as info:
        store.history("n.x2")
    assert info.value.table == "name_history" and info.value.row.endswith("/n.x2")
    with pytest.raises(StoreCorrupted) as info:
        store.get_meta(Digest.parse(x1), "locals")
    assert info.value.table == "meta"
    with pytest.raises(StoreCorrupted) as info:
        store.get(Digest.parse(dep_of))
    assert (info.value.table, info.value.row) == ("deps", f"{dep_of}/0")
    store.close()


def test_old_store_is_migrated_once(tmp_path: Path) -> None:
    path = str(tmp_path / "store.sqlite")
    _fill(path, 4)
    db = sqlite3.connect(path, isolation_level=None)
    for table in ("deps", "names", "name_history", "meta"):
        db.execute(f"ALTER TABLE {table} DROP COLUMN chk")
    db.close()
    assert check_store(path)[1] == []
    store = ObjectStore(path, clock=lambda: 0)
    assert [n for n, _ in store.names()] == ["n.x0", "n.x1", "n.x2", "n.x3"]
    store.close()
    scanned, damage = check_store(path)
    assert damage == [] and scanned > 0


def test_a_kv_table_sqlite_cannot_open_is_store_unavailable(tmp_path: Path) -> None:
    """Not a raw sqlite3.OperationalError: a typed store error naming the path."""
    from stele.actors.sandbox import KVStore
    from stele.store import StoreUnavailable

    bad = tmp_path / "dir-not-file"
    bad.mkdir()
    with pytest.raises(StoreUnavailable, match="dir-not-file"):
        KVStore(str(bad))
