"""The memo cache: results of pure executions, keyed by content and the actor serving it."""

from ._actor import MemoCacheActor as MemoCacheActor
from ._actor import MemoLookup as MemoLookup
from ._actor import MemoStatsReply as MemoStatsReply
from ._actor import MemoStatsRequest as MemoStatsRequest
from ._actor import MemoStore as MemoStore
from ._cache import CacheCorrupt as CacheCorrupt
from ._cache import CacheStats as CacheStats
from ._cache import MemoCache as MemoCache
from ._key import CachedResult as CachedResult
from ._key import MemoKey as MemoKey

__all__ = ["MemoCacheActor", "MemoLookup", "MemoStatsReply", "MemoStatsRequest", "MemoStore",
           "CacheCorrupt", "CacheStats", "CachedResult", "MemoCache", "MemoKey"]
