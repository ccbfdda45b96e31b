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


async def _round(rt: Any, n: int, done: list[tuple[str, int]] | None = None) -> list[str]:
    wrong: list[str] = []

    async def one(i: int, kind: str, check: Any) -> None:
        problem = await check(rt, i)
        if problem is not None:
            wrong.append(f"{kind}#{i}: {problem}")
        if done is not None:
            done.append((kind, i))

    async with anyio.create_task_group() as tg:
        for i, (kind, check) in enumerate(_loadmix.schedule(n)):
            tg.start_soon(one, i, kind, check)
    return wrong


def _check(n: int, seed: int) -> None:
    env = SimEnv(seed=seed)
    out: dict[str, Any] = {}
    done: list[tuple[str, int]] = []

    async def main() -> None:
        async with open_runtime(None, env=env) as rt:
            await _loadmix.setup(rt)
            out["wrong"] = await _round(rt, n, done)
            out["leaks"] = await _loadmix.quiesce(rt, env.sleep)

    env.run(main)
    assert out["wrong"] == []
    assert out["leaks"] == (0, 0)  # (live grants, waiting requests) with nothing running
    # Fairness: slots are granted first come, first served, so among requests of one
    # kind of the same work (fib, memo off) none is overtaken by more than the 64
    # slots' worth of later ones (no starvation, no unbounded reordering).
    fib = [i for kind, i in done if kind == "fib"]
    assert len(fib) == sum(1 for kind, _ in _loadmix.schedule(n) if kind == "fib")
    for pos, i in enumerate(fib):
        overtaken_by = sum(1 for j in fib[:pos] if j > i)
        assert overtaken_by <= 64, (i, overtaken_by)


def test_concurrent_mixed_executions_are_all_right_and_leak_nothing() -> None:
    _check(150, seed=10)


@pytest.mark.slow
def test_thousand_concurrent_mixed_executions_are_all_right_and_leak_nothing() -> None:
    _check(1000, seed=11)
