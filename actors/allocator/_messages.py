"""Messages of the allocator actor (protocol tags 500-519).

========  ==================  ===============================================
 tag      message             meaning
========  ==================  ===============================================
 500      Resources           the resource vector (see ``_resources``)
 501      Allocate            carve a grant, failing fast or waiting
 502      Granted             a new grant's id and capacity
 503      Release             release a grant and its subtree
 504      Released            the capacity given back
 505      RecordUsage         add to what a grant has used
 506      CheckUsage          ask for a grant's balances
 507      UsageReport         a grant's balances at a time
 508      Subdivide           partition a grant among new children
 509      Subdivided          the children's ids
 510      AllocatorStatus     ask for the root's balances and waiters
 511      Status              the root's balances, live grants, waiters
========  ==================  ===============================================
"""

from __future__ import annotations

from dataclasses import dataclass

from ...protocol import Message, message
from ._resources import Resources

__all__ = [
    "Allocate", "Granted", "Release", "Released", "RecordUsage", "CheckUsage", "UsageReport",
    "Subdivide", "Subdivided", "AllocatorStatus", "Status", "Resize", "Resized",
]


@message(501)
@dataclass(frozen=True, slots=True)
class Allocate(Message):
    """Carve ``request`` out of ``parent`` (the root if None).

    With ``wait_ms`` None the request fails fast; otherwise it waits up to
    ``wait_ms`` milliseconds of Env time for releases to make room.
    """

    request: Resources
    parent: str | None = None
    owner: str = ""
    weight: int = 1
    wait_ms: int | None = None


@message(502)
@dataclass(frozen=True, slots=True)
class Granted(Message):
    """A new grant."""

    grant: str
    capacity: Resources


@message(503)
@dataclass(frozen=True, slots=True)
class Release(Message):
    """Release ``grant`` and its whole subtree."""

    grant: str


@message(504)
@dataclass(frozen=True, slots=True)
class Released(Message):
    """What a release gave back to the parent."""

    grant: str
    capacity: Resources
    total_used: Resources


@message(505)
@dataclass(frozen=True, slots=True)
class RecordUsage(Message):
    """Add ``amount`` to what ``grant`` itself has used."""

    grant: str
    amount: Resources


@message(506)
@dataclass(frozen=True, slots=True)
class CheckUsage(Message):
    """Ask for ``grant``'s balances."""

    grant: str


@message(507)
@dataclass(frozen=True, slots=True)
class UsageReport(Message):
    """A grant's balances, time-stamped on the Env clock.

    What :meth:`Allocator.check_usage` returns, and the actor's reply to
    :class:`CheckUsage` and :class:`RecordUsage`.
    """

    grant: str
    owner: str
    capacity: Resources
    used: Resources
    total_used: Resources
    reserved: Resources
    available: Resources
    timestamp_ns: int
    age_ns: int


@message(508)
@dataclass(frozen=True, slots=True)
class Subdivide(Message):
    """Partition part of ``grant`` into new children, all or nothing."""

    grant: str
    parts: tuple[Resources, ...]
    owner: str = ""


@message(509)
@dataclass(frozen=True, slots=True)
class Subdivided(Message):
    """The new children, in the order of the parts."""

    grants: tuple[str, ...]


@message(510)
@dataclass(frozen=True, slots=True)
class AllocatorStatus(Message):
    """Ask for the allocator's overall state."""


@message(511)
@dataclass(frozen=True, slots=True)
class Status(Message):
    """The root's capacity and availability, live grants and waiting requests."""

    capacity: Resources
    available: Resources
    live_grants: int
    waiting: int


@message(512)
@dataclass(frozen=True, slots=True)
class Resize(Message):
    """Give ``grant`` exactly ``capacity`` (grow from its parent's balance, or shrink back to it)."""

    grant: str
    capacity: Resources


@message(513)
@dataclass(frozen=True, slots=True)
class Resized(Message):
    """The grant's capacity now."""

    grant: str
    capacity: Resources
