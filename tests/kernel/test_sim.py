"""The kernel under SimEnv: observer calls are a deterministic function of the seed."""

from __future__ import annotations

import stele
from stele import ChildSpec, Restart, Strategy, Supervisor
from stele.sim import SimEnv


class CrashSome(stele.KernelObserver):
    """Records every hook call and crashes 1 delivery in 10, drawn from the seed."""

    def __init__(self, env: SimEnv) -> None:
        self.rng = env.rng.fork("crashes")
        self.env = env
        self.events: list[tuple[object, ...]] = []

    def on_deliver(self, actor: str, message: object) -> None:
        self.events.append((self.env.now_ns(), "deliver", actor, message))

    def should_crash(self, actor: str, message: object) -> bool:
        crash = self.rng.chance(1, 10)
        if crash:
            self.events.append((self.env.now_ns(), "crash", actor, message))
        return crash

    def on_failure(self, actor: str, exc: BaseException) -> None:
        self.events.append((self.env.now_ns(), "failure", actor, type(exc).__name__))

    def on_restart(self, actor: str) -> None:
        self.events.append((self.env.now_ns(), "restart", actor))

    def on_stop(self, actor: str) -> None:
        self.events.append((self.env.now_ns(), "stop", actor))


class Node(stele.Actor):
    """Sleeps a random virtual time per message, then forwards or answers."""

    def __init__(self, peers: tuple[str, ...]) -> None:
        self.peers = peers
        self.count = 0

    async def on_start(self) -> None:
        self.rng = self.env.rng.fork(self.name)

    async def receive(self, message: object) -> object:
        assert isinstance(message, int)
        self.count += 1
        await self.env.sleep(self.rng.randrange(1, 50) / 1000)
        if message > 0 and self.peers:
            peer = self.system.lookup(self.rng.choice(self.peers))
            try:
                peer.tell(message - 1)
            except stele.KernelError:
                pass
        return self.count


async def workload(env: SimEnv, observer: CrashSome) -> list[object]:
    replies: list[object] = []
    names = ("n0", "n1", "n2", "n3")
    async with stele.ActorSystem(env, observer=observer, intensity=1000) as system:
        group = ChildSpec("group", Supervisor, (
            [ChildSpec(n, Node, (names,), Restart.PERMANENT) for n in names[2:]],
            Strategy.ONE_FOR_ALL, 1000, 1.0))
        await system.spawn("top", Supervisor, [
            ChildSpec("n0", Node, (names,)), ChildSpec("n1", Node, (names,)), group,
        ], Strategy.REST_FOR_ONE, 1000, 1.0)
        for i in range(40):
            try:
                target = system.lookup(names[i % 4])  # absent while its subtree restarts
                replies.append(await target.ask(5, timeout=0.2))
            except (stele.RemoteError, stele.AskTimeout, stele.ActorStopped,
                    stele.ActorNotFound) as exc:
                replies.append(type(exc).__name__)
    return replies


def run_seed(seed: int) -> tuple[list[tuple[object, ...]], list[object]]:
    env = SimEnv(seed)
    observer = CrashSome(env)
    replies = env.run(workload, env, observer)
    return observer.events, replies


def test_same_seed_same_observer_trace() -> None:
    events, replies = run_seed(11)
    assert any(e[1] == "crash" for e in events) and any(e[1] == "restart" for e in events)
    assert "RemoteError" in replies
    assert run_seed(11) == (events, replies)


def test_the_trace_depends_on_the_seed() -> None:
    traces = {repr(run_seed(seed)) for seed in range(4)}
    assert len(traces) > 1
