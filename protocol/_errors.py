"""The protocol family of errors, rooted at :class:`ProtocolError`.

Every error names what was wrong; decoding errors also carry the byte offset
at which the problem was found, so a bad frame can be located in a capture.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from stele._errors import SteleError

if TYPE_CHECKING:
    from ._digest import Digest

__all__ = [
    "ProtocolError",
    "EncodeError",
    "DecodeError",
    "FieldError",
    "FrameError",
    "RegistrationError",
    "DigestError",
    "UnknownDigest",
    "AmbiguousPrefix",
    "LocalProtocolError",
    "RemoteProtocolError",
]


class ProtocolError(SteleError):
    """Root of every error raised by :mod:`stele.protocol`."""


class EncodeError(ProtocolError, ValueError):
    """A value cannot be encoded as canonical CBOR (float, unknown type, int out of range...).

    ``path`` locates the bad value inside the encoded object, e.g. ``[2]['amount']``.
    """

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        where = f" at {path}" if path else ""
        super().__init__(f"cannot encode{where}: {reason}")


class DecodeError(ProtocolError, ValueError):
    """Bytes are not canonical CBOR of an allowed value (or not a valid message).

    ``offset`` is the byte offset of the offending item (``-1`` when the
    problem is not tied to one position, e.g. a field of a decoded message).
    """

    def __init__(self, reason: str, offset: int = -1) -> None:
        self.reason = reason
        self.offset = offset
        if offset >= 0:
            super().__init__(f"invalid CBOR at byte {offset}: {reason}")
        else:
            super().__init__(f"invalid message: {reason}")


class FieldError(DecodeError):
    """A decoded message field does not match its declared type.

    ``path`` names the class and field, e.g. ``Transfer.legs[1].amount``.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        ProtocolError.__init__(self, f"invalid message field {path}: {reason}")
        self.reason = reason
        self.offset = -1


class FrameError(DecodeError):
    """A length-prefixed frame is malformed or larger than the configured maximum."""

    def __init__(self, reason: str, offset: int = -1) -> None:
        self.reason = reason
        self.offset = offset
        where = f" at stream offset {offset}" if offset >= 0 else ""
        ProtocolError.__init__(self, f"invalid frame{where}: {reason}")


class RegistrationError(ProtocolError, TypeError):
    """A message class cannot be registered (duplicate tag, not a frozen slotted dataclass...)."""


class DigestError(ProtocolError, ValueError):
    """A digest is malformed: unknown algorithm, wrong length, or unparsable text."""


class UnknownDigest(DigestError, LookupError):
    """No known digest matches a prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        super().__init__(f"no object matches digest prefix {prefix!r}")


class AmbiguousPrefix(DigestError, LookupError):
    """A digest prefix matches more than one candidate; ``candidates`` lists them (sorted)."""

    def __init__(self, prefix: str, candidates: Iterable[Digest]) -> None:
        self.prefix = prefix
        self.candidates = tuple(sorted(candidates))
        shown = ", ".join(str(c) for c in self.candidates[:10])
        more = f" and {len(self.candidates) - 10} more" if len(self.candidates) > 10 else ""
        super().__init__(
            f"digest prefix {prefix!r} is ambiguous: it matches "
            f"{len(self.candidates)} objects: {shown}{more}"
        )


class LocalProtocolError(ProtocolError):
    """This side tried to do something the protocol forbids (e.g. reply to no request)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes or messages that violate the protocol; the connection is now unusable.

    ``offset`` is the stream offset of the offending frame.
    """

    def __init__(self, reason: str, offset: int = -1) -> None:
        self.reason = reason
        self.offset = offset
        where = f" (frame at stream offset {offset})" if offset >= 0 else ""
        super().__init__(f"remote protocol error{where}: {reason}")
