"""The protocol's own messages (tags 1-99): request/reply envelopes, errors, liveness.

A :class:`Request` carries any registered message as its body under an id
chosen by the sender; the peer answers with a :class:`Reply` or an
:class:`ErrorReply` carrying the same id.  Any other registered message sent
on its own is a one-way notification.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._messages import Message, message

__all__ = ["Request", "Reply", "ErrorReply", "Ping", "Pong", "Goodbye", "ENVELOPES"]


@message(1)
@dataclass(frozen=True, slots=True)
class Request(Message):
    """Ask the peer to handle ``body``; the answer carries the same ``id``."""

    id: int
    body: Message


@message(2)
@dataclass(frozen=True, slots=True)
class Reply(Message):
    """The successful answer to the request ``id``."""

    id: int
    body: Message


@message(3)
@dataclass(frozen=True, slots=True)
class ErrorReply(Message):
    """The failed answer to the request ``id``: a stable ``code`` and a human ``message``."""

    id: int
    code: str
    message: str


@message(4)
@dataclass(frozen=True, slots=True)
class Ping(Message):
    """Liveness probe; the peer should send :class:`Pong` with the same ``nonce``."""

    nonce: int


@message(5)
@dataclass(frozen=True, slots=True)
class Pong(Message):
    """Answer to :class:`Ping`."""

    nonce: int


@message(6)
@dataclass(frozen=True, slots=True)
class Goodbye(Message):
    """The sender will send nothing more (a clean close with a reason)."""

    reason: str = ""


ENVELOPES: tuple[type[Message], ...] = (Request, Reply, ErrorReply)
"""Messages that may not appear as a request or reply body."""
