"""The code repository: TEL definitions and guest binaries by digest, with names.

`Repository` sits on an `ObjectStore` (one SQLite file, WAL, durable before
return) and adds what stored code needs: `store` parses, type-checks and
content-addresses a TEL file with the TEL engine and writes every object,
annotation and name binding of it in ONE durable transaction; `show`
pretty-prints a stored definition from its canonical form; `load` returns a
runnable module for a definition and its whole dependency closure.

**References between files.**  A free name in a file that the file does not
define (and that is not a builtin) refers to stored code: with
``namespace="app"``, ``f`` means the name ``app.f`` if bound, else ``f``.
TEL identifiers cannot contain dots, so other namespaces and explicit
versions are imported with a directive comment (the TEL parser ignores
comments)::

    #use fib = math.fib             -- the definition math.fib is bound to now
    #use old = b2:1f3c9a            -- a digest or unique prefix: a pinned version

Either way the canonical form stores the *digest* the name meant at store
time, so later moves of the name never change what stored code runs.

**Blobs** (RISC-V guest ELFs, kind ``riscv.elf``) are stored as raw bytes,
their digest the BLAKE2b-256 of the file itself; see `put_blob`.

Payload formats and the on-disk schema are documented in
``runtime/store/README.md``.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..protocol import (
    AmbiguousPrefix, Digest, DigestError, UnknownDigest, decode, encode,
)
from ..tel import (
    BUILTINS, PRELUDE, HashedModule, check_module, hash_module, parse_module, print_decl,
)
from ..tel._ast import Call, Decl, Def, EffectDecl, Module, Param, Var
from ..tel._free import free_vars
from ..tel._gc import gc_paused
from ._assemble import (
    TEL_KINDS, Loaded, assemble, decode_form, member_digest, unique_identifiers,
)
from ._errors import (
    CorruptObject, EffectConflict, InvalidName, NameNotFound, UnknownTarget, UnresolvedImport,
    WrongKind,
)
from ._store import NameEvent, NewObject, ObjectStore, StoredObject
from ._telform import (
    CYCLE_KIND, DEF_KIND, MEMBER_KIND, Decompiler, binder_names, effect_form, effect_from_form,
    is_identifier, type_from_form,
)


if TYPE_CHECKING:
    from .._core._env import Env

__all__ = ["Repository", "Shown", "Dependency", "ELF_KIND", "SOURCE_META"]

ELF_KIND = "riscv.elf"
#: meta key of a TEL definition: CBOR {"name": written name, "locals": binder names}
SOURCE_META = "tel.source"

_USE = re.compile(r"[ \t]*#use[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(\S+)[ \t]*\Z")


@dataclass(frozen=True, slots=True)
class Dependency:
    """A direct dependency as `show` prints it: how the text names it, and its current names."""

    digest: Digest
    kind: str
    identifier: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Shown:
    """A stored object made readable: TEL source (or a blob summary) and its dependencies."""

    digest: Digest
    kind: str
    names: tuple[str, ...]
    text: str
    dependencies: tuple[Dependency, ...]


@dataclass(frozen=True, slots=True)
class _Use:
    alias: str
    target: str
    line: int


class Repository:
    """TEL definitions and blobs by digest, names with history, dependency loading.

    ``path=None`` is a private in-memory store.  ``clock`` stamps name
    history (an Env's ``wall_ns``).  ``cache_size`` bounds the loader cache
    (the object store's LRU of stored objects, and an LRU of decoded forms).
    Synchronous: actors run it through ``Env.run_blocking``.
    """

    def __init__(self, path: str | None = None, *, clock: Callable[[], int],
                 cache_size: int = 1024, env: Env | None = None) -> None:
        self.objects = ObjectStore(path, clock=clock, cache_size=cache_size, env=env)
        self._forms: OrderedDict[Digest, object] = OrderedDict()
        self._cache_size = cache_size

    def close(self) -> None:
        """Close the store (every acknowledged write is already durable)."""
        self.objects.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- storing --------------------------------------------------------------
    def store(self, source: str, *, filename: str = "<input>", author: str = "",
              namespace: str = "") -> dict[str, Digest]:
        """Parse, type-check and hash `source`; store it durably; bind its names.

        Returns bound name -> digest for every definition, in source order.
        Raises `stele.tel.TelSyntaxError` / `TelTypeError` (with file:line:col
        and a caret), `UnresolvedImport`, `EffectConflict` or `InvalidName`;
        nothing is written unless everything succeeds.
        """
        objects, bindings, meta = self.prepare(source, filename=filename, namespace=namespace)
        self.objects.commit(objects, bindings=bindings, meta=meta, author=author)
        return dict(bindings)

    def prepare(self, source: str, *, filename: str = "<input>", namespace: str = ""
                ) -> tuple[list[NewObject], list[tuple[str, Digest]], list[tuple[Digest, str, bytes]]]:
        """Everything `store` would write for `source`: objects, bindings, annotations."""
        if namespace and (any(not s for s in namespace.split(".")) or any(c.isspace() for c in namespace)):
            raise InvalidName(f"invalid namespace {namespace!r}: use dotted segments without whitespace")
        with gc_paused():  # see stele.tel._gc
            return self._prepare(source, filename, namespace)

    def _prepare(self, source: str, filename: str, namespace: str
                 ) -> tuple[list[NewObject], list[tuple[str, Digest]], list[tuple[Digest, str, bytes]]]:
        module = parse_module(source, filename)
        defs = module.defs
        free = {n: free_vars(d.body) - {p.name for p in d.params} for n, d in defs.items()}
        externals = self._externals(module, free, _uses(source, filename), filename, namespace)
        stubs, imported = self._signatures(externals, module.effects, filename)
        own = Module(tuple(module.decls) + tuple(imported), module.loc)
        check_module(Module(own.decls + tuple(stubs), module.loc), source)
        hashed = hash_module(own, externals=externals)
        deps = _dependencies(hashed, free, externals)
        encoded = hashed.encoded  # the bytes hash_module hashed: not encoded twice
        objects = [NewObject(str(form[0]), encoded[digest], deps.get(digest, ()))  # type: ignore[index]
                   for digest, form in hashed.objects.items()]
        prefix = f"{namespace}." if namespace else ""
        bindings = [(prefix + name, hashed.digests[name]) for name in defs]
        meta = [(hashed.digests[name], SOURCE_META,
                 encode({"name": name, "locals": binder_names(d)}))
                for name, d in defs.items()]
        return objects, bindings, meta

    def _externals(self, module: Module, free_by_def: Mapping[str, set[str]], uses: list[_Use],
                   filename: str, namespace: str) -> dict[str, Digest]:
        defs = module.defs
        out: dict[str, Digest] = {}
        for u in uses:
            where = f"{filename}:{u.line}"
            if u.alias in defs:
                raise UnresolvedImport(where, u.alias, u.target,
                                       f"the file itself defines {u.alias!r}")
            if not is_identifier(u.alias):
                raise UnresolvedImport(where, u.alias, u.target,
                                       f"{u.alias!r} is a builtin or keyword, not a usable name")
            if u.alias in out:
                raise UnresolvedImport(where, u.alias, u.target, f"{u.alias!r} is imported twice")
            try:
                out[u.alias] = self.resolve(u.target)
            except (UnknownTarget, AmbiguousPrefix) as exc:
                raise UnresolvedImport(where, u.alias, u.target, str(exc)) from None
            self._check_importable(out[u.alias], where, u.alias, u.target)
        free: set[str] = set().union(*free_by_def.values())
        for name in sorted(free - defs.keys() - BUILTINS.keys() - out.keys()):
            for candidate in ([f"{namespace}.{name}"] if namespace else []) + [name]:
                try:
                    out[name] = self.objects.lookup(candidate)
                except NameNotFound:
                    continue
                self._check_importable(out[name], filename, name, candidate)
                break
        return out

    def _check_importable(self, digest: Digest, where: str, alias: str, target: str) -> None:
        """An import must denote a TEL definition (not a blob, not a whole cycle)."""
        kind = self.objects.get(digest).kind
        if kind not in (DEF_KIND, MEMBER_KIND):
            what = "a whole cycle (import one of its members)" if kind == CYCLE_KIND else \
                f"a {kind!r} object"
            raise UnresolvedImport(where, alias, target, f"{digest} is {what}, not a TEL definition")

    def _signatures(self, externals: Mapping[str, Digest], declared: Mapping[str, EffectDecl],
                    filename: str) -> tuple[list[Def], list[EffectDecl]]:
        """Stub definitions giving the type checker each import's signature.

        A stub ``def f(a0: A) -> R ! {E} = f(a0)`` has exactly the imported
        type and row; stubs are checked but never hashed or stored.
        """
        stubs: list[Def] = []
        effect_forms: dict[str, object] = {}
        for alias, digest in externals.items():
            form, _cycle = self.definition_form(digest)
            assert isinstance(form, list)
            params = tuple(Param(f"a{i}", type_from_form(t)) for i, t in enumerate(form[1]))
            row = form[3]
            assert isinstance(row, list)
            for eform in row:
                name = effect_from_form(eform).name
                if effect_forms.setdefault(name, eform) != eform:
                    raise EffectConflict(name, f"imports in {filename} use two declarations of it")
            effects = frozenset(effect_from_form(e).name for e in row)
            body = Call(Var(alias), tuple(Var(p.name) for p in params))
            stubs.append(Def(alias, params, type_from_form(form[2]), effects, body))
        imported: list[EffectDecl] = []
        for name, eform in sorted(effect_forms.items()):
            decl = effect_from_form(eform)
            if name in declared:
                if effect_form(declared[name]) != eform:
                    raise EffectConflict(name, f"{filename} declares it differently from the "
                                         "stored code it imports")
                continue
            if decl is not _prelude(name):
                if _prelude(name) is not None:
                    raise EffectConflict(name, "stored code declares it differently from the prelude")
                imported.append(decl)
        return stubs, imported

    # -- blobs ----------------------------------------------------------------
    def put_blob(self, data: bytes, *, kind: str = ELF_KIND, name: str | None = None,
                 author: str = "") -> Digest:
        """Store raw bytes (e.g. a RISC-V guest ELF) by digest, optionally naming them."""
        if kind in TEL_KINDS or kind.startswith("tel."):
            raise WrongKind(Digest.of(data), kind, "a non-TEL blob kind")
        digest = Digest.of(data)
        self.objects.commit([NewObject(kind, data)],
                            bindings=[(name, digest)] if name else [], author=author)
        return digest

    def get_blob(self, target: str | Digest) -> StoredObject:
        """The blob `target` names (a name, digest or unique prefix); not a TEL object."""
        obj = self.objects.get(self.resolve(target))
        if obj.kind in TEL_KINDS:
            raise WrongKind(obj.digest, obj.kind, "a blob")
        return obj

    # -- lookup ---------------------------------------------------------------
    def resolve(self, target: str | Digest) -> Digest:
        """The digest `target` denotes: a bound name first, else a digest or unique prefix.

        An ambiguous prefix raises `stele.protocol.AmbiguousPrefix` listing
        the candidates; anything else unknown raises `UnknownTarget`.
        """
        if isinstance(target, Digest):
            return target
        try:
            return self.objects.lookup(target)
        except NameNotFound:
            pass
        try:
            return self.objects.resolve(target)
        except AmbiguousPrefix:
            raise
        except (UnknownDigest, DigestError):
            raise UnknownTarget(target) from None

    def lookup(self, name: str) -> Digest:
        """The digest `name` is bound to (`NameNotFound` otherwise)."""
        return self.objects.lookup(name)

    def get(self, target: str | Digest) -> StoredObject:
        """The stored object `target` denotes."""
        return self.objects.get(self.resolve(target))

    def names(self, namespace: str | None = None, *, recursive: bool = True
              ) -> list[tuple[str, Digest]]:
        """Bound names (all, or those under `namespace`), sorted."""
        return self.objects.names(namespace, recursive=recursive)

    def history(self, name: str) -> list[NameEvent]:
        """Every change of `name`, oldest first."""
        return self.objects.history(name)

    def set_name(self, name: str, target: str | Digest, *, author: str = "") -> NameEvent:
        """Bind (or move) `name` to what `target` denotes; the change is kept in history."""
        return self.objects.set_name(name, self.resolve(target), author=author)

    def remove_name(self, name: str, *, author: str = "") -> NameEvent:
        """Unbind `name` (its history is kept; stored code referring to it is unaffected)."""
        return self.objects.remove_name(name, author=author)

    # -- reading code -----------------------------------------------------------
    def form(self, digest: Digest) -> object:
        """The decoded canonical form of a TEL object (through a bounded LRU)."""
        cached = self._forms.get(digest)
        if cached is not None:
            self._forms.move_to_end(digest)
            return cached
        obj = self.objects.get(digest)
        if obj.kind not in TEL_KINDS:
            raise WrongKind(digest, obj.kind, "a TEL definition")
        form = decode_form(obj)
        if self._cache_size > 0:
            self._forms[digest] = form
            if len(self._forms) > self._cache_size:
                self._forms.popitem(last=False)
        return form

    def definition_form(self, digest: Digest) -> tuple[object, tuple[Digest, int] | None]:
        """The ``tel.def.1`` form of a definition or cycle member, and (cycle, index) if a member."""
        form = self.form(digest)
        assert isinstance(form, list)
        if form[0] == DEF_KIND:
            return form, None
        if form[0] == MEMBER_KIND and len(form) == 3 and isinstance(form[1], bytes):
            cycle = Digest.from_binary(form[1])
            cform = self.form(cycle)
            assert isinstance(cform, list)
            k = form[2]
            if not isinstance(k, int) or not 0 <= k < len(cform[1]):
                raise CorruptObject(f"member {digest} has index {k!r} outside its cycle")
            return cform[1][k], (cycle, k)
        raise WrongKind(digest, str(form[0]), "a definition (not a whole cycle)")

    def hints(self, digest: Digest) -> list[str]:
        """Identifiers to print `digest` under: current names' last segments, then the written name."""
        return self.naming([digest])[0][digest]

    def local_names(self, digest: Digest) -> list[str] | None:
        """The local names `digest` was written with, in binder order (None if unknown)."""
        return self.naming([digest])[1].get(digest)

    def naming(self, digests: list[Digest]) -> tuple[dict[Digest, list[str]], dict[Digest, list[str]]]:
        """For many definitions at once (batched queries): identifier hints and local names."""
        current = self.objects.names_of_many(digests)
        metas = self.objects.get_meta_many(digests, SOURCE_META)
        hints: dict[Digest, list[str]] = {}
        locals_: dict[Digest, list[str]] = {}
        for d in digests:
            out = [n.rpartition(".")[2] for n in current.get(d, ())]
            raw = metas.get(d)
            meta = decode(raw) if raw is not None else None
            if isinstance(meta, dict):
                written = meta.get("name")
                if isinstance(written, str):
                    out.append(written)
                names = meta.get("locals")
                if isinstance(names, list) and all(isinstance(n, str) for n in names):
                    locals_[d] = names
            hints[d] = out
        return hints, locals_

    def load(self, target: str | Digest) -> Loaded:
        """A runnable module for `target` and its whole closure (see `assemble`).

        Raises `MissingDependencies` listing every missing piece at once.
        """
        root = self.resolve(target)
        objects = self.objects.closure([root])
        ds: list[Digest] = []
        for obj in objects:
            if obj.kind == CYCLE_KIND:
                form = self.form(obj.digest)
                assert isinstance(form, list)
                ds += [member_digest(obj.digest, k) for k in range(len(form[1]))]
            else:
                ds.append(obj.digest)
        hints, locals_ = self.naming(ds)
        return assemble(objects, root, hints=hints, locals_=locals_,
                        form_of=lambda o: self.form(o.digest))

    def show(self, target: str | Digest) -> Shown:
        """`target` pretty-printed from its stored form, with its direct dependencies."""
        digest = self.resolve(target)
        obj = self.objects.get(digest)
        names = tuple(self.objects.names_of(digest))
        if obj.kind not in TEL_KINDS:
            text = f"<{obj.kind} blob, {len(obj.payload)} bytes>"
            deps = tuple(Dependency(d, self.objects.get(d).kind, d.short(),
                                    tuple(self.objects.names_of(d))) for d in obj.deps)
            return Shown(digest, obj.kind, names, text, deps)
        form = self.form(digest)
        assert isinstance(form, list)
        if form[0] == DEF_KIND:
            own = [(digest, form)]
            external = list(obj.deps)
        else:
            if form[0] == MEMBER_KIND:
                _, (cycle, _k) = self.definition_form(digest)  # type: ignore[misc]
            else:
                cycle = digest
            cform = self.form(cycle)
            assert isinstance(cform, list)
            own = [(member_digest(cycle, k), f) for k, f in enumerate(cform[1])]
            own.sort(key=lambda item: item[0] != digest)  # the one asked for first
            external = list(self.objects.get(cycle).deps)
        first = [digest] if any(d == digest for d, _ in own) else []
        ids = unique_identifiers(first + [d for d, _ in own] + external,
                                 {d: self.hints(d) for d in first + [d for d, _ in own] + external})
        dec = Decompiler(lambda d: ids.get(d) or f"d_{d.hex[:10]}", [ids[d] for d, _ in own])
        decls: list[Decl] = []
        effects: dict[str, EffectDecl] = {}
        for d, f in own:
            assert isinstance(f, list)
            for eform in f[3]:
                e = effect_from_form(eform)
                if e is not _prelude(e.name):
                    effects[e.name] = e
            decls.append(dec.definition(f, ids[d], self.local_names(d)))
        text = "\n\n".join(print_decl(x) for x in [effects[n] for n in sorted(effects)] + decls)
        deps = tuple(Dependency(d, self.objects.get(d).kind if self.objects.has(d) else "missing",
                                ids[d], tuple(self.objects.names_of(d))) for d in external)
        return Shown(digest, obj.kind, names, text, deps)


def _prelude(name: str) -> EffectDecl | None:
    return PRELUDE.get(name)


def _dependencies(hashed: HashedModule, free: Mapping[str, set[str]],
                  externals: Mapping[str, Digest]) -> dict[Digest, tuple[Digest, ...]]:
    """Each new object's dependencies (sorted digests), from the names its definitions use.

    A definition depends on what its free names denote (file definitions
    first, then imports); a cycle on its members' dependencies outside the
    cycle; a member on its cycle.  Equal to scanning the forms for digests
    (``tests/store/test_repository.py`` checks) without walking them again.
    """
    target = dict(externals) | hashed.digests
    out: dict[Digest, tuple[Digest, ...]] = {}
    cycle_deps: dict[Digest, set[Digest]] = {}
    for name, digest in hashed.digests.items():
        uses = {target[n] for n in free[name] if n in target}
        if name in hashed.cycles:
            cycle, _ = hashed.cycles[name]
            out[digest] = (cycle,)
            cycle_deps.setdefault(cycle, set()).update(uses)
        else:
            out[digest] = tuple(sorted(uses))
    for name, (cycle, _) in hashed.cycles.items():
        cycle_deps[cycle].discard(hashed.digests[name])
    for cycle, uses in cycle_deps.items():
        out[cycle] = tuple(sorted(uses))
    return out


def _uses(source: str, filename: str) -> list[_Use]:
    """The ``#use alias = target`` directives of a file (a malformed one is an error)."""
    out = []
    for i, line in enumerate(source.splitlines(), 1):
        if line.lstrip().startswith("#use"):
            m = _USE.match(line)
            if m is None:
                raise UnresolvedImport(f"{filename}:{i}", "?", line.strip(),
                                       "expected '#use NAME = NAME|DIGEST|PREFIX'")
            out.append(_Use(m.group(1), m.group(2), i))
    return out

