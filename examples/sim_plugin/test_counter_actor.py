"""Example: test your own actor under the Stele simulator with the pytest plugin.

Run with ``pytest examples/sim_plugin``; replay one seed with ``--stele-seed N``.
"""

from __future__ import annotations

import pytest

from stele import Actor, ActorSystem


class Counter(Actor):
    """Counts the increments it is told; answers the total when asked."""

    def __init__(self) -> None:
        self.total = 0

    async def receive(self, message: object) -> object:
        if message == "get":
            return self.total
        assert isinstance(message, int)
        await self.env.sleep(0.001 * message)  # virtual time: an hour costs nothing
        self.total += message
        return self.total


@pytest.mark.stele_sim(seeds=20, faults="swarm")
async def test_counter_adds_up(stele_env) -> None:  # type: ignore[no-untyped-def]
    async with ActorSystem(stele_env) as system:
        ref = await system.spawn("counter", Counter)
        n = 1 + stele_env.rng.randbelow(50)
        for i in range(n):
            await ref.ask(i)
        assert await ref.ask("get") == n * (n - 1) // 2
