"""Workloads: what a simulated run exercises, and the context it runs in.

A workload is registered under a name (``stele sim --workload NAME``) with a
factory.  Its :meth:`Workload.configure` draws its parameters from the run's
seed (swarm testing; ``--opt key=value`` overrides), and :meth:`Workload.run`
drives the system until ``ctx.end_ns`` of virtual time, reporting to the
checkers through ``ctx``.  Later issues add workloads (e.g. execution) by
calling :func:`register_workload`; ``--plugin MODULE`` imports a module that
registers more (tests use it for deliberately broken variants).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .._core._observer import KernelObserver
from .._core._random import SeededRandom
from ._errors import InvariantViolation, SimError
from ._faults import Faults
from ._net import SimNetwork
from ._simenv import SimEnv

__all__ = [
    "Workload",
    "WorkloadInfo",
    "SimContext",
    "SimObserver",
    "register_workload",
    "get_workload",
    "workloads",
    "int_option",
]


def int_option(options: dict[str, str], key: str, default: int, lo: int, hi: int) -> int:
    """A workload's integer ``--opt key=N``: ``default`` when not given; ValueError outside [lo, hi]."""
    if key not in options:
        return default
    v = int(options[key])
    if not lo <= v <= hi:
        raise ValueError(f"workload option {key}={v} must be in [{lo}, {hi}]")
    return v


class SimContext:
    """Everything a workload needs: the env, the network, faults and checkers.

    Checkers report through :meth:`passed` (one check held) and
    :meth:`violation` (the run stops with :class:`InvariantViolation`).
    ``stats`` holds workload counters shown on progress lines.
    """

    def __init__(self, env: SimEnv, faults: Faults, *, end_ns: int, tick_ns: int) -> None:
        self.env = env
        self.faults = faults
        self.end_ns = end_ns
        self.tick_ns = tick_ns
        self.net = SimNetwork(env, faults.net)
        self.rng = env.rng.fork("workload")
        self.checks: dict[str, int] = {}
        self.stats: dict[str, int] = {}
        self.violations: list[InvariantViolation] = []
        self.observer = SimObserver(self)
        self.healed = False

    def passed(self, checker: str, n: int = 1) -> None:
        """Record that ``checker`` held ``n`` more times."""
        self.checks[checker] = self.checks.get(checker, 0) + n

    def violation(self, checker: str, detail: str) -> None:
        """Record a broken invariant and stop the run."""
        exc = InvariantViolation(checker, detail)
        self.violations.append(exc)
        self.env.trace.record("check.violation", checker, detail)
        self.env.fail(exc)

    def bump(self, stat: str, n: int = 1) -> None:
        """Add ``n`` to a workload counter."""
        self.stats[stat] = self.stats.get(stat, 0) + n

    @property
    def faults_injected(self) -> int:
        """Faults injected so far, every layer together."""
        return (
            self.net.faults_injected
            + self.env.disk.faults_injected
            + self.env.streams.faults_injected
            + self.observer.crashes
            + self.stats.get("clock_jumps", 0)
        )

    def heal(self) -> None:
        """Stop injecting faults (network, disk, crashes) for a liveness phase.

        Messages still take their minimum delay; nothing is lost, duplicated,
        held back, failed or crashed from now on.
        """
        from ._faults import DiskFaults, NetFaults

        if self.healed:
            return
        self.healed = True
        self.net.faults = NetFaults(delay_min_ns=self.faults.net.delay_min_ns)
        self.net.heal_partitions()
        self.env.streams.heal()
        self.env.disk.faults = DiskFaults()
        self.faults = Faults(net=self.net.faults, disk=self.env.disk.faults)
        self.env.trace.record("faults.healed")

    def time_left(self) -> bool:
        """Whether virtual time has not reached the end of the run."""
        return self.env.now_ns() < self.end_ns


class SimObserver(KernelObserver):
    """Kernel hooks under simulation: trace deliveries, inject actor crashes.

    Only actors for which ``crashable(name)`` is true are crashed (with the
    run's ``crash`` ratio); ``on_crash`` callbacks (e.g. damage the actor's
    unsynced files) run when a crashed actor's failure is reported.
    """

    def __init__(self, ctx: SimContext) -> None:
        self._ctx = ctx
        self._rng: SeededRandom = ctx.env.rng.fork("crash")
        self.crashable: Callable[[str], bool] = lambda name: False
        self.on_crash: Callable[[str], None] = lambda name: None
        self.crashes = 0
        self.restarts = 0
        self.deliveries = 0

    def on_deliver(self, actor: str, message: object) -> None:
        self.deliveries += 1
        trace = self._ctx.env.trace
        try:
            trace.record("actor.deliver", actor, message)
        except SimError:  # not canonically encodable: record its type only
            trace.record("actor.deliver", actor, type(message).__qualname__)

    def should_crash(self, actor: str, message: object) -> bool:
        if self._ctx.faults.crash and self.crashable(actor):
            if self._ctx.faults.crash.hit(self._rng):
                self.crashes += 1
                self._ctx.env.trace.record("fault.crash", actor)
                return True
        return False

    def on_failure(self, actor: str, exc: BaseException) -> None:
        self._ctx.env.trace.record("actor.failure", actor, type(exc).__qualname__)
        if self.crashable(actor):
            self.on_crash(actor)

    def on_restart(self, actor: str) -> None:
        self.restarts += 1
        self._ctx.env.trace.record("actor.restart", actor)

    def on_stop(self, actor: str) -> None:
        self._ctx.env.trace.record("actor.stop", actor)


class Workload(Protocol):
    """A simulated workload (see the module docstring)."""

    def configure(self, rng: SeededRandom, options: dict[str, str]) -> list[tuple[str, str]]:
        """Draw parameters from ``rng`` (``options`` override); return them for printing."""

    async def run(self, ctx: SimContext) -> None:
        """Drive the system until ``ctx.end_ns``, then run final checks."""


@dataclass(frozen=True)
class WorkloadInfo:
    """A registered workload: its name, factory and one-line description."""

    name: str
    factory: Callable[[], Workload]
    description: str


_REGISTRY: dict[str, WorkloadInfo] = {}


def register_workload(name: str, factory: Callable[[], Workload], description: str) -> None:
    """Make ``factory`` available as ``stele sim --workload name``."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise SimError(f"workload name {name!r} must be alphanumeric with - or _")
    _REGISTRY[name] = WorkloadInfo(name, factory, description)


def get_workload(name: str) -> WorkloadInfo:
    """The workload registered as ``name``."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise SimError(f"unknown workload {name!r}; known: {known}") from None


def workloads() -> list[WorkloadInfo]:
    """Every registered workload, by name."""
    _load_builtins()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def _load_builtins() -> None:
    import importlib

    for module in (
        "stele.sim._bank",
        "stele.sim._ticker",
        "stele.sim._timers",
        "stele.actors.executor._workload",
        "stele.daemon._simworkload",
    ):  # each registers its workloads on import
        importlib.import_module(module)
