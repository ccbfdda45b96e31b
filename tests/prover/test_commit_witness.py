"""A full argument over a real guest's witness: committed columns, streaming sum-check, openings.

The witness is read only through the co-processor's :class:`WitnessOracle`
(regenerated from checkpoints, never stored); the commitment streams its row
blocks from the same oracle.
"""

from __future__ import annotations

from stele.actors.coprocessor import (
    WIDTHS,
    Execution,
    WitnessOracle,
    WitnessStream,
    choose_interval,
    guest_elf,
    guest_input,
    record,
)
from stele.actors.prover import (
    P,
    Composition,
    Transcript,
    choose_params,
    commit_oracle,
    commit_table,
    decode_argument,
    encode_argument,
    evaluate,
    prove_sum_argument,
    verify_sum_argument,
)

LABEL = "test.argument.witness"


def _oracle() -> WitnessOracle:
    ex = Execution(guest_elf("sort").read_bytes(), guest_input("sort", 40))
    cycles = ex.run_fast().cycles
    return WitnessOracle(WitnessStream(ex, record(ex, choose_interval(cycles))), WIDTHS)


def test_commitment_of_a_witness_column_equals_the_dense_one() -> None:
    oracle = _oracle()
    n = oracle.num_vars
    names = {(name, limb): i for i, name, limb in oracle.layout()}
    poly = names[("pc", 0)]
    params = choose_params(n)
    streamed = commit_oracle(oracle, poly, params, block_rows=2)
    table = _oracle().read([poly], 0, 1 << n)[0]
    assert streamed.commitment == commit_table(table, params).commitment


def test_sum_argument_over_a_guest_witness_verifies() -> None:
    oracle = _oracle()
    n = oracle.num_vars
    names = {(name, limb): i for i, name, limb in oracle.layout()}
    pc_lo, rd_lo, rs1_lo = names[("pc", 0)], names[("rd_val", 0)], names[("rs1_val", 0)]
    comp = Composition(((1, (pc_lo, rs1_lo)), (P - 3, (rd_lo,))))
    argument, report = prove_sum_argument(
        oracle, comp, choose_params(n), Transcript(LABEL), memory_budget=1 << 12, chunk_size=256
    )
    assert report.streamed_rounds >= 1
    result = verify_sum_argument(decode_argument(encode_argument(argument)), Transcript(LABEL))
    fresh = _oracle()
    tables = fresh.read(list(comp.polys), 0, 1 << n)
    expected = 0
    for c, factors in comp.terms:
        term = [1] * (1 << n)
        for f in factors:
            col = tables[list(comp.polys).index(f)]
            term = [(a * int(b)) % P for a, b in zip(term, col)]
        expected = (expected + c * sum(term)) % P
    assert result.claimed_sum == (expected, 0, 0, 0)
    for k, value in zip(comp.polys, result.final_evals):
        assert evaluate(tables[list(comp.polys).index(k)], list(result.point)) == value
