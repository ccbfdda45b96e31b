"""Test-only, deliberately broken bank shards (``--plugin`` registers them).

* ``bank-lossy``: on restart the shard forgets the last decision in its log
  (a recovery bug that loses an acknowledged transfer).
* ``bank-nofsync``: the shard acknowledges before its write is durable (no
  fsync), so a crash can lose an acknowledged transfer.

The checkers must catch both within the 200-seed sweep.
"""

from __future__ import annotations

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


class LossyBank(BankWorkload):
    shard_factory = LossyShard


class NoFsyncBank(BankWorkload):
    shard_factory = NoFsyncShard


register_workload("bank-lossy", LossyBank, "TEST ONLY: shard loses its last decision on restart")
register_workload("bank-nofsync", NoFsyncBank, "TEST ONLY: shard acks before fsync")


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
