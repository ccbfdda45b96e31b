"""Opening the store's SQLite database through the Env.

Every SQLite connection of the runtime (the object store, the KV effect's
table, the memo cache's level two) is opened with :func:`connect`.  Under a
real Env it is :func:`sqlite3.connect` on the file.  Under simulation
(``env.simulated``) the file lives on the Env's simulated disk, and the
connection is :class:`stele.sim._sqlite.SimConnection`: SQLite through an
apsw VFS whose reads, writes and fsyncs are ``env.disk``'s, so the real
store meets disk faults and crashes.  Both raise :mod:`sqlite3`'s errors.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from ._errors import StoreUnavailable

if TYPE_CHECKING:
    from .._core._env import Env

__all__ = ["connect", "use_wal", "simulated", "unavailable"]


def simulated(env: Env | None, path: str | None) -> bool:
    """Whether ``path`` is a file on ``env``'s simulated disk."""
    return path is not None and env is not None and env.simulated


def connect(path: str | None, *, env: Env | None = None, timeout: float = 5.0,
            check_same_thread: bool = True) -> Any:
    """A connection to ``path`` (``None``: a private in-memory database).

    ``isolation_level`` is always ``None`` (the caller issues BEGIN/COMMIT).
    """
    if simulated(env, path):
        assert env is not None and path is not None
        from ..sim._sqlite import connect as sim_connect
        return sim_connect(env.disk, path)  # type: ignore[arg-type]
    return sqlite3.connect(path or ":memory:", isolation_level=None, timeout=timeout,
                           check_same_thread=check_same_thread)


def use_wal(db: Any, path: str | None) -> None:
    """Put a file database in WAL mode (a simulated one keeps its rollback journal)."""
    if path is None or getattr(db, "simulated", False):
        return
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if isinstance(mode, bytes):  # a connection with text_factory=bytes (the KV table's)
        mode = mode.decode("ascii", "replace")
    if str(mode).lower() != "wal":  # pragma: no cover - filesystem without WAL
        raise OSError(f"SQLite refused WAL mode on {path!r} (got {mode!r})")


def unavailable(what: str, exc: sqlite3.Error) -> StoreUnavailable:
    """The typed error for a SQLite failure that is the disk's, not the caller's."""
    return StoreUnavailable(f"{what}: {exc}")
