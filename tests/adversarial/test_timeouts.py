"""Timeouts hold for CPU-bound TEL runs: first run and later runs, inline and nested.

Under SimEnv (deterministic): a run's deadline is checked on the fuel counter
with modelled CPU time (``SIM_NS_PER_FUEL``), so the bound is exact in fuel.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele import open_runtime
from stele.actors.executor import ExecLimits, ExecutionTimeout
from stele.actors.executor._pool import SIM_NS_PER_FUEL
from stele.actors.sandbox import Policy
from stele.sim import SimEnv
from stele.store import Repository
from stele.tel import CostLimitExceeded, Limits
from stele.tel._job import CHECK_EVERY

SRC = """
effect Exec { call(target: String, arg: Int) -> Int }
def total(n: Int) -> Int = fold(range(0, n), 0, fn (a: Int, x: Int) => a + x)
def via(n: Int) -> Int ! {Exec} = perform Exec.call("total", n)
"""
BIG = ExecLimits(fuel=10**9, memory=1 << 34, timeout=0.05)


def _sim(scenario: Any) -> Any:
    env = SimEnv(seed=3)

    async def main() -> Any:
        async with open_runtime(None, env=env) as rt:
            await rt.store(SRC)
            return await scenario(rt)

    return env.run(main)


def test_a_cpu_bound_fold_stops_at_its_timeout_on_first_and_later_runs() -> None:
    async def scenario(rt: Any) -> list[int | None]:
        spent = []
        for _ in range(2):  # the first run and a later run of the same program
            with pytest.raises(ExecutionTimeout) as info:
                await rt.execute("total", [3_000_000], limits=BIG, memo=False)
            spent.append(info.value.fuel_spent)
        return spent

    bound = int(0.05 * 1e9) // SIM_NS_PER_FUEL + CHECK_EVERY
    for spent in _sim(scenario):
        assert spent is not None and 0 < spent <= bound  # 15M fuel unstopped


def test_a_nested_child_is_bound_by_its_parents_timeout() -> None:
    async def scenario(rt: Any) -> None:
        with pytest.raises(ExecutionTimeout):
            await rt.execute("via", [3_000_000], limits=BIG, memo=False,
                             policy=Policy.allow("p", "Exec"))

    _sim(scenario)


def test_a_run_that_fits_its_timeout_is_unchanged() -> None:
    async def scenario(rt: Any) -> tuple[int, int]:
        r = await rt.execute("total", [1000], limits=BIG, memo=False)
        return r.value, r.cost

    assert _sim(scenario)[0] == 499500


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 300), every=st.integers(1, 5000), cut=st.integers(0, 3))
def test_sliced_fuel_gives_the_same_cost_and_the_same_limit_boundary(n: int, every: int,
                                                                    cut: int) -> None:
    repo = Repository(None, clock=lambda: 0)
    repo.store(SRC)
    loaded = repo.load("total")
    p = loaded.program()
    exact = p.call(loaded.entry, [n]).cost
    calls: list[int] = []
    sliced = p.call(loaded.entry, [n], check=calls.append, check_every=every)
    assert sliced.cost == exact
    fuel = max(0, exact - cut)
    for check in (None, calls.append):
        try:
            r = p.call(loaded.entry, [n], limits=Limits(fuel=fuel), check=check, check_every=every)
            assert cut == 0 and r.cost == exact
        except CostLimitExceeded:
            assert cut > 0
