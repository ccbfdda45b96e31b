"""A complete sum-check argument over committed polynomials.

Sum-check alone reduces ``sum_x g(f_1(x), ..., f_m(x)) = S`` to claims
``f_k(r) = v_k`` at one random point ``r``; it is a proof only once those
claims are checked.  Here all the ``f_k`` are committed together, in one
batched Ligero-style commitment (one Merkle tree over their stacked encoded
columns), *before* the sum-check starts, and opened together at ``r`` after
it: one proximity row, one evaluation row and one set of column openings,
whatever the number of polynomials.

Transcript schedule (prover and verifier, in order)::

    absorb_bytes("argument.commitment", statement_header(commitment))  # binds the f_k
    sum-check (or zero-check) as in ``_sumcheck.py``                    # draws r
    the batched opening of all f_k at r, as in ``_commit.py``

The verifier checks the sum-check, then that the opening proves exactly the
sum-check's final evaluations ``v_k`` under the commitment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._commit import (
    DEFAULT_MIN_SECURITY_BITS,
    Commitment,
    EvalProof,
    commit_oracle,
    prove_evaluations,
    statement_header,
    verify_evaluations,
)
from ._errors import InvalidParameters, MalformedProof, VerificationFailed
from ._field import EXT_ZERO, Ext
from ._mle import Composition
from ._oracle import PolynomialOracle
from ._params import CommitParams
from ._sumcheck import (
    DEFAULT_CHUNK,
    DEFAULT_MEMORY_BUDGET,
    StreamingReport,
    SumcheckProof,
    SumcheckResult,
    prove_sumcheck_streaming,
    prove_zerocheck_streaming,
    verify_sumcheck,
    verify_zerocheck,
)
from ._transcript import Transcript

__all__ = ["SumcheckArgument", "prove_sum_argument", "verify_sum_argument"]


@dataclass(frozen=True, slots=True)
class SumcheckArgument:
    """A batched commitment to the composition's polynomials, the sum-check, the opening.

    ``commitment`` covers the polynomials ``composition.polys`` in that order
    and ``opening`` opens them all at the sum-check's point; ``zerocheck``
    says whether the sum-check is the zero-check ``sum_x eq(e, x) g(x) = 0``
    with ``e`` drawn from the transcript.
    """

    num_vars: int
    composition: Composition
    zerocheck: bool
    commitment: Commitment
    sumcheck: SumcheckProof
    opening: EvalProof

    @property
    def claimed_sum(self) -> Ext:
        """The sum the argument proves (zero for a zero-check)."""
        return self.sumcheck.claimed_sum


def prove_sum_argument(
    oracle: PolynomialOracle,
    composition: Composition,
    params: CommitParams,
    transcript: Transcript,
    *,
    zerocheck: bool = False,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    chunk_size: int = DEFAULT_CHUNK,
    block_rows: int = 64,
) -> tuple[SumcheckArgument, StreamingReport]:
    """Commit to the oracle's polynomials, run the streaming sum-check, open at its point.

    Everything reads the oracle in chunks: the commitment streams row blocks
    of all the polynomials, the sum-check streams until its tables fit
    ``memory_budget``, and the opening re-reads them twice.  Returns the argument and the
    sum-check's :class:`StreamingReport`.
    """
    if params.num_vars != oracle.num_vars:
        raise InvalidParameters("params.num_vars", params.num_vars, f"= oracle.num_vars = {oracle.num_vars}")
    committed = commit_oracle(oracle, list(composition.polys), params, block_rows=block_rows)
    transcript.absorb_bytes("argument.commitment", statement_header(committed.commitment))
    shadow = transcript.copy()
    if zerocheck:
        proof, report = prove_zerocheck_streaming(
            oracle, composition, transcript, memory_budget=memory_budget, chunk_size=chunk_size
        )
        result = verify_zerocheck(proof, composition, oracle.num_vars, shadow)
    else:
        proof, report = prove_sumcheck_streaming(
            oracle, composition, transcript, memory_budget=memory_budget, chunk_size=chunk_size
        )
        result = verify_sumcheck(proof, composition, oracle.num_vars, shadow)
    # The shadow verifier replays the transcript to learn the point r.
    point = np.array(result.point, dtype=np.uint64).reshape(-1, 4)
    values, opening = prove_evaluations(committed, point, transcript)
    if values != proof.final_evals:  # pragma: no cover - an internal inconsistency, not user input
        raise VerificationFailed("prover self-check", "opened values != sum-check final evaluations")
    argument = SumcheckArgument(oracle.num_vars, composition, zerocheck, committed.commitment, proof, opening)
    return argument, report


def verify_sum_argument(
    argument: SumcheckArgument,
    transcript: Transcript,
    *,
    expected_sum: Ext | None = None,
    expected_commitment: Commitment | None = None,
    expected_composition: Composition | None = None,
    expected_zerocheck: bool | None = None,
    min_security_bits: float = DEFAULT_MIN_SECURITY_BITS,
) -> SumcheckResult:
    """Verify a :class:`SumcheckArgument`; returns the reduced claim on success.

    The argument carries its own statement; a caller that has one in mind
    pins it: with ``expected_sum`` the proven sum must equal it, with
    ``expected_commitment`` the argument must be about those polynomials, and
    with ``expected_composition`` / ``expected_zerocheck`` about that ``g``
    and that kind of claim.
    Raises :class:`VerificationFailed` or :class:`MalformedProof`.
    """
    comp = argument.composition
    commitment = argument.commitment
    if commitment.num_polys != len(comp.polys):
        raise MalformedProof(
            "argument.commitment.num_polys", f"{commitment.num_polys} for {len(comp.polys)} polynomials"
        )
    if argument.num_vars < 1:
        raise MalformedProof("argument.num_vars", f"{argument.num_vars} < 1")
    if commitment.params.num_vars != argument.num_vars:
        raise MalformedProof(
            "argument.commitment.params.num_vars", f"{commitment.params.num_vars} != {argument.num_vars}"
        )
    if expected_commitment is not None and expected_commitment != commitment:
        raise VerificationFailed("commitment", "the argument is about other polynomials")
    if expected_composition is not None and expected_composition != comp:
        raise VerificationFailed("composition", "the argument proves a sum of another polynomial")
    if expected_zerocheck is not None and expected_zerocheck != argument.zerocheck:
        raise VerificationFailed("zerocheck", f"expected zerocheck={expected_zerocheck}")
    transcript.absorb_bytes("argument.commitment", statement_header(commitment))
    if argument.zerocheck:
        result = verify_zerocheck(argument.sumcheck, comp, argument.num_vars, transcript)
    else:
        result = verify_sumcheck(argument.sumcheck, comp, argument.num_vars, transcript)
    if expected_sum is not None and result.claimed_sum != expected_sum:
        raise VerificationFailed("claimed sum", "the proven sum is not the expected one")
    if argument.zerocheck and result.claimed_sum != EXT_ZERO:  # pragma: no cover - verify_zerocheck checks
        raise VerificationFailed("zero-check claim", "claimed sum is not zero")
    point = np.array(result.point, dtype=np.uint64).reshape(-1, 4)
    try:
        verify_evaluations(
            commitment, point, result.final_evals, argument.opening, transcript,
            min_security_bits=min_security_bits,
        )
    except VerificationFailed as exc:
        raise VerificationFailed(f"opening: {exc.check}", exc.detail) from None
    except MalformedProof as exc:
        raise MalformedProof(f"opening.{exc.field}", exc.detail) from None
    return result
