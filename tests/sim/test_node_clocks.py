"""Per-node wall clocks under simulation: steps and drift per node, exact and replayable."""

from __future__ import annotations

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.sim import SimEnv, SimError
from stele.sim._clockfaults import CLOCK_FAULT_EVERY_NS, STEP_UNITS_NS, draw_step, install_clock_faults
from stele.sim._faults import Faults, Ratio, draw_faults
from stele.sim._runner import RunConfig, run_simulation
from stele.sim._workload import SimContext
from stele._core._random import SeededRandom


def test_each_node_reads_its_own_wall_clock_and_tasks_inherit_the_node() -> None:
    env = SimEnv(0)
    seen: dict[str, int] = {}

    async def read(tag: str) -> None:
        seen[tag] = env.wall_ns()

    async def main() -> None:
        base = env.wall_ns()
        with env.node("a"):
            env.jump_wall_clock(-3_000_000_000, "a")
            async with trio.open_nursery() as nursery:
                nursery.start_soon(read, "child-of-a")  # started on a: runs on a
            seen["a"] = env.wall_ns()
            with env.node("b"):
                seen["b"] = env.wall_ns()  # the innermost node wins
        seen["default"] = env.wall_ns()
        seen["base"] = base

    env.run(main)
    assert seen["a"] == seen["child-of-a"] == seen["base"] - 3_000_000_000
    assert seen["b"] == seen["default"] == seen["base"]
    assert env.nodes == ("a", "b")
    assert env.wall_reads == {"": 2, "a": 2, "b": 1}
    kinds = [(k, f) for _, k, f in env.trace.recent() if k.startswith("clock.")]
    assert kinds == [("clock.node", ("a",)), ("clock.jump", (-3_000_000_000, "a")),
                     ("clock.node", ("b",))]


def test_per_node_drift_leaves_other_nodes_and_monotonic_time_alone() -> None:
    env = SimEnv(0)

    async def main() -> None:
        with env.node("fast"):
            pass
        env.set_wall_drift(10_000, "fast")  # 1 % fast
        w_fast, w_default = env.node_wall_ns("fast"), env.node_wall_ns()
        await env.sleep(2)
        assert env.node_wall_ns("fast") - w_fast == 2_020_000_000
        assert env.node_wall_ns() - w_default == 2_000_000_000
        assert env.now_ns() == 2_000_000_000
        with env.node("fast"):
            assert env.wall_drift_ppm == 10_000
        assert env.wall_drift_ppm == 0

    env.run(main)


@pytest.mark.parametrize("bad", ["", 3, None])
def test_a_node_needs_a_name(bad: object) -> None:
    with pytest.raises(SimError, match="node name"):
        with SimEnv(0).node(bad):  # type: ignore[arg-type]
            pass


def test_faulting_an_unknown_node_is_a_sim_error() -> None:
    env = SimEnv(0)
    with pytest.raises(SimError, match="no simulated node 'x'"):
        env.jump_wall_clock(1, "x")
    with pytest.raises(SimError, match="no simulated node 'x'"):
        env.set_wall_drift(1, "x")


def test_a_step_is_1_to_9_units_either_way() -> None:
    rng = SeededRandom(1)
    steps = [draw_step(rng) for _ in range(2000)]
    assert any(s < 0 for s in steps) and any(s > 0 for s in steps)
    for s in steps:
        assert any(abs(s) % u == 0 and 1 <= abs(s) // u <= 9 for u in STEP_UNITS_NS), s
    assert {next(u for u in STEP_UNITS_NS if abs(s) // u <= 9) for s in steps} == set(STEP_UNITS_NS)


def test_swarm_draws_clock_steps_on_some_seeds_and_the_flag_overrides() -> None:
    drawn = [draw_faults(SeededRandom(s)).clock_step for s in range(100)]
    assert Ratio(0, 1) in drawn and any(drawn)
    assert draw_faults(SeededRandom(0), {"clock-step": "1/3"}).clock_step == Ratio(1, 3)
    assert not draw_faults(SeededRandom(0), enabled=False).clock_step


def _schedule(seed: int, nodes: list[tuple[int, str]], step: Ratio, drift: int,
              end_ns: int) -> tuple[list[tuple[int, str, tuple[object, ...]]], list[int]]:
    """Run a bare SimEnv with clock faults and nodes appearing at the given times.

    Returns the clock events of the trace, and every ``now_ns`` seen by a
    reader task that polls each node's wall clock every 37 ms.
    """
    env = SimEnv(seed, trace_all=True)
    ctx = SimContext(env, Faults(clock_step=step, clock_drift_ppm=drift),
                     end_ns=end_ns, tick_ns=1_000_000)
    install_clock_faults(ctx, ctx.faults)
    monotonic: list[int] = []

    async def appear(at_ns: int, name: str) -> None:
        await env.sleep_ns(at_ns)
        with env.node(name):
            pass

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for at_ns, name in nodes:
                nursery.start_soon(appear, at_ns, name)
            while env.now_ns() < end_ns:
                monotonic.append(env.now_ns())
                for n in ("",) + env.nodes:
                    env.node_wall_ns(n)
                await env.sleep_ns(37_000_000)

    env.run(main)
    assert env.trace.all is not None
    return [e for e in env.trace.all if e[1].startswith("clock.")], monotonic


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32),
       nodes=st.lists(st.tuples(st.integers(0, 1_500_000_000),
                                st.sampled_from(["a", "b", "daemon", "n.1"])), max_size=4),
       step=st.sampled_from([Ratio(1, 20), Ratio(1, 2), Ratio(1, 1)]),
       drift=st.sampled_from([0, 100, 50_000, 999_999]))
def test_clock_schedules_are_deterministic_per_seed_and_monotonic_time_never_goes_back(
        seed: int, nodes: list[tuple[int, str]], step: Ratio, drift: int) -> None:
    end_ns = 2 * 10**9
    events, monotonic = _schedule(seed, nodes, step, drift, end_ns)
    again, monotonic_again = _schedule(seed, nodes, step, drift, end_ns)
    assert events == again and monotonic == monotonic_again
    assert monotonic == sorted(monotonic)
    assert [t for t, _, _ in events] == sorted(t for t, _, _ in events)
    for t, kind, fields in events:
        if kind == "clock.jump":  # each node draws every 100 ms from its appearance
            assert fields[0] != 0
            assert (t - (min(a for a, n in nodes if n == fields[1]) if len(fields) > 1 else 0)
                    ) % CLOCK_FAULT_EVERY_NS == 0
        if kind == "clock.drift":
            assert -drift <= fields[0] <= drift  # type: ignore[operator]
    # A node's schedule is a function of the seed, its name and when it appeared:
    # the other nodes change nothing of it.
    first: dict[str, int] = {}
    for at_ns, name in nodes:
        first[name] = min(at_ns, first.get(name, at_ns))
    for name, at_ns in first.items():
        alone, _ = _schedule(seed, [(at_ns, name)], step, drift, end_ns)
        mine = [e for e in events if e[2][-1:] == (name,) and e[1] != "clock.node"]
        assert mine == [e for e in alone if e[2][-1:] == (name,) and e[1] != "clock.node"]


def test_node_clock_faults_run_the_daemon_workload_and_its_checkers_hold() -> None:
    cfg = RunConfig(seed=3, ticks=1500, workload="daemon",
                    faults={"clock-step": "1/2", "clock-drift-ppm": "50000"})
    a, b = run_simulation(cfg), run_simulation(cfg)
    assert a.ok, a.error
    assert a.trace_hash == b.trace_hash
    assert a.stats["clock_steps"] >= 10
    assert a.stats.get("wall_reads.daemon", 0) >= 1  # the daemon stamped with its own clock
    calm = run_simulation(RunConfig(seed=3, ticks=1500, workload="daemon",
                                    faults={"clock-step": "0", "clock-drift-ppm": "0"}))
    assert calm.ok, calm.error
    assert calm.trace_hash != a.trace_hash  # the steps are in the trace


def test_execution_workload_under_clock_steps_keeps_its_checkers() -> None:
    for seed in (1, 2):
        r = run_simulation(RunConfig(seed=seed, workload="execution",
                                     faults={"clock-step": "1/2"}))
        assert r.ok, r.error
        assert r.stats["clock_steps"] >= 1
        assert r.stats.get("wall_reads.default", 0) >= 1
