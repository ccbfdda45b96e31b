"""Executor throughput: executions per second cold, warm and as memo hits, vs direct calls.

Runs one in-memory runtime under RealEnv and, for each program size, measures:

* ``direct``: ``Program.call`` on the same stored code in the same process
  (no actors, no sandbox) -- the baseline;
* ``warm``: ``Runtime.execute`` with ``memo=False`` on a program the executor
  has already loaded (resolve + grant + run + release + journal);
* ``cold``: ``Runtime.execute`` on a freshly stored, never-loaded program
  (adds loading and compiling from the repository);
* ``memo``: ``Runtime.execute`` answered from the memo cache;
* ``kernel_ask_baseline``: bare ``ask`` round trips to an echo actor, the
  floor under any request served by an actor (a memo hit is one such ask).

Prints one JSON object.  Ratios are against ``direct`` measured in the same
run (targets: memo hits >= 20k/s; warm overhead <= 2x direct).  Timing uses
``time.perf_counter``: this is a benchmark, not runtime code.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import trio

import stele
from stele.store import Repository
from stele.tel import Limits

SOURCE = "def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)\n"


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


class _Clock:
    """Wall and CPU time of a measured stretch (CPU time is steadier on a shared machine)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> float:
        return time.perf_counter() - self.wall

    def rates(self, n: int) -> tuple[float, float]:
        return (_rate(n, time.perf_counter() - self.wall),
                _rate(n, time.process_time() - self.cpu))


def _direct(n_arg: int, seconds: float) -> tuple[float, float]:
    repo = Repository(None, clock=lambda: 0)
    repo.store(SOURCE)
    loaded = repo.load("fib")
    prog = loaded.program()
    count, clock = 0, _Clock()
    while clock.elapsed() < seconds:
        prog.call(loaded.entry, [n_arg], limits=Limits())
        count += 1
    return clock.rates(count)


class _Echo(stele.Actor):
    async def receive(self, message: object) -> object:
        return message


async def _ask_baseline(seconds: float) -> tuple[float, float]:
    """Bare kernel asks per second: the floor under any actor-served request."""
    async with stele.ActorSystem(stele.RealEnv()) as system:
        ref = await system.spawn("echo", _Echo)
        count, clock = 0, _Clock()
        while clock.elapsed() < seconds:
            await ref.ask(count)
            count += 1
        return clock.rates(count)


async def _runtime(n_arg: int, seconds: float, cold_programs: int) -> dict[str, Any]:
    async with stele.open_runtime() as rt:
        await rt.store(SOURCE)
        await rt.execute("fib", [n_arg], memo=False)  # load it once
        count, clock = 0, _Clock()
        while clock.elapsed() < seconds:
            await rt.execute("fib", [n_arg], memo=False)
            count += 1
        warm = clock.rates(count)
        names = []
        for i in range(cold_programs):  # distinct code: each is loaded and compiled once
            src = SOURCE.replace("fib", f"fib{i}").replace("n < 2", f"n < 2 + {i} - {i}")
            names.append(next(iter((await rt.store(src)).keys())))
        clock = _Clock()
        for name in names:
            await rt.execute(name, [n_arg], memo=False)
        cold = clock.rates(len(names))
        await rt.execute("fib", [n_arg])  # fill the memo entry
        count, clock = 0, _Clock()
        while clock.elapsed() < seconds:
            r = await rt.execute("fib", [n_arg])
            count += 1
        assert r.memo_hit
        memo = clock.rates(count)
        stats = await rt.stats()
        assert stats.allocator.available == stats.allocator.capacity
        return {"warm": warm, "cold": cold, "memo_hit": memo}


def main() -> None:
    quick = "--quick" in sys.argv
    seconds = 0.3 if quick else 1.5
    report: dict[str, Any] = {
        "bench": "executor", "env": "RealEnv",
        "units": "executions per second as [per wall second, per CPU second]; ratios by CPU time",
        "sizes": {}}
    report["kernel_ask_baseline"] = trio.run(_ask_baseline, seconds)
    for n_arg in (5, 15):
        direct = _direct(n_arg, seconds)
        rt = trio.run(_runtime, n_arg, seconds, 5 if quick else 20)
        report["sizes"][f"fib({n_arg})"] = {
            "direct": direct, **rt,
            "warm_overhead_x": round(direct[1] / rt["warm"][1], 2),
            "cold_overhead_x": round(direct[1] / rt["cold"][1], 2),
            "memo_vs_direct_x": round(rt["memo_hit"][1] / direct[1], 2),
            "memo_vs_bare_ask": round(rt["memo_hit"][1] / report["kernel_ask_baseline"][1], 2),
        }
    small = report["sizes"]["fib(15)"]
    report["targets"] = {
        "memo_hits_per_s>=20000 (cpu)": small["memo_hit"][1] >= 20000,
        "warm_overhead<=2x (fib(15), cpu)": small["warm_overhead_x"] <= 2.0,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
