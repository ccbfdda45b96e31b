"""The prover's benchmark: commitment commit/open/verify and proof sizes, plus the math section.

Prints one JSON object.  For each size 2^n (16, 20, 22; ``--quick``: 12, 16)
it commits to a random table with the default parameters (>= 100 bits),
opens it at a random extension point, and decodes + verifies the opening.
Baselines measured in the same run:

* ``dense_evaluate_s`` -- evaluating the MLE from the whole table (what a
  verifier without a commitment must do): ``verify_speedup`` is its ratio to
  verification;
* ``table_bytes`` -- sending the table itself: ``size_ratio`` compares it with
  the proof.

``commit_stream_peak_bytes`` is the tracemalloc peak of a commitment streamed
from a generated oracle (no table in memory) at 2^20 (2^16 with ``--quick``),
against ``encoded_matrix_bytes``: with the default split (few long rows, the
smallest proof) and with a square split (``rows = cols``, the O(sqrt N) case).  Targets at 2^22: verification under 1 s and a proof
under 2 MB (``targets``).  The math section (field, NTT, sum-check rates
against pure-Python baselines) comes from ``tests/bench/_prover_math.py``'s
``bench_math()`` when that file is present.

``batch`` commits 8 polynomials together (2^18 each; 2^12 quick) and opens
them at one point, against the estimated size of 8 separate proofs.

Usage: ``python tests/bench/prover.py [--quick] [--no-math]``.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import numpy as np

from stele.actors.prover import (
    P,
    CommitParams,
    Composition,
    DenseOracle,
    Transcript,
    choose_params,
    commit_oracle,
    commit_table,
    decode_argument,
    decode_opening,
    encode_argument,
    encode_opening,
    evaluate,
    expand_base,
    expand_ext,
    prove_evaluation,
    prove_evaluations,
    prove_sum_argument,
    verify_opening,
    verify_sum_argument,
    vext_to_list,
)
from stele.actors.prover._proof import OpeningProof


class _GeneratedOracle:
    """Values computed from the index: a witness that is never stored."""

    def __init__(self, num_vars: int) -> None:
        self._n = num_vars

    @property
    def num_vars(self) -> int:
        return self._n

    @property
    def num_polys(self) -> int:
        return 1

    def read(self, polys: Sequence[int], start: int, length: int) -> np.ndarray:
        idx = np.arange(start, start + length, dtype=np.uint64)
        return ((idx * np.uint64(2654435761) + np.uint64(12345)) % np.uint64(P)).reshape(1, length)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t: tuple[float, float]) -> dict[str, float]:
    return {"wall_s": round(time.perf_counter() - t[0], 4), "cpu_s": round(time.process_time() - t[1], 4)}


def bench_commitment(n: int) -> dict[str, Any]:
    """Commit, open, verify at 2^n with the default parameters."""
    params = choose_params(n)
    table = expand_base(b"bench-table", 1 << n)
    point = expand_ext(b"bench-point", n)
    t = _clock()
    committed = commit_table(table, params)
    commit_t = _since(t)
    t = _clock()
    value, proof = prove_evaluation(committed, point, Transcript("bench"))
    data = encode_opening(OpeningProof(committed.commitment, point, (value,), proof))
    open_t = _since(t)
    t = _clock()
    verify_opening(decode_opening(data), Transcript("bench"))
    verify_t = _since(t)
    t = _clock()
    dense_value = evaluate(table, vext_to_list(point))
    dense_t = _since(t)
    assert dense_value == value
    return {
        "num_vars": n,
        "params": {
            "rows": params.rows,
            "cols": params.cols,
            "inverse_rate": 1 << params.log_inv_rate,
            "queries": params.num_queries,
            "opened_columns": int(proof.columns.shape[0]),
            "security_bits": round(params.security_bits, 2),
        },
        "commit": commit_t,
        "open": open_t,
        "verify": verify_t,
        "proof_bytes": len(data),
        "dense_evaluate_s": dense_t["wall_s"],
        "verify_speedup": round(dense_t["cpu_s"] / max(verify_t["cpu_s"], 1e-9), 2),
        "table_bytes": 4 << n,
        "size_ratio": round((4 << n) / len(data), 2),
        "commit_entries_per_s": round((1 << n) / max(commit_t["wall_s"], 1e-9)),
    }


def bench_stream_memory(n: int, *, square: bool, block_rows: int) -> dict[str, Any]:
    """tracemalloc peak of a streamed commitment (generated oracle, nothing stored).

    ``square`` uses ``rows = cols = 2**(n/2)`` (the O(sqrt N) regime) instead of
    the default split, which minimises the proof size with few, long rows.
    """
    params = CommitParams(n, n // 2, 2, choose_params(n).num_queries) if square else choose_params(n)
    tracemalloc.start()
    t = _clock()
    try:
        commit_oracle(_GeneratedOracle(n), 0, params, block_rows=block_rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        "num_vars": n,
        "rows": params.rows,
        "cols": params.cols,
        "block_rows": block_rows,
        "commit_stream_peak_bytes": peak,
        "encoded_matrix_bytes": 8 * params.rows * params.encoded_cols,
        "table_bytes_uint64": 8 << n,
        "proof_bytes_estimate": params.estimated_proof_bytes(),
        "time_under_tracemalloc": _since(t),
    }


def bench_argument(n: int) -> dict[str, Any]:
    """A whole sum-check argument (two committed polynomials, degree 2) at 2^n."""
    tables = np.stack([expand_base(b"arg-a", 1 << n), expand_base(b"arg-b", 1 << n)])
    t = _clock()
    argument, report = prove_sum_argument(
        DenseOracle(tables), Composition.product(0, 1), choose_params(n, num_polys=2), Transcript("arg")
    )
    data = encode_argument(argument)
    prove_t = _since(t)
    t = _clock()
    verify_sum_argument(decode_argument(data), Transcript("arg"))
    return {
        "num_vars": n,
        "prove": prove_t,
        "verify": _since(t),
        "proof_bytes": len(data),
        "sumcheck_passes": report.passes,
    }


def bench_batch(n: int, m: int) -> dict[str, Any]:
    """``m`` polynomials committed and opened together, against ``m`` separate proofs."""
    tables = np.stack([expand_base(b"batch-%d" % k, 1 << n) for k in range(m)])
    point = expand_ext(b"batch-point", n)
    params = choose_params(n, num_polys=m)
    t = _clock()
    committed = commit_table(tables, params)
    commit_t = _since(t)
    t = _clock()
    values, proof = prove_evaluations(committed, point, Transcript("batch"))
    data = encode_opening(OpeningProof(committed.commitment, point, values, proof))
    open_t = _since(t)
    t = _clock()
    verify_opening(decode_opening(data), Transcript("batch"))
    verify_t = _since(t)
    single = choose_params(n)
    separate = m * single.estimated_proof_bytes()
    return {
        "num_vars": n,
        "num_polys": m,
        "params": {"rows": params.rows, "cols": params.cols, "queries": params.num_queries},
        "commit": commit_t,
        "open": open_t,
        "verify": verify_t,
        "proof_bytes": len(data),
        "separate_proofs_estimated_bytes": separate,
        "size_ratio_vs_separate": round(separate / len(data), 2),
    }


def _load_math() -> Any:
    path = pathlib.Path(__file__).with_name("_prover_math.py")
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("_prover_math", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "bench_math", None)


def main(argv: list[str]) -> dict[str, Any]:
    quick = "--quick" in argv
    sizes = [12, 16] if quick else [16, 20, 22]
    result: dict[str, Any] = {"benchmark": "prover", "quick": quick}
    result["commitment"] = [bench_commitment(n) for n in sizes]
    # tracemalloc slows every allocation ~5x: measure the streamed commitment at
    # 2^20 (2^16 quick) rather than at the largest size.
    mem_n = 16 if quick else 20
    result["commit_streaming_memory"] = [
        bench_stream_memory(mem_n, square=False, block_rows=16),
        bench_stream_memory(mem_n, square=True, block_rows=4),
    ]
    result["argument"] = bench_argument(12 if quick else 16)
    result["batch"] = bench_batch(12 if quick else 18, 8)
    top = result["commitment"][-1]
    result["targets"] = {
        "at_num_vars": top["num_vars"],
        "verify_under_1s": top["verify"]["wall_s"] < 1.0,
        "proof_under_2MB": top["proof_bytes"] < 2 * 1024 * 1024,
    }
    if "--no-math" not in argv:
        bench_math = _load_math()
        if bench_math is None:
            result["math"] = None
        elif quick:
            result["math"] = bench_math(log_sumcheck=16, log_ntt=16)
        else:
            result["math"] = bench_math()
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=1))
