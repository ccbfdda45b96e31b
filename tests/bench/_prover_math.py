"""Prover-math measurements: field, NTT and sum-check throughput, with pure-Python baselines.

``bench_math() -> dict`` is called by ``tests/bench/prover.py`` (which owns the
prover's JSON report); run this file directly to print just this section as
one JSON object.  Every speed claim is a ratio against a naive pure-Python
baseline measured in the same run.  Figures are given per wall-clock second
and per CPU second (``process_time``): the machine is shared, and CPU time is
the less noisy of the two under contention.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from stele.actors.prover import (
    EXT_ONE,
    EXT_ZERO,
    P,
    Composition,
    DenseOracle,
    Ext,
    Transcript,
    expand_base,
    expand_ext,
    ext_add,
    ext_mul,
    ext_scale,
    ext_sub,
    interpolate_at,
    ntt,
    prove_sumcheck,
    prove_sumcheck_streaming,
    prove_zerocheck,
    root_of_unity,
    vext_mul,
    vmul,
)


def _timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def _rate(count: int, secs: tuple[float, float]) -> dict[str, float]:
    wall, cpu = secs
    return {"per_wall_s": count / wall, "per_cpu_s": count / max(cpu, 1e-9), "wall_s": wall}


# --------------------------------------------------------------------------- naive baselines


def _naive_ntt(coeffs: list[int]) -> list[int]:
    """Iterative radix-2 NTT over Python ints (the same algorithm, unvectorized)."""
    n = len(coeffs)
    k = n.bit_length() - 1
    a = [coeffs[int(format(i, f"0{k}b")[::-1], 2) if k else 0] for i in range(n)]
    half = 1
    while half < n:
        w = root_of_unity((2 * half).bit_length() - 1)
        tw = [pow(w, j, P) for j in range(half)]
        for start in range(0, n, 2 * half):
            for j in range(half):
                u = a[start + j]
                t = a[start + j + half] * tw[j] % P
                a[start + j] = (u + t) % P
                a[start + j + half] = (u - t) % P
        half *= 2
    return a


def _naive_sumcheck(tables: list[list[int]], label: str) -> list[tuple[Ext, ...]]:
    """Dense sum-check of Π tables over Python ints and tuples (no numpy)."""
    t = Transcript(label)
    cur: list[list[Ext]] = [[(v, 0, 0, 0) for v in tab] for tab in tables]
    d = len(tables)
    rounds = []
    while len(cur[0]) > 1:
        evals = []
        for x in range(d + 1):
            acc = EXT_ZERO
            for j in range(len(cur[0]) // 2):
                prod = EXT_ONE
                for tab in cur:
                    lo, hi = tab[2 * j], tab[2 * j + 1]
                    prod = ext_mul(prod, ext_add(lo, ext_scale(ext_sub(hi, lo), x)))
                acc = ext_add(acc, prod)
            evals.append(acc)
        t.absorb_ext("round", evals)
        r = t.challenge_ext("r")
        interpolate_at(evals, r)
        cur = [[ext_add(tab[2 * j], ext_mul(r, ext_sub(tab[2 * j + 1], tab[2 * j]))) for j in range(len(tab) // 2)] for tab in cur]
        rounds.append(tuple(evals))
    return rounds


# --------------------------------------------------------------------------- measurements


def bench_math(*, log_sumcheck: int = 20, log_ntt: int = 20) -> dict[str, Any]:
    """Measure the prover's arithmetic; returns a JSON-ready dict."""
    out: dict[str, Any] = {}
    n = 1 << 20
    a, b = expand_base(b"a", n), expand_base(b"b", n)
    base = _rate(n, _timed(lambda: vmul(a, b), 5))
    m = 2000
    xs, ys = a[:m].tolist(), b[:m].tolist()
    naive_base = _rate(m, _timed(lambda: [x * y % P for x, y in zip(xs, ys)], 5))
    # Alternative reduction, measured so the choice of plain `%` is justified:
    # a float64 Barrett quotient (error <= 1) corrected with the wrap-around trick.
    inv_p = 1.0 / P
    fa, fb = a.astype(np.float64), b.astype(np.float64)

    def barrett() -> Any:
        q = (fa * fb * inv_p).astype(np.uint64)
        r = a * b - q * np.uint64(P)
        r = np.minimum(r, r + np.uint64(P))  # q one too big: r wrapped below zero
        return np.minimum(r, r - np.uint64(P))  # q one too small: r >= P

    assert np.array_equal(barrett(), vmul(a, b))
    out["base_mul_float_barrett"] = _rate(n, _timed(barrett, 5))
    out["base_mul"] = {**base, "naive_python_per_wall_s": naive_base["per_wall_s"],
                       "speedup_vs_naive": base["per_wall_s"] / naive_base["per_wall_s"],
                       "target_per_s": 100e6}

    ne = 1 << 18
    ea, eb = expand_ext(b"a", ne), expand_ext(b"b", ne)
    ext_rate = _rate(ne, _timed(lambda: vext_mul(ea, eb), 3))
    exs = [tuple(r) for r in ea[:m].tolist()]
    eys = [tuple(r) for r in eb[:m].tolist()]
    naive_ext = _rate(m, _timed(lambda: [ext_mul(x, y) for x, y in zip(exs, eys)], 3))  # type: ignore[arg-type]
    from stele.actors.prover._soa import soa_from_aos, soa_mul

    sa, sb = soa_from_aos(ea), soa_from_aos(eb)
    out["ext_mul_transposed_internal"] = _rate(ne, _timed(lambda: soa_mul(sa, sb), 3))
    out["ext_mul"] = {**ext_rate, "naive_python_per_wall_s": naive_ext["per_wall_s"],
                      "speedup_vs_naive": ext_rate["per_wall_s"] / naive_ext["per_wall_s"]}

    coeffs = expand_base(b"ntt", 1 << log_ntt)
    ntt_secs = _timed(lambda: ntt(coeffs), 3)
    small = 1 << 12
    small_coeffs = coeffs[:small]
    vec_small = _timed(lambda: ntt(small_coeffs), 3)
    small_list = small_coeffs.tolist()
    naive_small = _timed(lambda: _naive_ntt(small_list), 1)
    assert _naive_ntt(small_list) == ntt(small_coeffs).tolist()
    out["ntt"] = {"log_n": log_ntt, "wall_s": ntt_secs[0], "cpu_s": ntt_secs[1],
                  "baseline_log_n": 12, "vectorized_wall_s_at_baseline": vec_small[0],
                  "naive_python_wall_s_at_baseline": naive_small[0],
                  "speedup_vs_naive": naive_small[0] / vec_small[0]}

    size = 1 << log_sumcheck
    tables = [expand_base(bytes([i]), size) for i in range(3)]
    oracle = DenseOracle(np.stack(tables))
    naive_size = 1 << 9
    sc: dict[str, Any] = {"log_n": log_sumcheck, "target_dense_degree2_entries_per_s": 2e6}
    for degree in (2, 3):
        comp = Composition.product(*range(degree))
        dense = _rate(size, _timed(lambda: prove_sumcheck(tables, comp, Transcript("bench")), 2))
        budget = 16 * 2**20
        report_box: list[Any] = []

        def streaming() -> None:
            proof, report = prove_sumcheck_streaming(oracle, comp, Transcript("bench"), memory_budget=budget, chunk_size=2**14)
            report_box.append(report)

        stream = _rate(size, _timed(streaming, 1))
        small_tables = [t[:naive_size].tolist() for t in tables[:degree]]
        naive = _rate(naive_size, _timed(lambda: _naive_sumcheck(small_tables, "naive"), 1))
        report = report_box[-1]
        sc[f"degree{degree}"] = {
            "dense_entries": dense,
            "streaming_entries": stream,
            "streaming_passes": report.passes,
            "streaming_rounds_streamed": report.streamed_rounds,
            "streaming_budget_bytes": budget,
            "naive_python_entries_per_wall_s": naive["per_wall_s"],
            "naive_log_n": 9,
            "dense_speedup_vs_naive": dense["per_wall_s"] / naive["per_wall_s"],
        }
    zc_tables = [tables[0], tables[1], vmul(tables[0], tables[1])]
    zc_comp = Composition(((1, (0, 1)), (P - 1, (2,))))  # a·b - c, vanishing everywhere
    sc["zerocheck_degree2_dense_entries"] = _rate(size, _timed(lambda: prove_zerocheck(zc_tables, zc_comp, Transcript("bench")), 2))
    out["sumcheck"] = sc
    out["witness_integration"] = bench_witness_share(size=500 if log_sumcheck >= 20 else 100)
    return out


class _TimedOracle:
    """Wraps an oracle and accumulates the wall/CPU time spent inside ``read``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.wall = 0.0
        self.cpu = 0.0

    @property
    def num_vars(self) -> int:
        return int(self.inner.num_vars)

    @property
    def num_polys(self) -> int:
        return int(self.inner.num_polys)

    def read(self, polys: Any, start: int, length: int) -> Any:
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            return self.inner.read(polys, start, length)
        finally:
            self.wall += time.perf_counter() - w0
            self.cpu += time.process_time() - c0


def bench_witness_share(guest: str = "sort", size: int = 500) -> dict[str, Any]:
    """Share of streaming sum-check time spent regenerating a real guest's witness.

    The composition touches every limb polynomial of the witness
    (Σ_i f_i · f_(i+1), degree 2), as a zkVM's constraint sum-check would.
    "one_pass": the budget fits the whole table, so the oracle is read once;
    "small_space": a 4 MiB budget, so early rounds stream (one pass each) and
    the witness is regenerated from checkpoints every pass.
    """
    try:
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
    except ImportError as exc:  # the co-processor is another area; report, do not fail
        return {"skipped": f"coprocessor unavailable: {exc}"}
    ex = Execution(guest_elf(guest).read_bytes(), guest_input(guest, size))
    cycles = ex.run_fast().cycles
    cps = record(ex, choose_interval(cycles))
    result: dict[str, Any] = {"guest": guest, "size": size, "cycles": cycles}
    for name, budget in (("one_pass", 2**32), ("small_space", 2**22)):
        oracle = _TimedOracle(WitnessOracle(WitnessStream(ex, cps), WIDTHS))
        k = oracle.num_polys
        comp = Composition(tuple((1, (i, (i + 1) % k)) for i in range(k)))
        w0, c0 = time.perf_counter(), time.process_time()
        _, report = prove_sumcheck_streaming(oracle, comp, Transcript("bench.witness"), memory_budget=budget, chunk_size=2**12)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        result[name] = {
            "num_vars": oracle.num_vars,
            "num_polys": k,
            "passes": report.passes,
            "regenerations": oracle.inner.stream.stats.regenerations,
            "total_wall_s": wall,
            "witness_wall_s": oracle.wall,
            "witness_share_wall": oracle.wall / wall,
            "witness_share_cpu": oracle.cpu / max(cpu, 1e-9),
        }
    result["target_share_one_pass"] = 0.05
    return result


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print(json.dumps(bench_math(log_sumcheck=16 if quick else 20, log_ntt=16 if quick else 20), indent=1))
