"""Jobs against a real daemon: durable acks, idempotency, kill -9 and exactly-once, shutdown."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import trio
import trio.testing

import stele
from stele.actors.executor import ExecLimits
from stele.actors.sandbox import Policy
from stele.daemon import Busy, DaemonUnavailable, JobCancelled

from ._harness import FIB, Serve

# Each job adds one to a shared counter (read-modify-write over KV, so a double
# application or a lost update shows) and records its own key; it burns some fuel
# first so that kill -9 lands while jobs are running.
COUNTER = FIB + """
def tick(i: Int) -> Int ! {KV} =
  let spin = fib(14) in
  let n = match perform KV.get("count") {
    Some(b) => get_or_else(bytes_to_int(b), 0),
    None => 0
  } in
  perform KV.put("count", int_to_bytes(n + 1));
  perform KV.put("seen/" ++ int_to_string(i), int_to_bytes(n + 1 + spin - spin));
  n + 1

def count(u: Int) -> Int ! {KV} =
  match perform KV.get("count") {
    Some(b) => get_or_else(bytes_to_int(b), 0),
    None => 0
  }
"""
KV = Policy.allow("kv", "KV")


async def test_submit_wait_status_idempotency(daemon: Serve, tokens: dict[str, str],
                                              transport: str) -> None:
    async with stele.connect(daemon.address(transport), token=tokens["alice"]) as rt:
        await rt.store(COUNTER)
        job = await rt.submit("tick", [0], policy=KV, idempotency_key="once")
        again = await rt.submit("tick", [0], policy=KV, idempotency_key="once")
        assert again == job
        r = await rt.wait(job)
        assert r.value == 1
        info = await rt.status(job)
        assert (info.state, info.attempts, info.target) == ("succeeded", 1, "tick")
        assert (await rt.execute("count", [0], policy=KV)).value == 1
        # a failing job keeps its typed error
        from stele.actors.sandbox import EffectDenied
        bad = await rt.submit("tick", [1])  # KV not granted
        with pytest.raises(EffectDenied):
            await rt.wait(bad)
        assert (await rt.status(bad)).error_type.endswith("EffectDenied")
        assert (await rt.execute("count", [0], policy=KV)).value == 1


async def test_kill9_during_submits_then_restart_exactly_once(root: Path,
                                                              fresh_tokens: dict[str, str]) -> None:
    n_jobs = 40
    serve = await Serve(root, "--workers", "4").start()
    acked: dict[int, str] = {}
    try:
        async with stele.connect(serve.address(), token=fresh_tokens["alice"]) as rt:
            await rt.store(COUNTER)

            async def submitter() -> None:
                for i in range(n_jobs):
                    try:
                        acked[i] = await rt.submit("tick", [i], policy=KV,
                                                   idempotency_key=f"tick-{i}")
                    except DaemonUnavailable:
                        return

            async with trio.open_nursery() as nursery:
                nursery.start_soon(submitter)
                with trio.fail_after(300):
                    while len(acked) < n_jobs // 3:
                        await trio.sleep(0.005)
                serve.kill9()  # mid-stream: some jobs done, some running, some queued
    finally:
        serve.stop()
    assert n_jobs // 3 <= len(acked) < n_jobs
    before = dict(acked)

    serve = await Serve(root, "--workers", "4").start()
    try:
        async with stele.connect(serve.address(), token=fresh_tokens["alice"]) as rt:
            # the client retries every submit under its key: acked ones map to the same job
            ids = [await rt.submit("tick", [i], policy=KV, idempotency_key=f"tick-{i}")
                   for i in range(n_jobs)]
            for i, job in before.items():
                assert ids[i] == job
            values = sorted([(await rt.wait(job)).value for job in ids])
            # every job ran exactly once: counter values 1..n, each seen once
            assert values == list(range(1, n_jobs + 1))
            assert (await rt.execute("count", [0], policy=KV)).value == n_jobs
            attempts = [(await rt.status(j)).attempts for j in ids]
            assert all(a >= 1 for a in attempts)
    finally:
        serve.signal(signal.SIGTERM)
        assert await serve.wait() == 0


async def test_graceful_shutdown_finishes_in_flight_work(root: Path,
                                                         fresh_tokens: dict[str, str]) -> None:
    serve = await Serve(root, "--grace", "60").start()
    results: list[int] = []
    async with stele.connect(serve.address(), token=fresh_tokens["alice"]) as rt:
        await rt.store(COUNTER)
        job = await rt.submit("fib", [24], memo=False)

        async def slow() -> None:
            r = await rt.execute("fib", [24], memo=False, limits=ExecLimits(fuel=10**9))
            results.append(r.value)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(slow)
            with trio.fail_after(300):  # until both are running in the daemon
                while (await rt.server_status()).tenants["alice"].running < 2:
                    await trio.sleep(0.005)
            serve.signal(signal.SIGTERM)
            with trio.fail_after(300):  # new work is refused while draining
                while True:
                    try:
                        await rt.execute("fib", [3])
                    except Busy:
                        break
                    except DaemonUnavailable:
                        break
                    await trio.sleep(0.005)
    assert results == [46368]
    assert await serve.wait() == 0
    assert "shutting_down signal=SIGTERM" in serve.text()
    serve = await Serve(root).start()  # the job finished before the exit
    try:
        async with stele.connect(serve.address(), token=fresh_tokens["alice"]) as rt:
            info = await rt.status(job)
            assert (info.state, info.attempts) == ("succeeded", 1)
    finally:
        serve.stop()


async def test_queue_and_inflight_limits_answer_busy(root: Path,
                                                     fresh_tokens: dict[str, str]) -> None:
    from ._harness import add_tenant

    carol = add_tenant(root, "carol", "queue=2")
    serve = await Serve(root, "--workers", "0", "--max-inflight", "2").start()  # jobs wait
    try:
        async with stele.connect(serve.address(), token=carol) as rt:
            await rt.store(FIB)
            a = await rt.submit("fib", [1])
            b = await rt.submit("fib", [2])
            with pytest.raises(Busy) as busy:
                await rt.submit("fib", [3])
            assert busy.value.retry_after > 0 and "quota 2" in str(busy.value)
            # two waits are in flight (their jobs never run); the third request is refused
            cancelled: list[str] = []

            async def waiter(job: str) -> None:
                with pytest.raises(JobCancelled):
                    await rt.wait(job)
                cancelled.append(job)

            async with trio.open_nursery() as nursery:
                for job in (a, b):
                    nursery.start_soon(waiter, job)
                await trio.testing.wait_all_tasks_blocked()  # both waits sent, in order
                with pytest.raises(Busy) as busy:
                    await rt.status(a)
                assert "max_inflight=2" in str(busy.value)
                # cancelling a queued job answers its waiter and frees its place in the queue
                await trio.testing.wait_all_tasks_blocked()
                other = stele.connect(serve.address(), token=carol)
                async with other as rt2:
                    await rt2.cancel(a)
                    await rt2.cancel(b)
            assert sorted(cancelled) == sorted([a, b])
            with pytest.raises(JobCancelled):
                await rt.wait(a)
            assert (await rt.status(b)).state == "cancelled"
            await rt.submit("fib", [3])  # room again
    finally:
        serve.stop()
