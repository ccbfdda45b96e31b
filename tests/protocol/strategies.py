"""Hypothesis strategies shared by the protocol tests."""

from __future__ import annotations

from hypothesis import strategies as st

INT_MIN = -(2**64)
INT_MAX = 2**64 - 1

cbor_ints = st.one_of(
    st.integers(-1000, 1000),
    st.sampled_from([23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, INT_MAX, -24, -25, INT_MIN]),
    st.integers(INT_MIN, INT_MAX),
)
cbor_keys = st.one_of(cbor_ints, st.text(max_size=8), st.binary(max_size=8))
cbor_scalars = st.one_of(
    st.none(), st.booleans(), cbor_ints, st.binary(max_size=40), st.text(max_size=40)
)
cbor_values = st.recursive(
    cbor_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(cbor_keys, inner, max_size=6),
    ),
    max_leaves=30,
)
"""Plain values in Stele's CBOR data model (lists, not tuples: that is what decode returns)."""


# -- messages ---------------------------------------------------------------

import enum  # noqa: E402
import importlib  # noqa: E402
import pkgutil  # noqa: E402
import types  # noqa: E402
import typing  # noqa: E402
from typing import Any  # noqa: E402

from stele.protocol import ALGORITHMS, Digest, Message, registered_messages  # noqa: E402

digests = st.builds(Digest, st.sampled_from(sorted(ALGORITHMS)), st.binary(min_size=32, max_size=32))


def import_all_stele_modules() -> list[str]:
    """Import every stele module (so every message class is registered); returns failures."""
    failures = []
    for root in ("stele", "stele.actors", "stele.protocol"):
        pkg = importlib.import_module(root)
        for info in pkgutil.walk_packages(pkg.__path__, root + "."):
            if info.name.endswith("__main__"):
                continue
            try:
                importlib.import_module(info.name)
            except Exception as exc:  # another area's module mid-development
                failures.append(f"{info.name}: {type(exc).__name__}: {exc}")
    return failures


def _registered_strategy(cls: type) -> st.SearchStrategy[Any] | None:
    """A strategy the message's author registered with ``st.register_type_strategy``, if any."""
    try:
        from hypothesis.strategies._internal.types import _global_type_lookup
    except ImportError:  # pragma: no cover - hypothesis internals moved
        return None
    if cls in _global_type_lookup:
        return st.from_type(cls)
    return None


def _try_build(cls: type) -> Any:
    def build(kwargs: dict[str, Any]) -> Any:
        try:
            return cls(**kwargs)
        except Exception:  # the class's own __post_init__ refused the values
            return None

    return build


def message_strategy(cls: type[Message]) -> st.SearchStrategy[Message]:
    """Instances of one registered message class, built from its field annotations.

    A message author whose ``__post_init__`` rejects most random values can
    register a better strategy with ``hypothesis.strategies.register_type_strategy``.
    """
    registered = _registered_strategy(cls)
    if registered is not None:
        return registered
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {name: _deferred(hints[name]) for name in cls.__stele_fields__}
    return st.fixed_dictionaries(fields).map(_try_build(cls)).filter(lambda m: m is not None)


def _deferred(hint: Any) -> st.SearchStrategy[Any]:
    return st.deferred(lambda: value_strategy(hint))


def value_strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values matching one message-field annotation (mirrors the decoder's converters)."""
    simple: dict[Any, st.SearchStrategy[Any]] = {
        # Small non-negative ints are favoured: many messages check ranges in __post_init__.
        int: st.one_of(st.integers(0, 64), st.integers(0, 1024), cbor_ints),
        bool: st.booleans(),
        str: st.text(max_size=20),
        bytes: st.binary(max_size=20),
        type(None): st.none(),
        None: st.none(),
        Digest: digests,
        object: cbor_values,
        Any: cbor_values,
    }
    try:
        if hint in simple:
            return simple[hint]
    except TypeError:
        pass
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        return value_strategy(args[0])
    if isinstance(hint, typing.NewType):
        return value_strategy(hint.__supertype__)
    if origin is typing.Union or origin is types.UnionType:
        return st.one_of([value_strategy(a) for a in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(value_strategy(args[0]), max_size=3).map(tuple)
        if args == ((),):
            return st.just(())
        return st.tuples(*[value_strategy(a) for a in args])
    if origin is list:
        return st.lists(value_strategy(args[0]) if args else cbor_values, max_size=3)
    if origin is dict:
        k, v = args if args else (Any, Any)
        keys = cbor_keys if k in (Any, object) else value_strategy(k)
        return st.dictionaries(keys, value_strategy(v), max_size=3)
    if hint is tuple:
        return st.lists(cbor_values, max_size=3).map(tuple)
    if hint is list:
        return st.lists(cbor_values, max_size=3)
    if hint is dict:
        return st.dictionaries(cbor_keys, cbor_values, max_size=3)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if isinstance(hint, type) and issubclass(hint, Message):
        if hint in registered_messages():
            return message_strategy(hint)
        subs = [c for c in registered_messages() if issubclass(c, hint) and c is not hint]
        # Small, leaf-ish bodies keep nested envelopes finite.
        subs.sort(key=lambda c: (len(c.__stele_fields__), c.__stele_tag__))
        return st.sampled_from(subs[:8]).flatmap(message_strategy)
    raise NotImplementedError(f"no strategy for annotation {hint!r}")
