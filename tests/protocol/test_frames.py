"""Length-prefixed frames: chunking independence, size limit, end-of-stream handling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.protocol import FrameDecoder, FrameError, encode_frame


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def run(chunks: list[bytes], max_size: int, eof: bool) -> tuple[list[bytes], tuple[str, int] | None]:
    dec = FrameDecoder(max_size)
    out: list[bytes] = []

    def drain() -> tuple[str, int] | None:
        while True:
            try:
                frame = dec.next_frame()
            except FrameError as exc:
                return exc.reason, exc.offset
            if frame is None:
                return None
            out.append(frame)

    for chunk in chunks:
        dec.feed(chunk)
        err = drain()
        if err:
            return out, err
    if eof:
        dec.feed_eof()
        return out, drain()
    return out, None


def test_encode_frame_layout() -> None:
    assert encode_frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert encode_frame(b"") == b"\x00\x00\x00\x00"
    with pytest.raises(FrameError, match="payload of 5 bytes exceeds the frame limit 4"):
        encode_frame(b"12345", max_size=4)


def test_oversize_header_is_refused_before_the_payload_arrives() -> None:
    dec = FrameDecoder(10)
    dec.feed(encode_frame(b"ok"))
    dec.feed(b"\x00\x00\x00\x0b")
    assert dec.next_frame() == b"ok"
    with pytest.raises(FrameError, match="frame of 11 bytes exceeds the limit 10") as info:
        dec.next_frame()
    assert info.value.offset == 6
    with pytest.raises(FrameError, match="exceeds"):  # stays broken
        dec.next_frame()


def test_end_of_stream_inside_a_frame() -> None:
    out, err = run([b"\x00\x00\x00\x05ab"], 100, eof=True)
    assert out == [] and err == ("stream ended inside a frame (2 of 5 payload bytes)", 0)
    out, err = run([encode_frame(b"x") + b"\x00"], 100, eof=True)
    assert out == [b"x"] and err == ("stream ended inside a frame header (1 of 4 bytes)", 5)
    dec = FrameDecoder()
    dec.feed_eof()
    with pytest.raises(FrameError, match="after end of stream"):
        dec.feed(b"x")


def test_large_frames_fed_in_small_pieces_stay_linear() -> None:
    payloads = [bytes([i]) * 70_000 for i in range(5)]
    data = b"".join(encode_frame(p) for p in payloads)
    dec = FrameDecoder()
    got = []
    for i in range(0, len(data), 997):
        dec.feed(data[i : i + 997])
        while (frame := dec.next_frame()) is not None:
            got.append(frame)
    assert got == payloads and dec.buffered == 0 and dec.offset == len(data)


frames = st.lists(st.binary(max_size=40), max_size=6)


@given(frames, st.binary(max_size=12), st.lists(st.integers(0, 10_000), max_size=12), st.booleans(),
       st.integers(0, 48))
def test_chunking_never_changes_the_result(
    payloads: list[bytes], tail: bytes, cuts: list[int], eof: bool, max_size: int
) -> None:
    data = b"".join(encode_frame(p, max_size=2**20) for p in payloads) + tail
    whole = run([data], max_size, eof)
    assert run(split(data, cuts), max_size, eof) == whole
    assert run([data[i : i + 1] for i in range(len(data))], max_size, eof) == whole
    ok = [p for p in payloads if len(p) <= max_size]
    if len(ok) == len(payloads) and not tail:
        assert whole == (payloads, None)


@given(st.binary(max_size=300), st.booleans())
def test_random_bytes_give_frames_or_frame_errors(data: bytes, eof: bool) -> None:
    frames_out, err = run([data[i : i + 1] for i in range(len(data))], 64, eof)
    assert (frames_out, err) == run([data], 64, eof)
    assert b"".join(encode_frame(f) for f in frames_out) == data[: sum(4 + len(f) for f in frames_out)]
