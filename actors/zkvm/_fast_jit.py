"""numba kernels for the trace sum-check (imported only by the numba backend; see ``_fast``).

An expression is a flat program (``_fast.Program``): monomials
``coef * prod(columns)`` grouped into polynomials, and terms
``coef * prod(polynomials)``.  The kernels interpret it row by row, so a
round costs no numpy temporaries.  ``tab`` is ``(rows, C, L)``: ``L = 1``
for base tables, ``4`` for extension tables; ``cols[j]`` is the table
column of the program's column ``j``.  Every value written or summed is
canonical; the lazily reduced sums hold fewer than 2^33 canonical values.
"""

from __future__ import annotations

import numpy as np

from stele.actors.prover._field import EXT_W, P, U64
from stele.actors.prover._kernels_jit import U, emul, emul_w, njit

__all__ = ["eval_point", "round_evals", "fold_rows", "expr_rows"]

_P = np.uint64(P)
_W = np.uint64(EXT_W)
_Z = np.uint64(0)
_I64 = np.ndarray


@njit
def _chain(c0: U, c1: U, c2: U, c3: U, start: int, stop: int, idx: _I64, vals: U64) -> tuple[U, U, U, U]:
    """``c * prod(vals[idx[q]] for start <= q < stop)``; ``vals`` rows are ``(value, 11 * value[1:4])``."""
    for q in range(start, stop):
        k = idx[q]
        c0, c1, c2, c3 = emul_w(c0, c1, c2, c3, vals[k, 0], vals[k, 1], vals[k, 2], vals[k, 3], vals[k, 4],
                                vals[k, 5], vals[k, 6])
    return c0, c1, c2, c3


@njit
def eval_point(v: U64, base: bool, mc: U64, mo: _I64, mf: _I64, po: _I64, tc: U64, to: _I64, tp: _I64,
               pv: U64) -> tuple[U, U, U, U]:
    """The expression at one point: column ``j``'s value is ``v[j]`` (only ``v[j, 0]`` if ``base``).

    ``v[j, 4:7]`` must hold ``11 * v[j, 1:4] mod P`` when not ``base`` (for :func:`emul_w`);
    ``pv`` is ``(polynomials, 7)`` scratch.
    """
    for p in range(po.shape[0] - 1):
        a0 = a1 = a2 = a3 = _Z
        for m in range(po[p], po[p + 1]):
            if base:
                s = np.uint64(1)
                for f in range(mo[m], mo[m + 1]):
                    s = (s * v[mf[f], 0]) % _P
                a0 += (mc[m, 0] * s) % _P
                a1 += (mc[m, 1] * s) % _P
                a2 += (mc[m, 2] * s) % _P
                a3 += (mc[m, 3] * s) % _P
            else:
                c0, c1, c2, c3 = _chain(mc[m, 0], mc[m, 1], mc[m, 2], mc[m, 3], mo[m], mo[m + 1], mf, v)
                a0 += c0
                a1 += c1
                a2 += c2
                a3 += c3
        pv[p, 0] = a0 % _P
        pv[p, 1] = a1 % _P
        pv[p, 2] = a2 % _P
        pv[p, 3] = a3 % _P
        pv[p, 4] = (pv[p, 1] * _W) % _P
        pv[p, 5] = (pv[p, 2] * _W) % _P
        pv[p, 6] = (pv[p, 3] * _W) % _P
    z0 = z1 = z2 = z3 = _Z
    for t in range(to.shape[0] - 1):
        c0, c1, c2, c3 = _chain(tc[t, 0], tc[t, 1], tc[t, 2], tc[t, 3], to[t], to[t + 1], tp, pv)
        z0 += c0
        z1 += c1
        z2 += c2
        z3 += c3
    return z0 % _P, z1 % _P, z2 % _P, z3 % _P


@njit
def round_evals(tab: U64, aux: U64, cols: _I64, npts: int, mc: U64, mo: _I64, mf: _I64, po: _I64, tc: U64,
                to: _I64, tp: _I64, out: U64) -> None:
    """Add ``sum_i e_x * Z_x + w_x * y_x + h_x`` over the row pairs of ``tab`` into ``out[x]``, x < npts.

    ``aux[i]`` holds eq, w, y, h (extension) of row ``i``; ``_x`` is the
    value at ``lo + x * (hi - lo)`` of rows ``2i`` and ``2i + 1``
    (reference: the loop of ``_batched.prove_batched``).
    """
    half = tab.shape[0] // 2
    lanes = tab.shape[2]
    base = lanes == 1
    nz = cols.shape[0]
    lo = np.zeros((nz, 4), dtype=np.uint64)
    df = np.zeros((nz, 4), dtype=np.uint64)
    v = np.zeros((nz, 7), dtype=np.uint64)
    alo = np.zeros((4, 4), dtype=np.uint64)
    adf = np.zeros((4, 4), dtype=np.uint64)
    ax = np.zeros((4, 4), dtype=np.uint64)
    pv = np.zeros((po.shape[0] - 1, 7), dtype=np.uint64)
    for i in range(half):
        for j in range(nz):
            c = cols[j]
            for ln in range(lanes):
                a = tab[2 * i, c, ln]
                lo[j, ln] = a
                df[j, ln] = (tab[2 * i + 1, c, ln] + _P - a) % _P
        for j in range(4):
            for ln in range(4):
                a = aux[2 * i, j, ln]
                alo[j, ln] = a
                adf[j, ln] = (aux[2 * i + 1, j, ln] + _P - a) % _P
        for x in range(npts):
            xu = np.uint64(x)
            for j in range(nz):
                for ln in range(lanes):
                    v[j, ln] = (lo[j, ln] + xu * df[j, ln]) % _P
                if not base:
                    for ln in range(1, 4):
                        v[j, 3 + ln] = (v[j, ln] * _W) % _P
            for j in range(4):
                for ln in range(4):
                    ax[j, ln] = (alo[j, ln] + xu * adf[j, ln]) % _P
            z0, z1, z2, z3 = eval_point(v, base, mc, mo, mf, po, tc, to, tp, pv)
            e0, e1, e2, e3 = emul(ax[0, 0], ax[0, 1], ax[0, 2], ax[0, 3], z0, z1, z2, z3)
            s0, s1, s2, s3 = emul(ax[1, 0], ax[1, 1], ax[1, 2], ax[1, 3], ax[2, 0], ax[2, 1], ax[2, 2], ax[2, 3])
            out[x, 0] = (out[x, 0] + e0 + s0 + ax[3, 0]) % _P
            out[x, 1] = (out[x, 1] + e1 + s1 + ax[3, 1]) % _P
            out[x, 2] = (out[x, 2] + e2 + s2 + ax[3, 2]) % _P
            out[x, 3] = (out[x, 3] + e3 + s3 + ax[3, 3]) % _P


@njit
def fold_rows(tab: U64, q0: U, q1: U, q2: U, q3: U, out: U64) -> None:
    """``out[i] = tab[2i] + r * (tab[2i+1] - tab[2i])`` for every column (reference: ``_mle.fold``)."""
    half = tab.shape[0] // 2
    r0, r1, r2, r3 = np.uint64(q0), np.uint64(q1), np.uint64(q2), np.uint64(q3)
    for i in range(half):
        for c in range(tab.shape[1]):
            if tab.shape[2] == 1:
                a = tab[2 * i, c, 0]
                d = (tab[2 * i + 1, c, 0] + _P - a) % _P
                out[i, c, 0] = (a + r0 * d) % _P
                out[i, c, 1] = (r1 * d) % _P
                out[i, c, 2] = (r2 * d) % _P
                out[i, c, 3] = (r3 * d) % _P
            else:
                d0 = (tab[2 * i + 1, c, 0] + _P - tab[2 * i, c, 0]) % _P
                d1 = (tab[2 * i + 1, c, 1] + _P - tab[2 * i, c, 1]) % _P
                d2 = (tab[2 * i + 1, c, 2] + _P - tab[2 * i, c, 2]) % _P
                d3 = (tab[2 * i + 1, c, 3] + _P - tab[2 * i, c, 3]) % _P
                m0, m1, m2, m3 = emul(r0, r1, r2, r3, d0, d1, d2, d3)
                out[i, c, 0] = (tab[2 * i, c, 0] + m0) % _P
                out[i, c, 1] = (tab[2 * i, c, 1] + m1) % _P
                out[i, c, 2] = (tab[2 * i, c, 2] + m2) % _P
                out[i, c, 3] = (tab[2 * i, c, 3] + m3) % _P


@njit
def expr_rows(tab: U64, cols: _I64, mc: U64, mo: _I64, mf: _I64, po: _I64, tc: U64, to: _I64, tp: _I64,
              out: U64) -> None:
    """``out[i]`` = the expression on row ``i`` of ``tab`` (reference: ``Expr.eval_vec``)."""
    lanes = tab.shape[2]
    nz = cols.shape[0]
    v = np.zeros((nz, 7), dtype=np.uint64)
    pv = np.zeros((po.shape[0] - 1, 7), dtype=np.uint64)
    for i in range(tab.shape[0]):
        for j in range(nz):
            for ln in range(lanes):
                v[j, ln] = tab[i, cols[j], ln]
            if lanes == 4:
                for ln in range(1, 4):
                    v[j, 3 + ln] = (v[j, ln] * _W) % _P
        z0, z1, z2, z3 = eval_point(v, lanes == 1, mc, mo, mf, po, tc, to, tp, pv)
        out[i, 0] = z0
        out[i, 1] = z1
        out[i, 2] = z2
        out[i, 3] = z3
