"""The root of every error Stele raises on purpose."""

from __future__ import annotations

__all__ = ["SteleError"]


class SteleError(Exception):
    """Base class of all typed Stele errors.

    Each package family (protocol, kernel, sim, TEL, store, co-processor,
    prover, ...) derives its own root from this, and each error message names
    the field, value and limit that were wrong.
    """
