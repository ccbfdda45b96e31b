"""Digests: known vectors, the three forms round-trip, prefix resolution."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.protocol import (
    ALGORITHMS,
    AmbiguousPrefix,
    Digest,
    DigestError,
    UnknownDigest,
    encode,
    resolve_prefix,
)

digests = st.builds(
    Digest,
    st.sampled_from(sorted(ALGORITHMS)),
    st.binary(min_size=32, max_size=32),
)


def test_known_vectors() -> None:
    d = Digest.of(b"")
    assert d.algorithm == "blake2b-256"
    assert d.hex == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
    assert str(d) == "b2:" + d.hex
    assert d.binary == bytes.fromhex("a0e40220") + d.value
    s = Digest.of(b"", "sha-256")
    assert str(s) == "s2:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert s.binary[:2] == b"\x12\x20"
    assert Digest.of(b"abc", "sha3-256").value == hashlib.sha3_256(b"abc").digest()


def test_of_object_digests_the_canonical_encoding() -> None:
    assert Digest.of_object({"b": 1, "a": 2}) == Digest.of(encode({"a": 2, "b": 1}))


@given(digests)
def test_forms_round_trip(d: Digest) -> None:
    assert Digest.parse(str(d)) == d
    assert Digest.parse(str(d).upper().replace("B2:", "b2:").replace("S2:", "s2:").replace("S3:", "s3:")) == d
    assert Digest.from_binary(d.binary) == d
    assert str(d).startswith(d.short())
    assert resolve_prefix(d.short(), [d]) == d
    assert eval(repr(d), {"Digest": Digest}) == d


@given(st.binary(max_size=40))
def test_from_binary_rejects_garbage_cleanly(data: bytes) -> None:
    try:
        d = Digest.from_binary(data)
    except DigestError:
        return
    assert d.binary == data


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("md5", b"\0" * 16), "unknown digest algorithm 'md5'"),
        (("blake2b-256", b"\0" * 31), "must be 32 bytes, got bytes of length 31"),
    ],
)
def test_constructor_validates(args: tuple[str, bytes], match: str) -> None:
    with pytest.raises(DigestError, match=match):
        Digest(*args)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("0e5751", "lacks an algorithm prefix"),
        ("md5:00", "unknown digest prefix 'md5'"),
        ("b2:zz", "not hex"),
        ("b2:0e5751", "needs 64 hex digits"),
    ],
)
def test_parse_rejects(text: str, match: str) -> None:
    with pytest.raises(DigestError, match=match):
        Digest.parse(text)


def test_prefix_resolution() -> None:
    a = Digest("blake2b-256", bytes.fromhex("ab" * 32))
    b = Digest("blake2b-256", bytes.fromhex("ac" + "00" * 31))
    c = Digest("sha-256", bytes.fromhex("ab" * 32))
    pool = [a, b, c]
    assert resolve_prefix("b2:ab", pool) == a
    assert resolve_prefix("ac", pool) == b
    with pytest.raises(AmbiguousPrefix) as info:
        resolve_prefix("ab", pool)
    assert info.value.candidates == (a, c)
    assert str(a) in str(info.value) and str(c) in str(info.value)
    with pytest.raises(AmbiguousPrefix):
        resolve_prefix("b2:a", pool)
    with pytest.raises(UnknownDigest, match="'b2:ff'"):
        resolve_prefix("b2:ff", pool)
    with pytest.raises(DigestError, match="not hex"):
        resolve_prefix("b2:xyz", pool)


@given(st.lists(digests, min_size=1, max_size=20, unique=True), st.data())
def test_prefix_resolution_agrees_with_brute_force(pool: list[Digest], data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(pool))
    cut = data.draw(st.integers(0, 64))
    prefix = str(target)[: 3 + cut]
    matches = [d for d in pool if str(d).startswith(prefix)]
    if len(matches) == 1:
        assert resolve_prefix(prefix, pool) == target
    else:
        with pytest.raises(AmbiguousPrefix) as info:
            resolve_prefix(prefix, pool)
        assert set(info.value.candidates) == set(matches)
