"""Pins for the frame limits found unpinned by mutation testing (issue 19).

Behaviours: the default frame limit is exactly 16 MiB, on both sides (a
decoder refuses a header announcing one byte more and waits for the payload
of a header at the limit; the encoder refuses a payload one byte over); a
decoder's limit can be anything a 4-byte header can state, up to 2**32 - 1,
and nothing above.
"""

from __future__ import annotations

import pytest

from stele.protocol import MAX_FRAME_SIZE, FrameDecoder, FrameError, encode_frame

MIB16 = 16 * 1024 * 1024


def test_the_default_frame_limit_is_16_mib() -> None:
    assert MAX_FRAME_SIZE == MIB16
    at = FrameDecoder()
    at.feed(MIB16.to_bytes(4, "big"))
    assert at.next_frame() is None and at.buffered == 4  # accepted: waits for the payload
    over = FrameDecoder()
    over.feed((MIB16 + 1).to_bytes(4, "big"))
    with pytest.raises(FrameError) as info:
        over.next_frame()
    assert (info.value.reason, info.value.offset) == (
        f"frame of {MIB16 + 1} bytes exceeds the limit {MIB16}", 0)


def test_the_encoder_refuses_one_byte_over_the_default_limit() -> None:
    payload = bytes(MIB16)
    assert encode_frame(payload)[:4] == MIB16.to_bytes(4, "big")
    with pytest.raises(FrameError) as info:
        encode_frame(payload + b"x")
    assert info.value.reason == f"payload of {MIB16 + 1} bytes exceeds the frame limit {MIB16}"


def test_a_decoder_limit_is_at_most_what_a_header_can_state() -> None:
    top = 2**32 - 1  # the largest length a 4-byte big-endian header holds
    dec = FrameDecoder(top)
    dec.feed(b"\xff\xff\xff\xff")
    assert dec.next_frame() is None  # within the limit: waits for the payload
    assert FrameDecoder(0).buffered == 0
    for bad in (top + 1, -1):
        with pytest.raises(ValueError, match=rf"^max_size={bad} is outside \[0, {top}\]$"):
            FrameDecoder(bad)


def test_the_encoder_names_its_limit_in_the_error() -> None:
    with pytest.raises(FrameError) as info:
        encode_frame(b"abc", max_size=2)
    assert info.value.reason == "payload of 3 bytes exceeds the frame limit 2"
    # A limit above what a header can state is not a promise to send more:
    # a small payload still goes out unchanged.
    assert encode_frame(b"abc", max_size=2**40) == b"\x00\x00\x00\x03abc"


class _CountingBuffer(bytearray):
    """A bytearray that counts the bytes a front deletion moves (white box: the decoder's buffer)."""

    moved = 0

    def __delitem__(self, key: object) -> None:
        if isinstance(key, slice) and key.start is None and isinstance(key.stop, int):
            self.moved += len(self) - key.stop  # what memmove shifts to the front
        super().__delitem__(key)  # type: ignore[arg-type]


def test_splitting_many_small_frames_from_one_chunk_moves_linear_bytes() -> None:
    # The decoder drops consumed bytes only once they dominate the buffer,
    # so splitting n frames costs O(n) copying, not O(n^2).
    n = 20_000
    data = b"".join(encode_frame(bytes([i % 251])) for i in range(n))
    dec = FrameDecoder()
    dec._buf = buf = _CountingBuffer()  # type: ignore[assignment]
    dec.feed(data)
    got = []
    while (frame := dec.next_frame()) is not None:
        got.append(frame)
    assert got == [bytes([i % 251]) for i in range(n)]
    assert dec.offset == len(data) and dec.buffered == 0
    assert buf.moved <= len(data), buf.moved
