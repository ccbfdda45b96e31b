"""The repository over the daemon: wire messages (protocol tags 640-659, version 3).

These carry the store commands (``stele show``, ``names``, ``history``,
``dependents``, ``rename``, ``delete``, ``diff``) and the code fetch behind
the commands that run locally on code a daemon holds (``stele eval``,
``compile``, ``profile``, ``debug`` with ``--connect``).  Every name in them
is as the tenant sees it: the daemon maps it to and from the tenant's
namespace, and never answers with another tenant's names or objects.

Where the repository actor's messages already say it, they are the answers
(they round-trip through canonical CBOR like these): ``NamesRequest`` is
answered ``NamesReply``, ``HistoryRequest`` ``HistoryReply``, ``RenameRequest``
and ``DeleteRequest`` ``NameChange``, and ``show``'s text and dependencies
are a ``ShowReply`` (:mod:`stele.actors.repository`).

A request whose target is unknown is answered :class:`~stele.daemon._messages.Raised`
with the same typed error as the embedded repository (``UnknownTarget``,
``NameNotFound``, ``AmbiguousPrefix``), so the CLI's exit codes agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..actors.repository._messages import ShowReply
from ..protocol import Digest, Message, message

__all__ = [
    "ShowRequest", "ClosureEntry", "ShowOutcome", "NamesRequest", "HistoryRequest",
    "DependentsRequest", "DependentRow", "DependentsList", "RenameRequest", "DeleteRequest",
    "FetchRequest", "WireObject", "FetchReply", "ResumeRequest",
]


@message(640)
@dataclass(frozen=True, slots=True)
class ShowRequest(Message):
    """``stele show TARGET``; ``closure`` asks for every transitive dependency too."""

    target: str
    closure: bool = False


@message(641)
@dataclass(frozen=True, slots=True)
class ClosureEntry(Message):
    """One object of a closure (dependencies first) with the tenant's names for it."""

    digest: Digest
    kind: str
    names: tuple[str, ...]


@message(642)
@dataclass(frozen=True, slots=True)
class ShowOutcome(Message):
    """A stored object made readable (``shown``, as the repository actor answers
    ``ShowTarget``); ``closure`` is ``None`` unless it was asked for."""

    shown: ShowReply
    closure: tuple[ClosureEntry, ...] | None = None


@message(643)
@dataclass(frozen=True, slots=True)
class NamesRequest(Message):
    """The tenant's bound names (all, or ``namespace`` and below)."""

    namespace: str | None = None


@message(644)
@dataclass(frozen=True, slots=True)
class HistoryRequest(Message):
    """Every change of one of the tenant's names."""

    name: str


@message(645)
@dataclass(frozen=True, slots=True)
class DependentsRequest(Message):
    """The tenant's stored objects that use ``target``'s object (``all``: transitively)."""

    target: str
    all: bool = False


@message(646)
@dataclass(frozen=True, slots=True)
class DependentRow(Message):
    """A dependent, how many steps away it is, and the tenant's names for it."""

    digest: Digest
    depth: int
    names: tuple[str, ...]


@message(647)
@dataclass(frozen=True, slots=True)
class DependentsList(Message):
    """``target``'s digest and its dependents, nearest first then by digest."""

    digest: Digest
    rows: tuple[DependentRow, ...]


@message(648)
@dataclass(frozen=True, slots=True)
class RenameRequest(Message):
    """Bind ``new`` to ``old``'s object and unbind ``old``; answered ``NameChange``
    (the binding of ``new``).  Without ``force`` a bound ``new`` is refused."""

    old: str
    new: str
    force: bool = False


@message(649)
@dataclass(frozen=True, slots=True)
class DeleteRequest(Message):
    """Unbind one of the tenant's names; answered ``NameChange``."""

    name: str


@message(650)
@dataclass(frozen=True, slots=True)
class FetchRequest(Message):
    """The closures of ``targets`` (each must resolve) and of ``optional`` (skipped when
    unknown), to run locally: a scratch store is rebuilt from the answer."""

    targets: tuple[str, ...]
    optional: tuple[str, ...] = ()


@message(651)
@dataclass(frozen=True, slots=True)
class WireObject(Message):
    """A stored object: its canonical payload (its digest is the payload's), its
    dependencies, and its ``tel.source`` annotation (written names; ``None`` if none)."""

    kind: str
    payload: bytes
    deps: tuple[Digest, ...]
    source_meta: bytes | None = None


@message(652)
@dataclass(frozen=True, slots=True)
class FetchReply(Message):
    """The objects (dependencies first, each once) and every name of the tenant's bound to
    one of them (so a target given by name is bound in the scratch store too)."""

    objects: tuple[WireObject, ...]
    names: tuple[tuple[str, Digest], ...]


@message(653)
@dataclass(frozen=True, slots=True)
class ResumeRequest(Message):
    """Finish the tenant's durable execution ``durable`` from its journal
    (``stele resume``); answered :class:`~stele.daemon._messages.ExecOutcome`."""

    durable: str
