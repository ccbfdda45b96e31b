"""Polynomial expressions over named trace columns, with extension-field coefficients.

The constraint system (``_air``) is written with :class:`Poly`: a sum of
monomials, each a product of named columns (base-field witness columns or
public columns) times a coefficient in the quartic extension.  One
expression is evaluated two ways, so prover and verifier cannot disagree
about what a constraint means:

* :meth:`Poly.eval_vec` over whole tables (``(n,)`` base or ``(n, 4)``
  extension arrays), used by the prover's sum-check rounds;
* :meth:`Poly.eval_at` over one extension value per column, used by the
  verifier at the sum-check's final point.

Coefficients are kept reduced; a monomial is a sorted tuple of column names
(repeats allowed, so ``x * x`` is ``("x", "x")``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from stele.actors.prover import EXT_ONE, EXT_ZERO, P, Ext, ext_add, ext_mul, ext_neg, vext_mul, vext_mul_scalar
from stele.actors.prover._commit import _matmul_mod
from stele.actors.prover._field import U64, _mul_matrix
from stele.actors.prover._kernels import backend

__all__ = ["Poly", "Expr", "col", "const", "table_lerp", "table_mul"]

Monomial = tuple[str, ...]
_P64 = np.uint64(P)


def _ext(c: int | Ext) -> Ext:
    if isinstance(c, int):
        return (c % P, 0, 0, 0)
    return c


class Poly:
    """A polynomial ``sum_m c_m * prod(columns of m)`` (immutable by convention)."""

    __slots__ = ("terms", "_mats")

    def __init__(self, terms: Mapping[Monomial, Ext] | None = None) -> None:
        self.terms: dict[Monomial, Ext] = {m: c for m, c in (terms or {}).items() if c != EXT_ZERO}
        self._mats: dict[Monomial, U64] = {}

    def _matrix(self, m: Monomial) -> U64:
        mat = self._mats.get(m)
        if mat is None:
            mat = self._mats[m] = _mul_matrix(self.terms[m])
        return mat

    @staticmethod
    def lift(x: Poly | int | Ext) -> Poly:
        """``x`` as a polynomial (an int or an extension 4-tuple becomes a constant)."""
        if isinstance(x, Poly):
            return x
        return Poly({(): _ext(x)})

    def __add__(self, other: Poly | int | Ext) -> Poly:
        out = dict(self.terms)
        for m, c in Poly.lift(other).terms.items():
            out[m] = ext_add(out.get(m, EXT_ZERO), c)
        return Poly(out)

    __radd__ = __add__

    def __neg__(self) -> Poly:
        return Poly({m: ext_neg(c) for m, c in self.terms.items()})

    def __sub__(self, other: Poly | int | Ext) -> Poly:
        return self + (-Poly.lift(other))

    def __rsub__(self, other: Poly | int | Ext) -> Poly:
        return Poly.lift(other) + (-self)

    def __mul__(self, other: Poly | int | Ext) -> Poly:
        o = Poly.lift(other)
        out: dict[Monomial, Ext] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in o.terms.items():
                m = tuple(sorted(m1 + m2))
                out[m] = ext_add(out.get(m, EXT_ZERO), ext_mul(c1, c2))
        return Poly(out)

    __rmul__ = __mul__

    @property
    def degree(self) -> int:
        """The largest number of column factors in a monomial (0 for a constant)."""
        return max((len(m) for m in self.terms), default=0)

    @property
    def columns(self) -> frozenset[str]:
        """Every column name the polynomial reads."""
        return frozenset(n for m in self.terms for n in m)

    def eval_at(self, values: Mapping[str, Ext]) -> Ext:
        """The value at one point, given every column's (extension) value there."""
        acc = EXT_ZERO
        for m, c in self.terms.items():
            prod = c
            for name in m:
                prod = ext_mul(prod, values[name])
            acc = ext_add(acc, prod)
        return acc

    def eval_vec(self, tables: Mapping[str, U64], length: int) -> U64:
        """The value on every row, as an ``(length, 4)`` extension table.

        Monomial products are computed table by table; the contraction with the
        (extension) coefficients is one exact matrix product per field kind.
        The numba backend evaluates it row by row instead (``_fast``).
        """
        if backend() == "numba":
            return Expr.of(self).eval_vec(tables, length)
        acc = np.zeros((length, 4), dtype=np.uint64)
        base_p: list[U64] = []
        base_c: list[Ext] = []
        ext_p: list[U64] = []
        ext_m: list[U64] = []
        for m, c in self.terms.items():
            if not m:
                acc = (acc + np.array(c, dtype=np.uint64)) % _P64
                continue
            prod = tables[m[0]]
            for name in m[1:]:
                prod = table_mul(prod, tables[name])
            if prod.ndim == 1:
                base_p.append(prod)
                base_c.append(c)
            else:
                ext_p.append(prod)
                ext_m.append(self._matrix(m))
        if base_p:
            acc += _matmul_mod(np.stack(base_p, axis=1), np.array(base_c, dtype=np.uint64))
        if ext_p:
            acc += _matmul_mod(np.concatenate(ext_p, axis=1), np.concatenate(ext_m, axis=0))
        return acc % _P64


class Expr:
    """A sum of products of polynomials, ``sum_i c_i * prod_j F_ij``, evaluated without expanding.

    LogUp constraints such as ``h * (alpha - W) * (alpha - R) - num`` have a
    few hundred monomials once expanded; evaluating their linear factors
    first costs a few products instead.
    """

    __slots__ = ("terms",)

    def __init__(self, terms: list[tuple[Ext, tuple[Poly, ...]]] | None = None) -> None:
        self.terms = list(terms or [])

    @staticmethod
    def of(p: Poly) -> Expr:
        """A polynomial as a one-term expression."""
        return Expr([((1, 0, 0, 0), (p,))])

    def __add__(self, other: Expr) -> Expr:
        return Expr(self.terms + other.terms)

    def scaled(self, c: Ext) -> Expr:
        """Every term times ``c``."""
        return Expr([(ext_mul(c, k), fs) for k, fs in self.terms])

    @property
    def degree(self) -> int:
        """The largest total degree of a term."""
        return max((sum(f.degree for f in fs) for _, fs in self.terms), default=0)

    @property
    def columns(self) -> frozenset[str]:
        """Every column the expression reads."""
        out: set[str] = set()
        for _, fs in self.terms:
            for f in fs:
                out |= f.columns
        return frozenset(out)

    def eval_at(self, values: Mapping[str, Ext]) -> Ext:
        """The value at one point."""
        acc = EXT_ZERO
        for c, fs in self.terms:
            prod = c
            for f in fs:
                prod = ext_mul(prod, f.eval_at(values))
            acc = ext_add(acc, prod)
        return acc

    def eval_vec(self, tables: Mapping[str, U64], length: int) -> U64:
        """The value on every row, as an ``(length, 4)`` extension table (numba: ``_fast.eval_rows``)."""
        if backend() == "numba":
            from ._fast import eval_rows

            return eval_rows(self, tables, length)
        acc = np.zeros((length, 4), dtype=np.uint64)
        for c, fs in self.terms:
            prod = fs[0].eval_vec(tables, length)
            for f in fs[1:]:
                prod = vext_mul(prod, f.eval_vec(tables, length))
            if c != (1, 0, 0, 0):
                prod = vext_mul_scalar(prod, c)
            acc = (acc + prod) % _P64
        return acc


def col(name: str) -> Poly:
    """The column ``name`` as a polynomial."""
    return Poly({(name,): EXT_ONE})


def const(c: int | Ext) -> Poly:
    """A constant polynomial."""
    return Poly.lift(c)


def table_mul(a: U64, b: U64) -> U64:
    """Elementwise product of two tables, each base ``(n,)`` or extension ``(n, 4)``."""
    if a.ndim == 1 and b.ndim == 1:
        return (a * b) % _P64
    if a.ndim == 1:
        return (b * a[:, None]) % _P64
    if b.ndim == 1:
        return (a * b[:, None]) % _P64
    return vext_mul(a, b)


def table_lerp(lo: U64, diff: U64, x: int) -> U64:
    """``lo + x * diff`` for a small non-negative integer ``x`` (a round's evaluation point)."""
    if x == 0:
        return lo
    return (lo + diff * np.uint64(x)) % _P64
