"""A verifier fed something that is not a proof object refuses it with a
typed :class:`MalformedProof` naming the zero-check, never an
``AttributeError`` from deeper down (issue 19: this check was never reached)."""

from __future__ import annotations

import pytest

from stele.actors.prover import Composition, MalformedProof, Transcript, verify_zerocheck

COMP = Composition(((1, (0, 1)),))


@pytest.mark.parametrize("bogus", [None, (), {"claimed_sum": 0}, b"proof"])
def test_verify_zerocheck_refuses_a_non_proof_by_name(bogus: object) -> None:
    with pytest.raises(MalformedProof) as info:
        verify_zerocheck(bogus, COMP, 3, Transcript("test.zerocheck.shape"))  # type: ignore[arg-type]
    assert info.value.field == "zerocheck"
    assert f"got {type(bogus).__name__}" in info.value.detail
