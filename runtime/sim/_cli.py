"""``stele sim``: run the deterministic simulator, VOPR style.

One run prints a banner, ``SEED=<n>``, every option of the run (swarm: drawn
from the seed unless given), progress lines, the verdict and, last,
``trace_hash=<hex>``.  A failing run exits 1 and prints ``reproduce with:``.
A tick is one millisecond of virtual time.

``--seeds A..B -j N`` runs a sweep in ``N`` worker processes; the table is
printed in seed order whatever ``N`` is, so two sweeps are comparable line
for line.  Progress lines are time-based (every ``--progress-seconds`` of
real time, default 2) unless ``--progress-every TICKS`` is given.  Ctrl-C
prints ``interrupted`` (never a ``FAIL``) and exits 130.

``--json`` replaces the human lines with JSON lines on stdout (schema in
``docs/cli.md``): one ``{"type": "run", ...}`` object per seed, and after a
sweep one ``{"type": "summary", ...}`` object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from ._errors import SimError
from ._faults import FAULT_OPTIONS
from ._runner import RunConfig, RunResult, load_plugins, plan_options, run_simulation
from ._workload import workloads

__all__ = ["main"]

BANNER = "stele sim -- deterministic simulation (virtual time, one seed, injected faults)"

#: The longest run accepted: 10^8 ticks is about 28 hours of virtual time.
MAX_TICKS = 100_000_000
#: The most worker processes ``-j`` accepts.
MAX_JOBS = 256
DEFAULT_WORKLOAD = "execution"


def _parser() -> argparse.ArgumentParser:
    from .._cli._common import CliParser  # one-line usage errors, exit 2

    p = CliParser(
        prog="stele sim",
        description=(
            "Run a workload under the deterministic simulator. A tick is 1 ms of "
            "virtual time. Fault ratios and workload parameters not given are "
            "drawn from the seed (swarm testing)."
        ),
    )
    p.add_argument("--seed", type=int, help="the seed (default: drawn from os entropy)")
    p.add_argument("--seeds", help="run seeds A..B inclusive and print a summary table")
    p.add_argument("--ticks", type=int, default=20_000,
                   help=f"virtual length in ticks (1 ms), at most {MAX_TICKS}")
    p.add_argument("--workload", default=DEFAULT_WORKLOAD,
                   help="workload name (see --list; default: %(default)s, the runtime itself)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="with --seeds: run N seeds at a time in worker processes")
    p.add_argument("--json", action="store_true",
                   help="JSON lines instead of the human output (schema in docs/cli.md)")
    p.add_argument("--list", action="store_true", help="list workloads and exit")
    p.add_argument("--no-faults", action="store_true", help="zero every fault not given")
    p.add_argument(
        "--opt", action="append", default=[], metavar="KEY=VALUE", help="workload option"
    )
    p.add_argument(
        "--plugin", action="append", default=[], metavar="MODULE",
        help="import MODULE first (it may register workloads)",
    )
    p.add_argument(
        "--check-determinism", action="store_true",
        help="rerun the seed in two fresh processes with different PYTHONHASHSEEDs and "
        "compare their trace hashes with this run's",
    )
    p.add_argument("--trace", metavar="OUT.json", default=None,
                   help="write the full trace as Chrome trace-event / Perfetto JSON")
    p.add_argument("--diff-traces", nargs=2, metavar=("A.json", "B.json"), default=None,
                   help="show the first divergence of two trace files and exit")
    bug = p.add_mutually_exclusive_group()
    bug.add_argument("--buggify", dest="buggify", action="store_true", default=None,
                     help="enable BUGGIFY fault points (default: drawn from the seed)")
    bug.add_argument("--no-buggify", dest="buggify", action="store_false",
                     help="disable BUGGIFY fault points")
    p.add_argument("--progress-every", type=int, default=None, metavar="TICKS",
                   help="a progress line every TICKS virtual ticks (default: time-based)")
    p.add_argument("--progress-seconds", type=float, default=2.0, metavar="S",
                   help="a progress line every S seconds of real time (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    for name, kind in FAULT_OPTIONS.items():
        p.add_argument(
            f"--{name}", dest=f"fault_{name}", default=None,
            metavar="N/D" if kind == "ratio" else "NS",
            help=f"fault {name} ({'exact ratio' if kind == 'ratio' else 'nanoseconds'})",
        )
    return p


def _config(ns: argparse.Namespace, seed: int) -> RunConfig:
    faults = {
        name: getattr(ns, f"fault_{name}")
        for name in FAULT_OPTIONS
        if getattr(ns, f"fault_{name}") is not None
    }
    options: dict[str, str] = {}
    for item in ns.opt:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SimError(f"--opt {item!r} must be KEY=VALUE")
        options[key] = value
    return RunConfig(
        seed=seed,
        ticks=ns.ticks,
        workload=ns.workload,
        faults=faults,
        options=options,
        faults_enabled=not ns.no_faults,
        plugins=tuple(ns.plugin),
        buggify=ns.buggify,
    )


def _print_result(res: RunResult) -> None:
    checks = " ".join(f"{k}={v}" for k, v in sorted(res.checks.items()))
    print(
        f"virtual={res.virtual_ns / 1e9:.3f}s real={res.real_seconds:.3f}s "
        f"cpu={res.cpu_seconds:.3f}s speed={res.speedup:.1f}x "
        f"ticks/s={res.ticks_per_second:.0f} events={res.events} "
        f"messages={res.messages} faults={res.faults_injected}"
    )
    print(f"checks: {checks or '(none)'}")
    if res.stats:
        print("stats: " + " ".join(f"{k}={v}" for k, v in sorted(res.stats.items())))
    if res.ok:
        print("result=PASS")
    else:
        print(f"result=FAIL {res.error}")
        print("last events:")
        for line in res.recent[-20:]:
            print(f"  {line}")
        print(f"reproduce with: {res.config.reproduce()}")


def _record(res: RunResult) -> dict[str, Any]:
    """The ``--json`` form of one run (``docs/cli.md``)."""
    return {
        "type": "run", "seed": res.config.seed, "workload": res.config.workload,
        "ticks": res.config.ticks, "result": "PASS" if res.ok else "FAIL", "ok": res.ok,
        "error": res.error, "trace_hash": res.trace_hash, "events": res.events,
        "messages": res.messages, "faults": res.faults_injected,
        "virtual_s": res.virtual_ns / 1e9, "real_s": round(res.real_seconds, 6),
        "checks": dict(sorted(res.checks.items())), "options": dict(res.options),
        "buggify": dict(sorted(res.buggify_fired.items())),
        "reproduce": None if res.ok else res.config.reproduce(),
    }


def _emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def _run_one(config: RunConfig, ns: argparse.Namespace) -> int:
    if ns.json:
        if ns.check_determinism:
            raise SimError("--json does not combine with --check-determinism")
        plan_options(config)
        res = run_simulation(config, trace_all=ns.trace is not None)
        if ns.trace is not None:
            _write_trace(ns.trace, config, res)
        _emit(_record(res))
        return 0 if res.ok else 1
    options = plan_options(config)  # validates every option before anything is printed
    print(BANNER)
    print(f"SEED={config.seed}")
    for key, value in options:
        print(f"  {key}={value}")
    res = run_simulation(
        config, progress=None if ns.quiet else _flush_print, progress_every=ns.progress_every,
        progress_seconds=ns.progress_seconds, trace_all=ns.trace is not None,
    )
    _print_result(res)
    if res.buggify_fired:
        print("buggify: " + " ".join(f"{k}={v}" for k, v in sorted(res.buggify_fired.items())))
    if ns.trace is not None:
        n = _write_trace(ns.trace, config, res)
        print(f"trace: wrote {n} events to {ns.trace}")
    if ns.check_determinism:
        hashes = [_hash_in_fresh_process(config, hs) for hs in ("1", "2")]
        same = all(h == res.trace_hash for h in hashes)
        print(f"determinism: this={res.trace_hash} "
              f"PYTHONHASHSEED=1:{hashes[0]} PYTHONHASHSEED=2:{hashes[1]} "
              f"{'SAME' if same else 'DIFFERENT'}")
        if not same:
            print("result=FAIL nondeterminism: the same seed gave two different traces")
            print(f"reproduce with: {config.reproduce()} --check-determinism")
            print(f"trace_hash={res.trace_hash}")
            return 1
    print(f"trace_hash={res.trace_hash}")
    return 0 if res.ok else 1


def _write_trace(path: str, config: RunConfig, res: RunResult) -> int:
    from ._chrome import write_chrome_trace

    meta: dict[str, object] = {
        "seed": config.seed, "trace_hash": res.trace_hash,
        "reproduce": config.reproduce(), "result": "PASS" if res.ok else "FAIL",
        "error": res.error, "options": dict(res.options),
    }
    return write_chrome_trace(path, res.all_events or [], meta=meta)


def _hash_in_fresh_process(config: RunConfig, hashseed: str) -> str:
    """Run ``config`` in a new interpreter with ``PYTHONHASHSEED`` set; its hash."""
    import os
    import shlex
    import subprocess

    argv = shlex.split(config.reproduce())[2:] + ["--quiet"]
    code = "import sys; from stele.sim._cli import main; sys.exit(main(sys.argv[1:]))"
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    proc = subprocess.run(  # noqa: S603 -- our own interpreter, our own argv
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True,
        check=False,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("trace_hash="):
            return line.removeprefix("trace_hash=")
    raise SimError(f"the PYTHONHASHSEED={hashseed} rerun printed no trace_hash "
                   f"(exit {proc.returncode}): {proc.stderr.strip()[-300:]}")


def _flush_print(line: str) -> None:
    print(line, flush=True)


def _parse_range(text: str) -> range:
    a, sep, b = text.partition("..")
    try:
        lo, hi = int(a), int(b)
    except ValueError:
        raise SimError(f"--seeds {text!r} must be A..B (inclusive)") from None
    if not sep or lo < 0 or hi < lo:
        raise SimError(f"--seeds {text!r} must be A..B with 0 <= A <= B")
    return range(lo, hi + 1)


def run_seed(config: RunConfig) -> RunResult:
    """One seed of a sweep; module-level so a worker process can run it (plugins loaded there)."""
    load_plugins(config.plugins)
    return run_simulation(config)


def _sweep(configs: list[RunConfig], jobs: int, on_result: Callable[[RunResult], None]) -> None:
    """Call ``on_result`` for every seed's result, in seed order.

    With ``jobs > 1`` the seeds run in up to ``jobs`` worker processes of the
    runtime's Env (:meth:`RealEnv.run_in_worker`); results that finish early
    wait in a buffer until every earlier seed has been reported.
    """
    if jobs <= 1 or len(configs) <= 1:
        for config in configs:
            on_result(run_simulation(config))
        return
    import anyio

    from .._core._realenv import RealEnv

    async def sweep() -> None:
        env = RealEnv(max_workers=jobs)
        ready: dict[int, RunResult] = {}
        next_index = 0
        # ``jobs`` feeders take the seeds in order: seed k starts before seed k+1,
        # so the first rows come out at once.  (One task per seed would leave the
        # order to the scheduler -- trio may start the last seed first -- and the
        # first row could wait for nearly the whole sweep.)
        pending = iter(enumerate(configs))

        async def feeder() -> None:
            nonlocal next_index
            for index, config in pending:
                ready[index] = await env.run_in_worker(run_seed, config)
                while next_index in ready:
                    on_result(ready.pop(next_index))
                    next_index += 1

        async with anyio.create_task_group() as tg:
            for _ in range(min(jobs, len(configs))):
                tg.start_soon(feeder)

    try:
        anyio.run(sweep, backend="trio")
    except BaseExceptionGroup as group:  # unwrap: Ctrl-C stays Ctrl-C, one error stays itself
        interrupt, rest = group.split(KeyboardInterrupt)
        if interrupt is not None:
            raise KeyboardInterrupt from group
        assert rest is not None
        raise rest.exceptions[0] if len(rest.exceptions) == 1 else rest from None


def _freeze_startup_heap() -> None:
    """Move the modules and workloads loaded so far out of the collector's sight.

    ``stele sim`` owns its process (as ``stele serve`` does): that heap is never
    garbage, yet every full collection of a seed would scan it again (about a
    sixth of an execution seed's CPU went to full collections; frozen, they
    cost a third of that).  Collection timing is not part of a seed's trace.
    """
    import gc

    gc.collect()
    gc.freeze()


def _run_many(ns: argparse.Namespace) -> int:
    seeds = _parse_range(ns.seeds)
    if not 1 <= ns.jobs <= MAX_JOBS:
        raise SimError(f"-j must be in 1..{MAX_JOBS}, got {ns.jobs}")
    configs = [_config(ns, seed) for seed in seeds]
    plan_options(configs[0])  # a bad option is one error line, before the table starts
    if ns.jobs <= 1 and len(configs) > 1:  # a sweep in this process (one seed: not worth it)
        _freeze_startup_heap()
    if not ns.json:
        print(BANNER)
        print(f"SEEDS={seeds.start}..{seeds.stop - 1} workload={ns.workload} ticks={ns.ticks}"
              + (f" jobs={ns.jobs}" if ns.jobs > 1 else ""))
        print(f"{'seed':>8} {'result':<6} {'events':>8} {'msgs':>7} {'faults':>6} "
              f"{'real_s':>7} {'trace_hash':<16} error", flush=True)
    failed: list[RunResult] = []
    done = 0
    started = time.perf_counter()

    def report(res: RunResult) -> None:
        nonlocal done
        done += 1
        if not res.ok:
            failed.append(res)
        if ns.json:
            _emit(_record(res))
            return
        print(
            f"{res.config.seed:>8} {'PASS' if res.ok else 'FAIL':<6} {res.events:>8} "
            f"{res.messages:>7} {res.faults_injected:>6} {res.real_seconds:>7.2f} "
            f"{res.trace_hash[:16]:<16} {res.error or ''}",
            flush=True,
        )

    try:
        _sweep(configs, ns.jobs, report)
    except KeyboardInterrupt:
        print(f"interrupted after {done} of {len(seeds)} seeds "
              f"({done - len(failed)} passed, {len(failed)} failed)", flush=True)
        return 130
    total = time.perf_counter() - started
    if ns.json:
        _emit({"type": "summary", "seeds": len(seeds), "passed": len(seeds) - len(failed),
               "failed": len(failed), "failed_seeds": [r.config.seed for r in failed],
               "jobs": ns.jobs, "real_s": round(total, 3)})
        return 1 if failed else 0
    print(f"summary: seeds={len(seeds)} passed={len(seeds) - len(failed)} "
          f"failed={len(failed)} real={total:.1f}s")
    for res in failed:
        print(f"reproduce with: {res.config.reproduce()}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    """Entry point of ``stele sim`` (returns the exit status)."""
    ns = _parser().parse_args(argv)
    try:
        if ns.diff_traces is not None:
            from ._chrome import diff_traces

            lines = diff_traces(*ns.diff_traces)
            if not lines:
                print("traces are identical")
                return 0
            for line in lines:
                print(line)
            return 1
        load_plugins(tuple(ns.plugin))
        if ns.list:
            for info in workloads():
                print(f"{info.name:<16} {info.description}")
            return 0
        if not 1 <= ns.ticks <= MAX_TICKS:
            raise SimError(f"--ticks must be in 1..{MAX_TICKS}, got {ns.ticks}")
        if not ns.progress_seconds > 0:
            raise SimError(f"--progress-seconds must be > 0, got {ns.progress_seconds}")
        if ns.progress_every is not None and ns.progress_every < 1:
            raise SimError(f"--progress-every must be >= 1, got {ns.progress_every}")
        if ns.seeds is not None:
            if ns.seed is not None:
                raise SimError("give --seed or --seeds, not both")
            return _run_many(ns)
        seed = ns.seed
        if seed is not None and seed < 0:
            raise SimError(f"--seed must be >= 0, got {seed}")
        if seed is None:
            from .._core._realenv import RealEnv

            seed = RealEnv().rng.randbits(32)
        try:
            return _run_one(_config(ns, seed), ns)
        except KeyboardInterrupt:
            print(f"interrupted: seed {seed} did not finish (replay it with --seed {seed})",
                  flush=True)
            return 130
    except SimError as exc:
        print(f"stele sim: error: {exc}", file=sys.stderr)
        return 2

