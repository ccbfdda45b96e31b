"""The PolynomialOracle: how the streaming prover reads polynomials it never stores.

The co-processor's witness generator implements this Protocol structurally
(without importing the prover): it regenerates any range of witness columns
from checkpoints on demand.  The flat layout is the one in
:mod:`stele.actors.prover._mle`: entry ``i`` of a polynomial is its value at
the hypercube point whose ``x_1`` is bit 0 of ``i``.

:class:`DenseOracle` is the simple in-memory implementation used by tests and
benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ._errors import InvalidParameters
from ._field import P, U64

__all__ = ["PolynomialOracle", "DenseOracle", "check_read"]


@runtime_checkable
class PolynomialOracle(Protocol):
    """Read access to ``num_polys`` multilinear polynomials over ``num_vars`` variables."""

    @property
    def num_vars(self) -> int:
        """Every polynomial has 2**num_vars evaluations."""
        ...

    @property
    def num_polys(self) -> int:
        """How many polynomials the oracle serves."""
        ...

    def read(self, polys: Sequence[int], start: int, length: int) -> U64:
        """Evaluations [start, start+length) of each listed polynomial, shape
        (len(polys), length), canonical BabyBear values in [0, p), p = 15*2**27 + 1.
        Indices past the real data are zero padding."""
        ...


def check_read(oracle: PolynomialOracle, polys: Sequence[int], start: int, length: int) -> None:
    """Validate a read request against an oracle's shape (typed errors naming the limit)."""
    size = 1 << oracle.num_vars
    if start < 0 or length < 0 or start + length > size:
        raise InvalidParameters("read range", (start, length), f"within [0, {size})")
    for p in polys:
        if not 0 <= p < oracle.num_polys:
            raise InvalidParameters("poly index", p, f"in [0, {oracle.num_polys})")


class DenseOracle:
    """An oracle over polynomials held in memory: rows of a (num_polys, L) array.

    ``L`` may be shorter than ``2^num_vars``; the rest reads as zero padding.
    Counts the entries it served (``entries_read``) so tests can check passes.
    """

    def __init__(self, values: U64 | Sequence[U64], num_vars: int | None = None) -> None:
        try:
            arr = np.atleast_2d(np.asarray(values))
        except ValueError as exc:  # ragged rows
            raise InvalidParameters("values", "ragged", f"rows of equal length ({exc})") from None
        if arr.dtype.kind not in "iu":
            raise InvalidParameters("values.dtype", str(arr.dtype), "an integer dtype")
        if arr.size and arr.dtype.kind == "i" and int(arr.min()) < 0:
            raise InvalidParameters("values", int(arr.min()), f"canonical, in [0, {P})")
        arr = arr.astype(np.uint64)
        if arr.ndim != 2:
            raise InvalidParameters("values.ndim", arr.ndim, "2 (num_polys, length)")
        length = int(arr.shape[1])
        if num_vars is None:
            num_vars = max(0, (length - 1).bit_length())
        if not 0 <= num_vars <= 40:
            raise InvalidParameters("num_vars", num_vars, "in [0, 40]")
        if length > 1 << num_vars:
            raise InvalidParameters("values length", length, f"<= 2^{num_vars}")
        if arr.size and int(arr.max()) >= P:
            raise InvalidParameters("values", int(arr.max()), f"canonical, < {P}")
        self._values = arr
        self._num_vars = num_vars
        self.entries_read = 0

    @property
    def num_vars(self) -> int:
        """Every polynomial has 2**num_vars evaluations."""
        return self._num_vars

    @property
    def num_polys(self) -> int:
        """How many polynomials the oracle serves."""
        return int(self._values.shape[0])

    def read(self, polys: Sequence[int], start: int, length: int) -> U64:
        """Evaluations [start, start+length) of each listed polynomial (zero past the data)."""
        check_read(self, polys, start, length)
        out = np.zeros((len(polys), length), dtype=np.uint64)
        have = int(self._values.shape[1])
        stop = min(start + length, have)
        if stop > start:
            out[:, : stop - start] = self._values[list(polys), start:stop]
        self.entries_read += len(polys) * length
        return out

    def table(self, poly: int) -> U64:
        """The full padded table of one polynomial (for dense proving; not counted as a read)."""
        if not 0 <= poly < self.num_polys:
            raise InvalidParameters("poly index", poly, f"in [0, {self.num_polys})")
        out: U64 = np.zeros(1 << self._num_vars, dtype=np.uint64)
        out[: self._values.shape[1]] = self._values[poly]
        return out
