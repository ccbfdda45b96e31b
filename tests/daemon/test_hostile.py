"""Hostile bytes from raw sockets: each bad connection is closed with a reason, the daemon serves on."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

import stele
from stele.daemon import DaemonUnavailable
from stele.daemon._messages import Hello
from stele.protocol import (FrameDecoder, Goodbye, Ping, Reply, Request, encode, encode_frame,
                            encode_message, decode_message)

from ._harness import FIB, Serve


async def _open(address: str) -> trio.abc.Stream:
    if address.startswith("unix:"):
        return await trio.open_unix_socket(address[5:])
    host, _, port = address[4:].rpartition(":")
    return await trio.open_tcp_stream(host, int(port))


async def _exchange(address: str, data: bytes) -> list[object]:
    """Send ``data``, then read until the daemon closes; the messages it sent."""
    stream = await _open(address)
    received = bytearray()
    with trio.fail_after(300):
        async with stream:
            try:
                await stream.send_all(data)
            except trio.BrokenResourceError:
                pass
            while True:
                try:
                    chunk = await stream.receive_some(65536)
                except trio.BrokenResourceError:
                    break
                if not chunk:
                    break
                received += chunk
    frames = FrameDecoder()
    frames.feed(bytes(received))
    out: list[object] = []
    while (payload := frames.next_frame()) is not None:
        out.append(decode_message(payload))
    return out


def _hello(token: str) -> bytes:
    return encode_frame(encode_message(Request(1, Hello(token))))


HOSTILE = {
    "not cbor": encode_frame(b"\xff\xfe\xfd"),
    "huge length": b"\x7f\xff\xff\xff" + b"x" * 100,
    "empty frame": b"\x00\x00\x00\x00",
    "unknown tag": encode_frame(encode([64999, 1, 2])),
    "non-canonical": encode_frame(b"\x82\x18\x04\x01"),  # [4, 1] with a long-form 4
    "reply to nothing": encode_frame(encode_message(Reply(77, Ping(1)))),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_malformed_frames_close_only_that_connection(daemon: Serve, tokens: dict[str, str],
                                                           transport: str, case: str) -> None:
    address = daemon.address(transport)
    for prefix in (b"", _hello(tokens["alice"])):  # before and after authenticating
        got = await _exchange(address, prefix + HOSTILE[case])
        goodbyes = [m for m in got if isinstance(m, Goodbye)]
        assert len(goodbyes) == 1 and goodbyes[0].reason.startswith("protocol error"), got
    async with stele.connect(address, token=tokens["alice"]) as rt:
        await rt.store(FIB)
        assert (await rt.execute("fib", [12])).value == 144
    assert "protocol_error" in daemon.text()


async def test_truncated_and_abandoned_connections(daemon: Serve, tokens: dict[str, str],
                                                   transport: str) -> None:
    address = daemon.address(transport)
    for data in (b"", b"\x00\x00", _hello(tokens["alice"])[:7],
                 _hello(tokens["alice"]) + encode_frame(encode_message(Ping(5)))[:6]):
        stream = await _open(address)
        await stream.send_all(data)
        await stream.aclose()
    got = await _exchange(address, encode_frame(encode_message(Request(1, Ping(3)))))
    assert len(got) == 1 and isinstance(got[0], Reply)  # Raised(AuthError): not Hello
    async with stele.connect(address, token=tokens["bob"]) as rt:
        await rt.store(FIB)
        assert (await rt.execute("fib", [11])).value == 89


async def test_oversized_frame_from_a_client(root: Path, fresh_tokens: dict[str, str]) -> None:
    serve = await Serve(root, "--max-frame-size", "4096").start()
    try:
        async with stele.connect(serve.address(), token=fresh_tokens["alice"]) as rt:
            big = FIB + "".join(f"def f{i}(x: Int) -> Int = x + {i}\n" for i in range(400))
            with pytest.raises(DaemonUnavailable, match="exceeds the limit 4096"):
                await rt.store(big)
        async with stele.connect(serve.address(), token=fresh_tokens["alice"]) as rt:
            await rt.store(FIB)
            assert (await rt.execute("fib", [10])).value == 55
    finally:
        serve.stop()
