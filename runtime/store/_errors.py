"""Typed store errors."""

from __future__ import annotations

from .._errors import SteleError
from ..protocol import Digest

__all__ = [
    "StoreUnavailable",
    "StoreError",
    "ObjectNotFound",
    "NameNotFound",
    "MissingDependencies",
    "DigestMismatch",
    "InvalidName",
    "CorruptObject",
    "UnknownTarget",
    "WrongKind",
    "UnresolvedImport",
    "EffectConflict",
    "StoreCorrupted",
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


class CorruptObject(StoreError):
    """A stored object whose payload is not a well-formed object of its kind."""


class UnknownTarget(StoreError):
    """Text that is neither a bound name nor a digest (or unique prefix) in the store."""

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(
            f"{target!r} is not a name, a digest or a digest prefix in the store "
            "(see 'stele names')")


class WrongKind(StoreError):
    """An object of another kind than the operation needs (e.g. showing a blob as TEL)."""

    def __init__(self, digest: Digest, kind: str, expected: str) -> None:
        self.digest = digest
        self.kind = kind
        self.expected = expected
        super().__init__(f"object {digest} is a {kind!r} object, expected {expected}")


class UnresolvedImport(StoreError):
    """A ``#use`` directive (or a reference) naming nothing in the repository."""

    def __init__(self, where: str, alias: str, target: str, reason: str) -> None:
        self.alias = alias
        self.target = target
        super().__init__(f"{where}: cannot resolve '#use {alias} = {target}': {reason}")


class EffectConflict(StoreError):
    """Two different declarations of one effect name meet (in a file and its imports)."""

    def __init__(self, effect: str, detail: str) -> None:
        self.effect = effect
        super().__init__(f"effect {effect!r} has two different declarations: {detail}")


class StoreCorrupted(StoreError):
    """A stored row that fails its digest or checksum (or does not decode): never served.

    ``table`` and ``row`` name the damaged row (``row`` is its printable key,
    e.g. ``"tenant/key"`` for the KV table); ``reason`` says what failed.
    """

    def __init__(self, table: str, row: str, reason: str) -> None:
        self.table = table
        self.row = row
        self.reason = reason
        super().__init__(f"store corrupted: table {table!r} row {row!r}: {reason}")


class DigestMismatch(StoreCorrupted):
    """An object whose payload does not hash to the digest it was stored under."""

    def __init__(self, expected: Digest, actual: Digest) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__("objects", str(expected), f"payload hashes to {actual}")


class StoreUnavailable(StoreError):
    """The store's disk failed an operation (I/O error, disk full, locked, damaged file).

    Nothing the call would have written was acknowledged; the call may be
    retried.  Raised instead of a raw :mod:`sqlite3` error.
    """
