"""Deterministic simulation: one seed reproduces a whole run of the runtime.

:class:`SimEnv` runs code on virtual time inside one trio run, with every
choice drawn from one seeded stream; :class:`SimNetwork` and :class:`SimDisk`
inject faults; :class:`TraceRecorder` folds every event into a hash that
identifies the run.  ``stele sim`` drives registered workloads (see
:func:`register_workload`).
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
from ._simenv import SimEnv as SimEnv
from ._simenv import TimerHandle as TimerHandle
from ._streams import SimByteStream as SimByteStream
from ._streams import SimListener as SimListener
from ._trace import TraceRecorder as TraceRecorder
from ._trace import canonical as canonical

__all__ = [
    "DiskFaults",
    "Endpoint",
    "Faults",
    "InvariantViolation",
    "NetFaults",
    "Ratio",
    "SimByteStream",
    "SimDeadlock",
    "SimDisk",
    "SimEnv",
    "SimError",
    "SimListener",
    "SimNetwork",
    "SimUnsupported",
    "TimerHandle",
    "TraceRecorder",
    "canonical",
    "draw_faults",
]
