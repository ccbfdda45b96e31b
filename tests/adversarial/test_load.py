"""1,000 concurrent mixed executions under SimEnv: every answer right, nothing leaked.

Deterministic (virtual time, one seed): the same mix as ``tests/bench/load.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from stele import open_runtime
from stele.sim import SimEnv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import _loadmix  # noqa: E402


async def _round(rt: Any, n: int) -> list[str]:
    wrong: list[str] = []

    async def one(i: int, kind: str, check: Any) -> None:
        problem = await check(rt, i)
        if problem is not None:
            wrong.append(f"{kind}#{i}: {problem}")

    async with anyio.create_task_group() as tg:
        for i, (kind, check) in enumerate(_loadmix.schedule(n)):
            tg.start_soon(one, i, kind, check)
    return wrong


def _check(n: int, seed: int) -> None:
    env = SimEnv(seed=seed)
    out: dict[str, Any] = {}

    async def main() -> None:
        async with open_runtime(None, env=env) as rt:
            await _loadmix.setup(rt)
            out["wrong"] = await _round(rt, n)
            out["leaks"] = await _loadmix.quiesce(rt, env.sleep)

    env.run(main)
    assert out["wrong"] == []
    assert out["leaks"] == (0, 0)  # (live grants, waiting requests) with nothing running


def test_concurrent_mixed_executions_are_all_right_and_leak_nothing() -> None:
    _check(150, seed=10)


@pytest.mark.slow
def test_thousand_concurrent_mixed_executions_are_all_right_and_leak_nothing() -> None:
    _check(1000, seed=11)
