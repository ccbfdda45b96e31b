"""Allocation policies: who gets resources when they are contended.

The allocator itself only guarantees *safety* (conservation, no negative
balance, a child within its parent).  A policy decides *fairness*: whether a
request that fits should be admitted now, and in which order waiting
requests are served.  Two policies ship:

* :class:`StaticPolicy` admits anything that fits and serves waiters first
  come, first served.
* :class:`FairSharePolicy` gives each owner (tenant) a weighted share of a
  parent grant while others are waiting for it, and serves the waiter with
  the smallest share-per-weight first.  It is work-conserving: an owner may
  exceed its share when nobody else is waiting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ._resources import RESOURCE_KINDS, Resources

if TYPE_CHECKING:
    from ._allocator import Grant

__all__ = ["AllocationPolicy", "PendingRequest", "StaticPolicy", "FairSharePolicy"]


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A request waiting for resources, in arrival order ``seq``."""

    seq: int
    parent_id: str
    request: Resources
    owner: str
    weight: int
    deadline_ns: int | None


class AllocationPolicy(Protocol):
    """Decides admission and service order; never breaks conservation."""

    def admit(
        self,
        parent: Grant,
        request: Resources,
        owner: str,
        weight: int,
        waiting: Mapping[str, int],
    ) -> str | None:
        """``None`` to admit a request that fits, else the reason to refuse.

        ``waiting`` maps owners with requests waiting on ``parent`` to their
        weights (the requester itself excluded).
        """

    def order(self, parent: Grant, pending: Sequence[PendingRequest]) -> list[PendingRequest]:
        """The order in which to try the requests waiting on ``parent``."""


class StaticPolicy:
    """Admit whatever fits; serve waiters in arrival order."""

    def admit(
        self,
        parent: Grant,
        request: Resources,
        owner: str,
        weight: int,
        waiting: Mapping[str, int],
    ) -> str | None:
        """Always admit (the allocator has already checked that it fits)."""
        return None

    def order(self, parent: Grant, pending: Sequence[PendingRequest]) -> list[PendingRequest]:
        """First come, first served."""
        return sorted(pending, key=lambda p: p.seq)


class FairSharePolicy:
    """Weighted fair sharing of each grant among the owners of its children.

    While other owners are waiting on the same parent, an owner may hold at
    most ``capacity * weight / total_weight`` of each resource kind, where
    ``total_weight`` sums the weights of the owners that hold or want a share.
    With nobody else waiting any request that fits is admitted.
    """

    def _held(self, parent: Grant) -> dict[str, Resources]:
        held: dict[str, Resources] = {}
        for child in parent.children.values():
            held[child.owner] = held.get(child.owner, Resources.ZERO) + child.capacity
        return held

    def admit(
        self,
        parent: Grant,
        request: Resources,
        owner: str,
        weight: int,
        waiting: Mapping[str, int],
    ) -> str | None:
        """Refuse only a request that would take ``owner`` past its share while others wait."""
        others = {o: w for o, w in waiting.items() if o != owner}
        if not others:
            return None
        weights: dict[str, int] = {child.owner: child.weight for child in parent.children.values()}
        weights.update(others)
        weights[owner] = weight
        total = sum(weights.values())
        cap = parent.capacity.scale(weight, total)
        after = self._held(parent).get(owner, Resources.ZERO) + request
        if after <= cap:
            return None
        over = [k for k, a, c in zip(RESOURCE_KINDS, after.as_tuple(), cap.as_tuple()) if a > c]
        return f"owner {owner!r} would exceed its fair share ({weight}/{total}) of {', '.join(over)}"

    def order(self, parent: Grant, pending: Sequence[PendingRequest]) -> list[PendingRequest]:
        """Smallest held-share per unit of weight first, then arrival order."""
        held = self._held(parent)

        def key(p: PendingRequest) -> tuple[int, int, int]:
            share = held.get(p.owner, Resources.ZERO)
            # Compare share/weight across owners without floats: cross-multiply
            # by using the dominant component scaled to a common denominator.
            dominant = max(
                (s * 1_000_000 // c if c else 0)
                for s, c in zip(share.as_tuple(), parent.capacity.as_tuple())
            )
            return (dominant // max(p.weight, 1), p.seq, 0)

        return sorted(pending, key=key)
