"""Sum-check over a real guest's witness, read through the co-processor's streaming oracle.

The witness is never stored: the oracle regenerates it from checkpoints on
every pass, so a streaming prover that binds several rounds before going dense
forces regenerations.  The proof must equal the dense prover's over the
materialised columns and verify.
"""

from __future__ import annotations

import numpy as np
import pytest

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
    evaluate,
    prove_sumcheck,
    prove_sumcheck_streaming,
    verify_sumcheck,
)

LABEL = "test.sumcheck.witness"


def _oracle(guest: str, size: int) -> WitnessOracle:
    ex = Execution(guest_elf(guest).read_bytes(), guest_input(guest, size))
    cycles = ex.run_fast().cycles
    cps = record(ex, choose_interval(cycles))
    return WitnessOracle(WitnessStream(ex, cps), WIDTHS)


@pytest.mark.parametrize("guest", ["sort", "sha256"])
def test_streaming_sumcheck_over_guest_witness(guest: str) -> None:
    oracle = _oracle(guest, 40 if guest == "sort" else 64)
    n = oracle.num_vars
    names = {(name, limb): i for i, name, limb in oracle.layout()}
    pc_lo, pc_hi = names[("pc", 0)], names[("pc", 1)]
    rd_lo, rs1_lo = names[("rd_val", 0)], names[("rs1_val", 0)]
    comp = Composition(((1, (pc_lo, rs1_lo)), (7, (rd_lo,)), (P - 1, (pc_hi, rd_lo, rs1_lo))))
    proof, report = prove_sumcheck_streaming(oracle, comp, Transcript(LABEL), memory_budget=1 << 12, chunk_size=256)
    assert report.streamed_rounds >= 2 and report.passes == max(1, report.streamed_rounds)
    # Every pass after the first goes back to cycle 0: the witness was regenerated.
    assert oracle.stream.stats.regenerations >= report.passes - 1

    fresh = _oracle(guest, 40 if guest == "sort" else 64)
    polys = comp.polys
    columns = fresh.read(list(polys), 0, 1 << n)
    tables = {k: columns[i] for i, k in enumerate(polys)}
    # The dense prover over the materialised columns gives the very same proof.
    dense_tables = [tables.get(i, np.zeros(1 << n, dtype=np.uint64)) for i in range(max(polys) + 1)]
    assert prove_sumcheck(dense_tables, comp, Transcript(LABEL)) == proof
    result = verify_sumcheck(proof, comp, n, Transcript(LABEL))
    assert list(result.final_evals) == [evaluate(tables[k], result.point) for k in polys]
