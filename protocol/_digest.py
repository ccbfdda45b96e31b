"""Self-describing digests: algorithm + bytes, printable, prefix-resolvable.

A :class:`Digest` names its algorithm, so stored objects keep their identity
if the default ever changes (algorithm agility).  Three forms:

* binary (inside CBOR): a multihash (multiformats) -- ``varint(code)``,
  ``varint(length)``, digest bytes; e.g. BLAKE2b-256 is ``a0 e4 02 20 <32 bytes>``;
* printable: ``<prefix>:<hex>``, e.g. ``b2:1f3c...`` (``str(d)``);
* short: the printable form cut to a few hex digits (``d.short()``), which
  :func:`resolve_prefix` maps back to the one full digest it names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from ._errors import AmbiguousPrefix, DigestError, UnknownDigest

__all__ = ["Digest", "Algorithm", "ALGORITHMS", "DEFAULT_ALGORITHM", "resolve_prefix"]


@dataclass(frozen=True, slots=True)
class Algorithm:
    """A registered digest algorithm: its name, multihash code, printable prefix and size."""

    name: str
    code: int
    prefix: str
    size: int
    hash: Callable[[bytes], bytes]


def _blake2b_256(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def _sha_256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _sha3_256(data: bytes) -> bytes:
    return hashlib.sha3_256(data).digest()


ALGORITHMS: Final[dict[str, Algorithm]] = {
    a.name: a
    for a in (
        Algorithm("blake2b-256", 0xB220, "b2", 32, _blake2b_256),
        Algorithm("sha-256", 0x12, "s2", 32, _sha_256),
        Algorithm("sha3-256", 0x16, "s3", 32, _sha3_256),
    )
}
"""Known algorithms by name (the registry; identities never change once assigned)."""

DEFAULT_ALGORITHM: Final = "blake2b-256"

_BY_CODE: Final = {a.code: a for a in ALGORITHMS.values()}
_BY_PREFIX: Final = {a.prefix: a for a in ALGORITHMS.values()}
_HEX: Final = frozenset("0123456789abcdef")
SHORT_HEX_DIGITS: Final = 12


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Read a minimal unsigned varint (at most 3 bytes here) from ``data[pos:]``."""
    value = 0
    for i in range(3):
        if pos + i >= len(data):
            raise DigestError(f"truncated multihash varint at byte {pos + i}")
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise DigestError(f"non-minimal multihash varint at byte {pos}")
            return value, pos + i + 1
    raise DigestError(f"multihash varint at byte {pos} is longer than 3 bytes")


_PREFIX_BYTES: Final = {a.name: _varint(a.code) + _varint(a.size) for a in ALGORITHMS.values()}
_BY_PREFIX_BYTES: Final = {_PREFIX_BYTES[a.name]: a for a in ALGORITHMS.values()}
_PREFIX_WIDTHS: Final = tuple(sorted({len(p) for p in _BY_PREFIX_BYTES}))


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """A content digest that names its algorithm (BLAKE2b-256 by default).

    Construct with :meth:`of` / :meth:`of_object` / :meth:`parse` /
    :meth:`from_binary`; the constructor validates that ``value`` has the
    algorithm's length.  Digests order by (algorithm, value), so sorted
    output is deterministic.
    """

    algorithm: str
    value: bytes

    def __post_init__(self) -> None:
        alg = ALGORITHMS.get(self.algorithm)
        if alg is None:
            raise DigestError(
                f"unknown digest algorithm {self.algorithm!r}; known: {sorted(ALGORITHMS)}"
            )
        if type(self.value) is not bytes or len(self.value) != alg.size:
            raise DigestError(
                f"{self.algorithm} digest must be {alg.size} bytes, got "
                f"{type(self.value).__name__} of length {len(self.value)}"
            )

    @classmethod
    def of(cls, data: bytes, algorithm: str = DEFAULT_ALGORITHM) -> Digest:
        """Hash ``data`` with ``algorithm`` (default BLAKE2b-256)."""
        alg = ALGORITHMS.get(algorithm)
        if alg is None:
            raise DigestError(f"unknown digest algorithm {algorithm!r}; known: {sorted(ALGORITHMS)}")
        return cls(algorithm, alg.hash(data))

    @classmethod
    def of_object(cls, obj: object, algorithm: str = DEFAULT_ALGORITHM) -> Digest:
        """Digest of ``encode(obj)``: the identity of a value, independent of how it was built."""
        from ._cbor import encode

        return cls.of(encode(obj), algorithm)

    @property
    def binary(self) -> bytes:
        """The multihash form used inside CBOR: ``varint(code) varint(size) value``."""
        return _PREFIX_BYTES[self.algorithm] + self.value

    @classmethod
    def from_binary(cls, data: bytes) -> Digest:
        """Parse the multihash form (exactly one digest, no trailing bytes)."""
        for width in _PREFIX_WIDTHS:  # fast path: a known prefix and the exact length
            alg = _BY_PREFIX_BYTES.get(data[:width])
            if alg is not None and len(data) == width + alg.size:
                # Already validated: skip __post_init__ (this is the decode hot path).
                d = object.__new__(cls)
                object.__setattr__(d, "algorithm", alg.name)
                object.__setattr__(d, "value", bytes(data[width:]))
                return d
        code, pos = _read_varint(data, 0)
        alg = _BY_CODE.get(code)
        if alg is None:
            raise DigestError(f"unknown multihash code 0x{code:x}")
        size, pos = _read_varint(data, pos)
        if size != alg.size or len(data) - pos != size:
            raise DigestError(
                f"{alg.name} multihash must carry {alg.size} bytes, "
                f"declares {size} and has {len(data) - pos}"
            )
        return cls(alg.name, bytes(data[pos:]))

    @property
    def hex(self) -> str:
        """The digest bytes in lowercase hex, without the algorithm."""
        return self.value.hex()

    def __str__(self) -> str:
        return f"{ALGORITHMS[self.algorithm].prefix}:{self.value.hex()}"

    def __repr__(self) -> str:
        return f"Digest.parse({str(self)!r})"

    def short(self, digits: int = SHORT_HEX_DIGITS) -> str:
        """A short printable prefix (``b2:`` + ``digits`` hex digits) for humans and logs."""
        return f"{ALGORITHMS[self.algorithm].prefix}:{self.value.hex()[:digits]}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse the full printable form ``<prefix>:<hex>`` (e.g. ``b2:...``)."""
        alg, hexpart = _split(text)
        if alg is None:
            raise DigestError(f"digest {text!r} lacks an algorithm prefix such as 'b2:'")
        if len(hexpart) != 2 * alg.size:
            raise DigestError(
                f"{alg.name} digest needs {2 * alg.size} hex digits, {text!r} has {len(hexpart)}"
            )
        return cls(alg.name, bytes.fromhex(hexpart))


def _split(text: str) -> tuple[Algorithm | None, str]:
    """Split ``[prefix:]hex`` into its algorithm (or None) and a validated lowercase hex part."""
    if ":" in text:
        prefix, _, hexpart = text.partition(":")
        alg = _BY_PREFIX.get(prefix)
        if alg is None:
            raise DigestError(
                f"unknown digest prefix {prefix!r} in {text!r}; known: {sorted(_BY_PREFIX)}"
            )
    else:
        alg, hexpart = None, text
    hexpart = hexpart.lower()
    if not _HEX.issuperset(hexpart):
        raise DigestError(f"digest text {text!r} is not hex")
    return alg, hexpart


def resolve_prefix(prefix: str, candidates: Iterable[Digest]) -> Digest:
    """The one candidate whose printable form starts with ``prefix``.

    ``prefix`` is ``b2:1f3c`` (algorithm fixed) or bare hex ``1f3c`` (any
    algorithm).  Raises :class:`UnknownDigest` if none match and
    :class:`AmbiguousPrefix` (listing the matches) if several do.
    """
    alg, hexpart = _split(prefix.strip())
    found: set[Digest] = set()
    for d in candidates:
        if alg is not None and d.algorithm != alg.name:
            continue
        if d.value.hex().startswith(hexpart):
            found.add(d)
    if not found:
        raise UnknownDigest(prefix)
    if len(found) > 1:
        raise AmbiguousPrefix(prefix, found)
    return found.pop()
