"""TEL values <-> canonical CBOR objects (lossless for every first-order value).

Effect journals and memoized results store values as canonical CBOR.  TEL
lists and tuples are both Python tuples, so both become CBOR arrays and come
back as tuples; ``Some(x)`` becomes the one-entry map ``{"s": x}`` (TEL has no
maps, so this is unambiguous); ``None`` (an absent option) stays ``None``.
Closures never cross to the host and are refused.
"""

from __future__ import annotations

from typing import Any

from ...tel import Closure, Some
from ._errors import SandboxError

__all__ = ["value_to_cbor", "value_from_cbor", "UnencodableValue"]


class UnencodableValue(SandboxError):
    """A value (a closure) that has no CBOR form, so it can be neither journaled nor cached."""


def value_to_cbor(value: Any) -> Any:
    """The CBOR-ready form of a TEL value (see the module docstring)."""
    if isinstance(value, tuple):
        return [value_to_cbor(v) for v in value]
    if isinstance(value, Some):
        return {"s": value_to_cbor(value.value)}
    if isinstance(value, Closure):
        raise UnencodableValue("a function value has no CBOR form")
    return value


def value_from_cbor(obj: Any) -> Any:
    """Inverse of :func:`value_to_cbor`."""
    if isinstance(obj, list):
        return tuple(value_from_cbor(v) for v in obj)
    if isinstance(obj, dict):
        return Some(value_from_cbor(obj["s"]))
    return obj
