"""Co-processor speed and space on the example guests; prints one JSON object.

For each guest (``examples/guests``, at its bench size of >= 10M
instructions unless ``--quick``) one run measures:

* ``fast``: the default engine (the fastest installed: ``native`` with numba,
  else the block JIT; ``engine`` names it), no witness, whole run;
* ``interpreter``: the machine's predecoded interpreter, on a prefix;
* ``naive``: a naive fetch-decode-execute loop (``_rv32_naive.py``) on a
  prefix -- the same-run baseline every ``*_vs_naive`` ratio divides by;
* ``witness``: witness generation with checkpointing (``record``), whole run
  (``worker_mips``: the same rate measured in one worker process, from the
  M = 1 regeneration -- a second sample under the machine's load);
* ``qemu``: ``qemu-riscv32`` on the same ELF and input, wall time including
  its start-up (absent if qemu is not installed);
* ``checkpoints``: serialized checkpoint bytes for M = 1, 2, 4 (interval
  ~T/M) against the full trace's T * K * 4 bytes;
* ``checkpoints.fast_forward``: checkpointing on the fast path (no witness)
  at the finest T/M interval and at ~sqrt(T): time, count and bytes;
* ``regenerate``: wall time to regenerate the whole witness with M = 1, 2, 4
  worker processes (RealEnv's pool, each worker from its own checkpoint,
  hashing its rows in pieces of T/4), as a ratio to one witness-generating
  run (``overhead``); every piece's digest is checked against the recording.
  ``pipeline_witness_mips`` is T over (fast-forward checkpointing + parallel
  regeneration): the witness rate of the "fast-forward, then regenerate in
  parallel" schedule.

``engines`` (issue 12): MIPS and witness MIPS of each engine (interp, jit,
native) on a generated CPU-bound mix (sieve, sort, CRC-32, a bytecode loop;
``_engines.py``) with unicorn's MIPS on the same ELF in the same run as the
peer ratio (``vs_unicorn``; unicorn without hooks, best of two), CPU MIPS
(``cpu_mips``, ``cpu_vs_unicorn``) beside wall MIPS because the machine is
shared, and the native engine's first-use compile seconds (wall and CPU) in a
fresh process with an empty and with a warm on-disk cache; each guest also
gets an ``engines`` entry with the native engine's returns to Python.

Targets (from issue 3): fast path >= 10 MIPS, witness >= 2 MIPS, checkpoint
space O(M * K) rather than O(T).  The figures are reported as measured, met
or not.  Usage::

    python tests/bench/coprocessor.py [--quick] [--guests sha256,bf] [--workers 1,2,4]
                                      [--engines-only]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _engines import bench_engines, bench_guest_engines  # noqa: E402
from _rv32_naive import NaiveMachine  # noqa: E402

import stele  # noqa: E402
from stele.actors.coprocessor import (  # noqa: E402
    BENCH_SIZES,
    GUESTS,
    CheckpointSet,
    Execution,
    Machine,
    guest_elf,
    guest_input,
    interval_for_workers,
    interval_sqrt,
    record,
    split_ranges,
)
from stele.actors.coprocessor._machine import default_engine  # noqa: E402
from stele.actors.coprocessor._stream import (  # noqa: E402
    digest_blocks_async,
    rows_bytes,
    rows_hasher,
)

QUICK_DIVISOR = {"sha256": 32, "sort": 20, "matmul": 3, "bf": 16}
NAIVE_PREFIX = 300_000
INTERP_PREFIX = 2_000_000


def _mips(cycles: int, seconds: float) -> float:
    return round(cycles / seconds / 1e6, 3) if seconds > 0 else 0.0


def _fast(ex: Execution) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = ex.run_fast()
    return result, time.perf_counter() - t0


def _interpreter(ex: Execution, cycles: int) -> dict[str, Any]:
    m = Machine(ex.program, input=ex.input, config=ex.config)
    t0 = time.perf_counter()
    done = m.advance(cycles)
    dt = time.perf_counter() - t0
    return {"cycles": done, "seconds": round(dt, 3), "mips": _mips(done, dt)}


def _naive(ex: Execution, cycles: int) -> dict[str, Any]:
    m = NaiveMachine(ex.image, ex.input)
    t0 = time.perf_counter()
    done = m.run(cycles)
    dt = time.perf_counter() - t0
    return {"cycles": done, "seconds": round(dt, 3), "mips": _mips(done, dt)}


def _qemu(elf: Path, data: bytes, expect_stdout: bytes) -> dict[str, Any] | None:
    qemu = shutil.which("qemu-riscv32")
    if qemu is None:
        return None
    with tempfile.NamedTemporaryFile() as pub:
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["sh", "-c", 'exec "$@" 3>"$PUB"', "sh", qemu, str(elf)],
            input=data, stdout=subprocess.PIPE, env={"PUB": pub.name, "PATH": "/usr/bin:/bin"},
            check=False,
        )
        dt = time.perf_counter() - t0
    return {"seconds": round(dt, 3), "exit_code": proc.returncode,
            "same_stdout": proc.stdout == expect_stdout}


def _record(ex: Execution, total: int, workers: list[int]) -> dict[str, Any]:
    """One witness-generating run, checkpointing at the finest interval needed.

    The sink hashes the rows once, in pieces of the finest interval, so the
    regenerated pieces can be checked for every M without keeping the trace
    (witness figures therefore include hashing the rows, as regeneration does).
    """
    finest = interval_for_workers(total, max(workers))
    intervals = {m: finest * -(-max(workers) // m) for m in workers}
    ranges = {m: split_ranges(total, m, intervals[m]) for m in workers}
    hashers = [rows_hasher() for _ in range(0, total, finest)]

    def sink(start: int, rows: Any) -> None:
        hashers[start // finest].update(rows_bytes(rows))

    t0 = time.perf_counter()
    cps = record(ex, finest, sink=sink)
    dt = time.perf_counter() - t0
    assert cps.total_cycles == total
    subsets = {}
    for m in workers:
        step = intervals[m] // finest
        subsets[m] = CheckpointSet(intervals[m], total, cps.columns, cps.checkpoints[::step])
    return {
        "seconds": dt, "cps": subsets, "ranges": ranges, "block": finest,
        "digests": [h.digest() for h in hashers],
    }


async def _regenerate(ex: Execution, rec: dict[str, Any], m: int) -> dict[str, Any]:
    env = stele.RealEnv(max_workers=m)
    # start the worker processes first, so the timing is of regeneration only
    async with trio.open_nursery() as nursery:
        for _ in range(m):
            nursery.start_soon(env.run_in_worker, sum, (1, 2))
    t0 = time.perf_counter()
    got = await digest_blocks_async(env, ex, rec["cps"][m], rec["ranges"][m], rec["block"])
    dt = time.perf_counter() - t0
    return {
        "workers": m,
        "ranges": len(rec["ranges"][m]),
        "seconds": round(dt, 3),
        "overhead": round(dt / rec["seconds"], 3),
        "consistent": got == rec["digests"],
    }


def bench_guest(name: str, size: int, workers: list[int]) -> dict[str, Any]:
    ex = Execution(guest_elf(name).read_bytes(), guest_input(name, size), max_cycles=1 << 40)
    result, fast_s = _fast(ex)
    total = result.cycles
    out: dict[str, Any] = {"size": size, "cycles": total, "exit_code": result.exit_code}
    out["fast"] = {"seconds": round(fast_s, 3), "mips": _mips(total, fast_s),
                   "engine": default_engine()}
    out["interpreter"] = _interpreter(ex, min(total, INTERP_PREFIX))
    naive = _naive(ex, min(total, NAIVE_PREFIX))
    out["naive"] = naive
    rec = _record(ex, total, workers)
    out["witness"] = {"seconds": round(rec["seconds"], 3), "mips": _mips(total, rec["seconds"])}
    k = len(ex.columns)
    trace_bytes = total * k * 4
    cp_out = {}
    for m in workers:
        cps = rec["cps"][m]
        data, _ = cps.to_bytes(ex)
        cp_out[str(m)] = {
            "interval": cps.interval,
            "count": len(cps.checkpoints),
            "bytes": len(data),
            "fraction_of_trace": round(len(data) / trace_bytes, 6),
        }
    out["checkpoints"] = {"trace_bytes": trace_bytes, "k": k, "by_workers": cp_out}
    # fast-forward checkpointing (no witness): at T/M for the finest M, and at ~sqrt(T)
    fast_cp: dict[str, Any] = {}
    for label, interval in (("finest", rec["cps"][max(workers)].interval),
                            ("sqrt", interval_sqrt(total))):
        t0 = time.perf_counter()
        cps = record(ex, interval, witness=False)
        dt = time.perf_counter() - t0
        fast_cp[label] = {"interval": interval, "count": len(cps.checkpoints),
                          "bytes": len(cps.to_bytes(ex)[0]), "seconds": round(dt, 3)}
    out["checkpoints"]["fast_forward"] = fast_cp
    out["regenerate"] = [trio.run(_regenerate, ex, rec, m) for m in workers]
    # witness generation inside one worker process (the M = 1 regeneration)
    one = next(r for r in out["regenerate"] if r["workers"] == min(workers))
    out["witness"]["worker_mips"] = _mips(total, one["seconds"])
    # the "fast-forward, then regenerate in parallel" schedule, end to end
    for r in out["regenerate"]:
        seconds = fast_cp["finest"]["seconds"] + r["seconds"]
        r["pipeline_witness_mips"] = _mips(total, seconds)
    out["engines"] = bench_guest_engines(guest_elf(name).read_bytes(), ex.input, total)
    out["qemu"] = _qemu(guest_elf(name), ex.input, result.stdout)
    if out["qemu"] is not None:
        out["qemu"]["mips"] = _mips(total, out["qemu"]["seconds"])
    base = naive["mips"] or 1e-9
    out["ratios"] = {
        "fast_vs_naive": round(out["fast"]["mips"] / base, 2),
        "interpreter_vs_naive": round(out["interpreter"]["mips"] / base, 2),
        "witness_vs_naive": round(out["witness"]["mips"] / base, 2),
        "witness_vs_fast": round(out["witness"]["mips"] / (out["fast"]["mips"] or 1e-9), 3),
    }
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs (a smoke run)")
    parser.add_argument("--guests", default=",".join(GUESTS))
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--engines-only", action="store_true",
                        help="only the engines section (the mix, unicorn, compile cost)")
    args = parser.parse_args(argv)
    workers = sorted({int(w) for w in args.workers.split(",")})
    guests = [g for g in args.guests.split(",") if g]
    report: dict[str, Any] = {
        "bench": "coprocessor",
        "quick": args.quick,
        "targets": {"fast_mips": 10, "witness_mips": 2, "checkpoint_space": "O(M*K)"},
        "guests": {},
    }
    # issue 12: MIPS per engine on the CPU-bound mix, unicorn in the same run, compile cost
    report["engines"] = bench_engines(args.quick)
    report["targets"]["native"] = {"mips": 100, "vs_unicorn": 0.2, "witness_mips": 30,
                                   "cold_compile_s": 3, "cached_compile_s": 0.3}
    if args.engines_only:
        print(json.dumps(report, indent=2))
        return 0
    for name in guests:
        size = BENCH_SIZES[name] // (QUICK_DIVISOR[name] if args.quick else 1)
        report["guests"][name] = bench_guest(name, max(1, size), workers)
    rows = report["guests"].values()
    fast = min(g["fast"]["mips"] for g in rows)
    witness = min(g["witness"]["mips"] for g in rows)
    witness_worker = min(g["witness"]["worker_mips"] for g in rows)
    report["summary"] = {
        "fast_mips_min": fast,
        "witness_mips_min": witness,
        "fast_target_met": fast >= 10,
        "witness_worker_mips_min": witness_worker,
        "witness_target_met": witness >= 2,
        "regeneration_consistent": all(r["consistent"] for g in rows for r in g["regenerate"]),
        "min_cycles": min(g["cycles"] for g in rows),
    }
    eng = report["engines"]
    native = eng["engines"].get("native")
    if native is not None:
        comp = eng["compile"]
        report["summary"]["native"] = {
            "mix_mips": native["mips"], "mix_witness_mips": native["witness_mips"],
            "vs_unicorn": native.get("vs_unicorn"),
            "guest_mips_min": min(g["engines"]["native"]["mips"] for g in rows),
            "guest_witness_mips_min": min(g["engines"]["native"]["witness_mips"] for g in rows),
            "mips_target_met": native["mips"] >= 100,
            "witness_target_met": native["witness_mips"] >= 30,
            "cold_compile_met": comp["cold_seconds"] <= 3,
            "cached_compile_met": comp["cached_seconds"] <= 0.3,
            # CPU-time figures: the same targets, less distorted by a shared machine
            "mix_cpu_mips": native["cpu_mips"], "mix_witness_cpu_mips": native["witness_cpu_mips"],
            "cpu_vs_unicorn": native.get("cpu_vs_unicorn"),
            "guest_cpu_mips_min": min(g["engines"]["native"]["cpu_mips"] for g in rows),
            "guest_witness_cpu_mips_min": min(g["engines"]["native"]["witness_cpu_mips"]
                                              for g in rows),
            "cpu_mips_target_met": native["cpu_mips"] >= 100,
            "cpu_witness_target_met": native["witness_cpu_mips"] >= 30,
            "cold_compile_cpu_met": comp["cold_cpu_seconds"] <= 3,
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
