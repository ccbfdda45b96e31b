"""Sum-check and zero-check: completeness, soundness, streaming == dense, passes, memory."""

from __future__ import annotations

import tracemalloc
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.prover import (
    EXT_ZERO,
    P,
    Composition,
    DenseOracle,
    InvalidParameters,
    MalformedProof,
    SumcheckProof,
    Transcript,
    VerificationFailed,
    VirtualPolynomial,
    evaluate,
    expand_base,
    expand_ext,
    ext_add,
    interpolate_at,
    prove_sumcheck,
    prove_sumcheck_streaming,
    prove_zerocheck,
    prove_zerocheck_streaming,
    verify_sumcheck,
    verify_zerocheck,
    vmul,
    vsub,
)
from stele.actors.prover._field import U64
from stele.protocol import decode, encode

LABEL = "test.sumcheck"


@st.composite
def compositions(draw: st.DrawFn, num_polys: int, max_degree: int = 3) -> Composition:
    terms = draw(
        st.lists(
            st.tuples(
                st.one_of(st.just(1), st.integers(0, P - 1)),
                # Empty factors: a constant term.
                st.lists(st.integers(0, num_polys - 1), min_size=0, max_size=max_degree).map(tuple),
            ),
            min_size=1,
            max_size=3,
        ).filter(lambda ts: any(f for _, f in ts))
    )
    return Composition(tuple(terms))


@st.composite
def instances(draw: st.DrawFn, min_vars: int = 1, max_vars: int = 12) -> tuple[list[U64], Composition]:
    n = draw(st.integers(min_value=min_vars, max_value=max_vars))
    k = draw(st.integers(min_value=1, max_value=3))
    seed = draw(st.binary(min_size=1, max_size=8))
    tables: list[U64] = []
    for i in range(k):
        kind = draw(st.sampled_from(["base", "base", "ext", "edge"]))
        tag = seed + bytes([i])
        if kind == "base":
            tables.append(expand_base(tag, 1 << n))
        elif kind == "ext":
            tables.append(expand_ext(tag, 1 << n))
        else:  # extreme values stress the reductions
            tables.append(np.where(expand_base(tag, 1 << n) % 2 == 0, P - 1, 0).astype(np.uint64))
    return tables, draw(compositions(k))


def _check_complete(tables: list[U64], comp: Composition) -> SumcheckProof:
    n = tables[0].shape[0].bit_length() - 1
    proof = prove_sumcheck(tables, comp, Transcript(LABEL))
    assert proof.claimed_sum == VirtualPolynomial(comp, tuple(tables)).hypercube_sum()
    result = verify_sumcheck(proof, comp, n, Transcript(LABEL))
    assert len(result.point) == n
    assert list(result.final_evals) == [evaluate(tables[k], result.point) for k in comp.polys]
    return proof


@settings(max_examples=40)
@given(instances())
def test_completeness(inst: tuple[list[U64], Composition]) -> None:
    _check_complete(*inst)


@pytest.mark.slow
@settings(max_examples=8)
@given(instances(min_vars=13, max_vars=20))
def test_completeness_large(inst: tuple[list[U64], Composition]) -> None:
    _check_complete(*inst)


def _oracle(tables: Sequence[U64]) -> DenseOracle:
    return DenseOracle(np.stack(list(tables)))


@settings(max_examples=30)
@given(
    instances(max_vars=9),
    st.sampled_from([1, 2_000, 20_000, 10**9]),
    st.sampled_from([2, 4, 16, 256]),
    st.sampled_from(["blake2b", "sha256"]),
)
def test_streaming_equals_dense(
    inst: tuple[list[U64], Composition], budget: int, chunk: int, hash_name: str
) -> None:
    tables, comp = inst
    tables = [t for t in tables if t.ndim == 1] or [expand_base(b"fallback", tables[0].shape[0])]
    comp = Composition(tuple((c, tuple(f % len(tables) for f in fs)) for c, fs in comp.terms))
    t_dense = Transcript(LABEL, hash=hash_name)  # type: ignore[arg-type]
    t_stream = Transcript(LABEL, hash=hash_name)  # type: ignore[arg-type]
    dense = prove_sumcheck(tables, comp, t_dense)
    oracle = _oracle(tables)
    stream, report = prove_sumcheck_streaming(oracle, comp, t_stream, memory_budget=budget, chunk_size=chunk)
    assert stream == dense
    assert encode(stream.to_obj()) == encode(dense.to_obj())  # byte-identical canonical CBOR
    assert SumcheckProof.from_obj(decode(encode(dense.to_obj()))) == dense
    assert t_stream.state() == t_dense.state()
    # Passes: one per streamed round (the last one keeps its folded chunks), or one to read it all.
    n = tables[0].shape[0].bit_length() - 1
    assert report.passes == max(1, report.streamed_rounds)
    assert 0 <= report.streamed_rounds <= n
    assert report.entries_read == oracle.entries_read == report.passes * len(comp.polys) << n
    if budget == 1:
        assert report.streamed_rounds == n
    if budget == 10**9:
        assert report.streamed_rounds == 0


@settings(max_examples=20)
@given(instances(max_vars=8), st.sampled_from([1, 3_000, 10**9]), st.sampled_from([2, 8, 64]))
def test_zerocheck_streaming_equals_dense(inst: tuple[list[U64], Composition], budget: int, chunk: int) -> None:
    tables, _ = inst
    n = tables[0].shape[0].bit_length() - 1
    a = expand_base(b"a", 1 << n) if tables[0].ndim == 2 else tables[0]
    b = expand_base(b"b", 1 << n)
    c = vmul(a, b)
    comp = Composition(((1, (0, 1)), (P - 1, (2,))))  # a·b - c vanishes everywhere
    dense = prove_zerocheck([a, b, c], comp, Transcript(LABEL))
    stream, report = prove_zerocheck_streaming(
        _oracle([a, b, c]), comp, Transcript(LABEL), memory_budget=budget, chunk_size=chunk
    )
    assert stream == dense
    result = verify_zerocheck(dense, comp, n, Transcript(LABEL))
    assert list(result.final_evals) == [evaluate(t, result.point) for t in (a, b, c)]
    assert report.passes == max(1, report.streamed_rounds)


def test_zerocheck_rejects_a_nonvanishing_constraint() -> None:
    n = 5
    a, b = expand_base(b"a", 1 << n), expand_base(b"b", 1 << n)
    c = vmul(a, b)
    c[7] = (int(c[7]) + 1) % P  # one violated row
    comp = Composition(((1, (0, 1)), (P - 1, (2,))))
    proof = prove_zerocheck([a, b, c], comp, Transcript(LABEL))
    assert proof.claimed_sum != EXT_ZERO
    with pytest.raises(VerificationFailed, match="zero-check claim"):
        verify_zerocheck(proof, comp, n, Transcript(LABEL))
    # Claiming zero anyway breaks the first round.
    forged = SumcheckProof(EXT_ZERO, proof.round_polys, proof.final_evals)
    with pytest.raises(VerificationFailed):
        verify_zerocheck(forged, comp, n, Transcript(LABEL))


def _instance(n: int = 6) -> tuple[list[U64], Composition, SumcheckProof]:
    tables = [expand_base(bytes([i]), 1 << n) for i in range(3)]
    comp = Composition(((1, (0, 1)), (7, (1, 2, 0)), (3, (2,))))
    return tables, comp, prove_sumcheck(tables, comp, Transcript(LABEL))


def test_wrong_claimed_sum_rejected() -> None:
    _, comp, proof = _instance()
    for delta in ((1, 0, 0, 0), (0, 0, 0, 1)):
        bad = SumcheckProof(ext_add(proof.claimed_sum, delta), proof.round_polys, proof.final_evals)
        with pytest.raises(VerificationFailed, match="round sum"):
            verify_sumcheck(bad, comp, 6, Transcript(LABEL))


def test_every_tampered_round_value_rejected() -> None:
    _, comp, proof = _instance()
    for i, rnd in enumerate(proof.round_polys):
        for j in range(len(rnd)):
            for coord in range(4):
                value = list(rnd[j])
                value[coord] = (value[coord] + 1) % P
                new_rnd = rnd[:j] + ((value[0], value[1], value[2], value[3]),) + rnd[j + 1 :]
                rounds = proof.round_polys[:i] + (new_rnd,) + proof.round_polys[i + 1 :]
                with pytest.raises(VerificationFailed):
                    verify_sumcheck(SumcheckProof(proof.claimed_sum, rounds, proof.final_evals), comp, 6, Transcript(LABEL))


def test_tampered_final_evals_rejected() -> None:
    _, comp, proof = _instance()
    for k in range(len(proof.final_evals)):
        finals = list(proof.final_evals)
        finals[k] = ext_add(finals[k], (0, 1, 0, 0))
        with pytest.raises(VerificationFailed, match="final evaluation"):
            verify_sumcheck(SumcheckProof(proof.claimed_sum, proof.round_polys, tuple(finals)), comp, 6, Transcript(LABEL))


def test_proof_bound_to_its_transcript() -> None:
    _, comp, proof = _instance()
    with pytest.raises(VerificationFailed):
        verify_sumcheck(proof, comp, 6, Transcript("another protocol"))
    prefixed = Transcript(LABEL)
    prefixed.absorb_bytes("context", b"another statement")
    with pytest.raises(VerificationFailed):
        verify_sumcheck(proof, comp, 6, prefixed)
    with pytest.raises(VerificationFailed):
        verify_sumcheck(proof, comp, 6, Transcript(LABEL, hash="sha256"))
    # ...and to its statement: another composition with the same degree.
    other = Composition(((1, (0, 1)), (8, (1, 2, 0)), (3, (2,))))
    with pytest.raises(VerificationFailed):
        verify_sumcheck(proof, other, 6, Transcript(LABEL))
    # The honest transcript still verifies (the test above can fail).
    verify_sumcheck(proof, comp, 6, Transcript(LABEL))


def test_malformed_proofs_are_typed() -> None:
    _, comp, proof = _instance()
    with pytest.raises(MalformedProof, match="rounds"):
        verify_sumcheck(SumcheckProof(proof.claimed_sum, proof.round_polys[:-1], proof.final_evals), comp, 6, Transcript(LABEL))
    short = (proof.round_polys[0][:-1],) + proof.round_polys[1:]
    with pytest.raises(MalformedProof, match="round_polys\\[0\\]"):
        verify_sumcheck(SumcheckProof(proof.claimed_sum, short, proof.final_evals), comp, 6, Transcript(LABEL))
    with pytest.raises(MalformedProof, match="final_evals"):
        verify_sumcheck(SumcheckProof(proof.claimed_sum, proof.round_polys, proof.final_evals[:1]), comp, 6, Transcript(LABEL))
    with pytest.raises(MalformedProof, match="claimed_sum"):
        verify_sumcheck(SumcheckProof((P, 0, 0, 0), proof.round_polys, proof.final_evals), comp, 6, Transcript(LABEL))
    assert SumcheckProof.from_obj(proof.to_obj()) == proof
    for bad in (None, [1, 2], [[0, 0, 0, 0], "x", []], [[0, 0, 0, True], [], []], [[0, 0, 0], [], []]):
        with pytest.raises(MalformedProof):
            SumcheckProof.from_obj(bad)


def test_interpolation() -> None:
    # s(X) = 3 + 2X + X^2 at 0..2, evaluated at 5 -> 38.
    assert interpolate_at([(3, 0, 0, 0), (6, 0, 0, 0), (11, 0, 0, 0)], (5, 0, 0, 0)) == (38, 0, 0, 0)


def test_bad_arguments() -> None:
    a = expand_base(b"a", 8)
    with pytest.raises(InvalidParameters):
        prove_sumcheck([a], Composition.product(0, 1), Transcript(LABEL))
    with pytest.raises(InvalidParameters):
        prove_sumcheck([expand_base(b"a", 1)], Composition.product(0), Transcript(LABEL))
    with pytest.raises(InvalidParameters):
        prove_sumcheck([a, expand_base(b"b", 4)], Composition.product(0, 1), Transcript(LABEL))
    with pytest.raises(InvalidParameters):
        prove_sumcheck_streaming(_oracle([a]), Composition.product(0), Transcript(LABEL), chunk_size=3)
    with pytest.raises(InvalidParameters):
        prove_sumcheck_streaming(_oracle([a]), Composition.product(1), Transcript(LABEL))
    with pytest.raises(InvalidParameters):
        prove_sumcheck([a], Composition.product(0), Transcript(LABEL), eq_point=[(1, 0, 0, 0)])


def test_dense_oracle_pads_and_checks() -> None:
    oracle = DenseOracle(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint64), num_vars=3)
    assert oracle.num_vars == 3 and oracle.num_polys == 2
    assert oracle.read([1, 0], 2, 4).tolist() == [[6, 0, 0, 0], [3, 0, 0, 0]]
    assert oracle.table(0).tolist() == [1, 2, 3, 0, 0, 0, 0, 0]
    with pytest.raises(InvalidParameters):
        oracle.read([2], 0, 1)
    with pytest.raises(InvalidParameters):
        oracle.read([0], 6, 4)
    with pytest.raises(InvalidParameters):
        DenseOracle(np.array([[P]], dtype=np.uint64))
    with pytest.raises(InvalidParameters, match="ragged"):
        DenseOracle([np.zeros(2, dtype=np.uint64), np.zeros(3, dtype=np.uint64)])
    with pytest.raises(InvalidParameters):
        DenseOracle(np.array([[-1]]))
    with pytest.raises(InvalidParameters):
        DenseOracle(np.array([[0.5]]))
    with pytest.raises(InvalidParameters):
        DenseOracle(np.zeros((1, 4), dtype=np.uint64), num_vars=1)


class GeneratedOracle:
    """Values computed from the index on demand: an oracle that holds no table."""

    def __init__(self, num_vars: int, num_polys: int) -> None:
        self._n = num_vars
        self._k = num_polys
        self.passes_bytes = 0

    @property
    def num_vars(self) -> int:
        return self._n

    @property
    def num_polys(self) -> int:
        return self._k

    def read(self, polys: Sequence[int], start: int, length: int) -> U64:
        idx = np.arange(start, start + length, dtype=np.uint64)
        out = np.empty((len(polys), length), dtype=np.uint64)
        for row, p in enumerate(polys):
            v = (idx * np.uint64(2654435761 + 97 * p) + np.uint64(12345 + p)) % np.uint64(P)
            out[row] = (v * v + np.uint64(p)) % np.uint64(P)
        return out


def _materialize(oracle: GeneratedOracle, poly: int) -> U64:
    return oracle.read([poly], 0, 1 << oracle.num_vars)[0]


def test_generated_oracle_streaming_matches_dense() -> None:
    oracle = GeneratedOracle(10, 2)
    tables = [_materialize(oracle, 0), _materialize(oracle, 1)]
    comp = Composition.product(0, 1)
    dense = prove_sumcheck(tables, comp, Transcript(LABEL))
    stream, _ = prove_sumcheck_streaming(oracle, comp, Transcript(LABEL), memory_budget=4096, chunk_size=64)
    assert stream == dense


@pytest.mark.slow
def test_streaming_peak_memory_at_2_22() -> None:
    """The streaming prover at 2^22 entries stays within its memory budget (tracemalloc)."""
    n = 22
    budget = 16 * 2**20
    oracle = GeneratedOracle(n, 2)
    comp = Composition.product(0, 1)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        proof, report = prove_sumcheck_streaming(oracle, comp, Transcript(LABEL), memory_budget=budget, chunk_size=2**14)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    used = peak - base
    print(f"streaming sum-check 2^{n}: peak {used / 2**20:.2f} MiB, budget {budget / 2**20:.0f} MiB, {report}")
    assert used <= budget
    # A dense prover would need the two base tables alone: 2 * 2^22 * 8 bytes = 64 MiB.
    assert used < 2 * (1 << n) * 8
    result = verify_sumcheck(proof, comp, n, Transcript(LABEL))
    for k in (0, 1):
        assert result.final_evals[k] == evaluate(_materialize(oracle, k), result.point)


@pytest.mark.slow
def test_streaming_equals_dense_at_2_18() -> None:
    oracle = GeneratedOracle(18, 3)
    tables = [_materialize(oracle, k) for k in range(3)]
    comp = Composition(((1, (0, 1, 2)), (5, (1,))))
    dense = prove_sumcheck(tables, comp, Transcript(LABEL))
    stream, report = prove_sumcheck_streaming(oracle, comp, Transcript(LABEL), memory_budget=2**20, chunk_size=2**12)
    assert report.streamed_rounds > 0
    assert stream == dense
    zc = Composition(((1, (0, 1)), (P - 1, (2,))))
    tables[2] = vsub(vmul(tables[0], tables[1]), np.zeros_like(tables[0]))
    verify_zerocheck(prove_zerocheck(tables, zc, Transcript(LABEL)), zc, 18, Transcript(LABEL))


@pytest.mark.parametrize(("budget", "streamed"), [(2**19, True), (2**20, True), (2**21, True), (2**23, False)])
@pytest.mark.parametrize("zerocheck", [False, True])
def test_streaming_peak_memory_within_budget(budget: int, streamed: bool, zerocheck: bool) -> None:
    """tracemalloc peak stays within the budget whichever round the prover switches at."""
    n = 14
    oracle = GeneratedOracle(n, 3)
    comp = Composition(((1, (0, 1, 2)), (3, (1,))))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        if zerocheck:
            _, report = prove_zerocheck_streaming(oracle, comp, Transcript(LABEL), memory_budget=budget, chunk_size=2**10)
        else:
            _, report = prove_sumcheck_streaming(oracle, comp, Transcript(LABEL), memory_budget=budget, chunk_size=2**10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base <= budget, (peak - base, report)
    assert (report.streamed_rounds > 0) == streamed


def test_garbage_inside_a_proof_object_is_malformed() -> None:
    _, comp, proof = _instance()
    for bad in (
        SumcheckProof(5, proof.round_polys, proof.final_evals),  # type: ignore[arg-type]
        SumcheckProof(proof.claimed_sum, 7, proof.final_evals),  # type: ignore[arg-type]
        SumcheckProof(proof.claimed_sum, proof.round_polys, (None,)),  # type: ignore[arg-type]
        SumcheckProof(proof.claimed_sum, ((1.5,),) * 6, proof.final_evals),  # type: ignore[arg-type]
    ):
        with pytest.raises(MalformedProof):
            verify_sumcheck(bad, comp, 6, Transcript(LABEL))
    with pytest.raises(MalformedProof):
        verify_sumcheck("not a proof", comp, 6, Transcript(LABEL))  # type: ignore[arg-type]


@settings(max_examples=15)
@given(st.integers(1, 8), st.integers(1, 300), st.sampled_from([1, 5_000, 10**9]), st.sampled_from([2, 16]))
def test_streaming_over_zero_padded_oracle(n: int, length: int, budget: int, chunk: int) -> None:
    length = min(length, 1 << n)
    data = np.stack([expand_base(b"p0", length), expand_base(b"p1", length)])
    oracle = DenseOracle(data, num_vars=n)
    tables = [oracle.table(0), oracle.table(1)]
    assert (tables[0][length:] == 0).all()
    comp = Composition(((1, (0, 1)), (2, (1,))))
    stream, _ = prove_sumcheck_streaming(oracle, comp, Transcript(LABEL), memory_budget=budget, chunk_size=chunk)
    assert stream == prove_sumcheck(tables, comp, Transcript(LABEL))


@settings(max_examples=20)
@given(st.lists(st.sampled_from(["zero", "one", "random"]), min_size=5, max_size=5), st.sampled_from([1, 3_000, 10**9]))
def test_eq_factor_with_degenerate_coordinates(kinds: list[str], budget: int) -> None:
    """eq coordinates 0 or 1 take the path that computes q(1) directly; all provers agree."""
    n = 5
    point = [
        (0, 0, 0, 0) if k == "zero" else (1, 0, 0, 0) if k == "one" else (11 + i, 3, 5, 7)
        for i, k in enumerate(kinds)
    ]
    tables = [expand_base(bytes([i]), 1 << n) for i in range(3)]
    comp = Composition(((1, (0, 1, 2)), (5, (1,))))
    dense = prove_sumcheck(tables, comp, Transcript(LABEL), eq_point=point)
    stream, _ = prove_sumcheck_streaming(
        _oracle(tables), comp, Transcript(LABEL), eq_point=point, memory_budget=budget, chunk_size=4
    )
    assert stream == dense
    result = verify_sumcheck(dense, comp, n, Transcript(LABEL), eq_point=point)
    assert list(result.final_evals) == [evaluate(t, result.point) for t in tables]


def test_package_docstring_example_runs() -> None:
    import textwrap

    import stele.actors.prover as prover

    doc = prover.__doc__ or ""
    block = doc.split("::", 1)[1].split("\n* ", 1)[0]
    code = textwrap.dedent(block)
    assert "prove_sumcheck_streaming" in code
    exec(compile(code, "stele.actors.prover docstring", "exec"), {})


class _BadOracle(GeneratedOracle):
    def __init__(self, fault: str) -> None:
        super().__init__(4, 2)
        self.fault = fault

    def read(self, polys: Sequence[int], start: int, length: int) -> U64:
        out = super().read(polys, start, length)
        if self.fault == "shape":
            return out[:, :-1]
        if self.fault == "dtype":
            return out.astype(np.int64)  # type: ignore[return-value]
        out[0, 0] = P
        return out


@pytest.mark.parametrize("fault", ["shape", "dtype", "range"])
def test_misbehaving_oracle_is_a_typed_error(fault: str) -> None:
    with pytest.raises(InvalidParameters, match="oracle.read"):
        prove_sumcheck_streaming(_BadOracle(fault), Composition.product(0, 1), Transcript(LABEL))


def test_zerocheck_with_a_constant_term() -> None:
    n = 6
    a, b = expand_base(b"a", 1 << n), expand_base(b"b", 1 << n)
    c = vsub(vmul(a, b), np.full(1 << n, 5, dtype=np.uint64))
    comp = Composition(((1, (0, 1)), (P - 1, (2,)), (P - 5, ())))  # a·b - c - 5
    assert comp.degree == 2
    dense = prove_zerocheck([a, b, c], comp, Transcript(LABEL))
    stream, _ = prove_zerocheck_streaming(_oracle([a, b, c]), comp, Transcript(LABEL), memory_budget=2_000, chunk_size=8)
    assert stream == dense
    verify_zerocheck(dense, comp, n, Transcript(LABEL))
    wrong = Composition(((1, (0, 1)), (P - 1, (2,)), (P - 4, ())))  # a·b - c - 4 does not vanish
    with pytest.raises(VerificationFailed):
        verify_zerocheck(prove_zerocheck([a, b, c], wrong, Transcript(LABEL)), wrong, n, Transcript(LABEL))
    with pytest.raises(InvalidParameters, match="polynomial factor"):
        Composition(((5, ()),))
