"""A two-level memo cache: an in-memory LRU in front of a SQLite table.

Level one is an ordered dict bounded by entries and bytes; level two is a
SQLite table bounded by bytes, evicted least-recently-used first by a use
counter (not the wall clock, so eviction is deterministic).  A hit in level
two is promoted to level one.  Statistics count hits per level, misses,
refusals (an entry whose recorded usage does not fit the request's limits)
and evictions per level.

Only executions that performed no effect may be cached; enforcing that is
the executor's job (it never calls :meth:`MemoCache.put` otherwise).

In a runtime, level two is served by a :class:`stele.store._writer.StoreWriter`
(:meth:`MemoCache.attach_writer`): lookups that miss level one
(:meth:`MemoCache.aget`) and every level-two write run in its worker thread,
in batches, so the event loop never waits on SQLite; :meth:`MemoCache.peek`
answers level-one hits synchronously (the executor's fast path).  Without a
serving writer the cache is used synchronously (tests, tools).
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..._errors import SteleError
from ...protocol import DecodeError, decode
from ...store._connect import connect, use_wal
from ...store._errors import StoreCorrupted
from ...store._integrity import row_check, verify_row
from ...store._writer import StoreWriter, WriterStopped
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
        self._disk_total = 0  # bytes in level two, kept by the puts and evictions
        self.writer: StoreWriter | None = None
        if disk_path is not None:
            # check_same_thread=False: a writer runs its batches in a worker thread
            self._db = connect(disk_path, env=env, check_same_thread=False)
            use_wal(self._db, disk_path)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            cols = {str(r[1]) for r in self._db.execute("PRAGMA table_info(memo)")}
            if "chk" not in cols:  # a cache from before row checksums: unverifiable, drop it
                self._db.execute("DROP TABLE memo")
                self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT COALESCE(MAX(last_use), 0), COALESCE(SUM(size), 0) "
                                   "FROM memo").fetchone()
            for what, cell in (("MAX(last_use)", row[0]), ("SUM(size)", row[1])):
                if not isinstance(cell, int):  # last_use and size are outside the row checksum
                    raise StoreCorrupted("memo", what,
                                         f"expected an integer, found {type(cell).__name__}")
            self._use, self._disk_total = row[0], row[1]

    def attach_writer(self, env: Env) -> StoreWriter | None:
        """Serve level two through a :class:`StoreWriter` (None without level two).

        The caller starts its ``serve``; while it serves, :meth:`aget` and
        :meth:`put` use level two only through it.
        """
        if self._db is None:
            return None
        self.writer = StoreWriter(env, self._db, "memo", lambda exc: sqlite3.OperationalError(str(exc)),
                                  on_drop=self._dropped)
        return self.writer

    def _served(self) -> bool:
        return self.writer is not None and self.writer.serving

    def _dropped(self, exc: BaseException) -> None:  # a level-two write the disk failed
        self.stats.disk_errors += 1

    # -- public ---------------------------------------------------------------
    def peek(self, key: MemoKey, limits: dict[str, int]) -> CachedResult | None:
        """A level-one hit for ``key`` that fits ``limits`` (counted), else None (uncounted).

        Never touches SQLite: the executor answers hits with it on the event
        loop, and asks :meth:`aget` (which counts the miss or refusal) otherwise.
        """
        entry = self._mem.get(key.digest.binary)
        if entry is None or not entry.fits(limits):
            return None
        self._mem.move_to_end(key.digest.binary)
        self.stats.hits_memory += 1
        return entry

    async def aget(self, key: MemoKey, limits: dict[str, int]) -> CachedResult | None:
        """:meth:`get`, with the level-two lookup in the writer's thread when it serves."""
        writer = self.writer
        if writer is None or not writer.serving:
            return self.get(key, limits)
        k = key.digest.binary
        if k in self._mem:
            return self._memory_answer(k, limits)
        try:
            entry = await writer.call(self._disk_get_raw, k)
        except (sqlite3.Error, WriterStopped):  # level two is an optimisation: a miss
            self.stats.disk_errors += 1
            entry = None
        if k in self._mem:  # stored meanwhile (level one wins: it is the newer answer)
            return self._memory_answer(k, limits)
        return self._disk_answer(k, entry, limits)

    def get(self, key: MemoKey, limits: dict[str, int]) -> CachedResult | None:
        """The cached result for ``key`` if it fits ``limits``, else ``None``."""
        k = key.digest.binary
        if k in self._mem:
            return self._memory_answer(k, limits)
        if self._served():
            raise RuntimeError("MemoCache.get: level two belongs to its writer (use aget)")
        return self._disk_answer(k, self._disk_get(k), limits)

    def _memory_answer(self, k: bytes, limits: dict[str, int]) -> CachedResult | None:
        entry = self._mem[k]
        self._mem.move_to_end(k)
        if not entry.fits(limits):
            self.stats.refused_over_limit += 1
            return None
        self.stats.hits_memory += 1
        return entry

    def _disk_answer(self, k: bytes, entry: CachedResult | None,
                     limits: dict[str, int]) -> CachedResult | None:
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
        """Remember ``result`` for ``key`` in both levels (level two queued to the writer)."""
        k = key.digest.binary
        self.stats.stores += 1
        self._mem_put(k, result)
        writer = self.writer
        if writer is not None and writer.serving:
            writer.submit(self._disk_put, k, result)
        else:
            self._disk_put(k, result)

    def __len__(self) -> int:
        return len(self._mem)

    @property
    def memory_bytes(self) -> int:
        """Bytes currently held by level one."""
        return self._mem_bytes

    def disk_bytes(self) -> int:
        """Bytes currently held by level two (as this cache counts them while a writer serves)."""
        if self._db is None:
            return 0
        if self._served():
            return self._disk_total
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
        row = self._db.execute("SELECT entry, chk, size FROM memo WHERE key = ?",
                               (k,)).fetchone()
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
            self._disk_total = max(0, self._disk_total - _size_of(row))
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
        old = self._db.execute("SELECT size FROM memo WHERE key = ?", (k,)).fetchone()
        self._db.execute(
            "INSERT OR REPLACE INTO memo(key, entry, size, last_use, chk) VALUES (?, ?, ?, ?, ?)",
            (k, data, entry.size, self._use, row_check("memo", k, data)),
        )
        # A running total, not SUM(size) over the table on every put (that is O(entries)).
        total = self._disk_total + entry.size - (int(old[0]) if old is not None else 0)
        while total > self._disk_bytes_limit:
            row = self._db.execute(
                "SELECT key, size FROM memo ORDER BY last_use LIMIT 1").fetchone()
            if row is None:  # the total had drifted (another process shares the table)
                total = 0
                break
            self._db.execute("DELETE FROM memo WHERE key = ?", (row[0],))
            total -= int(row[1])
            self.stats.evictions_disk += 1
        self._disk_total = max(0, total)


def _size_of(row: Any) -> int:
    """The size a (damaged) entry's row claims, for the running total (0 if unreadable)."""
    size = row[2]
    return size if isinstance(size, int) and size > 0 else 0


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
