"""Commitment parameters: the documented soundness formula, recomputed independently."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.prover._errors import InvalidParameters
from stele.actors.prover._params import (
    BABYBEAR_P,
    CommitParams,
    choose_params,
    min_queries,
    soundness_bits,
    soundness_error,
)


def _bits_by_hand(log_cols: int, log_inv_rate: int, t: int) -> float:
    """The module docstring's formula, written out again in floats."""
    k = 2**log_cols
    n = k * 2**log_inv_rate
    d = n - k + 1
    e = (d - 1) // 2
    q = max(1 - (e + 1) / n, (e + k - 1) / n)
    return -math.log2(n / BABYBEAR_P**4 + q**t)


@given(st.integers(0, 20), st.integers(1, 4), st.integers(1, 400))
def test_exact_bound_matches_the_float_formula(log_cols: int, lir: int, t: int) -> None:
    assert soundness_bits(log_cols, lir, t) == pytest.approx(_bits_by_hand(log_cols, lir, t), abs=1e-6)


def test_per_query_error_is_about_one_plus_rate_over_two() -> None:
    # Rate 1/4, k = 2^13: q_far = q_close = 20479/32768 ~ (1 + 1/4) / 2.
    err = soundness_error(13, 2, 1) - Fraction(2**15, BABYBEAR_P**4)
    assert err == Fraction(20479, 32768)
    assert abs(float(err) - 5 / 8) < 1e-4


@pytest.mark.parametrize("num_vars", [1, 2, 4, 8, 12, 16, 20, 22, 24])
def test_default_parameters_reach_100_bits_with_the_fewest_queries(num_vars: int) -> None:
    params = choose_params(num_vars)
    assert params.num_vars == num_vars
    assert params.security_bits >= 100
    assert _bits_by_hand(params.log_cols, params.log_inv_rate, params.num_queries) >= 100
    fewer = params.num_queries - 1
    assert _bits_by_hand(params.log_cols, params.log_inv_rate, fewer) < 100


def test_known_query_counts() -> None:
    # The docstring's worked example: rate 1/4 needs 148 queries at 2^13 columns.
    assert min_queries(13, 2, 100) == 148
    # Rate 1/2 and 1/8 for comparison (fewer queries at a lower rate).
    assert min_queries(13, 1, 100) > min_queries(13, 2, 100) > min_queries(13, 3, 100)


def test_the_extension_term_caps_the_security() -> None:
    # L / |E| alone: a 2^25 code cannot reach 100 bits whatever the queries.
    with pytest.raises(InvalidParameters, match="security_bits"):
        min_queries(23, 2, 100)


def test_2_22_default_fits_the_proof_size_target() -> None:
    params = choose_params(22)
    assert params.estimated_proof_bytes() < 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_vars": -1, "log_rows": 0, "log_inv_rate": 2, "num_queries": 10}, "num_vars"),
        ({"num_vars": 4, "log_rows": 5, "log_inv_rate": 2, "num_queries": 10}, "log_rows"),
        ({"num_vars": 4, "log_rows": 2, "log_inv_rate": 0, "num_queries": 10}, "log_inv_rate"),
        ({"num_vars": 4, "log_rows": 2, "log_inv_rate": 2, "num_queries": 0}, "num_queries"),
        ({"num_vars": 30, "log_rows": 0, "log_inv_rate": 2, "num_queries": 1}, "log_cols"),
    ],
)
def test_bad_parameters_name_the_field(kwargs: dict[str, int], name: str) -> None:
    with pytest.raises(InvalidParameters, match=name):
        CommitParams(**kwargs)
