"""Number-theoretic transforms over BabyBear's 2-adic subgroups, vectorized.

Conventions
-----------
* ``ntt(coeffs)`` evaluates the polynomial ``Σ c_i X^i`` (length ``n = 2^k``)
  at ``ω^0, ω^1, ..., ω^(n-1)`` in natural order, where ``ω = root_of_unity(k)``
  ``= GENERATOR^((P-1)/2^k)``.  ``intt`` is its inverse.
* Both act on the **last axis**, so a 2-D array ``(rows, n)`` transforms every
  row at once (this is how the commitment Reed–Solomon encodes its matrix).
* ``coset_ntt(coeffs, shift)`` evaluates at ``shift·ω^j``.
* ``lde(evals, blowup, shift)``: given evaluations on the size-``n`` subgroup,
  returns evaluations of the same (degree < n) polynomial on the coset
  ``shift·H'`` of size ``n·blowup``.
* ``rs_encode(message, blowup)`` treats each row of ``message`` as
  coefficients and returns the Reed–Solomon codeword of length
  ``n·blowup`` (evaluations on the subgroup of that size; rate 1/blowup).

The transform is an iterative radix-2 Cooley–Tukey: inputs are permuted into
bit-reversed order once, then each of the ``k`` stages is a handful of numpy
operations over the whole array (butterflies ``u ± t·v`` with a twiddle row
broadcast across blocks).  The numba backend (``_kernels``) runs the same
stages in one compiled loop (``_kernels_jit.ntt_rows``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._errors import InvalidParameters
from ._field import GENERATOR, P, TWO_ADICITY, U64, inv, vadd, vmul, vsub
from ._kernels import backend

__all__ = [
    "root_of_unity",
    "ntt",
    "intt",
    "coset_ntt",
    "coset_intt",
    "lde",
    "rs_encode",
    "ntt_reference",
]


def _log2_exact(n: int, field: str) -> int:
    if n < 1 or n & (n - 1):
        raise InvalidParameters(field, n, "a power of two >= 1")
    k = n.bit_length() - 1
    if k > TWO_ADICITY:
        raise InvalidParameters(field, n, f"at most 2^{TWO_ADICITY} (BabyBear's 2-adicity)")
    return k


def root_of_unity(log_n: int) -> int:
    """A primitive 2^log_n-th root of unity: GENERATOR^((P-1) / 2^log_n)."""
    if not 0 <= log_n <= TWO_ADICITY:
        raise InvalidParameters("log_n", log_n, f"in [0, {TWO_ADICITY}]")
    return pow(GENERATOR, (P - 1) >> log_n, P)


@lru_cache(maxsize=64)
def _bitrev(k: int) -> U64:
    n = 1 << k
    idx = np.arange(n, dtype=np.uint64)
    rev = np.zeros(n, dtype=np.uint64)
    for b in range(k):
        rev |= ((idx >> np.uint64(b)) & np.uint64(1)) << np.uint64(k - 1 - b)
    rev.setflags(write=False)
    return rev


@lru_cache(maxsize=64)
def _twiddles(k: int, inverse: bool) -> U64:
    """Powers w^0..w^(n/2-1) of the (inverse) primitive 2^k-th root, read-only."""
    w = root_of_unity(k)
    if inverse:
        w = inv(w)
    half = max(1, (1 << k) // 2)
    out = np.empty(half, dtype=np.uint64)
    out[0] = 1
    # Doubling: powers [0, m) times w^m give [m, 2m).
    m = 1
    while m < half:
        step = pow(w, m, P)
        out[m : 2 * m] = vmul(out[:m], np.uint64(step))  # type: ignore[arg-type]
        m *= 2
    out.setflags(write=False)
    return out


def _transform(values: U64, inverse: bool) -> U64:
    arr = np.asarray(values, dtype=np.uint64)
    n = arr.shape[-1]
    k = _log2_exact(n, "len")
    lead = arr.shape[:-1]
    tw_all = _twiddles(k, inverse)
    if backend() == "numba":
        from ._kernels_jit import ntt_padded

        a = ntt_padded(np.ascontiguousarray(arr.reshape(-1, n)), _bitrev(k), tw_all)  # the same stages
        half = n
    else:
        a = np.ascontiguousarray(arr.reshape(-1, n)[:, _bitrev(k).astype(np.intp)])
        half = 1
    rows = a.shape[0]
    while half < n:
        # Stage with butterflies of span 2*half: twiddles are w_{2half}^j = w_n^(j * n/(2half)).
        tw = tw_all[:: n // (2 * half)][:half]
        blocks = a.reshape(rows, n // (2 * half), 2, half)
        u = blocks[:, :, 0, :]
        t = vmul(blocks[:, :, 1, :], tw)
        new = np.empty_like(blocks)
        new[:, :, 0, :] = vadd(u, t)
        new[:, :, 1, :] = vsub(u, t)
        a = new.reshape(rows, n)
        half *= 2
    if inverse:
        a = vmul(a, np.uint64(inv(n)))  # type: ignore[arg-type]
    return a.reshape(*lead, n)


def ntt(coeffs: U64) -> U64:
    """Evaluations at ω^0..ω^(n-1) of the polynomial(s) with these coefficients (last axis)."""
    return _transform(coeffs, inverse=False)


def intt(evals: U64) -> U64:
    """Coefficients of the polynomial(s) with these evaluations at ω^0..ω^(n-1)."""
    return _transform(evals, inverse=True)


def _shift_powers(n: int, shift: int) -> U64:
    out = np.empty(n, dtype=np.uint64)
    out[0] = 1
    m = 1
    while m < n:
        step = pow(shift, m, P)
        out[m : min(2 * m, n)] = vmul(out[: min(m, n - m)], np.uint64(step))  # type: ignore[arg-type]
        m *= 2
    return out


def coset_ntt(coeffs: U64, shift: int) -> U64:
    """Evaluations at shift·ω^j (j < n) of the polynomial(s) with these coefficients."""
    arr = np.asarray(coeffs, dtype=np.uint64)
    return ntt(vmul(arr, _shift_powers(arr.shape[-1], shift % P)))


def coset_intt(evals: U64, shift: int) -> U64:
    """Inverse of :func:`coset_ntt`: coefficients from evaluations at shift·ω^j."""
    if shift % P == 0:
        raise InvalidParameters("shift", shift, "nonzero mod P")
    coeffs = intt(evals)
    return vmul(coeffs, _shift_powers(coeffs.shape[-1], inv(shift % P)))


def _pad(coeffs: U64, m: int) -> U64:
    n = coeffs.shape[-1]
    out = np.zeros((*coeffs.shape[:-1], m), dtype=np.uint64)
    out[..., :n] = coeffs
    return out


def lde(evals: U64, blowup: int, shift: int = 1) -> U64:
    """Low-degree extension: evaluations on H (size n) -> on shift·H' (size n·blowup)."""
    _log2_exact(blowup, "blowup")
    arr = np.asarray(evals, dtype=np.uint64)
    coeffs = intt(arr)
    return coset_ntt(_pad(coeffs, arr.shape[-1] * blowup), shift)


def rs_encode(message: U64, blowup: int) -> U64:
    """Reed–Solomon codeword(s): each row of ``message`` as coefficients, evaluated
    on the subgroup of size ``len·blowup`` (rate 1/blowup)."""
    _log2_exact(blowup, "blowup")
    arr = np.asarray(message, dtype=np.uint64)
    m = arr.shape[-1] * blowup
    if backend() == "numba":  # padding fused into the kernel's bit-reversed copy
        from ._kernels_jit import ntt_padded

        k = _log2_exact(m, "len")
        rows = np.ascontiguousarray(arr.reshape(-1, arr.shape[-1]))
        return ntt_padded(rows, _bitrev(k), _twiddles(k, False)).reshape(*arr.shape[:-1], m)
    return ntt(_pad(arr, m))


def ntt_reference(coeffs: list[int]) -> list[int]:
    """Slow O(n^2) pure-Python NTT, the reference the vectorized one is tested against."""
    n = len(coeffs)
    w = root_of_unity(_log2_exact(n, "len"))
    out = []
    for j in range(n):
        x = pow(w, j, P)
        acc = 0
        for c in reversed(coeffs):
            acc = (acc * x + c) % P
        out.append(acc)
    return out
