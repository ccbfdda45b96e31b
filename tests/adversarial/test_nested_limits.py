"""Nested Exec.call draws on the tree's budget: max_calls, memory, output (item 4)."""

from __future__ import annotations

from typing import Any

import pytest

from stele.actors.executor import ExecLimits
from stele.actors.sandbox import EffectDenied, Grant, OutputLimitExceeded, Policy
from stele.tel import MemoryLimitExceeded

from ._limits_support import run_sim

SRC = """
effect Exec { call(target: String, arg: Int) -> Int }
def fan(n: Int) -> Int ! {Exec, Log} =
  if n <= 0 then 0 else
  perform Log.emit("x"); perform Exec.call("fan", n - 1) + 1
def alloc(n: Int) -> Int = size(range(0, n))
def many(n: Int) -> Int ! {Exec} =
  fold(range(0, n), 0, fn (acc: Int, i: Int) => acc + perform Exec.call("alloc", 1000))
"""


def test_max_calls_is_shared_by_the_whole_tree() -> None:
    async def scenario(rt: Any) -> None:
        p = Policy("p", (Grant("Exec", max_calls=1), Grant("Log", max_calls=1)))
        with pytest.raises(EffectDenied, match="call limit reached"):
            await rt.execute("fan", [20], policy=p, memo=False)
        p3 = Policy("p", (Grant("Exec", max_calls=3), Grant("Log", max_calls=4)))
        r = await rt.execute("fan", [3], policy=p3, memo=False)
        assert r.value == 3 and r.children == 1  # 3 Exec.call in the tree, 3 Log.emit

    run_sim(SRC, scenario)


def test_memory_limit_is_shared_by_the_whole_tree() -> None:
    async def scenario(rt: Any) -> None:
        limit = 20_000  # each child allocates ~8 KB: 20 of them would be 160 KB
        with pytest.raises(MemoryLimitExceeded):
            await rt.execute("many", [20], policy=Policy.allow("p", "Exec"), memo=False,
                             limits=ExecLimits(memory=limit))
        r = await rt.execute("many", [2], policy=Policy.allow("p", "Exec"), memo=False,
                             limits=ExecLimits(memory=limit))
        assert r.usage.memory <= limit

    run_sim(SRC, scenario)


def test_output_limit_is_shared_by_the_whole_tree() -> None:
    async def scenario(rt: Any) -> None:
        p = Policy.allow("p", "Exec", "Log")
        r = await rt.execute("fan", [5], policy=p, memo=False)
        assert 0 < r.usage.output
        with pytest.raises(OutputLimitExceeded) as info:
            await rt.execute("fan", [30], policy=p, memo=False,
                             limits=ExecLimits(max_output_bytes=r.usage.output))
        assert info.value.limit == r.usage.output

    run_sim(SRC, scenario)
