"""Test-only, deliberately broken bank shards (``--plugin`` registers them).

* ``bank-lossy``: on restart the shard forgets the last decision in its log
  (a recovery bug that loses an acknowledged transfer).
* ``bank-nofsync``: the shard acknowledges before its write is durable (no
  fsync), so a crash can lose an acknowledged transfer.
* ``bank-mute``: a shard that restarts with a log never answers again (the
  liveness checker must notice).

The checkers must catch both within the 200-seed sweep.
"""

from __future__ import annotations

import trio

from stele.sim._bank import BankWorkload, Shard
from stele.sim._workload import register_workload


class LossyShard(Shard):
    def recovered(
        self, records: list[tuple[str, int, int, int, bool]]
    ) -> list[tuple[str, int, int, int, bool]]:
        return records[:-1]


class NoFsyncShard(Shard):
    async def persist(self, record: bytes) -> None:
        await self.env.disk.append(self.path, record)


class MuteShard(Shard):
    """Never answers a transfer again once it has been restarted."""

    async def on_start(self) -> None:
        await super().on_start()
        self.mute = await self.env.disk.exists(self.path)

    async def receive(self, message: object) -> object:
        if getattr(self, "mute", False):
            await trio.sleep_forever()
        return await super().receive(message)


class MuteBank(BankWorkload):
    shard_factory = MuteShard


class LossyBank(BankWorkload):
    shard_factory = LossyShard


class NoFsyncBank(BankWorkload):
    shard_factory = NoFsyncShard


register_workload("bank-lossy", LossyBank, "TEST ONLY: shard loses its last decision on restart")
register_workload("bank-nofsync", NoFsyncBank, "TEST ONLY: shard acks before fsync")
register_workload("bank-mute", MuteBank, "TEST ONLY: a restarted shard never answers (liveness)")


class NondeterministicWorkload:
    """TEST ONLY: leaks real entropy into the trace (--check-determinism must say so)."""

    def configure(self, rng: object, options: dict[str, str]) -> list[tuple[str, str]]:
        return []

    async def run(self, ctx: object) -> None:
        import os

        from stele.sim import SimContext

        assert isinstance(ctx, SimContext)
        ctx.env.trace.record("leak", os.urandom(8))
        await ctx.env.sleep(0.001)


register_workload("nondeterministic", NondeterministicWorkload,  # type: ignore[arg-type]
                  "TEST ONLY: reads os.urandom")
