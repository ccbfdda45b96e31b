"""Run a local-only command on code a daemon holds: fetch it into a scratch store.

``stele eval``, ``compile``, ``profile``, ``debug``, ``vm run`` and
``receipt get`` work on a store file.  With ``--connect`` they ask the
daemon for the closures of the targets they name (:class:`FetchRequest`,
as the token's tenant: the tenant's names, its own objects), write them to
a scratch store in a temporary directory, and run unchanged on that.  Each
fetched object's digest is recomputed from its payload when it is stored,
so a daemon cannot pass off other code under a digest; the names are the
tenant's, as ``stele names --connect`` lists them.

What runs, runs here: effects (``--allow KV``...) act on the scratch store,
not the daemon's, and ``Exec.call`` finds only what was fetched.  The
scratch directory is removed when the process exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._cli._common import UsageError
from .._cli._connect import remote_address

if TYPE_CHECKING:
    from ._repo_messages import FetchReply

__all__ = ["store_or_fetched", "write_scratch"]

_SOURCE_META = "tel.source"


def store_or_fetched(ns: Any, targets: Sequence[str], optional: Sequence[str] = (), *,
                     refuse: str = "") -> str | None:
    """``ns.store`` for a local command; with ``--connect``, a scratch store holding the
    closures of ``targets`` (and of the ``optional`` ones that resolve).

    With nothing to fetch and a daemon given, ``refuse`` (non-empty) is the
    usage error saying why this form of the command cannot use a daemon.
    """
    address = remote_address(ns)
    if address is None:
        store: str | None = ns.store
        return store
    if not targets and not optional and refuse:
        raise UsageError(refuse)
    from ._remote_cli import on_daemon

    reply = on_daemon(ns, address, lambda rt: rt.fetch(list(targets), list(optional)))
    folder = tempfile.mkdtemp(prefix="stele-fetch-")
    atexit.register(shutil.rmtree, folder, True)
    path = os.path.join(folder, "store.sqlite")
    write_scratch(path, reply)
    return path


def write_scratch(path: str, reply: FetchReply) -> None:
    """A store at ``path`` holding ``reply``'s objects, annotations and names."""
    from .. import RealEnv
    from ..protocol import Digest
    from ..store import Repository
    from ..store._store import NewObject

    with Repository(path, clock=RealEnv(seed=0).wall_ns) as repo:
        objects = [NewObject(o.kind, o.payload, o.deps) for o in reply.objects]
        meta = [(Digest.of(o.payload), _SOURCE_META, o.source_meta) for o in reply.objects
                if o.source_meta is not None]
        repo.objects.commit(objects, bindings=list(reply.names), meta=meta, author="")
