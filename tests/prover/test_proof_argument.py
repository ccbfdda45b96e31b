"""Sum-check arguments over committed polynomials: completeness, soundness, the wire."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stele.actors.prover import P, Composition, DenseOracle, ProverError, Transcript
from stele.actors.prover._argument import SumcheckArgument, prove_sum_argument, verify_sum_argument
from stele.actors.prover._errors import MalformedProof, VerificationFailed
from stele.actors.prover._field import ext_add, ext_inv, ext_mul, ext_scale, ext_sub
from stele.actors.prover._mle import evaluate
from stele.actors.prover._params import CommitParams, choose_params, min_queries
from stele.actors.prover._proof import decode_argument, encode_argument
from stele.actors.prover._sumcheck import SumcheckProof
from stele.protocol import decode, encode

COMP = Composition(((1, (0, 1)), (5, (2,)), (7, (0, 1, 2))))


def _tables(seed: int, n: int, count: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, P, (count, 1 << n)).astype(np.uint64)


def _sum_of(tables: np.ndarray, comp: Composition) -> tuple[int, int, int, int]:
    total = 0
    for c, factors in comp.terms:
        prod = np.ones(tables.shape[1], dtype=object)
        for f in factors:
            prod = prod * tables[f].astype(object) % P
        total += c * int(prod.sum())
    return (total % P, 0, 0, 0)


def _prove(tables: np.ndarray, comp: Composition, params: CommitParams, label: str = "arg",
           **kw: object) -> SumcheckArgument:
    arg, _ = prove_sum_argument(DenseOracle(tables), comp, params, Transcript(label), **kw)  # type: ignore[arg-type]
    return arg


@given(st.integers(1, 7), st.integers(0, 2**32), st.data())
@settings(max_examples=20)
def test_honest_arguments_verify_and_prove_the_true_sum(n: int, seed: int, data: st.DataObject) -> None:
    tables = _tables(seed, n)
    params = CommitParams(n, data.draw(st.integers(0, n)), data.draw(st.integers(1, 2)), data.draw(st.integers(1, 20)))
    arg = _prove(tables, COMP, params, chunk_size=2, memory_budget=data.draw(st.sampled_from([1, 10**9])))
    back = decode_argument(encode_argument(arg))
    result = verify_sum_argument(back, Transcript("arg"), expected_sum=_sum_of(tables, COMP), min_security_bits=0)
    point = list(result.point)
    for k, value in zip(COMP.polys, result.final_evals):
        assert evaluate(tables[k], point) == value


def test_zerocheck_argument() -> None:
    n = 6
    t = _tables(1, n, 2)
    prod = (t[0] * t[1]) % np.uint64(P)
    tables = np.stack([t[0], t[1], prod])
    comp = Composition(((1, (0, 1)), (P - 1, (2,))))
    arg = _prove(tables, comp, choose_params(n), zerocheck=True)
    verify_sum_argument(decode_argument(encode_argument(arg)), Transcript("arg"))
    bad = tables.copy()
    bad[2, 5] = (int(bad[2, 5]) + 1) % P  # C no longer vanishes at x = 5
    with pytest.raises(VerificationFailed):
        verify_sum_argument(_prove(bad, comp, choose_params(n), zerocheck=True), Transcript("arg"))


@pytest.fixture(scope="module")
def honest() -> tuple[np.ndarray, SumcheckArgument]:
    tables = _tables(11, 5)
    return tables, _prove(tables, COMP, choose_params(5))


def test_wrong_claimed_sum_is_rejected(honest: tuple[np.ndarray, SumcheckArgument]) -> None:
    tables, arg = honest
    true_sum = _sum_of(tables, COMP)
    verify_sum_argument(arg, Transcript("arg"), expected_sum=true_sum)
    wrong = ((true_sum[0] + 1) % P, 0, 0, 0)
    with pytest.raises(VerificationFailed, match="claimed sum"):
        verify_sum_argument(arg, Transcript("arg"), expected_sum=wrong)
    # Changing the sum inside the proof breaks the first round instead.
    forged = dataclasses.replace(arg, sumcheck=dataclasses.replace(arg.sumcheck, claimed_sum=wrong))
    with pytest.raises(VerificationFailed, match="round sum"):
        verify_sum_argument(forged, Transcript("arg"))


def test_tampered_round_polynomial_is_rejected(honest: tuple[np.ndarray, SumcheckArgument]) -> None:
    _, arg = honest
    rounds = [list(r) for r in arg.sumcheck.round_polys]
    e = rounds[2][3]
    rounds[2][3] = ((e[0] + 1) % P, e[1], e[2], e[3])
    forged_proof = dataclasses.replace(arg.sumcheck, round_polys=tuple(tuple(r) for r in rounds))
    with pytest.raises(VerificationFailed):
        verify_sum_argument(dataclasses.replace(arg, sumcheck=forged_proof), Transcript("arg"))


def test_consistent_forgery_of_final_evaluations_is_caught_by_the_openings(
    honest: tuple[np.ndarray, SumcheckArgument],
) -> None:
    # Change f_2(r) and solve for an f_0(r) that keeps g(finals) equal to the last
    # round's claim, so the sum-check alone accepts: only the openings catch it.
    _, arg = honest
    v0, v1, v2 = arg.sumcheck.final_evals
    claim = COMP.evaluate({0: v0, 1: v1, 2: v2})
    v2f = ext_add(v2, (1, 0, 0, 0))
    # g = v0 v1 (1 + 7 v2) + 5 v2  =>  v0 = (claim - 5 v2) / (v1 (1 + 7 v2))
    denom = ext_mul(v1, ext_add((1, 0, 0, 0), ext_scale(v2f, 7)))
    v0f = ext_mul(ext_sub(claim, ext_scale(v2f, 5)), ext_inv(denom))
    assert COMP.evaluate({0: v0f, 1: v1, 2: v2f}) == claim
    forged = dataclasses.replace(
        arg, sumcheck=dataclasses.replace(arg.sumcheck, final_evals=(v0f, v1, v2f))
    )
    with pytest.raises(VerificationFailed, match="opening"):
        verify_sum_argument(forged, Transcript("arg"))


def test_opening_from_another_argument_is_rejected(honest: tuple[np.ndarray, SumcheckArgument]) -> None:
    _, arg = honest
    other = _prove(_tables(13, 5), COMP, choose_params(5))
    with pytest.raises(VerificationFailed, match="opening"):
        verify_sum_argument(dataclasses.replace(arg, opening=other.opening), Transcript("arg"))


def test_argument_bound_to_another_transcript_is_rejected(honest: tuple[np.ndarray, SumcheckArgument]) -> None:
    _, arg = honest
    with pytest.raises(VerificationFailed):
        verify_sum_argument(arg, Transcript("another"))


def test_other_commitments_are_rejected(honest: tuple[np.ndarray, SumcheckArgument]) -> None:
    _, arg = honest
    other = _prove(_tables(12, 5), COMP, choose_params(5))
    with pytest.raises(VerificationFailed, match="commitment"):
        verify_sum_argument(arg, Transcript("arg"), expected_commitment=other.commitment)
    with pytest.raises(VerificationFailed):
        verify_sum_argument(dataclasses.replace(arg, commitment=other.commitment), Transcript("arg"))


def test_a_false_final_evaluation_is_caught_by_the_batched_opening(
    honest: tuple[np.ndarray, SumcheckArgument],
) -> None:
    # Forge f_1(r) only, and solve f_0(r) so the sum-check's final check still
    # holds: the batched opening must catch the wrong value among three.
    _, arg = honest
    v0, v1, v2 = arg.sumcheck.final_evals
    claim = COMP.evaluate({0: v0, 1: v1, 2: v2})
    v1f = ext_add(v1, (0, 1, 0, 0))
    # g = v0 v1 (1 + 7 v2) + 5 v2  =>  v0 = (claim - 5 v2) / (v1 (1 + 7 v2))
    v0f = ext_mul(ext_sub(claim, ext_scale(v2, 5)),
                  ext_inv(ext_mul(v1f, ext_add((1, 0, 0, 0), ext_scale(v2, 7)))))
    forged = dataclasses.replace(arg, sumcheck=dataclasses.replace(arg.sumcheck, final_evals=(v0f, v1f, v2)))
    with pytest.raises(VerificationFailed, match="opening"):
        verify_sum_argument(forged, Transcript("arg"))


def test_every_single_bit_flip_of_a_small_argument_is_rejected() -> None:
    # f * f over 2 variables, committed at full security (rate 1/2, 2 x 2 matrix).
    tables = _tables(5, 2, 1)
    params = CommitParams(2, 1, 1, min_queries(1, 1, 100))
    arg = _prove(tables, Composition.product(0, 0), params, label="flip")
    data = encode_argument(arg)
    verify_sum_argument(decode_argument(data), Transcript("flip"))
    assert len(data) < 1000
    accepted = []
    for bit in range(8 * len(data)):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            verify_sum_argument(decode_argument(bytes(flipped)), Transcript("flip"))
        except ProverError:
            continue
        accepted.append(bit)
    assert accepted == []


@pytest.mark.parametrize(
    ("key", "bad", "field"),
    [
        ("kind", "x", "argument.kind"),
        ("num_vars", 0, "argument.num_vars"),
        ("zerocheck", 0, "argument.zerocheck"),
        ("composition", [], "argument.composition"),
        ("composition", [[1, []]], "argument.composition[0].factors"),
        ("composition", [[P, [0]]], "argument.composition[0].coefficient"),
        ("commitment", [], "argument.commitment"),
        ("commitment", {"params": [5, 2, 2, 148], "polys": 2, "root": bytes(32)}, "argument.commitment.polys"),
        ("sumcheck", [1, 2], "argument.sumcheck"),
        ("opening", {}, "argument.opening"),
    ],
)
def test_malformed_argument_fields_are_named(
    honest: tuple[np.ndarray, SumcheckArgument], key: str, bad: object, field: str
) -> None:
    obj = decode(encode_argument(honest[1]))
    assert isinstance(obj, dict)
    obj[key] = bad
    with pytest.raises(MalformedProof) as info:
        decode_argument(encode(obj))
    assert info.value.field == field


@given(st.sampled_from(["num_vars", "composition", "zerocheck", "commitment", "sumcheck", "opening"]),
       st.none() | st.booleans() | st.integers(-3, 2**33) | st.binary(max_size=40)
       | st.lists(st.integers(0, 5) | st.binary(max_size=8), max_size=4))
@settings(max_examples=60)
def test_junk_in_any_field_never_crashes(field: str, junk: object) -> None:
    tables = _tables(2, 2, 1)
    arg = _prove(tables, Composition.product(0, 0), CommitParams(2, 1, 1, 8), label="junk")
    obj = decode(encode_argument(arg))
    assert isinstance(obj, dict)
    assume(encode(obj[field]) != encode(junk))  # junk, not the honest value again
    obj[field] = junk
    with pytest.raises(ProverError):
        verify_sum_argument(decode_argument(encode(obj)), Transcript("junk"), min_security_bits=0)


def test_sumcheck_proof_objects_of_the_wrong_type_are_malformed(honest: tuple[np.ndarray, SumcheckArgument]) -> None:
    _, arg = honest
    with pytest.raises(MalformedProof):
        verify_sum_argument(dataclasses.replace(arg, sumcheck="nope"), Transcript("arg"))  # type: ignore[arg-type]
    short = SumcheckProof(arg.sumcheck.claimed_sum, arg.sumcheck.round_polys[:-1], arg.sumcheck.final_evals)
    with pytest.raises(MalformedProof):
        verify_sum_argument(dataclasses.replace(arg, sumcheck=short), Transcript("arg"))


@pytest.mark.slow
def test_completeness_at_2_20() -> None:
    n = 20
    tables = _tables(20, n, 2)
    comp = Composition.product(0, 1)
    arg, report = prove_sum_argument(DenseOracle(tables), comp, choose_params(n), Transcript("big"),
                                     memory_budget=16 * 2**20)
    assert report.streamed_rounds > 0
    verify_sum_argument(decode_argument(encode_argument(arg)), Transcript("big"),
                        expected_sum=_sum_of(tables, comp))


_SMALL_ARG = None


def _small_argument_bytes() -> bytes:
    global _SMALL_ARG
    if _SMALL_ARG is None:
        tables = _tables(6, 3, 2)
        arg = _prove(tables, Composition(((1, (0, 1)), (2, (1,)))), CommitParams(3, 1, 1, 12), label="fuzz")
        _SMALL_ARG = encode_argument(arg)
    return _SMALL_ARG


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6))
@settings(max_examples=150)
def test_random_byte_mutations_are_rejected_with_typed_errors(edits: list[tuple[int, int]]) -> None:
    data = bytearray(_small_argument_bytes())
    for pos, byte in edits:
        data[pos % len(data)] = byte
    assume(bytes(data) != _small_argument_bytes())
    with pytest.raises(ProverError):
        verify_sum_argument(decode_argument(bytes(data)), Transcript("fuzz"), min_security_bits=0)


def test_pinned_statements_must_match(honest: tuple[np.ndarray, SumcheckArgument]) -> None:
    _, arg = honest
    verify_sum_argument(arg, Transcript("arg"), expected_composition=COMP, expected_zerocheck=False,
                        expected_commitment=arg.commitment)
    with pytest.raises(VerificationFailed, match="composition"):
        verify_sum_argument(arg, Transcript("arg"), expected_composition=Composition.product(0, 1))
    with pytest.raises(VerificationFailed, match="zerocheck"):
        verify_sum_argument(arg, Transcript("arg"), expected_zerocheck=True)
