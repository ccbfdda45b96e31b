"""The repository actor: the code store (`stele.store.Repository`) exposed as typed messages.

Spawn it with ``await system.spawn("repo", RepositoryActor, path)`` and ask
it `StoreSource`, `LoadTarget`, `ShowTarget`, `Resolve`, `GetObject`,
`PutBlob`, `ListNames`, `GetHistory`, `SetName`, `RemoveName` (tags 250-279;
see ``_messages.py`` for the table).
"""

from ._actor import RepositoryActor as RepositoryActor
from ._messages import DependencyInfo as DependencyInfo
from ._messages import GetHistory as GetHistory
from ._messages import GetObject as GetObject
from ._messages import HistoryReply as HistoryReply
from ._messages import ListNames as ListNames
from ._messages import LoadReply as LoadReply
from ._messages import LoadTarget as LoadTarget
from ._messages import NameChange as NameChange
from ._messages import NamesReply as NamesReply
from ._messages import ObjectRecord as ObjectRecord
from ._messages import PutBlob as PutBlob
from ._messages import RemoveName as RemoveName
from ._messages import Resolve as Resolve
from ._messages import Resolved as Resolved
from ._messages import SetName as SetName
from ._messages import ShowReply as ShowReply
from ._messages import ShowTarget as ShowTarget
from ._messages import StoredNames as StoredNames
from ._messages import StoreSource as StoreSource

__all__ = [
    "DependencyInfo", "GetHistory", "GetObject", "HistoryReply", "ListNames", "LoadReply",
    "LoadTarget", "NameChange", "NamesReply", "ObjectRecord", "PutBlob", "RemoveName",
    "RepositoryActor", "Resolve", "Resolved", "SetName", "ShowReply", "ShowTarget",
    "StoreSource", "StoredNames",
]
