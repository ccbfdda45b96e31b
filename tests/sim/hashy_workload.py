"""Test-only workload whose scheduling depends on ``hash()`` (``--plugin``).

``hashy`` orders three sleepers by ``hash(name)``: the trace then depends on
``PYTHONHASHSEED``, which ``--check-determinism`` must report as DIFFERENT.
"""

from __future__ import annotations

from stele._core._random import SeededRandom
from stele.sim._workload import SimContext, register_workload


class HashyWorkload:
    def configure(self, rng: SeededRandom, options: dict[str, str]) -> list[tuple[str, str]]:
        return []

    async def run(self, ctx: SimContext) -> None:
        for name in sorted(("alpha", "beta", "gamma"), key=hash):
            ctx.env.trace.record("hashy.pick", name)
            await ctx.env.sleep(0.001)
        ctx.passed("hashy")


register_workload("hashy", HashyWorkload, "test only: order depends on hash()")
