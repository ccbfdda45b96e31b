"""Fiat-Shamir statement binding (issue 19): the challenges depend on the
whole statement -- composition, number of variables, eq point and claimed
sum -- not only on the round polynomials, so a proof does not transfer to a
different statement even when that statement has the same polynomial."""

from __future__ import annotations

import pytest

from stele.actors.prover import (
    Composition,
    Transcript,
    VerificationFailed,
    expand_base,
    prove_sumcheck,
    verify_sumcheck,
)

LABEL = "test.sumcheck.binding"
TERMS = ((1, (0, 1)), (7, (1, 2, 0)), (3, (2,)))


def test_an_equal_polynomial_spelled_differently_is_another_statement() -> None:
    n = 5
    tables = [expand_base(bytes([i]), 1 << n) for i in range(3)]
    comp = Composition(TERMS)
    same = Composition(tuple(reversed(TERMS)))           # the same polynomial
    assert same.to_bytes() != comp.to_bytes()
    assert same.polys == comp.polys
    proof = prove_sumcheck(tables, comp, Transcript(LABEL))
    twin = prove_sumcheck(tables, same, Transcript(LABEL))
    assert twin.claimed_sum == proof.claimed_sum         # same sum...
    assert twin.round_polys != proof.round_polys         # ...but other challenges
    verify_sumcheck(proof, comp, n, Transcript(LABEL))
    with pytest.raises(VerificationFailed):
        verify_sumcheck(proof, same, n, Transcript(LABEL))
