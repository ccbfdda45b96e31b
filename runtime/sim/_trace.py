"""The trace recorder: every event of a simulated run, folded into one hash.

Each event is encoded canonically (a small tagged, length-prefixed encoding of
ints, strings, bytes, booleans, ``None``, tuples/lists and dataclasses by
field order) and fed to a running BLAKE2b-256.  Nothing is ever hashed through
``repr``, so object addresses and ``PYTHONHASHSEED`` cannot leak into the
hash: the same seed gives the same :attr:`TraceRecorder.trace_hash` in any
process.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import struct
from collections import deque
from collections.abc import Callable

from ._errors import SimError

__all__ = ["TraceRecorder", "TraceEvent", "canonical"]

TraceEvent = tuple[int, str, tuple[object, ...]]


_DC_CACHE: dict[type, tuple[bytes, tuple[str, ...]]] = {}

#: ``b"q"`` and a signed 64-bit big-endian int: the small-int leaf, packed in one call.
_Q = struct.Struct(">cq").pack
#: Encoded str leaves and event-kind prefixes (the same names recur on every event),
#: bounded so that a run with many distinct strings cannot grow them without end.
_STR_CACHE: dict[str, bytes] = {}
_KIND_CACHE: dict[str, bytes] = {}
_CACHE_MAX = 1 << 14
_SMALL = 1 << 62
#: ``len(fields)`` as four big-endian bytes, for the usual few fields.
_LEN4 = tuple(n.to_bytes(4, "big") for n in range(64))


def _str_leaf(s: str) -> bytes:
    raw = s.encode("utf-8")
    enc = b"s" + len(raw).to_bytes(4, "big") + raw
    if len(raw) <= 256:
        if len(_STR_CACHE) >= _CACHE_MAX:
            _STR_CACHE.clear()
        _STR_CACHE[s] = enc
    return enc


def _dataclass_info(t: type) -> tuple[bytes, tuple[str, ...]]:
    info = _DC_CACHE.get(t)
    if info is None:
        names = tuple(f.name for f in dataclasses.fields(t))
        qual = t.__qualname__.encode("utf-8")
        head = b"d" + len(names).to_bytes(4, "big") + b"s" + len(qual).to_bytes(4, "big") + qual
        info = _DC_CACHE[t] = (head, names)
    return info


def _encode(obj: object, out: list[bytes]) -> None:
    t = type(obj)
    if t is str:
        out.append(_STR_CACHE.get(obj) or _str_leaf(obj))  # type: ignore[call-overload, arg-type]
    elif t is int:
        n: int = obj  # type: ignore[assignment]
        if -_SMALL <= n < _SMALL:
            out.append(_Q(b"q", n))
        else:
            raw = n.to_bytes((n.bit_length() + 8) // 8, "big", signed=True)
            out.append(b"i" + len(raw).to_bytes(4, "big") + raw)
    elif t is tuple or t is list:
        seq: tuple[object, ...] | list[object] = obj  # type: ignore[assignment]
        out.append(b"l" + len(seq).to_bytes(4, "big"))
        _encode_items(seq, out)
    elif t is bytes:
        out.append(b"b" + len(obj).to_bytes(4, "big") + obj)  # type: ignore[arg-type, operator]
    elif obj is None:
        out.append(b"n")
    elif t is bool:
        out.append(b"T" if obj else b"F")
    elif t in _DC_CACHE or (dataclasses.is_dataclass(obj) and not isinstance(obj, type)):
        head, names = _dataclass_info(t)
        out.append(head)
        _encode_items([getattr(obj, name) for name in names], out)
    elif isinstance(obj, enum.Enum):
        out.append(b"e")
        _encode(type(obj).__qualname__, out)
        _encode(obj.name, out)
    elif isinstance(obj, BaseException):
        # Exceptions are recorded by type and arguments, never by repr.
        out.append(b"x")
        _encode(type(obj).__qualname__, out)
        _encode(tuple(a if _is_plain(a) else type(a).__qualname__ for a in obj.args), out)
    elif isinstance(obj, int):  # int subclasses (not bool, handled above)
        _encode(int(obj), out)
    elif isinstance(obj, str):
        _encode(str(obj), out)
    else:
        raise SimError(
            f"trace field of type {t.__qualname__} has no canonical encoding; "
            "record ints, str, bytes, tuples or dataclasses of those"
        )


def _encode_items(items: tuple[object, ...] | list[object], out: list[bytes]) -> None:
    """Encode a sequence; str and small-int leaves inline (same bytes as _encode)."""
    append = out.append
    strs = _STR_CACHE
    for item in items:
        t = type(item)
        if t is str:
            append(strs.get(item) or _str_leaf(item))  # type: ignore[call-overload, arg-type]
        elif t is int and -_SMALL <= item < _SMALL:  # type: ignore[operator]
            append(_Q(b"q", item))
        else:
            _encode(item, out)


def _is_plain(obj: object) -> bool:
    return obj is None or type(obj) in (int, str, bytes, bool)


def canonical(obj: object) -> bytes:
    """The canonical trace encoding of ``obj`` (stable across processes)."""
    out: list[bytes] = []
    _encode(obj, out)
    return b"".join(out)


class TraceRecorder:
    """Records simulation events and keeps a running hash of them.

    ``record(kind, *fields)`` stamps the event with the current virtual time.
    The last ``keep`` events are kept in memory so that a failing run can show
    what led to the failure; counts per kind feed the progress lines.
    """

    def __init__(
        self, now_ns: Callable[[], int], *, keep: int = 64, keep_all: bool = False
    ) -> None:
        self._now_ns = now_ns
        #: Every event, in order, when ``keep_all`` (``stele sim --trace``).
        self.all: list[TraceEvent] | None = [] if keep_all else None
        self._hash = hashlib.blake2b(digest_size=32)
        self._recent: deque[TraceEvent] = deque(maxlen=keep)
        self.counts: dict[str, int] = {}
        self.events = 0

    def record(self, kind: str, *fields: object) -> None:
        """Append one event (``kind`` and canonical-encodable ``fields``)."""
        now = self._now_ns()
        head = _KIND_CACHE.get(kind)
        if head is None:
            head = kind.encode("utf-8") + b"\x00l"
            if len(_KIND_CACHE) < _CACHE_MAX:
                _KIND_CACHE[kind] = head
        n = len(fields)
        out: list[bytes] = [now.to_bytes(8, "big"), head,
                            _LEN4[n] if n < 64 else n.to_bytes(4, "big")]
        if n:
            _encode_items(fields, out)
        self._hash.update(b"".join(out))
        event = (now, kind, fields)
        self._recent.append(event)
        if self.all is not None:
            self.all.append(event)
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        self.events += 1

    def count(self, kind: str) -> int:
        """How many events of ``kind`` were recorded."""
        return self.counts.get(kind, 0)

    @property
    def trace_hash(self) -> str:
        """Hex BLAKE2b-256 of every event so far; it identifies the run."""
        return self._hash.hexdigest()

    def recent(self) -> list[TraceEvent]:
        """The most recent events, oldest first."""
        return list(self._recent)
