"""SimDisk, SimNetwork and the trace recorder."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.sim import DiskFaults, NetFaults, Ratio, SimEnv, SimError, SimNetwork, canonical
from stele.sim._faults import draw_faults
from stele._core._random import SeededRandom

T = TypeVar("T")


def run(env: SimEnv, fn: Callable[[], Awaitable[T]]) -> T:
    return env.run(fn)


# -- disk ---------------------------------------------------------------------
def test_disk_basic_semantics() -> None:
    env = SimEnv(seed=1)
    disk = env.disk

    async def main() -> None:
        await disk.write("d/a", b"one")
        await disk.append("d/a", b"two")
        assert await disk.read("d/a") == b"onetwo"
        await disk.write("d/sub/b", b"x")
        assert await disk.listdir("d") == ["a", "sub"]
        assert await disk.listdir() == ["d"]
        await disk.rename("d/a", "d/c")
        assert not await disk.exists("d/a") and await disk.exists("d/c")
        await disk.remove("d/c")
        with pytest.raises(FileNotFoundError):
            await disk.read("d/c")
        with pytest.raises(FileNotFoundError):
            await disk.fsync("nope")

    run(env, main)


def test_synced_data_survives_any_crash() -> None:
    faults = DiskFaults(crash_lose=Ratio(1, 3), crash_torn=Ratio(1, 2), crash_corrupt=Ratio(1, 1))
    for seed in range(30):
        env = SimEnv(seed=seed, disk_faults=faults)
        disk = env.disk

        async def main() -> tuple[bytes, bytes]:
            await disk.write("f", b"durable")
            await disk.fsync("f")
            await disk.write("g", b"tmp-data")
            await disk.fsync("g")
            await disk.rename("g", "h")  # atomic and journaled
            disk.crash()
            return await disk.read("f"), await disk.read("h")

        assert run(env, main) == (b"durable", b"tmp-data")


def test_unsynced_data_is_damaged_on_crash() -> None:
    faults = DiskFaults(crash_lose=Ratio(1, 4), crash_torn=Ratio(1, 3), crash_corrupt=Ratio(1, 2))
    outcomes = set()
    for seed in range(40):
        env = SimEnv(seed=seed, disk_faults=faults)
        disk = env.disk

        async def main() -> bytes | None:
            await disk.write("f", b"old-contents")
            await disk.fsync("f")
            await disk.append("f", b"+new-unsynced-tail")
            disk.crash()
            try:
                return await disk.read("f")
            except FileNotFoundError:
                return None

        got = run(env, main)
        assert got is not None and got.startswith(b"old-contents")  # synced prefix intact
        outcomes.add(got)
    assert b"old-contents" in outcomes  # lost
    assert b"old-contents+new-unsynced-tail" in outcomes  # kept
    assert len(outcomes) >= 4  # torn and corrupted variants too


def test_write_and_fsync_failures_change_nothing() -> None:
    env = SimEnv(seed=3, disk_faults=DiskFaults(write_fail=Ratio(1, 1)))
    disk = env.disk

    async def main() -> bool:
        with pytest.raises(OSError):
            await disk.write("f", b"x")
        return await disk.exists("f")

    assert run(env, main) is False
    assert env.trace.count("fault.disk") == 1


@settings(max_examples=40)
@given(st.integers(min_value=0, max_value=2**32), st.lists(st.binary(max_size=20), max_size=8))
def test_crash_keeps_a_prefix_consistent_log(seed: int, chunks: list[bytes]) -> None:
    """Property: after a crash, a file is durable-prefix + something of the unsynced part."""
    faults = DiskFaults(crash_lose=Ratio(1, 3), crash_torn=Ratio(1, 3), crash_corrupt=Ratio(1, 3))
    env = SimEnv(seed=seed, disk_faults=faults)
    disk = env.disk

    async def main() -> bytes:
        await disk.write("log", b"HEAD")
        await disk.fsync("log")
        for c in chunks:
            await disk.append("log", c)
        disk.crash()
        return await disk.read("log")

    got = run(env, main)
    full = b"HEAD" + b"".join(chunks)
    assert got[:4] == b"HEAD"
    assert len(got) <= len(full)


# -- network ------------------------------------------------------------------
def _net_run(seed: int, faults: NetFaults, n: int = 200) -> tuple[list[int], SimNetwork, str]:
    env = SimEnv(seed=seed)
    got: list[int] = []

    async def main() -> SimNetwork:
        net = SimNetwork(env, faults)
        a, b = net.endpoint("a"), net.endpoint("b")

        async def recv() -> None:
            while True:
                _src, msg = await b.receive()
                assert isinstance(msg, int)
                got.append(msg)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(recv)
            for i in range(n):
                a.send("b", i)
                await env.sleep(0.0001)
            await env.sleep(1.0)
            nursery.cancel_scope.cancel()
        return net

    net = env.run(main)
    return got, net, env.trace.trace_hash


def test_reliable_network_is_fifo_with_fixed_delay() -> None:
    got, net, _ = _net_run(1, NetFaults(delay_min_ns=1_000_000))
    assert got == list(range(200))
    assert net.faults_injected == 0


def test_network_faults_loss_duplication_reordering() -> None:
    faults = NetFaults(
        loss=Ratio(1, 10), duplicate=Ratio(1, 10), reorder=Ratio(1, 10),
        delay_min_ns=100_000, delay_jitter_ns=50_000, reorder_ns=5_000_000,
    )
    got, net, h = _net_run(2, faults)
    assert set(got) < set(range(200))  # some lost
    assert len(got) != len(set(got))  # some duplicated
    assert got != sorted(got)  # some reordered
    assert net.faults_injected > 0
    assert _net_run(2, faults)[2] == h  # and all of it reproducible


def test_unknown_endpoint_is_an_error() -> None:
    env = SimEnv(seed=1)

    async def main() -> None:
        SimNetwork(env, NetFaults()).endpoint("a").send("nobody", 1)

    with pytest.raises(SimError, match="nobody"):
        env.run(main)


# -- trace and faults ---------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Msg:
    a: int
    b: str


def test_canonical_encoding_is_injective_on_examples() -> None:
    values = [0, 1, -1, "1", b"1", (1,), [1], None, True, False, (1, 2), ((1,), 2), Msg(1, "x"),
              Msg(2, "x"), "", b"", (), 2**70]
    encoded = [canonical(v) for v in values]
    assert len(set(encoded)) == len(values) - 1  # (1,) and [1] encode alike on purpose
    with pytest.raises(SimError):
        canonical(object())


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4).map(tuple), max_leaves=12,
))
def test_canonical_encoding_is_stable(value: object) -> None:
    assert canonical(value) == canonical(value)


_trace_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text("ab", max_size=2)
    | st.binary(max_size=2),
    lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=6,
)


@given(_trace_values, _trace_values)
def test_canonical_encoding_is_injective(a: object, b: object) -> None:
    """Two values encode alike exactly when they are the same value (repr tells bool from int)."""
    assert (canonical(a) == canonical(b)) == (repr(a) == repr(b))


def test_trace_hash_depends_on_every_field() -> None:
    env1, env2 = SimEnv(seed=1), SimEnv(seed=1)
    env1.trace.record("x", 1, "a")
    env2.trace.record("x", 1, "b")
    assert env1.trace.trace_hash != env2.trace.trace_hash


def test_ratio_parse_and_limits() -> None:
    assert Ratio.parse("1/3") == Ratio(1, 3)
    assert Ratio.parse("0") == Ratio(0, 1)
    for bad in ("x", "1/0", "4/3", "-1/2"):
        with pytest.raises(SimError):
            Ratio.parse(bad)


def test_swarm_draw_is_a_function_of_the_seed_and_overrides_win() -> None:
    a = draw_faults(SeededRandom(5).fork("swarm"))
    b = draw_faults(SeededRandom(5).fork("swarm"))
    assert a == b
    c = draw_faults(SeededRandom(5).fork("swarm"), {"net-loss": "1/7"})
    assert c.net.loss == Ratio(1, 7)
    off = draw_faults(SeededRandom(5).fork("swarm"), enabled=False)
    assert not off.net.loss and not off.crash and not off.disk.write_fail
    with pytest.raises(SimError, match="unknown fault option"):
        draw_faults(SeededRandom(5), {"bogus": "1/2"})


@settings(max_examples=20)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=0, max_value=300_000))
def test_without_loss_or_duplication_every_message_arrives_once(seed: int, jitter: int) -> None:
    faults = NetFaults(reorder=Ratio(1, 4), delay_min_ns=10_000, delay_jitter_ns=jitter,
                       reorder_ns=1_000_000)
    got, _net, _h = _net_run(seed, faults, n=50)
    assert sorted(got) == list(range(50))


def test_partition_drops_messages_between_the_pair_until_it_heals() -> None:
    env = SimEnv(seed=1)

    async def main() -> list[tuple[str, object]]:
        net = SimNetwork(env, NetFaults(delay_min_ns=1_000))
        a, b, c = net.endpoint("a"), net.endpoint("b"), net.endpoint("c")
        net.partition("b", "a", 1_000_000)
        a.send("b", 1)  # dropped
        a.send("c", 2)  # other pairs unaffected
        await env.sleep_ns(2_000_000)
        a.send("b", 3)  # healed
        await env.sleep_ns(10_000)
        got = []
        for ep in (b, c):
            while ep._inbox:
                got.append(await ep.receive())
        return got

    assert env.run(main) == [("a", 3), ("a", 2)]
    assert env.trace.count("fault.net.partitioned") == 1
