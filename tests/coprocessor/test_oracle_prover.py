"""The witness oracle on a real guest, feeding the prover's streaming sum-check.

The oracle satisfies the prover's ``PolynomialOracle`` protocol (mypy checks the
annotation below: `tools/typecheck.sh tests/coprocessor/test_oracle_prover.py`), its limbs recombine to the recorded
trace, and a streaming sum-check over it -- which reads the oracle in chunks
and goes back to the start on every pass, so the stream regenerates from
checkpoints -- produces the same proof as the dense prover over the full
trace, and verifies.
"""

from __future__ import annotations

import numpy as np

from stele.actors.coprocessor import (
    WIDTHS,
    Execution,
    WitnessOracle,
    WitnessStream,
    collect_trace,
    guest_elf,
    guest_input,
)
from stele.actors.prover import (
    Composition,
    PolynomialOracle,
    Transcript,
    prove_sumcheck,
    prove_sumcheck_streaming,
    verify_sumcheck,
)


def _oracle() -> tuple[WitnessOracle, np.ndarray]:
    ex = Execution(guest_elf("sort").read_bytes(), guest_input("sort", 30))
    cps, trace = collect_trace(ex, 700)
    return WitnessOracle(WitnessStream(ex, cps, window=256), WIDTHS), trace


def test_limbs_and_layout_on_a_guest() -> None:
    oracle, trace = _oracle()
    layout = oracle.layout()
    assert oracle.num_polys == 14 * 2 - 3  # rd, rs1, rs2 fit one limb
    assert (1 << oracle.num_vars) >= trace.shape[0] > (1 << (oracle.num_vars - 1))
    for poly, name, limb in layout:
        column = list(oracle.stream.columns).index(name)
        got = oracle.read([poly], 0, 1 << oracle.num_vars)[0]
        want = (trace[:, column].astype(np.uint64) >> np.uint64(16 * limb)) & np.uint64(0xFFFF)
        assert np.array_equal(got[: trace.shape[0]], want)
        assert not got[trace.shape[0]:].any()


def test_streaming_sumcheck_over_the_witness_matches_dense_and_verifies() -> None:
    oracle, _ = _oracle()
    typed: PolynomialOracle = oracle
    n = typed.num_vars
    # pc_lo * rs1_val_lo + mem_addr_lo: a degree-2 composition over three limbs
    names = {(name, limb): poly for poly, name, limb in oracle.layout()}
    a, b, c = names[("pc", 0)], names[("rs1_val", 0)], names[("mem_addr", 0)]
    comp = Composition(((1, (a, b)), (1, (c,))))
    tables = [oracle.read([p], 0, 1 << n)[0] for p in range(oracle.num_polys)]
    dense = prove_sumcheck(tables, comp, Transcript("witness-test"))
    before = oracle.stream.stats.regenerations
    streamed, report = prove_sumcheck_streaming(
        oracle, comp, Transcript("witness-test"), memory_budget=1 << 16, chunk_size=256
    )
    assert streamed == dense
    assert report.passes >= 2
    assert oracle.stream.stats.regenerations > before  # each pass went back to cycle 0
    result = verify_sumcheck(streamed, comp, n, Transcript("witness-test"))
    assert result.claimed_sum == dense.claimed_sum
