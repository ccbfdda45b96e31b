"""Opening proofs on the wire: round trips, soundness against tampering, every bit flip."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.prover import P, ProverError, Transcript
from stele.actors.prover._commit import (
    Commitment,
    CommittedPolynomial,
    EvalProof,
    commit_table,
    prove_evaluation,
)
from stele.actors.prover._errors import MalformedProof, VerificationFailed
from stele.actors.prover._params import CommitParams, choose_params, min_queries
from stele.actors.prover._proof import (
    OpeningProof,
    decode_commitment,
    decode_opening,
    encode_commitment,
    encode_opening,
    verify_opening,
)
from stele.protocol import encode

LABEL = "test.opening"


def _make(params: CommitParams, seed: int = 7) -> tuple[CommittedPolynomial, OpeningProof]:
    rng = np.random.default_rng(seed)
    table = rng.integers(0, P, 1 << params.num_vars).astype(np.uint64)
    committed = commit_table(table, params)
    point = rng.integers(0, P, (params.num_vars, 4)).astype(np.uint64)
    value, proof = prove_evaluation(committed, point, Transcript(LABEL))
    return committed, OpeningProof(committed.commitment, point, (value,), proof)


def _check(opening: OpeningProof, label: str = LABEL) -> None:
    verify_opening(opening, Transcript(label))


# A small instance at full (>= 100-bit) security: 4 rows x 4 columns, rate 1/2.
SMALL = CommitParams(4, 2, 1, min_queries(2, 1, 100))


@pytest.fixture(scope="module")
def small() -> tuple[CommittedPolynomial, OpeningProof]:
    return _make(SMALL)


def test_round_trip_is_exact(small: tuple[CommittedPolynomial, OpeningProof]) -> None:
    _, opening = small
    data = encode_opening(opening)
    back = decode_opening(data)
    assert encode_opening(back) == data
    _check(back)
    assert decode_commitment(encode_commitment(opening.commitment)) == opening.commitment


@given(st.integers(1, 9), st.data())
@settings(max_examples=25)
def test_round_trip_for_generated_instances(n: int, data: st.DataObject) -> None:
    log_rows = data.draw(st.integers(0, n))
    params = CommitParams(n, log_rows, data.draw(st.integers(1, 3)), data.draw(st.integers(1, 30)))
    _, opening = _make(params, data.draw(st.integers(0, 2**32)))
    raw = encode_opening(opening)
    back = decode_opening(raw)
    assert encode_opening(back) == raw
    verify_opening(back, Transcript(LABEL), min_security_bits=0)


def test_every_single_bit_flip_is_rejected(small: tuple[CommittedPolynomial, OpeningProof]) -> None:
    _, opening = small
    data = encode_opening(opening)
    assert len(data) < 2000  # keep the exhaustive loop to a few seconds
    accepted = []
    for bit in range(8 * len(data)):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            _check(decode_opening(bytes(flipped)))
        except ProverError:
            continue
        accepted.append(bit)
    assert accepted == []


def test_every_bit_flip_with_the_commitment_known_to_the_verifier(
    small: tuple[CommittedPolynomial, OpeningProof],
) -> None:
    committed, opening = small
    data = encode_opening(opening)
    for bit in range(0, 8 * len(data), 7):  # a stride, the exhaustive one is above
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(ProverError):
            verify_opening(decode_opening(bytes(flipped)), Transcript(LABEL), expected=committed.commitment)


def _replace_proof(opening: OpeningProof, **changes: object) -> OpeningProof:
    return dataclasses.replace(opening, proof=dataclasses.replace(opening.proof, **changes))


def _bump(arr: np.ndarray, index: tuple[int, ...]) -> np.ndarray:
    out = arr.copy()
    out[index] = (int(out[index]) + 1) % P
    return out


@pytest.fixture(scope="module")
def honest() -> tuple[CommittedPolynomial, OpeningProof]:
    return _make(choose_params(8), seed=3)


class TestSoundness:
    """Each tampering of an honest proof is rejected, naming the failed check."""

    def test_honest_proof_verifies(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _check(honest[1])

    def test_tampered_merkle_path(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        paths = bytearray(op.proof.paths)
        paths[40] ^= 0x80
        with pytest.raises(VerificationFailed, match="merkle path"):
            _check(_replace_proof(op, paths=bytes(paths)))

    def test_swapped_merkle_paths(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        step = len(op.proof.paths) // op.proof.columns.shape[0]
        p = op.proof.paths
        swapped = p[step : 2 * step] + p[:step] + p[2 * step :]
        with pytest.raises(VerificationFailed, match="merkle path"):
            _check(_replace_proof(op, paths=swapped))

    def test_tampered_column(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        with pytest.raises(VerificationFailed, match="merkle path"):
            _check(_replace_proof(op, columns=_bump(op.proof.columns, (3, 1))))

    def test_tampered_proximity_row(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        with pytest.raises(VerificationFailed):
            _check(_replace_proof(op, proximity_row=_bump(op.proof.proximity_row, (0, 2))))

    def test_tampered_evaluation_row(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        with pytest.raises(VerificationFailed):
            _check(_replace_proof(op, evaluation_row=_bump(op.proof.evaluation_row, (5, 0))))

    def test_wrong_value(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        wrong = ((op.value[0] + 1) % P, *op.value[1:])
        with pytest.raises(VerificationFailed):
            _check(dataclasses.replace(op, values=(wrong,)))

    def test_wrong_point(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        with pytest.raises(VerificationFailed):
            _check(dataclasses.replace(op, point=_bump(op.point, (2, 3))))

    def test_honest_proof_of_a_wrong_value_at_the_same_point(
        self, honest: tuple[CommittedPolynomial, OpeningProof]
    ) -> None:
        # A consistent-looking proof built from a different table fails the commitment.
        _, op = honest
        _, other = _make(choose_params(8), seed=4)
        forged = OpeningProof(op.commitment, other.point, other.values, other.proof)
        with pytest.raises(VerificationFailed):
            _check(forged)

    def test_proof_bound_to_another_transcript(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        with pytest.raises(VerificationFailed):
            _check(op, label="another.protocol")
        advanced = Transcript(LABEL)
        advanced.absorb_bytes("earlier", b"something else was said first")
        with pytest.raises(VerificationFailed):
            verify_opening(op, advanced)

    def test_another_commitment(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        other = Commitment(op.commitment.params, bytes(32))
        with pytest.raises(VerificationFailed, match="commitment"):
            verify_opening(op, Transcript(LABEL), expected=other)
        with pytest.raises(VerificationFailed):  # the root is absorbed: other queries
            _check(dataclasses.replace(op, commitment=other))

    def test_missing_or_extra_openings(self, honest: tuple[CommittedPolynomial, OpeningProof]) -> None:
        _, op = honest
        step = len(op.proof.paths) // op.proof.columns.shape[0]
        fewer = _replace_proof(op, columns=op.proof.columns[:-1], paths=op.proof.paths[:-step])
        with pytest.raises(VerificationFailed, match="openings"):
            _check(fewer)
        more = _replace_proof(
            op,
            columns=np.concatenate([op.proof.columns, op.proof.columns[:1]]),
            paths=op.proof.paths + op.proof.paths[:step],
        )
        with pytest.raises(VerificationFailed, match="openings"):
            _check(more)
        with pytest.raises(MalformedProof, match="paths"):
            _check(_replace_proof(op, columns=op.proof.columns[:-1]))

    def test_wrongly_typed_proof_parts_are_malformed(
        self, honest: tuple[CommittedPolynomial, OpeningProof]
    ) -> None:
        _, op = honest
        with pytest.raises(MalformedProof, match="proximity_row"):
            _check(_replace_proof(op, proximity_row=op.proof.proximity_row.astype(np.int64)))
        with pytest.raises(MalformedProof, match="paths"):
            _check(_replace_proof(op, paths="not bytes"))
        with pytest.raises(MalformedProof, match="value"):
            _check(dataclasses.replace(op, values=((1, 2, 3),)))  # type: ignore[arg-type]
        with pytest.raises(MalformedProof, match="point"):
            _check(dataclasses.replace(op, point=op.point[:-1]))


# --------------------------------------------------------------------------- malformed bytes


def _opening_obj(op: OpeningProof) -> dict[str, object]:
    from stele.protocol import decode

    obj = decode(encode_opening(op))
    assert isinstance(obj, dict)
    return obj


@pytest.mark.parametrize(
    ("key", "bad", "field"),
    [
        ("kind", "something/else", "opening.kind"),
        ("point", b"\x00" * 15, "opening.point"),
        ("values", [[1, 2, 3]], "opening.values[0]"),
        ("values", [[1, 2, 3, P]], "opening.values[0][3]"),
        ("values", [[1, 2, 3, True]], "opening.values[0][3]"),
        ("values", [], "opening.values"),
        ("w", b"\xff" * 64, "opening.w[0]"),
        ("u", b"\x00" * 3, "opening.u"),
        ("columns", b"", "opening.columns"),
        ("paths", b"\x00", "opening.paths"),
        ("commitment", {"params": [4, 2, 1], "polys": 1, "root": bytes(32)}, "opening.commitment.params"),
        ("commitment", {"params": [4, 5, 1, 9], "polys": 1, "root": bytes(32)}, "opening.commitment.params[1]"),
        ("commitment", {"params": [4, 2, 1, 9], "polys": 1, "root": bytes(31)}, "opening.commitment.root"),
        ("commitment", {"params": [4, 2, 1, 9], "polys": 0, "root": bytes(32)}, "opening.commitment.polys"),
        ("commitment", {"params": [4, 2, 1, 9], "root": bytes(32)}, "opening.commitment"),
        ("commitment", [], "opening.commitment"),
    ],
)
def test_malformed_fields_are_named(
    small: tuple[CommittedPolynomial, OpeningProof], key: str, bad: object, field: str
) -> None:
    obj = _opening_obj(small[1])
    obj[key] = bad
    with pytest.raises(MalformedProof) as info:
        decode_opening(encode(obj))
    assert info.value.field == field


def test_non_canonical_value_encoding_is_rejected(small: tuple[CommittedPolynomial, OpeningProof]) -> None:
    obj = _opening_obj(small[1])
    obj["extra"] = 1
    with pytest.raises(MalformedProof, match="unexpected"):
        decode_opening(encode(obj))
    with pytest.raises(MalformedProof, match="cbor"):
        decode_opening(encode_opening(small[1]) + b"\x00")


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    try:
        decode_opening(data)
    except MalformedProof:
        pass


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**64), 2**64 - 1) | st.binary(max_size=40)
                    | st.text(max_size=10),
                    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=9),
                    max_leaves=30))
def test_arbitrary_cbor_values_never_crash_the_decoder(obj: object) -> None:
    try:
        decode_opening(encode(obj))
    except MalformedProof:
        pass


@given(st.sampled_from(["kind", "commitment", "point", "values", "w", "u", "columns", "paths"]),
       st.none() | st.integers(-5, 2**40) | st.binary(max_size=64) | st.lists(st.integers(0, 9), max_size=5))
@settings(max_examples=80)
def test_any_field_replaced_by_junk_is_malformed_or_rejected(field: str, junk: object) -> None:
    _, op = _make(SMALL)
    obj = _opening_obj(op)
    obj[field] = junk
    with pytest.raises(ProverError):
        _check(decode_opening(encode(obj)))


def test_eval_proof_objects_built_by_hand_are_checked() -> None:
    _, op = _make(SMALL)
    bogus = EvalProof(np.zeros((3, 4), dtype=np.uint64), op.proof.evaluation_row, op.proof.columns, op.proof.paths)
    with pytest.raises(MalformedProof, match="proximity_row"):
        _check(dataclasses.replace(op, proof=bogus))


def test_every_single_bit_flip_of_a_batched_opening_is_rejected() -> None:
    from stele.actors.prover._commit import prove_evaluations

    params = CommitParams(2, 1, 1, min_queries(1, 1, 100))
    tables = np.random.default_rng(8).integers(0, P, (3, 4)).astype(np.uint64)
    committed = commit_table(tables, params)
    point = np.random.default_rng(9).integers(0, P, (2, 4)).astype(np.uint64)
    values, proof = prove_evaluations(committed, point, Transcript(LABEL))
    data = encode_opening(OpeningProof(committed.commitment, point, values, proof))
    back = decode_opening(data)
    assert back.values == values and encode_opening(back) == data
    _check(back)
    accepted = []
    for bit in range(8 * len(data)):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            _check(decode_opening(bytes(flipped)))
        except ProverError:
            continue
        accepted.append(bit)
    assert accepted == []


def test_pinned_point_and_values(small: tuple[CommittedPolynomial, OpeningProof]) -> None:
    committed, op = small
    verify_opening(op, Transcript(LABEL), expected=committed.commitment, expected_point=op.point,
                   expected_values=op.values)
    other_point = op.point.copy()
    other_point[0, 0] = (int(other_point[0, 0]) + 1) % P
    with pytest.raises(VerificationFailed, match="point"):
        verify_opening(op, Transcript(LABEL), expected_point=other_point)
    with pytest.raises(VerificationFailed, match="values"):
        verify_opening(op, Transcript(LABEL), expected_values=[(0, 0, 0, 0)])
