"""Supervision against an executable model of OTP semantics.

Hypothesis draws a strategy, the children's restart types, an intensity and
a schedule of operations (crash a child, make it exit normally, stop it,
let time pass); after every operation the live children and their restart
counts must equal the model's, and the supervisor must give up (failing the
system, whose root tolerates no restart) exactly when the model says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stele
from stele import ChildSpec, Restart, Strategy, Supervisor

from ._support import backends, run, system

NAMES = ("c0", "c1", "c2", "c3")
SETTLE = 0.001


class Child(stele.Actor):
    async def receive(self, message: object) -> object:
        if message == "crash":
            raise RuntimeError("crash")
        if message == "exit":
            self.stop_self()
        return None


@dataclass
class Model:
    strategy: Strategy
    restart: dict[str, Restart]
    intensity: int
    period: float
    alive: list[str] = field(default_factory=lambda: list(NAMES))
    restarts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NAMES, 0))
    times: list[float] = field(default_factory=list)
    now: float = 0.0
    gave_up: bool = False

    def exit(self, name: str, abnormal: bool) -> None:
        kind = self.restart[name]
        if kind is Restart.TEMPORARY or (kind is Restart.TRANSIENT and not abnormal):
            self.alive.remove(name)
            return
        self.times = [t for t in self.times if self.now - t < self.period] + [self.now]
        if len(self.times) > self.intensity:
            self.gave_up = True
            return
        index = self.alive.index(name)
        if self.strategy is Strategy.ONE_FOR_ONE:
            affected = [name]
        elif self.strategy is Strategy.ONE_FOR_ALL:
            affected = list(self.alive)
        else:
            affected = self.alive[index:]
        for other in affected:
            if other != name and self.restart[other] is Restart.TEMPORARY:
                self.alive.remove(other)
            else:
                self.restarts[other] += 1


OP = st.one_of(
    st.tuples(st.sampled_from(["crash", "exit", "stop"]), st.sampled_from(NAMES)),
    st.tuples(st.just("sleep"), st.sampled_from([0.3, 1.2])),
)


@backends
@settings(max_examples=100)
@given(
    strategy=st.sampled_from(list(Strategy)),
    restarts=st.lists(st.sampled_from(list(Restart)), min_size=4, max_size=4),
    intensity=st.integers(0, 4),
    period=st.sampled_from([1.0, 5.0]),
    ops=st.lists(OP, max_size=16),
)
def test_supervisor_matches_the_otp_model(
    backend: str,
    strategy: Strategy,
    restarts: list[Restart],
    intensity: int,
    period: float,
    ops: list[tuple[str, object]],
) -> None:
    model = Model(strategy, dict(zip(NAMES, restarts)), intensity, period)
    done: list[int] = []

    async def main() -> None:
        async with system(intensity=0) as sys_:
            specs = [ChildSpec(n, Child, (), r) for n, r in zip(NAMES, restarts)]
            await sys_.spawn("sup", Supervisor, specs, strategy, intensity, period)
            for index, (op, arg) in enumerate(ops):
                if op == "sleep":
                    assert isinstance(arg, float)
                    await anyio.sleep(arg * period)
                    model.now += arg * period
                else:
                    assert isinstance(arg, str)
                    if arg not in model.alive:
                        continue
                    if op == "crash":
                        with pytest.raises(stele.RemoteError):
                            await sys_.lookup(arg).ask("crash")
                        model.exit(arg, abnormal=True)
                    elif op == "exit":
                        await sys_.lookup(arg).ask("exit")
                        model.exit(arg, abnormal=False)
                    else:
                        await sys_.stop(arg)
                        model.alive.remove(arg)
                    done.append(index)
                    if model.gave_up:
                        await anyio.sleep(SETTLE)
                        raise AssertionError("the supervisor should have given up")
                    await anyio.sleep(SETTLE)
                    model.now += SETTLE
                assert [n for n in sys_.names() if n != "sup"] == sorted(model.alive)
                for name in model.alive:
                    assert sys_.stats(name).restarts == model.restarts[name], name

    if model_gives_up(model, ops):
        with pytest.raises(stele.SupervisorGaveUp) as info:
            run(backend, main)
        assert isinstance(info.value.cause, stele.SupervisorGaveUp)
        assert model.gave_up
    else:
        run(backend, main)
        assert not model.gave_up


def model_gives_up(model: Model, ops: list[tuple[str, object]]) -> bool:
    """Dry-run a copy of the model over ``ops``: does the supervisor give up?"""
    probe = Model(model.strategy, dict(model.restart), model.intensity, model.period)
    for op, arg in ops:
        if op == "sleep":
            assert isinstance(arg, float)
            probe.now += arg * probe.period
        elif arg in probe.alive:
            assert isinstance(arg, str)
            if op == "stop":
                probe.alive.remove(arg)
            else:
                probe.exit(arg, abnormal=op == "crash")
            if probe.gave_up:
                return True
            probe.now += SETTLE
    return False
