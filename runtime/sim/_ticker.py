"""The ``ticker`` workload: timer-driven traffic through the actor kernel.

``actors`` ticker actors live under a one-for-one supervisor (crashable).  A
timer task per actor wakes every ``period-ms`` of virtual time and ``tell``\\ s
it a numbered :class:`Tick`; every ``ask-every``-th tick the actor ``ask``\\ s a
higher-numbered peer for its count.  Checkers:

* ``timer-exact`` -- every timer wakes at exactly its due nanosecond;
* ``tick-order`` -- an actor handles its ticks in increasing order (mailbox
  FIFO; a crash loses only the message in hand);
* ``ask-reply-matches`` -- every ``ask`` reply answers the question asked.
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from .._core._actor import Actor
from .._core._actor_errors import KernelError
from .._core._random import SeededRandom
from .._core._supervise import ChildSpec, Strategy, Supervisor
from .._core._system import ActorSystem
from ._errors import SimError
from ._timers import _opt_int
from ._workload import SimContext, register_workload

__all__ = ["TickerWorkload", "Tick", "Ping", "Pong"]


@dataclass(frozen=True, slots=True)
class Tick:
    """Timer -> actor: tick number ``n``, due at ``due_ns``."""

    n: int
    due_ns: int


@dataclass(frozen=True, slots=True)
class Ping:
    """Actor -> peer (ask): what is your count?  ``nonce`` ties the reply."""

    nonce: int


@dataclass(frozen=True, slots=True)
class Pong:
    """The reply to :class:`Ping`."""

    nonce: int
    count: int


class Ticker(Actor):
    """Counts its ticks, checks their order, sometimes asks a peer."""

    def __init__(self, index: int, peers: int, ask_every: int, ctx: SimContext) -> None:
        self.index = index
        self.peers = peers
        self.ask_every = ask_every
        self.ctx = ctx
        self.last = 0
        self.count = 0
        self.nonce = 0

    async def receive(self, message: object) -> object:
        ctx = self.ctx
        if isinstance(message, Ping):
            return Pong(message.nonce, self.count)
        assert isinstance(message, Tick)
        if message.n <= self.last:
            ctx.violation("tick-order", f"{self.name} got tick {message.n} after {self.last}")
            return None
        ctx.passed("tick-order")
        self.last = message.n
        self.count += 1
        higher = self.peers - self.index - 1
        if higher > 0 and message.n % self.ask_every == 0:
            # Only ask higher-numbered peers: asks form a DAG, never a cycle
            # (two actors asking each other would wait out their timeouts).
            peer = self.index + 1 + message.n % higher
            self.nonce += 1
            nonce = self.index * 1_000_000_000 + self.nonce
            try:
                reply = await self.system.lookup(f"ticker-{peer}").ask(Ping(nonce), timeout=0.5)
            except KernelError:
                return None
            if not isinstance(reply, Pong) or reply.nonce != nonce:
                ctx.violation("ask-reply-matches", f"{self.name} asked {nonce}, got {reply}")
            else:
                ctx.passed("ask-reply-matches")
        return None


class TickerWorkload:
    """Timer tasks driving actors (see the module docstring)."""

    def __init__(self) -> None:
        self.actors = 10
        self.period_ms = 100
        self.ask_every = 10

    def configure(self, rng: SeededRandom, options: dict[str, str]) -> list[tuple[str, str]]:
        unknown = set(options) - {"actors", "period-ms", "ask-every"}
        if unknown:
            raise SimError(f"unknown ticker option(s): {', '.join(sorted(unknown))}")
        self.actors = _opt_int(options, "actors", rng.choice((2, 10, 30)), 1, 10_000)
        self.period_ms = _opt_int(options, "period-ms", rng.choice((10, 100, 1000)), 1, 10**9)
        self.ask_every = _opt_int(options, "ask-every", rng.choice((1, 10, 100)), 1, 10**9)
        return [("actors", str(self.actors)), ("period-ms", str(self.period_ms)),
                ("ask-every", str(self.ask_every))]

    async def run(self, ctx: SimContext) -> None:
        env = ctx.env
        obs = ctx.observer
        obs.crashable = lambda name: name.startswith("ticker-")
        specs = [
            ChildSpec(f"ticker-{i}", Ticker, (i, self.actors, self.ask_every, ctx))
            for i in range(self.actors)
        ]
        period = self.period_ms * 1_000_000

        async def timer(i: int) -> None:
            ref = system.lookup(f"ticker-{i}")
            due = env.now_ns() + period
            n = 0
            while due <= ctx.end_ns:
                await env.sleep_ns(due - env.now_ns())
                if env.now_ns() != due:
                    ctx.violation("timer-exact", f"timer {i} woke at {env.now_ns()}, due {due}")
                    return
                ctx.passed("timer-exact")
                n += 1
                try:
                    ref.tell(Tick(n, due))
                except KernelError:
                    ctx.bump("ticks_dropped")
                due += period

        async with ActorSystem(env, observer=obs, intensity=10) as system:
            await system.spawn("tickers", Supervisor, specs, Strategy.ONE_FOR_ONE, 1_000_000, 1.0)
            async with trio.open_nursery() as nursery:
                for i in range(self.actors):
                    nursery.start_soon(timer, i)


register_workload("ticker", TickerWorkload, "timer tasks tell actors under a supervisor; actors ask peers")
