"""Typed store errors."""

from __future__ import annotations

from .._errors import SteleError
from ..protocol import Digest

__all__ = [
    "StoreError",
    "ObjectNotFound",
    "NameNotFound",
    "MissingDependencies",
    "DigestMismatch",
    "InvalidName",
]


class StoreError(SteleError):
    """Root of the object store's errors."""


class ObjectNotFound(StoreError):
    """No object with this digest is stored."""

    def __init__(self, digest: Digest) -> None:
        self.digest = digest
        super().__init__(f"no object {digest} in the store")


class NameNotFound(StoreError):
    """No definition is bound to this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no name {name!r} in the store")


class InvalidName(StoreError):
    """A name that is empty, has empty segments, or contains whitespace."""


class DigestMismatch(StoreError):
    """An object whose payload does not hash to the digest it was stored under."""

    def __init__(self, expected: Digest, actual: Digest) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"object {expected} has payload hashing to {actual}: corrupt store?")


class MissingDependencies(StoreError):
    """Dependencies that a resolution needs and the store does not have.

    ``missing`` maps each missing digest to the sorted digests that need it,
    so the message lists every missing piece at once, not just the first.
    """

    def __init__(self, missing: dict[Digest, list[Digest]]) -> None:
        self.missing = {d: sorted(needed_by) for d, needed_by in sorted(missing.items())}
        lines = [f"  {d} (needed by {', '.join(x.short() for x in by)})"
                 for d, by in self.missing.items()]
        super().__init__(f"{len(self.missing)} missing dependencies:\n" + "\n".join(lines))
