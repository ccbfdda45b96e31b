"""Deny-by-default sandbox policies.

A :class:`Policy` lists the effects an execution may perform.  Anything not
granted is denied.  A :class:`Grant` allows one effect -- all of its
operations, or only some -- optionally under :class:`Constraint`\\ s on the
arguments (e.g. KV keys under a prefix) and a cap on the number of calls.

Policies are plain frozen values: they compare by content, encode to
canonical CBOR (:meth:`Policy.to_cbor_obj`), and are part of an execution's
identity (two executions under different policies are different actions).

Arguments are checked by parameter *name*; the names of the standard
effects' parameters are in :data:`STANDARD_SIGNATURES`, and other effects'
calls can pass their own names to :meth:`Policy.check`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import EffectDenied, PolicyError

__all__ = [
    "Policy",
    "Grant",
    "Constraint",
    "KeyPrefix",
    "IntRange",
    "MaxBytes",
    "STANDARD_SIGNATURES",
    "DENY_ALL",
]

#: Parameter names of the standard effects' operations (effect -> op -> names).
STANDARD_SIGNATURES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "Log": {"emit": ("msg",)},
    "Clock": {"now": (), "sleep": ("ms",)},
    "Rand": {"int": ("lo", "hi"), "bytes": ("n",)},
    "KV": {"get": ("key",), "put": ("key", "value"), "delete": ("key",)},
    "Exec": {"call": ("target", "arg")},
}


@dataclass(frozen=True, slots=True)
class Constraint:
    """Base of argument constraints; subclasses implement :meth:`violation`."""

    param: str

    def violation(self, value: Any) -> str | None:  # pragma: no cover - abstract
        """``None`` when ``value`` satisfies the constraint, else why not."""
        raise NotImplementedError

    def to_cbor_obj(self) -> list[Any]:  # pragma: no cover - abstract
        """A canonical CBOR-ready form."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class KeyPrefix(Constraint):
    """The argument (a string or bytes key) must start with ``prefix``."""

    prefix: str = ""

    def violation(self, value: Any) -> str | None:
        """Why ``value`` is not under the prefix, if it is not."""
        if isinstance(value, bytes):
            ok = value.startswith(self.prefix.encode())
        elif isinstance(value, str):
            ok = value.startswith(self.prefix)
        else:
            return f"{self.param} must be a string or bytes key, got {type(value).__name__}"
        return None if ok else f"{self.param}={value!r} is not under prefix {self.prefix!r}"

    def to_cbor_obj(self) -> list[Any]:
        """``["prefix", param, prefix]``."""
        return ["prefix", self.param, self.prefix]


@dataclass(frozen=True, slots=True)
class IntRange(Constraint):
    """The integer argument must lie in ``[lo, hi]``."""

    lo: int = 0
    hi: int = 0

    def violation(self, value: Any) -> str | None:
        """Why ``value`` is out of range, if it is."""
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{self.param} must be an integer, got {type(value).__name__}"
        if self.lo <= value <= self.hi:
            return None
        return f"{self.param}={value} is outside [{self.lo}, {self.hi}]"

    def to_cbor_obj(self) -> list[Any]:
        """``["range", param, lo, hi]``."""
        return ["range", self.param, self.lo, self.hi]


@dataclass(frozen=True, slots=True)
class MaxBytes(Constraint):
    """The string/bytes argument must be at most ``limit`` bytes long."""

    limit: int = 0

    def violation(self, value: Any) -> str | None:
        """Why ``value`` is too long, if it is."""
        size = len(value.encode()) if isinstance(value, str) else len(value) if isinstance(
            value, bytes) else None
        if size is None:
            return f"{self.param} must be a string or bytes, got {type(value).__name__}"
        return None if size <= self.limit else f"{self.param} is {size} bytes, limit {self.limit}"

    def to_cbor_obj(self) -> list[Any]:
        """``["max_bytes", param, limit]``."""
        return ["max_bytes", self.param, self.limit]


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission to perform ``effect`` (``ops`` empty means every operation)."""

    effect: str
    ops: frozenset[str] = frozenset()
    constraints: tuple[Constraint, ...] = ()
    max_calls: int | None = None

    def to_cbor_obj(self) -> dict[str, Any]:
        """A canonical CBOR-ready form."""
        return {
            "effect": self.effect,
            "ops": sorted(self.ops),
            "constraints": [c.to_cbor_obj() for c in self.constraints],
            "max_calls": self.max_calls,
        }


@dataclass(frozen=True, slots=True)
class Policy:
    """A named, deny-by-default set of :class:`Grant`\\ s."""

    name: str
    grants: tuple[Grant, ...] = ()
    _index: dict[str, Grant] = field(init=False, default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Grants are kept sorted by effect so that equal policies compare equal.
        object.__setattr__(self, "grants", tuple(sorted(self.grants, key=lambda g: g.effect)))
        for g in self.grants:
            if g.effect in self._index:
                raise PolicyError(f"policy {self.name!r} grants {g.effect} twice")
            if g.max_calls is not None and g.max_calls < 0:
                raise PolicyError(f"policy {self.name!r}: {g.effect} max_calls is negative")
            _check_constraint_params(self.name, g)
            self._index[g.effect] = g

    @classmethod
    def allow(cls, name: str, *effects: str | Grant) -> Policy:
        """A policy granting each listed effect (a name grants all its operations)."""
        return cls(name, tuple(e if isinstance(e, Grant) else Grant(e) for e in effects))

    def grant_for(self, effect: str) -> Grant | None:
        """The grant for ``effect``, if any."""
        return self._index.get(effect)

    def allows(self, effect: str) -> bool:
        """Whether any operation of ``effect`` is granted."""
        return effect in self._index

    def check(
        self,
        effect: str,
        op: str,
        args: Sequence[Any],
        *,
        calls_so_far: int = 0,
        param_names: Sequence[str] | None = None,
    ) -> None:
        """Raise :class:`EffectDenied` unless ``effect.op(*args)`` is allowed.

        ``calls_so_far`` is how many calls of this effect the execution has
        already made (for ``max_calls``); ``param_names`` defaults to the
        standard signature of the effect.
        """
        grant = self._index.get(effect)
        if grant is None:
            raise EffectDenied(effect, op, self.name, f"{effect} is not granted (deny by default)")
        if grant.ops and op not in grant.ops:
            allowed = ", ".join(sorted(grant.ops))
            raise EffectDenied(effect, op, self.name, f"only {effect}.{{{allowed}}} are granted")
        if grant.max_calls is not None and calls_so_far >= grant.max_calls:
            raise EffectDenied(effect, op, self.name,
                               f"call limit reached ({grant.max_calls} calls of {effect})")
        if not grant.constraints:
            return
        if param_names is None and effect not in STANDARD_SIGNATURES:
            # Nothing says which argument is which: the constraints could not be
            # applied, and a check that cannot apply fails closed (deny by default).
            raise EffectDenied(effect, op, self.name,
                               f"{effect} is constrained, but its parameter names are unknown "
                               "(pass param_names)")
        names = tuple(param_names) if param_names is not None else tuple(
            STANDARD_SIGNATURES.get(effect, {}).get(op, ()))
        bound = dict(zip(names, args))
        for constraint in grant.constraints:
            if constraint.param not in bound:
                continue  # this operation does not take the constrained parameter
            why = constraint.violation(bound[constraint.param])
            if why is not None:
                raise EffectDenied(effect, op, self.name, why)

    def to_cbor_obj(self) -> dict[str, Any]:
        """A canonical CBOR-ready form (grants sorted by effect)."""
        return {
            "name": self.name,
            "grants": [g.to_cbor_obj() for g in self.grants],
        }

    @classmethod
    def from_cbor_obj(cls, obj: Any) -> Policy:
        """Inverse of :meth:`to_cbor_obj`, validating every field."""
        if not isinstance(obj, dict) or set(obj) != {"name", "grants"}:
            raise PolicyError("a policy is a map with exactly the keys 'name' and 'grants'")
        name, grants = obj["name"], obj["grants"]
        if not isinstance(name, str) or not isinstance(grants, list):
            raise PolicyError("policy 'name' must be a string and 'grants' a list")
        return cls(name, tuple(_grant_from(g, name) for g in grants))


def _check_constraint_params(policy: str, g: Grant) -> None:
    """A constraint must name a parameter of a granted operation (else it would fail open)."""
    sig = STANDARD_SIGNATURES.get(g.effect)
    if sig is None:
        return  # a non-standard effect: its parameter names are given to Policy.check
    ops = sorted(g.ops) if g.ops else sorted(sig)
    for op in ops:
        if op not in sig:
            raise PolicyError(f"policy {policy!r}: {g.effect} has no operation {op!r} "
                              f"(it has {', '.join(sorted(sig))})")
    params = {p for op in ops for p in sig[op]}
    for c in g.constraints:
        if c.param not in params:
            raise PolicyError(
                f"policy {policy!r}: constraint {type(c).__name__}({c.param!r}) on {g.effect} "
                f"names no parameter of {', '.join(f'{g.effect}.{o}' for o in ops)} "
                f"(parameters: {', '.join(sorted(params)) or 'none'})")


def _grant_from(obj: Any, policy: str) -> Grant:
    if not isinstance(obj, dict) or set(obj) != {"effect", "ops", "constraints", "max_calls"}:
        raise PolicyError(f"policy {policy!r}: a grant needs effect, ops, constraints, max_calls")
    effect, ops, constraints, max_calls = (obj["effect"], obj["ops"], obj["constraints"],
                                           obj["max_calls"])
    if not isinstance(effect, str) or not isinstance(ops, list) or not all(
            isinstance(o, str) for o in ops):
        raise PolicyError(f"policy {policy!r}: grant effect/ops must be strings")
    if max_calls is not None and (not isinstance(max_calls, int) or isinstance(max_calls, bool)):
        raise PolicyError(f"policy {policy!r}: {effect} max_calls must be an int or null")
    if not isinstance(constraints, list):
        raise PolicyError(f"policy {policy!r}: {effect} constraints must be a list")
    return Grant(effect, frozenset(ops), tuple(_constraint_from(c, policy) for c in constraints),
                 max_calls)


def _constraint_from(obj: Any, policy: str) -> Constraint:
    if not isinstance(obj, list) or len(obj) < 2 or not all(isinstance(x, str) for x in obj[:2]):
        raise PolicyError(f"policy {policy!r}: malformed constraint {obj!r}")
    kind, param, rest = obj[0], obj[1], obj[2:]
    if kind == "prefix" and len(rest) == 1 and isinstance(rest[0], str):
        return KeyPrefix(param, rest[0])
    if kind == "range" and len(rest) == 2 and all(isinstance(x, int) for x in rest):
        return IntRange(param, rest[0], rest[1])
    if kind == "max_bytes" and len(rest) == 1 and isinstance(rest[0], int):
        return MaxBytes(param, rest[0])
    raise PolicyError(f"policy {policy!r}: unknown or malformed constraint {obj!r}")


DENY_ALL = Policy("deny-all")
"""The default policy: no effect is granted."""
