"""Bring stored definitions into scope for ``stele eval`` and ``stele repl``.

A name that a file or an expression uses but does not define is looked up
in the store: a ``#use alias = NAME|DIGEST|PREFIX`` line first, then the
name itself.  Each one is loaded with its whole closure (as ``stele run``
would run it) and its declarations are put in front of the file's, with the
entry under the name the user wrote.  So ``#use f = b2:...`` then ``f(3)``
works, and stored code keeps its meaning: it refers to digests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ._common import CliError

if TYPE_CHECKING:
    from ..store import Repository
    from ..tel._ast import Decl, Expr, Module

__all__ = ["free_names", "link"]


def free_names(module: Module, exprs: Iterable[Expr]) -> list[str]:
    """Names used (in definitions or `exprs`) that are neither defined, local nor builtin."""
    from ..tel._ast import Def
    from ..tel._builtins import BUILTINS
    from ..tel._free import free_vars

    defined = {d.name for d in module.decls if isinstance(d, Def)}
    used: set[str] = set()
    for d in module.decls:
        if isinstance(d, Def):
            used |= free_vars(d.body) - {p.name for p in d.params}
    for e in exprs:
        used |= free_vars(e)
    return sorted(used - defined - set(BUILTINS))


def link(repo: Repository, module: Module, names: Iterable[str],
         uses: dict[str, str]) -> Module:
    """`module` with the stored definitions `names` refer to prepended (see module doc)."""
    from ..store._assemble import assemble
    from ..store import UnknownTarget
    from ..tel._ast import Def, EffectDecl, Module as Mod

    decls: list[Decl] = []
    idents: dict[str, str] = {}  # identifier -> digest text, across every loaded closure
    effects: set[str] = {d.name for d in module.decls if isinstance(d, EffectDecl)}
    for name in names:
        target = uses.get(name, name)
        try:
            root = repo.resolve(target)
        except UnknownTarget:
            if name in uses:
                raise
            continue  # not stored either: the type checker names it
        objects = repo.objects.closure([root])
        loaded = repo.load(root)
        hints = {d: [i] for d, i in loaded.identifiers.items()}
        hints[root] = [name]
        loaded = assemble(objects, root, hints=hints, form_of=lambda o: repo.form(o.digest))
        by_ident = {i: str(d) for d, i in loaded.identifiers.items()}
        for decl in loaded.module.decls:
            if isinstance(decl, EffectDecl):
                if decl.name not in effects:
                    effects.add(decl.name)
                    decls.append(decl)
                continue
            assert isinstance(decl, Def)
            digest = by_ident.get(decl.name, "")
            seen = idents.get(decl.name)
            if seen is None:
                idents[decl.name] = digest
                decls.append(decl)
            elif seen != digest:
                raise CliError(f"two stored definitions both need the identifier "
                               f"{decl.name!r}; store the file and use 'stele run' instead")
    own = {d.name for d in module.decls if isinstance(d, Def)}
    clash = own & set(idents)
    if clash:
        raise CliError(f"{', '.join(sorted(clash))}: defined in the file and needed by stored "
                       "code under the same identifier; rename the file's definition")
    return Mod(tuple(decls) + tuple(module.decls), module.loc)
