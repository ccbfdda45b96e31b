"""A sans-I/O protocol connection, in the manner of h11.

The caller owns the socket (or pipe, or simulated stream)::

    conn = Connection()
    conn.receive_data(chunk)              # bytes from the peer; b"" = end of stream
    while (event := conn.next_event()) is not None:
        ...                               # a Message, or ConnectionClosed()
    rid, data = conn.request(GetObject(d)) # bytes to write to the peer
    data = conn.reply(rid_from_peer, Found(obj))

Events are the messages themselves (:class:`Request`, :class:`Reply`,
:class:`ErrorReply`, or any registered one-way message).  The connection
enforces the request/reply discipline in both directions: a reply to an id
that is not outstanding, a duplicate outstanding id, or an envelope nested in
an envelope is an error -- :class:`RemoteProtocolError` if the peer did it
(the connection then enters the ERROR state and refuses to go on),
:class:`LocalProtocolError` if we tried to.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

import cbor2

from ._cbor import MAX_DEPTH
from ._core import ENVELOPES, ErrorReply, Reply, Request
from ._errors import DecodeError, FrameError, LocalProtocolError, RemoteProtocolError
from ._frames import MAX_FRAME_SIZE, FrameDecoder, encode_frame
from ._messages import Message, decode_message, encode_message, message_from_value

__all__ = ["Connection", "ConnectionState", "ConnectionClosed", "Event", "MAX_PENDING"]

MAX_PENDING: Final = 4096
"""Default limit on requests outstanding in each direction."""

_ID_MAX: Final = 2**64 - 1


class ConnectionState(enum.Enum):
    """OPEN: exchanging messages; CLOSED: the peer ended its stream; ERROR: the peer broke the protocol."""

    OPEN = "open"
    CLOSED = "closed"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """Event: the peer ended its stream cleanly (after its last whole frame)."""


Event = Message | ConnectionClosed


class Connection:
    """Bytes in, messages out, and the reverse, with request ids and an ERROR state; no I/O.

    ``check_outgoing`` (default on) validates each outgoing message against its
    annotations, as the peer will, so a badly typed field raises
    :class:`LocalProtocolError` here instead of breaking the peer's connection.
    Turn it off only on hot paths whose messages are known good.
    """

    def __init__(
        self,
        *,
        max_frame_size: int = MAX_FRAME_SIZE,
        max_depth: int = MAX_DEPTH,
        max_pending: int = MAX_PENDING,
        check_outgoing: bool = True,
    ) -> None:
        self._frames = FrameDecoder(max_frame_size)
        self._max_frame = max_frame_size
        self._max_depth = max_depth
        self._max_pending = max_pending
        self._check_outgoing = check_outgoing
        self._state = ConnectionState.OPEN
        self._error: RemoteProtocolError | None = None
        self._next_id = 1
        self._ours: set[int] = set()  # our requests awaiting a reply
        self._theirs: set[int] = set()  # peer requests we have not answered

    @property
    def state(self) -> ConnectionState:
        """OPEN, CLOSED (peer sent end of stream and it was read) or ERROR."""
        return self._state

    @property
    def error(self) -> RemoteProtocolError | None:
        """The protocol error that put the connection in ERROR, if any."""
        return self._error

    @property
    def pending_requests(self) -> frozenset[int]:
        """Ids of our requests that have no reply yet."""
        return frozenset(self._ours)

    @property
    def unanswered_requests(self) -> frozenset[int]:
        """Ids of the peer's requests we have not replied to yet."""
        return frozenset(self._theirs)

    # -- receiving ---------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Buffer bytes from the peer; ``b""`` means the peer closed its side."""
        if self._state is ConnectionState.ERROR:
            raise LocalProtocolError(f"cannot receive: connection is in ERROR state ({self._error})")
        if not data:
            self._frames.feed_eof()
            return
        try:
            self._frames.feed(data)
        except FrameError as exc:
            raise LocalProtocolError(f"cannot receive data after end of stream: {exc}") from None

    def next_event(self) -> Event | None:
        """The next message from the peer, :class:`ConnectionClosed`, or ``None`` (need more data).

        Raises :class:`RemoteProtocolError` (naming what was wrong and the
        frame's stream offset) if the peer broke the protocol; every later
        call raises it again.
        """
        if self._error is not None:
            raise self._error
        if self._state is ConnectionState.CLOSED:
            return ConnectionClosed()
        offset = self._frames.offset
        try:
            payload = self._frames.next_frame()
        except FrameError as exc:
            raise self._fail(exc.reason, exc.offset) from None
        if payload is None:
            if self._frames.buffered == 0 and self._frames.at_eof:
                self._state = ConnectionState.CLOSED
                return ConnectionClosed()
            return None
        if not payload:
            raise self._fail("empty frame", offset)
        try:
            msg = decode_message(payload, max_depth=self._max_depth, max_size=self._max_frame)
        except DecodeError as exc:
            raise self._fail(str(exc), offset) from None
        self._check_incoming(msg, offset)
        return msg

    def _check_incoming(self, msg: Message, offset: int) -> None:
        if isinstance(msg, Request):
            self._check_body(msg.body, "request", offset, remote=True)
            if msg.id in self._theirs:
                raise self._fail(f"duplicate request id {msg.id} (still unanswered)", offset)
            if len(self._theirs) >= self._max_pending:
                raise self._fail(f"more than {self._max_pending} unanswered requests", offset)
            self._theirs.add(msg.id)
        elif isinstance(msg, (Reply, ErrorReply)):
            if isinstance(msg, Reply):
                self._check_body(msg.body, "reply", offset, remote=True)
            if msg.id not in self._ours:
                raise self._fail(f"{type(msg).__name__} to request id {msg.id}, which is not outstanding", offset)
            self._ours.discard(msg.id)

    def _check_body(self, body: Message, what: str, offset: int, *, remote: bool) -> None:
        if type(body) in ENVELOPES:
            reason = f"a {type(body).__name__} cannot be the body of a {what}"
            if remote:
                raise self._fail(reason, offset)
            raise LocalProtocolError(reason)

    def _fail(self, reason: str, offset: int) -> RemoteProtocolError:
        self._state = ConnectionState.ERROR
        self._error = RemoteProtocolError(reason, offset)
        return self._error

    # -- sending -----------------------------------------------------------

    def send(self, msg: Message) -> bytes:
        """The framed bytes for ``msg``; checks request/reply discipline for envelopes."""
        if self._state is ConnectionState.ERROR:
            raise LocalProtocolError(f"cannot send: connection is in ERROR state ({self._error})")
        if isinstance(msg, Request):
            self._check_body(msg.body, "request", -1, remote=False)
            if msg.id in self._ours:
                raise LocalProtocolError(f"request id {msg.id} is already outstanding")
            if len(self._ours) >= self._max_pending:
                raise LocalProtocolError(f"more than {self._max_pending} outstanding requests")
            data = self._frame(msg)
            self._ours.add(msg.id)
            return data
        if isinstance(msg, (Reply, ErrorReply)):
            if isinstance(msg, Reply):
                self._check_body(msg.body, "reply", -1, remote=False)
            if msg.id not in self._theirs:
                raise LocalProtocolError(f"cannot reply to request id {msg.id}: it is not awaiting a reply")
            data = self._frame(msg)
            self._theirs.discard(msg.id)
            return data
        return self._frame(msg)

    def request(self, body: Message) -> tuple[int, bytes]:
        """Send ``body`` as a request under a fresh id; returns ``(id, bytes)``."""
        while self._next_id in self._ours:
            self._next_id = self._next_id % _ID_MAX + 1
        rid = self._next_id
        data = self.send(Request(rid, body))
        self._next_id = rid % _ID_MAX + 1
        return rid, data

    def reply(self, request_id: int, body: Message) -> bytes:
        """Answer the peer's request ``request_id`` with ``body``."""
        return self.send(Reply(request_id, body))

    def error_reply(self, request_id: int, code: str, message: str) -> bytes:
        """Answer the peer's request ``request_id`` with an error."""
        return self.send(ErrorReply(request_id, code, message))

    def _frame(self, msg: Message) -> bytes:
        payload = encode_message(msg)
        if self._check_outgoing:
            # The peer validates every field; fail here, not by killing its connection.
            try:
                message_from_value(cbor2.loads(payload))
            except DecodeError as exc:
                raise LocalProtocolError(f"refusing to send an invalid message: {exc}") from None
        try:
            return encode_frame(payload, max_size=self._max_frame)
        except FrameError as exc:
            raise LocalProtocolError(f"cannot send {type(msg).__name__}: {exc}") from None
