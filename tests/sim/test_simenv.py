"""SimEnv: virtual time, one event queue, deterministic scheduling, deadlocks."""

from __future__ import annotations

import anyio
import pytest
import trio
import trio.testing
import trio._core._run as trio_run
from hypothesis import given, settings
from hypothesis import strategies as st

import stele
import anyio.abc

from stele.sim import SimDeadlock, SimEnv, SimError, SimListener


def test_simenv_is_an_env() -> None:
    env = SimEnv(seed=1)
    assert isinstance(env, stele.Env)
    assert env.simulated
    assert env.now_ns() == 0
    with pytest.raises(SimError):
        SimEnv(seed=-1)


def test_sleep_advances_virtual_time_only() -> None:
    env = SimEnv(seed=1)

    async def main() -> int:
        await env.sleep(3600.0)  # an hour, instantly
        await trio.sleep(0.5)  # trio's own deadlines run on the same clock
        await anyio.sleep(0.25)
        return env.now_ns()

    assert env.run(main) == 3_600_750_000_000
    assert env.trace.count("timer") == 1


def test_timeouts_are_virtual() -> None:
    env = SimEnv(seed=2)

    async def main() -> tuple[bool, int]:
        with env.move_on_after(2.0) as scope:
            await trio.sleep_forever()
        t1 = env.now_ns()
        try:
            with env.fail_after(1.0):
                await env.sleep(5.0)
        except TimeoutError:
            return scope.cancelled_caught, env.now_ns() - t1
        return False, 0

    assert env.run(main) == (True, 1_000_000_000)


def test_event_queue_orders_by_time_then_sequence() -> None:
    env = SimEnv(seed=3)
    fired: list[str] = []

    async def main() -> None:
        env.call_later(20, fired.append, "c")
        env.call_later(10, fired.append, "a")
        env.call_later(10, fired.append, "b")
        h = env.call_later(15, fired.append, "cancelled")
        h.cancel()
        await env.sleep_ns(30)

    env.run(main)
    assert fired == ["a", "b", "c"]


def test_wall_clock_is_virtual_and_can_jump() -> None:
    env = SimEnv(seed=4)
    w0 = env.wall_ns()
    env.jump_wall_clock(-5_000)
    assert env.wall_ns() == w0 - 5_000
    assert env.now_ns() == 0


def test_deadlock_is_reported() -> None:
    env = SimEnv(seed=5)

    async def main() -> None:
        await trio.Event().wait()

    with pytest.raises(SimDeadlock):
        env.run(main)


def test_component_failure_stops_the_run() -> None:
    env = SimEnv(seed=6)

    def explode() -> None:
        raise RuntimeError("boom")

    async def main() -> None:
        env.call_later(5, explode)
        await env.sleep(10.0)

    with pytest.raises(RuntimeError, match="boom"):
        env.run(main)


def test_trio_globals_are_restored() -> None:
    before_flag = trio_run._ALLOW_DETERMINISTIC_SCHEDULING
    before_state = trio_run._r.getstate()

    async def main() -> None:
        assert trio_run._ALLOW_DETERMINISTIC_SCHEDULING
        await trio.sleep(1)

    SimEnv(seed=7).run(main)
    assert trio_run._ALLOW_DETERMINISTIC_SCHEDULING == before_flag
    assert trio_run._r.getstate() == before_state


def test_streams_are_simulated_reliable_and_ordered() -> None:
    env = SimEnv(seed=8)

    async def main() -> tuple[bytes, int, bool]:
        listener = await env.listen_tcp("127.0.0.1", 0)
        assert isinstance(listener, SimListener) and listener.port is not None
        got = bytearray()

        async def echo(stream: anyio.abc.ByteStream) -> None:
            async with stream:
                async for chunk in stream:
                    await stream.send(chunk.upper())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(listener.serve, echo)
            async with await env.connect_tcp("127.0.0.1", listener.port) as client:
                for part in (b"hello ", b"simulated ", b"world"):
                    await client.send(part)
                await client.send_eof()
                async for chunk in client:
                    got += chunk
            nursery.cancel_scope.cancel()
        refused = False
        try:
            await env.connect_unix("/nowhere")
        except ConnectionRefusedError:
            refused = True
        with pytest.raises(OSError):
            await env.listen_tcp("127.0.0.1", listener.port)
        return bytes(got), env.now_ns(), refused

    got, t, refused = env.run(main)
    assert got == b"HELLO SIMULATED WORLD"
    assert t > 0 and refused
    assert env.trace.count("stream.send") >= 6


def _square(x: int) -> int:
    return x * x


def test_workers_run_inline() -> None:
    env = SimEnv(seed=9)

    async def main() -> tuple[int, int, int]:
        a = await env.run_in_worker(_square, 4)
        b = await env.run_blocking(_square, 5)
        return a, b, env.now_ns()

    assert env.run(main) == (16, 25, 0)


def _racy_run(seed: int) -> tuple[list[tuple[int, int]], str]:
    """Many tasks racing on ties of virtual time; the order is the seed's."""
    env = SimEnv(seed=seed)
    order: list[tuple[int, int]] = []

    async def worker(i: int) -> None:
        for k in range(4):
            # Same deadlines for everyone: ties broken by the seeded scheduler.
            with trio.move_on_after(0.001 * (k + 1)):
                await trio.sleep_forever()
            await env.sleep(0.001 * (i % 3))
            order.append((i, k))
            env.trace.record("step", i, k)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for i in range(12):
                nursery.start_soon(worker, i)

    env.run(main)
    return order, env.trace.trace_hash


@settings(max_examples=15)
@given(st.integers(min_value=0, max_value=2**32))
def test_same_seed_same_interleaving(seed: int) -> None:
    assert _racy_run(seed) == _racy_run(seed)


def test_different_seeds_explore_different_interleavings() -> None:
    hashes = {_racy_run(seed)[1] for seed in range(8)}
    assert len(hashes) > 1


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=40))
def test_event_queue_fires_in_time_then_sequence_order(delays: list[int]) -> None:
    env = SimEnv(seed=0)
    fired: list[tuple[int, int]] = []

    async def main() -> None:
        for i, d in enumerate(delays):
            env.call_later(d, lambda i=i: fired.append((env.now_ns(), i)))
        await env.sleep_ns(100)

    env.run(main)
    assert fired == sorted((d, i) for i, d in enumerate(delays))


def test_wait_all_tasks_blocked_wakes_before_time_moves() -> None:
    env = SimEnv(seed=1)

    async def main() -> list[str]:
        log: list[str] = []

        async def sleeper() -> None:
            await env.sleep(5)
            log.append(f"slept {env.now_ns()}")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(sleeper)
            await trio.testing.wait_all_tasks_blocked()
            log.append(f"idle {env.now_ns()}")
        return log

    assert env.run(main) == ["idle 0", "slept 5000000000"]


def test_a_simenv_runs_once() -> None:
    env = SimEnv(seed=1)

    async def main() -> None:
        await env.sleep(1)

    env.run(main)
    with pytest.raises(SimError, match="runs once"):
        env.run(main)


@pytest.mark.parametrize("bad", ["", "/abs", "a/../b", "a//b", "./a", 7])
def test_the_sim_disks_memoised_path_check_still_refuses_bad_paths(bad: object) -> None:
    from stele._core._realenv import DiskPathError
    from stele.sim._disk import check_disk_path

    assert check_disk_path("a/b/") == check_disk_path("a/b/") == "a/b"  # memoised, normalised
    for _ in range(2):  # a refused path is never memoised
        with pytest.raises(DiskPathError):
            check_disk_path(bad)  # type: ignore[arg-type]
    env = SimEnv(0)
    with pytest.raises(DiskPathError):
        env.disk.file_exists(bad)  # type: ignore[arg-type]
