"""The Fiat–Shamir transcript: determinism, domain separation, uniform challenges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.prover import P, InvalidParameters, Transcript


def _run(t: Transcript) -> tuple[object, ...]:
    t.absorb_bytes("b", b"hello")
    t.absorb_base("x", [1, 2, P - 1])
    t.absorb_ext("e", (1, 2, 3, 4))
    return (t.challenge_base("c"), t.challenge_ext("d"), t.challenge_indices("q", 5, 1000), t.challenge_bytes("z", 40))


@pytest.mark.parametrize("hash_name", ["blake2b", "sha256"])
def test_deterministic(hash_name: str) -> None:
    a = _run(Transcript("proto", hash=hash_name))  # type: ignore[arg-type]
    b = _run(Transcript("proto", hash=hash_name))  # type: ignore[arg-type]
    assert a == b


def test_hashes_differ() -> None:
    assert _run(Transcript("proto")) != _run(Transcript("proto", hash="sha256"))
    with pytest.raises(InvalidParameters):
        Transcript("proto", hash="md5")  # type: ignore[arg-type]


def test_domain_separation() -> None:
    base = Transcript("proto")
    base.absorb_bytes("a", b"xy")
    c0 = base.challenge_base("c")
    variants = []
    t = Transcript("other")  # protocol label
    t.absorb_bytes("a", b"xy")
    variants.append(t)
    t = Transcript("proto")  # absorb label
    t.absorb_bytes("b", b"xy")
    variants.append(t)
    t = Transcript("proto")  # boundary between label and data
    t.absorb_bytes("ax", b"y")
    variants.append(t)
    t = Transcript("proto")  # bytes vs base element encoding of the same bytes
    t.absorb_base("a", [int.from_bytes(b"xy\0\0", "little")])
    variants.append(t)
    for v in variants:
        assert v.challenge_base("c") != c0
    # The squeeze label matters too, and squeezing advances the state.
    t = Transcript("proto")
    t.absorb_bytes("a", b"xy")
    assert t.challenge_base("d") != c0
    assert t.challenge_base("d") != t.challenge_base("d")


def test_copy_and_fork() -> None:
    t = Transcript("proto")
    t.absorb_bytes("a", b"1")
    c = t.copy()
    assert c.state() == t.state()
    assert c.challenge_ext("x") == t.challenge_ext("x")
    f = t.fork("branch")
    assert f.state() != t.state()


@given(st.integers(min_value=1, max_value=2**32), st.integers(min_value=0, max_value=50))
def test_indices_in_range(bound: int, count: int) -> None:
    t = Transcript("idx")
    idx = t.challenge_indices("q", count, bound)
    assert len(idx) == count and all(0 <= i < bound for i in idx)


def test_challenges_are_canonical_and_spread() -> None:
    t = Transcript("spread")
    vals = t.challenge_bases("c", 4000).tolist()
    assert all(0 <= v < P for v in vals)
    assert len(set(vals)) == len(vals)
    assert abs(sum(vals) / len(vals) / P - 0.5) < 0.03
    # Small bounds: every residue appears (no value is unreachable).
    assert set(t.challenge_indices("q", 600, 3)) == {0, 1, 2}
    exts = t.challenge_exts("e", 10)
    assert len(set(exts)) == 10 and all(0 <= c < P for e in exts for c in e)


def test_absorb_rejects_non_canonical() -> None:
    t = Transcript("x")
    with pytest.raises(InvalidParameters):
        t.absorb_base("v", [P])
    with pytest.raises(InvalidParameters):
        t.absorb_ext("v", [(0, 0, 0, P)])
    with pytest.raises(InvalidParameters):
        t.absorb_ext("v", [(0, 0, 0)])  # type: ignore[list-item]
    with pytest.raises(InvalidParameters):
        t.challenge_indices("q", 1, 0)
