"""TEL canonical forms <-> syntax, for the repository (decompiling stored definitions).

The TEL engine (`stele.tel`) turns definitions into canonical forms (see
`stele.tel._hash`): locals erased to de Bruijn indices, references replaced by
digests (``["r", d]``), cycle-internal references by member index
(``["c", k]``), builtins named ``name@version``.  The repository stores those
forms and must turn them back into TEL syntax to show and to run them.  This
module is that inverse: `Decompiler` rebuilds a `stele.tel.Def` from a form,
naming references through a caller-supplied map and locals either by the
names the definition was written with (kept beside the object, see
`binder_names`) or, when those would capture a reference, by generated names.

Binder order (shared by `binder_names` and the decompiler): parameters of the
definition, then a pre-order walk where a `let` binds after its value, a
lambda binds its parameters before its body, and a `match` binds its
``Some`` name after the scrutinee.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..protocol import Digest, DigestError
from ..tel import BUILTINS, PRELUDE, canonical_type
from ..tel._free import children
from ..tel._ast import (
    Binary, BoolLit, BytesLit, Call, Def, EffectDecl, Expr, If, IntLit, Lambda, Let, ListLit,
    Match, NoneE, OpDecl, Param, Perform, Proj, Seq, SomeE, StrLit, TFn, TList, TName, TOption,
    TTuple, TupleLit, Type, Unary, UnitLit, Var,
)
from ..tel._builtins import BUILTIN_VERSION
from ..tel._lexer import KEYWORDS
from ._errors import CorruptObject

__all__ = [
    "Decompiler", "binder_names", "type_from_form", "effect_from_form", "effect_form",
    "is_identifier", "DEF_KIND", "CYCLE_KIND", "MEMBER_KIND",
]

DEF_KIND, CYCLE_KIND, MEMBER_KIND = "tel.def.1", "tel.cycle.1", "tel.member.1"

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_identifier(name: str) -> bool:
    """Whether `name` can name a TEL definition (an identifier, not a keyword or builtin)."""
    return bool(_IDENT.match(name)) and name not in KEYWORDS and name not in BUILTINS


def _bad(what: str, form: object) -> CorruptObject:
    text = repr(form)
    return CorruptObject(f"{what}: {text[:120]}{'...' if len(text) > 120 else ''}")


def type_from_form(form: object) -> Type:
    """The TEL type a canonical type form denotes (inverse of `stele.tel.canonical_type`)."""
    if isinstance(form, str):
        if form not in ("Int", "Bool", "Bytes", "String", "Unit"):
            raise _bad("unknown primitive type in a stored form", form)
        return TName(form)
    if isinstance(form, list) and form:
        head = form[0]
        if head in ("List", "Option") and len(form) == 2:
            elem = type_from_form(form[1])
            return TList(elem) if head == "List" else TOption(elem)
        if head == "Tuple" and len(form) == 2 and isinstance(form[1], list) and len(form[1]) >= 2:
            return TTuple(tuple(type_from_form(t) for t in form[1]))
        if (head == "Fn" and len(form) == 4 and isinstance(form[1], list)
                and isinstance(form[3], list) and all(isinstance(e, str) for e in form[3])):
            return TFn(tuple(type_from_form(t) for t in form[1]), type_from_form(form[2]),
                       frozenset(form[3]))
    raise _bad("malformed type in a stored form", form)


def effect_form(d: EffectDecl) -> object:
    """The canonical form of an effect declaration, as it appears in definition rows."""
    ops = sorted((o.name, [canonical_type(p.type) for p in o.params], canonical_type(o.ret))
                 for o in d.ops)
    return [d.name, [list(o) for o in ops]]


def effect_from_form(form: object) -> EffectDecl:
    """An effect declaration from its row form (operation parameters are named a0, a1, ...)."""
    if not (isinstance(form, list) and len(form) == 2 and isinstance(form[0], str)
            and isinstance(form[1], list)):
        raise _bad("malformed effect in a stored row", form)
    name = form[0]
    if name in PRELUDE and form == _PRELUDE_FORMS[name]:
        return PRELUDE[name]
    ops: list[OpDecl] = []
    for op in form[1]:
        if not (isinstance(op, list) and len(op) == 3 and isinstance(op[0], str)
                and isinstance(op[1], list)):
            raise _bad(f"malformed operation of effect {name}", op)
        params = tuple(Param(f"a{i}", type_from_form(t)) for i, t in enumerate(op[1]))
        ops.append(OpDecl(op[0], params, type_from_form(op[2])))
    return EffectDecl(name, tuple(ops))


_PRELUDE_FORMS = {n: effect_form(d) for n, d in PRELUDE.items()}


_BINDERLESS_LEAVES = frozenset({Var, IntLit, BoolLit, StrLit, BytesLit, UnitLit, NoneE})


def binder_names(d: Def) -> list[str]:
    """The local names `d` binds, in binder order (see the module docstring)."""
    out = [p.name for p in d.params]
    # explicit stack, children pushed in reverse so they pop in evaluation order;
    # a name (str) on the stack is a binder recorded between its siblings.
    pending: list[Expr | str] = [d.body]
    while pending:
        e = pending.pop()
        t = type(e)  # the commonest exact classes first; then the general chain
        if t in _BINDERLESS_LEAVES:
            continue
        if t is Binary:
            pending += (e.right, e.left)  # type: ignore[union-attr]
            continue
        if t is Call:
            pending += reversed(e.args)  # type: ignore[union-attr]
            pending.append(e.func)  # type: ignore[union-attr]
            continue
        if isinstance(e, str):
            out.append(e)
            continue
        if isinstance(e, Let):
            pending += [e.body, e.name, e.value]
        elif isinstance(e, Lambda):
            pending.append(e.body)
            out += [p.name for p in e.params]
        elif isinstance(e, Match):
            pending += [e.none_body, e.some_body, e.some_name, e.scrutinee]
        else:
            pending += reversed(children(e))
    return out


class _Capture(Exception):
    """The preferred local names would capture a reference; use generated ones."""


class Decompiler:
    """Rebuilds TEL definitions from canonical forms.

    `ref_name(digest)` names a reference to another definition; `cycle_names`
    names the members of the cycle being decompiled (``["c", k]``).
    """

    def __init__(self, ref_name: Callable[[Digest], str], cycle_names: Sequence[str] = ()) -> None:
        self.ref_name = ref_name
        self.cycle_names = list(cycle_names)
        self._refs: dict[bytes, str] = {}  # multihash bytes -> name (decoded once)

    def _ref(self, binary: bytes) -> str:
        name = self._refs.get(binary)
        if name is None:
            name = self._refs[binary] = self.ref_name(_digest(binary))
        return name

    def definition(self, form: object, name: str, locals_: Sequence[str] | None = None) -> Def:
        """The definition `name` whose canonical form is `form` (a ``tel.def.1`` list)."""
        if not (isinstance(form, list) and len(form) == 5 and form[0] == DEF_KIND
                and isinstance(form[1], list) and isinstance(form[3], list)):
            raise _bad("malformed definition form", form)
        params_t = [type_from_form(t) for t in form[1]]
        ret = type_from_form(form[2])
        effects = frozenset(effect_from_form(e).name for e in form[3])
        if locals_ is not None:
            try:
                return self._build(form, name, params_t, ret, effects, list(locals_))
            except _Capture:
                pass
        return self._build(form, name, params_t, ret, effects, None)

    def _build(self, form: list[object], name: str, params_t: list[Type], ret: Type,
               effects: frozenset[str], names: list[str] | None) -> Def:
        self._names = names
        self._next = 0
        self._prefix = "x"
        self._globals: set[str] = set(self.cycle_names)
        self._scan_globals(form[4])
        taken = self._globals
        for p in ("x", "v", "w", "y", "z", "t"):
            if not any(re.fullmatch(p + r"\d+", g) for g in taken):
                self._prefix = p
                break
        else:  # pragma: no cover - every prefix used by a global
            self._prefix = "local_"
        scope: list[str] = []
        params = []
        for t in params_t:
            n = self._bind(scope)
            params.append(Param(n, t))
            scope.append(n)
        body = self._expr(form[4], scope)
        if names is not None and self._next != len(names):
            raise _Capture()  # stored names do not fit this form: not its annotation
        return Def(name, tuple(params), ret, effects, body)

    def _scan_globals(self, f: object) -> None:
        """Collect the names of every reference and builtin the form uses."""
        stack = [f]
        while stack:
            g = stack.pop()
            if not isinstance(g, list) or not g:
                continue
            if len(g) == 2 and g[0] == "r" and isinstance(g[1], bytes):
                self._globals.add(self._ref(g[1]))
            elif len(g) == 2 and g[0] == "bi" and isinstance(g[1], str):
                self._globals.add(g[1].partition("@")[0])
            else:
                stack += g

    def _bind(self, scope: list[str]) -> str:
        k = self._next
        self._next += 1
        if self._names is not None:
            if k >= len(self._names):
                raise _Capture()
            n = self._names[k]
            if not isinstance(n, str) or not _IDENT.match(n) or n in KEYWORDS:
                raise _Capture()
            return n
        return f"{self._prefix}{len(scope)}"

    def _global(self, name: str, scope: list[str]) -> Var:
        if name in scope:
            raise _Capture()
        return Var(name)

    def _expr(self, f: object, scope: list[str]) -> Expr:
        if not isinstance(f, list) or not f or not isinstance(f[0], str):
            raise _bad("malformed expression form", f)
        h, n = f[0], len(f)
        x = self._expr
        if h == "i" and n == 2 and isinstance(f[1], int) and not isinstance(f[1], bool):
            return IntLit(f[1])
        if h == "b" and n == 2 and isinstance(f[1], bool):
            return BoolLit(f[1])
        if h == "s" and n == 2 and isinstance(f[1], str):
            return StrLit(f[1])
        if h == "x" and n == 2 and isinstance(f[1], bytes):
            return BytesLit(f[1])
        if h == "unit" and n == 1:
            return UnitLit()
        if h == "none" and n == 1:
            return NoneE()
        if h == "some" and n == 2:
            return SomeE(x(f[1], scope))
        if h == "v" and n == 2 and isinstance(f[1], int) and 0 <= f[1] < len(scope):
            name = scope[len(scope) - 1 - f[1]]
            if name in scope[len(scope) - f[1]:]:
                raise _Capture()  # an inner binder of the same name would shadow it
            return Var(name)
        if h == "r" and n == 2 and isinstance(f[1], bytes):
            return self._global(self._ref(f[1]), scope)
        if h == "c" and n == 2 and isinstance(f[1], int) and 0 <= f[1] < len(self.cycle_names):
            return self._global(self.cycle_names[f[1]], scope)
        if h == "bi" and n == 2 and isinstance(f[1], str):
            base, _, version = f[1].partition("@")
            if base not in BUILTINS or version != str(BUILTIN_VERSION):
                raise CorruptObject(
                    f"stored code uses builtin {f[1]!r}, which this runtime does not provide "
                    f"(builtins are at version {BUILTIN_VERSION})")
            return self._global(base, scope)
        if h in ("list", "tuple") and n == 2 and isinstance(f[1], list):
            items = tuple(x(i, scope) for i in f[1])
            return ListLit(items) if h == "list" else TupleLit(items)
        if h == "un" and n == 3 and isinstance(f[1], str):
            return Unary(f[1], x(f[2], scope))
        if h == "bin" and n == 4 and isinstance(f[1], str):
            return Binary(f[1], x(f[2], scope), x(f[3], scope))
        if h == "if" and n == 4:
            return If(x(f[1], scope), x(f[2], scope), x(f[3], scope))
        if h == "let" and n == 4:
            ann = None if f[1] is None else type_from_form(f[1])
            value = x(f[2], scope)
            name = self._bind(scope)
            return Let(name, ann, value, x(f[3], scope + [name]))
        if h == "fn" and n == 3 and isinstance(f[1], list):
            inner = list(scope)
            params = []
            for t in f[1]:
                pn = self._bind(inner)
                params.append(Param(pn, type_from_form(t)))
                inner.append(pn)
            return Lambda(tuple(params), x(f[2], inner))
        if h == "call" and n == 3 and isinstance(f[2], list):
            return Call(x(f[1], scope), tuple(x(a, scope) for a in f[2]))
        if h == "match" and n == 4:
            scrut = x(f[1], scope)
            name = self._bind(scope)
            return Match(scrut, name, x(f[2], scope + [name]), x(f[3], scope))
        if h == "seq" and n == 3:
            return Seq(x(f[1], scope), x(f[2], scope))
        if (h == "perform" and n == 4 and isinstance(f[1], str) and isinstance(f[2], str)
                and isinstance(f[3], list)):
            return Perform(f[1], f[2], tuple(x(a, scope) for a in f[3]))
        if h == "proj" and n == 3 and isinstance(f[2], int):
            return Proj(x(f[1], scope), f[2])
        raise _bad("malformed expression form", f)


def _digest(binary: bytes) -> Digest:
    try:
        return Digest.from_binary(binary)
    except DigestError as exc:
        raise CorruptObject(f"bad digest inside a stored form: {exc}") from None
