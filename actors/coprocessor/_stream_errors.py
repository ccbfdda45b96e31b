"""Errors of the co-processor's streaming half (checkpoints, witness streams)."""

from __future__ import annotations

from ._errors import CoprocessorError

__all__ = ["StreamError", "CheckpointError"]


class StreamError(CoprocessorError):
    """A witness stream, checkpoint set or guest request was invalid."""


class CheckpointError(StreamError):
    """A serialized checkpoint set failed validation (digest, shape or version)."""
