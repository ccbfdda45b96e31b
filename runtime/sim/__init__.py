"""Deterministic simulation: one seed reproduces a whole run of the runtime.

:class:`SimEnv` runs code on virtual time inside one trio run, with every
choice drawn from one seeded stream; :class:`SimNetwork` and :class:`SimDisk`
inject faults; :class:`TraceRecorder` folds every event into a hash that
identifies the run.  ``stele sim`` drives registered workloads (see
:func:`register_workload`); :func:`run_simulation` runs one seed from code.

A *tick* is one millisecond of virtual time (:data:`TICK_NS`); ``--ticks``
bounds a run's virtual duration (the workload's traffic window; final audits
may run a little past it).

Example::

    from stele import ActorSystem
    from stele.sim import SimEnv

    env = SimEnv(seed=42)

    async def main() -> None:
        async with ActorSystem(env) as system:
            ...                      # timers, asks and timeouts run on virtual time
        await env.sleep(3600)        # an hour, instantly

    env.run(main)                    # one trio run; SimEnv owns its clock
    print(env.trace.trace_hash)      # identical for the same seed, in any process

From the shell: ``stele sim --seed 42`` (see ``stele sim --help``).
"""

from __future__ import annotations

from ._disk import SimDisk as SimDisk
from ._errors import InvariantViolation as InvariantViolation
from ._errors import SimDeadlock as SimDeadlock
from ._errors import SimError as SimError
from ._errors import SimUnsupported as SimUnsupported
from ._faults import DiskFaults as DiskFaults
from ._faults import Faults as Faults
from ._faults import NetFaults as NetFaults
from ._faults import Ratio as Ratio
from ._faults import draw_faults as draw_faults
from ._net import Endpoint as Endpoint
from ._net import SimNetwork as SimNetwork
from ._runner import TICK_NS as TICK_NS
from ._runner import RunConfig as RunConfig
from ._runner import RunResult as RunResult
from ._runner import run_simulation as run_simulation
from ._simenv import SimEnv as SimEnv
from ._simenv import TimerHandle as TimerHandle
from ._streams import SimByteStream as SimByteStream
from ._streams import SimListener as SimListener
from ._trace import TraceRecorder as TraceRecorder
from ._trace import canonical as canonical
from ._workload import SimContext as SimContext
from ._workload import SimObserver as SimObserver
from ._workload import Workload as Workload
from ._workload import WorkloadInfo as WorkloadInfo
from ._workload import register_workload as register_workload
from ._workload import workloads as workloads

__all__ = [
    "DiskFaults",
    "Endpoint",
    "Faults",
    "InvariantViolation",
    "NetFaults",
    "Ratio",
    "RunConfig",
    "RunResult",
    "SimByteStream",
    "SimContext",
    "SimDeadlock",
    "SimDisk",
    "SimEnv",
    "SimError",
    "SimListener",
    "SimNetwork",
    "SimObserver",
    "SimUnsupported",
    "TICK_NS",
    "TimerHandle",
    "TraceRecorder",
    "Workload",
    "WorkloadInfo",
    "canonical",
    "draw_faults",
    "register_workload",
    "run_simulation",
    "workloads",
]
