"""Canonical CBOR: RFC 8949 vectors, canonical round trips, strict rejection, robustness."""

from __future__ import annotations

import enum

import cbor2
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from stele.protocol import DEPTH_CEILING, MAX_DEPTH, DecodeError, Digest, EncodeError, decode, encode

from .strategies import cbor_ints, cbor_values

# RFC 8949 Appendix A (the subset inside Stele's data model).
VECTORS = [
    (0, "00"),
    (1, "01"),
    (23, "17"),
    (24, "1818"),
    (100, "1864"),
    (1000, "1903e8"),
    (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"),
    (18446744073709551615, "1bffffffffffffffff"),
    (-18446744073709551616, "3bffffffffffffffff"),
    (-1, "20"),
    (-10, "29"),
    (-100, "3863"),
    (-1000, "3903e7"),
    (False, "f4"),
    (True, "f5"),
    (None, "f6"),
    (b"", "40"),
    (b"\x01\x02\x03\x04", "4401020304"),
    ("", "60"),
    ("a", "6161"),
    ("IETF", "6449455446"),
    ('"\\', "62225c"),
    ("\u00fc", "62c3bc"),
    ("\u6c34", "63e6b0b4"),
    ("\U00010151", "64f0908591"),
    ([], "80"),
    ([1, 2, 3], "83010203"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ({}, "a0"),
    ({1: 2, 3: 4}, "a201020304"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    (["a", {"b": "c"}], "826161a161626163"),
    ({"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"}, "a56161614161626142616361436164614461656145"),
]


@pytest.mark.parametrize(("value", "hexed"), VECTORS)
def test_rfc8949_vectors(value: object, hexed: str) -> None:
    assert encode(value).hex() == hexed
    assert decode(bytes.fromhex(hexed)) == value


def test_map_keys_sort_bytewise_not_length_first() -> None:
    # RFC 8949 §4.2.1: keys sort by their encodings' bytes (10, 100, -1, "z", "aa").
    value = {"aa": 0, "z": 0, -1: 0, 100: 0, 10: 0}
    assert encode(value).hex() == "a5" + "0a00" + "186400" + "2000" + "617a00" + "62616100"
    # cbor2's canonical mode sorts length-first (RFC 7049), which differs here:
    assert cbor2.dumps({1000: 0, "a": 0}, canonical=True) != encode({1000: 0, "a": 0})
    assert encode({1000: 0, "a": 0}).hex() == "a21903e8006161" + "00"


def test_tuples_and_enums_and_digests_encode_as_plain_data() -> None:
    class Color(enum.Enum):
        RED = "red"

    class Level(enum.IntEnum):
        HIGH = 3

    d = Digest.of(b"x")
    assert encode((1, 2)) == encode([1, 2])
    assert encode([Color.RED, Level.HIGH]) == encode(["red", 3])
    assert decode(encode(d)) == d.binary

    class Index:
        """An integer-like scalar (as numpy's ints are): encoded through ``__index__``."""

        def __index__(self) -> int:
            return 300

    assert encode([Index()]) == encode([300])

    class Name(str, enum.Enum):
        A = "a"

    class Loud(str):
        def __str__(self) -> str:
            return "LOUD"

    assert encode({Name.A: Level.HIGH, Level.HIGH: Name.A}) == encode({"a": 3, 3: "a"})
    assert encode([Loud("q")]) == encode(["q"]) and encode({Loud("q"): 1}) == encode({"q": 1})
    with pytest.raises(EncodeError, match="not valid UTF-8"):
        encode({"\ud800": 1})


@pytest.mark.parametrize(
    "bad",
    [1.0, float("nan"), [1, 2.5], {"x": {"y": 0.0}}, 2**64, -(2**64) - 1, {(1,): 1}, {True: 1},
     {None: 1}, {1.0: 1}, object(), {1, 2}, frozenset(), "\ud800"],
)
def test_encode_rejects_values_outside_the_model(bad: object) -> None:
    with pytest.raises(EncodeError):
        encode(bad)


def test_encode_error_names_the_path() -> None:
    with pytest.raises(EncodeError, match=r"at \[1\]\['amount'\]\[0\]: float"):
        encode([0, {"amount": [1.5]}])


def test_depth_limit_applies_to_encode_and_decode() -> None:
    value: object = 0
    for _ in range(MAX_DEPTH):
        value = [value]
    data = encode(value)
    assert decode(data) == value
    with pytest.raises(EncodeError, match="deeper"):
        encode([value])
    with pytest.raises(DecodeError, match="deeper than the limit 64") as info:
        decode(b"\x81" + data)
    assert info.value.offset == MAX_DEPTH
    with pytest.raises(DecodeError, match="deeper"):
        decode(b"\x80", max_depth=0)
    # Empty containers count too.
    with pytest.raises(DecodeError, match="deeper"):
        decode(b"\x81" * MAX_DEPTH + b"\xa0")


def test_deep_recursion_input_is_rejected_without_recursion() -> None:
    data = b"\x81" * 1_000_000 + b"\x00"
    with pytest.raises(DecodeError, match="deeper"):
        decode(data)
    deep = b"\x81" * DEPTH_CEILING + b"\x00"
    assert decode(deep, max_depth=DEPTH_CEILING) is not None
    with pytest.raises(DecodeError, match="deeper"):
        decode(b"\x81" + deep, max_depth=DEPTH_CEILING)
    with pytest.raises(ValueError, match="max_depth"):
        decode(deep, max_depth=DEPTH_CEILING + 1)


def test_size_limit() -> None:
    data = encode(b"x" * 100)
    assert decode(data, max_size=len(data)) == b"x" * 100
    with pytest.raises(DecodeError, match=f"exceeds the limit {len(data) - 1}"):
        decode(data, max_size=len(data) - 1)


@pytest.mark.parametrize(
    ("hexed", "reason", "offset"),
    [
        ("", "truncated", 0),
        ("1801", "non-shortest argument: 1", 0),
        ("190001", "non-shortest", 0),
        ("1a0000ffff", "non-shortest", 0),
        ("1b00000000ffffffff", "non-shortest", 0),
        ("821801", "non-shortest", 1),
        ("5801ff", "non-shortest", 0),
        ("1c", "reserved additional information 28", 0),
        ("5f4100ff", "indefinite-length bytes", 0),
        ("7fff", "indefinite-length text", 0),
        ("9fff", "indefinite-length array", 0),
        ("bfff", "indefinite-length map", 0),
        ("ff", "unexpected break", 0),
        ("f90000", "floats", 0),
        ("fa00000000", "floats", 0),
        ("fb0000000000000000", "floats", 0),
        ("f7", "undefined", 0),
        ("f0", "simple value", 0),
        ("f820", "simple value", 0),
        ("c11a514b67b0", "tags", 0),
        ("d8184100", "tags", 0),
        ("0000", "1 trailing bytes", 1),
        ("8301", "truncated: array of 3 entries", 0),
        ("43aabb", "truncated: bytes of length 3", 0),
        ("62c3", "truncated", 0),
        ("62c328", "invalid UTF-8", 1),
        ("63eda080", "invalid UTF-8", 1),  # encoded surrogate
        ("a26161016162", "truncated", 6),
        ("a2616201616102", "not in canonical .bytewise. order", 4),
        ("a2616101616102", "duplicate map key", 4),
        ("a21903e8006161 00".replace(" ", ""), "", -1),  # sanity: canonical is accepted
        ("a2616100190 3e800".replace(" ", ""), "bytewise", 4),
        ("a18000", "map key must be int, str or bytes", 1),
        ("a1f500", "map key must be int, str or bytes", 1),
        ("a1f600", "map key must be int, str or bytes", 1),
        ("9b00000001000000000000", "truncated: array of 4294967296 entries", 0),
        ("bb7fffffffffffffff", "truncated: map", 0),
        ("5bffffffffffffffff", "truncated: bytes", 0),
    ],
)
def test_strict_decoder_rejections(hexed: str, reason: str, offset: int) -> None:
    data = bytes.fromhex(hexed)
    if not reason:
        decode(data)
        return
    with pytest.raises(DecodeError, match=reason) as info:
        decode(data)
    assert info.value.offset == offset


def _key_majors_uniform(value: object) -> bool:
    """True if every map in ``value`` has keys of one CBOR major type."""
    if isinstance(value, list):
        return all(_key_majors_uniform(v) for v in value)
    if isinstance(value, dict):
        majors = {(type(k), isinstance(k, int) and k < 0) for k in value}
        return len(majors) <= 1 and all(_key_majors_uniform(v) for v in value.values())
    return True


@given(cbor_values)
def test_decode_inverts_encode(value: object) -> None:
    data = encode(value)
    assert decode(data) == value
    # cbor2 (an independent decoder) agrees on the value...
    assert cbor2.loads(data) == value
    # ...and encoding is a function of the value alone.
    assert encode(decode(data)) == data
    # Where RFC 7049 length-first and RFC 8949 bytewise key order coincide (one
    # key major type per map), cbor2's canonical encoder is an independent oracle.
    if _key_majors_uniform(value):
        assert data == cbor2.dumps(value, canonical=True)


@given(st.dictionaries(st.one_of(cbor_ints, st.text(max_size=4), st.binary(max_size=4)),
                       st.integers(0, 3), min_size=2, max_size=8))
def test_unsorted_map_is_rejected(value: dict[object, int]) -> None:
    entries = sorted((encode(k) + encode(v) for k, v in value.items()), reverse=True)
    data = bytes([0xA0 | len(value)]) + b"".join(entries)
    with pytest.raises(DecodeError, match="canonical"):
        decode(data)


@given(cbor_ints, st.sampled_from([1, 2, 4, 8]))
def test_non_shortest_integers_are_rejected(n: int, width: int) -> None:
    major, arg = (0, n) if n >= 0 else (1, -1 - n)
    shortest = encode(n)
    assume(arg < 2 ** (8 * width))
    ai = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    data = bytes([(major << 5) | ai]) + arg.to_bytes(width, "big")
    if data == shortest:
        assert decode(data) == n
    else:
        with pytest.raises(DecodeError, match="non-shortest"):
            decode(data)


@given(st.binary(max_size=200))
@example(b"\x9b\xff\xff\xff\xff\xff\xff\xff\xff")
@example(b"\x81" * 70)
def test_random_bytes_never_crash_the_decoder(data: bytes) -> None:
    try:
        value = decode(data)
    except DecodeError as exc:
        assert 0 <= exc.offset <= len(data)
        # No false rejections: if an independent decoder reads a value whose
        # canonical encoding is exactly these bytes, we must have accepted them.
        try:
            other = cbor2.loads(data)
            again = encode(other)
        except Exception:  # cbor2 rejects it too, or it is outside our data model
            return
        assert again != data
    else:
        assert encode(value) == data


@given(cbor_values, st.data())
def test_mutated_encodings_decode_canonically_or_fail_cleanly(value: object, data: st.DataObject) -> None:
    raw = bytearray(encode(value))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    mutated = bytes(raw[:cut]) + data.draw(st.binary(max_size=3))
    try:
        decoded = decode(mutated)
    except DecodeError:
        return
    assert encode(decoded) == mutated


wild_scalars = st.one_of(
    cbor_values,
    st.floats(allow_nan=True),
    st.integers(),
    st.text(st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=3),
    st.sets(st.integers(0, 3), max_size=2),
    st.just(object()),
    st.builds(bytearray, st.binary(max_size=4)),
)
wild_values = st.recursive(
    wild_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(cbor_ints, st.text(max_size=3), st.booleans(), st.floats(), st.none()),
                        inner, max_size=4),
    ),
    max_leaves=15,
)


@given(wild_values)
def test_encode_succeeds_canonically_or_raises_encode_error(value: object) -> None:
    try:
        data = encode(value)
    except EncodeError as exc:
        assert exc.reason
        return
    assert encode(decode(data)) == data
