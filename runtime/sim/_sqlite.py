"""SQLite on the simulated disk: an apsw Python VFS over :class:`SimDisk`'s range API.

Under :class:`stele.sim.SimEnv` the store, the KV effect's table and the memo
cache's level two open their database through :func:`connect`, which returns
a :class:`SimConnection`: a real SQLite (the one apsw bundles) whose every
file operation -- read, write, truncate, fsync, delete -- goes to
:class:`stele.sim.SimDisk`.  So the product's own SQL, transactions and
SQLite's own journal recovery run against a disk that fails (EIO on read,
write and fsync, ENOSPC, latency) and that, at a crash, loses, tears and
bit-flips every unsynced write independently.

Why a VFS (and not a write-ahead layer of Stele's own): with a VFS the code
under test is SQLite's real atomic-commit protocol on a hostile disk; a
layer of our own (serialize the database after each commit into a log)
would test that layer instead, and would need its own torn-frame detection
to be correct, while SQLite's rollback journal already has one.

Differences from the real store, on purpose and documented:

* the journal is a rollback journal (``journal_mode=DELETE``), not WAL:
  apsw's Python VFSes have no shared-memory methods.  ``synchronous`` is
  kept as the product sets it.  WAL recovery is covered by the real-process
  SIGKILL test (``tests/store/test_durability.py``);
* locks are modelled in memory across the connections of one disk (the
  product opens three connections to one file), and a conflict is
  ``SQLITE_BUSY`` -- it never blocks, since everything runs inline;
* results are fetched eagerly: a statement never stays open across calls.

:class:`SimConnection` offers the subset of :class:`sqlite3.Connection` the
product uses and raises :mod:`sqlite3`'s exception classes, so the product
handles a simulated disk error exactly as it handles a real one.
"""

from __future__ import annotations

import errno
import itertools
import sqlite3
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import apsw

from ._disk import SimDisk

__all__ = ["SimConnection", "connect", "VFS_NAME"]

VFS_NAME = "stele-sim"
_SECTOR = 512
_IOCAP = 0  # no atomic-write, safe-append or powersafe-overwrite promises: the worst disk

_disks: weakref.WeakValueDictionary[str, SimDisk] = weakref.WeakValueDictionary()
_tokens: weakref.WeakKeyDictionary[SimDisk, str] = weakref.WeakKeyDictionary()
_counter = itertools.count(1)
_locks: dict[str, dict[int, int]] = {}  # full name -> id(file) -> lock level


def _token(disk: SimDisk) -> str:
    tok = _tokens.get(disk)
    if tok is None:
        tok = f"simdisk{next(_counter)}"
        _tokens[disk] = tok
        _disks[tok] = disk
    return tok


def _split(name: str) -> tuple[SimDisk, str]:
    tok, _, path = name.partition("/")
    disk = _disks.get(tok)
    if disk is None:
        raise apsw.CantOpenError(f"no simulated disk {tok!r}")
    return disk, path


def _os_error(exc: OSError) -> apsw.Error:
    if exc.errno == errno.ENOSPC:
        return apsw.FullError(str(exc))
    if isinstance(exc, FileNotFoundError):
        return apsw.CantOpenError(str(exc))
    return apsw.IOError(str(exc))


class _MemFile:
    """A nameless temporary file (SQLite's temp journals): private memory, no faults."""

    def __init__(self) -> None:
        self.data = bytearray()

    def xRead(self, amount: int, offset: int) -> bytes:
        return bytes(self.data[offset:offset + amount])

    def xWrite(self, data: bytes, offset: int) -> None:
        if offset > len(self.data):
            self.data.extend(bytes(offset - len(self.data)))
        self.data[offset:offset + len(data)] = data

    def xTruncate(self, size: int) -> None:
        del self.data[size:]

    def xSync(self, flags: int) -> None:
        pass

    def xFileSize(self) -> int:
        return len(self.data)

    def xLock(self, level: int) -> None:
        pass

    def xUnlock(self, level: int) -> None:
        pass

    def xCheckReservedLock(self) -> bool:
        return False

    def xFileControl(self, op: int, ptr: int) -> bool:
        return False

    def xSectorSize(self) -> int:
        return _SECTOR

    def xDeviceCharacteristics(self) -> int:
        return _IOCAP

    def xClose(self) -> None:
        pass


class _SimFile:
    """One open file of a :class:`SimDisk` (every call may fail the way the disk says)."""

    def __init__(self, name: str, flags: int) -> None:
        self.name = name
        self.disk, self.path = _split(name)
        create = bool(flags & apsw.SQLITE_OPEN_CREATE)
        try:
            self.disk.open_file(self.path, create=create)
        except OSError as exc:
            raise _os_error(exc) from None
        self.delete_on_close = bool(flags & apsw.SQLITE_OPEN_DELETEONCLOSE)
        _locks.setdefault(name, {})[id(self)] = 0

    def xRead(self, amount: int, offset: int) -> bytes:
        try:
            return self.disk.pread(self.path, offset, amount)  # short: SQLite zero-fills
        except OSError as exc:
            raise _os_error(exc) from None

    def xWrite(self, data: bytes, offset: int) -> None:
        try:
            self.disk.pwrite(self.path, offset, bytes(data))
        except OSError as exc:
            raise _os_error(exc) from None

    def xTruncate(self, size: int) -> None:
        try:
            self.disk.ftruncate(self.path, size)
        except OSError as exc:
            raise _os_error(exc) from None

    def xSync(self, flags: int) -> None:
        try:
            self.disk.sync_file(self.path)
        except OSError as exc:
            raise _os_error(exc) from None

    def xFileSize(self) -> int:
        try:
            return self.disk.file_size(self.path)
        except KeyError:
            raise apsw.IOError(f"{self.path}: file vanished") from None

    # Locks: SQLite's five levels, shared by every connection to the same file.
    def _others(self) -> list[int]:
        table = _locks.get(self.name, {})
        return [lvl for key, lvl in table.items() if key != id(self)]

    def xLock(self, level: int) -> None:
        others = self._others()
        if level == 1 and any(o >= 3 for o in others):
            raise apsw.BusyError("shared lock refused: a writer holds the file")
        if level == 2 and any(o >= 2 for o in others):
            raise apsw.BusyError("reserved lock refused: another writer")
        if level >= 3 and any(o >= 1 for o in others):
            raise apsw.BusyError("exclusive lock refused: readers present")
        _locks.setdefault(self.name, {})[id(self)] = level

    def xUnlock(self, level: int) -> None:
        _locks.setdefault(self.name, {})[id(self)] = level

    def xCheckReservedLock(self) -> bool:
        return any(o >= 2 for o in self._others())

    def xFileControl(self, op: int, ptr: int) -> bool:
        return False

    def xSectorSize(self) -> int:
        return _SECTOR

    def xDeviceCharacteristics(self) -> int:
        return _IOCAP

    def xClose(self) -> None:
        table = _locks.get(self.name)
        if table is not None:
            table.pop(id(self), None)
            if not table:
                del _locks[self.name]
        if self.delete_on_close and self.disk.file_exists(self.path):
            try:
                self.disk.delete_file(self.path)
            except OSError:
                pass


class _SimVFS(apsw.VFS):
    """The process's one simulated-disk VFS; file names are ``<disk token>/<path>``."""

    def __init__(self) -> None:
        super().__init__(VFS_NAME, base="")

    def xOpen(self, name: Any, flags: list[int]) -> Any:
        if name is None:
            return _MemFile()
        text = name.filename() if hasattr(name, "filename") else str(name)
        return _SimFile(text, flags[0])

    def xAccess(self, pathname: str, flags: int) -> bool:
        disk, path = _split(pathname)
        return disk.file_exists(path) and (flags != 0 or disk.file_size(path) >= 0)

    def xDelete(self, filename: str, syncdir: bool) -> None:
        disk, path = _split(filename)
        try:
            disk.delete_file(path)
        except FileNotFoundError:
            raise apsw.IOError(f"{path}: no such file") from None
        except OSError as exc:
            raise _os_error(exc) from None

    def xFullPathname(self, name: str) -> str:
        return name

    def xDlOpen(self, filename: str) -> int:
        return 0

    def xRandomness(self, numbytes: int) -> bytes:
        return bytes(numbytes)  # SQLite's temp names and nonces: fixed, so runs replay

    def xSleep(self, microseconds: int) -> int:
        return 0

    def xCurrentTime(self) -> float:
        return 2440587.5  # the Unix epoch as a Julian day: SQLite's clock is not used

    def xCurrentTimeInt64(self) -> int:
        return 210866760000000


_vfs: _SimVFS | None = None


def _ensure_vfs() -> None:
    global _vfs
    if _vfs is None:
        _vfs = _SimVFS()


_ERRORS: tuple[tuple[type[BaseException], Callable[[str], sqlite3.Error]], ...] = (
    (apsw.ConstraintError, sqlite3.IntegrityError),
    (apsw.FullError, lambda m: sqlite3.OperationalError(f"database or disk is full: {m}")),
    (apsw.IOError, lambda m: sqlite3.OperationalError(f"disk I/O error: {m}")),
    (apsw.BusyError, lambda m: sqlite3.OperationalError(f"database is locked: {m}")),
    (apsw.CorruptError, lambda m: sqlite3.DatabaseError(f"database disk image is malformed: {m}")),
    (apsw.NotADBError, lambda m: sqlite3.DatabaseError(f"file is not a database: {m}")),
    (apsw.SQLError, sqlite3.OperationalError),
    (apsw.CantOpenError, lambda m: sqlite3.OperationalError(f"unable to open database file: {m}")),
)


def _translate(exc: apsw.Error) -> sqlite3.Error:
    for cls, make in _ERRORS:
        if isinstance(exc, cls):
            return make(str(exc))
    return sqlite3.DatabaseError(f"{type(exc).__name__}: {exc}")


class _Cursor:
    """A finished statement's rows (fetched eagerly)."""

    def __init__(self, rows: list[tuple[Any, ...]], lastrowid: int | None = None,
                 rowcount: int = -1) -> None:
        self._rows = rows
        self._i = 0
        #: As :class:`sqlite3.Cursor`'s: the rowid of the last INSERT, rows a DML changed.
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._i >= len(self._rows):
            return None
        self._i += 1
        return self._rows[self._i - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        out, self._i = self._rows[self._i:], len(self._rows)
        return out

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while self._i < len(self._rows):
            self._i += 1
            yield self._rows[self._i - 1]


class SimConnection:
    """The part of :class:`sqlite3.Connection` the product uses, over apsw on a SimDisk."""

    simulated = True

    def __init__(self, disk: SimDisk, path: str) -> None:
        _ensure_vfs()
        self.path = path
        self.text_factory: Any = str
        flags = (apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
        try:
            self._db: apsw.Connection | None = apsw.Connection(
                f"{_token(disk)}/{path}", vfs=VFS_NAME, flags=flags)
            self._rows(self._db.execute("PRAGMA journal_mode=DELETE"))
        except apsw.Error as exc:
            self.close()
            raise _translate(exc) from None

    def _conn(self) -> apsw.Connection:
        if self._db is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return self._db

    def _rows(self, cursor: Iterable[Any]) -> list[tuple[Any, ...]]:
        try:
            rows = [tuple(r) for r in cursor]
        except UnicodeDecodeError as exc:
            from ..store._errors import StoreCorrupted
            raise StoreCorrupted("?", "?", f"TEXT cell is not UTF-8 (byte {exc.start})") from None
        if self.text_factory is bytes:
            rows = [tuple(c.encode() if isinstance(c, str) else c for c in r) for r in rows]
        return rows

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Cursor:
        """Run one statement; its rows are fetched before this returns."""
        try:
            conn = self._conn()
            rows = self._rows(conn.execute(sql, tuple(parameters)))
        except apsw.Error as exc:
            raise _translate(exc) from None
        head = sql.lstrip()[:7].upper()
        if head.startswith(("INSERT", "UPDATE", "DELETE", "REPLACE")):
            return _Cursor(rows, conn.last_insert_rowid(), conn.changes())
        return _Cursor(rows)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> _Cursor:
        """Run one statement for each parameter row."""
        rows = [tuple(p) for p in seq]
        if not rows:
            return _Cursor([])
        try:
            return _Cursor(self._rows(self._conn().executemany(sql, rows)))
        except apsw.Error as exc:
            raise _translate(exc) from None

    def executescript(self, sql: str) -> _Cursor:
        """Run several statements."""
        return self.execute(sql)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return self._db is not None and not self._db.get_autocommit()

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back, as SQLite does)."""
        db, self._db = getattr(self, "_db", None), None
        if db is not None:
            try:
                db.close(True)
            except apsw.Error:
                pass


def connect(disk: SimDisk, path: str) -> SimConnection:
    """Open ``path`` on ``disk`` as a SQLite database (created if missing)."""
    return SimConnection(disk, path)
