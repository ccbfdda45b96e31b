"""Pins for object-store behaviour found unpinned by mutation testing (issue 19).

With read verification on, an object whose stored bytes were changed on disk
is refused on the batch (``closure``/prefetch) path exactly as on ``get``;
with it off, the tampered bytes come back.  The loader cache serves repeats on
both paths and ``cache_size=1`` keeps exactly the last object.  Annotations
are read back by ``get_meta`` and replaced by a later write.  ``has`` is False
for a digest never stored, and ``resolve`` refuses an unknown algorithm prefix.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stele.protocol import Digest, DigestError, encode
from stele.store import DigestMismatch, NewObject, ObjectStore


def _clock() -> int:
    return 1_000


def _obj(label: str, *deps: Digest) -> NewObject:
    return NewObject("test", encode([label, [d.binary for d in deps]]), tuple(deps))


def _tamper(path: str, d: Digest) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE objects SET payload = ? WHERE id = ?", (b"tampered", str(d)))
    db.close()


def _chain(path: str) -> tuple[Digest, Digest]:
    s = ObjectStore(path, clock=_clock)
    leaf = s.put(_obj("leaf"))
    root = s.put(_obj("root", leaf))
    s.close()
    return leaf, root


@pytest.mark.parametrize("cache_size", [0, 1, 1024])
def test_closure_verifies_every_object_it_loads(tmp_path: Path, cache_size: int) -> None:
    path = str(tmp_path / "s.sqlite")
    leaf, root = _chain(path)
    _tamper(path, leaf)
    s = ObjectStore(path, clock=_clock, cache_size=cache_size)
    with pytest.raises(DigestMismatch):
        s.closure([root])
    with pytest.raises(DigestMismatch):
        s.get(leaf)


def test_closure_without_verification_returns_the_stored_bytes(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")
    leaf, root = _chain(path)
    _tamper(path, leaf)
    s = ObjectStore(path, clock=_clock, verify_reads=False)
    got = {o.digest: o.payload for o in s.closure([root])}
    assert got[leaf] == b"tampered"


def test_closure_fills_the_cache_and_cache_size_one_keeps_the_last(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")
    leaf, root = _chain(path)
    s = ObjectStore(path, clock=_clock, cache_size=1)
    assert {o.digest for o in s.closure([root])} == {leaf, root}
    hits, misses = s.cache_hits, s.cache_misses
    s.get(leaf)
    s.get(root)
    s.get(root)
    # one slot: at most one of the two was still cached, the repeat is a hit
    assert s.cache_hits - hits >= 1
    assert s.cache_misses - misses >= 1
    s0 = ObjectStore(path, clock=_clock, cache_size=0)
    s0.get(root)
    s0.get(root)
    assert (s0.cache_hits, s0.cache_misses) == (0, 2)


def test_cache_size_one_evicts_the_older(tmp_path: Path) -> None:
    s = ObjectStore(None, clock=_clock, cache_size=1)
    a, b = s.put_many([_obj("a"), _obj("b")])
    s.get(a)
    s.get(b)
    s.get(b)
    s.get(a)
    assert (s.cache_hits, s.cache_misses) == (1, 3)


def test_get_meta_reads_back_and_a_later_write_replaces() -> None:
    s = ObjectStore(None, clock=_clock)
    d = s.put(_obj("x"))
    assert s.get_meta(d, "names") is None
    s.commit(meta=[(d, "names", b"one")])
    assert s.get_meta(d, "names") == b"one"
    assert s.get_meta(d, "other") is None
    s.commit(meta=[(d, "names", b"two")])
    assert s.get_meta(d, "names") == b"two"
    assert s.get_meta_many([d], "names") == {d: b"two"}


@pytest.mark.parametrize("cache_size", [0, 1, 1024])
def test_has_is_false_for_an_unknown_digest_and_true_once_stored(
        tmp_path: Path, cache_size: int) -> None:
    path = str(tmp_path / "s.sqlite")
    leaf, root = _chain(path)
    s = ObjectStore(path, clock=_clock, cache_size=cache_size)
    missing = Digest.of(b"never stored")
    assert not s.has(missing)
    assert s.has(leaf) and s.has(root)           # from disk, nothing cached yet
    s.get(leaf)
    assert s.has(leaf) and not s.has(missing)    # and from the cache


def test_resolve_refuses_an_unknown_algorithm_prefix(tmp_path: Path) -> None:
    leaf, _ = _chain(str(tmp_path / "s.sqlite"))
    s = ObjectStore(str(tmp_path / "s.sqlite"), clock=_clock)
    text = str(leaf)
    head, _, hexpart = text.partition(":")
    assert s.resolve(text) == leaf
    assert s.resolve(f"{head}:{hexpart[:12]}") == leaf
    with pytest.raises(DigestError, match="unknown digest prefix 'zz'"):
        s.resolve(f"zz:{hexpart[:12]}")
