"""``stele sim``: run the deterministic simulator, VOPR style.

One run prints a banner, ``SEED=<n>``, every option of the run (swarm: drawn
from the seed unless given), progress lines, the verdict and, last,
``trace_hash=<hex>``.  A failing run exits 1 and prints ``reproduce with:``.
A tick is one millisecond of virtual time.
"""

from __future__ import annotations

import argparse
import sys
import time

from ._errors import SimError
from ._faults import FAULT_OPTIONS
from ._runner import RunConfig, RunResult, load_plugins, plan_options, run_simulation
from ._workload import workloads

__all__ = ["main"]

BANNER = "stele sim -- deterministic simulation (virtual time, one seed, injected faults)"


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
    p.add_argument("--ticks", type=int, default=20_000, help="virtual length in ticks (1 ms)")
    p.add_argument("--workload", default="bank", help="workload name (see --list)")
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
    p.add_argument("--progress-every", type=int, default=None, help="ticks between progress lines")
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


def _run_one(config: RunConfig, ns: argparse.Namespace) -> int:
    print(BANNER)
    print(f"SEED={config.seed}")
    for key, value in plan_options(config):
        print(f"  {key}={value}")
    res = run_simulation(
        config, progress=None if ns.quiet else _flush_print, progress_every=ns.progress_every,
        trace_all=ns.trace is not None,
    )
    _print_result(res)
    if res.buggify_fired:
        print("buggify: " + " ".join(f"{k}={v}" for k, v in sorted(res.buggify_fired.items())))
    if ns.trace is not None:
        from ._chrome import write_chrome_trace

        meta: dict[str, object] = {
            "seed": config.seed, "trace_hash": res.trace_hash,
            "reproduce": config.reproduce(), "result": "PASS" if res.ok else "FAIL",
            "error": res.error, "options": dict(res.options),
        }
        n = write_chrome_trace(ns.trace, res.all_events or [], meta=meta)
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


def _run_many(ns: argparse.Namespace) -> int:
    seeds = _parse_range(ns.seeds)
    print(BANNER)
    print(f"SEEDS={seeds.start}..{seeds.stop - 1} workload={ns.workload} ticks={ns.ticks}")
    print(f"{'seed':>8} {'result':<6} {'events':>8} {'msgs':>7} {'faults':>6} "
          f"{'real_s':>7} {'trace_hash':<16} error")
    failed: list[RunResult] = []
    started = time.perf_counter()
    for seed in seeds:
        res = run_simulation(_config(ns, seed))
        if not res.ok:
            failed.append(res)
        print(
            f"{seed:>8} {'PASS' if res.ok else 'FAIL':<6} {res.events:>8} {res.messages:>7} "
            f"{res.faults_injected:>6} {res.real_seconds:>7.2f} {res.trace_hash[:16]:<16} "
            f"{res.error or ''}",
            flush=True,
        )
    total = time.perf_counter() - started
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
        if ns.ticks < 1:
            raise SimError(f"--ticks must be >= 1, got {ns.ticks}")
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
        return _run_one(_config(ns, seed), ns)
    except SimError as exc:
        print(f"stele sim: error: {exc}", file=sys.stderr)
        return 2

