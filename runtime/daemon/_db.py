"""The daemon's own tables in the store file: one way to open them, durable on return."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._core._env import Env

__all__ = ["open_durable"]


def open_durable(path: str, schema: str, env: Env | None = None) -> Any:
    """A connection to ``path`` in WAL mode with ``synchronous=FULL``, ``schema`` applied.

    Autocommit (``isolation_level=None``) with explicit transactions, usable
    from the daemon's worker threads; a write is on disk when it returns,
    which is what acknowledging a job or a tenant relies on.  Under a
    simulated ``env`` the file is on the simulated disk (the store's own
    :func:`stele.store._connect.connect`; a rollback journal, fsynced on commit).
    """
    if env is not None and env.simulated:
        from ..store._connect import connect

        sim = connect(path, env=env)
        sim.execute("PRAGMA synchronous=FULL")
        sim.executescript(schema)
        return sim
    db = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db
