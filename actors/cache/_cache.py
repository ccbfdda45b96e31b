"""A two-level memo cache: an in-memory LRU in front of a SQLite table.

Level one is an ordered dict bounded by entries and bytes; level two is a
SQLite table bounded by bytes, evicted least-recently-used first by a use
counter (not the wall clock, so eviction is deterministic).  A hit in level
two is promoted to level one.  Statistics count hits per level, misses,
refusals (an entry whose recorded usage does not fit the request's limits)
and evictions per level.

Only executions that performed no effect may be cached; enforcing that is
the executor's job (it never calls :meth:`MemoCache.put` otherwise).  The
SQLite connection is used synchronously; the cache actor runs it through
``Env.run_blocking``.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..._errors import SteleError
from ...protocol import DecodeError, decode
from ...store._connect import connect, use_wal
from ...store._errors import StoreCorrupted
from ...store._integrity import row_check, verify_row
from ._key import CachedResult, MemoKey

if TYPE_CHECKING:
    from ..._core._env import Env

__all__ = ["MemoCache", "CacheStats", "CacheCorrupt"]


class CacheCorrupt(SteleError):
    """A level-two entry that fails its checksum or does not decode: dropped, never served.

    A damaged memo entry is a miss (the execution runs again and its result
    replaces the entry) and counts in ``CacheStats.corrupt_dropped``;
    ``stele store check`` reports it.
    """


@dataclass(slots=True)
class CacheStats:
    """Counters of one cache."""

    hits_memory: int = 0
    hits_disk: int = 0
    misses: int = 0
    refused_over_limit: int = 0
    evictions_memory: int = 0
    evictions_disk: int = 0
    stores: int = 0
    corrupt_dropped: int = 0
    #: Level-two operations the disk failed (treated as a miss / not stored).
    disk_errors: int = 0

    @property
    def hits(self) -> int:
        """Hits in either level."""
        return self.hits_memory + self.hits_disk


_SCHEMA = """
CREATE TABLE IF NOT EXISTS memo (
    key BLOB PRIMARY KEY,
    entry BLOB NOT NULL,
    size INTEGER NOT NULL,
    last_use INTEGER NOT NULL,
    chk BLOB                      -- stele.store row checksum over (key, entry)
);
CREATE INDEX IF NOT EXISTS memo_last_use ON memo(last_use);
"""


class MemoCache:
    """Memoized results of pure executions, by :class:`MemoKey`."""

    def __init__(
        self,
        *,
        memory_entries: int = 4096,
        memory_bytes: int = 64 << 20,
        disk_path: str | None = None,
        disk_bytes: int = 512 << 20,
        env: Env | None = None,
    ) -> None:
        if memory_entries < 0 or memory_bytes < 0 or disk_bytes < 0:
            raise ValueError("cache limits must be non-negative")
        self.stats = CacheStats()
        self._mem: OrderedDict[bytes, CachedResult] = OrderedDict()
        self._mem_bytes = 0
        self._memory_entries = memory_entries
        self._memory_bytes = memory_bytes
        self._disk_bytes_limit = disk_bytes
        self._db: sqlite3.Connection | None = None
        self._use = 0
        if disk_path is not None:
            self._db = connect(disk_path, env=env)
            use_wal(self._db, disk_path)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            cols = {str(r[1]) for r in self._db.execute("PRAGMA table_info(memo)")}
            if "chk" not in cols:  # a cache from before row checksums: unverifiable, drop it
                self._db.execute("DROP TABLE memo")
                self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT COALESCE(MAX(last_use), 0) FROM memo").fetchone()
            if not isinstance(row[0], int):  # last_use is outside the row checksum
                raise StoreCorrupted("memo", "MAX(last_use)",
                                     f"expected an integer, found {type(row[0]).__name__}")
            self._use = row[0]

    # -- public ---------------------------------------------------------------
    def get(self, key: MemoKey, limits: dict[str, int]) -> CachedResult | None:
        """The cached result for ``key`` if it fits ``limits``, else ``None``."""
        k = key.digest.binary
        entry = self._mem.get(k)
        if entry is not None:
            self._mem.move_to_end(k)
            if not entry.fits(limits):
                self.stats.refused_over_limit += 1
                return None
            self.stats.hits_memory += 1
            return entry
        entry = self._disk_get(k)
        if entry is None:
            self.stats.misses += 1
            return None
        self._mem_put(k, entry)
        if not entry.fits(limits):
            self.stats.refused_over_limit += 1
            return None
        self.stats.hits_disk += 1
        return entry

    def put(self, key: MemoKey, result: CachedResult) -> None:
        """Remember ``result`` for ``key`` in both levels."""
        k = key.digest.binary
        self.stats.stores += 1
        self._mem_put(k, result)
        self._disk_put(k, result)

    def __len__(self) -> int:
        return len(self._mem)

    @property
    def memory_bytes(self) -> int:
        """Bytes currently held by level one."""
        return self._mem_bytes

    def disk_bytes(self) -> int:
        """Bytes currently held by level two."""
        if self._db is None:
            return 0
        try:
            return int(self._db.execute("SELECT COALESCE(SUM(size), 0) FROM memo").fetchone()[0])
        except sqlite3.Error:  # unknown while the disk fails; counted, not raised
            self.stats.disk_errors += 1
            return 0

    def close(self) -> None:
        """Close the SQLite connection."""
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- level one ------------------------------------------------------------
    def _mem_put(self, k: bytes, entry: CachedResult) -> None:
        old = self._mem.pop(k, None)
        if old is not None:
            self._mem_bytes -= old.size
        if entry.size > self._memory_bytes or self._memory_entries == 0:
            return
        self._mem[k] = entry
        self._mem_bytes += entry.size
        while len(self._mem) > self._memory_entries or self._mem_bytes > self._memory_bytes:
            _, evicted = self._mem.popitem(last=False)
            self._mem_bytes -= evicted.size
            self.stats.evictions_memory += 1

    # -- level two ------------------------------------------------------------
    def _disk_get(self, k: bytes) -> CachedResult | None:
        try:
            return self._disk_get_raw(k)
        except sqlite3.Error:  # level two is an optimisation: a failing disk is a miss
            self.stats.disk_errors += 1
            return None

    def _disk_put(self, k: bytes, entry: CachedResult) -> None:
        try:
            self._disk_put_raw(k, entry)
        except sqlite3.Error:  # not stored; the next request runs the code again
            self.stats.disk_errors += 1

    def _disk_get_raw(self, k: bytes) -> CachedResult | None:
        if self._db is None:
            return None
        row = self._db.execute("SELECT entry, chk FROM memo WHERE key = ?", (k,)).fetchone()
        if row is None:
            return None
        try:
            data = row[0]
            if not isinstance(data, bytes):
                raise CacheCorrupt("memo entry is not a blob")
            try:  # the checksum covers the key: an entry moved to another key fails too
                verify_row("memo", k.hex(), row[1], k, data)
            except StoreCorrupted as exc:
                raise CacheCorrupt(str(exc)) from None
            entry = _decode_entry(data)
        except CacheCorrupt:
            self._db.execute("DELETE FROM memo WHERE key = ?", (k,))
            self.stats.corrupt_dropped += 1
            return None
        self._use += 1
        self._db.execute("UPDATE memo SET last_use = ? WHERE key = ?", (self._use, k))
        return entry

    def _disk_put_raw(self, k: bytes, entry: CachedResult) -> None:
        if self._db is None or entry.size > self._disk_bytes_limit:
            return
        self._use += 1
        data = entry.to_cbor()
        self._db.execute(
            "INSERT OR REPLACE INTO memo(key, entry, size, last_use, chk) VALUES (?, ?, ?, ?, ?)",
            (k, data, entry.size, self._use, row_check("memo", k, data)),
        )
        total = self.disk_bytes()
        while total > self._disk_bytes_limit:
            row = self._db.execute(
                "SELECT key, size FROM memo ORDER BY last_use LIMIT 1").fetchone()
            if row is None:  # pragma: no cover - total > 0 implies a row
                break
            self._db.execute("DELETE FROM memo WHERE key = ?", (row[0],))
            total -= int(row[1])
            self.stats.evictions_disk += 1


def _decode_entry(data: bytes) -> CachedResult:
    try:
        obj = decode(data)
    except DecodeError as exc:
        raise CacheCorrupt(f"memo entry does not decode: {exc}") from exc
    if (not isinstance(obj, list) or len(obj) != 2 or not isinstance(obj[0], bytes)
            or not isinstance(obj[1], list)):
        raise CacheCorrupt("memo entry is not [value, usage]")
    usage: list[tuple[str, int]] = []
    for item in obj[1]:
        if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str)
                or not isinstance(item[1], int)):
            raise CacheCorrupt(f"memo usage item {item!r} is not [kind, amount]")
        usage.append((item[0], item[1]))
    return CachedResult(obj[0], tuple(usage))
