"""The ``timers`` workload: periodic timer-driven traffic over the sim network.

``sensors`` tasks each wake on a fixed period (drawn per sensor, or
``--opt period-ms=N`` for all) and send a
numbered reading to a collector, which acknowledges it.  It measures how fast
the simulator turns virtual time into events (one simulated hour is
``--ticks 3600000``) and checks three invariants continuously:

* ``timer-exact``: every periodic wake-up happens at exactly its scheduled
  virtual nanosecond (timers neither drift nor fire early);
* ``no-future-reading``: the collector never sees a reading a sensor has not
  sent yet;
* ``no-reply-without-request``: a sensor never gets an ack for a reading it
  did not send.
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from .._core._random import SeededRandom
from ._workload import SimContext, register_workload

__all__ = ["TimersWorkload", "Reading", "ReadingAck"]


@dataclass(frozen=True, slots=True)
class Reading:
    """Sensor -> collector: reading number ``n`` taken at ``taken_ns``."""

    sensor: int
    n: int
    taken_ns: int


@dataclass(frozen=True, slots=True)
class ReadingAck:
    """Collector -> sensor: reading ``n`` arrived."""

    sensor: int
    n: int


def _opt_int(options: dict[str, str], key: str, default: int, lo: int, hi: int) -> int:
    from ._errors import SimError

    if key not in options:
        return default
    try:
        v = int(options[key])
    except ValueError:
        raise SimError(f"workload option {key}={options[key]!r} must be an integer") from None
    if not lo <= v <= hi:
        raise SimError(f"workload option {key}={v} must be in [{lo}, {hi}]")
    return v


class TimersWorkload:
    """Periodic sensors and a collector (see the module docstring)."""

    def __init__(self) -> None:
        self.sensors = 20
        self.periods_ms: list[int] = []

    def configure(self, rng: SeededRandom, options: dict[str, str]) -> list[tuple[str, str]]:
        self.sensors = _opt_int(options, "sensors", rng.choice((5, 20, 50)), 1, 10_000)
        self.periods_ms = [rng.choice((10, 50, 100, 250, 1000)) for _ in range(self.sensors)]
        if "period-ms" in options:
            fixed = _opt_int(options, "period-ms", 0, 1, 10**9)
            self.periods_ms = [fixed] * self.sensors
        unknown = set(options) - {"sensors", "period-ms"}
        if unknown:
            from ._errors import SimError

            raise SimError(f"unknown timers option(s): {', '.join(sorted(unknown))}")
        return [("sensors", str(self.sensors)), ("periods-ms", ",".join(map(str, sorted(set(self.periods_ms)))))]

    async def run(self, ctx: SimContext) -> None:
        env = ctx.env
        net = ctx.net
        sent: list[int] = [0] * self.sensors
        collector = net.endpoint("collector")
        endpoints = [net.endpoint(f"sensor-{i}") for i in range(self.sensors)]

        async def sensor(i: int) -> None:
            period = self.periods_ms[i] * 1_000_000
            ep = endpoints[i]
            next_ns = env.now_ns() + period
            while next_ns < ctx.end_ns:
                await env.sleep_ns(next_ns - env.now_ns())
                if env.now_ns() != next_ns:
                    ctx.violation("timer-exact", f"sensor {i} woke at {env.now_ns()}ns, due {next_ns}ns")
                    return
                ctx.passed("timer-exact")
                sent[i] += 1
                ep.send("collector", Reading(i, sent[i], next_ns))
                ctx.bump("readings")
                next_ns += period

        async def sensor_acks(i: int) -> None:
            ep = endpoints[i]
            while True:
                _src, msg = await ep.receive()
                assert isinstance(msg, ReadingAck)
                if msg.sensor != i or not 1 <= msg.n <= sent[i]:
                    ctx.violation("no-reply-without-request", f"sensor {i} got ack {msg}")
                    return
                ctx.passed("no-reply-without-request")

        async def collect() -> None:
            while True:
                src, msg = await collector.receive()
                assert isinstance(msg, Reading)
                if msg.n > sent[msg.sensor] or msg.taken_ns > env.now_ns():
                    ctx.violation("no-future-reading", f"{msg} at {env.now_ns()}ns")
                    return
                ctx.passed("no-future-reading")
                ctx.bump("acks")
                collector.send(src, ReadingAck(msg.sensor, msg.n))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(collect)
            for i in range(self.sensors):
                nursery.start_soon(sensor_acks, i)
            async with trio.open_nursery() as sensors:
                for i in range(self.sensors):
                    sensors.start_soon(sensor, i)
            await env.sleep_ns(ctx.end_ns - env.now_ns())
            nursery.cancel_scope.cancel()


register_workload("timers", TimersWorkload, "periodic sensors -> collector over the lossy sim network")
