"""A deliberately broken variant of the `execution` workload: memo hits report a wrong cost.

Used by ``test_workload.py`` to show the ``memo-equals-reexecution`` checker fails.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from stele.actors.executor import _executor
from stele.actors.executor._workload import ExecutionWorkload
from stele.sim import register_workload

_original = _executor._from_cache


def _wrong(*args: Any) -> Any:
    result = _original(*args)
    return replace(result, cost=result.cost + 1)


class BrokenMemoWorkload(ExecutionWorkload):
    """The execution workload with a memo cache that lies about cost."""

    async def run(self, ctx: Any) -> None:
        _executor._from_cache = _wrong
        try:
            await super().run(ctx)
        finally:
            _executor._from_cache = _original


register_workload("execution-broken-memo", BrokenMemoWorkload, "memo hits lie (test only)")
