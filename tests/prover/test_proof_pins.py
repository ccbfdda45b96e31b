"""Pins for the proof codec's size limits found unpinned by mutation testing (issue 19).

Behaviours: proof bytes are refused above ``MAX_PROOF_BYTES`` (64 MiB) and a
proof of exactly that size decodes; a composition of up to ``MAX_TERMS``
(256) terms decodes and one more is refused naming the field; an opening's
``value`` is its one value, and asking a batch opening for it is an
``InvalidParameters`` naming ``values``; the codec takes every
coefficient ``Composition`` takes, 0 included; an argument whose commitment
is for another number of variables is refused naming the commitment's
``params[0]``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from stele.actors.prover import (
    Composition, DenseOracle, InvalidParameters, MalformedProof, P, Transcript, prove_sum_argument,
)
from stele.actors.prover._commit import commit_table, prove_evaluation
from stele.actors.prover._params import CommitParams, min_queries
from stele.actors.prover._proof import (
    MAX_PROOF_BYTES, MAX_TERMS, OpeningProof, composition_from_obj, composition_to_obj, decode_argument,
    decode_cbor, encode_argument,
)
from stele.protocol import decode, encode


def test_proof_bytes_are_refused_above_64_mib() -> None:
    assert MAX_PROOF_BYTES == 64 * 1024 * 1024
    at_limit = encode(bytes(MAX_PROOF_BYTES - 5))  # a byte string: 5 header bytes
    assert len(at_limit) == MAX_PROOF_BYTES
    assert decode_cbor(at_limit) == bytes(MAX_PROOF_BYTES - 5)
    with pytest.raises(MalformedProof) as info:
        decode_cbor(at_limit + b"\x00")
    assert info.value.field == "cbor"
    assert f"input of {MAX_PROOF_BYTES + 1} bytes exceeds the limit {MAX_PROOF_BYTES}" in str(info.value)


def test_a_composition_has_at_most_max_terms_terms() -> None:
    assert MAX_TERMS == 256
    terms = tuple((i + 1, (i % 4,)) for i in range(MAX_TERMS))
    obj = composition_to_obj(Composition(terms))
    assert composition_from_obj(obj) == Composition(terms)
    with pytest.raises(MalformedProof) as info:
        composition_from_obj([*obj, [1, [0]]])
    assert info.value.field == "composition"


def test_an_openings_value_is_its_only_value() -> None:
    params = CommitParams(4, 2, 1, min_queries(2, 1, 100))
    rng = np.random.default_rng(3)
    committed = commit_table(rng.integers(0, P, 1 << params.num_vars).astype(np.uint64), params)
    point = rng.integers(0, P, (params.num_vars, 4)).astype(np.uint64)
    value, proof = prove_evaluation(committed, point, Transcript("pins"))
    one = OpeningProof(committed.commitment, point, (value,), proof)
    assert one.value == value
    for values in ((value, value), ()):
        batch = dataclasses.replace(one, values=values)
        with pytest.raises(InvalidParameters) as info:
            _ = batch.value
        assert (info.value.name, info.value.value) == ("values", len(values))


def test_the_codec_takes_a_zero_coefficient() -> None:
    comp = Composition(((0, (0,)), (P - 1, (1, 0))))
    assert composition_from_obj(composition_to_obj(comp)) == comp
    with pytest.raises(MalformedProof) as info:
        composition_from_obj([[P, [0]]])
    assert info.value.field == "composition[0].coefficient"


def test_an_argument_committed_for_other_variables_is_refused_naming_the_commitment() -> None:
    tables = np.random.default_rng(5).integers(0, P, (1, 1 << 3)).astype(np.uint64)
    arg, _ = prove_sum_argument(DenseOracle(tables), Composition.product(0, 0), CommitParams(3, 1, 1, 8),
                                Transcript("pins"))
    obj = decode(encode_argument(arg))
    assert isinstance(obj, dict)
    assert decode_argument(encode(obj)).num_vars == 3
    obj["num_vars"] = 2
    with pytest.raises(MalformedProof) as info:
        decode_argument(encode(obj))
    assert info.value.field == "argument.commitment.params[0]"
    assert "3, expected num_vars=2" in str(info.value)
