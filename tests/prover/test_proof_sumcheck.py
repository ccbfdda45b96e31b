"""Bare sum-check proofs on the wire: round trips, every bit flip, malformed input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.prover import (
    P,
    Composition,
    ProverError,
    Transcript,
    decode_sumcheck,
    encode_sumcheck,
    prove_sumcheck,
    verify_sumcheck,
)
from stele.actors.prover._errors import MalformedProof
from stele.protocol import encode

COMP = Composition(((1, (0, 1)), (3, (1,))))


def _tables(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, P, 1 << n).astype(np.uint64) for _ in range(2)]


@given(st.integers(1, 8), st.integers(0, 2**32))
@settings(max_examples=25)
def test_round_trip(n: int, seed: int) -> None:
    proof = prove_sumcheck(_tables(seed, n), COMP, Transcript("sc"))
    data = encode_sumcheck(proof)
    back = decode_sumcheck(data, num_vars=n, degree=COMP.degree)
    assert back == proof and encode_sumcheck(back) == data
    verify_sumcheck(back, COMP, n, Transcript("sc"))


def test_every_single_bit_flip_is_rejected() -> None:
    n = 3
    proof = prove_sumcheck(_tables(1, n), COMP, Transcript("sc"))
    data = encode_sumcheck(proof)
    accepted = []
    for bit in range(8 * len(data)):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            verify_sumcheck(decode_sumcheck(bytes(flipped)), COMP, n, Transcript("sc"))
        except ProverError:
            continue
        accepted.append(bit)
    assert accepted == []


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"kind": "x", "proof": []}, "sumcheck.kind"),
        ({"kind": "stele.sumcheck/1"}, "sumcheck"),
        ({"kind": "stele.sumcheck/1", "proof": [1, 2]}, "sumcheck.proof"),
        ({"kind": "stele.sumcheck/1", "proof": [[0, 0, 0, P], [], []]}, "sumcheck.round_polys"),
    ],
)
def test_malformed_is_named(obj: object, field: str) -> None:
    with pytest.raises(MalformedProof) as info:
        decode_sumcheck(encode(obj), num_vars=1)
    assert info.value.field == field


def test_wrong_degree_is_named() -> None:
    proof = prove_sumcheck(_tables(2, 2), COMP, Transcript("sc"))
    with pytest.raises(MalformedProof, match=r"round_polys\[0\]"):
        decode_sumcheck(encode_sumcheck(proof), num_vars=2, degree=3)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    try:
        decode_sumcheck(data)
    except MalformedProof:
        pass
