"""Supervision: strategies, restart types, intensity, escalation, trees."""

from __future__ import annotations

import anyio
import pytest

import stele
from stele import ChildSpec, Restart, Strategy, Supervisor

from ._support import Recorder, backends, run, system


class Worker(stele.Actor):
    """Logs its lifecycle; crashes on "crash", exits normally on "exit"."""

    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.log = log
        self.seen = 0

    async def on_start(self) -> None:
        self.log.append(("start", self.name))

    async def on_stop(self) -> None:
        self.log.append(("stop", self.name))

    async def receive(self, message: object) -> object:
        if message == "crash":
            raise RuntimeError(f"{self.name} crashed")
        if message == "exit":
            self.stop_self()
            return "exiting"
        self.seen += 1
        return self.seen


def specs(log: list[tuple[str, str]], *names: str, restart: Restart = Restart.PERMANENT,
          **restarts: Restart) -> list[ChildSpec]:
    return [ChildSpec(n, Worker, (log,), restarts.get(n, restart)) for n in names]


async def crash(sys_: stele.ActorSystem, name: str) -> None:
    with pytest.raises(stele.RemoteError):
        await sys_.lookup(name).ask("crash")
    await anyio.sleep(0.001)  # let the supervisor act


def since(log: list[tuple[str, str]], mark: int) -> list[tuple[str, str]]:
    return log[mark:]


@backends
@pytest.mark.parametrize(
    "strategy, expected",
    [
        (Strategy.ONE_FOR_ONE, [("stop", "b"), ("start", "b")]),
        (Strategy.ONE_FOR_ALL,
         [("stop", "b"), ("stop", "c"), ("stop", "a"),
          ("start", "a"), ("start", "b"), ("start", "c")]),
        (Strategy.REST_FOR_ONE,
         [("stop", "b"), ("stop", "c"), ("start", "b"), ("start", "c")]),
    ],
)
def test_strategies(backend: str, strategy: Strategy, expected: list[tuple[str, str]]) -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        async with system() as sys_:
            await sys_.spawn("sup", Supervisor, specs(log, "a", "b", "c"), strategy)
            assert log == [("start", "a"), ("start", "b"), ("start", "c")]
            for name in "abc":
                await sys_.lookup(name).ask("hello")
            mark = len(log)
            await crash(sys_, "b")
            assert since(log, mark) == expected
            restarted = {name for kind, name in expected if kind == "start"}
            for name in "abc":
                # restarted children have fresh state, the others kept theirs
                assert await sys_.lookup(name).ask("hello") == (1 if name in restarted else 2)
                assert sys_.stats(name).restarts == (1 if name in restarted else 0)
            mark = len(log)
        assert since(log, mark) == [("stop", "c"), ("stop", "b"), ("stop", "a")]

    run(backend, main)


@backends
def test_restart_types_one_for_one(backend: str) -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        async with system() as sys_:
            children = specs(log, "p1", "p2", "tr1", "tr2", "te1", "te2",
                             p1=Restart.PERMANENT, p2=Restart.PERMANENT,
                             tr1=Restart.TRANSIENT, tr2=Restart.TRANSIENT,
                             te1=Restart.TEMPORARY, te2=Restart.TEMPORARY)
            await sys_.spawn("sup", Supervisor, children, Strategy.ONE_FOR_ONE, 100, 1.0)
            for name in ("p1", "tr1", "te1"):
                await crash(sys_, name)
            for name in ("p2", "tr2", "te2"):
                assert await sys_.lookup(name).ask("exit") == "exiting"
            await anyio.sleep(0.01)
            # permanent: always back; transient: back after a crash only;
            # temporary: never back
            assert sys_.names() == ["p1", "p2", "sup", "tr1"]
            for name in ("p1", "p2", "tr1"):
                assert sys_.stats(name).restarts == 1

    run(backend, main)


@backends
def test_temporary_child_under_one_for_all(backend: str) -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        async with system() as sys_:
            children = specs(log, "a", "t", "b", t=Restart.TEMPORARY)
            await sys_.spawn("sup", Supervisor, children, Strategy.ONE_FOR_ALL)
            mark = len(log)
            # a temporary child's crash restarts nobody
            await crash(sys_, "t")
            assert since(log, mark) == [("stop", "t")]
            assert sys_.names() == ["a", "b", "sup"]
            # a temporary sibling of a crashing child is stopped and removed
            await sys_.spawn("t2", Worker, log, restart=Restart.TEMPORARY, supervisor="sup")
            mark = len(log)
            await crash(sys_, "a")
            assert since(log, mark) == [
                ("stop", "a"), ("stop", "t2"), ("stop", "b"), ("start", "a"), ("start", "b")]
            assert sys_.names() == ["a", "b", "sup"]

    run(backend, main)


@backends
def test_intensity_window_on_virtual_time(backend: str) -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        async with system(intensity=0) as sys_:
            await sys_.spawn("sup", Supervisor, specs(log, "w"), Strategy.ONE_FOR_ONE, 2, 10.0)
            # crashes spread wider than the period never add up
            for _ in range(5):
                await crash(sys_, "w")
                await anyio.sleep(5.01)
            assert sys_.stats("w").restarts == 5

    run(backend, main)


@backends
def test_escalation_to_the_top_fails_the_system_block(backend: str) -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        rec = Recorder()
        reached: list[str] = []
        with pytest.raises(stele.SupervisorGaveUp) as info:
            async with system(intensity=0, observer=rec) as sys_:
                await sys_.spawn("sup", Supervisor, specs(log, "a", "w"),
                                 Strategy.ONE_FOR_ONE, 2, 10.0)
                for _ in range(3):
                    await crash(sys_, "w")
                reached.append("after crashes")
                await anyio.sleep(1)
                reached.append("not reached")
        top = info.value
        assert top.supervisor == "<root>" and top.intensity == 0
        inner = top.cause
        assert isinstance(inner, stele.SupervisorGaveUp)
        assert (inner.supervisor, inner.intensity, inner.period) == ("sup", 2, 10.0)
        assert isinstance(inner.cause, RuntimeError)
        assert "not reached" not in reached
        # the subtree was stopped in reverse order when "sup" gave up
        assert log[-2:] == [("stop", "w"), ("stop", "a")]
        assert ("failure", "sup", "SupervisorGaveUp") in rec.events
        assert rec.events[-1] == ("failure", "<root>", "SupervisorGaveUp")

    run(backend, main)


@backends
def test_nested_supervisor_restarts_its_subtree(backend: str) -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        async with system() as sys_:
            inner = ChildSpec("inner", Supervisor, (specs(log, "x", "y"), Strategy.ONE_FOR_ALL, 0))
            top = [ChildSpec("first", Worker, (log,)), inner, ChildSpec("last", Worker, (log,))]
            await sys_.spawn("top", Supervisor, top, Strategy.REST_FOR_ONE, 5, 1.0)
            assert log == [("start", n) for n in ("first", "x", "y", "last")]
            y = sys_.lookup("y")
            mark = len(log)
            with pytest.raises(stele.RemoteError):
                await y.ask("crash")
            await anyio.sleep(0.001)
            # inner (intensity 0) gives up: stops x; top (rest_for_one) stops
            # "last", then restarts inner (which starts x, y) and "last"
            assert since(log, mark) == [
                ("stop", "y"), ("stop", "x"), ("stop", "last"),
                ("start", "x"), ("start", "y"), ("start", "last")]
            assert await y.ask("hi") == 1  # the old ref follows the name
            assert sys_.stats("inner").restarts == 1
            mark = len(log)
        assert since(log, mark) == [("stop", "last"), ("stop", "y"), ("stop", "x"),
                                    ("stop", "first")]

    run(backend, main)


class BadOnRestart(stele.Actor):
    """Starts once; every later start fails (counted against the intensity)."""

    def __init__(self, starts: list[int]) -> None:
        self.starts = starts

    async def on_start(self) -> None:
        self.starts.append(1)
        if len(self.starts) > 1:
            raise RuntimeError("cannot restart")

    async def receive(self, message: object) -> object:
        raise RuntimeError("crash")


@backends
def test_failing_restarts_count_towards_intensity(backend: str) -> None:
    async def main() -> None:
        starts: list[int] = []
        with pytest.raises(stele.SupervisorGaveUp) as info:
            async with system(intensity=0) as sys_:
                await sys_.spawn("sup", Supervisor, [ChildSpec("b", BadOnRestart, (starts,))],
                                 Strategy.ONE_FOR_ONE, 3, 10.0)
                sys_.lookup("b").tell("go")
                await anyio.sleep(1)
        # 1 initial start + 3 allowed restarts, then the 4th failure gives up
        assert len(starts) == 4
        assert isinstance(info.value.cause, stele.SupervisorGaveUp)
        assert isinstance(info.value.cause.cause, stele.ActorStartError)

    run(backend, main)


def test_supervisor_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="intensity=-1"):
        Supervisor((), Strategy.ONE_FOR_ONE, -1)
    with pytest.raises(ValueError, match="period=0"):
        Supervisor((), Strategy.ONE_FOR_ONE, 1, 0)
    with pytest.raises(stele.ActorNameTaken):
        Supervisor([ChildSpec("a", Worker), ChildSpec("a", Worker)])
    with pytest.raises(ValueError, match="capacity=0"):
        ChildSpec("a", Worker, capacity=0)
