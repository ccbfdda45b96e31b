"""The executor: targets, memo, timeouts, cancellation, concurrency, determinism, capacity."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stele.actors.executor import ExecLimits, ExecutionTimeout, UnknownEngine
from stele.actors.sandbox import Policy
from stele.store import UnknownTarget
from stele.tel import CostLimitExceeded, DepthLimitExceeded

from ._support import ROOT, assert_full_capacity, run

SUMS = (ROOT / "examples" / "sum_squares.tel").read_text()
FIB = (ROOT / "examples" / "fib.tel").read_text()


@pytest.mark.parametrize("kind", ["sim", "real"])
def test_name_digest_and_prefix_run_the_same_code(kind: str) -> None:
    async def scenario(rt: Any) -> None:
        names = await rt.store(FIB)
        d = names["fib"]
        by_name = await rt.execute("fib", [12], memo=False)
        by_digest = await rt.execute(str(d), [12], memo=False)
        by_prefix = await rt.execute(str(d)[:12], [12], memo=False)
        assert by_name.value == by_digest.value == by_prefix.value == 144
        assert by_name.digest == by_digest.digest == by_prefix.digest == d
        assert by_name.cost == by_digest.cost and by_name.breakdown == by_prefix.breakdown
        assert by_name.usage.fuel == by_name.cost and by_name.journal_digest == \
            by_digest.journal_digest
        with pytest.raises(UnknownTarget):
            await rt.execute("no_such_thing", [])
        with pytest.raises(UnknownEngine):
            await rt.execute("fib", [1], engine="jvm")

    run(kind, scenario)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ns=st.lists(st.integers(0, 30), min_size=1, max_size=6),
       fuel=st.integers(50, 5000), seed=st.integers(0, 1000))
def test_memo_hit_equals_reexecution(ns: list[int], fuel: int, seed: int) -> None:
    async def scenario(rt: Any) -> None:
        await rt.store(SUMS)
        for n in ns:
            limits = ExecLimits(fuel=fuel)
            try:
                first = await rt.execute("sum_squares_to", [n], limits=limits)
            except CostLimitExceeded:
                with pytest.raises(CostLimitExceeded):  # failures are never cached
                    await rt.execute("sum_squares_to", [n], limits=limits)
                continue
            again = await rt.execute("sum_squares_to", [n], limits=limits)
            fresh = await rt.execute("sum_squares_to", [n], limits=limits, memo=False)
            assert again.memo_hit and not fresh.memo_hit
            for r in (again, first):
                assert (r.value, r.cost, r.breakdown, r.usage.fuel, r.usage.memory) == \
                    (fresh.value, fresh.cost, fresh.breakdown, fresh.usage.fuel,
                     fresh.usage.memory)
            assert again.journal_digest == fresh.journal_digest
            if first.cost > 1:  # a smaller limit than the recorded cost is not served
                with pytest.raises(CostLimitExceeded):
                    await rt.execute("sum_squares_to", [n],
                                     limits=ExecLimits(fuel=first.cost - 1))

    run("sim", scenario, seed=seed)


def test_effectful_results_are_not_memoized() -> None:
    async def scenario(rt: Any) -> None:
        p = Policy.allow("log", "Log")
        a = await rt.execute("use_log", [1], policy=p)
        b = await rt.execute("use_log", [1], policy=p)
        assert not a.memo_hit and not b.memo_hit and b.logs == ("x=1",)
        assert a.journal_digest == b.journal_digest

    run("sim", scenario)


def test_depth_is_part_of_the_memo_profile() -> None:
    async def scenario(rt: Any) -> None:
        ok = await rt.execute("loop", [100], limits=ExecLimits(depth=400))
        assert ok.value == 100
        with pytest.raises(DepthLimitExceeded):  # not served from the depth-400 entry
            await rt.execute("loop", [100], limits=ExecLimits(depth=50))

    run("sim", scenario)


@pytest.mark.parametrize("nested", [False, True])
def test_timeout_cancels_execution_and_children_and_releases_grants(nested: bool) -> None:
    async def scenario(rt: Any) -> None:
        entry = "nested_nap" if nested else "nap"
        p = Policy.allow("p", "Exec", "Clock")
        with pytest.raises(ExecutionTimeout) as info:
            await rt.execute(entry, [60_000], policy=p, limits=ExecLimits(timeout=2.0))
        assert "2.0s" in str(info.value)
        await assert_full_capacity(rt)
        ok = await rt.execute(entry, [500], policy=p, limits=ExecLimits(timeout=2.0))
        assert ok.value == 500

    run("sim", scenario)


def test_long_execution_does_not_block_others() -> None:
    async def scenario(rt: Any) -> None:
        order: list[str] = []

        async def slow() -> None:
            await rt.execute("nap", [30_000], policy=Policy.allow("c", "Clock"))
            order.append("slow")

        async def quick() -> None:
            await anyio.sleep(0.5)
            r = await rt.execute("loop", [10])
            order.append(f"quick {r.value}")

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            tg.start_soon(quick)
        assert order == ["quick 10", "slow"]

    run("sim", scenario)


def test_slots_bound_concurrency() -> None:
    """With 2 slots, 5 sleeping executions run at most 2 at a time (the rest wait)."""
    import stele
    from stele.actors.allocator import Resources
    from stele.sim import SimEnv

    from ._support import EFFECTS_TEL

    async def main(env: Any) -> float:
        cap = Resources(fuel=1 << 40, memory=1 << 40, wall_ns=1 << 60, cycles=1 << 40, slots=2,
                        storage=1 << 40)
        async with stele.open_runtime(env=env, capacity=cap) as rt:
            await rt.store(EFFECTS_TEL)
            start = env.now_ns()
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(lambda: rt.execute("nap", [1000],
                                                     policy=Policy.allow("c", "Clock")))
            await assert_full_capacity(rt)
            return (env.now_ns() - start) / 1e9

    env = SimEnv(seed=3)
    elapsed = env.run(main, env)
    assert 3.0 <= elapsed < 3.5  # ceil(5 / 2) rounds of one second


@pytest.mark.parametrize("seed", [1, 2])
def test_same_seed_same_results(seed: int) -> None:
    async def scenario(rt: Any) -> list[Any]:
        p = Policy.allow("all", "Log", "Rand", "Clock", "KV", "Exec")
        out = []
        for entry, arg in [("use_rand", 100), ("use_clock", 30), ("use_kv", 4), ("nested", 9)]:
            r = await rt.execute(entry, [arg], policy=p)
            out.append((r.value, r.cost, r.journal_digest, r.usage.fuel))
        return out

    assert run("sim", scenario, seed=seed) == run("sim", scenario, seed=seed)


@pytest.mark.parametrize("nested", [False, True])
def test_cancelling_the_caller_cancels_the_execution_and_releases_grants(nested: bool) -> None:
    async def scenario(rt: Any) -> None:
        entry = "nested_nap" if nested else "nap"
        p = Policy.allow("p", "Exec", "Clock")
        with anyio.move_on_after(1.0) as scope:
            await rt.execute(entry, [60_000], policy=p)
        assert scope.cancelled_caught
        await anyio.sleep(0.01)  # the executor task sees the cancellation
        stats = await rt.stats()
        assert stats.executor.cancelled == 1 and stats.executor.running == 0
        await assert_full_capacity(rt)

    run("sim", scenario)


def test_usage_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    async def scenario(rt: Any) -> None:
        await rt.execute("nested", [5], policy=Policy.allow("p", "Exec"))

    with caplog.at_level(logging.INFO, logger="stele.executor"):
        run("sim", scenario)
    lines = [r.getMessage() for r in caplog.records if r.name == "stele.executor"]
    assert any("loop depth=1" in line and "fuel=" in line for line in lines), lines
    assert any("nested depth=0" in line for line in lines), lines


def test_guest_input_may_be_given_as_bytes() -> None:
    sha = (ROOT / "examples" / "guests" / "bin" / "sha256.elf").read_bytes()

    async def scenario(rt: Any) -> None:
        await rt.store_blob(sha, name="g/sha")
        a = await rt.execute("g/sha", b"abc", engine="riscv", memo=False)
        b = await rt.execute("g/sha", [b"abc"], engine="riscv", memo=False)
        assert a.stdout == b.stdout and a.exit_code == 0

    run("sim", scenario)


def test_long_pure_runs_leave_the_event_loop_responsive() -> None:
    """Under RealEnv a long run goes to a worker thread; a short one finishes meanwhile."""
    async def scenario(rt: Any) -> list[str]:
        await rt.store(FIB)
        first = await rt.execute("fib", [20], memo=False)  # learns that fib is long-running
        assert first.cost > 200_000
        await rt.execute("loop", [10], memo=False)  # resolved, loaded and compiled already
        order: list[str] = []
        started = anyio.Event()

        async def slow() -> None:
            started.set()
            r = await rt.execute("fib", [28], memo=False, limits=ExecLimits(fuel=10**8))
            order.append(f"slow {r.value}")

        async def quick() -> None:
            await started.wait()
            await anyio.sleep(0)
            r = await rt.execute("loop", [10], memo=False)
            order.append(f"quick {r.value}")

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            tg.start_soon(quick)
        return order

    assert run("real", scenario) == ["quick 10", "slow 317811"]


def test_a_memo_hit_keeps_the_runs_exit_code() -> None:
    """TEL compiled for the co-processor exits 0 with value 55; a hit must say the same.

    (A hit used to report the value as the exit code whenever engine was riscv,
    which is right only for guests, whose value is their exit code.)
    """
    counter = (ROOT / "examples" / "provable" / "counter.elf").read_bytes()

    async def scenario(rt: Any) -> list[tuple[object, object, bool]]:
        await rt.store(FIB)
        await rt.store_blob(counter, name="g/count")
        seen = []
        for target, args in (("fib", [10]), ("g/count", [b"in"])):
            for _ in range(2):
                r = await rt.execute(target, args, engine="riscv")
                seen.append((r.value, r.exit_code, r.memo_hit))
        return seen

    tel_miss, tel_hit, guest_miss, guest_hit = run("sim", scenario)
    assert tel_miss == (55, 0, False) and tel_hit == (55, 0, True)
    assert guest_miss[2] is False and guest_hit[2] is True
    assert guest_miss[:2] == guest_hit[:2] and guest_hit[0] == guest_hit[1] != 0


@pytest.mark.parametrize("fields", [5, 6])
def test_memo_entries_written_before_the_exit_code_was_kept_are_still_served(
        fields: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store written by an older Stele holds 5-field (or, with a receipt slot, 6-field)
    memo entries: a hit on one answers the same value, output and cost, and derives the
    exit code from the engine (a guest's value is its exit code; TEL has none)."""
    from stele.actors.cache import CachedResult
    from stele.actors.executor import _executor
    from stele.protocol import decode, encode

    new_to_cache = _executor._to_cache

    def old_to_cache(result: Any) -> CachedResult:
        entry = new_to_cache(result)
        return CachedResult(encode(list(decode(entry.value))[:fields]), entry.usage)

    sha = (ROOT / "examples" / "guests" / "bin" / "sha256.elf").read_bytes()

    async def scenario(rt: Any) -> None:
        await rt.store(FIB)
        await rt.store_blob(sha, name="g/sha")
        monkeypatch.setattr(_executor, "_to_cache", old_to_cache)
        fresh_tel = await rt.execute("fib", [15])
        fresh_guest = await rt.execute("g/sha", b"abc", engine="riscv")
        monkeypatch.setattr(_executor, "_to_cache", new_to_cache)
        before = (await rt.stats()).executor.memo_hits
        tel = await rt.execute("fib", [15])
        guest = await rt.execute("g/sha", b"abc", engine="riscv")
        assert (await rt.stats()).executor.memo_hits == before + 2  # both from the old entries
        assert (tel.value, tel.cost, tel.exit_code) == (fresh_tel.value, fresh_tel.cost, None)
        assert (guest.stdout, guest.cost, guest.exit_code) == (
            fresh_guest.stdout, fresh_guest.cost, fresh_guest.exit_code)
        assert guest.exit_code == 0

    run("sim", scenario)


def test_the_recursion_limit_is_raised_for_a_deep_run_and_stays_raised() -> None:
    """The executor raises the interpreter's recursion limit to what a run's depth needs
    and never lowers it again, so that one run's restore cannot pull it from under
    another run in a worker thread (what ``Program`` alone would do: raise, then restore)."""
    import sys

    saved = sys.getrecursionlimit()
    depth = 300

    async def scenario(rt: Any) -> None:
        await rt.store(FIB)
        sys.setrecursionlimit(1500)
        r = await rt.execute("loop", [250], memo=False, limits=ExecLimits(depth=depth))
        assert r.value == 250
        assert sys.getrecursionlimit() >= 5000 + 60 * depth  # raised, and left raised

    try:
        run("sim", scenario)
    finally:
        sys.setrecursionlimit(saved)


def test_exec_call_nests_exactly_max_nesting_levels() -> None:
    """A chain of Exec.call children may be MAX_NESTING deep; one more is refused, typed."""
    from stele.actors.executor import MAX_NESTING, NestingLimitExceeded

    chain = ('effect Exec { call(target: String, arg: Int) -> Int }\n'
             'def down(n: Int) -> Int ! {Exec} = '
             'if n == 0 then 0 else perform Exec.call("down", n - 1) + 1\n')
    policy = Policy.allow("exec", "Exec")

    async def scenario(rt: Any) -> None:
        await rt.store(chain)
        ok = await rt.execute("down", [MAX_NESTING], policy=policy, memo=False)
        assert ok.value == MAX_NESTING  # the deepest child runs at depth MAX_NESTING
        with pytest.raises(NestingLimitExceeded) as info:
            await rt.execute("down", [MAX_NESTING + 1], policy=policy, memo=False)
        assert info.value.depth == MAX_NESTING + 1

    run("sim", scenario)
