"""Memo keys: the identity of a pure execution, as Bazel keys an action.

An execution's result is a function of the code (its digest, which already
covers every dependency), the arguments, the cost table's version (costs
change what "fits"), the engine (interpreter or co-processor) and the
*semantic profile* of the limits: the settings that can change a successful
result rather than only decide whether it succeeds (e.g. a recursion-depth
limit or the co-processor's memory layout).  Resource *amounts* (fuel,
memory, cycles) are deliberately not in the key: a cached result records the
usage it needed, and :class:`MemoCache` serves it to any request whose
limits that usage fits -- so a request with a smaller limit is served only
if the recorded cost fits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...protocol import Digest, encode

__all__ = ["MemoKey", "CachedResult"]

_KEY_DOMAIN = "stele.memo.v1"


@dataclass(frozen=True, slots=True)
class MemoKey:
    """The inputs that determine a pure execution's result."""

    code: Digest
    args: bytes
    cost_version: str
    engine: str
    profile: bytes = b"\xa0"  # canonical CBOR of an empty map

    @classmethod
    def build(cls, code: Digest, args: Any, cost_version: str, engine: str,
              profile: dict[str, Any] | None = None) -> MemoKey:
        """Encode ``args`` and ``profile`` canonically and build the key."""
        return cls(code, encode(args), cost_version, engine, encode(profile or {}))

    @property
    def digest(self) -> Digest:
        """The digest that names this key in both cache levels."""
        return Digest.of_object([_KEY_DOMAIN, self.code.binary, self.args, self.cost_version,
                                 self.engine, self.profile])


@dataclass(frozen=True, slots=True)
class CachedResult:
    """A pure execution's outcome: its value (canonical CBOR) and what it used.

    ``usage`` is a tuple of ``(kind, amount)`` pairs, e.g. ``(("fuel", 120),
    ("memory", 64))``; a request is served only if each recorded amount fits
    the request's limit of that kind.
    """

    value: bytes
    usage: tuple[tuple[str, int], ...]

    @property
    def size(self) -> int:
        """Bytes this entry costs the cache (value plus a fixed overhead)."""
        return len(self.value) + 64 + 16 * len(self.usage)

    def fits(self, limits: dict[str, int]) -> bool:
        """Whether every recorded amount is within ``limits`` (missing kinds are unlimited)."""
        return all(amount <= limits.get(kind, amount) for kind, amount in self.usage)

    def to_cbor(self) -> bytes:
        """Canonical CBOR of the entry (how level two stores it)."""
        return encode([self.value, [[k, v] for k, v in self.usage]])
