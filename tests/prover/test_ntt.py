"""NTT, inverse NTT, cosets, LDE and Reed–Solomon encoding against the O(n^2) reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.prover import (
    GENERATOR,
    P,
    InvalidParameters,
    as_base,
    coset_intt,
    coset_ntt,
    expand_base,
    intt,
    lde,
    ntt,
    ntt_reference,
    root_of_unity,
    rs_encode,
)

felt = st.integers(min_value=0, max_value=P - 1)


@st.composite
def pow2_vectors(draw: st.DrawFn, max_log: int = 6) -> list[int]:
    k = draw(st.integers(min_value=0, max_value=max_log))
    return draw(st.lists(felt, min_size=1 << k, max_size=1 << k))


def _horner(coeffs: list[int], x: int) -> int:
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % P
    return acc


def test_roots_of_unity() -> None:
    for k in range(0, 28):
        w = root_of_unity(k)
        assert pow(w, 1 << k, P) == 1
        if k:
            assert pow(w, 1 << (k - 1), P) == P - 1
    with pytest.raises(InvalidParameters):
        root_of_unity(28)


@given(pow2_vectors())
def test_ntt_matches_reference_and_inverts(coeffs: list[int]) -> None:
    a = as_base(coeffs)
    assert ntt(a).tolist() == ntt_reference(coeffs)
    assert intt(ntt(a)).tolist() == coeffs
    assert ntt(intt(a)).tolist() == coeffs


@given(pow2_vectors(5), st.integers(min_value=1, max_value=P - 1))
def test_coset_ntt(coeffs: list[int], shift: int) -> None:
    a = as_base(coeffs)
    n = len(coeffs)
    w = root_of_unity(n.bit_length() - 1)
    expect = [_horner(coeffs, shift * pow(w, j, P) % P) for j in range(n)]
    assert coset_ntt(a, shift).tolist() == expect
    assert coset_intt(coset_ntt(a, shift), shift).tolist() == coeffs


@given(pow2_vectors(4), st.sampled_from([1, 2, 4, 8]))
def test_lde_and_rs_encode(coeffs: list[int], blowup: int) -> None:
    a = as_base(coeffs)
    n = len(coeffs)
    m = n * blowup
    w = root_of_unity(m.bit_length() - 1)
    codeword = rs_encode(a, blowup)
    assert codeword.tolist() == [_horner(coeffs, pow(w, j, P)) for j in range(m)]
    # LDE of the evaluations on the small subgroup = RS encoding of the coefficients.
    assert lde(ntt(a), blowup).tolist() == codeword.tolist()
    shifted = lde(ntt(a), blowup, GENERATOR)
    assert shifted.tolist() == [_horner(coeffs, GENERATOR * pow(w, j, P) % P) for j in range(m)]


def test_batched_rows_transform_independently() -> None:
    m = expand_base(b"rows", 8 * 16).reshape(8, 16)
    out = ntt(m)
    assert out.shape == (8, 16)
    for i in range(8):
        assert out[i].tolist() == ntt_reference(m[i].tolist())
    enc = rs_encode(m, 4)
    assert enc.shape == (8, 64)
    assert np.array_equal(enc[3], rs_encode(m[3], 4))


def test_bad_sizes_are_typed_errors() -> None:
    with pytest.raises(InvalidParameters) as info:
        ntt(as_base([1, 2, 3]))
    assert "power of two" in str(info.value)
    with pytest.raises(InvalidParameters):
        rs_encode(as_base([1, 2]), 3)
    with pytest.raises(InvalidParameters):
        coset_intt(as_base([1, 2]), 0)


@pytest.mark.slow
def test_large_ntt_roundtrip() -> None:
    a = expand_base(b"big", 1 << 20)
    assert np.array_equal(intt(ntt(a)), a)
    # Spot-check a few outputs against Horner.
    out = ntt(a)
    w = root_of_unity(20)
    coeffs = a.tolist()
    for j in (0, 1, 12345, (1 << 20) - 1):
        assert int(out[j]) == _horner(coeffs, pow(w, j, P))
