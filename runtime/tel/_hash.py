"""Content addressing of TEL definitions (after Unison): hashes of meaning, not of names.

The canonical form of a definition erases every local name to a de Bruijn
index (0 = the innermost binder; a binder of n parameters binds n indices,
the last parameter innermost), replaces each reference to another definition
by that definition's `Digest`, names builtins `name@version`, and includes the
declarations of the effects in the definition's row (so an effect whose
signature changes changes its users). The digest is BLAKE2b-256 over the
canonical CBOR (`stele.protocol`). Object kinds, each a CBOR list:

* `["tel.def.1", params, ret, row, body]` -- a definition outside any cycle;
* `["tel.cycle.1", [def forms...]]` -- a strongly connected component of
  definitions that refer to each other (or one that refers to itself), with
  references inside the cycle written `["c", k]` for member index k;
* `["tel.member.1", cycle_digest, k]` -- member k of a cycle; its digest is the
  digest of that definition.

Members of a cycle are ordered canonically without names: first by the
digest of their form with cycle references anonymised, refined (like colour
refinement) by the keys of the members they reference, then -- for members
that still tie, Unison's E253299 case -- by trying every order of the tied
members and keeping the one whose encoded cycle is smallest. Members that
still tie are interchangeable (an automorphism maps one to the other), so
they get distinct indices, and digests, in the order of their names; more
than `MAX_TIE_ORDERS` candidate orders is a `TelHashError`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from stele.protocol import DEPTH_CEILING, Digest, encode

from ._ast import (
    Binary, BoolLit, BytesLit, Call, Def, EffectDecl, Expr, If, IntLit, Lambda, Let, ListLit,
    Match, Module, NoneE, Perform, Proj, Seq, SomeE, StrLit, TFn, TList, TName, TOption, TTuple,
    TupleLit, Type, Unary, UnitLit, Var,
)
from ._builtins import BUILTINS, PRELUDE, builtin_ref
from ._errors import TelHashError
from ._free import free_vars

__all__ = [
    "HashedModule", "hash_module", "hash_definitions", "canonical_type", "digest_of",
    "MAX_TIE_ORDERS", "DEF_TAG", "CYCLE_TAG", "MEMBER_TAG",
]

DEF_TAG, CYCLE_TAG, MEMBER_TAG = "tel.def.1", "tel.cycle.1", "tel.member.1"
MAX_TIE_ORDERS = 5040


def digest_of(obj: object) -> Digest:
    """Digest of a canonical object (canonical CBOR, BLAKE2b-256)."""
    return Digest.of(encode(obj, max_depth=DEPTH_CEILING))


def canonical_type(t: Type) -> object:
    """The canonical (CBOR-ready) form of a type."""
    if isinstance(t, TName):
        return t.name
    if isinstance(t, TList):
        return ["List", canonical_type(t.elem)]
    if isinstance(t, TOption):
        return ["Option", canonical_type(t.elem)]
    if isinstance(t, TTuple):
        return ["Tuple", [canonical_type(i) for i in t.items]]
    assert isinstance(t, TFn)
    return ["Fn", [canonical_type(p) for p in t.params], canonical_type(t.ret), sorted(t.effects)]


def _effect_form(d: EffectDecl) -> object:
    ops = sorted((o.name, [canonical_type(p.type) for p in o.params], canonical_type(o.ret))
                 for o in d.ops)
    return [d.name, [list(o) for o in ops]]


def _last_index(scope: list[str], name: str) -> int:
    """Index of the innermost (last) occurrence of `name` in `scope` (which holds it)."""
    i = len(scope) - 1
    while scope[i] != name:
        i -= 1
    return i


class _Canon:
    """Builds canonical forms; `ref(name)` gives the form of a reference to a definition."""

    def __init__(self, ref: dict[str, object]) -> None:
        self.ref = ref

    def expr(self, e: Expr, scope: list[str]) -> object:
        c = self.expr
        t = type(e)  # the commonest exact classes first; then the general chain
        if t is Var:
            name = e.name  # type: ignore[union-attr]
            if name in scope:
                return ["v", len(scope) - 1 - _last_index(scope, name)]
            if name in self.ref:
                return self.ref[name]
        elif t is Binary:
            return ["bin", e.op, c(e.left, scope), c(e.right, scope)]  # type: ignore[union-attr]
        elif t is Call:
            return ["call", c(e.func, scope), [c(a, scope) for a in e.args]]  # type: ignore[union-attr]
        elif t is IntLit:
            return ["i", e.value]  # type: ignore[union-attr]
        if isinstance(e, IntLit):
            return ["i", e.value]
        if isinstance(e, BoolLit):
            return ["b", e.value]
        if isinstance(e, StrLit):
            return ["s", e.value]
        if isinstance(e, BytesLit):
            return ["x", e.value]
        if isinstance(e, UnitLit):
            return ["unit"]
        if isinstance(e, NoneE):
            return ["none"]
        if isinstance(e, SomeE):
            return ["some", c(e.value, scope)]
        if isinstance(e, Var):
            for i in range(len(scope) - 1, -1, -1):
                if scope[i] == e.name:
                    return ["v", len(scope) - 1 - i]
            if e.name in self.ref:
                return self.ref[e.name]
            if e.name in BUILTINS:
                return ["bi", builtin_ref(e.name)]
            raise TelHashError(f"unresolved name {e.name!r} at {e.loc}")
        if isinstance(e, ListLit):
            return ["list", [c(i, scope) for i in e.items]]
        if isinstance(e, TupleLit):
            return ["tuple", [c(i, scope) for i in e.items]]
        if isinstance(e, Unary):
            return ["un", e.op, c(e.operand, scope)]
        if isinstance(e, Binary):
            return ["bin", e.op, c(e.left, scope), c(e.right, scope)]
        if isinstance(e, If):
            return ["if", c(e.cond, scope), c(e.then, scope), c(e.else_, scope)]
        if isinstance(e, Let):
            ann = None if e.type is None else canonical_type(e.type)
            return ["let", ann, c(e.value, scope), c(e.body, scope + [e.name])]
        if isinstance(e, Lambda):
            inner = scope + [p.name for p in e.params]
            return ["fn", [canonical_type(p.type) for p in e.params], c(e.body, inner)]
        if isinstance(e, Call):
            return ["call", c(e.func, scope), [c(a, scope) for a in e.args]]
        if isinstance(e, Match):
            return ["match", c(e.scrutinee, scope), c(e.some_body, scope + [e.some_name]),
                    c(e.none_body, scope)]
        if isinstance(e, Seq):
            return ["seq", c(e.first, scope), c(e.second, scope)]
        if isinstance(e, Perform):
            return ["perform", e.effect, e.op, [c(a, scope) for a in e.args]]
        assert isinstance(e, Proj)
        return ["proj", c(e.tuple, scope), e.index]

    def definition(self, d: Def, effects: dict[str, EffectDecl]) -> list[object]:
        row = [_effect_form(effects[n]) if n in effects else [n, None] for n in sorted(d.effects)]
        return [DEF_TAG, [canonical_type(p.type) for p in d.params], canonical_type(d.ret), row,
                self.expr(d.body, [p.name for p in d.params])]


@dataclass
class HashedModule:
    """The content addresses of a module's definitions and every object to store for them.

    `digests`: name -> digest of the definition. `objects`: digest -> canonical
    object (definition forms, cycles and cycle members; references inside are
    `Digest`s). `cycles`: name -> (cycle digest, member index) for members of a
    cycle. `deps`: name -> digests of the definitions it refers to (not itself).
    `encoded`: digest -> the canonical CBOR of `objects[digest]` (the bytes that
    were hashed, kept so a store need not encode them again).
    """

    digests: dict[str, Digest] = field(default_factory=dict)
    objects: dict[Digest, object] = field(default_factory=dict)
    cycles: dict[str, tuple[Digest, int]] = field(default_factory=dict)
    deps: dict[str, set[Digest]] = field(default_factory=dict)
    encoded: dict[Digest, bytes] = field(default_factory=dict)


def _sccs(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components come dependencies first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            succ = graph[v]
            if i < len(succ):
                work.append((v, i + 1))
                w = succ[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _refs_in_order(form: object, out: list[int]) -> list[int]:
    if isinstance(form, list):
        if len(form) == 2 and form[0] == "c" and isinstance(form[1], int):
            out.append(form[1])
        else:
            for x in form:
                _refs_in_order(x, out)
    return out


def hash_module(module: Module, *, externals: Mapping[str, Digest] | None = None) -> HashedModule:
    """Content-address every definition of a (type-checked) module.

    `externals` maps names that are not defined in the module to the digests
    of definitions stored elsewhere (e.g. in the repository); a reference to
    one is `["r", digest]`, exactly like a reference inside the module. A
    module definition of the same name takes precedence.
    """
    defs = module.defs
    effects = dict(PRELUDE) | module.effects
    graph = {n: sorted((free_vars(d.body) - {p.name for p in d.params}) & defs.keys())
             for n, d in defs.items()}
    out = HashedModule()
    refs: dict[str, object] = {n: ["r", d] for n, d in (externals or {}).items() if n not in defs}
    for comp in _sccs(graph):
        if len(comp) == 1 and comp[0] not in graph[comp[0]]:
            name = comp[0]
            form = _Canon(refs).definition(defs[name], effects)
            data = encode(form, max_depth=DEPTH_CEILING)
            digest = Digest.of(data)
            out.objects[digest] = form
            out.encoded[digest] = data
            _record(out, name, digest, graph, refs)
            continue
        _hash_cycle(comp, defs, effects, graph, refs, out)
    return out


def _record(out: HashedModule, name: str, digest: Digest, graph: dict[str, list[str]],
            refs: dict[str, object]) -> None:
    out.digests[name] = digest
    refs[name] = ["r", digest]


def _hash_cycle(comp: list[str], defs: dict[str, Def], effects: dict[str, EffectDecl],
                graph: dict[str, list[str]], refs: dict[str, object], out: HashedModule) -> None:
    anon = _Canon(refs | {n: ["c", -1] for n in comp})
    keys = {n: digest_of(anon.definition(defs[n], effects)).value for n in comp}
    # which member each anonymised ["c", -1] occurrence points at, in traversal order
    probe = {n: ["c", i] for i, n in enumerate(comp)}
    targets = {n: [comp[i] for i in _refs_in_order(_Canon(refs | probe).definition(defs[n], effects), [])]
               for n in comp}
    classes = len(set(keys.values()))
    while True:  # colour refinement
        keys = {n: digest_of([keys[n], [keys[t] for t in targets[n]]]).value for n in comp}
        new_classes = len(set(keys.values()))
        if new_classes == classes:
            break
        classes = new_classes
    groups: list[list[str]] = []
    for _, grp in itertools.groupby(sorted(comp, key=lambda n: (keys[n], n)), key=lambda n: keys[n]):
        groups.append(sorted(grp))
    orders = 1
    for g in groups:
        for k in range(2, len(g) + 1):
            orders *= k
    if orders > MAX_TIE_ORDERS:
        raise TelHashError(
            f"cycle {comp} is too symmetric to order canonically: {orders} candidate orders, "
            f"limit {MAX_TIE_ORDERS}; make the tied definitions differ")
    best: tuple[bytes, list[object], list[str]] | None = None
    for choice in itertools.product(*(itertools.permutations(g) for g in groups)):
        order = [n for grp in choice for n in grp]
        canon = _Canon(refs | {n: ["c", i] for i, n in enumerate(order)})
        forms: list[object] = [canon.definition(defs[n], effects) for n in order]
        data = encode([CYCLE_TAG, forms], max_depth=DEPTH_CEILING)
        if best is None or data < best[0]:
            best = (data, forms, order)
    assert best is not None
    best_data, best_forms, order = best
    cycle = [CYCLE_TAG, best_forms]
    cycle_digest = Digest.of(best_data)
    out.objects[cycle_digest] = cycle
    out.encoded[cycle_digest] = best_data
    for i, n in enumerate(order):
        member = [MEMBER_TAG, cycle_digest, i]
        data = encode(member, max_depth=DEPTH_CEILING)
        d = Digest.of(data)
        out.objects[d] = member
        out.encoded[d] = data
        out.cycles[n] = (cycle_digest, i)
        _record(out, n, d, graph, refs)


def hash_definitions(module: Module, *, externals: Mapping[str, Digest] | None = None) -> dict[str, Digest]:
    """name -> content digest of every definition in `module` (see `hash_module`)."""
    return hash_module(module, externals=externals).digests
