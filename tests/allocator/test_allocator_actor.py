"""The allocator actor: fail-fast and waiting requests, deferred grants, no leaks.

Each test runs under a SimEnv, so waits and deadlines are virtual time.
"""

from __future__ import annotations

import anyio
import pytest
from collections.abc import Awaitable, Callable

import stele
from stele.actors.allocator import (
    AllocatorActor,
    AllocatorStatus,
    CheckUsage,
    InsufficientResources,
    RecordUsage,
    Resources,
    Status,
    Subdivide,
    Subdivided,
    UsageReport,
    allocate,
    release,
)
from stele.protocol import decode_message, encode_message
from stele.sim import SimEnv

CAP = Resources(fuel=100, slots=2)


def simulate(fn: Callable[[stele.ActorSystem], Awaitable[None]]) -> None:
    env = SimEnv(seed=1)

    async def main() -> None:
        async with stele.ActorSystem(env) as system:
            await fn(system)

    env.run(main)


async def status(ref: stele.ActorRef) -> Status:
    s = await ref.ask(AllocatorStatus())
    assert isinstance(s, Status)
    return s


def test_fail_fast_and_release() -> None:
    async def body(system: stele.ActorSystem) -> None:
        ref = await system.spawn("alloc", AllocatorActor, CAP)
        g = await allocate(ref, Resources(fuel=60, slots=1), owner="t1")
        with pytest.raises(InsufficientResources) as info:
            await allocate(ref, Resources(fuel=60, slots=1))
        assert info.value.shortfall == {"fuel": (60, 40)}
        used = await ref.ask(RecordUsage(g.grant, Resources(fuel=10)))
        assert isinstance(used, UsageReport) and used.used == Resources(fuel=10)
        released = await release(ref, g.grant)
        assert released.total_used == Resources(fuel=10)
        assert (await status(ref)).available == CAP

    simulate(body)



def test_waiting_request_is_granted_on_release() -> None:
    async def body(system: stele.ActorSystem) -> None:
        ref = await system.spawn("alloc", AllocatorActor, CAP)
        first = await allocate(ref, Resources(fuel=100))
        got: list[str] = []

        async def waiter() -> None:
            g = await allocate(ref, Resources(fuel=50), wait=10.0)
            got.append(g.grant)

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.sleep(3)
            assert got == [] and (await status(ref)).waiting == 1
            await release(ref, first.grant)
        assert len(got) == 1
        assert (await status(ref)).available == Resources(fuel=50, slots=2)

    simulate(body)



def test_wait_times_out_without_leaking() -> None:
    async def body(system: stele.ActorSystem) -> None:
        ref = await system.spawn("alloc", AllocatorActor, CAP)
        first = await allocate(ref, Resources(fuel=100))
        with pytest.raises(InsufficientResources, match="timed out"):
            await allocate(ref, Resources(fuel=50), wait=2.0)
        await release(ref, first.grant)
        s = await status(ref)
        assert s.available == CAP and s.waiting == 0 and s.live_grants == 0

    simulate(body)



def test_abandoned_waiter_never_gets_a_grant() -> None:
    async def body(system: stele.ActorSystem) -> None:
        ref = await system.spawn("alloc", AllocatorActor, CAP)
        first = await allocate(ref, Resources(fuel=100))
        with anyio.move_on_after(1):  # the asker is cancelled while waiting
            await allocate(ref, Resources(fuel=50), wait=100.0)
        await release(ref, first.grant)
        s = await status(ref)
        assert s.available == CAP and s.live_grants == 0

    simulate(body)



def test_subdivide_and_check() -> None:
    async def body(system: stele.ActorSystem) -> None:
        ref = await system.spawn("alloc", AllocatorActor, CAP)
        g = await allocate(ref, Resources(fuel=80, slots=2))
        sub = await ref.ask(Subdivide(g.grant, (Resources(fuel=30, slots=1),) * 2))
        assert isinstance(sub, Subdivided) and len(sub.grants) == 2
        with pytest.raises(stele.RemoteError) as info:
            await ref.ask(Subdivide(g.grant, (Resources(fuel=30),)))
        assert isinstance(info.value.cause, InsufficientResources)
        u = await ref.ask(CheckUsage(g.grant))
        assert isinstance(u, UsageReport) and u.reserved == Resources(fuel=60, slots=2)
        await release(ref, g.grant)  # releases the children too
        assert (await status(ref)).live_grants == 0

    simulate(body)



def test_messages_round_trip() -> None:
    msg = Subdivide("root/1", (Resources(fuel=1), Resources(memory=2)), owner="x")
    assert decode_message(encode_message(msg)) == msg


def test_resize_grows_shrinks_and_wakes_a_waiter() -> None:
    """Over the actor: a shrink gives the root room a waiting request then gets; refusals are typed."""
    from stele.actors.allocator import resize

    async def body(system: stele.ActorSystem) -> None:
        ref = await system.spawn("alloc", AllocatorActor, Resources(fuel=100, slots=4))
        a = await allocate(ref, Resources(slots=4))
        assert (await resize(ref, a.grant, Resources(slots=3))).capacity == Resources(slots=3)
        with pytest.raises(InsufficientResources):
            await resize(ref, a.grant, Resources(slots=5))  # more than the root has
        child = await allocate(ref, Resources(slots=2), parent=a.grant)
        with pytest.raises(InsufficientResources):
            await resize(ref, a.grant, Resources(slots=1))  # below what its child holds
        await allocate(ref, Resources(slots=1))
        got: list[str] = []

        async def waiter() -> None:
            g = await allocate(ref, Resources(slots=1), wait=10.0)
            got.append(g.grant)

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.sleep(1)
            assert got == [] and (await status(ref)).waiting == 1
            await resize(ref, a.grant, Resources(slots=2))  # one slot back to the root: the waiter's
        assert len(got) == 1
        await release(ref, child.grant)
        assert (await status(ref)).available == Resources(fuel=100)

    simulate(body)
