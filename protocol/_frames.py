"""Length-prefixed frames: a 4-byte big-endian length, then that many payload bytes.

The maximum frame size is checked as soon as the 4 header bytes arrive, so a
peer announcing a huge frame is refused before anything is buffered for it.
:class:`FrameDecoder` accepts bytes in arbitrary chunks (one at a time is
fine) and yields exactly the frames that one big chunk would.
"""

from __future__ import annotations

from typing import Final, NoReturn

from ._errors import FrameError

__all__ = ["FrameDecoder", "encode_frame", "FRAME_HEADER_SIZE", "MAX_FRAME_SIZE"]

FRAME_HEADER_SIZE: Final = 4
MAX_FRAME_SIZE: Final = 16 * 1024 * 1024
"""Default maximum payload size of one frame (16 MiB)."""

_LIMIT: Final = 2**32 - 1


def encode_frame(payload: bytes, *, max_size: int = MAX_FRAME_SIZE) -> bytes:
    """Prefix ``payload`` with its length; refuses payloads above ``max_size``."""
    n = len(payload)
    if n > max_size or n > _LIMIT:
        raise FrameError(f"payload of {n} bytes exceeds the frame limit {min(max_size, _LIMIT)}")
    return n.to_bytes(4, "big") + payload


class FrameDecoder:
    """Incremental frame splitter: :meth:`feed` bytes, then :meth:`next_frame` until ``None``.

    Sans-I/O and chunking-independent.  After a :class:`FrameError` the
    decoder is broken and raises the same error again.  ``offset`` is the
    stream offset of the next unread frame, for error reports.
    """

    __slots__ = ("_buf", "_start", "_consumed", "_max", "_error", "_eof")

    def __init__(self, max_size: int = MAX_FRAME_SIZE) -> None:
        if not 0 <= max_size <= _LIMIT:
            raise ValueError(f"max_size={max_size} is outside [0, {_LIMIT}]")
        self._buf = bytearray()
        self._start = 0  # index of the first unread byte in _buf
        self._consumed = 0  # stream bytes dropped from the front of _buf
        self._max = max_size
        self._error: FrameError | None = None
        self._eof = False

    @property
    def offset(self) -> int:
        """Stream offset of the next unread byte (the start of the next frame)."""
        return self._consumed + self._start

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as frames."""
        return len(self._buf) - self._start

    @property
    def at_eof(self) -> bool:
        """Whether :meth:`feed_eof` was called."""
        return self._eof

    def feed(self, data: bytes) -> None:
        """Append received bytes (any chunking)."""
        if self._eof and data:
            raise FrameError("data fed after end of stream", self.offset + self.buffered)
        self._buf += data

    def feed_eof(self) -> None:
        """Mark the end of the stream; :meth:`next_frame` then rejects a partial frame."""
        self._eof = True

    def next_frame(self) -> bytes | None:
        """The next complete payload, or ``None`` if more bytes are needed."""
        if self._error is not None:
            raise self._error
        buf = self._buf
        start = self._start
        avail = len(buf) - start
        if avail < FRAME_HEADER_SIZE:
            if self._eof and avail:
                self._fail(f"stream ended inside a frame header ({avail} of 4 bytes)")
            return None
        n = int.from_bytes(buf[start : start + FRAME_HEADER_SIZE], "big")
        if n > self._max:
            self._fail(f"frame of {n} bytes exceeds the limit {self._max}")
        end = start + FRAME_HEADER_SIZE + n
        if end > len(buf):
            if self._eof:
                self._fail(f"stream ended inside a frame ({avail - 4} of {n} payload bytes)")
            return None
        payload = bytes(buf[start + FRAME_HEADER_SIZE : end])
        if end == len(buf):
            self._consumed += end
            buf.clear()
            self._start = 0
        elif end > 65536 and end * 2 > len(buf):
            # Compact: drop consumed bytes once they dominate (amortized linear).
            del buf[:end]
            self._consumed += end
            self._start = 0
        else:
            self._start = end
        return payload

    def _fail(self, reason: str) -> NoReturn:
        self._error = FrameError(reason, self.offset)
        raise self._error
