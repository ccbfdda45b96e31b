"""The store commands on a daemon: ``stele show | names | history | dependents | rename |
delete | diff | resume --connect ADDRESS``.

Each asks the daemon (as the token's tenant) for what the local command
reads from its store, and hands back the same values the local command
prints, so the output lines are the local ones (the callers print both).
A remote typed error is raised as its own class and exits as locally
(an unknown name 5, ...); where the local command words an error itself
(``rename`` of an unbound name), the same words are used here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._cli._common import NOT_FOUND, USAGE, CliError

if TYPE_CHECKING:
    from ..protocol import Digest
    from ..store import Shown
    from ._client import RemoteRuntime
    from ..actors.repository._messages import NameChange

__all__ = ["on_daemon", "remote_show", "remote_dependents", "remote_rename", "remote_delete",
           "remote_diff"]

T = TypeVar("T")


def on_daemon(ns: Any, address: str, fn: Callable[[RemoteRuntime], Awaitable[T]]) -> T:
    """``fn(rt)`` on a connection to ``address`` with ``ns.token`` (or ``$STELE_TOKEN``)."""
    import anyio

    from ._client import connect

    async def go() -> T:
        async with connect(address, token=ns.token) as rt:
            return await fn(rt)

    result: T = anyio.run(go, backend="trio")
    return result


def remote_show(ns: Any, address: str) -> tuple[Shown, list[tuple[Digest, str, list[str]]]]:
    """``stele show``'s :class:`Shown` and closure rows (digest, kind, names)."""
    from ..store import Dependency, Shown

    async def show(rt: RemoteRuntime) -> Any:
        return await rt.show(ns.target, closure=ns.closure)

    got = on_daemon(ns, address, show)
    s = got.shown
    shown = Shown(s.digest, s.kind, s.names, s.text, tuple(
        Dependency(d.digest, d.kind, d.identifier, d.names) for d in s.dependencies))
    return shown, [(c.digest, c.kind, list(c.names)) for c in got.closure or ()]


def remote_dependents(ns: Any, address: str) -> tuple[Digest, list[tuple[Digest, int, list[str]]]]:
    """``stele dependents``'s root digest and rows (digest, depth, names)."""
    async def dependents(rt: RemoteRuntime) -> Any:
        return await rt.dependents(ns.target, all=ns.all)

    got = on_daemon(ns, address, dependents)
    return got.digest, [(r.digest, r.depth, list(r.names)) for r in got.rows]


def _unbound(name: str) -> CliError:
    return CliError(f"{name!r} is not a bound name (see 'stele names')", NOT_FOUND)


def remote_rename(ns: Any, address: str) -> NameChange:
    """``stele rename OLD NEW [--force]`` on the daemon; the new binding."""
    from ..store import NameNotFound
    from ._server import BadRequest

    async def rename(rt: RemoteRuntime) -> NameChange:
        return await rt.rename(ns.old, ns.new, force=ns.force)

    try:
        return on_daemon(ns, address, rename)
    except NameNotFound:
        raise _unbound(ns.old) from None
    except BadRequest as exc:  # the same name twice, or NEW bound without --force
        raise CliError(str(exc), USAGE) from None


def remote_delete(ns: Any, address: str) -> NameChange:
    """``stele delete NAME`` on the daemon; the change (``previous`` was the binding)."""
    from ..store import NameNotFound

    async def delete(rt: RemoteRuntime) -> NameChange:
        return await rt.delete(ns.name)

    try:
        return on_daemon(ns, address, delete)
    except NameNotFound:
        raise _unbound(ns.name) from None


def remote_diff(ns: Any, address: str) -> tuple[Digest, Digest, tuple[str, str] | None]:
    """``stele diff A B``'s two digests and, when they differ, their texts."""
    async def diff(rt: RemoteRuntime) -> tuple[Digest, Digest, tuple[str, str] | None]:
        da, db = await _version(rt, ns.a), await _version(rt, ns.b)
        if da == db:
            return da, db, None
        return da, db, ((await rt.show(da)).shown.text, (await rt.show(db)).shown.text)

    return on_daemon(ns, address, diff)


async def _version(rt: RemoteRuntime, spec: str) -> Digest:
    """A side ``NAME``, ``NAME@N`` or digest, resolved on the daemon (the rules of
    :func:`stele._cli._names.version_digest`)."""
    from .._cli._names import nth_binding

    name, at, number = spec.rpartition("@")
    if not at:
        return await rt.resolve(spec)
    events = await rt.history(name)
    return nth_binding(spec, name, number, [e.digest for e in events if e.digest is not None])
