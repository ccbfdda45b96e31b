"""Run one seed of one workload and report what happened.

A **tick** is one millisecond of virtual time (``TICK_NS``); ``ticks`` bounds
a run's virtual duration, not its number of events.  Everything that decides
the run -- fault ratios, workload parameters, scheduling, delays, crashes --
is a function of the seed and of the options given explicitly; progress
reporting is outside the trace (its callbacks touch no simulated state and
record nothing), so the trace hash does not depend on how often progress is
printed.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .._core._random import SeededRandom
from ._clockfaults import install_clock_faults
from ._errors import InvariantViolation, SimError
from ._faults import Faults, Ratio, draw_faults
from ._simenv import SimEnv
from ._workload import SimContext, Workload, get_workload

__all__ = ["TICK_NS", "RunConfig", "RunResult", "run_simulation", "plan_options", "load_plugins"]

#: One tick = 1 ms of virtual time.
TICK_NS = 1_000_000
#: The virtual period of network-partition draws.
_PARTITION_EVERY_NS = 100 * TICK_NS


@dataclass(frozen=True)
class RunConfig:
    """One run: seed, length in ticks, workload, and explicit overrides.

    ``faults`` and ``options`` hold only what the user gave; everything else
    is drawn from the seed.  ``faults_enabled=False`` zeroes every fault
    ratio that was not given explicitly.
    """

    seed: int
    ticks: int = 20_000
    workload: str = "bank"
    faults: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    faults_enabled: bool = True
    plugins: tuple[str, ...] = ()
    #: BUGGIFY: None = drawn from the seed (on for half the seeds with faults).
    buggify: bool | None = None

    def reproduce(self) -> str:
        """The command line that replays this run exactly."""
        parts = ["stele", "sim", "--seed", str(self.seed), "--ticks", str(self.ticks)]
        parts += ["--workload", self.workload]
        if not self.faults_enabled:
            parts.append("--no-faults")
        for k in sorted(self.faults):
            parts += [f"--{k}", self.faults[k]]
        for k in sorted(self.options):
            parts += ["--opt", f"{k}={self.options[k]}"]
        if self.buggify is not None:
            parts.append("--buggify" if self.buggify else "--no-buggify")
        for p in self.plugins:
            parts += ["--plugin", p]
        return " ".join(parts)


@dataclass
class RunResult:
    """What a run did: verdict, trace hash and counters."""

    config: RunConfig
    ok: bool
    error: str | None
    trace_hash: str
    events: int
    virtual_ns: int
    real_seconds: float
    cpu_seconds: float
    messages: int
    faults_injected: int
    checks: dict[str, int]
    options: list[tuple[str, str]]
    recent: list[str]
    #: Every event (``trace_all=True`` only), for ``--trace``.
    all_events: list[tuple[int, str, tuple[object, ...]]] | None = None
    #: BUGGIFY fault points that fired, by name.
    buggify_fired: dict[str, int] = field(default_factory=dict)
    #: The workload's counters (``ctx.bump``) and the disk's range operations.
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def ticks_per_second(self) -> float:
        """Virtual ticks simulated per real second."""
        return (self.virtual_ns / TICK_NS) / self.real_seconds if self.real_seconds > 0 else 0.0

    @property
    def speedup(self) -> float:
        """Virtual seconds per real second."""
        return (self.virtual_ns / 1e9) / self.real_seconds if self.real_seconds > 0 else 0.0


def load_plugins(plugins: tuple[str, ...]) -> None:
    """Import modules that register extra workloads."""
    for name in plugins:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise SimError(f"--plugin {name!r} could not be imported: {exc}") from None


def _first_failure(exc: BaseException) -> BaseException:
    """The most telling exception inside (possibly nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        leaves: list[BaseException] = []
        stack: list[BaseException] = [exc]
        while stack:
            e = stack.pop(0)
            if isinstance(e, BaseExceptionGroup):
                stack.extend(e.exceptions)
            else:
                leaves.append(e)
        for leaf in leaves:
            if isinstance(leaf, InvariantViolation):
                return leaf
        return leaves[0] if leaves else exc
    return exc


def _buggify_on(config: RunConfig) -> bool:
    if config.buggify is not None:
        return config.buggify
    return config.faults_enabled and SeededRandom(config.seed).fork("swarm.buggify").chance(1, 2)


def _plan(config: RunConfig) -> tuple[Faults, Workload, list[tuple[str, str]]]:
    if config.ticks < 1:
        raise SimError(f"ticks must be >= 1, got {config.ticks}")
    load_plugins(config.plugins)
    info = get_workload(config.workload)
    seed_rng = SeededRandom(config.seed)
    faults: Faults = draw_faults(
        seed_rng.fork("swarm"), config.faults, enabled=config.faults_enabled
    )
    workload = info.factory()
    wl_options = workload.configure(seed_rng.fork("swarm.workload"), dict(config.options))
    options = [("workload", config.workload), ("ticks", str(config.ticks)),
               ("tick-ns", str(TICK_NS))]
    options += faults.options() + [("buggify", "on" if _buggify_on(config) else "off")] + [(f"opt.{k}", v) for k, v in wl_options]
    return faults, workload, options


def plan_options(config: RunConfig) -> list[tuple[str, str]]:
    """Every option of the run, drawn from the seed where not given."""
    return _plan(config)[2]


def run_simulation(
    config: RunConfig,
    *,
    progress: Callable[[str], None] | None = None,
    progress_every: int | None = None,
    progress_seconds: float | None = None,
    trace_all: bool = False,
) -> RunResult:
    """Run ``config`` to completion; never raises for a failing run (Ctrl-C is re-raised).

    ``progress`` receives a line every ``progress_every`` ticks; without it,
    every ``progress_seconds`` of real time (polled every thousandth of the
    run), and without either, every tenth of the run.  Progress never touches
    the trace, so it cannot change a run's hash.
    """
    faults, workload, options = _plan(config)

    env = SimEnv(config.seed, disk_faults=faults.disk, trace_all=trace_all,
                 buggify=_buggify_on(config))
    end_ns = config.ticks * TICK_NS
    ctx = SimContext(env, faults, end_ns=end_ns, tick_ns=TICK_NS)
    started = time.perf_counter()
    cpu_started = time.process_time()

    def messages() -> int:
        return ctx.net.delivered + ctx.observer.deliveries

    if progress is not None:
        timed = progress_every is None and progress_seconds is not None
        if timed:
            every = max(1, config.ticks // 1000) * TICK_NS
        else:
            every = max(1, progress_every or config.ticks // 10) * TICK_NS
        last = [started, 0]

        def report() -> None:
            now = time.perf_counter()
            if timed and progress_seconds is not None and now - last[0] < progress_seconds:
                if env.now_ns() + every <= end_ns:
                    env.call_later(every, report)
                return
            ticks = env.now_ns() // TICK_NS
            rate = (ticks - last[1]) / (now - last[0]) if now > last[0] else 0.0
            last[0], last[1] = now, ticks
            checks = sum(ctx.checks.values())
            verdict = "FAIL" if ctx.violations else "ok"
            progress(
                f"[{100 * ticks // config.ticks:3d}%] tick={ticks}/{config.ticks} "
                f"ticks/s={rate:.0f} events={env.trace.events} messages={messages()} "
                f"faults={ctx.faults_injected} checks={checks} {verdict}"
            )
            if env.now_ns() + every <= end_ns:
                env.call_later(every, report)

        env.call_later(every, report)

    install_clock_faults(ctx, faults)

    if faults.net.partition:
        part_rng = env.rng.fork("partition")
        part_ratio: Ratio = faults.net.partition

        def maybe_partition() -> None:
            if ctx.healed:
                return
            names = ctx.net.names()
            if len(names) >= 2 and part_ratio.hit(part_rng):
                a = part_rng.choice(names)
                b = part_rng.choice([n for n in names if n != a])
                ctx.net.partition(a, b, part_rng.randrange(100, 2001) * TICK_NS)
            if env.now_ns() + _PARTITION_EVERY_NS < end_ns:
                env.call_later(_PARTITION_EVERY_NS, maybe_partition)

        env.call_later(_PARTITION_EVERY_NS, maybe_partition)

    error: str | None = None
    try:
        env.run(workload.run, ctx)
    except BaseException as exc:  # a failing run is a result, not a crash
        if isinstance(exc, KeyboardInterrupt):
            raise
        if isinstance(exc, BaseExceptionGroup):
            interrupt, _rest = exc.split(KeyboardInterrupt)
            if interrupt is not None:  # Ctrl-C inside a task group is Ctrl-C, not a FAIL
                raise KeyboardInterrupt from exc
        first = _first_failure(exc)
        error = f"{type(first).__name__}: {first}"
        if not ctx.violations:
            env.trace.record("run.error", type(first).__qualname__)
    if error is None and ctx.violations:
        error = str(ctx.violations[0])
    real = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    recent = [f"t={t}ns {kind} {fields!r}" for t, kind, fields in env.trace.recent()]
    return RunResult(
        config=config,
        ok=error is None,
        error=error,
        trace_hash=env.trace.trace_hash,
        events=env.trace.events,
        virtual_ns=env.now_ns(),
        real_seconds=real,
        cpu_seconds=cpu,
        messages=messages(),
        faults_injected=ctx.faults_injected,
        checks=dict(ctx.checks),
        options=options,
        recent=recent,
        all_events=env.trace.all,
        buggify_fired=dict(env.buggify_fired),
        stats={**ctx.stats, **{f"disk.{k}": v for k, v in env.disk.range_ops.items()},
               **{f"wall_reads.{node or 'default'}": v for node, v in env.wall_reads.items()}},
    )
