"""Errors of the co-processor's streaming half (checkpoints, witness streams).

They derive from the co-processor's root error when it exists
(``stele.actors.coprocessor.CoprocessorError``, owned by the machine's
module); until then, from :class:`stele.SteleError`.
"""

from __future__ import annotations

from stele import SteleError

__all__ = ["StreamError", "CheckpointError"]


class StreamError(SteleError):
    """A witness stream, checkpoint set or guest request was invalid."""


class CheckpointError(StreamError):
    """A serialized checkpoint failed validation (digest, shape or version)."""
