"""Per-tenant grants: each tenant's executions are carved from its own grant of the daemon's
root allocator, so a hostile tenant's flood cannot starve another tenant (a real daemon,
in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

import stele
from stele.actors.executor import ExecLimits
from stele.daemon import Busy

from ._harness import FIB, add_tenant
from ._inproc import in_process

HEAVY = ExecLimits(fuel=10**9)
N_FLOOD = 12


async def test_a_flooding_tenant_cannot_starve_another_one(tmp_path: Path) -> None:
    mallory, alice = add_tenant(tmp_path, "mallory"), add_tenant(tmp_path, "alice")
    async with in_process(tmp_path, slots=4, tenant_slots=2) as d:
        async with stele.connect(d.address, token=mallory) as m, \
                stele.connect(d.address, token=alice) as a:
            await m.store(FIB)
            await a.store(FIB)
            await m.execute("fib", [27], memo=False, limits=HEAVY)  # warm: compiled, in a worker
            done = 0

            async def flood() -> None:
                nonlocal done
                await m.execute("fib", [27], memo=False, limits=HEAVY)
                done += 1

            seen: list[int] = []
            async with trio.open_nursery() as nursery:
                for _ in range(N_FLOOD):
                    nursery.start_soon(flood)
                with trio.fail_after(300):  # the flood is queued in the allocator
                    while (await m.stats()).allocator.waiting < N_FLOOD - 4:
                        await trio.sleep(0.005)
                for n in range(3):
                    r = await a.execute("fib", [5 + n], memo=False)
                    assert r.value == [5, 8, 13][n]
                    seen.append(done)
            assert done == N_FLOOD
            # each tenant's grant holds its quota; mallory never ran more than its 2
            assert d.daemon.grant_slots == {"mallory": 2, "alice": 2}
    # alice's executions got her own slots: done long before the flood drained (under one
    # shared root, FIFO, they waited behind at least N_FLOOD - 4 of mallory's)
    assert max(seen) <= 4, seen


async def test_jobs_of_a_saturated_tenant_do_not_hold_the_workers(tmp_path: Path) -> None:
    mallory, alice = add_tenant(tmp_path, "mallory"), add_tenant(tmp_path, "alice")
    async with in_process(tmp_path, slots=4, tenant_slots=2, workers=4) as d:
        async with stele.connect(d.address, token=mallory) as m, \
                stele.connect(d.address, token=alice) as a:
            await m.store(FIB)
            await a.store(FIB)
            await m.execute("fib", [27], memo=False, limits=HEAVY)  # warm
            jobs = [await m.submit("fib", [27], memo=False, limits=HEAVY) for _ in range(8)]
            with trio.fail_after(300):
                while d.daemon.usage["mallory"].running < 2:
                    await trio.sleep(0.005)
            mine = await a.submit("fib", [6], memo=False)
            assert (await a.wait(mine)).value == 8
            finished = sum([(await m.status(j)).state == "succeeded" for j in jobs])
            # two workers were free: mallory's third and fourth jobs did not take them
            assert finished < 2, finished
            for j in jobs:
                assert (await m.wait(j)).value == 196418


async def test_grants_fit_the_root_and_are_given_back_when_idle(tmp_path: Path) -> None:
    alice, bob, carol = (add_tenant(tmp_path, n) for n in ("alice", "bob", "carol"))
    async with in_process(tmp_path, slots=3, tenant_slots=2) as d:
        async with stele.connect(d.address, token=alice) as a:
            await a.store(FIB)
            assert (await a.execute("fib", [10])).value == 55
            async with stele.connect(d.address, token=bob) as b:
                await b.store(FIB)
                assert (await b.execute("fib", [10])).value == 55
                # bob got the one slot left (a smaller share, not none)
                assert d.daemon.grant_slots == {"alice": 2, "bob": 1}
                assert (await b.server_status()).tenants["bob"].grant_slots == 1
                async with stele.connect(d.address, token=carol) as c:
                    await c.store(FIB)
                    # the root is full, but alice holds more than her fair share (3 // 3): she
                    # shrinks to it and carol gets the slot, instead of Busy until someone leaves
                    assert (await c.execute("fib", [10])).value == 55
                    assert d.daemon.grant_slots == {"alice": 1, "bob": 1, "carol": 1}
            # bob and carol disconnected: their slots go back, alice grows to her quota again
            with trio.fail_after(300):  # each release is followed by a rebalance: wait for both
                while d.daemon.grant_slots != {"alice": 2}:
                    await trio.sleep(0.005)
            assert set(d.daemon.grants) == {"alice"}


async def test_a_tenant_arriving_at_a_full_root_is_served_once_busy_slots_free(tmp_path: Path) -> None:
    """Every slot held by running executions: the newcomer is Busy, and a retry after one of the
    over-share tenant's executions ends gets a slot (the grant shrank as it finished)."""
    mallory, alice = add_tenant(tmp_path, "mallory"), add_tenant(tmp_path, "alice")
    async with in_process(tmp_path, slots=2, tenant_slots=2) as d:
        async with stele.connect(d.address, token=mallory) as m, \
                stele.connect(d.address, token=alice) as a:
            await m.store(FIB)
            await a.store(FIB)
            await m.execute("fib", [27], memo=False, limits=HEAVY)  # warm
            async with trio.open_nursery() as nursery:
                for _ in range(2):
                    nursery.start_soon(lambda: m.execute("fib", [27], memo=False, limits=HEAVY))
                with trio.fail_after(300):
                    while d.daemon.usage["mallory"].running < 2:
                        await trio.sleep(0.005)
                with pytest.raises(Busy, match="hold all"):
                    await a.execute("fib", [5])
                with trio.fail_after(300):
                    while True:  # the client's retry loop: the slot comes back when one ends
                        try:
                            r = await a.execute("fib", [5])
                            break
                        except Busy:
                            await trio.sleep(0.01)
                assert r.value == 5
                assert d.daemon.grant_slots == {"mallory": 1, "alice": 1}


async def test_concurrent_misses_resolve_once(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolution that is not cached, asked by many requests at once, reaches the store
    once per layer (the daemon's and the executor's), not once per request."""
    from stele.actors.repository import _actor as repo_actor
    from stele.actors.repository._messages import Resolve

    asked: list[str] = []
    receive = repo_actor.RepositoryActor.receive

    async def counting(self: object, message: object) -> object:
        if isinstance(message, Resolve):
            asked.append(message.target)
        return await receive(self, message)  # type: ignore[arg-type]

    monkeypatch.setattr(repo_actor.RepositoryActor, "receive", counting)
    alice = add_tenant(tmp_path, "alice")
    async with in_process(tmp_path) as d:
        async with stele.connect(d.address, token=alice) as a:
            await a.store(FIB)  # storing forgets every cached resolution
            asked.clear()
            values: list[int] = []

            async def one() -> None:
                values.append((await a.execute("fib", [12])).value)

            async with trio.open_nursery() as nursery:
                for _ in range(32):
                    nursery.start_soon(one)
            assert values == [144] * 32
    # one for the daemon's name, one for the executor's digest (a few more only if the
    # one-second cache expired mid-test on a loaded machine)
    assert len(asked) <= 4, asked
