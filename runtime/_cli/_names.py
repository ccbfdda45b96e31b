"""``stele dependents | rename | delete | diff``: names, in the manner of Unison's ``ucm``.

Objects are immutable and addressed by digest; these commands act on
*names* only.  ``rename`` and ``delete`` append to the name's history (so
``stele history NAME`` still shows every version, and stored code that
referred to the old name keeps working: it refers to digests).

* ``stele dependents NAME [--all]``: stored objects that use NAME's object
  directly (``--all``: transitively), with their names.
* ``stele rename OLD NEW [--force]``: bind NEW to OLD's object, unbind OLD.
* ``stele delete NAME``: unbind NAME.
* ``stele diff A B``: a unified diff of two versions.  Each side is
  ``NAME`` (its current binding), ``NAME@N`` (the N-th binding in its
  history, 1 = the first) or a digest / unique prefix.

Each takes ``--connect ADDRESS`` to act on a daemon's store as the token's
tenant (:mod:`stele.daemon._remote_cli`), printing the same lines.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ._common import NOT_FOUND, USAGE, CliError, CliParser, emit_json
from ._connect import add_connect_args, remote_address
from ._run import store_path

if TYPE_CHECKING:
    from ..protocol import Digest
    from ..store import Repository

__all__ = ["dependents_main", "rename_main", "delete_main", "diff_main", "version_digest",
           "walk_dependents", "nth_binding"]


def _parser(prog: str, description: str) -> CliParser:
    p = CliParser(prog=f"stele {prog}", description=description)
    p.add_argument("--store", metavar="PATH", default=None,
                   help="the store file (default: $STELE_STORE or ./.stele/store.sqlite)")
    add_connect_args(p)
    return p


@contextmanager
def _repo(given: str | None) -> Iterator[Repository]:
    from .. import RealEnv
    from ..store import Repository

    with Repository(store_path(given), clock=RealEnv(seed=0).wall_ns) as repo:
        yield repo


def _author() -> str:
    return os.environ.get("USER", "")


def dependents_main(argv: list[str]) -> int:
    """``stele dependents NAME``: what uses NAME's object."""
    p = _parser("dependents", "List the stored objects that depend on a name's object.")
    p.add_argument("target", help="a name, a digest or a unique digest prefix")
    p.add_argument("--all", action="store_true", help="transitive dependents too")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    ns = p.parse_args(argv)
    address = remote_address(ns)
    if address is not None:
        from ..daemon._remote_cli import remote_dependents

        root, rows = remote_dependents(ns, address)
    else:
        with _repo(ns.store) as repo:
            root = repo.resolve(ns.target)
            seen = walk_dependents(repo, root, ns.all)
            named = repo.objects.names_of_many(list(seen))
            rows = [(d, k, named.get(d, [])) for d, k in sorted(
                seen.items(), key=lambda kv: (kv[1], str(kv[0])))]
    if ns.json:
        emit_json({"ok": True, "target": ns.target, "digest": str(root),
                   "dependents": [{"digest": str(d), "depth": k, "names": list(names)}
                                  for d, k, names in rows]})
        return 0
    if not rows:
        print(f"# nothing in the store depends on {ns.target} ({root.short()})")
    for d, k, names in rows:
        shown = ", ".join(names) or "(no name)"
        print(f"{shown} -> {d}" + (f"  (depth {k})" if ns.all else ""))
    return 0


def walk_dependents(repo: Repository, root: Digest, transitive: bool,
                    keep: Callable[[Digest], bool] | None = None) -> dict[Digest, int]:
    """``root``'s dependents (``transitive``: all of them) -> their distance from it.

    ``keep`` filters what is listed and walked on (the daemon keeps a
    tenant's own objects only).
    """
    seen: dict[Digest, int] = {}
    frontier = [root]
    depth = 0
    while frontier:
        depth += 1
        nxt: list[Digest] = []
        for d in frontier:
            for dep in _direct(repo, d):
                if dep not in seen and dep != root and (keep is None or keep(dep)):
                    seen[dep] = depth
                    nxt.append(dep)
        frontier = nxt if transitive else []
    return seen


def _direct(repo: Repository, digest: Digest) -> list[Digest]:
    """Direct dependents; a cycle member's dependents are its cycle's."""
    out = list(repo.objects.dependents(digest))
    try:
        _form, member = repo.definition_form(digest)
    except Exception:  # a blob or a cycle object: no member form
        member = None
    if member is not None:
        cycle = member[0]
        out += [d for d in repo.objects.dependents(cycle) if d != digest]
    return out


def rename_main(argv: list[str]) -> int:
    """``stele rename OLD NEW``: move a name; the object and its history stay."""
    p = _parser("rename", "Bind NEW to OLD's object and unbind OLD (history keeps both).")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--force", action="store_true", help="rebind NEW even if it is bound")
    ns = p.parse_args(argv)
    from ..store import NameNotFound

    address = remote_address(ns)
    if address is not None:
        from ..daemon._remote_cli import remote_rename

        digest = remote_rename(ns, address).digest
        print(f"{ns.old} -> {ns.new}  ({digest})")
        return 0
    with _repo(ns.store) as repo:
        try:
            digest = repo.lookup(ns.old)
        except NameNotFound:
            raise CliError(f"{ns.old!r} is not a bound name (see 'stele names')",
                           NOT_FOUND) from None
        if ns.old == ns.new:
            raise CliError(f"{ns.old!r} and {ns.new!r} are the same name", USAGE)
        try:
            current = repo.lookup(ns.new)
        except NameNotFound:
            current = None
        if current is not None and not ns.force:
            raise CliError(f"{ns.new!r} is already bound to {current.short()}; "
                           "delete it first or pass --force", USAGE)
        repo.set_name(ns.new, digest, author=_author())
        repo.remove_name(ns.old, author=_author())
        print(f"{ns.old} -> {ns.new}  ({digest})")
    return 0


def delete_main(argv: list[str]) -> int:
    """``stele delete NAME``: unbind a name (objects are never deleted)."""
    p = _parser("delete", "Unbind a name; the object and the name's history are kept.")
    p.add_argument("name")
    ns = p.parse_args(argv)
    from ..store import NameNotFound

    address = remote_address(ns)
    if address is not None:
        from ..daemon._remote_cli import remote_delete

        previous = remote_delete(ns, address).previous
    else:
        with _repo(ns.store) as repo:
            try:
                previous = repo.remove_name(ns.name, author=_author()).previous
            except NameNotFound:
                raise CliError(f"{ns.name!r} is not a bound name (see 'stele names')",
                               NOT_FOUND) from None
    print(f"deleted {ns.name} (was {previous}; 'stele history {ns.name}' keeps it)")
    return 0


def version_digest(repo: Repository, spec: str) -> Digest:
    """``NAME``, ``NAME@N`` (N-th binding in its history, from 1) or a digest/prefix."""
    name, at, number = spec.rpartition("@")
    if not at:
        return repo.resolve(spec)
    return nth_binding(spec, name, number,
                       [e.digest for e in repo.history(name) if e.digest is not None])


def nth_binding(spec: str, name: str, number: str, bindings: list[Digest]) -> Digest:
    """The ``NAME@N`` of ``spec``: the N-th of ``bindings`` (a name's, oldest first)."""
    try:
        n = int(number)
    except ValueError:
        raise CliError(f"{spec!r}: the version after '@' must be a number, e.g. {name}@1",
                       USAGE) from None
    if not bindings:
        raise CliError(f"{name!r} has no history (see 'stele names')", NOT_FOUND)
    if not 1 <= n <= len(bindings):
        raise CliError(f"{spec!r}: {name} has versions 1..{len(bindings)}", NOT_FOUND)
    return bindings[n - 1]


def diff_main(argv: list[str]) -> int:
    """``stele diff NAME@N NAME@M``: a unified diff of two stored versions."""
    p = _parser("diff", "Compare two versions (NAME, NAME@N or a digest).")
    p.add_argument("a")
    p.add_argument("b")
    ns = p.parse_args(argv)
    address = remote_address(ns)
    if address is not None:
        from ..daemon._remote_cli import remote_diff

        da, db, texts = remote_diff(ns, address)
    else:
        with _repo(ns.store) as repo:
            da, db = version_digest(repo, ns.a), version_digest(repo, ns.b)
            texts = None if da == db else (repo.show(da).text, repo.show(db).text)
    if texts is None:
        print(f"# {ns.a} and {ns.b} are the same object ({da})")
        return 0
    print(f"# {ns.a} = {da}")
    print(f"# {ns.b} = {db}")
    for line in difflib.unified_diff(texts[0].splitlines(), texts[1].splitlines(), ns.a, ns.b,
                                     lineterm=""):
        print(line)
    return 0
