"""The allocator actor: one :class:`Allocator` engine behind typed messages.

Fail-fast requests are answered at once.  A waiting request is queued in the
engine and its reply deferred (:meth:`stele.Actor.defer_reply`); every
release pumps the queue in policy order.  A waiter whose asker has given up
(deadline or cancellation) is withdrawn before anything is carved for it,
so an abandoned request can never leak a grant.  Expired waits fail with
:class:`InsufficientResources` naming the timeout.  All time is the Env's.
"""

from __future__ import annotations

import math

import anyio

from ..._core._actor import Actor, ActorRef, Reply
from ..._core._actor_errors import AskTimeout, RejectMessage, RemoteError
from ..._errors import SteleError
from ._allocator import Allocator, Grant
from ._errors import InsufficientResources
from ._messages import (
    Allocate, AllocatorStatus, CheckUsage, Granted, RecordUsage, Release, Released, Resize, Resized, Status,
    Subdivide, Subdivided, UsageReport,
)
from ._policy import AllocationPolicy
from ._resources import Resources

__all__ = ["AllocatorActor", "allocate", "release", "resize", "FOREVER_MS"]

#: ``wait_ms`` of a request that waits until there is room (about 285 million years).
FOREVER_MS = 1 << 53


class AllocatorActor(Actor):
    """Hierarchical resource grants as messages (see ``_messages``)."""

    def __init__(self, capacity: Resources, policy: AllocationPolicy | None = None) -> None:
        self._capacity = capacity
        self._policy = policy
        self._waiting: dict[int, Reply] = {}

    async def on_start(self) -> None:
        self.engine = Allocator(self._capacity, clock=self.env.now_ns, policy=self._policy,
                                name="root")

    async def receive(self, message: object) -> object:
        self._expire()
        try:
            return self._handle(message)
        except SteleError as exc:
            raise RejectMessage(exc) from None

    def _handle(self, message: object) -> object:
        engine = self.engine
        if isinstance(message, Allocate):
            if self.asker_gone():  # nobody would read the grant: it would leak
                return None
            parent = engine.grant(message.parent) if message.parent else None
            if message.wait_ms is None:
                g = engine.allocate(message.request, parent=parent, owner=message.owner,
                                    weight=message.weight)
                return Granted(g.id, g.capacity)
            result = engine.try_allocate(message.request, parent=parent, owner=message.owner,
                                         weight=message.weight)
            if isinstance(result, Grant):
                return Granted(result.id, result.capacity)
            deadline = self.env.now_ns() + message.wait_ms * 1_000_000
            ticket = engine.enqueue(message.request, parent=parent, owner=message.owner,
                                    weight=message.weight, deadline_ns=deadline)
            self._waiting[ticket] = self.defer_reply()
            return None
        if isinstance(message, Release):
            g = engine.grant(message.grant)
            total = g.total_usage()
            capacity = engine.release(g)
            self._pump()
            return Released(message.grant, capacity, total)
        if isinstance(message, Resize):
            g = engine.grant(message.grant)
            delta = engine.resize(g, message.capacity)
            if not delta.is_nonnegative():  # a shrink gives the parent room a waiter may take
                self._pump()
            return Resized(message.grant, g.capacity)
        if isinstance(message, RecordUsage):
            engine.record_usage(engine.grant(message.grant), message.amount)
            if self.env.buggify("allocator.spurious_wakeup"):  # BUGGIFY: pump with no release
                self._pump()
            return self._usage(message.grant)
        if isinstance(message, CheckUsage):
            return self._usage(message.grant)
        if isinstance(message, Subdivide):
            children = engine.subdivide(engine.grant(message.grant), message.parts,
                                        owner=message.owner)
            return Subdivided(tuple(c.id for c in children))
        if isinstance(message, AllocatorStatus):
            self._withdraw()
            root = engine.root
            return Status(root.capacity, root.available, len(engine.live_grants()) - 1,
                          len(engine.pending()))
        raise TypeError(f"allocator does not handle {type(message).__name__}")

    def _usage(self, grant_id: str) -> UsageReport:
        return self.engine.check_usage(self.engine.grant(grant_id))

    def _withdraw(self) -> None:
        """Withdraw the waiters whose askers gave up, before carving anything for them."""
        for ticket, reply in list(self._waiting.items()):
            if not reply.pending:
                self.engine.cancel(ticket)
                del self._waiting[ticket]

    def _pump(self) -> None:
        # An abandoned waiter is withdrawn when its turn comes (before anything is carved
        # for it), not by a scan of every waiter on every release.
        for ticket, grant in self.engine.pump(wanted=self._wanted):
            self._waiting.pop(ticket).ok(Granted(grant.id, grant.capacity))

    def _wanted(self, ticket: int) -> bool:
        reply = self._waiting.get(ticket)
        if reply is not None and reply.pending:
            return True
        self._waiting.pop(ticket, None)
        return False

    def _expire(self) -> None:
        for p in self.engine.expire():
            reply = self._waiting.pop(p.seq, None)
            if reply is not None:
                reply.fail(InsufficientResources(
                    p.parent_id, {}, f"timed out waiting for {p.request.describe()}"))


async def allocate(ref: ActorRef, request: Resources, *, parent: str | None = None,
                   owner: str = "", weight: int = 1, wait: float | None = None) -> Granted:
    """Ask the allocator for a grant; raise the allocator's own typed error on refusal.

    ``wait`` is how long (seconds of Env time) to wait for room; None fails
    fast; ``math.inf`` waits until there is room (or the caller is cancelled).

    A grant that the allocator made just as the caller was cancelled (its
    reply arrived but was never read) is released at once, so cancellation
    never leaks a grant.
    """
    if wait is None:  # answered as soon as the allocator reads it
        wait_ms, timeout = None, math.inf
    elif wait == math.inf:
        wait_ms, timeout = FOREVER_MS, math.inf
    else:
        wait_ms, timeout = max(0, math.ceil(wait * 1000)), wait + 1.0

    lost: list[str] = []

    def on_lost(reply: object) -> None:
        if isinstance(reply, Granted):
            lost.append(reply.grant)

    cause: BaseException | None = None
    try:
        reply = await ref.ask(Allocate(request, parent, owner, weight, wait_ms), timeout=timeout,
                              on_lost=on_lost)
    except RemoteError as exc:
        cause = exc.cause
    except AskTimeout:
        raise InsufficientResources(parent or "root", {},
                                    f"timed out after {wait}s waiting for {request.describe()}"
                                    ) from None
    finally:
        if lost:  # cancelled with the grant in hand: give it back
            with anyio.CancelScope(shield=True):
                for grant in lost:
                    try:
                        await ref.send(Release(grant))
                    except Exception:  # the allocator stopped: its grants went with it
                        pass
    if cause is not None:  # unboxed without a reference cycle (see stele._runtime.ask_execute)
        try:
            raise cause
        finally:
            del cause
    assert isinstance(reply, Granted)
    return reply


async def resize(ref: ActorRef, grant: str, capacity: Resources) -> Resized:
    """Resize ``grant`` to ``capacity``; raise the allocator's typed error if it cannot."""
    reply = await ref.ask_unboxed(Resize(grant, capacity))
    assert isinstance(reply, Resized)
    return reply


async def release(ref: ActorRef, grant: str) -> Released:
    """Release ``grant``; raise the allocator's typed error if it is unknown."""
    reply = await ref.ask_unboxed(Release(grant))
    assert isinstance(reply, Released)
    return reply
