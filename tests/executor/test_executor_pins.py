"""Pins for the executor found unpinned by mutation testing (issue 19).

Behaviours: an execution that waits on more than ``MAX_EFFECTS`` effects (each
wait re-runs the program's prefix) fails with a typed ``EffectError`` naming
the limit; the executor's counters count each memo hit, success and
cached program once and are back to no running execution afterwards; at
most 256 compiled programs are kept (the oldest is dropped first).
"""

from __future__ import annotations

from typing import Any

import pytest

import stele.actors.executor._executor as executor_mod
from stele.actors.sandbox import Policy
from stele.tel import EffectError

from ._support import run

NAPS = """
def naps(n: Int) -> Int ! {Clock} = if n == 0 then 0 else (perform Clock.sleep(1); 1 + naps(n - 1))
"""


def test_more_waiting_effects_than_max_effects_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert executor_mod.MAX_EFFECTS == 10_000
    monkeypatch.setattr(executor_mod, "MAX_EFFECTS", 5)  # the limit, small enough to reach
    policy = Policy.allow("p", "Clock")

    async def scenario(rt: Any) -> list[Any]:
        await rt.store(NAPS)
        ok = await rt.execute("naps", [5], policy=policy)
        with pytest.raises(EffectError, match="^more than 5 effects in one execution"):
            await rt.execute("naps", [6], policy=policy)
        return [ok.value, ok.effects]

    assert run("sim", scenario) == [5, 5]


def test_the_executor_counts_each_memo_hit_once() -> None:
    async def scenario(rt: Any) -> Any:
        before = (await rt.stats()).executor
        first = await rt.execute("double", [21])
        hits = [await rt.execute("double", [21]) for _ in range(2)]
        assert not first.memo_hit and all(h.memo_hit for h in hits)
        assert all(h.value == 42 and h.effects == 0 for h in hits)
        after = (await rt.stats()).executor
        return (after.memo_hits - before.memo_hits, after.started - before.started,
                after.succeeded - before.succeeded, after.failed - before.failed,
                after.running, after.programs_cached)

    assert run("sim", scenario) == (2, 3, 3, 0, 0, 1)


def test_the_compiled_program_cache_keeps_at_most_256_programs() -> None:
    n = 257
    src = "".join(f"def f{i}(x: Int) -> Int = x + {i}\n" for i in range(n))

    async def scenario(rt: Any) -> tuple[int, list[int]]:
        await rt.store(src)
        values = [(await rt.execute(f"f{i}", [1], memo=False)).value for i in range(n)]
        return (await rt.stats()).executor.programs_cached, values

    cached, values = run("sim", scenario)
    assert values == [1 + i for i in range(n)]
    assert cached == 256
