"""One tenant's view of the daemon's repository: its names only, stripped of their namespace.

The store holds every tenant's names under ``tenant.NAME.``; objects are
shared by digest (two tenants storing the same definition store one
object).  :class:`RepoView` answers the store commands for one tenant:

* names come from the tenant's namespace only, shown without it -- in
  ``show``'s text too, whose identifiers are derived from current names;
* a digest is reachable only if the caller resolved it among the tenant's
  own objects (:meth:`stele.daemon._server.Daemon.resolve`);
* ``dependents`` lists only objects the tenant stored (or the cycle objects
  of its mutually recursive definitions), so it never reveals that another
  tenant built on a shared object.

It reads through its own SQLite connection (objects are immutable, names
change only through the repository actor) on a worker thread, one call at
a time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import anyio

from .._core._env import Env
from ..protocol import Digest
from ..store import Repository
from ..store._errors import NameNotFound
from ..store._store import ObjectStore
from ..actors.repository._messages import HistoryReply, NameChange, NamesReply
from ._repo_messages import (ClosureEntry, DependentRow, DependentsList, FetchReply, ShowOutcome,
                             WireObject)
from ._tenants import TenantStore, namespace_of

__all__ = ["RepoView"]

T = TypeVar("T")
_SOURCE_META = "tel.source"
_CYCLE_KIND = "tel.cycle.1"


class _Scoped:
    """An :class:`ObjectStore` whose name reads see one namespace, without its prefix."""

    def __init__(self, objects: ObjectStore, prefix: str) -> None:
        self._objects = objects
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._objects, name)

    def _strip(self, names: Iterable[str]) -> list[str]:
        cut = len(self._prefix)
        return [n[cut:] for n in names if n.startswith(self._prefix)]

    def names_of(self, digest: Digest) -> list[str]:
        return self._strip(self._objects.names_of(digest))

    def names_of_many(self, digests: Iterable[Digest]) -> dict[Digest, list[str]]:
        out = {}
        for d, names in self._objects.names_of_many(digests).items():
            mine = self._strip(names)
            if mine:
                out[d] = mine
        return out


class RepoView:
    """Answers the repository requests of :mod:`stele.daemon._repo_messages` per tenant."""

    def __init__(self, store_file: str, env: Env) -> None:
        self._env = env
        self._repo = Repository(store_file, clock=env.wall_ns, env=env)
        try:
            self._owned = TenantStore(store_file, env)
        except BaseException:
            self._repo.close()
            raise
        self._lock = anyio.Lock()

    def close(self) -> None:
        """Close both connections."""
        self._repo.close()
        self._owned.close()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` off the event loop, one call at a time."""
        async with self._lock:
            return await self._env.run_blocking(fn, *args)

    def _view(self, tenant: str) -> Repository:
        view = copy.copy(self._repo)  # shares the connection and the decoded-form cache
        view.objects = cast(ObjectStore, _Scoped(self._repo.objects, namespace_of(tenant) + "."))
        return view

    # -- reads (each runs on a worker thread through :meth:`call`) --------------------
    def show(self, tenant: str, digest: Digest, closure: bool) -> ShowOutcome:
        """``stele show``: ``digest`` (already resolved for ``tenant``) made readable."""
        from ..actors.repository._actor import show_reply

        view = self._view(tenant)
        entries = None
        if closure:
            objects = view.objects.closure([digest])
            named = view.objects.names_of_many([o.digest for o in objects])
            entries = tuple(ClosureEntry(o.digest, o.kind, tuple(named.get(o.digest, ())))
                            for o in objects)
        return ShowOutcome(show_reply(view, digest), entries)

    def names(self, tenant: str, namespace: str | None) -> NamesReply:
        """``stele names [NAMESPACE]``: the tenant's names, sorted."""
        ns = namespace_of(tenant)
        inner = f"{ns}.{namespace}" if namespace else ns
        cut = len(ns) + 1
        return NamesReply(tuple((n[cut:], d) for n, d in self._repo.names(inner)))

    def history(self, tenant: str, name: str) -> HistoryReply:
        """``stele history NAME``: ``NameNotFound`` (naming ``name``) if never bound."""
        try:
            events = self._repo.history(f"{namespace_of(tenant)}.{name}")
        except NameNotFound:
            raise NameNotFound(name) from None
        return HistoryReply(tuple(NameChange(name, e.previous, e.digest, e.time_ns, e.author)
                                  for e in events))

    def dependents(self, tenant: str, root: Digest, transitive: bool) -> DependentsList:
        """``stele dependents``: what of the tenant's uses ``root`` (nearest first)."""
        from .._cli._names import walk_dependents

        view = self._view(tenant)
        seen = walk_dependents(view, root, transitive, lambda d: self._visible(tenant, view, d))
        named = view.objects.names_of_many(list(seen))
        rows = sorted(seen.items(), key=lambda kv: (kv[1], str(kv[0])))
        return DependentsList(root, tuple(DependentRow(d, k, tuple(named.get(d, ())))
                                          for d, k in rows))

    def _owns(self, tenant: str, digest: Digest) -> bool:
        text = str(digest)
        return self._owned.owned_matching(tenant, text, 1) == [text]

    def _visible(self, tenant: str, view: Repository, digest: Digest) -> bool:
        """The tenant stored ``digest``, or it is the cycle of definitions the tenant stored."""
        if self._owns(tenant, digest):
            return True
        if view.objects.get(digest).kind != _CYCLE_KIND:
            return False
        return any(self._owns(tenant, m) for m in view.objects.dependents(digest))

    def fetch(self, tenant: str, roots: list[Digest]) -> FetchReply:
        """The closures of ``roots`` with their annotations and the tenant's names for them."""
        objects = self._repo.objects.closure(roots)
        digests = [o.digest for o in objects]
        metas = self._repo.objects.get_meta_many(digests, _SOURCE_META)
        named = self._view(tenant).objects.names_of_many(digests)
        wire = tuple(WireObject(o.kind, o.payload, o.deps, metas.get(o.digest)) for o in objects)
        names = sorted((n, d) for d, ns in named.items() for n in ns)
        return FetchReply(wire, tuple(names))
