"""The sans-I/O Connection: request/reply discipline, ERROR state, chunking independence."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from stele.protocol import (
    Connection,
    ConnectionClosed,
    ConnectionState,
    ErrorReply,
    Event,
    Goodbye,
    LocalProtocolError,
    Ping,
    Pong,
    RemoteProtocolError,
    Reply,
    Request,
    encode,
    encode_frame,
    encode_message,
)

from .strategies import cbor_values


def drain(conn: Connection) -> tuple[list[Event], str | None]:
    events: list[Event] = []
    while True:
        try:
            event = conn.next_event()
        except RemoteProtocolError as exc:
            return events, f"{exc.offset}:{exc.reason}"
        if event is None:
            return events, None
        events.append(event)
        if isinstance(event, ConnectionClosed):
            return events, None


def feed(chunks: list[bytes], eof: bool, max_frame_size: int = 2**20) -> tuple[list[Event], str | None]:
    conn = Connection(max_frame_size=max_frame_size)
    events: list[Event] = []
    for chunk in chunks:
        if not chunk:
            continue  # b"" means end of stream to receive_data
        conn.receive_data(chunk)
        got, err = drain(conn)
        events += got
        if err:
            assert conn.state is ConnectionState.ERROR
            return events, err
    if eof:
        conn.receive_data(b"")
        got, err = drain(conn)
        return events + got, err
    return events, None


def test_request_reply_round_trip() -> None:
    a, b = Connection(), Connection()
    rid, data = a.request(Ping(7))
    assert a.pending_requests == {rid}
    b.receive_data(data)
    assert b.next_event() == Request(rid, Ping(7))
    assert b.next_event() is None
    assert b.unanswered_requests == {rid}
    a.receive_data(b.reply(rid, Pong(7)))
    assert a.next_event() == Reply(rid, Pong(7))
    assert a.pending_requests == frozenset() and b.unanswered_requests == frozenset()
    rid2, data = a.request(Ping(8))
    assert rid2 != rid
    b.receive_data(data)
    b.next_event()
    a.receive_data(b.error_reply(rid2, "not_found", "no such thing"))
    assert a.next_event() == ErrorReply(rid2, "not_found", "no such thing")


def test_one_way_messages_pass_through() -> None:
    a, b = Connection(), Connection()
    b.receive_data(a.send(Ping(1)) + a.send(Goodbye("done")))
    b.receive_data(b"")
    assert drain(b) == ([Ping(1), Goodbye("done"), ConnectionClosed()], None)
    assert b.state is ConnectionState.CLOSED
    assert b.next_event() == ConnectionClosed()


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        ([Reply(1, Ping(0))], "Reply to request id 1, which is not outstanding"),
        ([ErrorReply(5, "x", "y")], "ErrorReply to request id 5, which is not outstanding"),
        ([Request(1, Ping(0)), Request(1, Ping(0))], "duplicate request id 1"),
        ([Request(1, Request(2, Ping(0)))], "a Request cannot be the body of a request"),
    ],
)
def test_remote_violations_put_the_connection_in_error(wire: list[Request], reason: str) -> None:
    conn = Connection()
    conn.receive_data(b"".join(encode_frame(encode_message(m)) for m in wire))
    with pytest.raises(RemoteProtocolError, match=reason):
        while conn.next_event() is not None:
            pass
    assert conn.state is ConnectionState.ERROR
    with pytest.raises(RemoteProtocolError, match=reason):
        conn.next_event()
    with pytest.raises(LocalProtocolError, match="ERROR state"):
        conn.receive_data(b"x")
    with pytest.raises(LocalProtocolError, match="ERROR state"):
        conn.send(Ping(1))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (encode_frame(b""), "0:empty frame"),
        (encode_frame(b"\xf9\x00\x00"), "0:invalid CBOR at byte 0: floats are not allowed"),
        (encode_frame(encode([4])), "0:invalid message field Ping: Ping has 1 fields, got 0"),
        (encode_frame(encode([4, "x"])), "0:invalid message field Ping.nonce: expected int"),
        (encode_frame(encode_message(Ping(1))) + b"\x00\x01\x00\x00", "7:frame of 65536 bytes exceeds the limit 1000"),
    ],
)
def test_bad_bytes_name_what_was_wrong(data: bytes, reason: str) -> None:
    events, err = feed([data], eof=False, max_frame_size=1000)
    assert err is not None and err.startswith(reason), err


def test_too_many_unanswered_requests() -> None:
    a = Connection(max_pending=2)
    b = Connection(max_pending=2)
    for _ in range(2):
        b.receive_data(a.request(Ping(0))[1])
    with pytest.raises(LocalProtocolError, match="more than 2 outstanding"):
        a.request(Ping(0))
    b.receive_data(encode_frame(encode_message(Request(99, Ping(0)))))
    assert drain(b)[1] == "20:more than 2 unanswered requests"


def test_local_violations() -> None:
    conn = Connection(max_frame_size=16)
    with pytest.raises(LocalProtocolError, match="cannot reply to request id 3"):
        conn.reply(3, Pong(0))
    conn.send(Request(3, Ping(0)))
    with pytest.raises(LocalProtocolError, match="request id 3 is already outstanding"):
        conn.send(Request(3, Ping(0)))
    with pytest.raises(LocalProtocolError, match="cannot be the body"):
        conn.request(Reply(1, Ping(0)))
    with pytest.raises(LocalProtocolError, match="exceeds the frame limit 16"):
        conn.send(Goodbye("x" * 100))
    assert conn.state is ConnectionState.OPEN
    conn.receive_data(b"")
    with pytest.raises(LocalProtocolError, match="after end of stream"):
        conn.receive_data(b"more")


def test_outgoing_messages_are_validated_before_they_reach_the_peer() -> None:
    conn = Connection()
    with pytest.raises(LocalProtocolError, match="Ping.nonce: expected int, got str"):
        conn.send(Ping("7"))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="Request.body.Ping.nonce"):
        conn.request(Ping(None))  # type: ignore[arg-type]
    assert conn.pending_requests == frozenset() and conn.state is ConnectionState.OPEN
    unchecked = Connection(check_outgoing=False)
    peer = Connection()
    peer.receive_data(unchecked.send(Ping("7")))  # type: ignore[arg-type]
    with pytest.raises(RemoteProtocolError, match="Ping.nonce"):
        peer.next_event()


messages = st.one_of(
    st.builds(Ping, st.integers(0, 2**64 - 1)),
    st.builds(Goodbye, st.text(max_size=5)),
    st.builds(Request, st.integers(0, 5), st.builds(Pong, st.integers(0, 3))),
    st.builds(Reply, st.integers(0, 5), st.builds(Pong, st.integers(0, 3))),
)
segments = st.one_of(
    messages.map(lambda m: encode_frame(encode_message(m))),
    cbor_values.map(lambda v: encode_frame(encode(v))),
    st.binary(max_size=12),
)


@settings(max_examples=150)
@given(st.lists(segments, max_size=8), st.booleans(), st.lists(st.integers(0, 400), max_size=10))
def test_any_bytes_in_any_chunking_give_the_same_events_or_the_same_error(
    parts: list[bytes], eof: bool, cuts: list[int]
) -> None:
    data = b"".join(parts)
    whole = feed([data], eof, max_frame_size=200)
    bytewise = feed([data[i : i + 1] for i in range(len(data))], eof, max_frame_size=200)
    assert bytewise == whole
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    assert feed([data[x:y] for x, y in zip(bounds, bounds[1:])], eof, max_frame_size=200) == whole


@given(st.binary(max_size=200))
def test_random_bytes_never_crash_the_connection(data: bytes) -> None:
    events, err = feed([data], True)
    assert err is not None or events[-1:] == [ConnectionClosed()]


class Peers(RuleBasedStateMachine):
    """Two connections over a lossless wire that delivers bytes in arbitrary pieces."""

    def __init__(self) -> None:
        super().__init__()
        self.conns = (Connection(), Connection())
        self.wires = [bytearray(), bytearray()]  # wires[i]: bytes travelling to side i
        self.sent: list[dict[int, Ping]] = [{}, {}]  # side -> our outstanding requests
        self.to_answer: list[list[int]] = [[], []]  # side -> peer requests received, unanswered
        self.oneway: list[list[Ping]] = [[], []]  # side -> one-way messages still in flight to it

    @rule(side=st.integers(0, 1), nonce=st.integers(0, 2**64 - 1))
    def request(self, side: int, nonce: int) -> None:
        rid, data = self.conns[side].request(Ping(nonce))
        assert rid not in self.sent[side]
        self.sent[side][rid] = Ping(nonce)
        self.wires[1 - side] += data

    @rule(side=st.integers(0, 1), nonce=st.integers(0, 100))
    def notify(self, side: int, nonce: int) -> None:
        self.wires[1 - side] += self.conns[side].send(Ping(nonce))
        self.oneway[1 - side].append(Ping(nonce))

    @precondition(lambda self: self.to_answer[0] or self.to_answer[1])
    @rule(side=st.integers(0, 1), pick=st.integers(0, 100), fail=st.booleans())
    def answer(self, side: int, pick: int, fail: bool) -> None:
        if not self.to_answer[side]:
            side = 1 - side
        rid = self.to_answer[side].pop(pick % len(self.to_answer[side]))
        conn = self.conns[side]
        data = conn.error_reply(rid, "e", "no") if fail else conn.reply(rid, Pong(rid % 7))
        self.wires[1 - side] += data

    @rule(side=st.integers(0, 1), n=st.integers(1, 64))
    def deliver(self, side: int, n: int) -> None:
        chunk = bytes(self.wires[side][:n])
        del self.wires[side][:n]
        if not chunk:
            return  # b"" would mean end of stream
        conn = self.conns[side]
        conn.receive_data(chunk)
        while (event := conn.next_event()) is not None:
            if isinstance(event, Request):
                self.to_answer[side].append(event.id)
            elif isinstance(event, (Reply, ErrorReply)):
                assert event.id in self.sent[side]
                if isinstance(event, Reply):
                    assert event.body == Pong(event.id % 7)
                del self.sent[side][event.id]
            else:
                assert event == self.oneway[side].pop(0)

    @invariant()
    def books_balance(self) -> None:
        for side in (0, 1):
            conn = self.conns[side]
            assert conn.state is ConnectionState.OPEN
            assert conn.pending_requests == set(self.sent[side])
            assert conn.unanswered_requests == set(self.to_answer[side])


TestPeers = Peers.TestCase
TestPeers.settings = settings(max_examples=60, stateful_step_count=40)
