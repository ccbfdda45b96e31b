"""The Ligero-style commitment: completeness, streaming = dense, oracle input, space."""

from __future__ import annotations

import tracemalloc
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.prover import P, Transcript
from stele.actors.prover._commit import (
    commit,
    commit_oracle,
    commit_table,
    prove_evaluation,
    rows_from_table,
    verify_evaluation,
)
from stele.actors.prover._errors import InvalidParameters, VerificationFailed
from stele.actors.prover._mle import evaluate
from stele.actors.prover._oracle import DenseOracle
from stele.actors.prover._params import CommitParams, choose_params
from stele.actors.prover._proof import OpeningProof, encode_opening

U64 = np.ndarray


def _table(seed: int, n: int) -> U64:
    return np.random.default_rng(seed).integers(0, P, 1 << n).astype(np.uint64)


def _point(seed: int, n: int) -> U64:
    return np.random.default_rng(seed + 1).integers(0, P, (n, 4)).astype(np.uint64)


@st.composite
def instances(draw: st.DrawFn, max_vars: int = 10) -> tuple[CommitParams, U64, U64]:
    n = draw(st.integers(0, max_vars))
    log_rows = draw(st.integers(0, n))
    log_inv_rate = draw(st.integers(1, 3))
    queries = draw(st.integers(1, 40))
    params = CommitParams(n, log_rows, log_inv_rate, queries)
    values = draw(
        st.one_of(
            st.lists(st.integers(0, P - 1), min_size=1 << n, max_size=1 << n),
            st.just([P - 1] * (1 << n)),
            st.just([0] * (1 << n)),
        )
    )
    point = draw(st.lists(st.tuples(*[st.integers(0, P - 1)] * 4), min_size=n, max_size=n))
    return params, np.array(values, dtype=np.uint64), np.array(point, dtype=np.uint64).reshape(n, 4)


@given(instances(), st.integers(1, 9))
@settings(max_examples=60)
def test_honest_openings_verify_and_equal_the_mle(
    inst: tuple[CommitParams, U64, U64], block_rows: int
) -> None:
    params, table, point = inst
    committed = commit_table(table, params, block_rows=block_rows)
    value, proof = prove_evaluation(committed, point, Transcript("t"))
    assert value == evaluate(table, [tuple(int(c) for c in r) for r in point])
    verify_evaluation(committed.commitment, point, value, proof, Transcript("t"), min_security_bits=0)


@pytest.mark.parametrize("n", [1, 2, 6, 12])
def test_default_parameters_complete(n: int) -> None:
    params = choose_params(n)
    table = _table(n, n)
    committed = commit_table(table, params)
    point = _point(n, n)
    value, proof = prove_evaluation(committed, point, Transcript("t"))
    verify_evaluation(committed.commitment, point, value, proof, Transcript("t"))


@given(instances(max_vars=8), st.integers(1, 5), st.integers(1, 300))
@settings(max_examples=30)
def test_streaming_block_size_and_kept_encoding_give_identical_proofs(
    inst: tuple[CommitParams, U64, U64], blocks_a: int, blocks_b: int
) -> None:
    params, table, point = inst
    a = commit_table(table, params, block_rows=blocks_a)
    b = commit_table(table, params, block_rows=blocks_b, keep_encoding=True)
    assert a.commitment == b.commitment
    va, pa = prove_evaluation(a, point, Transcript("t"))
    vb, pb = prove_evaluation(b, point, Transcript("t"))
    assert encode_opening(OpeningProof(a.commitment, point, (va,), pa)) == encode_opening(
        OpeningProof(b.commitment, point, (vb,), pb)
    )


def test_commit_through_an_oracle_equals_commit_of_the_table() -> None:
    params = choose_params(10)
    tables = np.stack([_table(1, 10), _table(2, 10)])
    oracle = DenseOracle(tables)
    via_oracle = commit_oracle(oracle, 1, params, block_rows=3)
    direct = commit_table(tables[1], params)
    assert via_oracle.commitment == direct.commitment
    point = _point(3, 10)
    v1, p1 = prove_evaluation(via_oracle, point, Transcript("t"))
    v2, p2 = prove_evaluation(direct, point, Transcript("t"))
    assert v1 == v2 and p1.paths == p2.paths
    assert np.array_equal(p1.columns, p2.columns)


def test_different_tables_give_different_roots() -> None:
    params = choose_params(6)
    t1 = _table(5, 6)
    t2 = t1.copy()
    t2[17] = (int(t2[17]) + 1) % P
    assert commit_table(t1, params).commitment.root != commit_table(t2, params).commitment.root


def test_parameters_below_the_floor_are_rejected_by_the_verifier() -> None:
    params = CommitParams(4, 2, 1, 3)
    committed = commit_table(_table(0, 4), params)
    point = _point(0, 4)
    value, proof = prove_evaluation(committed, point, Transcript("t"))
    with pytest.raises(VerificationFailed, match="parameters"):
        verify_evaluation(committed.commitment, point, value, proof, Transcript("t"))


def test_row_source_of_the_wrong_shape_is_a_typed_error() -> None:
    params = choose_params(4)
    with pytest.raises(InvalidParameters, match="table length"):
        rows_from_table(_table(0, 5), params)

    def short() -> Sequence[U64]:
        return [np.zeros((params.rows - 1, params.cols), dtype=np.uint64)]

    with pytest.raises(InvalidParameters, match="rows read"):
        commit(short, params)

    def too_big() -> Sequence[U64]:
        return [np.full((params.rows, params.cols), P, dtype=np.uint64)]

    with pytest.raises(InvalidParameters, match="row value"):
        commit(too_big, params)


class _GeneratedOracle:
    """An oracle whose values are a function of the index: nothing is stored."""

    def __init__(self, num_vars: int) -> None:
        self._n = num_vars

    @property
    def num_vars(self) -> int:
        return self._n

    @property
    def num_polys(self) -> int:
        return 1

    def read(self, polys: Sequence[int], start: int, length: int) -> U64:
        idx = np.arange(start, start + length, dtype=np.uint64)
        return ((idx * np.uint64(2654435761)) % np.uint64(P)).reshape(1, length)


def test_streaming_commit_space_is_far_below_the_encoded_matrix() -> None:
    # A square-ish split (512 rows): the regime the O(sqrt N) bound is about.
    n = 18
    params = CommitParams(n, 9, 2, 148)
    oracle = _GeneratedOracle(n)
    tracemalloc.start()
    try:
        committed = commit_oracle(oracle, 0, params, block_rows=4)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    encoded_bytes = 8 * params.rows * params.encoded_cols
    # Hash states (~456 bytes each) + one encoded block + the tree: O(L), not O(rows * L).
    assert peak < encoded_bytes / 4, (peak, encoded_bytes)
    # And the root is the one the dense commitment computes.
    table = oracle.read([0], 0, 1 << n)[0]
    assert committed.commitment == commit_table(table, params).commitment


@pytest.mark.slow
@given(st.sampled_from([16, 20]), st.sampled_from(["random", "zeros", "max", "sparse"]), st.integers(0, 2**32))
@settings(max_examples=4)
def test_large_instances_complete(n: int, shape: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    if shape == "random":
        table = rng.integers(0, P, 1 << n).astype(np.uint64)
    elif shape == "zeros":
        table = np.zeros(1 << n, dtype=np.uint64)
    elif shape == "max":
        table = np.full(1 << n, P - 1, dtype=np.uint64)
    else:
        table = np.zeros(1 << n, dtype=np.uint64)
        hits = rng.integers(0, 1 << n, 50)
        table[hits] = rng.integers(0, P, 50).astype(np.uint64)
    params = choose_params(n)
    committed = commit_table(table, params)
    point = rng.integers(0, P, (n, 4)).astype(np.uint64)
    value, proof = prove_evaluation(committed, point, Transcript("big"))
    verify_evaluation(committed.commitment, point, value, proof, Transcript("big"))
    assert value == evaluate(table, [tuple(int(c) for c in r) for r in point])


@given(st.integers(1, 5), st.integers(1, 300), st.integers(1, 5), st.data())
@settings(max_examples=40)
def test_blas_limb_matmul_is_exact(m: int, k: int, n: int, data: st.DataObject) -> None:
    from stele.actors.prover._commit import _matmul_mod

    elems = st.one_of(st.integers(0, P - 1), st.sampled_from([0, 1, P - 1, P - 2, 2**16, 2**16 - 1]))
    a = data.draw(st.lists(st.lists(elems, min_size=k, max_size=k), min_size=m, max_size=m))
    b = data.draw(st.lists(st.lists(elems, min_size=n, max_size=n), min_size=k, max_size=k))
    got = _matmul_mod(np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64))
    want = [[sum(a[i][t] * b[t][j] for t in range(k)) % P for j in range(n)] for i in range(m)]
    assert got.tolist() == want


def test_blas_limb_matmul_is_exact_at_the_limb_sum_limit() -> None:
    from stele.actors.prover._commit import _matmul_mod

    k = 3 * 2**19  # crosses one 2**20 block boundary
    a = np.full((1, k), P - 1, dtype=np.uint64)
    b = np.full((k, 1), P - 1, dtype=np.uint64)
    assert int(_matmul_mod(a, b)[0, 0]) == (k * (P - 1) ** 2) % P


# --------------------------------------------------------------------------- batches


@given(st.integers(1, 8), st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**32))
@settings(max_examples=25)
def test_batched_openings_equal_each_mle(n: int, m: int, block_rows: int, seed: int) -> None:
    from stele.actors.prover._commit import prove_evaluations, verify_evaluations

    rng = np.random.default_rng(seed)
    params = CommitParams(n, int(rng.integers(0, n + 1)), 1 + int(rng.integers(0, 2)), 20)
    tables = rng.integers(0, P, (m, 1 << n)).astype(np.uint64)
    committed = commit_table(tables, params, block_rows=block_rows)
    assert committed.commitment.num_polys == m
    point = rng.integers(0, P, (n, 4)).astype(np.uint64)
    values, proof = prove_evaluations(committed, point, Transcript("b"))
    as_list = [tuple(int(c) for c in r) for r in point]
    assert list(values) == [evaluate(t, as_list) for t in tables]
    verify_evaluations(committed.commitment, point, values, proof, Transcript("b"), min_security_bits=0)
    # Streaming from an oracle and keeping the encoding give the same commitment and proof.
    oracle = DenseOracle(np.concatenate([tables, tables[:1]]))
    via_oracle = commit_oracle(oracle, list(range(m)), params, block_rows=block_rows + 1)
    kept = commit_table(tables, params, keep_encoding=True)
    assert via_oracle.commitment == committed.commitment == kept.commitment
    for other in (via_oracle, kept):
        v2, p2 = prove_evaluations(other, point, Transcript("b"))
        assert v2 == values and p2.paths == proof.paths and np.array_equal(p2.columns, proof.columns)


def test_a_single_wrong_value_in_a_batch_is_rejected() -> None:
    from stele.actors.prover._commit import prove_evaluations, verify_evaluations

    n, m = 8, 5
    tables = np.random.default_rng(4).integers(0, P, (m, 1 << n)).astype(np.uint64)
    committed = commit_table(tables, choose_params(n))
    point = _point(4, n)
    values, proof = prove_evaluations(committed, point, Transcript("b"))
    for k in range(m):
        wrong = list(values)
        wrong[k] = ((wrong[k][0] + 1) % P, *wrong[k][1:])
        with pytest.raises(VerificationFailed):
            verify_evaluations(committed.commitment, point, tuple(wrong), proof, Transcript("b"))
    swapped = (values[1], values[0], *values[2:])
    with pytest.raises(VerificationFailed):
        verify_evaluations(committed.commitment, point, swapped, proof, Transcript("b"))


def test_batch_and_single_apis_do_not_mix() -> None:
    from stele.actors.prover._errors import MalformedProof

    tables = np.random.default_rng(5).integers(0, P, (2, 16)).astype(np.uint64)
    committed = commit_table(tables, choose_params(4))
    with pytest.raises(InvalidParameters, match="num_polys"):
        prove_evaluation(committed, _point(5, 4), Transcript("b"))
    from stele.actors.prover._commit import prove_evaluations, verify_evaluations

    values, proof = prove_evaluations(committed, _point(5, 4), Transcript("b"))
    with pytest.raises(VerificationFailed, match="num_polys"):
        verify_evaluation(committed.commitment, _point(5, 4), values[0], proof, Transcript("b"))
    with pytest.raises(MalformedProof, match="values"):
        verify_evaluations(committed.commitment, _point(5, 4), values[:1], proof, Transcript("b"))


def test_package_docstring_commitment_example_runs() -> None:
    import textwrap

    import stele.actors.prover as prover

    doc = prover.__doc__ or ""
    block = doc.split("::", 2)[2].split("\n* ", 1)[0]
    code = textwrap.dedent(block)
    assert "prove_sum_argument" in code
    exec(compile(code, "stele.actors.prover docstring (commitment)", "exec"), {})
