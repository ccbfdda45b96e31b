"""The sum-check round engine shared by the dense and streaming provers (private).

``round_partial`` computes one round's sums over a set of (lo, hi) pairs;
``DenseState`` holds tables in memory and binds one variable per round;
``EqRound`` splits an eq factor so rounds work with ``q`` of the
composition's degree.  See :mod:`stele.actors.prover._sumcheck` for the
protocol and the proof format.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._field import EXT_ONE, EXT_ZERO, P, U64, Ext, ext_add, ext_inv, ext_mul, ext_scale, ext_sub, inv, vadd, vmul, vsub
from ._mle import Composition, eq_eval, eq_table
from ._soa import soa_add, soa_first, soa_fold, soa_from_aos, soa_mul, soa_sum

__all__ = ["interpolate_at", "round_partial", "eq1", "EqRound", "finish_plain", "DenseState", "total_degree"]


# --------------------------------------------------------------------------- interpolation


def interpolate_at(evals: Sequence[Ext], r: Ext) -> Ext:
    """s(r) for the polynomial of degree < len(evals) with s(i) = evals[i], i = 0..d."""
    d = len(evals) - 1
    acc = EXT_ZERO
    for i in range(d + 1):
        num = EXT_ONE
        den = 1
        for j in range(d + 1):
            if j != i:
                num = ext_mul(num, ext_sub(r, (j, 0, 0, 0)))
                den = den * (i - j) % P
        acc = ext_add(acc, ext_scale(ext_mul(evals[i], num), inv(den)))
    return acc


# --------------------------------------------------------------------------- round kernel


def round_partial(
    los: dict[int, U64],
    his: dict[int, U64],
    weight: U64 | None,
    comp: Composition,
    skip_one: bool,
    diffs: dict[int, U64] | None = None,
) -> list[Ext]:
    """Σ_i weight[i]·C(lo_i + X·(hi_i - lo_i)) for X = 0..deg C (X = 1 left zero if skip_one).

    ``weight`` (extension, one entry per pair) is the eq factor of the
    not-yet-bound variables, or None for a plain sum.  ``diffs`` (if given)
    receives hi - lo per polynomial, so binding the variable afterwards need
    not recompute them.
    """
    if diffs is None:
        diffs = {}
    cur = dict(los)
    out: list[Ext] = []
    for x in range(comp.degree + 1):
        if x == 1:
            cur = dict(his)
        elif x >= 2:
            for k in cur:
                if k not in diffs:
                    diffs[k] = vsub(his[k], los[k])
                cur[k] = vadd(cur[k], diffs[k])
        if x == 1 and skip_one:
            out.append(EXT_ZERO)
            continue
        comb: U64 | None = None
        total = EXT_ZERO
        for c, factors in comp.terms:
            if not factors:  # a constant term: c at every point
                npairs = next(iter(cur.values())).shape[-1]
                if weight is None:
                    total = ext_add(total, (c * npairs % P, 0, 0, 0))
                else:
                    const = np.full(npairs, c, dtype=np.uint64)
                    comb = const if comb is None else soa_add(comb, const)
                continue
            prod = cur[factors[0]]
            for f in factors[1:]:
                prod = soa_mul(prod, cur[f])
            if weight is None:
                total = ext_add(total, ext_scale(soa_sum(prod), c))
            else:
                if c != 1:
                    prod = vmul(prod, np.uint64(c))  # type: ignore[arg-type]
                comb = prod if comb is None else soa_add(comb, prod)
        if weight is not None and comb is not None:
            total = soa_sum(soa_mul(comb, weight))
        out.append(total)
    return out


def eq1(e: Ext, x: int | Ext) -> Ext:
    """eq(e, x) for one variable: e·x + (1 - e)(1 - x)."""
    return eq_eval([e], [x])


class EqRound:
    """The eq factor of one round, split as eq(e, (r_<j, X, y)) = pre · eq(e_j, X) · eq(e_>j, y).

    The round polynomial is then s(X) = pre · eq(e_j, X) · q(X), where q has
    the composition's degree and the weights eq(e_>j, y) are a table of the
    unbound variables only (Gruen's trick: one evaluation fewer per round and
    no eq table to fold).  Given the running claim, q(1) follows from
    claim = pre·((1 - e_j)·q(0) + e_j·q(1)) unless pre or e_j is zero.
    """

    def __init__(self, pre: Ext, e_j: Ext) -> None:
        self.pre = pre
        self.e_j = e_j

    def can_skip_one(self, claim: Ext | None) -> bool:
        """Whether q(1) can be derived from the claim instead of computed."""
        return claim is not None and self.pre != EXT_ZERO and self.e_j != EXT_ZERO

    def finish(self, q: list[Ext], claim: Ext | None) -> tuple[Ext, ...]:
        """s(0..d+1) from q(0..d) (q(1) filled in from the claim if it was skipped)."""
        q = list(q)
        if self.can_skip_one(claim):
            assert claim is not None
            scaled = ext_mul(claim, ext_inv(self.pre))
            rest = ext_sub(scaled, ext_mul(ext_sub(EXT_ONE, self.e_j), q[0]))
            q[1] = ext_mul(rest, ext_inv(self.e_j))
        q.append(interpolate_at(q, (len(q), 0, 0, 0)))
        return tuple(ext_mul(ext_mul(self.pre, eq1(self.e_j, x)), qx) for x, qx in enumerate(q))


def finish_plain(partial: list[Ext], claim: Ext | None) -> tuple[Ext, ...]:
    """A round's evaluations without an eq factor: s(1) = claim - s(0) when the claim is known."""
    if claim is not None:
        partial = list(partial)
        partial[1] = ext_sub(claim, partial[0])
    return tuple(partial)


class DenseState:
    """Tables in memory, bound one variable per round.

    With an eq factor it keeps ``j`` (variables already bound), the product
    ``pre`` of eq(e_i, r_i) over them, and the weight table eq(e_>j, ·) of
    the variables after the current one.
    """

    def __init__(
        self,
        tables: dict[int, U64],
        comp: Composition,
        eq_point: Sequence[Ext] | None = None,
        bound: int = 0,
        pre: Ext = EXT_ONE,
    ) -> None:
        self.tables = tables  # base (n,) or extension transposed to (4, n): see _soa
        self.comp = comp
        self.diffs: dict[int, U64] = {}
        self.eq_point = None if eq_point is None else list(eq_point)
        self.j = bound
        self.pre = pre
        self.weights = None if self.eq_point is None else soa_from_aos(eq_table(self.eq_point[bound + 1 :]))

    def round(self, claim: Ext | None) -> tuple[Ext, ...]:
        """This round's evaluations s(0..d) (the first round, claim None, computes all)."""
        los = {k: t[..., 0::2] for k, t in self.tables.items()}
        his = {k: t[..., 1::2] for k, t in self.tables.items()}
        self.diffs = {}
        if self.eq_point is None:
            partial = round_partial(los, his, None, self.comp, claim is not None, self.diffs)
            return finish_plain(partial, claim)
        eq = EqRound(self.pre, self.eq_point[self.j])
        q = round_partial(los, his, self.weights, self.comp, eq.can_skip_one(claim), self.diffs)
        return eq.finish(q, claim)

    def bind(self, r: Ext) -> None:
        """Bind the current variable to the challenge ``r``."""
        diffs, self.diffs = self.diffs, {}
        self.tables = {k: soa_fold(t, r, diffs.get(k)) for k, t in self.tables.items()}
        if self.eq_point is not None and self.weights is not None:
            self.pre = ext_mul(self.pre, eq1(self.eq_point[self.j], r))
            self.j += 1
            # eq(e_i, 0) + eq(e_i, 1) = 1, so summing pairs drops the lowest variable.
            if self.weights.shape[-1] > 1:
                self.weights = vadd(self.weights[..., 0::2], self.weights[..., 1::2])

    def finals(self) -> tuple[Ext, ...]:
        """f_k(r) for every polynomial of the composition, once all variables are bound."""
        return tuple(soa_first(self.tables[k]) for k in self.comp.polys)


def total_degree(comp: Composition, eq_point: Sequence[Ext] | None) -> int:
    """Degree of the round polynomials: the composition's, plus one with an eq factor."""
    return comp.degree + (1 if eq_point is not None else 0)
