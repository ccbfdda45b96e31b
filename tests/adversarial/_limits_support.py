"""Run a scenario on a fresh in-memory runtime under SimEnv (virtual time, deterministic)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import stele
from stele.sim import SimEnv


def run_sim(source: str, scenario: Callable[[Any], Awaitable[Any]], seed: int = 1) -> Any:
    """Store ``source`` and run ``scenario(runtime)``; checks every grant is released."""

    async def main(env: stele.Env) -> Any:
        async with stele.open_runtime(None, env=env) as rt:
            await rt.store(source)
            out = await scenario(rt)
            status = (await rt.stats()).allocator
            assert status.live_grants == 0, status
            return out

    env = SimEnv(seed=seed)
    return env.run(main, env)
