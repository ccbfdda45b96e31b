"""The zkVM benchmark: prove and verify a covered-instruction guest at 2^14, 2^16 (and 2^18) rows.

Prints one JSON object.  For each size the guest is a loop over a
256-byte buffer (``lw add xor sw lbu addi and addi bne``: RAM, ALU, bitwise,
branches) that runs just under ``2^k`` cycles, so the trace has ``2^k`` rows.  Per size: ``cycles``, ``prove_s``, ``cycles_per_s``,
``proof_bytes``, ``verify_s``, and ``phases_s`` (where the prove time goes:
``witness`` = running the guest and building the columns, ``commit`` = the
three Ligero commitments, ``sumcheck`` = the batched trace sum-check and the
table sum-check, ``open`` = the openings, ``other`` = helpers and claims).
``peak_rss_bytes`` is the process's peak resident set size at the end
(``ru_maxrss``; it covers every size run before it).  Baseline measured in the
same run: ``rerun_s``, re-executing the guest on the co-processor without a
proof (what a verifier without a proof must do).  ``kernels`` names the prover's
kernel backend (``numba`` or ``numpy``; set ``STELE_PROVER_KERNELS`` to choose),
``warmup_prove_s`` the untimed small proof run first (it includes numba's
compile or cache load).  Timings come from a shared, noisy 2-core machine.

Usage: ``python tests/bench/zkvm.py [--quick]`` (quick: 2^14 and 2^16; full adds 2^18).
"""

from __future__ import annotations

import json
import pathlib
import resource
import sys
import time
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from zkvm._programs import mixed  # noqa: E402

import stele.actors.zkvm._prove as zp  # noqa: E402
from stele.actors.coprocessor._elf import load_elf  # noqa: E402
from stele.actors.coprocessor._machine import Machine  # noqa: E402
from stele.actors.prover._kernels import backend  # noqa: E402
from stele.actors.zkvm import decode_proof, encode_proof, verify  # noqa: E402
from stele.actors.zkvm._trace import build_trace  # noqa: E402


class _Timer:
    """Wraps the prover's phase functions and adds up their wall time."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, name: str, phase: str) -> None:
        fn = getattr(zp, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[phase] = self.spent.get(phase, 0.0) + time.perf_counter() - t0
        setattr(zp, name, timed)


def _one(log: int) -> dict[str, Any]:
    elf = mixed((1 << log) - 16)  # the exit call adds the syscall routine's dispatch rows
    t0 = time.perf_counter()
    Machine(load_elf(elf)).run(1 << 21)
    rerun = time.perf_counter() - t0
    timer = _Timer()
    for name, phase in (("commit_table", "commit"), ("prove_batched", "sumcheck"), ("prove_sumcheck", "sumcheck"),
                        ("prove_evaluations", "open")):
        timer.wrap(name, phase)
    t0 = time.perf_counter()
    trace = build_trace(elf)
    witness = time.perf_counter() - t0
    st = zp.statement_of(trace, elf, b"")
    t1 = time.perf_counter()
    proof = zp.prove_trace(trace, st)
    prove_s = witness + time.perf_counter() - t1
    data = encode_proof(proof)
    t2 = time.perf_counter()
    verify(st, decode_proof(data), elf=elf)
    verify_s = time.perf_counter() - t2
    phases = {"witness": witness, **timer.spent}
    phases["other"] = prove_s - sum(phases.values())
    return {"log_rows": st.log_cycles, "cycles": trace.cycles, "rows": trace.rows, "prove_s": round(prove_s, 3),
            "cycles_per_s": round(trace.cycles / prove_s, 1), "proof_bytes": len(data),
            "verify_s": round(verify_s, 3), "rerun_s": round(rerun, 4),
            "phases_s": {k: round(v, 3) for k, v in phases.items()},
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    sizes = [14, 16] if quick else [14, 16, 18]
    warm = build_trace(mixed(100))  # warm the co-processor's compiled engine outside the timings
    t0 = time.perf_counter()
    zp.prove_trace(warm, zp.statement_of(warm, mixed(100), b""))  # and the numba kernels (compile or cache load)
    warm_s = time.perf_counter() - t0
    out = {"bench": "zkvm", "quick": quick, "kernels": backend(), "warmup_prove_s": round(warm_s, 3),
           "sizes": [_one(k) for k in sizes],
           "targets_at_2^20": {"cycles_per_s": 25000, "verify_s": 0.5, "proof_bytes": 4 * 2**20,
                               "peak_rss_bytes": 4 * 2**30},
           "note": "2^20 is not run: the prover is far from the targets"}
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
