"""Profiler overhead: exact and sampling modes against an unprofiled run of the same program.

Run: .venv/bin/python tests/bench/profile.py [--quick]  -> one JSON object.

* TEL: ``fib(N)`` (a call per node: the worst case for a per-call hook) and a
  fold with a lambda, on a ``Program`` compiled normally and one compiled in
  the instrumentation mode (``stele.tel._profile``).  Overhead = profiled /
  unprofiled time, best of R each.  For scale, the same ratio for CPython's
  own ``cProfile`` on ``fib`` in CPython is measured in the same run.  The
  profiled cost must equal the unprofiled cost (checked, reported).
* Guest: ``sha256`` on the co-processor.  Exact mode (every instruction on
  the reference interpreter, call stacks) against an unprofiled run on the
  reference interpreter; sampling mode (every N instructions on the block
  JIT) against an unprofiled block-JIT run.  Cycle totals are checked.

Timings are wall-clock on a shared machine: noisy; read the ratios, not the
absolute times.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

# this file is named profile.py: keep it from shadowing the standard library's `profile`
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]
import cProfile  # noqa: E402

from stele._profiler._guest import profile_exact, profile_sampled, run_plain
from stele.actors.coprocessor import guest_elf
from stele import RealEnv
from stele.tel import Limits, Program, check_module, parse_module
from stele.tel._profile import TelProfiler, profiling

FIB = "def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)\n"
FOLD = """
def work(n: Int) -> Int =
  fold(map(range(0, n), fn (x: Int) => x * x), 0, fn (acc: Int, x: Int) => acc + x)
"""


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def py_fib(n: int) -> int:
    return n if n < 2 else py_fib(n - 1) + py_fib(n - 2)


def _tel(source: str, entry: str, arg: int, repeat: int) -> dict[str, Any]:
    checked = check_module(parse_module(source, "<bench>"), source)
    plain = Program(checked)
    prof = TelProfiler(clock=RealEnv().now_ns)  # what stele profile uses
    with profiling(prof):
        hooked = Program(checked)
    limits = Limits(fuel=10**12, depth=1_000)
    t_plain = best(lambda: plain.call(entry, [arg], limits=limits), repeat)
    t_prof = best(lambda: hooked.call(entry, [arg], limits=limits), repeat)
    a = plain.call(entry, [arg], limits=limits)
    b = hooked.call(entry, [arg], limits=limits)
    run = prof.final_runs()[-1]
    return {"program": f"{entry}({arg})", "unprofiled_s": round(t_plain, 4),
            "profiled_s": round(t_prof, 4), "overhead": round(t_prof / t_plain, 2),
            "cost": a.cost, "same_value_and_cost": a.value == b.value and a.cost == b.cost,
            "profile_total_equals_cost": run.cost == a.cost,
            "calls": sum(n.calls for _s, n in run.root.walk())}


def _cprofile(n: int, repeat: int) -> dict[str, Any]:
    t_plain = best(lambda: py_fib(n), repeat)

    def profiled() -> None:
        p = cProfile.Profile()
        p.enable()
        py_fib(n)
        p.disable()
    t_prof = best(profiled, repeat)
    return {"program": f"py_fib({n})", "unprofiled_s": round(t_plain, 4),
            "profiled_s": round(t_prof, 4), "overhead": round(t_prof / t_plain, 2)}


def _guest(size: int, repeat: int, intervals: tuple[int, ...]) -> dict[str, Any]:
    image, data = guest_elf("sha256").read_bytes(), b"x" * size
    cap = 10**9
    t_interp = best(lambda: run_plain(image, data, cap, engine="interp"), repeat)
    t_jit = best(lambda: run_plain(image, data, cap, engine="jit"), repeat)
    cycles = run_plain(image, data, cap, engine="jit").cycle
    t_exact = best(lambda: profile_exact(image, data, cap), repeat)
    exact = profile_exact(image, data, cap)
    out: dict[str, Any] = {
        "program": f"sha256 on {size} bytes", "cycles": cycles,
        "unprofiled_interp_s": round(t_interp, 4), "unprofiled_jit_s": round(t_jit, 4),
        "exact": {"seconds": round(t_exact, 4), "overhead_vs_interp": round(t_exact / t_interp, 2),
                  "total_equals_cycles": exact.cycles.total() == cycles},
        "sampling": []}
    for every in intervals:
        t_s = best(lambda: profile_sampled(image, data, cap, every, engine="jit"), repeat)
        s = profile_sampled(image, data, cap, every, engine="jit")
        out["sampling"].append({"every": every, "seconds": round(t_s, 4),
                                "overhead_vs_jit": round(t_s / t_jit, 2),
                                "total_equals_cycles": s.cycles.total() == cycles,
                                "hottest": s.cycles.functions()[0].name})
    return out


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    repeat = 3 if quick else 7
    report = {
        "bench": "profile", "quick": quick,
        "note": "wall-clock ratios on a shared machine: noisy",
        "tel": [_tel(FIB, "fib", 18 if quick else 23, repeat),
                _tel(FOLD, "work", 5_000 if quick else 50_000, repeat)],
        "cpython_cprofile": _cprofile(18 if quick else 23, repeat),
        "guest": _guest(2_000 if quick else 20_000, repeat,
                        (1_000, 10_000) if quick else (100, 1_000, 10_000, 100_000)),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
