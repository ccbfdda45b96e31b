"""1,000 concurrent mixed executions under SimEnv: every answer right, nothing leaked.

Deterministic (virtual time, one seed): the same mix as ``tests/bench/load.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio

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


def test_thousand_concurrent_mixed_executions_are_all_right_and_leak_nothing() -> None:
    env = SimEnv(seed=10)
    out: dict[str, Any] = {}

    async def main() -> None:
        async with open_runtime(None, env=env) as rt:
            await _loadmix.setup(rt)
            out["wrong"] = await _round(rt, 1000)
            out["leaks"] = await _loadmix.quiesce(rt, env.sleep)

    env.run(main)
    assert out["wrong"] == []
    assert out["leaks"] == (0, 0)
