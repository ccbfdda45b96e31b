"""Wall-clock drift under simulation: a rate fault, continuous, exact, replayable."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.sim import SimEnv, SimError
from stele.sim._faults import draw_faults
from stele.sim._runner import RunConfig, run_simulation
from stele._core._random import SeededRandom


def _advance(env: SimEnv, ns: int) -> None:
    env._now += ns  # the clock is the simulator's: step it directly, no trio run needed


def test_a_drifting_wall_clock_runs_fast_or_slow_by_its_rate() -> None:
    env = SimEnv(0)
    w0 = env.wall_ns()
    env.set_wall_drift(1_000)          # 1000 ppm fast
    _advance(env, 10**9)
    assert env.wall_ns() - w0 == 10**9 + 10**6
    env.set_wall_drift(-500_000)       # now half speed
    w1 = env.wall_ns()
    _advance(env, 10**9)
    assert env.wall_ns() - w1 == 5 * 10**8
    assert env.now_ns() == 2 * 10**9  # monotonic time never drifts
    assert env.wall_drift_ppm == -500_000


@pytest.mark.parametrize("bad", [-1_000_000, 1_000_001, 1.5, True])
def test_an_impossible_drift_is_a_sim_error(bad: object) -> None:
    with pytest.raises(SimError, match="clock drift"):
        SimEnv(0).set_wall_drift(bad)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**12), st.integers(-999_999, 1_000_000)),
                max_size=20))
def test_rate_changes_never_make_the_wall_clock_jump(steps: list[tuple[int, int]]) -> None:
    env = SimEnv(0)
    for advance, ppm in steps:
        before = env.wall_ns()
        _advance(env, advance)
        moved = env.wall_ns() - before
        assert moved == env.now_ns() * env.wall_drift_ppm // 10**6 + env.now_ns() - (
            (env.now_ns() - advance) * env.wall_drift_ppm // 10**6 + env.now_ns() - advance)
        at = env.wall_ns()
        env.set_wall_drift(ppm)
        assert env.wall_ns() == at


def test_swarm_draws_drift_on_some_seeds_and_the_flag_overrides() -> None:
    drawn = [draw_faults(SeededRandom(s)).clock_drift_ppm for s in range(100)]
    assert 0 in drawn and any(drawn)
    assert draw_faults(SeededRandom(0), {"clock-drift-ppm": "7"}).clock_drift_ppm == 7
    assert draw_faults(SeededRandom(0), enabled=False).clock_drift_ppm == 0


def test_a_drifting_run_replays_and_keeps_its_checkers() -> None:
    cfg = RunConfig(seed=5, ticks=3000, workload="bank", faults={"clock-drift-ppm": "50000"})
    a, b = run_simulation(cfg), run_simulation(cfg)
    assert a.ok, a.error
    assert a.trace_hash == b.trace_hash
    assert a.stats.get("clock_drift_changes", 0) >= 1
    plain = run_simulation(RunConfig(seed=5, ticks=3000, workload="bank",
                                     faults={"clock-drift-ppm": "0"}))
    assert plain.trace_hash != a.trace_hash  # the drift is in the trace
