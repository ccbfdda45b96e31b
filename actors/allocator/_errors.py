"""Typed allocator errors; each names the grant, the kinds and the amounts."""

from __future__ import annotations

from ..._errors import SteleError

__all__ = [
    "AllocatorError",
    "InsufficientResources",
    "GrantReleased",
    "UsageExceedsGrant",
    "InvalidRequest",
]


class AllocatorError(SteleError):
    """Root of the allocator's errors."""


class InvalidRequest(AllocatorError):
    """A request or usage report with a negative component or a bad split."""


class InsufficientResources(AllocatorError):
    """A request that does not fit the grant it asked from.

    ``shortfall`` maps each resource kind that did not fit to
    ``(wanted, available)``.
    """

    def __init__(self, grant: str, shortfall: dict[str, tuple[int, int]], reason: str = "") -> None:
        self.grant = grant
        self.shortfall = dict(shortfall)
        self.reason = reason
        detail = ", ".join(f"{k}: wanted {w}, available {a}" for k, (w, a) in sorted(shortfall.items()))
        message = f"insufficient resources in grant {grant!r}: {detail}" if detail else (
            f"insufficient resources in grant {grant!r}"
        )
        if reason:
            message += f" ({reason})"
        super().__init__(message)


class GrantReleased(AllocatorError):
    """An operation on a grant that was already released (or whose parent was)."""

    def __init__(self, grant: str) -> None:
        self.grant = grant
        super().__init__(f"grant {grant!r} was already released")


class UsageExceedsGrant(AllocatorError):
    """Recorded usage that would take a grant past what it holds."""

    def __init__(self, grant: str, shortfall: dict[str, tuple[int, int]]) -> None:
        self.grant = grant
        self.shortfall = dict(shortfall)
        detail = ", ".join(f"{k}: would use {w}, holds {a}" for k, (w, a) in sorted(shortfall.items()))
        super().__init__(f"usage exceeds grant {grant!r}: {detail}")
