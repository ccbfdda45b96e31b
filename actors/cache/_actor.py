"""The memo cache actor: one :class:`MemoCache` behind messages.

``MemoLookup(key, limits)`` answers the :class:`CachedResult` or ``None``
(a hit only when the recorded usage fits ``limits``); ``MemoStore(key,
result)`` remembers a pure execution's result (send it with ``tell``);
``MemoStatsRequest()`` answers a copy of the :class:`CacheStats` plus sizes.
Level two runs through the cache's writer when it has one (off the event
loop); a store is queued there and never waited for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..._core._actor import Actor
from ..._core._actor_errors import RejectMessage
from ._cache import CacheStats, MemoCache
from ._key import CachedResult, MemoKey

__all__ = ["MemoCacheActor", "MemoLookup", "MemoStore", "MemoStatsRequest", "MemoStatsReply"]


@dataclass(frozen=True, slots=True)
class MemoLookup:
    """Look ``key`` up for a request whose limits are ``limits``."""

    key: MemoKey
    limits: dict[str, int]


@dataclass(frozen=True, slots=True)
class MemoStore:
    """Remember ``result`` for ``key``."""

    key: MemoKey
    result: CachedResult


@dataclass(frozen=True, slots=True)
class MemoStatsRequest:
    """Ask for the cache's statistics."""


@dataclass(frozen=True, slots=True)
class MemoStatsReply:
    """Counters and sizes of the memo cache."""

    stats: CacheStats
    entries: int
    memory_bytes: int
    disk_bytes: int


class MemoCacheActor(Actor):
    """Serves a :class:`MemoCache` (``disk_path=None``: level one only).

    ``shared``: serve this existing cache instead of opening one (the runtime
    shares it with the executor, which reads hits synchronously on its fast
    path; writes still come here).  A shared cache outlives restarts and is
    closed by its owner.
    """

    def __init__(self, disk_path: str | None = None, *, memory_entries: int = 4096,
                 memory_bytes: int = 64 << 20, disk_bytes: int = 512 << 20,
                 shared: MemoCache | None = None) -> None:
        self._args = (disk_path, memory_entries, memory_bytes, disk_bytes)
        self._shared = shared
        self.cache: MemoCache | None = None

    async def on_start(self) -> None:
        if self._shared is not None:
            self.cache = self._shared
            return
        path, entries, mem, disk = self._args
        self.cache = MemoCache(memory_entries=entries, memory_bytes=mem, disk_path=path,
                               disk_bytes=disk, env=self.env)

    async def on_stop(self) -> None:
        if self.cache is not None and self._shared is None:
            self.cache.close()
        self.cache = None

    async def receive(self, message: object) -> object:
        cache = self.cache
        assert cache is not None
        if isinstance(message, MemoLookup):
            return await cache.aget(message.key, message.limits)
        if isinstance(message, MemoStore):
            cache.put(message.key, message.result)
            return None
        if isinstance(message, MemoStatsRequest):
            return MemoStatsReply(replace(cache.stats), len(cache), cache.memory_bytes,
                                  cache.disk_bytes())
        raise RejectMessage(TypeError(
            f"the memo cache actor does not handle {type(message).__name__} messages"))
