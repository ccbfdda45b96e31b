"""The repository actor: `stele.store.Repository` behind typed messages.

One actor owns one `Repository` (one SQLite connection).  It handles one
message at a time, so the connection is never used concurrently; every
SQLite call runs through ``await self.env.run_blocking(...)`` (a worker
thread under RealEnv, inline under SimEnv), so the event loop never waits on
the disk.  A store is acknowledged (the reply sent) only after its
transaction is durable.

Expected failures -- bad TEL, unknown names, ambiguous prefixes, missing
dependencies -- are refused with `stele.RejectMessage`: the asker gets
`stele.RemoteError` whose ``cause`` is the typed error, and the actor keeps
running.  Anything else is a crash, and supervision decides.
"""

from __future__ import annotations

import sqlite3

from collections.abc import Callable
from typing import Any, TypeVar, cast

from stele import Actor, RejectMessage, SteleError
from stele.protocol import Digest
from stele.store import Repository
from stele.store._connect import unavailable

from ._messages import (
    DependencyInfo, GetHistory, GetObject, HistoryReply, ListNames, LoadReply, LoadTarget,
    NameChange, NamesReply, ObjectRecord, PutBlob, RemoveName, Resolve, Resolved, SetName,
    ShowReply, ShowTarget, StoredNames, StoreSource,
)

__all__ = ["RepositoryActor", "load_reply", "show_reply"]

T = TypeVar("T")


def load_reply(repo: Repository, target: str) -> LoadReply:
    """The `LoadReply` for `target` (synchronous; the actor runs it off the event loop)."""
    loaded = repo.load(target)
    ids = tuple(sorted(loaded.identifiers.items()))
    local_names = []
    for d, _ in ids:
        names = repo.local_names(d)
        if names is not None:
            local_names.append((d, tuple(names)))
    return LoadReply(loaded.root, tuple(ObjectRecord.of(o) for o in loaded.objects), ids,
                     tuple(local_names))


def show_reply(repo: Repository, target: str | Digest) -> ShowReply:
    """The `ShowReply` for `target` (synchronous, as `load_reply`)."""
    s = repo.show(target)
    deps = tuple(DependencyInfo(d.digest, d.kind, d.identifier, d.names) for d in s.dependencies)
    return ShowReply(s.digest, s.kind, s.names, s.text, deps)


class RepositoryActor(Actor):
    """Serves a code repository as messages (see `stele.actors.repository` for the list).

    ``path=None`` keeps the store in memory (tests, simulations);
    ``cache_size`` bounds the loader cache.
    """

    def __init__(self, path: str | None = None, *, cache_size: int = 1024) -> None:
        self.path = path
        self.cache_size = cache_size
        self.repo: Repository | None = None

    async def on_start(self) -> None:
        try:
            self.repo = await self.env.run_blocking(self._open)
        except sqlite3.Error:  # a failing disk: open again on the first message
            if self.path is None:
                raise
            self.repo = None

    def _open(self) -> Repository:
        return Repository(self.path, clock=self.env.wall_ns, cache_size=self.cache_size,
                          env=self.env)

    async def on_stop(self) -> None:
        if self.repo is not None:
            self.repo.close()  # a close is quick, and on_stop runs shielded
            self.repo = None

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        value, error = await self.env.run_blocking(_captured, fn, *args)
        if error is None:
            return cast(T, value)
        # Raised outside any except block, and no local keeps it: an expected
        # error (an unknown name) must not be a reference cycle through its
        # traceback, left for a full garbage collection that pauses the loop.
        reject = RejectMessage(unavailable("the code store", error)
                               if isinstance(error, sqlite3.Error) else error)
        del error
        try:
            raise reject
        finally:
            del reject

    async def receive(self, message: object) -> object:
        repo = self.repo
        if repo is None:  # the store did not open (disk error): try again, typed if not
            repo = self.repo = await self._call(self._open)
        if isinstance(message, StoreSource):
            def store() -> StoredNames:
                bound = repo.store(message.source, filename=message.filename,
                                   author=message.author, namespace=message.namespace)
                return StoredNames(tuple(bound.items()))
            return await self._call(store)
        if isinstance(message, LoadTarget):
            return await self._call(load_reply, repo, message.target)
        if isinstance(message, ShowTarget):
            return await self._call(show_reply, repo, message.target)
        if isinstance(message, Resolve):
            return Resolved(await self._call(repo.resolve, message.target))
        if isinstance(message, GetObject):
            return ObjectRecord.of(await self._call(repo.get, message.target))
        if isinstance(message, PutBlob):
            def put() -> Resolved:
                return Resolved(repo.put_blob(message.data, kind=message.kind, name=message.name,
                                              author=message.author))
            return await self._call(put)
        if isinstance(message, ListNames):
            return NamesReply(tuple(await self._call(repo.names, message.namespace)))
        if isinstance(message, GetHistory):
            events = await self._call(repo.history, message.name)
            return HistoryReply(tuple(NameChange.of(e) for e in events))
        if isinstance(message, SetName):
            def set_name() -> NameChange:
                return NameChange.of(repo.set_name(message.name, message.target,
                                                   author=message.author))
            return await self._call(set_name)
        if isinstance(message, RemoveName):
            def remove() -> NameChange:
                return NameChange.of(repo.remove_name(message.name, author=message.author))
            return await self._call(remove)
        raise RejectMessage(TypeError(
            f"the repository actor does not handle {type(message).__name__} messages"))


def _captured(fn: Callable[..., T], *args: Any) -> tuple[T | None, BaseException | None]:
    """``(fn(*args), None)``, or ``(None, error)`` for a typed or SQLite error.

    The error is an answer for the asker (an unknown name, a disk that
    failed), not a bug to debug, so it travels without its traceback (nor
    its context's): a traceback taken in the worker thread holds, through
    ``f_back``, the thread machinery's frames that hold the returned error --
    a reference cycle per failed lookup, freed only by a full garbage
    collection, a pause of the event loop.
    """
    try:
        return fn(*args), None
    except (SteleError, sqlite3.Error) as exc:
        link: BaseException | None = exc
        for _ in range(8):  # a chain is short; a longer one keeps its tail (no cycle risk)
            if link is None:
                break
            link.__traceback__ = None
            link = link.__context__
        return None, exc
