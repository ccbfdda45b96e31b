"""Canonical CBOR: RFC 8949 §4.2.1 core deterministic encoding, and a strict decoder.

Everything Stele hashes or sends is encoded here, so one value has exactly
one encoding and its digest is stable.  The data model is deliberately small:

* ``int`` in ``[-2**64, 2**64 - 1]`` (major types 0/1, no bignum tags),
* ``bytes``, ``str`` (UTF-8), ``bool``, ``None``,
* ``list``/``tuple`` (arrays; both decode as ``list``),
* ``dict`` with ``int``/``str``/``bytes`` keys (maps),
* :class:`~stele.protocol.Digest` (its binary multihash form, a byte string),
* registered message instances (``[tag, *fields]``, see :mod:`._messages`),
* ``enum.Enum`` members (their ``value``), subclasses of int/str/bytes, and
  integer-like scalars with ``__index__`` (numpy ints) -- all as plain values.

Floats, tags, ``undefined``, other simple values and indefinite lengths are
never produced and never accepted.

Encoding follows §4.2.1: shortest argument forms, definite lengths, and map
keys sorted by the bytewise lexicographic order of their encodings.  (cbor2's
``canonical=True`` sorts length-first, the older RFC 7049 rule, so the encoder
is our own: a small recursive Python function that inlines common scalars.)

Decoding is two steps: :func:`check_canonical` walks the bytes once
(linear time, an explicit stack bounded by ``max_depth``, no recursion) and
rejects anything that is not the canonical encoding of an allowed value,
naming the byte offset; only then does cbor2's C decoder build the objects.
The check runs first, so cbor2 never sees hostile input (huge declared
lengths, deep nesting).  Accepted bytes satisfy ``encode(decode(b)) == b``.
"""

from __future__ import annotations

import enum
from typing import Any, Final

import cbor2

from ._digest import Digest
from ._errors import DecodeError, EncodeError

__all__ = ["encode", "decode", "check_canonical", "MAX_DEPTH", "MAX_SIZE", "DEPTH_CEILING"]

MAX_DEPTH: Final = 64
"""Default limit on nested arrays/maps (a top-level array is depth 1)."""

MAX_SIZE: Final = 16 * 1024 * 1024
"""Default limit on the size of one encoded value, in bytes (16 MiB)."""

DEPTH_CEILING: Final = 1000
"""Largest ``max_depth`` accepted: cbor2's C decoder recurses once per level."""

_INT_MIN: Final = -(2**64)
_INT_MAX: Final = 2**64 - 1

_SMALL: Final = tuple(tuple(bytes(((major << 5) | n,)) for n in range(24)) for major in range(8))
_FALSE: Final = b"\xf4"
_TRUE: Final = b"\xf5"
_NULL: Final = b"\xf6"


def _head(major: int, n: int) -> bytes:
    """The shortest header for major type ``major`` with argument ``n`` (0 <= n < 2**64)."""
    if n < 24:
        return _SMALL[major][n]
    mt = major << 5
    if n < 0x100:
        return bytes((mt | 24, n))
    if n < 0x10000:
        return bytes((mt | 25, n >> 8, n & 0xFF))
    if n < 0x100000000:
        return bytes((mt | 26,)) + n.to_bytes(4, "big")
    return bytes((mt | 27,)) + n.to_bytes(8, "big")


def _int(n: int) -> bytes:
    if n >= 0:
        if n > _INT_MAX:
            raise EncodeError(f"int {n} is above the CBOR maximum 2**64-1")
        return _head(0, n)
    if n < _INT_MIN:
        raise EncodeError(f"int {n} is below the CBOR minimum -2**64")
    return _head(1, -1 - n)


def _key(k: Any) -> bytes:
    """Encode a map key (int, str or bytes only)."""
    t = type(k)
    if t is str:
        out = bytearray()
        _str(k, out)
        return bytes(out)
    if t is int:
        return _int(k)
    if t is bytes:
        kb: bytes = k
        return _head(2, len(kb)) + kb
    if isinstance(k, enum.Enum):
        return _key(k.value)
    if isinstance(k, bool) or not isinstance(k, (int, str, bytes)):
        raise EncodeError(f"map key {k!r} of type {t.__name__}: keys must be int, str or bytes")
    if isinstance(k, int):
        return _int(int.__index__(k))
    if isinstance(k, str):
        return _key(str.__str__(k))
    return _key(bytes(k))


def _enc(obj: Any, out: bytearray, depth: int) -> None:
    """Append the canonical encoding of ``obj`` to ``out``; ``depth`` is the remaining budget.

    Arrays and message fields inline the common scalars (small ints, str,
    bytes) instead of recursing.
    """
    t = type(obj)
    if t is str:
        _str(obj, out)
    elif t is int:
        out += _int(obj)
    elif t is bytes:
        out += _head(2, len(obj))
        out += obj
    elif t is list or t is tuple:
        _seq(obj, None, out, depth)
    elif t is dict:
        if depth <= 0:
            raise EncodeError("nesting is deeper than the limit")
        items = sorted([(_key(k), v) for k, v in obj.items()], key=_first)
        out += _head(5, len(items))
        for kb, v in items:
            out += kb
            try:
                _enc(v, out, depth - 1)
            except EncodeError as exc:
                raise EncodeError(exc.reason, f"[{_show_key(kb)}]{exc.path}") from None
    elif obj is None:
        out += _NULL
    elif obj is True:
        out += _TRUE
    elif obj is False:
        out += _FALSE
    elif t is Digest:
        b = obj.binary
        out += _head(2, len(b))
        out += b
    else:
        fields = getattr(t, "__stele_fields__", None)
        if fields is not None:
            _seq([getattr(obj, name) for name in fields], t, out, depth)
        elif isinstance(obj, enum.Enum):
            _enc(obj.value, out, depth)
        elif isinstance(obj, float):
            raise EncodeError(f"float {obj!r}: floats are not allowed in canonical data")
        elif isinstance(obj, int):
            out += _int(int.__index__(obj))
        elif isinstance(obj, str):
            _str(str.__str__(obj), out)
        elif isinstance(obj, (bytes, bytearray, memoryview)):
            _enc(bytes(obj), out, depth)
        elif isinstance(obj, (list, tuple)):
            _enc(list(obj), out, depth)
        elif isinstance(obj, dict):
            _enc(dict(obj), out, depth)
        elif hasattr(t, "__index__"):  # integer-like scalars, e.g. numpy.uint64
            out += _int(obj.__index__())
        else:
            raise EncodeError(f"value of type {t.__qualname__} is not encodable")


def _str(s: str, out: bytearray) -> None:
    try:
        b = s.encode()
    except UnicodeEncodeError as exc:
        raise EncodeError(f"str is not valid UTF-8 ({exc.reason} at index {exc.start})") from None
    n = len(b)
    out += _SMALL[3][n] if n < 24 else _head(3, n)
    out += b


def _seq(items: Any, msg: type | None, out: bytearray, depth: int) -> None:
    """Encode an array (``msg`` is None) or a message ``[tag, *items]`` (``msg`` its class)."""
    if depth <= 0:
        raise EncodeError("nesting is deeper than the limit")
    n = len(items)
    if msg is not None:
        n += 1
    out += _SMALL[4][n] if n < 24 else _head(4, n)
    if msg is not None:
        out += _head(0, msg.__stele_tag__)  # type: ignore[attr-defined]
    inner = depth - 1
    i = -1
    try:
        for i, item in enumerate(items):
            it = type(item)
            if it is int:
                if 0 <= item < 24:
                    out.append(item)
                else:
                    out += _int(item)
            elif it is str:
                _str(item, out)
            elif it is bytes:
                m = len(item)
                out += _SMALL[2][m] if m < 24 else _head(2, m)
                out += item
            else:
                _enc(item, out, inner)
    except EncodeError as exc:
        names: tuple[str, ...] = getattr(msg, "__stele_fields__", ())
        where = f".{names[i]}" if names else f"[{i}]"
        raise EncodeError(exc.reason, f"{where}{exc.path}") from None


def _first(pair: tuple[bytes, object]) -> bytes:
    return pair[0]


def _show_key(kb: bytes) -> str:
    try:
        return repr(cbor2.loads(kb))
    except Exception:  # pragma: no cover - our own key encodings always load
        return kb.hex()


def encode(obj: object, *, max_depth: int = MAX_DEPTH) -> bytes:
    """Encode ``obj`` as canonical CBOR (RFC 8949 §4.2.1); the only encoding Stele hashes or sends.

    Raises :class:`EncodeError` naming the path of the bad value (floats,
    out-of-range ints, unsupported types, non-int/str/bytes map keys, nesting
    deeper than ``max_depth``).
    """
    out = bytearray()
    try:
        _enc(obj, out, max_depth)
    except RecursionError:
        raise EncodeError(f"nesting is too deep to encode (limit {max_depth})") from None
    return bytes(out)


def _fail(reason: str, offset: int) -> DecodeError:
    return DecodeError(reason, offset)


# Initial bytes of items that need few checks: 1 = complete in one byte (small
# ints, false/true/null), 2 = a byte string shorter than 24 bytes, 3 = an int
# with a one-byte argument (canonical iff that byte is >= 24), 4 = a text
# string shorter than 24 bytes (no UTF-8 check needed if it is ASCII), 5 = a
# byte string with a one-byte length, 6 = an int with a two-byte argument.
_FAST: Final = bytes(
    1 if b < 0x18 or 0x20 <= b < 0x38 or 0xF4 <= b <= 0xF6
    else 2 if 0x40 <= b < 0x58
    else 3 if b in (0x18, 0x38)
    else 4 if 0x60 <= b < 0x78
    else 5 if b == 0x58
    else 6 if b in (0x19, 0x39)
    else 0
    for b in range(256)
)

_MAJOR_NAMES: Final = ("uint", "negint", "bytes", "text", "array", "map", "tag", "simple/float")


def check_canonical(data: bytes, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`DecodeError` unless ``data`` is exactly one canonical CBOR item Stele allows.

    One linear pass with an explicit stack (never deeper than ``max_depth``).
    Rejected: truncation, trailing bytes, non-shortest arguments, indefinite
    lengths, reserved additional-information values, tags, floats,
    ``undefined`` and simple values other than false/true/null, invalid UTF-8,
    map keys that are not int/str/bytes, unsorted or duplicate map keys,
    nesting deeper than ``max_depth``.
    """
    n = len(data)
    pos = 0
    remaining = 1  # items still to read in the current container
    is_map = False
    key_start = -1  # span of the previous key in the current map
    key_end = -1
    stack: list[tuple[int, bool, int, int]] = []
    while True:
        if remaining == 0:
            if not stack:
                break
            remaining, is_map, key_start, key_end = stack.pop()
            continue
        if pos >= n:
            raise _fail("truncated: expected another data item", pos)
        ib = data[pos]
        if not is_map or remaining & 1:
            # Fast path (not a map key: keys are the even-numbered map items).
            kind = _FAST[ib]
            if kind == 1:
                pos += 1
                remaining -= 1
                continue
            if kind == 2:
                end = pos + 1 + (ib & 31)
                if end <= n:
                    pos = end
                    remaining -= 1
                    continue
            elif kind == 3:
                if pos + 1 < n and data[pos + 1] >= 24:
                    pos += 2
                    remaining -= 1
                    continue
            elif kind == 4:
                end = pos + 1 + (ib & 31)
                if end <= n and data[pos + 1 : end].isascii():
                    pos = end
                    remaining -= 1
                    continue
            elif kind == 6:
                if pos + 2 < n and data[pos + 1]:  # 2-byte argument >= 256
                    pos += 3
                    remaining -= 1
                    continue
            elif kind == 5:
                if pos + 1 < n and data[pos + 1] >= 24:
                    end = pos + 2 + data[pos + 1]
                    if end <= n:
                        pos = end
                        remaining -= 1
                        continue
        start = pos
        pos += 1
        major = ib >> 5
        ai = ib & 31
        remaining -= 1
        is_key = is_map and remaining & 1
        if major == 7:
            if 20 <= ai <= 22 and not is_key:
                continue
            if is_key:
                raise _fail("map key must be int, str or bytes", start)
            if ai == 23:
                raise _fail("undefined is not allowed", start)
            if 25 <= ai <= 27:
                raise _fail("floats are not allowed in canonical data", start)
            if ai == 31:
                raise _fail("unexpected break (indefinite lengths are not allowed)", start)
            raise _fail(f"simple value (initial byte 0x{ib:02x}) is not allowed", start)
        if major == 6:
            raise _fail("tags are not allowed", start)
        if ai < 24:
            arg = ai
        elif ai == 24:
            if pos + 1 > n:
                raise _fail("truncated argument", start)
            arg = data[pos]
            pos += 1
            if arg < 24:
                raise _fail(f"non-shortest argument: {arg} encoded in 1 extra byte", start)
        elif ai == 25:
            if pos + 2 > n:
                raise _fail("truncated argument", start)
            arg = (data[pos] << 8) | data[pos + 1]
            pos += 2
            if arg < 0x100:
                raise _fail(f"non-shortest argument: {arg} encoded in 2 extra bytes", start)
        elif ai == 26:
            if pos + 4 > n:
                raise _fail("truncated argument", start)
            arg = int.from_bytes(data[pos : pos + 4], "big")
            pos += 4
            if arg < 0x10000:
                raise _fail(f"non-shortest argument: {arg} encoded in 4 extra bytes", start)
        elif ai == 27:
            if pos + 8 > n:
                raise _fail("truncated argument", start)
            arg = int.from_bytes(data[pos : pos + 8], "big")
            pos += 8
            if arg < 0x100000000:
                raise _fail(f"non-shortest argument: {arg} encoded in 8 extra bytes", start)
        elif ai == 31:
            raise _fail(f"indefinite-length {_MAJOR_NAMES[major]} is not allowed", start)
        else:
            raise _fail(f"reserved additional information {ai}", start)
        if is_key:
            if major > 3:
                raise _fail("map key must be int, str or bytes", start)
            end = pos + arg if major >= 2 else pos
            if end > n:
                raise _fail(f"truncated: {_MAJOR_NAMES[major]} of length {arg}", start)
            if key_start >= 0:
                prev = data[key_start:key_end]
                cur = data[start:end]
                if cur == prev:
                    raise _fail("duplicate map key", start)
                if cur < prev:
                    raise _fail("map keys are not in canonical (bytewise) order", start)
            key_start = start
            key_end = end
        if major <= 1:
            continue
        if major <= 3:
            if arg > n - pos:
                raise _fail(
                    f"truncated: {_MAJOR_NAMES[major]} of length {arg} "
                    f"but only {n - pos} bytes remain",
                    start,
                )
            if major == 3:
                try:
                    data[pos : pos + arg].decode()
                except UnicodeDecodeError as exc:
                    raise _fail(f"invalid UTF-8 in text string ({exc.reason})", pos + exc.start) from None
            pos += arg
            continue
        count = arg if major == 4 else 2 * arg
        if len(stack) >= max_depth:
            raise _fail(f"nesting is deeper than the limit {max_depth}", start)
        if count > n - pos:
            raise _fail(
                f"truncated: {_MAJOR_NAMES[major]} of {arg} entries but only {n - pos} bytes remain",
                start,
            )
        if count:
            stack.append((remaining, is_map, key_start, key_end))
            remaining = count
            is_map = major == 5
            key_start = key_end = -1
    if pos != n:
        raise _fail(f"{n - pos} trailing bytes after the data item", pos)


def decode(data: bytes, *, max_depth: int = MAX_DEPTH, max_size: int = MAX_SIZE) -> object:
    """Strictly decode one canonical CBOR item (for hashed data and everything received).

    Arrays decode as ``list``, maps as ``dict``; digests and messages arrive
    as their plain forms (bytes, ``[tag, ...]``) -- use
    :func:`~stele.protocol.decode_message` for typed messages.  Raises
    :class:`DecodeError` with the byte offset of the first problem; input
    larger than ``max_size`` is refused before it is read.
    """
    if type(data) is not bytes:
        data = bytes(data)
    if not 0 <= max_depth <= DEPTH_CEILING:
        raise ValueError(f"max_depth={max_depth} is outside [0, {DEPTH_CEILING}]")
    if len(data) > max_size:
        raise DecodeError(f"input of {len(data)} bytes exceeds the limit {max_size}", 0)
    check_canonical(data, max_depth=max_depth)
    try:
        return cbor2.loads(data, max_depth=max_depth + 1)
    except Exception as exc:  # pragma: no cover - check_canonical accepted it
        raise DecodeError(f"cbor2 rejected checked input: {exc}", 0) from None
