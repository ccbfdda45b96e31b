"""The content-addressed object store (SQLite, WAL, durable before ack) and names with history."""

from ._errors import DigestMismatch as DigestMismatch
from ._errors import InvalidName as InvalidName
from ._errors import MissingDependencies as MissingDependencies
from ._errors import NameNotFound as NameNotFound
from ._errors import ObjectNotFound as ObjectNotFound
from ._errors import StoreError as StoreError
from ._store import NameEvent as NameEvent
from ._store import NewObject as NewObject
from ._store import ObjectStore as ObjectStore
from ._store import StoredObject as StoredObject

__all__ = [
    "DigestMismatch",
    "InvalidName",
    "MissingDependencies",
    "NameEvent",
    "NameNotFound",
    "NewObject",
    "ObjectNotFound",
    "ObjectStore",
    "StoreError",
    "StoredObject",
]
