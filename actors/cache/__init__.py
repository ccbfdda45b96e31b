"""The memo cache: results of pure executions, keyed by content (the actor comes with the executor)."""

from ._cache import CacheCorrupt as CacheCorrupt
from ._cache import CacheStats as CacheStats
from ._cache import MemoCache as MemoCache
from ._key import CachedResult as CachedResult
from ._key import MemoKey as MemoKey

__all__ = ["CacheCorrupt", "CacheStats", "CachedResult", "MemoCache", "MemoKey"]
