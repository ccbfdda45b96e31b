"""Strict readers for proof objects decoded from canonical CBOR.

A decoded proof is untrusted: every helper here checks one value's type,
length or range and raises :class:`MalformedProof` naming the field (a
dotted path) and what was wrong, so that decoding a hostile proof can fail
only in that one typed way.  Field elements travel as ints, vectors as
packed little-endian ``uint32`` words (an extension element is four words,
lowest coefficient first).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._errors import MalformedProof
from ._field import P, U64, Ext

__all__ = [
    "read_map",
    "read_int",
    "read_bytes",
    "read_list",
    "read_base_vector",
    "read_ext_vector",
    "read_ext",
    "pack_base",
    "pack_ext",
]


def read_map(obj: object, keys: frozenset[str], field: str) -> Mapping[str, object]:
    """``obj`` as a map with exactly the string ``keys``."""
    if not isinstance(obj, dict):
        raise MalformedProof(field, f"expected a map, got {type(obj).__name__}")
    got = set(obj)
    if got != keys:
        missing = sorted(keys - {k for k in got if isinstance(k, str)})
        extra = sorted(repr(k) for k in got - keys)
        raise MalformedProof(field, f"keys differ: missing {missing}, unexpected {extra}")
    return obj


def read_int(obj: object, lo: int, hi: int, field: str) -> int:
    """``obj`` as an int in ``[lo, hi]`` (bools are not ints here)."""
    if not isinstance(obj, int) or isinstance(obj, bool):
        raise MalformedProof(field, f"expected an int, got {type(obj).__name__}")
    if not lo <= obj <= hi:
        raise MalformedProof(field, f"{obj} is outside [{lo}, {hi}]")
    return obj


def read_bytes(obj: object, length: int | None, field: str) -> bytes:
    """``obj`` as a byte string, of exactly ``length`` bytes when given."""
    if not isinstance(obj, bytes):
        raise MalformedProof(field, f"expected bytes, got {type(obj).__name__}")
    if length is not None and len(obj) != length:
        raise MalformedProof(field, f"{len(obj)} bytes, expected exactly {length}")
    return obj


def read_list(obj: object, lo: int, hi: int, field: str) -> list[object]:
    """``obj`` as a list with a length in ``[lo, hi]``."""
    if not isinstance(obj, list):
        raise MalformedProof(field, f"expected a list, got {type(obj).__name__}")
    if not lo <= len(obj) <= hi:
        raise MalformedProof(field, f"{len(obj)} items, expected between {lo} and {hi}")
    return obj


def _words(obj: object, count: int, field: str) -> U64:
    data = read_bytes(obj, 4 * count, field)
    arr = np.frombuffer(data, dtype="<u4").astype(np.uint64)
    if arr.size and int(arr.max()) >= P:
        bad = int(np.flatnonzero(arr >= P)[0])
        raise MalformedProof(f"{field}[{bad}]", f"{int(arr[bad])} is not a canonical element (< {P})")
    return arr


def read_base_vector(obj: object, count: int, field: str) -> U64:
    """Packed bytes of exactly ``count`` canonical base elements."""
    return _words(obj, count, field)


def read_ext_vector(obj: object, count: int, field: str) -> U64:
    """Packed bytes of exactly ``count`` extension elements, as ``(count, 4)``."""
    return _words(obj, 4 * count, field).reshape(count, 4)


def read_ext(obj: object, field: str) -> Ext:
    """A list of four canonical ints: one extension element."""
    items = read_list(obj, 4, 4, field)
    a, b, c, d = (read_int(x, 0, P - 1, f"{field}[{i}]") for i, x in enumerate(items))
    return (a, b, c, d)


def pack_base(values: U64) -> bytes:
    """Canonical base elements as packed little-endian ``uint32`` bytes."""
    return np.asarray(values, dtype=np.uint64).astype("<u4").tobytes()


def pack_ext(values: U64) -> bytes:
    """An ``(n, 4)`` extension vector as packed bytes (4 words per element)."""
    return np.asarray(values, dtype=np.uint64).reshape(-1).astype("<u4").tobytes()
