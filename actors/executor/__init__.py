"""The executor: stored code run by name or digest, in the sandbox, under resource grants.

``ExecutorActor`` takes :class:`Execute` requests and answers
:class:`ExecResult` (value, usage, cost, effect-journal digest); nested
``Exec.call`` executions run in child :class:`ExecutionContext`\\ s under
subdivided grants.  Most programs use it through ``stele.open_runtime``.
"""

from ._context import ExecutionContext as ExecutionContext
from ._context import TraceEvent as TraceEvent
from ._errors import BadArguments as BadArguments
from ._errors import ExecutionTimeout as ExecutionTimeout
from ._errors import ExecutorError as ExecutorError
from ._errors import UnknownEngine as UnknownEngine
from ._executor import ExecutorActor as ExecutorActor
from ._limits import MAX_NESTING as MAX_NESTING
from ._limits import NestingLimitExceeded as NestingLimitExceeded
from ._executor import ExecutorStats as ExecutorStats
from ._executor import ExecutorStatsRequest as ExecutorStatsRequest
from ._executor import NamesChanged as NamesChanged
from ._executor import Spawner as Spawner
from ._types import ENGINES as ENGINES
from ._types import CancelHandle as CancelHandle
from ._types import ExecLimits as ExecLimits
from ._types import ExecResult as ExecResult
from ._types import Execute as Execute

__all__ = [
    "BadArguments", "CancelHandle", "ENGINES", "ExecLimits", "ExecResult", "Execute", "ExecutionContext",
    "ExecutionTimeout", "ExecutorActor", "ExecutorError", "ExecutorStats",
    "ExecutorStatsRequest", "MAX_NESTING", "NamesChanged", "NestingLimitExceeded", "Spawner", "TraceEvent", "UnknownEngine",
]
