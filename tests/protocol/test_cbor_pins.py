"""Pins for the strict CBOR decoder found unpinned by mutation testing (issue 19).

Behaviours: a head whose argument bytes are cut short is a typed
``DecodeError("truncated argument")`` at the head's offset for every argument
width and major type (never an ``IndexError`` escaping), and the size limit is
the documented 16 MiB with an inclusive boundary.
"""

from __future__ import annotations

import pytest

from stele.protocol import MAX_SIZE, DecodeError, check_canonical, decode, encode

# additional-information value -> number of argument bytes that follow
_WIDTHS = {24: 1, 25: 2, 26: 4, 27: 8}


@pytest.mark.parametrize("major", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("ai", sorted(_WIDTHS))
def test_truncated_argument_is_a_typed_error_at_every_cut(major: int, ai: int) -> None:
    width = _WIDTHS[ai]
    head = bytes([(major << 5) | ai])
    for have in range(width):  # 0 .. width-1 argument bytes present
        data = head + b"\xff" * have
        for check in (decode, check_canonical):
            with pytest.raises(DecodeError) as info:
                check(data)
            assert info.value.reason == "truncated argument", (major, ai, have)
            assert info.value.offset == 0


def test_truncated_two_byte_argument_inside_an_array_names_its_offset() -> None:
    # [1, <uint with a 2-byte argument, one byte missing>]
    data = bytes([0x82, 0x01, 0x19, 0x01])
    with pytest.raises(DecodeError) as info:
        decode(data)
    assert info.value.reason == "truncated argument"
    assert info.value.offset == 2


def test_max_size_is_sixteen_mebibytes() -> None:
    assert MAX_SIZE == 16 * 1024 * 1024


def test_max_size_boundary_is_inclusive() -> None:
    blob = encode(b"x" * 100)
    assert decode(blob, max_size=len(blob)) == b"x" * 100
    with pytest.raises(DecodeError) as info:
        decode(blob, max_size=len(blob) - 1)
    assert "exceeds the limit" in info.value.reason
    assert info.value.offset == 0


def test_default_limit_refuses_one_byte_over_max_size() -> None:
    # A byte string header claiming MAX_SIZE bytes plus the head itself is over.
    data = bytes([0x5A]) + MAX_SIZE.to_bytes(4, "big") + b"\0" * MAX_SIZE
    with pytest.raises(DecodeError) as info:
        decode(data)
    assert "exceeds the limit" in info.value.reason
