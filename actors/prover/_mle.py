"""Multilinear polynomials as dense evaluation tables, and virtual polynomials over them.

Variable order (the convention everything in the prover shares)
---------------------------------------------------------------
A multilinear polynomial ``f(x_1, ..., x_n)`` is stored as its ``2^n``
evaluations over the Boolean hypercube, with **x_1 the least significant bit
of the index**::

    table[x_1 + 2·x_2 + 4·x_3 + ... + 2^(n-1)·x_n] = f(x_1, ..., x_n)

"Binding the first variable" (:func:`fold`) fixes ``x_1 = r`` and pairs
adjacent entries: ``new[j] = table[2j] + r·(table[2j+1] - table[2j])``.  The
same layout is the :class:`~stele.actors.prover.PolynomialOracle`'s flat
layout, so a contiguous chunk ``[start, start + 2^j)`` of an oracle (with
``start`` a multiple of ``2^j``) holds every assignment of the first ``j``
variables for one assignment of the rest; this is what lets the streaming
sum-check prover bind early variables chunk by chunk.

Tables are base (``uint64`` shape ``(2^n,)``) or extension (shape ``(2^n, 4)``);
folding a base table by an extension challenge gives an extension table.
Points are sequences whose items are base ints or extension 4-tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._errors import InvalidParameters
from ._field import (
    EXT_ONE,
    EXT_ZERO,
    P,
    U64,
    Ext,
    ext_add,
    ext_mul,
    ext_scale,
    ext_sub,
    vadd,
    vext_mul,
    vext_mul_scalar,
    vext_scale,
    vext_sum,
    vmul,
    vsub,
    vsum,
)

__all__ = [
    "Point",
    "num_vars_of",
    "fold",
    "evaluate",
    "evaluate_reference",
    "eq_table",
    "eq_eval",
    "Composition",
    "VirtualPolynomial",
    "table_mul",
    "table_sum",
]

Point = Sequence[int | Ext]


def _as_ext_scalar(v: int | Ext) -> Ext:
    if isinstance(v, int):
        return (v % P, 0, 0, 0)
    return v


def num_vars_of(table: U64) -> int:
    """n for a table of 2^n entries; :class:`InvalidParameters` otherwise."""
    size = int(table.shape[0])
    if size < 1 or size & (size - 1):
        raise InvalidParameters("table length", size, "a power of two >= 1")
    if table.ndim == 2 and table.shape[1] != 4:
        raise InvalidParameters("table shape", tuple(table.shape), "(2^n,) or (2^n, 4)")
    if table.ndim not in (1, 2):
        raise InvalidParameters("table ndim", table.ndim, "1 (base) or 2 (extension)")
    return size.bit_length() - 1


def table_mul(a: U64, b: U64) -> U64:
    """Elementwise product of two tables, each base (m,) or extension (m, 4)."""
    if a.ndim == 1 and b.ndim == 1:
        return vmul(a, b)
    if a.ndim == 1:
        return vext_scale(b, a)
    if b.ndim == 1:
        return vext_scale(a, b)
    return vext_mul(a, b)


def table_sum(a: U64) -> Ext:
    """Σ of a base or extension table, as an extension scalar."""
    if a.ndim == 1:
        return (int(vsum(a)), 0, 0, 0)
    return vext_sum(a)


def fold(table: U64, r: int | Ext, diff: U64 | None = None) -> U64:
    """Bind the first variable (the index's lowest bit) to ``r``; halves the table.

    A base table folded by a base int stays base; anything else becomes an
    extension table.  ``new[j] = t[2j] + r·(t[2j+1] - t[2j])``.  ``diff``, if
    given, must be ``t[1::2] - t[0::2]`` already computed (the sum-check
    round computes it anyway).
    """
    if table.shape[0] < 2:
        raise InvalidParameters("table length", int(table.shape[0]), ">= 2 to bind a variable")
    lo = table[0::2]
    if diff is None:
        diff = vsub(table[1::2], lo)
    if isinstance(r, int):
        return vadd(lo, vmul(diff, np.uint64(r % P)))  # type: ignore[arg-type]
    if table.ndim == 1:
        out = vmul(diff[:, None], np.array(r, dtype=np.uint64)[None, :])
        out[:, 0] = vadd(out[:, 0], lo)
        return out
    return vadd(lo, vext_mul_scalar(diff, r))


def evaluate(table: U64, point: Point) -> Ext:
    """f(point) for the multilinear f with this table (point[0] is x_1)."""
    n = num_vars_of(table)
    if len(point) != n:
        raise InvalidParameters("len(point)", len(point), f"= num_vars = {n}")
    cur = table
    for r in point:
        cur = fold(cur, r)
    if cur.ndim == 1:
        return (int(cur[0]), 0, 0, 0)
    return (int(cur[0, 0]), int(cur[0, 1]), int(cur[0, 2]), int(cur[0, 3]))


def eq_eval(a: Point, b: Point) -> Ext:
    """eq(a, b) = Π_i (a_i·b_i + (1 - a_i)(1 - b_i)), the multilinear equality polynomial."""
    if len(a) != len(b):
        raise InvalidParameters("len(b)", len(b), f"= len(a) = {len(a)}")
    acc = EXT_ONE
    for x, y in zip(a, b):
        xe, ye = _as_ext_scalar(x), _as_ext_scalar(y)
        xy = ext_mul(xe, ye)
        term = ext_add(ext_sub(ext_sub(ext_add(EXT_ONE, xy), xe), ye), xy)
        acc = ext_mul(acc, term)
    return acc


def eq_table(point: Point) -> U64:
    """The (2^n, 4) table of eq(point, x) over the hypercube (x_1 = lowest index bit)."""
    table = np.zeros((1, 4), dtype=np.uint64)
    table[0, 0] = 1
    for r in point:
        re = np.array(_as_ext_scalar(r), dtype=np.uint64)
        one_minus = vsub(np.array(EXT_ONE, dtype=np.uint64), re)
        # The new variable is the new highest bit: [t·(1-r) | t·r].
        table = np.concatenate([vext_mul(table, one_minus), vext_mul(table, re)])
    return table


def evaluate_reference(values: Sequence[int], point: Sequence[Ext]) -> Ext:
    """Slow pure-Python f(point) = Σ_x f(x)·eq(point, x), the test reference."""
    n = len(point)
    if len(values) != 1 << n:
        raise InvalidParameters("len(values)", len(values), f"= 2^{n}")
    acc = EXT_ZERO
    for idx, v in enumerate(values):
        bits = [(idx >> k) & 1 for k in range(n)]
        acc = ext_add(acc, ext_scale(eq_eval(list(point), bits), v))
    return acc


@dataclass(frozen=True, slots=True)
class Composition:
    """g = Σ_j c_j · Π_k f_{j,k}: a linear combination of products of multilinears.

    ``terms`` is a tuple of ``(coefficient, factors)``; the coefficient is a
    base element in [0, P), ``factors`` a tuple (empty for a constant term, so
    constraints like ``a·b - c - 5`` can be written) of polynomial
    indices (into a table list, or an oracle's polynomial numbers).  The
    degree (in each variable) is the longest product.
    """

    terms: tuple[tuple[int, tuple[int, ...]], ...]

    def __post_init__(self) -> None:
        if not self.terms:
            raise InvalidParameters("terms", self.terms, "at least one term")
        for i, (c, factors) in enumerate(self.terms):
            if not 0 <= c < P:
                raise InvalidParameters(f"terms[{i}].coefficient", c, f"in [0, {P})")
            if any(f < 0 for f in factors):
                raise InvalidParameters(f"terms[{i}].factors", factors, "indices >= 0")
        if not self.polys:
            raise InvalidParameters("terms", self.terms, "at least one polynomial factor")

    @classmethod
    def product(cls, *factors: int) -> Composition:
        """The single product f_a · f_b · ... with coefficient 1."""
        return cls(((1, tuple(factors)),))

    @property
    def degree(self) -> int:
        """The maximum number of factors in a term (the degree bound per variable)."""
        return max(len(f) for _, f in self.terms)

    @property
    def polys(self) -> tuple[int, ...]:
        """The distinct polynomial indices used, sorted (the order of final evaluations)."""
        return tuple(sorted({f for _, fs in self.terms for f in fs}))

    def evaluate(self, values: dict[int, Ext]) -> Ext:
        """g from the values of its polynomials (a map index -> extension value)."""
        acc = EXT_ZERO
        for c, factors in self.terms:
            prod = EXT_ONE
            for f in factors:
                prod = ext_mul(prod, values[f])
            acc = ext_add(acc, ext_scale(prod, c))
        return acc

    def to_bytes(self) -> bytes:
        """A canonical byte encoding, absorbed into transcripts to bind the statement."""
        out = bytearray(len(self.terms).to_bytes(4, "little"))
        for c, factors in self.terms:
            out += c.to_bytes(4, "little") + len(factors).to_bytes(4, "little")
            for f in factors:
                out += f.to_bytes(4, "little")
        return bytes(out)


@dataclass(frozen=True)
class VirtualPolynomial:
    """A :class:`Composition` bound to concrete tables (all with the same num_vars).

    ``tables[i]`` is the polynomial the composition calls ``i``.  It is what
    the dense sum-check prover consumes; :meth:`evaluate` and
    :meth:`hypercube_sum` are the straightforward definitions, for tests.
    """

    composition: Composition
    tables: tuple[U64, ...]

    def __post_init__(self) -> None:
        if not self.tables:
            raise InvalidParameters("tables", 0, "at least one table")
        n = num_vars_of(self.tables[0])
        for i, t in enumerate(self.tables):
            if num_vars_of(t) != n:
                raise InvalidParameters(f"tables[{i}] num_vars", num_vars_of(t), f"= {n}")
        hi = max(self.composition.polys)
        if hi >= len(self.tables):
            raise InvalidParameters("composition poly index", hi, f"< {len(self.tables)} tables")

    @property
    def num_vars(self) -> int:
        """Number of variables shared by every table."""
        return num_vars_of(self.tables[0])

    @property
    def degree(self) -> int:
        """Degree bound per variable."""
        return self.composition.degree

    def evaluate(self, point: Point) -> Ext:
        """g(point)."""
        return self.composition.evaluate({i: evaluate(self.tables[i], point) for i in self.composition.polys})

    def hypercube_sum(self) -> Ext:
        """Σ_x g(x) over the Boolean hypercube (the sum-check claim)."""
        acc = EXT_ZERO
        for c, factors in self.composition.terms:
            if not factors:
                acc = ext_add(acc, ((c << self.num_vars) % P, 0, 0, 0))
                continue
            prod = self.tables[factors[0]]
            for f in factors[1:]:
                prod = table_mul(prod, self.tables[f])
            acc = ext_add(acc, ext_scale(table_sum(prod), c))
        return acc

