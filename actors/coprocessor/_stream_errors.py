"""Errors of the co-processor's streaming half (checkpoints, witness streams)."""

from __future__ import annotations

from ._errors import CoprocessorError

__all__ = ["StreamError", "CheckpointError", "GuestRunFailed"]


class StreamError(CoprocessorError):
    """A witness stream, checkpoint set or guest request was invalid."""


class CheckpointError(StreamError):
    """A serialized checkpoint set failed validation (digest, shape or version)."""


class GuestRunFailed(CoprocessorError):
    """A guest run in a worker ended with a co-processor error.

    ``kind`` is the original error's class name (``CycleLimitExceeded``,
    ``IllegalInstruction``, ``ElfError``, ...) and ``detail`` its message.
    The original exception does not cross the process boundary, so this one
    carries it in picklable form.
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail

    def __reduce__(self) -> tuple[type[GuestRunFailed], tuple[str, str]]:
        return (type(self), (self.kind, self.detail))
