"""Actor kernel throughput against raw channel baselines, on trio and asyncio.

Prints one JSON object.  Every figure is end to end: N messages produced and
consumed (or N ask round trips completed).  The baselines use a bounded
buffer of the same capacity as the actor's mailbox:

* ``trio_channel_send`` -- trio memory channel, ``await send`` / ``async for``;
* ``trio_channel_send_nowait`` -- the same channel driven non-blockingly:
  ``send_nowait`` (``await send`` only when full) and ``receive_nowait``
  (``await receive`` only when empty);
* ``asyncio_queue_nowait`` -- ``asyncio.Queue`` driven the same way;
* round trips: ``trio_naive_channel_actor`` (a reply channel per call, the
  usual hand-written trio actor) and ``*_event_pingpong`` (two tasks passing
  a token with one-shot events: two task switches per round trip, a floor).

Actor figures: ``tell`` (``ref.tell``, falling back to ``await ref.send``
when the mailbox is full), ``ask_sequential`` (one caller, one round trip at
a time) and ``ask_concurrent`` (``ASKERS`` callers at once).  Ratios compare
each backend's tell rate with the trio non-blocking channel rate measured in
the same run.  Usage: ``python tests/bench/actors.py [--quick]``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import anyio
import trio

import stele

CAPACITY = 1024
ASKERS = 64


class Sink(stele.Actor):
    def __init__(self, total: int, done: anyio.Event) -> None:
        self.total = total
        self.count = 0
        self.done = done

    async def receive(self, message: object) -> object:
        self.count += 1
        if self.count == self.total:
            self.done.set()
        return None


class Echo(stele.Actor):
    async def receive(self, message: object) -> object:
        return message


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds) if seconds > 0 else float("inf")


async def trio_channel_send(n: int) -> float:
    send, receive = trio.open_memory_channel[int](CAPACITY)

    async def consume() -> None:
        count = 0
        async for _ in receive:
            count += 1
            if count == n:
                return

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        for i in range(n):
            await send.send(i)
    return _rate(n, time.perf_counter() - start)


async def trio_channel_send_nowait(n: int) -> float:
    send, receive = trio.open_memory_channel[int](CAPACITY)

    async def consume() -> None:
        count = 0
        while count < n:
            try:
                receive.receive_nowait()
            except trio.WouldBlock:
                await receive.receive()
            count += 1

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        for i in range(n):
            try:
                send.send_nowait(i)
            except trio.WouldBlock:
                await send.send(i)
    return _rate(n, time.perf_counter() - start)


async def asyncio_queue_nowait(n: int) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue(CAPACITY)

    async def consume() -> None:
        count = 0
        while count < n:
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                await queue.get()
            count += 1

    start = time.perf_counter()
    consumer = asyncio.ensure_future(consume())
    for i in range(n):
        try:
            queue.put_nowait(i)
        except asyncio.QueueFull:
            await queue.put(i)
    await consumer
    return _rate(n, time.perf_counter() - start)


async def trio_naive_actor_ask(n: int) -> float:
    """The naive trio actor: a request channel and a reply channel per call."""
    send, receive = trio.open_memory_channel[Any](CAPACITY)

    async def serve() -> None:
        async for message, reply in receive:
            reply.send_nowait(message)

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        for i in range(n):
            reply_send, reply_receive = trio.open_memory_channel[int](1)
            await send.send((i, reply_send))
            await reply_receive.receive()
        nursery.cancel_scope.cancel()
    return _rate(n, time.perf_counter() - start)


async def event_pingpong(n: int) -> float:
    """Two tasks handing a token back and forth with one-shot anyio Events.

    Two task switches per round trip and nothing else: a floor for any ask.
    """
    box: list[Any] = [None]
    server_wake: list[anyio.Event] = [anyio.Event()]

    async def serve() -> None:
        while True:
            await server_wake[0].wait()
            server_wake[0] = anyio.Event()
            reply = box[0]
            reply.set()

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        for _ in range(n):
            reply = anyio.Event()
            box[0] = reply
            server_wake[0].set()
            await reply.wait()
        tg.cancel_scope.cancel()
    return _rate(n, time.perf_counter() - start)


async def actor_tell(n: int) -> float:
    async with stele.ActorSystem(stele.RealEnv(), capacity=CAPACITY) as system:
        done = anyio.Event()
        ref = await system.spawn("sink", Sink, n, done)
        start = time.perf_counter()
        for i in range(n):
            try:
                ref.tell(i)
            except stele.MailboxFull:
                await ref.send(i)
        await done.wait()
        return _rate(n, time.perf_counter() - start)


async def actor_ask_sequential(n: int) -> float:
    async with stele.ActorSystem(stele.RealEnv(), capacity=CAPACITY) as system:
        ref = await system.spawn("echo", Echo)
        start = time.perf_counter()
        for i in range(n):
            await ref.ask(i, timeout=10.0)
        return _rate(n, time.perf_counter() - start)


async def actor_ask_concurrent(n: int) -> float:
    async with stele.ActorSystem(stele.RealEnv(), capacity=CAPACITY) as system:
        ref = await system.spawn("echo", Echo)
        per = n // ASKERS

        async def asker() -> None:
            for i in range(per):
                await ref.ask(i, timeout=10.0)

        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(ASKERS):
                tg.start_soon(asker)
        return _rate(per * ASKERS, time.perf_counter() - start)


def measure(n: int, n_ask: int, repeats: int) -> dict[str, float]:
    """Best of ``repeats`` for every figure, the repeats interleaved.

    Interleaving (all figures once, then again) spreads the shared machine's
    load drift over baselines and actors alike, so the ratios stay fair.
    """
    plan: list[tuple[str, Any, int, str]] = [
        ("trio_channel_send", trio_channel_send, n, "trio"),
        ("trio_channel_send_nowait", trio_channel_send_nowait, n, "trio"),
        ("asyncio_queue_nowait", asyncio_queue_nowait, n, "asyncio"),
        ("trio_naive_channel_actor", trio_naive_actor_ask, n_ask, "trio"),
    ]
    for backend in ("trio", "asyncio"):
        plan += [
            (f"{backend}_event_pingpong", event_pingpong, n_ask, backend),
            (f"{backend}_tell", actor_tell, n, backend),
            (f"{backend}_ask_sequential", actor_ask_sequential, n_ask, backend),
            (f"{backend}_ask_concurrent", actor_ask_concurrent, n_ask, backend),
        ]
    best: dict[str, float] = {}
    for _ in range(repeats):
        for key, fn, count, backend in plan:
            best[key] = max(best.get(key, 0.0), anyio.run(fn, count, backend=backend))
    return best


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    n = 20_000 if quick else 100_000
    n_ask = 10_000 if quick else 50_000
    repeats = 1 if quick else 3
    m = measure(n, n_ask, repeats)
    result: dict[str, Any] = {"messages": n, "asks": n_ask, "capacity": CAPACITY,
                              "askers": ASKERS, "repeats_best_of": repeats}
    base_nowait = m["trio_channel_send_nowait"]
    result["baseline_msgs_per_s"] = {
        key: m[key]
        for key in ("trio_channel_send", "trio_channel_send_nowait", "asyncio_queue_nowait")
    }
    result["baseline_round_trips_per_s"] = {
        key: m[key]
        for key in ("trio_naive_channel_actor", "trio_event_pingpong", "asyncio_event_pingpong")
    }
    for backend in ("trio", "asyncio"):
        tell = m[f"{backend}_tell"]
        ask_seq = m[f"{backend}_ask_sequential"]
        ask_conc = m[f"{backend}_ask_concurrent"]
        result[backend] = {
            "tell_msgs_per_s": tell,
            "ask_sequential_per_s": ask_seq,
            "ask_concurrent_per_s": ask_conc,
            "tell_vs_trio_send_nowait": round(tell / base_nowait, 3),
            "tell_vs_trio_send": round(tell / m["trio_channel_send"], 3),
            "tell_vs_asyncio_queue": round(tell / m["asyncio_queue_nowait"], 3),
            "ask_sequential_vs_event_pingpong": round(ask_seq / m[f"{backend}_event_pingpong"], 3),
            "ask_sequential_vs_trio_naive_actor": round(ask_seq / m["trio_naive_channel_actor"], 3),
        }
    result["targets"] = {
        "tell_vs_trio_send_nowait>=0.5": {
            b: result[b]["tell_vs_trio_send_nowait"] >= 0.5 for b in ("trio", "asyncio")
        },
        "ask_per_s>=100k (best of sequential, concurrent)": {
            b: max(result[b]["ask_sequential_per_s"], result[b]["ask_concurrent_per_s"])
            >= 100_000
            for b in ("trio", "asyncio")
        },
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
