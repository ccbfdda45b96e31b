"""BabyBear (p = 15·2^27 + 1) and its quartic extension F_p[X]/(X^4 - 11), vectorized.

Why BabyBear: elements fit in 31 bits, so the product of two canonical values
(< 2^62) fits in a ``uint64`` and numpy can multiply whole arrays and reduce
them with one ``%``; the multiplicative group has 2-adicity 27, so NTTs of any
power-of-two size up to 2^27 exist.  Challenges live in the degree-4 extension
(about 2^124 elements), which is what makes sum-check sound.

Representations (the contract every prover module and the commitment use)
--------------------------------------------------------------------------
* **Base scalar**: a Python ``int`` in ``[0, P)``.
* **Base vector**: ``NDArray[np.uint64]`` of any shape, every entry canonical
  (in ``[0, P)``).  Functions never mutate their inputs.
* **Extension scalar** (:data:`Ext`): a 4-tuple of canonical ints
  ``(c0, c1, c2, c3)`` meaning ``c0 + c1·X + c2·X^2 + c3·X^3``.
* **Extension vector**: ``NDArray[np.uint64]`` of shape ``(n, 4)`` (row ``i``
  is element ``i``'s four coefficients, lowest degree first).

Scalar functions (``add``, ``mul``, ``inv``, ``ext_mul``...) are plain
Python and serve as the slow reference; vector functions carry a ``v`` prefix
(``vmul``, ``vext_mul``...) and are property-tested against them.

Products of ``k`` canonical values are summed in ``uint64`` only while the
sum provably stays below 2^64 (``4·(P-1)^2 < 2^64``); every such place says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ._errors import InvalidParameters, ProverError
from ._kernels import backend

__all__ = [
    "P",
    "TWO_ADICITY",
    "GENERATOR",
    "EXT_W",
    "Ext",
    "U64",
    "NotInvertible",
    "ByteSource",
    # base scalar
    "add",
    "sub",
    "mul",
    "neg",
    "inv",
    "power",
    # base vector
    "as_base",
    "vadd",
    "vsub",
    "vmul",
    "vneg",
    "vinv",
    "vpow",
    "vsum",
    "vdot",
    "sample_base",
    "expand_base",
    # extension scalar
    "EXT_ZERO",
    "EXT_ONE",
    "ext",
    "ext_add",
    "ext_sub",
    "ext_mul",
    "ext_neg",
    "ext_inv",
    "ext_pow",
    "ext_scale",
    "ext_frobenius",
    # extension vector
    "as_ext",
    "ext_zeros",
    "lift",
    "vext_add",
    "vext_sub",
    "vext_mul",
    "vext_neg",
    "vext_inv",
    "vext_scale",
    "vext_mul_scalar",
    "vext_add_scalar",
    "vext_sum",
    "vext_to_list",
    "expand_ext",
]

P = 15 * 2**27 + 1
"""The BabyBear prime, 2013265921."""
TWO_ADICITY = 27
"""2^27 is the largest power of two dividing P - 1."""
GENERATOR = 31
"""A generator of the multiplicative group F_p^* (checked in the tests)."""
EXT_W = 11
"""The extension is F_p[X]/(X^4 - EXT_W); 11 is a non-square mod P and P = 1 mod 4."""

U64 = NDArray[np.uint64]
Ext = tuple[int, int, int, int]

_P64 = np.uint64(P)
_W64 = np.uint64(EXT_W)


class NotInvertible(ProverError, ZeroDivisionError):
    """Zero has no inverse; ``index`` says where in a batch the zero was."""

    def __init__(self, index: int | None = None) -> None:
        where = "" if index is None else f" at index {index}"
        super().__init__(f"field element{where} is zero and has no inverse")
        self.index = index


class ByteSource(Protocol):
    """Anything that hands out uniform bytes (``stele.EnvRandom`` does)."""

    def bytes(self, n: int) -> bytes:
        """``n`` uniform bytes."""
        ...


# --------------------------------------------------------------------------- base scalar


def add(a: int, b: int) -> int:
    """a + b mod P."""
    return (a + b) % P


def sub(a: int, b: int) -> int:
    """a - b mod P."""
    return (a - b) % P


def mul(a: int, b: int) -> int:
    """a · b mod P."""
    return (a * b) % P


def neg(a: int) -> int:
    """-a mod P."""
    return (-a) % P


def inv(a: int) -> int:
    """a^-1 mod P (Fermat); :class:`NotInvertible` for zero."""
    if a % P == 0:
        raise NotInvertible()
    return pow(a, P - 2, P)


def power(a: int, e: int) -> int:
    """a^e mod P for any integer e (negative exponents invert)."""
    if e < 0:
        return pow(inv(a), -e, P)
    return pow(a, e, P)


# --------------------------------------------------------------------------- base vector


def as_base(values: Iterable[int] | NDArray[np.integer] | int, *, field: str = "values") -> U64:
    """Canonical ``uint64`` array from ints or an array; rejects values outside [0, P)."""
    if isinstance(values, np.ndarray):
        arr = np.asarray(values)
        if arr.dtype.kind not in "iu":
            raise InvalidParameters(f"{field}.dtype", str(arr.dtype), "an integer dtype")
        if arr.dtype == np.uint64:
            out = arr
        else:
            if arr.size and (int(arr.min()) < 0):
                raise InvalidParameters(field, int(arr.min()), f"must be in [0, {P})")
            out = arr.astype(np.uint64)
    elif isinstance(values, int):
        if not 0 <= values < P:
            raise InvalidParameters(field, values, f"must be in [0, {P})")
        out = np.array([values], dtype=np.uint64)
    else:
        items = list(values)
        for i, v in enumerate(items):
            if not 0 <= v < P:
                raise InvalidParameters(f"{field}[{i}]", v, f"must be in [0, {P})")
        out = np.array(items, dtype=np.uint64)
    if out.size and int(out.max()) >= P:
        raise InvalidParameters(field, int(out.max()), f"must be in [0, {P})")
    return out


def vadd(a: U64, b: U64) -> U64:
    """Elementwise a + b mod P (broadcasting)."""
    s: U64 = np.add(a, b, dtype=np.uint64)
    # Branchless: s - P wraps around to a huge value exactly when s < P.
    np.minimum(s, s - _P64, out=s)
    return s


def vsub(a: U64, b: U64) -> U64:
    """Elementwise a - b mod P (broadcasting)."""
    s: U64 = np.add(a, _P64 - b, dtype=np.uint64)
    np.minimum(s, s - _P64, out=s)
    return s


def vmul(a: U64, b: U64) -> U64:
    """Elementwise a · b mod P (products < 2^62 fit in uint64; broadcasting)."""
    prod: U64 = np.multiply(a, b, dtype=np.uint64)
    np.remainder(prod, _P64, out=prod)
    return prod


def vneg(a: U64) -> U64:
    """Elementwise -a mod P."""
    out: U64 = np.subtract(_P64, a, dtype=np.uint64)
    out[out == _P64] = 0
    return out


def vpow(a: U64, e: int) -> U64:
    """Elementwise a^e mod P by square-and-multiply over the whole array (e >= 0)."""
    if e < 0:
        return vpow(vinv(a), -e)
    result: U64 = np.ones_like(a, dtype=np.uint64)
    base = np.array(a, dtype=np.uint64, copy=True)
    while e:
        if e & 1:
            result = vmul(result, base)
        e >>= 1
        if e:
            base = vmul(base, base)
    return result


def vsum(a: U64, axis: int | None = None) -> U64:
    """Sum mod P along ``axis`` (all entries if None); exact for any length.

    Canonical values are < 2^31, so blocks of 2^32 - 1 entries sum without
    overflow; numpy's sum is exact in uint64 and we reduce once per block.
    """
    arr = np.asarray(a, dtype=np.uint64)
    if axis is None:
        arr = arr.reshape(-1)
        axis = 0
    n = arr.shape[axis]
    block = 2**32 - 1
    if n <= block:
        out: U64 = np.remainder(arr.sum(axis=axis, dtype=np.uint64), _P64)
        return out
    parts = [vsum(np.take(arr, np.arange(i, min(i + block, n)), axis=axis), axis) for i in range(0, n, block)]
    acc = parts[0]
    for part in parts[1:]:
        acc = vadd(acc, part)
    return acc


def vdot(a: U64, b: U64) -> int:
    """Σ a_i · b_i mod P over 1-D arrays (products reduced before summing)."""
    return int(vsum(vmul(a, b)))


def vinv(a: U64) -> U64:
    """Batch inverse of a 1-D (or any-shape) array by a vectorized Montgomery trick.

    A product tree is built level by level (one vector multiply per level),
    only the root is inverted, and the inverses are pushed back down
    (two vector multiplies per level): about 3 multiplies per element and
    one exponentiation in total.  :class:`NotInvertible` names the first zero.
    """
    arr = np.asarray(a, dtype=np.uint64)
    shape = arr.shape
    flat = arr.reshape(-1)
    zeros = np.flatnonzero(flat == 0)
    if zeros.size:
        raise NotInvertible(int(zeros[0]))
    if flat.size == 0:
        return flat.reshape(shape).copy()
    levels: list[U64] = [flat]
    while levels[-1].size > 1:
        cur = levels[-1]
        if cur.size % 2:
            cur = np.concatenate([cur, np.ones(1, dtype=np.uint64)])
            levels[-1] = cur
        levels.append(vmul(cur[0::2], cur[1::2]))
    invs = np.array([inv(int(levels[-1][0]))], dtype=np.uint64)
    for level in reversed(levels[:-1]):
        invs = invs[: level.size // 2]  # drop the inverse of a padding 1
        down = np.empty(level.size, dtype=np.uint64)
        down[0::2] = vmul(invs, level[1::2])
        down[1::2] = vmul(invs, level[0::2])
        invs = down
    return invs[: flat.size].reshape(shape)


def _rejection_base(stream: bytes, n: int) -> tuple[U64, int]:
    """Accept little-endian 31-bit words below P from ``stream``; (values, count)."""
    words = np.frombuffer(stream[: len(stream) // 4 * 4], dtype="<u4").astype(np.uint64)
    words &= np.uint64(0x7FFFFFFF)
    ok = words[words < _P64]
    return ok[:n].copy(), int(min(n, ok.size))


def expand_base(seed: bytes, n: int, *, label: bytes = b"") -> U64:
    """``n`` uniform base elements derived deterministically from ``seed``.

    SHAKE-256 expands ``label || seed`` into a stream of 32-bit words; the top
    bit is dropped and words >= P are rejected, so every output is exactly
    uniform (no modular bias).  Acceptance is P / 2^31 ~ 0.94 per word.
    """
    if n < 0:
        raise InvalidParameters("n", n, ">= 0")
    prefix = len(label).to_bytes(4, "little") + label + seed
    want = n * 4 + n // 2 + 64
    while True:
        stream = hashlib.shake_256(prefix).digest(want)
        vals, got = _rejection_base(stream, n)
        if got == n:
            return vals
        want *= 2


def sample_base(source: ByteSource, n: int) -> U64:
    """``n`` uniform base elements drawn from a byte source such as ``env.rng``."""
    return expand_base(source.bytes(32), n, label=b"stele.prover.sample_base")


# --------------------------------------------------------------------------- extension scalar

EXT_ZERO: Ext = (0, 0, 0, 0)
EXT_ONE: Ext = (1, 0, 0, 0)


def ext(c0: int, c1: int = 0, c2: int = 0, c3: int = 0) -> Ext:
    """An extension element from its coefficients (reduced mod P)."""
    return (c0 % P, c1 % P, c2 % P, c3 % P)


def ext_add(a: Ext, b: Ext) -> Ext:
    """a + b in the extension."""
    return ((a[0] + b[0]) % P, (a[1] + b[1]) % P, (a[2] + b[2]) % P, (a[3] + b[3]) % P)


def ext_sub(a: Ext, b: Ext) -> Ext:
    """a - b in the extension."""
    return ((a[0] - b[0]) % P, (a[1] - b[1]) % P, (a[2] - b[2]) % P, (a[3] - b[3]) % P)


def ext_neg(a: Ext) -> Ext:
    """-a in the extension."""
    return ((-a[0]) % P, (-a[1]) % P, (-a[2]) % P, (-a[3]) % P)


def ext_mul(a: Ext, b: Ext) -> Ext:
    """a · b: schoolbook product, then X^4 = 11."""
    c = [0] * 7
    for i in range(4):
        for j in range(4):
            c[i + j] += a[i] * b[j]
    return (
        (c[0] + EXT_W * c[4]) % P,
        (c[1] + EXT_W * c[5]) % P,
        (c[2] + EXT_W * c[6]) % P,
        c[3] % P,
    )


def ext_scale(a: Ext, s: int) -> Ext:
    """a · s for a base scalar s."""
    return ((a[0] * s) % P, (a[1] * s) % P, (a[2] * s) % P, (a[3] * s) % P)


_FROB = pow(EXT_W, (P - 1) // 4, P)
"""X^P = X · 11^((P-1)/4): the Frobenius scales coefficient i by _FROB^i."""


def ext_frobenius(a: Ext, k: int = 1) -> Ext:
    """a^(P^k), the k-th power of the Frobenius automorphism."""
    g = pow(_FROB, k % 4, P)
    return (a[0], (a[1] * g) % P, (a[2] * g * g) % P, (a[3] * g * g * g) % P)


def ext_inv(a: Ext) -> Ext:
    """a^-1 via the norm: a^-1 = φ(a)φ²(a)φ³(a) / N(a), with N(a) in the base field."""
    if not any(a):
        raise NotInvertible()
    conj = ext_mul(ext_mul(ext_frobenius(a, 1), ext_frobenius(a, 2)), ext_frobenius(a, 3))
    norm = ext_mul(a, conj)
    return ext_scale(conj, inv(norm[0]))


def ext_pow(a: Ext, e: int) -> Ext:
    """a^e in the extension (negative exponents invert)."""
    if e < 0:
        return ext_pow(ext_inv(a), -e)
    result = EXT_ONE
    base = a
    while e:
        if e & 1:
            result = ext_mul(result, base)
        e >>= 1
        base = ext_mul(base, base)
    return result


# --------------------------------------------------------------------------- extension vector


def ext_zeros(n: int) -> U64:
    """``n`` zero extension elements, shape (n, 4)."""
    return np.zeros((n, 4), dtype=np.uint64)


def as_ext(values: Sequence[Ext] | U64, *, field: str = "values") -> U64:
    """Canonical (n, 4) ``uint64`` array from extension tuples or an array."""
    if isinstance(values, np.ndarray):
        arr = values
    else:
        arr = np.array([list(v) for v in values], dtype=object).reshape(-1, 4)
        if arr.size and (min(int(x) for x in arr.flat) < 0 or max(int(x) for x in arr.flat) >= P):
            raise InvalidParameters(field, "out of range", f"coefficients in [0, {P})")
        arr = arr.astype(np.uint64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise InvalidParameters(f"{field}.shape", tuple(arr.shape), "(n, 4)")
    out = np.asarray(arr, dtype=np.uint64)
    if out.size and int(out.max()) >= P:
        raise InvalidParameters(field, int(out.max()), f"coefficients in [0, {P})")
    return out


def lift(a: U64) -> U64:
    """Embed a 1-D base vector into the extension: shape (n,) -> (n, 4)."""
    out = np.zeros((a.shape[0], 4), dtype=np.uint64)
    out[:, 0] = a
    return out


def vext_add(a: U64, b: U64) -> U64:
    """Elementwise a + b for (n, 4) arrays."""
    return vadd(a, b)


def vext_sub(a: U64, b: U64) -> U64:
    """Elementwise a - b for (n, 4) arrays."""
    return vsub(a, b)


def vext_neg(a: U64) -> U64:
    """Elementwise -a for (n, 4) arrays."""
    return vneg(a)


def vext_mul(a: U64, b: U64) -> U64:
    """Elementwise a · b for (n, 4) arrays (broadcasting over rows).

    Low sums hold at most four products (< 4·P^2 < 2^64); the high sums
    (coefficients of X^4..X^6) are reduced before the ×11 and added once.
    The numba backend (``_kernels``) multiplies equal-shape ``(n, 4)`` arrays in one loop.
    """
    if a.ndim == 2 and a.shape == b.shape and a.shape[1] == 4 and backend() == "numba":
        from ._kernels_jit import vext_mul_rows

        out_rows: U64 = vext_mul_rows(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))
        return out_rows
    if a.ndim == 2 and a.shape == b.shape:
        # Columns are strided in the (n, 4) layout; one transposing copy of
        # each operand makes every column contiguous and pays for itself ~1.7x.
        a0, a1, a2, a3 = np.ascontiguousarray(a.T)
        b0, b1, b2, b3 = np.ascontiguousarray(b.T)
    else:
        a0, a1, a2, a3 = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
        b0, b1, b2, b3 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    shape = np.broadcast_shapes(a.shape, b.shape)
    out = np.empty(shape, dtype=np.uint64)
    h4 = (a1 * b3 + a2 * b2 + a3 * b1) % _P64
    h5 = (a2 * b3 + a3 * b2) % _P64
    h6 = (a3 * b3) % _P64
    out[..., 0] = (a0 * b0 + h4 * _W64) % _P64
    out[..., 1] = (a0 * b1 + a1 * b0 + h5 * _W64) % _P64
    out[..., 2] = (a0 * b2 + a1 * b1 + a2 * b0 + h6 * _W64) % _P64
    out[..., 3] = (a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0) % _P64
    return out


def vext_scale(a: U64, s: U64) -> U64:
    """Elementwise a · s for an (n, 4) extension array and an (n,) base array."""
    return vmul(a, np.asarray(s, dtype=np.uint64)[..., None])


def _mul_matrix(s: Ext) -> U64:
    """The 4x4 matrix M of multiplication by s: row i holds the coefficients of X^i · s."""
    rows = [ext_mul(tuple(1 if j == i else 0 for j in range(4)), s) for i in range(4)]  # type: ignore[arg-type]
    return np.array(rows, dtype=np.uint64)


def vext_mul_scalar(a: U64, s: Ext) -> U64:
    """Every row of an (n, 4) array times one extension scalar.

    One integer matrix product with s's multiplication matrix: each output
    coefficient sums four products (< 4·P^2 < 2^64), then one reduction.
    """
    out: U64 = np.matmul(np.asarray(a, dtype=np.uint64), _mul_matrix(s))
    np.remainder(out, _P64, out=out)
    return out


def vext_add_scalar(a: U64, s: Ext) -> U64:
    """Every row of an (n, 4) array plus one extension scalar."""
    return vadd(a, np.array(s, dtype=np.uint64))


def _vext_frobenius(a: U64, k: int) -> U64:
    g = pow(_FROB, k % 4, P)
    scale = np.array([1, g, g * g % P, g * g * g % P], dtype=np.uint64)
    return vmul(a, scale)


def vext_inv(a: U64) -> U64:
    """Batch inverse of an (n, 4) array: norms to the base field, one base batch inverse."""
    arr = np.asarray(a, dtype=np.uint64).reshape(-1, 4)
    zero = np.flatnonzero(~arr.any(axis=1))
    if zero.size:
        raise NotInvertible(int(zero[0]))
    conj = vext_mul(vext_mul(_vext_frobenius(arr, 1), _vext_frobenius(arr, 2)), _vext_frobenius(arr, 3))
    norm = vext_mul(arr, conj)[:, 0]
    return vext_scale(conj, vinv(norm)).reshape(a.shape)


def vext_sum(a: U64) -> Ext:
    """Σ of the rows of an (n, 4) array, as an extension scalar."""
    s = vsum(np.asarray(a, dtype=np.uint64).reshape(-1, 4), axis=0)
    return (int(s[0]), int(s[1]), int(s[2]), int(s[3]))


def vext_to_list(a: U64) -> list[Ext]:
    """An (n, 4) array as a list of extension tuples."""
    return [(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in np.asarray(a).reshape(-1, 4).tolist()]


def expand_ext(seed: bytes, n: int, *, label: bytes = b"") -> U64:
    """``n`` uniform extension elements from ``seed`` (see :func:`expand_base`)."""
    return expand_base(seed, 4 * n, label=label).reshape(n, 4)
