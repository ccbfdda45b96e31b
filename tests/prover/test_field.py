"""BabyBear and its quartic extension: vector APIs agree with the scalar reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.prover import (
    EXT_ONE,
    EXT_W,
    GENERATOR,
    P,
    TWO_ADICITY,
    InvalidParameters,
    NotInvertible,
    add,
    as_base,
    as_ext,
    expand_base,
    expand_ext,
    ext,
    ext_add,
    ext_frobenius,
    ext_inv,
    ext_mul,
    ext_neg,
    ext_pow,
    ext_scale,
    ext_sub,
    inv,
    lift,
    mul,
    neg,
    power,
    sample_base,
    sub,
    vadd,
    vdot,
    vext_add,
    vext_add_scalar,
    vext_inv,
    vext_mul,
    vext_mul_scalar,
    vext_neg,
    vext_scale,
    vext_sub,
    vext_sum,
    vext_to_list,
    vinv,
    vmul,
    vneg,
    vpow,
    vsub,
    vsum,
)

felt = st.integers(min_value=0, max_value=P - 1)
nonzero = st.integers(min_value=1, max_value=P - 1)
# Edge values are where reductions go wrong.
edgy = st.one_of(felt, st.sampled_from([0, 1, 2, P - 1, P - 2, (P - 1) // 2, 2**30, 2**31 - P]))
ext_el = st.tuples(edgy, edgy, edgy, edgy)
vec = st.lists(edgy, min_size=0, max_size=40)


def test_constants() -> None:
    assert P == 2013265921 == 15 * 2**27 + 1
    assert (P - 1) % 2**TWO_ADICITY == 0 and ((P - 1) >> TWO_ADICITY) % 2 == 1
    # GENERATOR generates F_p^*: its order is not a proper divisor of P - 1.
    for q in (2, 3, 5):
        assert pow(GENERATOR, (P - 1) // q, P) != 1
    # X^4 - 11 is irreducible: 11 is a non-square and 4 | P - 1.
    assert pow(EXT_W, (P - 1) // 2, P) == P - 1
    assert (P - 1) % 4 == 0


@given(vec, st.data())
def test_vector_ops_match_scalar(xs: list[int], data: st.DataObject) -> None:
    ys = data.draw(st.lists(edgy, min_size=len(xs), max_size=len(xs)))
    a, b = as_base(xs), as_base(ys)
    assert vadd(a, b).tolist() == [add(x, y) for x, y in zip(xs, ys)]
    assert vsub(a, b).tolist() == [sub(x, y) for x, y in zip(xs, ys)]
    assert vmul(a, b).tolist() == [mul(x, y) for x, y in zip(xs, ys)]
    assert vneg(a).tolist() == [neg(x) for x in xs]
    assert int(vsum(a)) == sum(xs) % P
    assert vdot(a, b) == sum(x * y for x, y in zip(xs, ys)) % P
    for out in (vadd(a, b), vsub(a, b), vmul(a, b), vneg(a)):
        assert out.dtype == np.uint64 and (out < P).all()


@given(st.lists(nonzero, min_size=1, max_size=70))
def test_batch_inverse(xs: list[int]) -> None:
    a = as_base(xs)
    assert vinv(a).tolist() == [inv(x) for x in xs]
    assert (vmul(vinv(a), a) == 1).all()


@given(st.lists(nonzero, min_size=1, max_size=20), st.integers(min_value=0, max_value=40))
def test_batch_inverse_names_the_zero(xs: list[int], at: int) -> None:
    at = at % (len(xs) + 1)
    ys = xs[:at] + [0] + xs[at:]
    with pytest.raises(NotInvertible) as info:
        vinv(as_base(ys))
    assert info.value.index == at


@given(vec, st.integers(min_value=0, max_value=2**40))
def test_vpow(xs: list[int], e: int) -> None:
    assert vpow(as_base(xs), e).tolist() == [power(x, e) for x in xs]


def test_inverse_of_zero() -> None:
    with pytest.raises(NotInvertible):
        inv(0)
    with pytest.raises(NotInvertible):
        ext_inv((0, 0, 0, 0))
    assert power(3, -1) == inv(3)


def test_as_base_rejects_out_of_range() -> None:
    with pytest.raises(InvalidParameters) as info:
        as_base([1, P])
    assert "values[1]" in str(info.value) and str(P) in str(info.value)
    with pytest.raises(InvalidParameters):
        as_base(np.array([P], dtype=np.uint64))
    with pytest.raises(InvalidParameters):
        as_base(np.array([-1], dtype=np.int64))
    with pytest.raises(InvalidParameters):
        as_ext([(0, 0, 0, P)])
    with pytest.raises(InvalidParameters, match="dtype"):
        as_base(np.array([1.5]))


def _ext_reference_mul(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Polynomial product reduced by repeatedly replacing X^k (k >= 4) with 11·X^(k-4)."""
    c = [0] * 7
    for i in range(4):
        for j in range(4):
            c[i + j] += a[i] * b[j]
    for k in range(6, 3, -1):
        c[k - 4] += EXT_W * c[k]
        c[k] = 0
    return tuple(x % P for x in c[:4])


@given(ext_el, ext_el, ext_el)
def test_extension_field_axioms(a: tuple[int, int, int, int], b: tuple[int, int, int, int], c: tuple[int, int, int, int]) -> None:
    assert ext_mul(a, b) == _ext_reference_mul(a, b)
    assert ext_mul(a, b) == ext_mul(b, a)
    assert ext_mul(ext_mul(a, b), c) == ext_mul(a, ext_mul(b, c))
    assert ext_mul(a, ext_add(b, c)) == ext_add(ext_mul(a, b), ext_mul(a, c))
    assert ext_add(a, ext_neg(a)) == (0, 0, 0, 0)
    assert ext_sub(a, b) == ext_add(a, ext_neg(b))
    assert ext_mul(a, EXT_ONE) == a
    if any(a):
        assert ext_mul(a, ext_inv(a)) == EXT_ONE
    # Frobenius is the p-th power map and a field automorphism.
    assert ext_frobenius(ext_mul(a, b)) == ext_mul(ext_frobenius(a), ext_frobenius(b))
    assert ext_frobenius(a, 4) == a


def test_frobenius_is_pth_power() -> None:
    a = ext(3, 5, 7, 11)
    assert ext_frobenius(a) == ext_pow(a, P)
    assert ext_pow(a, P**4 - 1) == EXT_ONE
    assert ext_pow(a, -1) == ext_inv(a)


@given(st.lists(ext_el, min_size=1, max_size=30), st.data())
def test_extension_vector_ops_match_scalar(xs: list[tuple[int, int, int, int]], data: st.DataObject) -> None:
    ys = data.draw(st.lists(ext_el, min_size=len(xs), max_size=len(xs)))
    s = data.draw(ext_el)
    bs = data.draw(st.lists(edgy, min_size=len(xs), max_size=len(xs)))
    a, b = as_ext(xs), as_ext(ys)
    assert vext_to_list(vext_mul(a, b)) == [ext_mul(x, y) for x, y in zip(xs, ys)]
    assert vext_to_list(vext_add(a, b)) == [ext_add(x, y) for x, y in zip(xs, ys)]
    assert vext_to_list(vext_sub(a, b)) == [ext_sub(x, y) for x, y in zip(xs, ys)]
    assert vext_to_list(vext_neg(a)) == [ext_neg(x) for x in xs]
    assert vext_to_list(vext_mul_scalar(a, s)) == [ext_mul(x, s) for x in xs]
    assert vext_to_list(vext_add_scalar(a, s)) == [ext_add(x, s) for x in xs]
    assert vext_to_list(vext_scale(a, as_base(bs))) == [ext_scale(x, v) for x, v in zip(xs, bs)]
    acc = (0, 0, 0, 0)
    for x in xs:
        acc = ext_add(acc, x)
    assert vext_sum(a) == acc
    assert vext_to_list(lift(as_base(bs))) == [(v, 0, 0, 0) for v in bs]
    nz = [x for x in xs if any(x)]
    if nz:
        assert vext_to_list(vext_inv(as_ext(nz))) == [ext_inv(x) for x in nz]


def test_vext_inv_names_the_zero() -> None:
    with pytest.raises(NotInvertible) as info:
        vext_inv(as_ext([(1, 0, 0, 0), (0, 0, 0, 0)]))
    assert info.value.index == 1


def test_expand_is_deterministic_and_canonical() -> None:
    a = expand_base(b"seed", 10_000)
    assert np.array_equal(a, expand_base(b"seed", 10_000))
    assert not np.array_equal(a, expand_base(b"seed", 10_000, label=b"other"))
    assert (a < P).all() and a.dtype == np.uint64
    # A prefix of a longer expansion is the shorter expansion.
    assert np.array_equal(expand_base(b"seed", 100), a[:100])
    e = expand_ext(b"seed", 50)
    assert e.shape == (50, 4) and (e < P).all()
    # Roughly uniform: the mean of 10k uniform values is near P/2.
    assert abs(float(a.mean()) / P - 0.5) < 0.02


class _Bytes:
    def __init__(self) -> None:
        self.calls = 0

    def bytes(self, n: int) -> bytes:
        self.calls += 1
        return bytes([self.calls]) * n


def test_sample_base_uses_the_source() -> None:
    src = _Bytes()
    a = sample_base(src, 5)
    b = sample_base(src, 5)
    assert src.calls == 2 and a.shape == (5,) and not np.array_equal(a, b)
