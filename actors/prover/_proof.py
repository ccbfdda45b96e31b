"""Commitments and opening proofs as canonical CBOR.

Wire forms (all maps have exactly these keys; ints are canonical field
elements or small parameters; vectors are packed little-endian ``uint32``)::

    commitment = {"params": [num_vars, log_rows, log_inv_rate, num_queries],
                  "polys": m,                        # polynomials committed together
                  "root": bytes(32)}
    opening    = {"kind": "stele.pcs.ligero.opening/2",
                  "commitment": commitment,
                  "point": bytes(16 * num_vars),     # extension elements
                  "values": [[c0, c1, c2, c3], ...], # m extension elements
                  "w": bytes(16 * cols), "u": bytes(16 * cols),
                  "columns": bytes(4 * m * rows * k),  # k opened stacked columns
                  "paths": bytes(32 * depth * k)}
    argument   = {"kind": "stele.sumcheck-argument/2", "num_vars": n,
                  "composition": [[coefficient, [poly, ...]], ...],
                  "zerocheck": bool, "commitment": commitment,
                  "sumcheck": [claimed_sum, [[s_i(0..d)], ...], final_evals],
                  "opening": {"w", "u", "columns", "paths"}}

Decoding checks every length and range and raises :class:`MalformedProof`;
the strict canonical decoder of :mod:`stele.protocol` rejects any other
encoding of the same value, so a proof has exactly one serialization.  The
parameters inside a proof are never trusted: the verifier rejects ones below
its security floor, and the Fiat-Shamir transcript absorbs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stele.protocol import DecodeError, decode, encode

from ._argument import SumcheckArgument
from ._commit import (
    DEFAULT_MIN_SECURITY_BITS,
    MAX_BATCH,
    Commitment,
    EvalProof,
    verify_evaluations,
)
from ._errors import InvalidParameters, MalformedProof, VerificationFailed
from ._field import P, U64, Ext
from ._mle import Composition
from ._merkle import DIGEST_SIZE
from ._params import MAX_NUM_VARS, MAX_QUERIES, CommitParams
from ._sumcheck import SumcheckProof
from ._transcript import Transcript
from ._wire import (
    pack_base,
    pack_ext,
    read_base_vector,
    read_bytes,
    read_ext,
    read_ext_vector,
    read_int,
    read_list,
    read_map,
)

__all__ = [
    "OPENING_KIND",
    "MAX_PROOF_BYTES",
    "OpeningProof",
    "commitment_to_obj",
    "commitment_from_obj",
    "encode_commitment",
    "decode_commitment",
    "encode_opening",
    "decode_opening",
    "verify_opening",
    "decode_cbor",
    "ARGUMENT_KIND",
    "composition_to_obj",
    "composition_from_obj",
    "encode_argument",
    "decode_argument",
    "SUMCHECK_KIND",
    "encode_sumcheck",
    "decode_sumcheck",
]

OPENING_KIND = "stele.pcs.ligero.opening/2"
MAX_PROOF_BYTES = 64 * 1024 * 1024
_COMMITMENT_KEYS = frozenset({"params", "polys", "root"})
_OPENING_KEYS = frozenset(
    {"kind", "commitment", "point", "values", "w", "u", "columns", "paths"}
)
ARGUMENT_KIND = "stele.sumcheck-argument/2"
_ARGUMENT_KEYS = frozenset(
    {"kind", "num_vars", "composition", "zerocheck", "commitment", "sumcheck", "opening"}
)
_EVAL_KEYS = frozenset({"w", "u", "columns", "paths"})
SUMCHECK_KIND = "stele.sumcheck/1"
_SUMCHECK_KEYS = frozenset({"kind", "proof"})
MAX_TERMS = 256
MAX_DEGREE = 16
MAX_POLY_INDEX = 1023


@dataclass(frozen=True, slots=True)
class OpeningProof:
    """A self-contained evaluation claim: commitment, point, one value per
    committed polynomial, and the proof."""

    commitment: Commitment
    point: U64
    values: tuple[Ext, ...]
    proof: EvalProof

    @property
    def value(self) -> Ext:
        """The value of a single-polynomial commitment."""
        if len(self.values) != 1:
            raise InvalidParameters("values", len(self.values), "exactly one (a single polynomial)")
        return self.values[0]


def decode_cbor(data: bytes, *, max_size: int = MAX_PROOF_BYTES) -> object:
    """Strict canonical CBOR decoding, with decoder errors turned into :class:`MalformedProof`."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedProof("data", f"expected bytes, got {type(data).__name__}")
    try:
        return decode(bytes(data), max_size=max_size)
    except DecodeError as exc:
        raise MalformedProof("cbor", str(exc)) from None


def commitment_to_obj(commitment: Commitment) -> dict[str, object]:
    """The CBOR-ready form of a commitment."""
    return {"params": commitment.params.to_cbor(), "polys": commitment.num_polys, "root": commitment.root}


def commitment_from_obj(obj: object, field: str = "commitment") -> Commitment:
    """Parse a commitment's CBOR form, checking every field."""
    m = read_map(obj, _COMMITMENT_KEYS, field)
    raw = read_list(m["params"], 4, 4, f"{field}.params")
    num_vars = read_int(raw[0], 0, MAX_NUM_VARS, f"{field}.params[0]")
    log_rows = read_int(raw[1], 0, num_vars, f"{field}.params[1]")
    log_inv_rate = read_int(raw[2], 1, 8, f"{field}.params[2]")
    num_queries = read_int(raw[3], 1, MAX_QUERIES, f"{field}.params[3]")
    try:
        params = CommitParams(num_vars, log_rows, log_inv_rate, num_queries)
    except InvalidParameters as exc:
        raise MalformedProof(f"{field}.params", str(exc)) from None
    polys = read_int(m["polys"], 1, MAX_BATCH, f"{field}.polys")
    root = read_bytes(m["root"], DIGEST_SIZE, f"{field}.root")
    return Commitment(params, root, polys)


def encode_commitment(commitment: Commitment) -> bytes:
    """Canonical CBOR bytes of a commitment."""
    return encode(commitment_to_obj(commitment))


def decode_commitment(data: bytes) -> Commitment:
    """Parse :func:`encode_commitment`'s output; :class:`MalformedProof` otherwise."""
    return commitment_from_obj(decode_cbor(data))


def _eval_proof_fields(proof: EvalProof) -> dict[str, object]:
    return {
        "w": pack_ext(proof.proximity_row),
        "u": pack_ext(proof.evaluation_row),
        "columns": pack_base(proof.columns),
        "paths": proof.paths,
    }


def _eval_proof_from(m: Mapping[str, object], commitment: Commitment, field: str) -> EvalProof:
    params = commitment.params
    w = read_ext_vector(m["w"], params.cols, f"{field}.w")
    u = read_ext_vector(m["u"], params.cols, f"{field}.u")
    col_bytes = read_bytes(m["columns"], None, f"{field}.columns")
    height = commitment.num_polys * params.rows
    per_column = 4 * height
    opened, rest = divmod(len(col_bytes), per_column)
    if rest or not 1 <= opened <= params.num_queries:
        raise MalformedProof(
            f"{field}.columns",
            f"{len(col_bytes)} bytes is not 1..{params.num_queries} columns of {per_column} bytes",
        )
    columns = read_base_vector(col_bytes, opened * height, f"{field}.columns")
    paths = read_bytes(m["paths"], opened * params.log_encoded_cols * DIGEST_SIZE, f"{field}.paths")
    return EvalProof(w, u, columns.reshape(opened, height), paths)


def encode_opening(opening: OpeningProof) -> bytes:
    """Canonical CBOR bytes of an opening proof."""
    return encode(
        {
            "kind": OPENING_KIND,
            "commitment": commitment_to_obj(opening.commitment),
            "point": pack_ext(opening.point),
            "values": [list(v) for v in opening.values],
            **_eval_proof_fields(opening.proof),
        }
    )


def decode_opening(data: bytes, *, max_size: int = MAX_PROOF_BYTES) -> OpeningProof:
    """Parse :func:`encode_opening`'s output, checking every length and range."""
    m = read_map(decode_cbor(data, max_size=max_size), _OPENING_KEYS, "opening")
    kind = m["kind"]
    if kind != OPENING_KIND:
        raise MalformedProof("opening.kind", f"{kind!r}, expected {OPENING_KIND!r}")
    commitment = commitment_from_obj(m["commitment"], "opening.commitment")
    params = commitment.params
    point = read_ext_vector(m["point"], params.num_vars, "opening.point")
    raw_values = read_list(m["values"], commitment.num_polys, commitment.num_polys, "opening.values")
    values = tuple(read_ext(v, f"opening.values[{i}]") for i, v in enumerate(raw_values))
    proof = _eval_proof_from(m, commitment, "opening")
    return OpeningProof(commitment, point, values, proof)


def verify_opening(
    opening: OpeningProof,
    transcript: Transcript,
    *,
    expected: Commitment | None = None,
    expected_point: U64 | None = None,
    expected_values: Sequence[Ext] | None = None,
    min_security_bits: float = DEFAULT_MIN_SECURITY_BITS,
) -> None:
    """Verify a decoded opening; the ``expected*`` arguments pin its statement.

    An opening carries its commitment, point and values: without pins the
    verdict is about whatever it states.

    Raises :class:`VerificationFailed` (naming the check) or
    :class:`MalformedProof`; returns nothing when the proof is good.
    """
    if expected is not None and opening.commitment != expected:
        raise VerificationFailed("commitment", "the proof opens a different commitment")
    if expected_point is not None and not np.array_equal(
        np.asarray(opening.point, dtype=np.uint64), np.asarray(expected_point, dtype=np.uint64)
    ):
        raise VerificationFailed("point", "the proof opens at a different point")
    if expected_values is not None and tuple(expected_values) != tuple(opening.values):
        raise VerificationFailed("values", "the proof claims different values")
    verify_evaluations(
        opening.commitment,
        np.asarray(opening.point, dtype=np.uint64),
        opening.values,
        opening.proof,
        transcript,
        min_security_bits=min_security_bits,
    )


def composition_to_obj(composition: Composition) -> list[object]:
    """``[[coefficient, [factor, ...]], ...]``: a composition's CBOR form."""
    return [[c, list(factors)] for c, factors in composition.terms]


def composition_from_obj(obj: object, field: str = "composition") -> Composition:
    """Parse :func:`composition_to_obj`'s output within fixed size limits."""
    terms_obj = read_list(obj, 1, MAX_TERMS, field)
    terms: list[tuple[int, tuple[int, ...]]] = []
    for i, term in enumerate(terms_obj):
        pair = read_list(term, 2, 2, f"{field}[{i}]")
        coefficient = read_int(pair[0], 0, P - 1, f"{field}[{i}].coefficient")
        factors_obj = read_list(pair[1], 1, MAX_DEGREE, f"{field}[{i}].factors")
        factors = tuple(
            read_int(f, 0, MAX_POLY_INDEX, f"{field}[{i}].factors[{j}]") for j, f in enumerate(factors_obj)
        )
        terms.append((coefficient, factors))
    try:
        return Composition(tuple(terms))
    except InvalidParameters as exc:
        raise MalformedProof(field, str(exc)) from None


def encode_argument(argument: SumcheckArgument) -> bytes:
    """Canonical CBOR bytes of a sum-check argument (statement, commitment, proofs)."""
    return encode(
        {
            "kind": ARGUMENT_KIND,
            "num_vars": argument.num_vars,
            "composition": composition_to_obj(argument.composition),
            "zerocheck": argument.zerocheck,
            "commitment": commitment_to_obj(argument.commitment),
            "sumcheck": argument.sumcheck.to_obj(),
            "opening": _eval_proof_fields(argument.opening),
        }
    )


def decode_argument(data: bytes, *, max_size: int = MAX_PROOF_BYTES) -> SumcheckArgument:
    """Parse :func:`encode_argument`'s output, checking every length and range.

    The counts must agree with the composition (one committed polynomial and
    one final evaluation per polynomial, one round per variable); the
    sum-check values are checked by :meth:`SumcheckProof.from_obj`.
    """
    m = read_map(decode_cbor(data, max_size=max_size), _ARGUMENT_KEYS, "argument")
    if m["kind"] != ARGUMENT_KIND:
        raise MalformedProof("argument.kind", f"{m['kind']!r}, expected {ARGUMENT_KIND!r}")
    num_vars = read_int(m["num_vars"], 1, MAX_NUM_VARS, "argument.num_vars")
    composition = composition_from_obj(m["composition"], "argument.composition")
    zerocheck = m["zerocheck"]
    if not isinstance(zerocheck, bool):
        raise MalformedProof("argument.zerocheck", f"expected a bool, got {type(zerocheck).__name__}")
    count = len(composition.polys)
    commitment = commitment_from_obj(m["commitment"], "argument.commitment")
    if commitment.params.num_vars != num_vars:
        raise MalformedProof(
            "argument.commitment.params[0]", f"{commitment.params.num_vars}, expected num_vars={num_vars}"
        )
    if commitment.num_polys != count:
        raise MalformedProof("argument.commitment.polys", f"{commitment.num_polys}, expected {count}")
    rounds = read_list(m["sumcheck"], 3, 3, "argument.sumcheck")
    read_list(rounds[1], num_vars, num_vars, "argument.sumcheck.round_polys")
    read_list(rounds[2], count, count, "argument.sumcheck.final_evals")
    sumcheck = SumcheckProof.from_obj(rounds)
    opening = _eval_proof_from(read_map(m["opening"], _EVAL_KEYS, "argument.opening"), commitment, "argument.opening")
    return SumcheckArgument(num_vars, composition, zerocheck, commitment, sumcheck, opening)


def encode_sumcheck(proof: SumcheckProof) -> bytes:
    """Canonical CBOR bytes of a bare sum-check proof: ``{"kind", "proof": to_obj()}``."""
    return encode({"kind": SUMCHECK_KIND, "proof": proof.to_obj()})


def decode_sumcheck(
    data: bytes, *, num_vars: int | None = None, degree: int | None = None, max_size: int = MAX_PROOF_BYTES
) -> SumcheckProof:
    """Parse :func:`encode_sumcheck`'s output; with ``num_vars``/``degree``, check the shape.

    (The verifier checks the shape too; checking here names the field early.)
    """
    m = read_map(decode_cbor(data, max_size=max_size), _SUMCHECK_KEYS, "sumcheck")
    if m["kind"] != SUMCHECK_KIND:
        raise MalformedProof("sumcheck.kind", f"{m['kind']!r}, expected {SUMCHECK_KIND!r}")
    parts = read_list(m["proof"], 3, 3, "sumcheck.proof")
    if num_vars is not None:
        rounds = read_list(parts[1], num_vars, num_vars, "sumcheck.round_polys")
        if degree is not None:
            for i, rnd in enumerate(rounds):
                read_list(rnd, degree + 1, degree + 1, f"sumcheck.round_polys[{i}]")
    return SumcheckProof.from_obj(parts)
