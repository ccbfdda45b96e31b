"""The content-addressed code repository: objects by digest in SQLite, names with history.

Two layers:

* `ObjectStore` -- generic objects (canonical payload bytes keyed by digest,
  a kind, ordered dependencies), names with history, prefix lookup,
  dependency closure, a bounded loader cache; WAL + ``synchronous=FULL``,
  durable before return.
* `Repository` -- stored code on top of it: `Repository.store` parses,
  type-checks and content-addresses TEL source with `stele.tel`;
  `Repository.show` and `Repository.load` turn stored forms back into TEL;
  blobs such as RISC-V guest ELFs are stored by digest too.

The on-disk schema and payload formats are in ``runtime/store/README.md``;
the ``stele store|show|names|history`` commands are in `stele.store._cli`.
"""

from ._assemble import Loaded as Loaded
from ._assemble import assemble as assemble
from ._errors import CorruptObject as CorruptObject
from ._errors import DigestMismatch as DigestMismatch
from ._errors import EffectConflict as EffectConflict
from ._errors import InvalidName as InvalidName
from ._errors import MissingDependencies as MissingDependencies
from ._errors import NameNotFound as NameNotFound
from ._errors import ObjectNotFound as ObjectNotFound
from ._errors import StoreCorrupted as StoreCorrupted
from ._errors import StoreError as StoreError
from ._errors import StoreUnavailable as StoreUnavailable
from ._errors import UnknownTarget as UnknownTarget
from ._errors import UnresolvedImport as UnresolvedImport
from ._errors import WrongKind as WrongKind
from ._repository import ELF_KIND as ELF_KIND
from ._repository import Dependency as Dependency
from ._repository import Repository as Repository
from ._repository import Shown as Shown
from ._store import NameEvent as NameEvent
from ._store import NewObject as NewObject
from ._store import ObjectStore as ObjectStore
from ._store import StoredObject as StoredObject

__all__ = [
    "CorruptObject",
    "Dependency",
    "DigestMismatch",
    "ELF_KIND",
    "EffectConflict",
    "InvalidName",
    "Loaded",
    "MissingDependencies",
    "NameEvent",
    "NameNotFound",
    "NewObject",
    "ObjectNotFound",
    "ObjectStore",
    "Repository",
    "Shown",
    "StoreCorrupted",
    "StoreError",
    "StoreUnavailable",
    "StoredObject",
    "UnknownTarget",
    "UnresolvedImport",
    "WrongKind",
    "assemble",
]
