"""Turning stored TEL objects back into runnable and printable TEL modules.

`assemble` is a pure function of stored objects: the repository feeds it the
transitive closure of a definition (``ObjectStore.closure``), and a client
that received the same objects over the wire (``LoadReply``) can call it
too.  Every definition in the closure becomes one `stele.tel.Def` under a
unique identifier; references by digest become references to those
identifiers, so the module means exactly what the digests mean -- a name
that moved since never changes which code a stored reference runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..protocol import DEPTH_CEILING, Digest, DecodeError, decode, encode
from ..tel import PRELUDE, CheckedModule, Program, check_module
from ..tel._ast import Decl, Def, EffectDecl, Module
from ._errors import CorruptObject, EffectConflict, WrongKind
from ._store import StoredObject
from ._telform import (
    CYCLE_KIND, DEF_KIND, MEMBER_KIND, Decompiler, effect_form, effect_from_form, is_identifier,
)

__all__ = ["Loaded", "assemble", "decode_form", "member_digest", "TEL_KINDS", "NameHints",
           "unique_identifiers"]

TEL_KINDS = frozenset({DEF_KIND, CYCLE_KIND, MEMBER_KIND})

#: digest -> preferred identifiers, best first (current names, then the written name)
NameHints = Mapping[Digest, Sequence[str]]


def decode_form(obj: StoredObject) -> object:
    """The canonical form stored in a TEL object's payload."""
    try:
        form = decode(obj.payload, max_depth=DEPTH_CEILING)
    except DecodeError as exc:
        raise CorruptObject(f"object {obj.digest} ({obj.kind}) does not decode: {exc}") from None
    if not isinstance(form, list) or not form or form[0] != obj.kind:
        raise CorruptObject(f"object {obj.digest} is stored as {obj.kind!r} but its form is not")
    return form


def member_digest(cycle: Digest, index: int) -> Digest:
    """The digest of member `index` of the cycle `cycle` (as the TEL engine defines it)."""
    return Digest.of(encode([MEMBER_KIND, cycle, index]))


def unique_identifiers(order: Sequence[Digest], hints: NameHints) -> dict[Digest, str]:
    """One distinct TEL identifier per digest: the first free hint, else ``d_<hex>``."""
    out: dict[Digest, str] = {}
    used: set[str] = set()
    for d in order:
        if d in out:
            continue
        choice = None
        for h in hints.get(d, ()):
            if is_identifier(h) and h not in used:
                choice = h
                break
        if choice is None:
            base = next((h for h in hints.get(d, ()) if is_identifier(h)), "d")
            choice = f"{base}_{d.hex[:10]}"
            k = 10
            while choice in used:
                k += 2
                choice = f"{base}_{d.hex[:k]}"
        used.add(choice)
        out[d] = choice
    return out


@dataclass(frozen=True, slots=True)
class Loaded:
    """Everything needed to run one stored definition.

    `module` declares every definition of the closure (dependencies first)
    and every non-prelude effect they use; `entry` is the root's identifier in
    it; `identifiers` maps each definition digest to its identifier;
    `objects` is the closure as stored, each object once, dependencies first.
    """

    root: Digest
    entry: str
    module: Module
    identifiers: Mapping[Digest, str]
    objects: tuple[StoredObject, ...]

    def check(self) -> CheckedModule:
        """The type-checked module (stored code was checked when stored; this re-checks)."""
        return check_module(self.module)

    def program(self) -> Program:
        """A `stele.tel.Program` ready to ``call(self.entry, args, ...)``."""
        return Program(self.check())


class _Effects:
    """Collects the effect declarations rows mention; one declaration per name."""

    def __init__(self) -> None:
        self.decls: dict[str, EffectDecl] = {}
        self.forms: dict[str, object] = {}

    def add_row(self, row: object, where: Digest) -> None:
        if not isinstance(row, list):
            raise CorruptObject(f"object {where} has a malformed effect row")
        for form in row:
            decl = effect_from_form(form)
            if decl.name in PRELUDE and decl is not PRELUDE[decl.name]:
                raise EffectConflict(decl.name, f"{where} declares it differently from the prelude")
            seen = self.forms.get(decl.name)
            if seen is not None and seen != form:
                raise EffectConflict(decl.name, f"{where} uses another declaration than "
                                     "other definitions in the same closure")
            self.forms[decl.name] = form
            if decl.name not in PRELUDE:
                self.decls[decl.name] = decl

    def merge_declared(self, declared: Mapping[str, EffectDecl], what: str) -> None:
        """Check declarations written in a file against those the rows imply."""
        for name, decl in declared.items():
            form = self.forms.get(name)
            if form is not None and form != effect_form(decl):
                raise EffectConflict(name, f"{what} declares it differently from stored code it uses")


def assemble(objects: Sequence[StoredObject], root: Digest, *, hints: NameHints = {},
             locals_: Mapping[Digest, Sequence[str]] = {},
             form_of: Callable[[StoredObject], object] | None = None) -> Loaded:
    """A runnable module for `root` from its closure `objects` (dependencies first).

    `hints` suggests identifiers per definition digest; `locals_` gives the
    local names a definition was written with (cosmetic: the digests decide
    the meaning; names that would capture a reference are replaced).
    `form_of` decodes an object's form (default `decode_form`; the repository
    passes its cached decoder).
    """
    decode_one = form_of or decode_form
    defs: dict[Digest, object] = {}
    cycles: dict[Digest, list[object]] = {}
    members: dict[Digest, tuple[Digest, int]] = {}
    order: list[Digest] = []
    by_digest = {o.digest: o for o in objects}
    if root not in by_digest:
        raise CorruptObject(f"the closure of {root} does not contain it")
    if by_digest[root].kind not in TEL_KINDS:
        raise WrongKind(root, by_digest[root].kind, "a TEL definition")
    for obj in objects:
        if obj.kind not in TEL_KINDS:
            raise WrongKind(obj.digest, obj.kind, f"a TEL object (needed by {root.short()})")
        form = decode_one(obj)
        assert isinstance(form, list)
        if obj.kind == DEF_KIND:
            defs[obj.digest] = form
            order.append(obj.digest)
        elif obj.kind == CYCLE_KIND:
            if len(form) != 2 or not isinstance(form[1], list) or not form[1]:
                raise CorruptObject(f"cycle {obj.digest} is malformed")
            cycles[obj.digest] = form[1]
            for k in range(len(form[1])):
                m = member_digest(obj.digest, k)
                members[m] = (obj.digest, k)
                order.append(m)
    for obj in objects:
        if obj.kind == MEMBER_KIND and obj.digest not in members:
            raise CorruptObject(f"member {obj.digest} is in the closure without its cycle")
    first = member_digest(root, 0) if root in cycles else root
    names = unique_identifiers([first] + order, hints)

    def ref_name(d: Digest) -> str:
        n = names.get(d)
        if n is None:
            raise CorruptObject(f"a definition in the closure of {root} refers to {d}, "
                                "which the closure does not contain")
        return n

    effects = _Effects()
    out: list[Def] = []
    done: set[Digest] = set()
    for d in order:
        if d in done:
            continue
        if d in defs:
            form = defs[d]
            assert isinstance(form, list)
            effects.add_row(form[3], d)
            out.append(Decompiler(ref_name).definition(form, names[d], locals_.get(d)))
            done.add(d)
            continue
        cycle, _ = members[d]
        forms = cycles[cycle]
        mds = [member_digest(cycle, k) for k in range(len(forms))]
        dec = Decompiler(ref_name, [names[m] for m in mds])
        for m, form in zip(mds, forms):
            if not isinstance(form, list) or len(form) != 5:
                raise CorruptObject(f"cycle {cycle} has a malformed member")
            effects.add_row(form[3], m)
            out.append(dec.definition(form, names[m], locals_.get(m)))
            done.add(m)
    entry = names[first]
    decls: list[Decl] = [effects.decls[n] for n in sorted(effects.decls)]
    decls += out
    return Loaded(root, entry, Module(tuple(decls)), names, tuple(objects))
