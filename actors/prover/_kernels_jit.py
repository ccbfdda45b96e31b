"""numba kernels for BabyBear and its quartic extension (imported only by the numba backend).

Each kernel has a numpy reference it is tested against (named in its
docstring).  Overflow bounds are the numpy code's: a product of two
canonical values is below P^2 < 2^62, and at most four such products are
summed before a reduction (4·P^2 < 2^64).  ``%`` by the constant P compiles
to a multiply and shifts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

from ._field import EXT_W, P, U64

__all__ = ["U", "njit", "emul", "emul_w", "vext_mul_rows", "ntt_rows", "ntt_padded"]

U = np.uint64
"""One canonical field value (the scalar type of the kernels)."""

_F = TypeVar("_F", bound=Callable[..., Any])
_P = np.uint64(P)
_W = np.uint64(EXT_W)


def njit(fn: _F) -> _F:
    """``numba.njit`` with an on-disk cache (a typed wrapper: numba itself is untyped)."""
    jitted: Any = numba.njit(cache=True, nogil=True)(fn)
    return cast(_F, jitted)


@njit
def emul(a0: U, a1: U, a2: U, a3: U, b0: U, b1: U, b2: U, b3: U) -> tuple[U, U, U, U]:
    """One extension product, coefficient tuples in and out (reference: ``_field.ext_mul``)."""
    h4 = (a1 * b3 + a2 * b2 + a3 * b1) % _P
    h5 = (a2 * b3 + a3 * b2) % _P
    h6 = (a3 * b3) % _P
    return ((a0 * b0 + h4 * _W) % _P, (a0 * b1 + a1 * b0 + h5 * _W) % _P,
            (a0 * b2 + a1 * b1 + a2 * b0 + h6 * _W) % _P, (a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0) % _P)


@njit
def emul_w(a0: U, a1: U, a2: U, a3: U, b0: U, b1: U, b2: U, b3: U, w1: U, w2: U, w3: U) -> tuple[U, U, U, U]:
    """:func:`emul` given ``w_i = 11 * b_i mod P`` too: every output sums four products, one reduction."""
    return ((a0 * b0 + a1 * w3 + a2 * w2 + a3 * w1) % _P, (a0 * b1 + a1 * b0 + a2 * w3 + a3 * w2) % _P,
            (a0 * b2 + a1 * b1 + a2 * b0 + a3 * w3) % _P, (a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0) % _P)


@njit
def vext_mul_rows(a: U64, b: U64) -> U64:
    """Row-wise products of two ``(n, 4)`` extension arrays (reference: ``_field.vext_mul``)."""
    out = np.empty(a.shape, dtype=np.uint64)
    for i in range(a.shape[0]):
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = emul(a[i, 0], a[i, 1], a[i, 2], a[i, 3],
                                                          b[i, 0], b[i, 1], b[i, 2], b[i, 3])
    return out


@njit
def ntt_rows(a: U64, tw: U64) -> None:
    """In place: the radix-2 stages of ``_ntt._transform`` on bit-reversed rows ``a`` (rows, n).

    ``tw`` holds w^0..w^(n/2-1) of the transform's root; a stage of span
    ``2·half`` uses every ``n/(2·half)``-th of them, as the numpy code does.
    """
    rows, n = a.shape
    for r in range(rows):
        half = 1
        while half < n:
            step = n // (2 * half)
            for start in range(0, n, 2 * half):
                for j in range(half):
                    u = a[r, start + j]
                    t = (a[r, start + j + half] * tw[j * step]) % _P
                    s = u + t
                    a[r, start + j] = s - _P if s >= _P else s
                    s = u + _P - t
                    a[r, start + j + half] = s - _P if s >= _P else s
            half *= 2


@njit
def ntt_padded(a: U64, rev: U64, tw: U64) -> U64:
    """The transform of each row of ``a`` (rows, n) zero-padded to ``len(rev)``, as a new array.

    ``rev`` is the bit-reversal permutation of the padded length and ``tw``
    its twiddles (reference: ``_ntt.ntt(_ntt._pad(a, len(rev)))``).
    """
    rows, n = a.shape
    m = rev.shape[0]
    out = np.zeros((rows, m), dtype=np.uint64)
    for r in range(rows):
        for i in range(n):
            out[r, rev[i]] = a[r, i]
    ntt_rows(out, tw)
    return out
