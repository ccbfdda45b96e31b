"""The daemon's answers to the repository requests (:mod:`stele.daemon._repo_messages`).

Each handler acts as one tenant: targets resolve among the tenant's own
names and objects (:meth:`Daemon.resolve`), reads go through the tenant's
:class:`~stele.daemon._repo_view.RepoView`, and writes (``rename``,
``delete``) go through the repository actor -- the store's one writer of
names -- under the tenant's namespace, recorded with the tenant's name as
author.  Errors name what the tenant wrote, never the namespaced name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..protocol import Digest, Message
from ..store._errors import InvalidName, NameNotFound, UnknownTarget
from ..actors.repository._messages import NameChange
from ._repo_messages import (DeleteRequest, DependentsRequest, FetchRequest, HistoryRequest,
                             NamesRequest, RenameRequest, ResumeRequest, ShowRequest)
from ._tenants import Tenant, namespace_of

if TYPE_CHECKING:
    from ._server import Daemon

__all__ = ["REPO_HANDLERS", "tenant_source"]


async def _show(d: Daemon, tenant: Tenant, body: ShowRequest) -> Message:
    digest = await d.resolve(tenant, body.target)
    return await d.view.call(d.view.show, tenant.name, digest, body.closure)


async def _names(d: Daemon, tenant: Tenant, body: NamesRequest) -> Message:
    return await d.view.call(d.view.names, tenant.name, body.namespace)


async def _history(d: Daemon, tenant: Tenant, body: HistoryRequest) -> Message:
    return await d.view.call(d.view.history, tenant.name, body.name)


async def _dependents(d: Daemon, tenant: Tenant, body: DependentsRequest) -> Message:
    digest = await d.resolve(tenant, body.target)
    return await d.view.call(d.view.dependents, tenant.name, digest, body.all)


async def _lookup(d: Daemon, tenant: Tenant, name: str) -> Digest | None:
    """The digest the tenant's ``name`` is bound to now, or ``None``."""
    from ..actors.repository._messages import Resolved, Resolve

    if not name or ":" in name or name.startswith("."):
        return None
    try:
        reply = await d.rt._ask("repository", Resolve(f"{namespace_of(tenant.name)}.{name}"))
    except (NameNotFound, UnknownTarget):
        return None
    assert isinstance(reply, Resolved)  # a dotted name is never a digest prefix: a binding
    return reply.digest


async def _changed(d: Daemon, tenant: Tenant, message: Any, name: str) -> NameChange:
    """Send a name change to the repository actor; the executor forgets its name cache."""
    from ..actors.executor import NamesChanged

    try:
        event = await d.rt._ask("repository", message)
    except NameNotFound:
        raise NameNotFound(name) from None
    except InvalidName:  # worded as the store words it, of the name the tenant wrote
        raise InvalidName(f"invalid name {name!r}: use dotted segments without "
                          "whitespace") from None
    assert isinstance(event, NameChange)
    d.forget(tenant)
    await d.rt._ref("executor").send(NamesChanged())
    return NameChange(name, event.previous, event.digest, event.time_ns, event.author)


async def _rename(d: Daemon, tenant: Tenant, body: RenameRequest) -> Message:
    """As ``stele rename`` checks locally: OLD bound, NEW another name, NEW free or forced."""
    from ..actors.repository._messages import RemoveName, SetName
    from ._server import BadRequest

    ns = namespace_of(tenant.name)
    digest = await _lookup(d, tenant, body.old)
    if digest is None:
        raise NameNotFound(body.old)
    if body.old == body.new:
        raise BadRequest(f"{body.old!r} and {body.new!r} are the same name")
    current = await _lookup(d, tenant, body.new)
    if current is not None and not body.force:
        raise BadRequest(f"{body.new!r} is already bound to {current.short()}; "
                         "delete it first or pass --force")
    info = await _changed(d, tenant, SetName(f"{ns}.{body.new}", str(digest), tenant.name),
                          body.new)
    await _changed(d, tenant, RemoveName(f"{ns}.{body.old}", tenant.name), body.old)
    return info


async def _delete(d: Daemon, tenant: Tenant, body: DeleteRequest) -> Message:
    from ..actors.repository._messages import RemoveName

    if await _lookup(d, tenant, body.name) is None:
        raise NameNotFound(body.name)
    return await _changed(d, tenant, RemoveName(f"{namespace_of(tenant.name)}.{body.name}",
                                                tenant.name), body.name)


async def _fetch(d: Daemon, tenant: Tenant, body: FetchRequest) -> Message:
    roots = [await d.resolve(tenant, t) for t in body.targets]
    for target in body.optional:
        try:
            roots.append(await d.resolve(tenant, target))
        except UnknownTarget:
            continue
    return await d.view.call(d.view.fetch, tenant.name, list(dict.fromkeys(roots)))


async def _resume(d: Daemon, tenant: Tenant, body: ResumeRequest) -> Message:
    return await d.resume_durable(tenant, body.durable)


async def tenant_source(d: Daemon, tenant: Tenant, source: str, filename: str) -> str:
    """``source`` with each ``#use alias = TARGET`` pinned to what TARGET means *for the
    tenant* (its own name, or a digest it stored), as ``#use alias = b2:...``.

    The repository resolves an import among every name and object of the
    store: left as written, ``#use s = tenant.alice.f`` or another tenant's
    digest prefix would import that tenant's code.  An import the tenant
    cannot resolve fails as a local store's does (``UnresolvedImport``).
    """
    from ..protocol._errors import AmbiguousPrefix
    from ..store._errors import UnresolvedImport
    from ..store._repository import _uses

    lines = source.splitlines(keepends=True)
    for use in _uses(source, filename):
        try:
            digest = await d.resolve(tenant, use.target)
        except (UnknownTarget, AmbiguousPrefix) as exc:
            raise UnresolvedImport(f"{filename}:{use.line}", use.alias, use.target,
                                   str(exc)) from None
        end = "\n" if lines[use.line - 1].endswith("\n") else ""
        lines[use.line - 1] = f"#use {use.alias} = {digest}{end}"
    return "".join(lines)


REPO_HANDLERS: dict[type[Message], Any] = {
    ShowRequest: _show,
    NamesRequest: _names,
    HistoryRequest: _history,
    DependentsRequest: _dependents,
    RenameRequest: _rename,
    DeleteRequest: _delete,
    FetchRequest: _fetch,
    ResumeRequest: _resume,
}
