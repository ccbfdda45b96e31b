"""Mixed concurrent load through one ``open_runtime`` on a file store (issue 10, item 8).

Runs ``--rounds`` rounds of ``--n`` concurrent mixed executions (see
``_loadmix``: fib with and without memo, division by zero, fuel too small,
a denied effect, KV per tenant, Log, nested Exec.call, Clock.sleep past its
timeout, caller cancellation, a wrong argument type, an unknown target,
CPU-bound folds, a few guests), then the same mix one at a time in the same
run.  Prints one JSON object: ``executions``, ``wrong``, ``leaked_grants``,
``leaked_waiters``, ``executions_per_s``, ``p50_ms``, ``p99_ms``,
``max_loop_lag_ms`` (the longest a 1 ms ticker task on the runtime's event
loop waited beyond its sleep while the rounds ran) and ``sequential_per_s``;
also ``max_loop_lag_cpu_ms``, the most CPU time the loop thread used while
the ticker waited (the part of a lag the runtime's own code caused: the
rest of ``max_loop_lag_ms`` is time the OS did not run the process at all),
and ``max_step_ms`` and ``max_step_cpu_ms``, the longest single task step
on the loop in wall time and in the loop thread's CPU time (a trio
instrument): on a shared machine the lag and the wall figure include time
the process was not scheduled at all, the CPU figure is what the runtime's
own code held the loop for.  ``max_step_task`` names the task of that step;
``max_batch_ms`` and ``max_batch_steps`` are the longest scheduler batch (the
loop busy between two I/O waits: a ticker waits behind a whole batch) and its
task steps; ``max_gc_pause_ms`` and ``max_gc_pause_generation`` the longest
cyclic-GC collection (a ``gc`` callback).  ``--gc python`` opens the runtime
with CPython's own collector policy instead of the runtime's ``idle`` one
(``gc_policy`` in the output).
Timing uses ``time.perf_counter``: this is a benchmark, not runtime code.
The machine is shared, so figures are noisy.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _loadmix  # noqa: E402

import stele  # noqa: E402


async def _round(rt: Any, n: int, latencies: list[float], wrong: list[str]) -> None:
    async def one(i: int, kind: str, check: Any) -> None:
        t = time.perf_counter()
        try:
            problem = await check(rt, i)
        except Exception as exc:  # an untyped surprise is a wrong answer too
            problem = f"{type(exc).__name__}: {exc}"
        latencies.append(time.perf_counter() - t)
        if problem is not None:
            wrong.append(f"{kind}#{i}: {problem}")

    async with trio.open_nursery() as nursery:
        for i, (kind, check) in enumerate(_loadmix.schedule(n)):
            nursery.start_soon(one, i, kind, check)


class _Steps(trio.abc.Instrument):
    """The longest task step, in wall time and in the loop thread's CPU time."""

    def __init__(self) -> None:
        self.on = False
        self.t0 = self.c0 = 0.0
        self.wall = self.cpu = 0.0
        self.task = ""
        self.b0 = 0.0
        self.steps = 0
        self.batch = 0.0
        self.batch_steps = 0

    def after_io_wait(self, timeout: float) -> None:
        self.b0, self.steps = time.perf_counter(), 0

    def before_io_wait(self, timeout: float) -> None:
        if self.on and self.b0:
            busy = time.perf_counter() - self.b0
            if busy > self.batch:
                self.batch, self.batch_steps = busy, self.steps

    def before_task_step(self, task: Any) -> None:
        self.t0, self.c0 = time.perf_counter(), time.thread_time()

    def after_task_step(self, task: Any) -> None:
        if self.on and self.t0:
            wall = time.perf_counter() - self.t0
            if wall > self.wall:
                self.wall, self.task = wall, task.name
            self.cpu = max(self.cpu, time.thread_time() - self.c0)
            self.steps += 1


class _GcPauses:
    """The longest cyclic-GC collection while the rounds ran (a gc callback)."""

    def __init__(self) -> None:
        self.on = False
        self.t0 = 0.0
        self.longest = 0.0
        self.generation = -1

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.t0 = time.perf_counter()
        elif self.on and self.t0:
            pause = time.perf_counter() - self.t0
            if pause > self.longest:
                self.longest, self.generation = pause, info.get("generation", -1)


STEPS = _Steps()
GC = _GcPauses()
gc.callbacks.append(GC)


async def main(rounds: int, n: int, seq_n: int, gc_policy: str = "idle") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="stele-load-") as tmp:
        async with stele.open_runtime(str(Path(tmp) / "store.sqlite"), gc=gc_policy) as rt:
            await _loadmix.setup(rt)
            warm_wrong: list[str] = []
            await _round(rt, 200, [], warm_wrong)  # loads programs, starts worker processes
            lag = [0.0]
            running = [True]

            lag_cpu = [0.0]

            async def ticker() -> None:
                while running[0]:
                    t, c = time.perf_counter(), time.thread_time()
                    await trio.sleep(0.001)
                    lag[0] = max(lag[0], time.perf_counter() - t - 0.001)
                    lag_cpu[0] = max(lag_cpu[0], time.thread_time() - c)

            latencies: list[float] = []
            wrong: list[str] = list(warm_wrong)
            leaked_grants = leaked_waiters = 0
            elapsed = 0.0
            trio.lowlevel.add_instrument(STEPS)
            STEPS.on = GC.on = True
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ticker)
                for _ in range(rounds):
                    t = time.perf_counter()
                    await _round(rt, n, latencies, wrong)
                    elapsed += time.perf_counter() - t
                    grants, waiters = await _loadmix.quiesce(rt, trio.sleep)
                    leaked_grants = max(leaked_grants, grants)
                    leaked_waiters = max(leaked_waiters, waiters)
                running[0] = False
            STEPS.on = GC.on = False
            t = time.perf_counter()
            for i, (kind, check) in enumerate(_loadmix.schedule(seq_n)):
                problem = await check(rt, i)
                if problem is not None:
                    wrong.append(f"sequential {kind}#{i}: {problem}")
            seq_elapsed = time.perf_counter() - t
            grants, waiters = await _loadmix.quiesce(rt, trio.sleep)
    latencies.sort()
    total = rounds * n
    return {
        "executions": total,
        "gc_policy": gc_policy,
        "rounds": rounds,
        "per_round": n,
        "wrong": len(wrong),
        "wrong_examples": wrong[:5],
        "leaked_grants": max(leaked_grants, grants),
        "leaked_waiters": max(leaked_waiters, waiters),
        "executions_per_s": round(total / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "max_loop_lag_ms": round(lag[0] * 1000, 2),
        "max_loop_lag_cpu_ms": round(lag_cpu[0] * 1000, 2),
        "max_step_ms": round(STEPS.wall * 1000, 2),
        "max_step_cpu_ms": round(STEPS.cpu * 1000, 2),
        "max_step_task": STEPS.task,
        "max_batch_ms": round(STEPS.batch * 1000, 2),
        "max_batch_steps": STEPS.batch_steps,
        "max_gc_pause_ms": round(GC.longest * 1000, 2),
        "max_gc_pause_generation": GC.generation,
        "sequential_executions": seq_n,
        "sequential_per_s": round(seq_n / seq_elapsed, 1),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds of 500 (default: 10 x 1,000)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--gc", choices=("idle", "python"), default="idle",
                    help="open_runtime's garbage-collector policy (default: idle, the runtime's)")
    a = ap.parse_args()
    rounds = a.rounds or (2 if a.quick else 10)
    n = a.n or (500 if a.quick else 1000)
    try:
        print(json.dumps(trio.run(main, rounds, n, n, a.gc)))
    except KeyboardInterrupt:
        sys.exit(130)
