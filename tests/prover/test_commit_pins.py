"""Pins for the Ligero commitment found unpinned by mutation testing (issue 19).

Behaviours: a single-polynomial opening is not batched (``alpha = (1)`` when
``m = 1``, module docstring): the evaluation row ``u`` the prover sends is
the plain row combination, so ``<u, eq(r_col)>`` is the claimed value itself;
an opened column holding a value that is not below P is a malformed proof
naming ``columns`` (not a failed check further on).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from stele.actors.prover import P, Transcript
from stele.actors.prover._commit import _eq, _split_point, commit_table, prove_evaluation
from stele.actors.prover._errors import MalformedProof
from stele.actors.prover._field import vext_mul, vext_sum
from stele.actors.prover._params import CommitParams, min_queries
from stele.actors.prover._proof import OpeningProof, verify_opening


def test_a_single_polynomial_opening_is_not_batched() -> None:
    params = CommitParams(4, 2, 1, min_queries(2, 1, 100))
    rng = np.random.default_rng(3)
    table = rng.integers(0, P, 1 << params.num_vars).astype(np.uint64)
    committed = commit_table(table, params)
    for _ in range(3):
        point = rng.integers(0, P, (params.num_vars, 4)).astype(np.uint64)
        value, proof = prove_evaluation(committed, point, Transcript("pins"))
        _, r_col = _split_point(point, params)
        assert vext_sum(vext_mul(proof.evaluation_row, _eq(r_col))) == value


def test_an_opened_column_value_not_below_p_is_malformed() -> None:
    params = CommitParams(4, 2, 1, min_queries(2, 1, 100))
    rng = np.random.default_rng(4)
    committed = commit_table(rng.integers(0, P, 1 << params.num_vars).astype(np.uint64), params)
    point = rng.integers(0, P, (params.num_vars, 4)).astype(np.uint64)
    value, proof = prove_evaluation(committed, point, Transcript("pins"))
    opening = OpeningProof(committed.commitment, point, (value,), proof)
    verify_opening(opening, Transcript("pins"))  # honest: verifies
    for bad in (P, P + 7, 2**32 - 1):
        cols = proof.columns.copy()
        cols[0, 0] = bad
        forged = dataclasses.replace(opening, proof=dataclasses.replace(proof, columns=cols))
        with pytest.raises(MalformedProof) as info:
            verify_opening(forged, Transcript("pins"))
        assert info.value.field == "columns"
        assert f"value {bad} is not below {P}" in str(info.value)
