"""The deterministic random stream shared by both Envs.

:class:`SeededRandom` implements :class:`stele.EnvRandom` on top of the
Mersenne Twister of the standard library, seeded with an *integer* (integer
seeding is stable across processes, platforms and ``PYTHONHASHSEED``).  Only
``getrandbits`` of the generator is used; every derived draw (``randbelow``,
``chance``, ``choice``, ``shuffle``) is written here with integer arithmetic,
so the sequence of decisions is a pure function of the seed.

``fork(label)`` derives a child seed by hashing the parent's seed material with
the label (BLAKE2b), independently of how many draws the parent has made: a
component that owns a forked stream does not perturb anyone else's draws.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any, TypeVar

__all__ = ["SeededRandom"]

T = TypeVar("T")

_SEED_BYTES = 32


def _seed_material(seed: int | bytes) -> bytes:
    if isinstance(seed, bool):
        raise TypeError("seed must be an int or bytes, not bool")
    if isinstance(seed, int):
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        raw = seed.to_bytes(max(1, (seed.bit_length() + 7) // 8), "big")
        return hashlib.blake2b(b"stele.seed.int\x00" + raw, digest_size=_SEED_BYTES).digest()
    if isinstance(seed, bytes):
        return hashlib.blake2b(b"stele.seed.bytes\x00" + seed, digest_size=_SEED_BYTES).digest()
    raise TypeError(f"seed must be an int or bytes, got {type(seed).__name__}")


class SeededRandom:
    """A seeded, reproducible :class:`stele.EnvRandom`.

    Probabilities are exact ratios (``chance(1, 3)`` is true for exactly one
    third of the ``randbelow(3)`` outcomes); no float ever takes part in a
    decision.
    """

    __slots__ = ("_material", "_gen", "_getrandbits")

    def __init__(self, seed: int | bytes) -> None:
        self._material = _seed_material(seed)
        self._gen = random.Random(int.from_bytes(self._material, "big"))
        self._getrandbits = self._gen.getrandbits

    @classmethod
    def _from_material(cls, material: bytes) -> SeededRandom:
        self = cls.__new__(cls)
        self._material = material
        self._gen = random.Random(int.from_bytes(material, "big"))
        self._getrandbits = self._gen.getrandbits
        return self

    @property
    def material(self) -> bytes:
        """The 32 bytes this stream was derived from (stable identity)."""
        return self._material

    def randbits(self, k: int) -> int:
        """A uniform integer in ``[0, 2**k)``."""
        if k < 0:
            raise ValueError(f"randbits: k must be >= 0, got {k}")
        return self._getrandbits(k) if k else 0

    def randbelow(self, n: int) -> int:
        """A uniform integer in ``[0, n)`` by rejection sampling (unbiased)."""
        if n <= 0:
            raise ValueError(f"randbelow: n must be > 0, got {n}")
        k = n.bit_length()
        getrandbits = self._getrandbits
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return r

    def randrange(self, start: int, stop: int) -> int:
        """A uniform integer in ``[start, stop)``."""
        if stop <= start:
            raise ValueError(f"randrange: empty range [{start}, {stop})")
        return start + self.randbelow(stop - start)

    def chance(self, numerator: int, denominator: int) -> bool:
        """True with probability exactly ``numerator / denominator``."""
        if denominator <= 0:
            raise ValueError(f"chance: denominator must be > 0, got {denominator}")
        if not 0 <= numerator <= denominator:
            raise ValueError(
                f"chance: numerator must be in [0, {denominator}], got {numerator}"
            )
        if numerator == 0:
            return False
        if numerator == denominator:
            return True
        return self.randbelow(denominator) < numerator

    def choice(self, seq: Sequence[T]) -> T:
        """A uniform element of a non-empty sequence."""
        if not seq:
            raise IndexError("choice: empty sequence")
        return seq[self.randbelow(len(seq))]

    def shuffle(self, items: list[Any]) -> None:
        """Fisher-Yates shuffle in place over :meth:`randbelow`."""
        for i in range(len(items) - 1, 0, -1):
            j = self.randbelow(i + 1)
            items[i], items[j] = items[j], items[i]

    def bytes(self, n: int) -> bytes:
        """``n`` uniform bytes."""
        if n < 0:
            raise ValueError(f"bytes: n must be >= 0, got {n}")
        if n == 0:
            return b""
        return self._getrandbits(8 * n).to_bytes(n, "little")

    def fork(self, label: str) -> SeededRandom:
        """An independent stream derived from this stream's seed and ``label``.

        The child depends only on (seed, label), not on draws already made, so
        the same label always yields the same child stream.
        """
        material = hashlib.blake2b(
            b"stele.fork\x00" + self._material + label.encode("utf-8"),
            digest_size=_SEED_BYTES,
        ).digest()
        return SeededRandom._from_material(material)
