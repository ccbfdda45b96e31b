"""The Fiat–Shamir transcript: a domain-separated hash chain over BLAKE2b or SHA-256.

Why: every interactive protocol here (sum-check, the commitment's queries) is
made non-interactive by deriving each verifier challenge from a hash of
everything said before it.  Prover and verifier run the same sequence of
``absorb_*`` / ``challenge_*`` calls with the same labels and get the same
challenges; any difference in a message, a label or the order changes every
later challenge.

Construction
------------
The transcript keeps a 32-byte state ``s``.  It starts as
``H("stele.transcript.v1" || alg || protocol_label)``.  Every operation is
framed unambiguously (operation byte, length-prefixed label, length-prefixed
payload) and chained: ``s <- H(s || op || len(label) || label || len(data) || data)``.

* ``absorb_bytes(label, data)``: op ``0x01``.
* ``absorb_base(label, values)``: op ``0x02``; each value as 4 bytes
  little-endian (values must be canonical, < P).
* ``absorb_ext(label, values)``: op ``0x03``; each element as its four
  coefficients, 16 bytes little-endian.
* Squeezing (op ``0x10``): the state is first advanced with the label and the
  number of bytes requested; the output is the stream
  ``H(s || 0x11 || counter_le64)`` for counter = 0, 1, ...; the state is then
  advanced again over the output length so two squeezes never overlap.

Challenges have **no modular bias**: field elements come from 32-bit words
with the top bit cleared, rejected when >= P (acceptance P/2^31 ~ 93.75%), so
every accepted word is exactly uniform in [0, P) if H is a random oracle.
Indices below a bound use the same rejection on the smallest covering power
of two.  Extension challenges are four independent base challenges.

Everything is deterministic: the same calls give the same bytes on every
machine (the hash functions are from :mod:`hashlib`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

from ._errors import InvalidParameters
from ._field import P, U64, Ext

__all__ = ["Transcript", "HashName"]

HashName = Literal["blake2b", "sha256"]

_OP_BYTES = b"\x01"
_OP_BASE = b"\x02"
_OP_EXT = b"\x03"
_OP_SQUEEZE = b"\x10"
_OP_STREAM = b"\x11"
_OP_AFTER = b"\x12"
_OP_FORK = b"\x20"


def _label_bytes(label: str | bytes) -> bytes:
    return label.encode("utf-8") if isinstance(label, str) else bytes(label)


def _frame(op: bytes, label: bytes, data: bytes) -> bytes:
    return op + len(label).to_bytes(8, "little") + label + len(data).to_bytes(8, "little") + data


class Transcript:
    """A Fiat–Shamir transcript (see the module docstring for the exact construction).

    ``Transcript("stele.sumcheck.v1")`` starts one for a protocol; both sides
    must use the same label and the same hash.  Instances are mutable; use
    :meth:`copy` to branch.
    """

    __slots__ = ("_hash", "_state", "_label")

    def __init__(self, protocol_label: str | bytes, *, hash: HashName = "blake2b") -> None:
        if hash not in ("blake2b", "sha256"):
            raise InvalidParameters("hash", hash, "'blake2b' or 'sha256'")
        self._hash: HashName = hash
        self._label = _label_bytes(protocol_label)
        self._state = self._h(b"stele.transcript.v1" + _frame(b"\x00", hash.encode(), self._label))

    # ------------------------------------------------------------------ hashing
    def _h(self, data: bytes) -> bytes:
        if self._hash == "blake2b":
            return hashlib.blake2b(data, digest_size=32).digest()
        return hashlib.sha256(data).digest()

    def _advance(self, op: bytes, label: str | bytes, data: bytes) -> None:
        self._state = self._h(self._state + _frame(op, _label_bytes(label), data))

    @property
    def hash_name(self) -> HashName:
        """The hash function in use."""
        return self._hash

    @property
    def protocol_label(self) -> bytes:
        """The label given at construction."""
        return self._label

    def state(self) -> bytes:
        """The current 32-byte chaining state (equal states => equal futures)."""
        return self._state

    def copy(self) -> Transcript:
        """An independent transcript with the same state."""
        other = Transcript.__new__(Transcript)
        other._hash = self._hash
        other._label = self._label
        other._state = self._state
        return other

    def fork(self, label: str | bytes) -> Transcript:
        """A copy domain-separated by ``label`` (this transcript is not changed)."""
        other = self.copy()
        other._advance(_OP_FORK, label, b"")
        return other

    # ------------------------------------------------------------------ absorbing
    def absorb_bytes(self, label: str | bytes, data: bytes) -> None:
        """Absorb raw bytes under ``label``."""
        self._advance(_OP_BYTES, label, bytes(data))

    def absorb_base(self, label: str | bytes, values: int | Iterable[int] | U64) -> None:
        """Absorb one base element or a sequence/array of them (canonical, < P)."""
        if isinstance(values, np.ndarray):
            arr = np.asarray(values).reshape(-1)
        elif isinstance(values, int):
            arr = np.array([values], dtype=object)
        else:
            arr = np.array(list(values), dtype=object)
        if arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if lo < 0 or hi >= P:
                raise InvalidParameters(f"{_label_bytes(label)!r}", lo if lo < 0 else hi, f"base elements in [0, {P})")
        data = arr.astype(np.uint64).astype("<u4").tobytes()
        self._advance(_OP_BASE, label, data)

    def absorb_ext(self, label: str | bytes, values: Ext | Sequence[Ext] | U64) -> None:
        """Absorb one extension element (a 4-tuple), a sequence of them, or an (n, 4) array."""
        if isinstance(values, np.ndarray):
            arr = np.asarray(values).reshape(-1)
            if np.asarray(values).shape[-1] != 4:
                raise InvalidParameters("values.shape", np.asarray(values).shape, "(n, 4)")
        elif isinstance(values, tuple) and len(values) == 4 and all(isinstance(v, int) for v in values):
            arr = np.array(values, dtype=object)
        else:
            rows: list[object] = list(values)
            flat: list[int] = []
            for i, row in enumerate(rows):
                if not isinstance(row, tuple) or len(row) != 4:
                    raise InvalidParameters(f"values[{i}]", row, "a 4-tuple of ints")
                flat.extend(int(c) for c in row)
            arr = np.array(flat, dtype=object)
        if arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if lo < 0 or hi >= P:
                raise InvalidParameters(f"{_label_bytes(label)!r}", lo if lo < 0 else hi, f"coefficients in [0, {P})")
        data = arr.astype(np.uint64).astype("<u4").tobytes()
        self._advance(_OP_EXT, label, data)

    # ------------------------------------------------------------------ squeezing
    def challenge_bytes(self, label: str | bytes, n: int) -> bytes:
        """``n`` pseudo-random bytes bound to everything absorbed so far."""
        if n < 0:
            raise InvalidParameters("n", n, ">= 0")
        self._advance(_OP_SQUEEZE, label, n.to_bytes(8, "little"))
        out = bytearray()
        counter = 0
        while len(out) < n:
            out += self._h(self._state + _OP_STREAM + counter.to_bytes(8, "little"))
            counter += 1
        self._advance(_OP_AFTER, label, counter.to_bytes(8, "little"))
        return bytes(out[:n])

    def _words_below(self, label: str | bytes, count: int, bits: int, bound: int) -> list[int]:
        """``count`` uniform ints in [0, bound) by rejection on ``bits``-bit words."""
        mask = (1 << bits) - 1
        out: list[int] = []
        attempt = 0
        while len(out) < count:
            need = count - len(out)
            # Ask for enough words that one round almost always suffices.
            words = need + need // 4 + 8
            raw = self.challenge_bytes(_label_bytes(label) + b"#" + str(attempt).encode(), 4 * words)
            for i in range(words):
                w = int.from_bytes(raw[4 * i : 4 * i + 4], "little") & mask
                if w < bound:
                    out.append(w)
                    if len(out) == count:
                        break
            attempt += 1
        return out

    def challenge_base(self, label: str | bytes) -> int:
        """One uniform base element."""
        return self._words_below(label, 1, 31, P)[0]

    def challenge_bases(self, label: str | bytes, n: int) -> U64:
        """``n`` uniform base elements as a ``uint64`` array."""
        return np.array(self._words_below(label, n, 31, P), dtype=np.uint64)

    def challenge_ext(self, label: str | bytes) -> Ext:
        """One uniform extension element."""
        a, b, c, d = self._words_below(label, 4, 31, P)
        return (a, b, c, d)

    def challenge_exts(self, label: str | bytes, n: int) -> list[Ext]:
        """``n`` uniform extension elements."""
        w = self._words_below(label, 4 * n, 31, P)
        return [(w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]) for i in range(n)]

    def challenge_index(self, label: str | bytes, bound: int) -> int:
        """One uniform index in [0, bound), 1 <= bound <= 2^32."""
        return self.challenge_indices(label, 1, bound)[0]

    def challenge_indices(self, label: str | bytes, count: int, bound: int) -> list[int]:
        """``count`` independent uniform indices in [0, bound) (with repetition)."""
        if not 1 <= bound <= 2**32:
            raise InvalidParameters("bound", bound, "in [1, 2^32]")
        if count < 0:
            raise InvalidParameters("count", count, ">= 0")
        bits = max(0, (bound - 1).bit_length())
        return self._words_below(label, count, bits, bound)
