"""A complete sum-check argument over committed polynomials.

Sum-check alone reduces ``sum_x g(f_1(x), ..., f_m(x)) = S`` to claims
``f_k(r) = v_k`` at one random point ``r``; it is a proof only once those
claims are checked.  Here each ``f_k`` is committed with the Ligero-style
commitment *before* the sum-check starts, and opened at ``r`` after it.

Transcript schedule (prover and verifier, in order)::

    absorb_bytes("argument.commitments", encoded commitments)  # binds the f_k
    sum-check (or zero-check) as in ``_sumcheck.py``           # draws r
    for each k in composition.polys: the opening of f_k at r  # as in ``_commit.py``

The verifier checks the sum-check, then that each opening proves exactly the
sum-check's final evaluation ``v_k`` under ``f_k``'s commitment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._commit import (
    DEFAULT_MIN_SECURITY_BITS,
    Commitment,
    EvalProof,
    commit_oracle,
    prove_evaluation,
    verify_evaluation,
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

__all__ = ["SumcheckArgument", "prove_sum_argument", "verify_sum_argument", "commitments_bytes"]


@dataclass(frozen=True, slots=True)
class SumcheckArgument:
    """Commitments to the composition's polynomials, the sum-check, and the openings.

    ``commitments[i]`` and ``openings[i]`` belong to polynomial
    ``composition.polys[i]``; ``zerocheck`` says whether the sum-check is the
    zero-check ``sum_x eq(e, x) g(x) = 0`` with ``e`` drawn from the transcript.
    """

    num_vars: int
    composition: Composition
    zerocheck: bool
    commitments: tuple[Commitment, ...]
    sumcheck: SumcheckProof
    openings: tuple[EvalProof, ...]

    @property
    def claimed_sum(self) -> Ext:
        """The sum the argument proves (zero for a zero-check)."""
        return self.sumcheck.claimed_sum


def commitments_bytes(commitments: Sequence[Commitment]) -> bytes:
    """The canonical bytes of a commitment list, as absorbed into the transcript."""
    out = bytearray(len(commitments).to_bytes(4, "little"))
    for c in commitments:
        out += bytes(c.params.to_cbor()[:3]) + c.params.num_queries.to_bytes(4, "little") + c.root
    return bytes(out)


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

    Everything reads the oracle in chunks: each commitment streams row blocks,
    the sum-check streams until its tables fit ``memory_budget``, and each
    opening re-reads its polynomial twice.  Returns the argument and the
    sum-check's :class:`StreamingReport`.
    """
    if params.num_vars != oracle.num_vars:
        raise InvalidParameters("params.num_vars", params.num_vars, f"= oracle.num_vars = {oracle.num_vars}")
    committed = [commit_oracle(oracle, k, params, block_rows=block_rows) for k in composition.polys]
    commitments = tuple(c.commitment for c in committed)
    transcript.absorb_bytes("argument.commitments", commitments_bytes(commitments))
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
    openings = []
    for c, expected in zip(committed, proof.final_evals):
        value, opening = prove_evaluation(c, point, transcript)
        if value != expected:  # pragma: no cover - an internal inconsistency, not user input
            raise VerificationFailed("prover self-check", "opening value != sum-check final evaluation")
        openings.append(opening)
    argument = SumcheckArgument(oracle.num_vars, composition, zerocheck, commitments, proof, tuple(openings))
    return argument, report


def verify_sum_argument(
    argument: SumcheckArgument,
    transcript: Transcript,
    *,
    expected_sum: Ext | None = None,
    expected_commitments: Sequence[Commitment] | None = None,
    min_security_bits: float = DEFAULT_MIN_SECURITY_BITS,
) -> SumcheckResult:
    """Verify a :class:`SumcheckArgument`; returns the reduced claim on success.

    With ``expected_sum`` the proven sum must equal it; with
    ``expected_commitments`` the argument must be about those polynomials.
    Raises :class:`VerificationFailed` or :class:`MalformedProof`.
    """
    comp = argument.composition
    polys = comp.polys
    if len(argument.commitments) != len(polys) or len(argument.openings) != len(polys):
        raise MalformedProof(
            "argument",
            f"{len(argument.commitments)} commitments and {len(argument.openings)} openings "
            f"for {len(polys)} polynomials",
        )
    if argument.num_vars < 1:
        raise MalformedProof("argument.num_vars", f"{argument.num_vars} < 1")
    for i, c in enumerate(argument.commitments):
        if c.params.num_vars != argument.num_vars:
            raise MalformedProof(f"commitments[{i}].params.num_vars", f"{c.params.num_vars} != {argument.num_vars}")
    if expected_commitments is not None and tuple(expected_commitments) != argument.commitments:
        raise VerificationFailed("commitments", "the argument is about other polynomials")
    transcript.absorb_bytes("argument.commitments", commitments_bytes(argument.commitments))
    if argument.zerocheck:
        result = verify_zerocheck(argument.sumcheck, comp, argument.num_vars, transcript)
    else:
        result = verify_sumcheck(argument.sumcheck, comp, argument.num_vars, transcript)
    if expected_sum is not None and result.claimed_sum != expected_sum:
        raise VerificationFailed("claimed sum", "the proven sum is not the expected one")
    if argument.zerocheck and result.claimed_sum != EXT_ZERO:  # pragma: no cover - verify_zerocheck checks
        raise VerificationFailed("zero-check claim", "claimed sum is not zero")
    point = np.array(result.point, dtype=np.uint64).reshape(-1, 4)
    for i, (c, value, opening) in enumerate(zip(argument.commitments, result.final_evals, argument.openings)):
        try:
            verify_evaluation(c, point, value, opening, transcript, min_security_bits=min_security_bits)
        except VerificationFailed as exc:
            raise VerificationFailed(f"opening {i} (polynomial {polys[i]}): {exc.check}", exc.detail) from None
        except MalformedProof as exc:
            raise MalformedProof(f"openings[{i}].{exc.field}", exc.detail) from None
    return result
