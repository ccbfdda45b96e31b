"""Clock faults of a run: wall-clock jumps, steps and drift, per simulated node.

Every node (the default node ``""`` and each one a workload enters with
:meth:`SimEnv.node`) has its own wall clock; monotonic time is shared and
never faulted.  Per node, from the moment it exists until the end of the
traffic window:

* ``clock-step`` -- every 100 ms of virtual time, with that ratio, the
  node's wall clock steps forward or backward by 1-9 ms, s, min or h (a
  daemon started with a wrong RTC, an operator's ``date -s``, an NTP step);
* ``clock-drift-ppm`` -- the node's rate is drawn in [-bound, +bound] ppm and
  redrawn every 1-10 virtual seconds (a slewing NTP daemon, a warming
  oscillator);
* ``clock-jump`` -- the default node only, as before nodes existed: every
  100 ms, with that ratio, a jump of up to +-10 s.

Each node's schedule draws from its own stream, ``rng.fork("clock.step."
+ node)`` and ``rng.fork("clock.drift." + node)`` (the default node's drift
keeps its original stream, ``"clock.drift"``), so it is a function of the
seed, the node's name and the virtual time the node first appeared: a node
created later, or another node's faults, change nothing of it.
"""

from __future__ import annotations

from .._core._random import SeededRandom
from ._faults import Faults, Ratio
from ._workload import SimContext

__all__ = ["install_clock_faults", "CLOCK_FAULT_EVERY_NS", "STEP_UNITS_NS"]

#: The virtual period of clock-jump and clock-step draws (100 ms).
CLOCK_FAULT_EVERY_NS = 100_000_000
#: A step is 1-9 of one of these units, either way.
STEP_UNITS_NS = (1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000)


def draw_step(rng: SeededRandom) -> int:
    """One clock step in ns: 1-9 ms, s, min or h, forward or backward."""
    unit = rng.choice(STEP_UNITS_NS)
    size = rng.randrange(1, 10) * unit
    return size if rng.chance(1, 2) else -size


def install_clock_faults(ctx: SimContext, faults: Faults) -> None:
    """Schedule ``faults``' clock faults on ``ctx.env``: the default node now, named nodes as they appear."""
    env = ctx.env
    end_ns = ctx.end_ns

    if faults.clock_jump:
        jump_rng = env.rng.fork("clock")
        ratio: Ratio = faults.clock_jump

        def maybe_jump() -> None:
            if ratio.hit(jump_rng):
                # Up to +-10 s; the monotonic clock never jumps.
                env.jump_wall_clock(jump_rng.randrange(-10_000, 10_001) * 1_000_000)
                ctx.bump("clock_jumps")
            if env.now_ns() + CLOCK_FAULT_EVERY_NS < end_ns:
                env.call_later(CLOCK_FAULT_EVERY_NS, maybe_jump)

        env.call_later(CLOCK_FAULT_EVERY_NS, maybe_jump)

    def drift(node: str) -> None:
        drift_rng = env.rng.fork("clock.drift." + node if node else "clock.drift")
        bound = faults.clock_drift_ppm

        def redraw() -> None:
            # A new rate every so often: NTP slewing, a thermal change of the oscillator.
            env.set_wall_drift(drift_rng.randrange(-bound, bound + 1), node)
            ctx.bump("clock_drift_changes")
            delay = drift_rng.randrange(1, 11) * 1_000_000_000
            if env.now_ns() + delay < end_ns:
                env.call_later(delay, redraw)

        redraw()

    def steps(node: str) -> None:
        step_rng = env.rng.fork("clock.step." + node)
        step_ratio: Ratio = faults.clock_step

        def maybe_step() -> None:
            if step_ratio.hit(step_rng):
                env.jump_wall_clock(draw_step(step_rng), node)
                ctx.bump("clock_steps")
            if env.now_ns() + CLOCK_FAULT_EVERY_NS < end_ns:
                env.call_later(CLOCK_FAULT_EVERY_NS, maybe_step)

        if env.now_ns() + CLOCK_FAULT_EVERY_NS < end_ns:
            env.call_later(CLOCK_FAULT_EVERY_NS, maybe_step)

    if faults.clock_drift_ppm:
        drift("")

    def on_new_node(node: str) -> None:
        if faults.clock_drift_ppm and env.now_ns() < end_ns:
            drift(node)
        if faults.clock_step:
            steps(node)

    env.on_new_node.append(on_new_node)
    if faults.clock_step:
        steps("")
