"""Structure-of-arrays extension tables for the sum-check hot loops (private).

The public layout of an extension vector is ``(n, 4)`` (one row per element).
Inside the provers, extension tables are kept transposed, shape ``(4, n)``,
so each coefficient is a contiguous row: numpy then streams every operand
instead of striding over columns, which measured about 1.7x faster for the
products.  Base tables stay ``(n,)``.  Nothing outside the sum-check sees
this layout; the values (and so the proofs) are the same field elements.

Every function accepts a base table ``(n,)`` or an SoA table ``(4, n)`` and
slices with ``t[..., 0::2]`` so both layouts pair entries the same way.
"""

from __future__ import annotations

import numpy as np

from ._field import EXT_W, P, U64, Ext, _mul_matrix, vadd, vmul, vsub, vsum

__all__ = ["soa_mul", "soa_fold", "soa_sum", "soa_add", "soa_from_aos", "soa_first"]

_P64 = np.uint64(P)
_W64 = np.uint64(EXT_W)


def soa_from_aos(a: U64) -> U64:
    """(n, 4) -> contiguous (4, n)."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.uint64).T)


def _ext_ext(a: U64, b: U64) -> U64:
    a0, a1, a2, a3 = a
    b0, b1, b2, b3 = b
    out = np.empty((4, a.shape[1]), dtype=np.uint64)
    # Each sum holds at most four products of canonical values (< 4·P^2 < 2^64);
    # the X^4..X^6 parts are reduced before the ×11.
    h = a1 * b3
    h += a2 * b2
    h += a3 * b1
    h %= _P64
    h *= _W64
    h += a0 * b0
    np.remainder(h, _P64, out=out[0])
    h = a2 * b3
    h += a3 * b2
    h %= _P64
    h *= _W64
    h += a0 * b1
    h += a1 * b0
    np.remainder(h, _P64, out=out[1])
    h = a3 * b3
    h %= _P64
    h *= _W64
    h += a0 * b2
    h += a1 * b1
    h += a2 * b0
    np.remainder(h, _P64, out=out[2])
    h = a0 * b3
    h += a1 * b2
    h += a2 * b1
    h += a3 * b0
    np.remainder(h, _P64, out=out[3])
    return out


def soa_mul(a: U64, b: U64) -> U64:
    """Elementwise product of base (n,) / SoA (4, n) tables."""
    if a.ndim == 1 and b.ndim == 1:
        return vmul(a, b)
    if a.ndim == 1:
        return vmul(b, a[None, :])
    if b.ndim == 1:
        return vmul(a, b[None, :])
    return _ext_ext(a, b)


def soa_add(a: U64, b: U64) -> U64:
    """Elementwise sum of base / SoA tables (a base table is lifted if mixed)."""
    if a.ndim == b.ndim:
        return vadd(a, b)
    if a.ndim == 1:
        a, b = b, a
    out = a.copy()
    out[0] = vadd(a[0], b)
    return out


def soa_sum(a: U64) -> Ext:
    """Σ of a base or SoA table, as an extension scalar."""
    if a.ndim == 1:
        return (int(vsum(a)), 0, 0, 0)
    s = vsum(a, axis=1)
    return (int(s[0]), int(s[1]), int(s[2]), int(s[3]))


def soa_first(a: U64) -> Ext:
    """Entry 0 of a base or SoA table, as an extension scalar."""
    if a.ndim == 1:
        return (int(a[0]), 0, 0, 0)
    return (int(a[0, 0]), int(a[1, 0]), int(a[2, 0]), int(a[3, 0]))


def soa_fold(t: U64, r: Ext, diff: U64 | None = None) -> U64:
    """Bind the lowest variable to ``r``: ``lo + r·(hi - lo)``, an SoA (4, n/2) result.

    ``diff`` may be ``hi - lo`` already computed by the round.
    """
    lo = t[..., 0::2]
    if diff is None:
        diff = vsub(t[..., 1::2], lo)
    if t.ndim == 1:
        out = vmul(np.array(r, dtype=np.uint64)[:, None], diff[None, :])
        out[0] = vadd(out[0], lo)
        return out
    m = _mul_matrix(r)  # row i: coefficients of X^i · r
    res = np.empty(diff.shape, dtype=np.uint64)
    for j in range(4):
        acc = diff[0] * m[0, j]
        acc += diff[1] * m[1, j]
        acc += diff[2] * m[2, j]
        acc += diff[3] * m[3, j]
        np.remainder(acc, _P64, out=res[j])
    return vadd(lo, res)
