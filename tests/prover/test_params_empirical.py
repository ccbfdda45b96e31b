"""The soundness formula against real attacks, one query at a time.

With ``t = 1`` the per-query terms of ``_params.py`` are the acceptance
probabilities of the best attacks they model, so the verifier's empirical
acceptance rate over many Fiat-Shamir transcripts must sit at (not above)
them:

* far: the committed columns are a codeword with ``e + 1`` columns
  corrupted, and the prover answers with the decoded rows, the best it can
  do; a query passes iff it misses the corrupted columns: ``q_far``;
* close: the commitment is honest, but the prover claims the evaluation of a
  matrix differing in one row by a message whose encoding has the most
  possible zeros (``k - 1``, a polynomial vanishing on ``k - 1`` points of
  the domain); a query passes iff it lands on a zero: ``(k - 1) / L`` which
  is at most ``q_close``.

If the verifier skipped a check on some column, or the queries were not
uniform, the rates would exceed the bound.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from stele.actors.prover import P, Transcript
from stele.actors.prover._commit import (
    Commitment,
    CommittedPolynomial,
    commit_table,
    prove_evaluation,
    rows_from_table,
    verify_evaluation,
)
from stele.actors.prover._errors import VerificationFailed
from stele.actors.prover._merkle import MerkleTree, hash_columns
from stele.actors.prover._ntt import intt, root_of_unity, rs_encode
from stele.actors.prover._params import CommitParams, soundness_error

# 4 rows x 16 columns, rate 1/2: L = 32, k = 16, d = 17, e = 8.
PARAMS = CommitParams(6, 2, 1, 1)
K, L = PARAMS.cols, PARAMS.encoded_cols
E = (L - K) // 2
TRIALS = 400


def _acceptance(committed: CommittedPolynomial, seed: int) -> float:
    rng = np.random.default_rng(seed)
    accepted = 0
    for trial in range(TRIALS):
        point = rng.integers(0, P, (PARAMS.num_vars, 4)).astype(np.uint64)
        label = f"attack.{trial}"
        value, proof = prove_evaluation(committed, point, Transcript(label))
        try:
            verify_evaluation(committed.commitment, point, value, proof, Transcript(label), min_security_bits=0)
        except VerificationFailed:
            continue
        accepted += 1
    return accepted / TRIALS


def _per_query_bounds() -> tuple[float, float]:
    q = float(soundness_error(PARAMS.log_cols, PARAMS.log_inv_rate, 1) - Fraction(L, P**4))
    q_far = 1 - (E + 1) / L
    assert abs(q - q_far) < 1e-12  # at this shape q_far = q_close = max
    return q_far, (E + K - 1) / L


def test_far_commitment_is_caught_at_the_documented_rate() -> None:
    rng = np.random.default_rng(1)
    matrix = rng.integers(0, P, (PARAMS.rows, K)).astype(np.uint64)
    encoded = rs_encode(matrix, 1 << PARAMS.log_inv_rate)
    bad = rng.choice(L, E + 1, replace=False)
    encoded[:, bad] = (encoded[:, bad] + rng.integers(1, P, (PARAMS.rows, E + 1)).astype(np.uint64)) % np.uint64(P)
    tree = MerkleTree(hash_columns(encoded.astype(np.uint32)))
    cheat = CommittedPolynomial(
        Commitment(PARAMS, tree.root), tree, rows_from_table(matrix.reshape(-1), PARAMS), encoded.astype(np.uint32)
    )
    rate = _acceptance(cheat, 2)
    q_far, _ = _per_query_bounds()
    sigma = (q_far * (1 - q_far) / TRIALS) ** 0.5
    assert rate <= q_far + 4 * sigma
    assert rate >= q_far - 4 * sigma  # the bound is tight for this attack


def test_false_evaluation_is_caught_at_the_documented_rate() -> None:
    rng = np.random.default_rng(3)
    table = rng.integers(0, P, 1 << PARAMS.num_vars).astype(np.uint64)
    honest = commit_table(table, PARAMS, keep_encoding=True)
    # A degree-(k-1) polynomial vanishing on w^0..w^(k-2) of the size-L domain:
    # its encoding has exactly k - 1 zeros.
    w = root_of_unity(PARAMS.log_encoded_cols)
    coeffs = [1]
    for i in range(K - 1):
        root = pow(w, i, P)
        coeffs = [((coeffs[j - 1] if j else 0) - root * (coeffs[j] if j < len(coeffs) else 0)) % P
                  for j in range(len(coeffs) + 1)]
    delta = np.array(coeffs, dtype=np.uint64)
    enc = rs_encode(delta.reshape(1, -1), 1 << PARAMS.log_inv_rate)[0]
    assert int((enc == 0).sum()) == K - 1
    assert np.array_equal(intt(enc)[:K], delta)
    lying = table.reshape(PARAMS.rows, K).copy()
    lying[2] = (lying[2] + delta) % np.uint64(P)
    cheat = CommittedPolynomial(
        honest.commitment, honest.tree, rows_from_table(lying.reshape(-1), PARAMS), honest.encoding
    )
    rate = _acceptance(cheat, 4)
    expected = (K - 1) / L
    _, q_close = _per_query_bounds()
    sigma = (expected * (1 - expected) / TRIALS) ** 0.5
    assert expected <= q_close
    assert rate <= expected + 4 * sigma
    assert rate >= expected - 4 * sigma
