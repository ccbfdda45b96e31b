"""Pins for sum-check parameter checks found unpinned by mutation testing (issue 19).

A bad ``chunk_size`` (not a power of two, or below 2) and a bad
``memory_budget`` are each refused by their own check, and the error names the
offending parameter and value -- not some later check that happens to raise
the same type.
"""

from __future__ import annotations

import numpy as np
import pytest

from stele.actors.prover import (
    Composition,
    DenseOracle,
    InvalidParameters,
    Transcript,
    expand_base,
    prove_sumcheck_streaming,
)

LABEL = "test.sumcheck.pins"


def _oracle() -> DenseOracle:
    return DenseOracle(np.stack([expand_base(b"a", 8)]))


@pytest.mark.parametrize("chunk", [-4, 0, 1, 3, 6, 12, 257])
def test_bad_chunk_size_is_named(chunk: int) -> None:
    with pytest.raises(InvalidParameters) as info:
        prove_sumcheck_streaming(_oracle(), Composition.product(0), Transcript(LABEL),
                                 chunk_size=chunk)
    assert info.value.name == "chunk_size"
    assert info.value.value == chunk
    assert "power of two" in info.value.limit


@pytest.mark.parametrize("chunk", [2, 4, 256, 1 << 12])
def test_power_of_two_chunk_sizes_give_the_same_proof(chunk: int) -> None:
    ref, _ = prove_sumcheck_streaming(_oracle(), Composition.product(0), Transcript(LABEL),
                                      chunk_size=2)
    proof, _ = prove_sumcheck_streaming(_oracle(), Composition.product(0),
                                        Transcript(LABEL), chunk_size=chunk)
    assert proof == ref


@pytest.mark.parametrize("budget", [0, -1])
def test_bad_memory_budget_is_named(budget: int) -> None:
    with pytest.raises(InvalidParameters) as info:
        prove_sumcheck_streaming(_oracle(), Composition.product(0), Transcript(LABEL),
                                 memory_budget=budget)
    assert info.value.name == "memory_budget"


def test_bad_composition_index_is_named() -> None:
    with pytest.raises(InvalidParameters) as info:
        prove_sumcheck_streaming(_oracle(), Composition.product(1), Transcript(LABEL))
    assert info.value.name == "composition poly index"
    assert info.value.value == 1
