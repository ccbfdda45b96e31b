"""Hierarchical resource allocation: a tree of grants under one capacity.

The allocator is a plain, synchronous, deterministic engine (its actor wraps
it).  Every node of the tree is a :class:`Grant` holding ``capacity``; part of
it is reserved by live children, part is ``used`` by the node itself, and
the rest is ``available``.  The invariants, checked by
:meth:`Allocator.check_invariants` and the stateful tests, are:

* conservation: ``capacity == available + used + sum(child.capacity)``;
* no balance is negative;
* a child never holds or uses more than its grant;
* releasing a grant releases its whole subtree and returns its capacity to
  its parent (usage is *accounted*, not destroyed: a released child's total
  usage is added to its parent's ``released_usage``);
* recorded usage never decreases;
* a resize (:meth:`Allocator.resize`) never takes a grant below what it holds
  (its use plus its children) nor past its parent's available balance.

Requests that do not fit either fail fast (:meth:`Allocator.allocate`) or
wait (:meth:`Allocator.enqueue`, served by :meth:`Allocator.pump` after each
release, expired by :meth:`Allocator.expire`) in the order the policy picks.
Time stamps come from the ``clock`` the caller passes (the Env's
``now_ns``), never from the OS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ._messages import UsageReport
from ._errors import GrantReleased, InsufficientResources, InvalidRequest, UsageExceedsGrant
from ._policy import AllocationPolicy, PendingRequest, StaticPolicy
from ._resources import RESOURCE_KINDS, Resources

__all__ = ["Allocator", "Grant", "UsageReport"]


@dataclass(eq=False)
class Grant:
    """One node of the allocation tree.  Mutated only by its :class:`Allocator`."""

    id: str
    owner: str
    weight: int
    capacity: Resources
    parent: Grant | None
    created_ns: int
    used: Resources = Resources.ZERO
    released_usage: Resources = Resources.ZERO
    children: dict[str, Grant] = field(default_factory=dict)
    released: bool = False
    _next_child: int = 0
    #: sum of the live children's capacities, kept by the allocator (O(1) ``available``)
    _reserved: Resources = Resources.ZERO

    @property
    def reserved(self) -> Resources:
        """Capacity currently held by live children."""
        return self._reserved

    @property
    def available(self) -> Resources:
        """What this grant can still use or hand to new children."""
        return self.capacity - self.reserved - self.used

    def total_usage(self) -> Resources:
        """Usage of this grant and its whole subtree, released children included."""
        total = self.used + self.released_usage
        for child in self.children.values():
            total = total + child.total_usage()
        return total

    def walk(self) -> Iterator[Grant]:
        """This grant and its live descendants, parents before children."""
        yield self
        for child in self.children.values():
            yield from child.walk()


class Allocator:
    """A tree of grants under ``capacity``, with a pluggable policy."""

    def __init__(
        self,
        capacity: Resources,
        *,
        clock: Callable[[], int],
        policy: AllocationPolicy | None = None,
        name: str = "root",
    ) -> None:
        _require_nonnegative("capacity", capacity)
        self._clock = clock
        self.policy: AllocationPolicy = policy if policy is not None else StaticPolicy()
        self.root = Grant(id=name, owner=name, weight=1, capacity=capacity, parent=None,
                          created_ns=clock())
        self._grants: dict[str, Grant] = {name: self.root}
        # Waiting requests by ticket, in arrival order, and the same per parent; with a
        # lower bound (componentwise) of each parent's waiting requests, so that a pump
        # or an expiry that can do nothing costs O(1), not O(waiting).
        self._pending: dict[int, PendingRequest] = {}
        self._by_parent: dict[str, dict[int, PendingRequest]] = {}
        self._floor: dict[str, tuple[int, ...]] = {}
        self._next_deadline: int | None = None  # no waiting deadline is earlier than this
        self._orphaned = False  # a parent with waiting requests may have been released
        self._seq = 0
        self._fifo = type(self.policy) is StaticPolicy  # admit-all, arrival order: fast path

    # -- lookup ----------------------------------------------------------------
    def grant(self, grant_id: str) -> Grant:
        """The live grant with this id."""
        found = self._grants.get(grant_id)
        if found is None:
            raise GrantReleased(grant_id)
        return found

    def live_grants(self) -> list[Grant]:
        """Every live grant, parents before children."""
        return list(self.root.walk())

    # -- allocate / release ----------------------------------------------------
    def allocate(
        self,
        request: Resources,
        *,
        parent: Grant | None = None,
        owner: str = "",
        weight: int = 1,
    ) -> Grant:
        """Carve ``request`` out of ``parent`` (default: the root), or fail fast."""
        grant = self.try_allocate(request, parent=parent, owner=owner, weight=weight)
        if isinstance(grant, Grant):
            return grant
        parent_grant = self.root if parent is None else parent
        raise InsufficientResources(parent_grant.id, request.shortfall(parent_grant.available), grant)

    def try_allocate(
        self,
        request: Resources,
        *,
        parent: Grant | None = None,
        owner: str = "",
        weight: int = 1,
    ) -> Grant | str:
        """The new grant, or the reason it cannot be had now."""
        _require_nonnegative("request", request)
        if weight <= 0:
            raise InvalidRequest(f"weight must be positive, got {weight}")
        parent = self.root if parent is None else parent
        self._check_live(parent)
        if not request <= parent.available:
            shortfall = request.shortfall(parent.available)
            return "short of " + ", ".join(sorted(shortfall))
        if not self._fifo:  # StaticPolicy admits whatever fits: no need to list the waiters
            waiting = {p.owner: p.weight for p in self._by_parent.get(parent.id, {}).values()}
            reason = self.policy.admit(parent, request, owner or parent.owner, weight, waiting)
            if reason is not None:
                return reason
        return self._carve(parent, request, owner or parent.owner, weight)

    def subdivide(self, grant: Grant, parts: Sequence[Resources], *, owner: str = "") -> list[Grant]:
        """Partition part of ``grant`` among new children, all or nothing."""
        self._check_live(grant)
        total = Resources.ZERO
        for index, part in enumerate(parts):
            _require_nonnegative(f"parts[{index}]", part)
            total = total + part
        if not total <= grant.available:
            raise InsufficientResources(grant.id, total.shortfall(grant.available), "subdivide")
        return [self._carve(grant, part, owner or grant.owner, 1) for part in parts]

    def subdivide_weighted(self, grant: Grant, weights: Sequence[int]) -> list[Grant]:
        """Split everything ``grant`` has available in proportion to ``weights``."""
        if not weights or any(w <= 0 for w in weights):
            raise InvalidRequest(f"weights must be positive and non-empty, got {list(weights)}")
        total = sum(weights)
        available = grant.available
        return self.subdivide(grant, [available.scale(w, total) for w in weights])

    def release(self, grant: Grant) -> Resources:
        """Release ``grant`` and its subtree; returns the capacity given back."""
        self._check_live(grant)
        if grant.parent is None:
            raise InvalidRequest("the root grant cannot be released")
        usage = grant.total_usage()
        for node in list(grant.walk()):
            node.released = True
            del self._grants[node.id]
            if node.id in self._by_parent:
                self._orphaned = True  # requests waiting on it expire at the next expire()
        parent = grant.parent
        del parent.children[grant.id]
        parent._reserved = parent._reserved - grant.capacity
        parent.released_usage = parent.released_usage + usage
        return grant.capacity

    def resize(self, grant: Grant, capacity: Resources) -> Resources:
        """Give ``grant`` exactly ``capacity``; returns the change (new - old, componentwise).

        Growing takes from the parent's available balance and shrinking gives
        back to it; a grant never shrinks below what it holds (its own use
        plus its live children): :class:`InsufficientResources` for either
        shortfall, and nothing changes.  Used to rebalance fair shares (the
        daemon's tenants) without releasing a grant its children run under.
        """
        self._check_live(grant)
        _require_nonnegative("capacity", capacity)
        parent = grant.parent
        if parent is None:
            raise InvalidRequest("the root grant cannot be resized")
        held = grant.used + grant.reserved
        if not held <= capacity:
            raise InsufficientResources(grant.id, held.shortfall(capacity), "shrink below what it holds")
        delta = capacity - grant.capacity
        grow = Resources(*(max(0, v) for v in delta.as_tuple()))
        if not grow <= parent.available:
            raise InsufficientResources(parent.id, grow.shortfall(parent.available), "grow")
        grant.capacity = capacity
        parent._reserved = parent._reserved + delta
        return delta

    # -- usage -----------------------------------------------------------------
    def record_usage(self, grant: Grant, amount: Resources) -> None:
        """Add ``amount`` to what ``grant`` itself has used (monotone)."""
        _require_nonnegative("usage", amount)
        self._check_live(grant)
        if not amount <= grant.available:
            raise UsageExceedsGrant(grant.id, amount.shortfall(grant.available))
        grant.used = grant.used + amount

    def check_usage(self, grant: Grant) -> UsageReport:
        """The grant's balances, time-stamped on the allocator's clock."""
        self._check_live(grant)
        now = self._clock()
        return UsageReport(
            grant=grant.id,
            owner=grant.owner,
            capacity=grant.capacity,
            used=grant.used,
            total_used=grant.total_usage(),
            reserved=grant.reserved,
            available=grant.available,
            timestamp_ns=now,
            age_ns=now - grant.created_ns,
        )

    # -- waiting ---------------------------------------------------------------
    def enqueue(
        self,
        request: Resources,
        *,
        parent: Grant | None = None,
        owner: str = "",
        weight: int = 1,
        deadline_ns: int | None = None,
    ) -> int:
        """Queue a request to be served by :meth:`pump`; returns its ticket."""
        _require_nonnegative("request", request)
        parent = self.root if parent is None else parent
        self._check_live(parent)
        if not request <= parent.capacity:
            raise InsufficientResources(parent.id, request.shortfall(parent.capacity),
                                        "larger than the whole grant: it could never be served")
        self._seq += 1
        p = PendingRequest(self._seq, parent.id, request, owner or parent.owner, weight,
                           deadline_ns)
        self._pending[p.seq] = p
        self._by_parent.setdefault(parent.id, {})[p.seq] = p
        t = request.as_tuple()
        floor = self._floor.get(parent.id)
        self._floor[parent.id] = t if floor is None else tuple(map(min, floor, t))
        if deadline_ns is not None and (self._next_deadline is None
                                        or deadline_ns < self._next_deadline):
            self._next_deadline = deadline_ns
        return self._seq

    def cancel(self, ticket: int) -> bool:
        """Withdraw a waiting request; False if it was not waiting."""
        p = self._pending.get(ticket)
        if p is None:
            return False
        self._drop(p)
        return True

    def pending(self) -> list[PendingRequest]:
        """Requests still waiting, in arrival order."""
        return list(self._pending.values())

    def pump(self, wanted: Callable[[int], bool] | None = None) -> list[tuple[int, Grant]]:
        """Serve every waiting request that now fits, in policy order.

        ``wanted(ticket)``: False for a request whose asker has given up; it
        is withdrawn when its turn comes, and nothing is carved for it.

        A parent none of whose waiting requests can fit (its available
        amounts are below their componentwise minimum: the common case of a
        release that freed one slot for a thousand waiters, once that slot is
        taken) is skipped in O(1); under the default :class:`StaticPolicy`
        one pass in arrival order serves everything that fits (carving only
        shrinks what is available, so a request passed over cannot fit later
        in the same pump).  Other policies decide admission by who else is
        waiting, so their passes repeat while they make progress.
        """
        served: list[tuple[int, Grant]] = []
        progress = True
        while progress and self._pending:
            progress = False
            for parent_id in list(self._by_parent):
                parent = self._grants.get(parent_id)
                group = self._by_parent.get(parent_id)
                if parent is None or not group:
                    continue
                avail = parent.available.as_tuple()
                if not _fits(self._floor[parent_id], avail):
                    continue
                order = (list(group.values()) if self._fifo
                         else self.policy.order(parent, list(group.values())))
                floor: tuple[int, ...] | None = None
                for p in order:
                    if p.seq not in group:
                        continue
                    t = p.request.as_tuple()
                    if not _fits(t, avail):
                        floor = t if floor is None else tuple(map(min, floor, t))
                        continue
                    if wanted is not None and not wanted(p.seq):
                        self._drop(p)
                        continue
                    _require_nonnegative("request", p.request)
                    if p.weight <= 0:
                        raise InvalidRequest(f"weight must be positive, got {p.weight}")
                    if not self._fifo:
                        waiting = {q.owner: q.weight for q in group.values() if q.seq != p.seq}
                        if self.policy.admit(parent, p.request, p.owner or parent.owner,
                                             p.weight, waiting) is not None:
                            floor = t if floor is None else tuple(map(min, floor, t))
                            continue
                    grant = self._carve(parent, p.request, p.owner or parent.owner, p.weight)
                    self._drop(p)
                    served.append((p.seq, grant))
                    progress = not self._fifo
                    avail = parent.available.as_tuple()
                    if self._fifo and parent_id in self._floor and not _fits(
                            self._floor[parent_id], avail):
                        break  # nothing else waiting here can fit any more
                else:  # a full pass: the floor of what is left is now exact
                    if floor is not None and parent_id in self._floor:
                        self._floor[parent_id] = floor
        return served

    def expire(self, now_ns: int | None = None) -> list[PendingRequest]:
        """Drop (and return) waiting requests whose deadline has passed or whose parent is gone.

        O(1) when no deadline is due and no parent with waiters was released.
        """
        if not self._pending:
            return []
        now = self._clock() if now_ns is None else now_ns
        if not self._orphaned and (self._next_deadline is None or now < self._next_deadline):
            return []
        expired = [p for p in self._pending.values()
                   if (p.deadline_ns is not None and p.deadline_ns <= now)
                   or p.parent_id not in self._grants]
        for p in expired:
            self._drop(p)
        self._orphaned = False
        deadlines = [p.deadline_ns for p in self._pending.values() if p.deadline_ns is not None]
        self._next_deadline = min(deadlines) if deadlines else None
        return expired

    def _drop(self, p: PendingRequest) -> None:
        """Remove one waiting request (the parent's floor stays a valid lower bound)."""
        del self._pending[p.seq]
        group = self._by_parent[p.parent_id]
        del group[p.seq]
        if not group:
            del self._by_parent[p.parent_id]
            del self._floor[p.parent_id]

    # -- invariants ------------------------------------------------------------
    def check_invariants(self) -> None:
        """Raise :class:`AssertionError` naming the first broken invariant."""
        for node in self.root.walk():
            if not node.available.is_nonnegative():
                raise AssertionError(f"grant {node.id!r} has a negative balance {node.available}")
            held = Resources.ZERO
            for child in node.children.values():
                held = held + child.capacity
            if node.reserved != held:
                raise AssertionError(f"grant {node.id!r} reserves {node.reserved}, its children "
                                     f"hold {held}")
            if node.capacity != node.available + node.used + node.reserved:
                raise AssertionError(f"grant {node.id!r} does not conserve its capacity")
            for child in node.children.values():
                if child.parent is not node or not child.capacity <= node.capacity:
                    raise AssertionError(f"grant {child.id!r} exceeds its parent {node.id!r}")
                if not (child.used + child.reserved) <= child.capacity:
                    raise AssertionError(f"grant {child.id!r} uses more than it holds")

    # -- private ---------------------------------------------------------------
    def _carve(self, parent: Grant, request: Resources, owner: str, weight: int) -> Grant:
        parent._next_child += 1
        child_id = f"{parent.id}/{parent._next_child}"
        child = Grant(id=child_id, owner=owner, weight=weight, capacity=request, parent=parent,
                      created_ns=self._clock())
        parent.children[child_id] = child
        parent._reserved = parent._reserved + request
        self._grants[child_id] = child
        return child

    def _check_live(self, grant: Grant) -> None:
        if grant.released or self._grants.get(grant.id) is not grant:
            raise GrantReleased(grant.id)


def _fits(request: tuple[int, ...], available: tuple[int, ...]) -> bool:
    """``request <= available`` componentwise, on plain tuples (the pump's hot comparison)."""
    for a, b in zip(request, available):
        if a > b:
            return False
    return True


def _require_nonnegative(what: str, value: Resources) -> None:
    if not value.is_nonnegative():
        negative = [f"{k}={v}" for k, v in zip(RESOURCE_KINDS, value.as_tuple()) if v < 0]
        raise InvalidRequest(f"{what} has negative components: {', '.join(negative)}")
