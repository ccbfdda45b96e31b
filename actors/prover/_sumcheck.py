"""Sum-check for g = Σ_j c_j · Π_k f_{j,k} (optionally times eq(e, x)): provers and verifier.

The claim is ``Σ_{x ∈ {0,1}^n} g(x) = claimed_sum``.  In round ``i`` the
prover sends the univariate ``s_i(X) = Σ_y g(r_1..r_{i-1}, X, y)`` as its
**evaluations at X = 0, 1, ..., d** (``d`` = the composition's degree, plus
one with an eq factor), the verifier checks ``s_i(0) + s_i(1)`` against the
running claim and draws ``r_i`` (an extension element) from the transcript.
Variables are bound in order x_1, x_2, ... (x_1 = the index's lowest bit,
see :mod:`stele.actors.prover._mle`).  At the end the proof carries the
claimed evaluations ``f_k(r)`` of every polynomial used (in
``composition.polys`` order); the verifier checks ``g`` of them against the
last claim and returns the point, and **the caller must check those
evaluations** against commitments (or, in tests, against the tables).

Transcript schedule (both sides, in this order)::

    absorb_bytes("sumcheck.statement", num_vars, degree, has_eq, composition)
    absorb_ext("sumcheck.eq_point", e)            # only with an eq factor
    absorb_ext("sumcheck.claim", claimed_sum)
    for each round: absorb_ext("sumcheck.round", s_i(0..d)); r_i = challenge_ext("sumcheck.r")
    absorb_ext("sumcheck.final", final_evals)

Two provers produce the same proof, value for value (so byte-identical once
encoded): :func:`prove_sumcheck` (dense, linear time, holds the tables) and
:func:`prove_sumcheck_streaming` (reads through a
:class:`~stele.actors.prover.PolynomialOracle`).  Both compute each round's
``s_i(X)`` exactly; the evaluation at 1 is derived from the running claim
(``claim - s_i(0)``) after the first round in both.

The streaming prover (after Nair–Thaler–Zhu, "Proving CPU Executions in Small
Space", and Jolt): for the first ``k`` rounds it makes one pass over the
oracle per round, reading chunks of ``C`` entries (``C`` a multiple of
``2^i``), folding each chunk by the challenges already drawn and adding the
chunk's contribution to ``s_i``.  ``k`` is the first round after which the
folded tables fit the memory budget; the k-th pass keeps its folded chunks
(twice the size of those tables), so binding its challenge yields the dense
tables without another pass, and the dense algorithm finishes.  Passes:
``max(k, 1)`` (``k = 0`` reads the whole tables once).  Memory:
O(C + 2^(n-k)) field elements, time O(k·N).  Passes are counted in the
:class:`StreamingReport`.

With an eq factor both provers split ``eq(e, (r_<j, X, y)) = pre·eq(e_j, X)·eq(e_>j, y)``
and compute ``q(X) = Σ_y eq(e_>j, y)·C(r_<j, X, y)`` (degree of C) instead of
the degree-(d+1) products: one evaluation fewer per round and no eq table
to fold (Gruen's trick, as in Jolt's split-eq sum-check).  The messages are
still the evaluations of ``s_i = pre·eq(e_j, X)·q`` at 0..d+1.

This module holds the proof objects, the transcript schedule and the public
entry points; the round engine is in ``_rounds`` (with the transposed
extension tables of ``_soa``) and the streaming pass in ``_streaming``.

Zero-check (``Σ_x eq(e, x)·C(x) = 0`` for ``e`` drawn from the transcript,
which shows ``C`` vanishes on the hypercube w.h.p.) is :func:`prove_zerocheck`
/ :func:`verify_zerocheck`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._errors import InvalidParameters, MalformedProof, VerificationFailed
from ._field import EXT_ZERO, P, U64, Ext, ext_add, ext_mul
from ._mle import Composition, eq_eval, num_vars_of
from ._oracle import PolynomialOracle
from ._rounds import total_degree, DenseState, interpolate_at
from ._soa import soa_from_aos
from ._streaming import StreamingState
from ._transcript import Transcript

__all__ = [
    "SumcheckProof",
    "SumcheckResult",
    "StreamingReport",
    "prove_sumcheck",
    "prove_sumcheck_streaming",
    "verify_sumcheck",
    "prove_zerocheck",
    "prove_zerocheck_streaming",
    "verify_zerocheck",
    "interpolate_at",
    "DEFAULT_MEMORY_BUDGET",
    "DEFAULT_CHUNK",
]

DEFAULT_MEMORY_BUDGET = 64 * 2**20
"""Default working-memory budget of the streaming prover, in bytes."""
DEFAULT_CHUNK = 2**14
"""Default number of entries per polynomial read from the oracle at a time."""


@dataclass(frozen=True, slots=True)
class SumcheckProof:
    """A sum-check proof: plain data, ready for canonical CBOR via :meth:`to_obj`.

    Every extension value is a 4-tuple of ints in [0, P) (coefficients of
    1, X, X^2, X^3 in F_p[X]/(X^4 - 11)).  ``round_polys[i]`` holds
    ``s_i(0), ..., s_i(d)``; ``final_evals`` holds ``f_k(r)`` for ``k`` in
    ``composition.polys`` order.
    """

    claimed_sum: Ext
    round_polys: tuple[tuple[Ext, ...], ...]
    final_evals: tuple[Ext, ...]

    def to_obj(self) -> list[object]:
        """``[claimed_sum, [[s_i(0..d)]...], final_evals]`` with extension elements as 4-int lists."""
        return [
            list(self.claimed_sum),
            [[list(e) for e in rnd] for rnd in self.round_polys],
            [list(e) for e in self.final_evals],
        ]

    @classmethod
    def from_obj(cls, obj: object) -> SumcheckProof:
        """Parse :meth:`to_obj` output strictly; :class:`MalformedProof` names the bad field."""
        if not isinstance(obj, (list, tuple)) or len(obj) != 3:
            raise MalformedProof("sumcheck", "expected a 3-element list")
        claimed = _parse_ext(obj[0], "sumcheck.claimed_sum")
        rounds_obj = obj[1]
        if not isinstance(rounds_obj, (list, tuple)):
            raise MalformedProof("sumcheck.round_polys", "expected a list")
        rounds: list[tuple[Ext, ...]] = []
        for i, rnd in enumerate(rounds_obj):
            if not isinstance(rnd, (list, tuple)):
                raise MalformedProof(f"sumcheck.round_polys[{i}]", "expected a list")
            rounds.append(tuple(_parse_ext(e, f"sumcheck.round_polys[{i}][{j}]") for j, e in enumerate(rnd)))
        finals_obj = obj[2]
        if not isinstance(finals_obj, (list, tuple)):
            raise MalformedProof("sumcheck.final_evals", "expected a list")
        finals = tuple(_parse_ext(e, f"sumcheck.final_evals[{i}]") for i, e in enumerate(finals_obj))
        return cls(claimed, tuple(rounds), finals)


def _parse_ext(obj: object, field: str) -> Ext:
    if not isinstance(obj, (list, tuple)) or len(obj) != 4:
        raise MalformedProof(field, "expected 4 coefficients")
    out: list[int] = []
    for i, c in enumerate(obj):
        if type(c) is not int:
            raise MalformedProof(f"{field}[{i}]", f"expected int, got {type(c).__name__}")
        if not 0 <= c < P:
            raise MalformedProof(f"{field}[{i}]", f"value {c} not in [0, {P})")
        out.append(c)
    return (out[0], out[1], out[2], out[3])


@dataclass(frozen=True, slots=True)
class SumcheckResult:
    """What a successful verification establishes, reduced to one point.

    The proof is valid iff additionally every ``final_evals[i]`` is the true
    value of polynomial ``composition.polys[i]`` at ``point`` (the caller
    checks that against commitments or tables).
    """

    point: tuple[Ext, ...]
    final_evals: tuple[Ext, ...]
    claimed_sum: Ext


@dataclass(frozen=True, slots=True)
class StreamingReport:
    """How the streaming prover ran: passes over the oracle and memory shape."""

    passes: int
    streamed_rounds: int
    chunk_size: int
    dense_table_bytes: int
    entries_read: int


def _bind_statement(
    t: Transcript, comp: Composition, n: int, eq_point: Sequence[Ext] | None, claimed: Ext
) -> None:
    head = n.to_bytes(4, "little") + total_degree(comp, eq_point).to_bytes(4, "little")
    head += b"\x01" if eq_point is not None else b"\x00"
    t.absorb_bytes("sumcheck.statement", head + comp.to_bytes())
    if eq_point is not None:
        t.absorb_ext("sumcheck.eq_point", list(eq_point))
    t.absorb_ext("sumcheck.claim", claimed)


def _drive(
    state: DenseState | StreamingState,
    n: int,
    comp: Composition,
    transcript: Transcript,
    eq_point: Sequence[Ext] | None,
) -> SumcheckProof:
    first = state.round(None)
    claim = ext_add(first[0], first[1])
    claimed_sum = claim
    _bind_statement(transcript, comp, n, eq_point, claimed_sum)
    rounds: list[tuple[Ext, ...]] = []
    evals = first
    for i in range(n):
        if i > 0:
            evals = state.round(claim)
        transcript.absorb_ext("sumcheck.round", list(evals))
        r = transcript.challenge_ext("sumcheck.r")
        rounds.append(evals)
        claim = interpolate_at(evals, r)
        state.bind(r)
    finals = state.finals()
    transcript.absorb_ext("sumcheck.final", list(finals))
    return SumcheckProof(claimed_sum, tuple(rounds), finals)


def _check_eq_point(eq_point: Sequence[Ext] | None, n: int) -> None:
    if eq_point is not None and len(eq_point) != n:
        raise InvalidParameters("len(eq_point)", len(eq_point), f"= num_vars = {n}")


def prove_sumcheck(
    tables: Sequence[U64],
    composition: Composition,
    transcript: Transcript,
    *,
    eq_point: Sequence[Ext] | None = None,
) -> SumcheckProof:
    """Dense linear-time prover for Σ_x g(x) (times eq(eq_point, x) if given).

    ``tables[i]`` is polynomial ``i`` of the composition (base or extension,
    all of 2^n entries, n >= 1).  The claimed sum is computed, not supplied.
    """
    if not tables:
        raise InvalidParameters("tables", 0, "at least one table")
    n = num_vars_of(tables[0])
    if n < 1:
        raise InvalidParameters("num_vars", n, ">= 1")
    for k in composition.polys:
        if k >= len(tables):
            raise InvalidParameters("composition poly index", k, f"< {len(tables)} tables")
        if num_vars_of(tables[k]) != n:
            raise InvalidParameters(f"tables[{k}] num_vars", num_vars_of(tables[k]), f"= {n}")
    _check_eq_point(eq_point, n)
    soa = {k: soa_from_aos(tables[k]) if tables[k].ndim == 2 else tables[k] for k in composition.polys}
    state = DenseState(soa, composition, eq_point)
    return _drive(state, n, composition, transcript, eq_point)


def verify_sumcheck(
    proof: SumcheckProof,
    composition: Composition,
    num_vars: int,
    transcript: Transcript,
    *,
    eq_point: Sequence[Ext] | None = None,
) -> SumcheckResult:
    """Check a proof; returns the point and the evaluations the caller must still check.

    Raises :class:`MalformedProof` for a wrong shape and
    :class:`VerificationFailed` for a failed round or final check.
    """
    if num_vars < 1:
        raise InvalidParameters("num_vars", num_vars, ">= 1")
    d = total_degree(composition, eq_point)
    _check_eq_point(eq_point, num_vars)
    if not isinstance(proof, SumcheckProof):
        raise MalformedProof("sumcheck", f"expected SumcheckProof, got {type(proof).__name__}")
    try:
        obj = proof.to_obj()
    except (TypeError, ValueError) as exc:
        raise MalformedProof("sumcheck", f"not a well-formed proof object ({exc})") from None
    proof = SumcheckProof.from_obj(obj)  # revalidates every value and shape
    if len(proof.round_polys) != num_vars:
        raise MalformedProof("sumcheck.round_polys", f"{len(proof.round_polys)} rounds, expected {num_vars}")
    for i, rnd in enumerate(proof.round_polys):
        if len(rnd) != d + 1:
            raise MalformedProof(f"sumcheck.round_polys[{i}]", f"{len(rnd)} evaluations, expected {d + 1}")
    if len(proof.final_evals) != len(composition.polys):
        raise MalformedProof(
            "sumcheck.final_evals", f"{len(proof.final_evals)} values, expected {len(composition.polys)}"
        )
    _bind_statement(transcript, composition, num_vars, eq_point, proof.claimed_sum)
    claim = proof.claimed_sum
    point: list[Ext] = []
    for i, evals in enumerate(proof.round_polys):
        if ext_add(evals[0], evals[1]) != claim:
            raise VerificationFailed("round sum", f"round {i}: s(0) + s(1) != running claim")
        transcript.absorb_ext("sumcheck.round", list(evals))
        r = transcript.challenge_ext("sumcheck.r")
        point.append(r)
        claim = interpolate_at(evals, r)
    transcript.absorb_ext("sumcheck.final", list(proof.final_evals))
    expected = composition.evaluate(dict(zip(composition.polys, proof.final_evals)))
    if eq_point is not None:
        expected = ext_mul(expected, eq_eval(list(eq_point), point))
    if expected != claim:
        raise VerificationFailed("final evaluation", "g(final_evals) != last round's claim")
    return SumcheckResult(tuple(point), proof.final_evals, proof.claimed_sum)


def prove_sumcheck_streaming(
    oracle: PolynomialOracle,
    composition: Composition,
    transcript: Transcript,
    *,
    eq_point: Sequence[Ext] | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[SumcheckProof, StreamingReport]:
    """Small-space prover reading ``oracle`` in chunks; same proof as :func:`prove_sumcheck`.

    ``composition`` indices are the oracle's polynomial numbers.
    ``memory_budget`` (bytes) bounds the dense phase's tables and their
    temporaries (an estimate calibrated with tracemalloc, see
    ``_dense_peak``); the streaming rounds add about ``100·chunk_size`` bytes
    per polynomial on top, so the budget should exceed that.  ``chunk_size``
    (entries per polynomial, a power of two) bounds each read.  Returns the proof and a
    :class:`StreamingReport` with the number of passes over the oracle.
    """
    n = oracle.num_vars
    if n < 1:
        raise InvalidParameters("oracle.num_vars", n, ">= 1")
    if chunk_size < 2 or chunk_size & (chunk_size - 1):
        raise InvalidParameters("chunk_size", chunk_size, "a power of two >= 2")
    if memory_budget < 1:
        raise InvalidParameters("memory_budget", memory_budget, ">= 1 byte")
    for k in composition.polys:
        if k >= oracle.num_polys:
            raise InvalidParameters("composition poly index", k, f"< oracle.num_polys = {oracle.num_polys}")
    _check_eq_point(eq_point, n)
    state = StreamingState(oracle, composition, eq_point, memory_budget, chunk_size)
    proof = _drive(state, n, composition, transcript, eq_point)
    report = StreamingReport(
        passes=state.passes,
        streamed_rounds=state.k,
        chunk_size=state.chunk_for(state.k),
        dense_table_bytes=state.dense_bytes,
        entries_read=state.entries_read,
    )
    return proof, report


# --------------------------------------------------------------------------- zero-check


def _zerocheck_point(transcript: Transcript, comp: Composition, n: int) -> list[Ext]:
    transcript.absorb_bytes("zerocheck.statement", n.to_bytes(4, "little") + comp.to_bytes())
    return transcript.challenge_exts("zerocheck.point", n)


def prove_zerocheck(tables: Sequence[U64], composition: Composition, transcript: Transcript) -> SumcheckProof:
    """Prove C(x) = 0 on the whole hypercube: sum-check of eq(e, x)·C(x) with e from the transcript."""
    if not tables:
        raise InvalidParameters("tables", 0, "at least one table")
    n = num_vars_of(tables[0])
    e = _zerocheck_point(transcript, composition, n)
    return prove_sumcheck(tables, composition, transcript, eq_point=e)


def prove_zerocheck_streaming(
    oracle: PolynomialOracle,
    composition: Composition,
    transcript: Transcript,
    *,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[SumcheckProof, StreamingReport]:
    """Streaming :func:`prove_zerocheck` over an oracle (same proof as the dense one)."""
    e = _zerocheck_point(transcript, composition, oracle.num_vars)
    return prove_sumcheck_streaming(
        oracle, composition, transcript, eq_point=e, memory_budget=memory_budget, chunk_size=chunk_size
    )


def verify_zerocheck(
    proof: SumcheckProof, composition: Composition, num_vars: int, transcript: Transcript
) -> SumcheckResult:
    """Verify a zero-check; the caller must still check ``final_evals`` at ``point``."""
    if num_vars < 1:
        raise InvalidParameters("num_vars", num_vars, ">= 1")
    e = _zerocheck_point(transcript, composition, num_vars)
    if not isinstance(proof, SumcheckProof):
        raise MalformedProof("zerocheck", f"expected SumcheckProof, got {type(proof).__name__}")
    if proof.claimed_sum != EXT_ZERO:
        raise VerificationFailed("zero-check claim", "claimed sum is not zero")
    return verify_sumcheck(proof, composition, num_vars, transcript, eq_point=e)
