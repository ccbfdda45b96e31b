"""Simulator speed: one simulated hour of timer-driven traffic, and the bank.

Prints one JSON object.

* ``hour_of_timers`` -- ``stele sim --workload timers --ticks 3600000 --opt
  sensors=20 --opt period-ms=1000`` with the seed's faults: 20 sensors each
  wake every virtual second, send a reading over the lossy sim network and
  get an ack (about 380k traced events).  ``speed`` is virtual seconds per
  real second; ``speed_cpu`` per CPU second of this process (the machine is
  shared, so wall time overstates our cost).
* ``baseline_trio_mockclock`` -- the same 20 x 3600 timer wake-ups as bare
  ``trio.sleep`` loops under ``trio.testing.MockClock(autojump_threshold=0)``
  (no network, no trace): the floor for virtual-time timers on trio.
  ``timer_overhead`` is our CPU time per timer wake-up over the baseline's
  (it includes the network, checkers and trace hashing of each reading).
* ``hour_of_actor_timers`` -- ``stele sim --workload ticker --ticks 3600000
  --opt actors=20 --opt period-ms=1000 --opt ask-every=10``: the same timer
  load, but each wake-up ``tell``\ s an actor of the kernel (under a
  supervisor, with the seed's crash injection) and every 10th tick ``ask``\ s
  a peer.
* ``bank_seed7`` -- ``stele sim --seed 7 --ticks 20000`` (the bank).

Usage: ``python tests/bench/sim.py [--quick]`` (quick: a simulated 10 minutes).
"""

from __future__ import annotations

import json
import sys
import time

import trio
import trio.testing

from stele.sim._runner import RunConfig, run_simulation


def baseline(sensors: int, seconds: int) -> dict[str, float]:
    async def sensor() -> None:
        for _ in range(seconds):
            await trio.sleep(1.0)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(sensors):
                nursery.start_soon(sensor)

    t0, c0 = time.perf_counter(), time.process_time()
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    real, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wakeups": sensors * seconds, "real_s": real, "cpu_s": cpu,
            "speed": seconds / real, "speed_cpu": seconds / cpu}


def main() -> None:
    quick = "--quick" in sys.argv
    seconds = 600 if quick else 3600
    sensors = 20
    res = run_simulation(RunConfig(
        seed=1, ticks=seconds * 1000, workload="timers",
        options={"sensors": str(sensors), "period-ms": "1000"},
    ))
    assert res.ok, res.error
    base = baseline(sensors, seconds)
    wakeups = res.checks.get("timer-exact", 0)
    actors = run_simulation(RunConfig(
        seed=1, ticks=seconds * 1000, workload="ticker",
        options={"actors": str(sensors), "period-ms": "1000", "ask-every": "10"},
    ))
    assert actors.ok, actors.error
    bank = run_simulation(RunConfig(seed=7, ticks=20_000))
    out = {
        "hour_of_timers": {
            "virtual_s": res.virtual_ns / 1e9, "real_s": round(res.real_seconds, 3),
            "cpu_s": round(res.cpu_seconds, 3),
            "speed": round(res.speedup, 1),
            "speed_cpu": round((res.virtual_ns / 1e9) / res.cpu_seconds, 1),
            "events": res.events, "events_per_cpu_s": round(res.events / res.cpu_seconds),
            "timer_wakeups": wakeups, "messages": res.messages,
            "faults": res.faults_injected, "trace_hash": res.trace_hash,
        },
        "baseline_trio_mockclock": {k: round(v, 3) for k, v in base.items()},
        "timer_overhead": round(
            (res.cpu_seconds / max(wakeups, 1)) / (base["cpu_s"] / base["wakeups"]), 1
        ),
        "hour_of_actor_timers": {
            "virtual_s": actors.virtual_ns / 1e9, "real_s": round(actors.real_seconds, 3),
            "cpu_s": round(actors.cpu_seconds, 3), "speed": round(actors.speedup, 1),
            "speed_cpu": round((actors.virtual_ns / 1e9) / actors.cpu_seconds, 1),
            "events": actors.events, "checks": actors.checks,
            "trace_hash": actors.trace_hash,
        },
        "bank_seed7": {
            "ok": bank.ok, "ticks": 20_000, "real_s": round(bank.real_seconds, 3),
            "cpu_s": round(bank.cpu_seconds, 3),
            "ticks_per_cpu_s": round(20_000 / bank.cpu_seconds),
            "events": bank.events, "trace_hash": bank.trace_hash,
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
