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
* ``baseline_trio_channel`` -- the actor-timer load as bare trio: 20 tasks
  each wake every virtual second and send on a ``trio`` memory channel to
  a receiver task (MockClock).  ``actor_timer_overhead`` is the
  ``hour_of_actor_timers`` CPU per wake-up over this baseline's.
* ``bank_seed7`` -- ``stele sim --seed 7 --ticks 20000`` (the bank).
* ``execution`` -- ``stele sim --workload execution --seeds 0..N-1`` (the
  whole runtime on the simulated disk, the default workload; N = 3 quick,
  10 full): ``events_per_cpu_s`` (target 50k) and ``virtual_per_cpu`` (virtual
  seconds per CPU second, 1.0 = real time), summed over the seeds.
* ``startup`` -- wall seconds of a ``stele sim --workload bank --seed 0
  --ticks 1 --quiet`` process (best of 3, with Python's bytecode cache, as a
  user runs it; target 0.5 s), of the same without the cache, and of
  ``python -c pass`` (the interpreter's own floor).

Usage: ``python tests/bench/sim.py [--quick]`` (quick: a simulated 10 minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
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


def baseline_channel(actors: int, seconds: int) -> dict[str, float]:
    """``actors`` tasks wake every virtual second and send to a receiver (raw trio)."""
    async def run() -> None:
        send, recv = trio.open_memory_channel[int](1000)

        async def ticker() -> None:
            for t in range(seconds):
                await trio.sleep(1.0)
                await send.send(t)

        async def sink() -> None:
            for _ in range(actors * seconds):
                await recv.receive()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(sink)
            for _ in range(actors):
                nursery.start_soon(ticker)

    t0, c0 = time.perf_counter(), time.process_time()
    trio.run(run, clock=trio.testing.MockClock(autojump_threshold=0))
    real, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wakeups": actors * seconds, "real_s": real, "cpu_s": cpu}


def startup() -> dict[str, object]:
    """Best-of-3 wall seconds of a one-tick ``stele sim`` process and of ``python -c pass``.

    Measured as a user runs it: with Python's bytecode cache (a first,
    uncounted run writes the ``__pycache__`` files), even where the
    environment sets ``PYTHONDONTWRITEBYTECODE`` (as some sandboxes and CI
    images do); ``stele_sim_no_bytecode_cache_s`` is the same process with the
    cache off, every module compiled from source.
    """
    def best(cmd: list[str], env: dict[str, str]) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            times.append(time.perf_counter() - t0)
        return min(times)

    cmd = [sys.executable, "-m", "stele.cli", "sim", "--workload", "bank", "--seed", "0",
           "--ticks", "1", "--quiet"]
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(cmd, check=True, capture_output=True, env=cached)  # writes the caches
    sim = best(cmd, cached)
    bare = best([sys.executable, "-c", "pass"], cached)
    with tempfile.TemporaryDirectory() as empty:  # a cache folder with nothing in it
        uncached = dict(cached, PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=empty)
        no_cache = best(cmd, uncached)
    return {"stele_sim_s": round(sim, 3), "python_s": round(bare, 3),
            "stele_sim_no_bytecode_cache_s": round(no_cache, 3),
            "environment_disabled_bytecode_cache": "PYTHONDONTWRITEBYTECODE" in os.environ,
            "target_s": 0.5, "met": sim <= 0.5}


def execution(seeds: int) -> dict[str, object]:
    """The default workload over ``seeds`` seeds: events and virtual time per CPU second."""
    events = cpu = real = virtual = 0.0
    ok = 0
    for seed in range(seeds):
        r = run_simulation(RunConfig(seed=seed, ticks=20_000, workload="execution"))
        ok += r.ok
        events += r.events
        cpu += r.cpu_seconds
        real += r.real_seconds
        virtual += r.virtual_ns / 1e9
    return {"seeds": seeds, "passed": ok, "events": int(events), "cpu_s": round(cpu, 3),
            "real_s": round(real, 3), "virtual_s": round(virtual, 3),
            "events_per_cpu_s": round(events / cpu), "virtual_per_cpu": round(virtual / cpu, 2),
            "target_events_per_cpu_s": 50_000, "met": events / cpu >= 50_000}


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
    chan = baseline_channel(sensors, seconds)
    actor_wakeups = sensors * seconds
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
        "baseline_trio_channel": {k: round(v, 3) for k, v in chan.items()},
        "actor_timer_overhead": round(
            (actors.cpu_seconds / actor_wakeups) / (chan["cpu_s"] / chan["wakeups"]), 1),
        "bank_seed7": {
            "ok": bank.ok, "ticks": 20_000, "real_s": round(bank.real_seconds, 3),
            "cpu_s": round(bank.cpu_seconds, 3),
            "ticks_per_cpu_s": round(20_000 / bank.cpu_seconds),
            "events": bank.events, "trace_hash": bank.trace_hash,
        },
        "execution": execution(3 if quick else 10),
        "startup": startup(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
