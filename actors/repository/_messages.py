"""Messages of the repository actor (protocol tags 250-279).

The TEL/store/repository range is 200-299; the repository takes 250-279 and
leaves 200-249 to the TEL engine.  Every message round-trips through
canonical CBOR, so the actor can sit behind a socket unchanged.

=====  ===============  =====================================================
 tag   message          meaning (-> reply)
=====  ===============  =====================================================
 250   StoreSource      parse/check/hash/store a TEL file -> StoredNames
 251   StoredNames      bound name -> digest of every definition stored
 252   PutBlob          store raw bytes (a guest ELF) -> Resolved
 253   Resolve          name / digest / unique prefix -> Resolved
 254   Resolved         a digest
 255   GetObject        one stored object -> ObjectRecord
 256   ObjectRecord     digest, kind, payload, dependencies
 257   ShowTarget       pretty-print a definition -> ShowReply
 258   DependencyInfo   one direct dependency as shown
 259   ShowReply        the definition's text and dependencies
 260   LoadTarget       a definition with its closure -> LoadReply
 261   LoadReply        the closure (dependencies first) + naming hints
 262   ListNames        names (under a namespace) -> NamesReply
 263   NamesReply       (name, digest) pairs, sorted
 264   GetHistory       a name's history -> HistoryReply
 265   NameChange       one change of a name
 266   HistoryReply     the changes, oldest first
 267   SetName          bind or move a name -> NameChange
 268   RemoveName       unbind a name -> NameChange
=====  ===============  =====================================================

Failures (bad TEL, unknown names, ambiguous prefixes, missing dependencies)
reach the asker as `stele.RemoteError` whose ``cause`` is the typed error.
"""

from __future__ import annotations

from dataclasses import dataclass

from stele.protocol import Digest, Message, message
from stele.store import ELF_KIND, Loaded, NameEvent, StoredObject, assemble

__all__ = [
    "StoreSource", "StoredNames", "PutBlob", "Resolve", "Resolved", "GetObject", "ObjectRecord",
    "ShowTarget", "DependencyInfo", "ShowReply", "LoadTarget", "LoadReply", "ListNames",
    "NamesReply", "GetHistory", "NameChange", "HistoryReply", "SetName", "RemoveName",
]


@message(250)
@dataclass(frozen=True, slots=True)
class StoreSource(Message):
    """Store every definition of a TEL file, binding names under ``namespace``."""

    source: str
    filename: str = "<input>"
    namespace: str = ""
    author: str = ""


@message(251)
@dataclass(frozen=True, slots=True)
class StoredNames(Message):
    """The names bound by a store, in source order, with their digests."""

    bindings: tuple[tuple[str, Digest], ...]

    def as_dict(self) -> dict[str, Digest]:
        """name -> digest."""
        return dict(self.bindings)


@message(252)
@dataclass(frozen=True, slots=True)
class PutBlob(Message):
    """Store raw bytes (e.g. a RISC-V guest ELF) by digest, optionally named."""

    data: bytes
    kind: str = ELF_KIND
    name: str | None = None
    author: str = ""


@message(253)
@dataclass(frozen=True, slots=True)
class Resolve(Message):
    """What a name, digest or unique digest prefix denotes."""

    target: str


@message(254)
@dataclass(frozen=True, slots=True)
class Resolved(Message):
    """A full digest."""

    digest: Digest


@message(255)
@dataclass(frozen=True, slots=True)
class GetObject(Message):
    """One stored object (a definition form or a blob), by name, digest or prefix."""

    target: str


@message(256)
@dataclass(frozen=True, slots=True)
class ObjectRecord(Message):
    """A stored object as stored: payload bytes (canonical CBOR, or raw for blobs)."""

    digest: Digest
    kind: str
    payload: bytes
    deps: tuple[Digest, ...]

    @classmethod
    def of(cls, obj: StoredObject) -> ObjectRecord:
        """The record of a stored object."""
        return cls(obj.digest, obj.kind, obj.payload, obj.deps)

    def stored(self) -> StoredObject:
        """Back to the store's object type."""
        return StoredObject(self.digest, self.kind, self.payload, self.deps)


@message(257)
@dataclass(frozen=True, slots=True)
class ShowTarget(Message):
    """Pretty-print a stored definition (by name, digest or prefix)."""

    target: str


@message(258)
@dataclass(frozen=True, slots=True)
class DependencyInfo(Message):
    """A direct dependency: its digest, kind, the identifier the text uses, its names."""

    digest: Digest
    kind: str
    identifier: str
    names: tuple[str, ...]


@message(259)
@dataclass(frozen=True, slots=True)
class ShowReply(Message):
    """A definition rebuilt from its stored form, with its direct dependencies."""

    digest: Digest
    kind: str
    names: tuple[str, ...]
    text: str
    dependencies: tuple[DependencyInfo, ...]


@message(260)
@dataclass(frozen=True, slots=True)
class LoadTarget(Message):
    """A definition and everything it needs, transitively."""

    target: str


@message(261)
@dataclass(frozen=True, slots=True)
class LoadReply(Message):
    """The closure of ``root`` (each object once, dependencies first) and naming hints.

    `assemble` rebuilds the runnable module on the receiving side.
    """

    root: Digest
    objects: tuple[ObjectRecord, ...]
    identifiers: tuple[tuple[Digest, str], ...]
    local_names: tuple[tuple[Digest, tuple[str, ...]], ...]

    def assemble(self) -> Loaded:
        """The runnable module (`stele.store.Loaded`) these objects make."""
        return assemble([o.stored() for o in self.objects], self.root,
                        hints={d: [n] for d, n in self.identifiers},
                        locals_={d: list(ns) for d, ns in self.local_names})


@message(262)
@dataclass(frozen=True, slots=True)
class ListNames(Message):
    """Every bound name, or those in ``namespace`` and below."""

    namespace: str | None = None


@message(263)
@dataclass(frozen=True, slots=True)
class NamesReply(Message):
    """(name, digest) pairs sorted by name."""

    names: tuple[tuple[str, Digest], ...]


@message(264)
@dataclass(frozen=True, slots=True)
class GetHistory(Message):
    """Every change of ``name``."""

    name: str


@message(265)
@dataclass(frozen=True, slots=True)
class NameChange(Message):
    """One change of a name: ``digest`` None is a removal, ``previous`` None a creation."""

    name: str
    previous: Digest | None
    digest: Digest | None
    time_ns: int
    author: str

    @classmethod
    def of(cls, e: NameEvent) -> NameChange:
        """The message form of a store event."""
        return cls(e.name, e.previous, e.digest, e.time_ns, e.author)


@message(266)
@dataclass(frozen=True, slots=True)
class HistoryReply(Message):
    """A name's changes, oldest first."""

    events: tuple[NameChange, ...]


@message(267)
@dataclass(frozen=True, slots=True)
class SetName(Message):
    """Bind (or move) ``name`` to what ``target`` denotes."""

    name: str
    target: str
    author: str = ""


@message(268)
@dataclass(frozen=True, slots=True)
class RemoveName(Message):
    """Unbind ``name`` (history kept; stored references are unaffected)."""

    name: str
    author: str = ""
