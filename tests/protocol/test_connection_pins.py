"""Pins for the Connection's request ids and limits found unpinned by mutation testing (issue 19).

Behaviours: fresh request ids count up by one from 1, skipping ids that are
still outstanding (an id the caller chose with ``send``); after 2**64 - 1
(the largest id the wire carries) they wrap to 1; the default limit on
outstanding requests is exactly ``MAX_PENDING`` (4096); ``error`` is the
violation that put the connection in ERROR.
"""

from __future__ import annotations

import pytest

from stele.protocol import (
    MAX_PENDING, Connection, ConnectionState, LocalProtocolError, Ping, Pong, RemoteProtocolError,
    Reply, Request, encode_frame, encode_message,
)

ID_MAX = 2**64 - 1


def test_fresh_ids_count_up_from_one_and_skip_outstanding_ones() -> None:
    a = Connection()
    assert [a.request(Ping(0))[0] for _ in range(3)] == [1, 2, 3]
    for rid in (4, 5, 7):
        a.send(Request(rid, Ping(0)))  # ids the caller chose, still outstanding
    assert [a.request(Ping(0))[0] for _ in range(3)] == [6, 8, 9]
    assert a.pending_requests == frozenset(range(1, 10))


def test_an_answered_id_is_free_again_after_the_counter_wraps() -> None:
    a, b = Connection(), Connection()
    a._next_id = ID_MAX  # as after 2**64 - 2 requests (white box: the counter)
    rid, data = a.request(Ping(1))
    assert rid == ID_MAX
    b.receive_data(data)
    assert b.next_event() == Request(ID_MAX, Ping(1))  # the peer accepts the largest id
    assert a.request(Ping(2))[0] == 1  # wraps to 1, never 0 or 2**64
    a.receive_data(b.reply(ID_MAX, Pong(1)))
    a.next_event()
    assert a.pending_requests == {1}


def test_the_default_outstanding_limit_is_max_pending() -> None:
    assert MAX_PENDING == 4096
    a = Connection(check_outgoing=False)
    for _ in range(MAX_PENDING):
        a.request(Ping(0))
    with pytest.raises(LocalProtocolError, match=f"^more than {MAX_PENDING} outstanding requests$"):
        a.request(Ping(0))


def test_error_names_the_violation_that_put_the_connection_in_error() -> None:
    a = Connection()
    assert a.error is None
    a.receive_data(encode_frame(encode_message(Reply(9, Ping(0)))))
    with pytest.raises(RemoteProtocolError) as info:
        a.next_event()
    assert a.state is ConnectionState.ERROR
    assert a.error is info.value
    assert (a.error.reason, a.error.offset) == ("Reply to request id 9, which is not outstanding", 0)
