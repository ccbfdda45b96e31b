"""The witness as multilinear polynomials over BabyBear, for the prover.

:class:`WitnessOracle` implements the prover's ``PolynomialOracle`` protocol
structurally (it does not import the prover): every polynomial has
``2**num_vars`` evaluations, one per cycle, with zero padding past the run's
T cycles.

Column-to-polynomial mapping.  A 32-bit word does not fit in one BabyBear
element (p = 15 * 2**27 + 1 < 2**31), and soundness depends on word equality,
so every witness column of width > 16 bits is split into two 16-bit limb
polynomials, low limb first; columns of at most 16 bits (register indices,
small flags) are one polynomial.  Polynomials are numbered column by column
in row order::

    column c, limb j  ->  poly  base(c) + j,   base(c) = sum of limbs of columns < c
    value             =   (word >> (16 * j)) & 0xFFFF

:meth:`WitnessOracle.layout` lists ``(poly, column name, limb)`` for every
polynomial.  Every value is < 2**16 < p, hence already canonical.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ._stream import WitnessStream
from ._stream_errors import StreamError

__all__ = ["WitnessOracle", "BABYBEAR_P", "LIMB_BITS"]

#: The BabyBear prime 15 * 2**27 + 1.
BABYBEAR_P = 15 * (1 << 27) + 1
#: Width of one limb polynomial.
LIMB_BITS = 16


class WitnessOracle:
    """Witness columns as 16-bit-limb polynomials, read in chunks from a stream.

    ``widths`` gives each column's bit width (default 32 for all); it decides
    whether the column becomes one polynomial or two (see the module doc).
    Reads go through the :class:`WitnessStream`, so sequential chunked reads
    stream forward and backward reads regenerate from checkpoints.
    """

    def __init__(self, stream: WitnessStream, widths: Sequence[int] | None = None) -> None:
        k = stream.num_columns
        widths = [32] * k if widths is None else list(widths)
        if len(widths) != k:
            raise StreamError(f"widths has {len(widths)} entries for K={k} columns")
        for c, w in enumerate(widths):
            if not 1 <= w <= 32:
                raise StreamError(f"width of column {c} is {w}, outside [1, 32]")
        self._stream = stream
        self._col: list[int] = []
        self._shift: list[int] = []
        self._names: list[tuple[str, int]] = []
        for c, w in enumerate(widths):
            for j in range(1 if w <= LIMB_BITS else 2):
                self._col.append(c)
                self._shift.append(LIMB_BITS * j)
                self._names.append((stream.columns[c], j))
        t = stream.total_cycles
        self._num_vars = max(0, (t - 1).bit_length()) if t > 0 else 0

    @property
    def num_vars(self) -> int:
        """Every polynomial has ``2**num_vars`` >= T evaluations."""
        return self._num_vars

    @property
    def num_polys(self) -> int:
        """The number of limb polynomials."""
        return len(self._col)

    @property
    def stream(self) -> WitnessStream:
        """The stream the oracle reads (its ``stats`` count regenerations)."""
        return self._stream

    def layout(self) -> list[tuple[int, str, int]]:
        """``(poly index, column name, limb)`` for every polynomial."""
        return [(i, name, limb) for i, (name, limb) in enumerate(self._names)]

    def read(self, polys: Sequence[int], start: int, length: int) -> NDArray[np.uint64]:
        """Evaluations ``[start, start + length)`` of each listed polynomial.

        Shape ``(len(polys), length)``, values in [0, p); indices in
        ``[T, 2**num_vars)`` are zero padding.
        """
        size = 1 << self._num_vars
        if start < 0 or length < 0 or start + length > size:
            raise StreamError(
                f"read [{start}, {start + length}) is outside the evaluations [0, {size})"
            )
        for p in polys:
            if not 0 <= p < len(self._col):
                raise StreamError(f"poly index {p} is outside [0, {len(self._col)})")
        out = np.zeros((len(polys), length), dtype=np.uint64)
        real = max(0, min(start + length, self._stream.total_cycles) - start)
        if real and len(polys):
            rows = self._stream.rows(start, real)
            for i, p in enumerate(polys):
                column = rows[:, self._col[p]].astype(np.uint64)
                out[i, :real] = (column >> np.uint64(self._shift[p])) & np.uint64(0xFFFF)
        return out
