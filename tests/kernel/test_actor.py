"""Actor, ActorRef and ActorSystem basics, on trio and asyncio."""

from __future__ import annotations

import math

import anyio
import pytest

import stele

from ._support import Recorder, backends, run, system


class Counter(stele.Actor):
    def __init__(self, start: int = 0) -> None:
        self.n = start

    async def receive(self, message: object) -> object:
        if message == "get":
            return self.n
        if message == "boom":
            raise ValueError("boom")
        assert isinstance(message, int)
        self.n += message
        return self.n


class Log(stele.Actor):
    def __init__(self, log: list[object]) -> None:
        self.log = log

    async def on_start(self) -> None:
        self.log.append(("start", self.name))

    async def on_stop(self) -> None:
        self.log.append(("stop", self.name))

    async def receive(self, message: object) -> object:
        self.log.append((self.name, message))
        return message


class Gate(stele.Actor):
    """Blocks on the first message until ``gate`` is set."""

    def __init__(self, gate: anyio.Event, log: list[object]) -> None:
        self.gate = gate
        self.log = log

    async def receive(self, message: object) -> object:
        await self.gate.wait()
        self.log.append(message)
        return message


class Sleeper(stele.Actor):
    async def receive(self, message: object) -> object:
        assert isinstance(message, (int, float))
        await anyio.sleep(message)
        return message


@backends
def test_tell_and_ask(backend: str) -> None:
    async def main() -> None:
        async with system() as sys_:
            ref = await sys_.spawn("counter", Counter, 5)
            for _ in range(10):
                ref.tell(1)
            assert await ref.ask("get") == 15
            assert await ref.ask(3) == 18
            stats = ref.stats()
            assert (stats.name, stats.handled, stats.failures, stats.queue_depth) == (
                "counter", 12, 0, 0)
            assert sys_.lookup("counter") == ref
            assert sys_.names() == ["counter"]

    run(backend, main)


@backends
def test_remote_error_is_boxed_and_actor_restarts(backend: str) -> None:
    async def main() -> None:
        async with system() as sys_:
            ref = await sys_.spawn("counter", Counter, 7)
            await ref.ask(1)
            with pytest.raises(stele.RemoteError) as info:
                await ref.ask("boom")
            err = info.value
            assert err.actor == "counter"
            assert err.message_type is str
            assert isinstance(err.cause, ValueError) and err.__cause__ is err.cause
            assert "counter" in str(err) and "str" in str(err) and "boom" in str(err)
            # permanent under the root supervisor: restarted with fresh state
            assert await ref.ask("get") == 7
            stats = ref.stats()
            assert (stats.failures, stats.restarts) == (1, 1)

    run(backend, main)


@backends
def test_ask_timeout_on_virtual_time(backend: str) -> None:
    async def main() -> None:
        async with system() as sys_:
            ref = await sys_.spawn("sleeper", Sleeper)
            start = anyio.current_time()
            with pytest.raises(stele.AskTimeout) as info:
                await ref.ask(100, timeout=2.5)
            assert anyio.current_time() - start == pytest.approx(2.5, abs=1e-6)
            assert info.value.actor == "sleeper" and info.value.message_type is int
            assert info.value.timeout == 2.5
            # a shorter deadline registered while the reaper sleeps still fires first
            async with anyio.create_task_group() as tg:
                tg.start_soon(ref.ask, 1000, math.inf)
                await anyio.sleep(0)
                with pytest.raises(stele.AskTimeout):
                    await ref.ask(1, timeout=7.0)
                with pytest.raises(stele.AskTimeout):
                    await ref.ask(1, timeout=0.5)
                tg.cancel_scope.cancel()
            assert await ref.ask(0.25, timeout=math.inf) == 0.25

    run(backend, main)


@backends
def test_default_ask_timeout_applies(backend: str) -> None:
    async def main() -> None:
        async with system(ask_timeout=3.0) as sys_:
            ref = await sys_.spawn("sleeper", Sleeper)
            start = anyio.current_time()
            with pytest.raises(stele.AskTimeout):
                await ref.ask(10)
            assert anyio.current_time() - start == pytest.approx(3.0, abs=1e-6)

    run(backend, main)


@backends
def test_mailbox_full_and_backpressure(backend: str) -> None:
    async def main() -> None:
        log: list[object] = []
        gate = anyio.Event()
        async with system() as sys_:
            ref = await sys_.spawn("gate", Gate, gate, log, capacity=3)
            ref.tell(0)
            await anyio.sleep(0.01)  # the actor takes message 0 and blocks
            for i in (1, 2, 3):
                ref.tell(i)
            with pytest.raises(stele.MailboxFull) as info:
                ref.tell(99)
            assert info.value.capacity == 3 and info.value.actor == "gate"
            sent: list[int] = []

            async def sender() -> None:
                for i in (4, 5):
                    await ref.send(i)
                    sent.append(i)

            async with anyio.create_task_group() as tg:
                tg.start_soon(sender)
                await anyio.sleep(1)
                assert sent == []  # blocked: no space
                assert ref.stats().queue_depth == 3
                gate.set()
            assert sent == [4, 5]
            await ref.ask("sync")
            assert log == [0, 1, 2, 3, 4, 5, "sync"]

    run(backend, main)


@backends
def test_shutdown_stops_in_reverse_order_and_fails_pending_asks(backend: str) -> None:
    async def main() -> None:
        log: list[object] = []
        outcome: list[object] = []
        gate = anyio.Event()
        async with anyio.create_task_group() as outer:
            async with system() as sys_:
                for name in ("a", "b", "c"):
                    await sys_.spawn(name, Log, log)
                blocked = await sys_.spawn("blocked", Gate, gate, [])

                async def asker(msg: object) -> None:
                    try:
                        await blocked.ask(msg, timeout=math.inf)
                    except stele.ActorStopped as exc:
                        outcome.append((msg, exc.actor))

                outer.start_soon(asker, "in-hand")
                await anyio.sleep(0.01)
                outer.start_soon(asker, "queued")
                await anyio.sleep(0.01)
            assert log[-3:] == [("stop", "c"), ("stop", "b"), ("stop", "a")]
            assert log[:3] == [("start", "a"), ("start", "b"), ("start", "c")]
            with pytest.raises(stele.ActorStopped):
                blocked.tell("late")
        assert sorted(outcome, key=str) == [("in-hand", "blocked"), ("queued", "blocked")]

    run(backend, main)


@backends
def test_stop_with_and_without_drain(backend: str) -> None:
    async def main() -> None:
        log: list[object] = []
        gate = anyio.Event()
        async with system() as sys_:
            ref = await sys_.spawn("drainer", Gate, gate, log)
            for i in range(4):
                ref.tell(i)
            async with anyio.create_task_group() as tg:
                tg.start_soon(lambda: sys_.stop("drainer", drain=True))
                await anyio.sleep(1)
                gate.set()
            assert log == [0, 1, 2, 3]
            with pytest.raises(stele.ActorNotFound):
                sys_.lookup("drainer")
            gate2 = anyio.Event()
            log2: list[object] = []
            ref2 = await sys_.spawn("canceller", Gate, gate2, log2)
            for i in range(4):
                ref2.tell(i)
            await anyio.sleep(0.01)
            await sys_.stop(ref2)
            assert log2 == [] and sys_.names() == []
            # the name is free again
            again = await sys_.spawn("canceller", Counter)
            assert await again.ask("get") == 0
            assert await ref2.ask("get") == 0  # a ref follows its name

    run(backend, main)


@backends
def test_names_are_unique_and_lookup_fails_typed(backend: str) -> None:
    async def main() -> None:
        async with system() as sys_:
            await sys_.spawn("x", Counter)
            with pytest.raises(stele.ActorNameTaken) as taken:
                await sys_.spawn("x", Counter)
            assert taken.value.name == "x"
            with pytest.raises(stele.ActorNotFound) as missing:
                sys_.lookup("nope")
            assert missing.value.name == "nope"
            with pytest.raises(stele.ActorNotFound):
                await sys_.stop("nope")

    run(backend, main)


class FailsToStart(stele.Actor):
    async def on_start(self) -> None:
        raise RuntimeError("no start")


@backends
def test_failed_start_is_typed_and_frees_the_name(backend: str) -> None:
    async def main() -> None:
        async with system() as sys_:
            with pytest.raises(stele.ActorStartError) as info:
                await sys_.spawn("bad", FailsToStart)
            assert info.value.actor == "bad" and isinstance(info.value.cause, RuntimeError)
            assert sys_.names() == []
            await sys_.spawn("bad", Counter)

    run(backend, main)


@backends
def test_observer_hooks_and_injected_crash(backend: str) -> None:
    async def main() -> None:
        rec = Recorder(crash_on=("crash",))
        async with system(observer=rec) as sys_:
            ref = await sys_.spawn("c", Counter)
            ref.tell(1)
            with pytest.raises(stele.RemoteError) as info:
                await ref.ask("crash")
            assert isinstance(info.value.cause, stele.InjectedCrash)
            assert await ref.ask("get") == 0
        assert rec.events == [
            ("deliver", "c", 1),
            ("deliver", "c", "crash"),
            ("failure", "c", "InjectedCrash"),
            ("restart", "c", None),
            ("deliver", "c", "get"),
            ("stop", "c", None),
            ("stop", "<root>", None),
        ]

    run(backend, main)


class Picky(stele.Actor):
    def __init__(self) -> None:
        self.total = 0

    async def receive(self, message: object) -> object:
        if not isinstance(message, int) or message < 0:
            raise stele.RejectMessage(ValueError(f"bad amount {message!r}"))
        self.total += message
        return self.total


@backends
def test_reject_message_fails_the_ask_without_a_crash(backend: str) -> None:
    async def main() -> None:
        async with system() as sys_:
            ref = await sys_.spawn("picky", Picky)
            await ref.ask(5)
            ref.tell(-1)
            with pytest.raises(stele.RemoteError) as info:
                await ref.ask(-3)
            assert isinstance(info.value.cause, ValueError) and "-3" in str(info.value)
            assert await ref.ask(1) == 6  # state kept
            stats = ref.stats()
            assert (stats.failures, stats.restarts, stats.handled) == (0, 0, 4)

    run(backend, main)


class SelfStopper(stele.Actor):
    async def receive(self, message: object) -> object:
        self.stop_self()
        return "bye"


@backends
def test_stop_self_is_a_normal_exit(backend: str) -> None:
    async def main() -> None:
        async with system() as sys_:
            temp = await sys_.spawn("t", SelfStopper, restart=stele.Restart.TRANSIENT)
            assert await temp.ask("x") == "bye"
            await anyio.sleep(0.01)
            assert sys_.names() == []  # transient + normal exit: removed
            perm = await sys_.spawn("p", SelfStopper)
            assert await perm.ask("x") == "bye"
            await anyio.sleep(0.01)
            assert perm.stats().restarts == 1 and perm.stats().running

    run(backend, main)


@backends
def test_body_exception_propagates_unwrapped(backend: str) -> None:
    async def main() -> None:
        log: list[object] = []
        with pytest.raises(KeyError):
            async with system() as sys_:
                await sys_.spawn("a", Log, log)
                raise KeyError("body")
        assert log == [("start", "a"), ("stop", "a")]

    run(backend, main)


def _live_tasks(backend: str) -> int:
    """Tasks alive in this run, besides the calling one."""
    if backend == "asyncio":
        import asyncio

        return len(asyncio.all_tasks()) - 1
    import trio

    def count(task: trio.lowlevel.Task) -> int:
        return 1 + sum(count(t) for n in task.child_nurseries for t in n.child_tasks)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    return count(root) - 2  # the root task and the test's own task


class Forever(stele.Actor):
    def __init__(self, log: list[object]) -> None:
        self.log = log

    async def receive(self, message: object) -> object:
        try:
            await anyio.sleep_forever()
        finally:
            self.log.append(("cancelled", message))
        return None


@backends
def test_nothing_outlives_the_system_block(backend: str) -> None:
    async def main() -> None:
        log: list[object] = []
        before = _live_tasks(backend)
        async with system() as sys_:
            sup = ChildSpecs = [stele.ChildSpec(f"f{i}", Forever, (log,)) for i in range(3)]
            await sys_.spawn("sup", stele.Supervisor, ChildSpecs)
            for i in range(3):
                sys_.lookup(f"f{i}").tell(i)
            ref = await sys_.spawn("c", Counter)
            await ref.ask(1, timeout=100.0)  # leaves a deadline in the reaper
            assert _live_tasks(backend) > before + 4
            del sup
        assert sorted(log, key=str) == [("cancelled", 0), ("cancelled", 1), ("cancelled", 2)]
        assert _live_tasks(backend) == before
        with pytest.raises(stele.ActorStopped):
            await ref.ask(1)

    run(backend, main)


@backends
def test_stopping_a_supervisor_stops_its_subtree_in_reverse(backend: str) -> None:
    async def main() -> None:
        log: list[object] = []
        async with system() as sys_:
            children = [stele.ChildSpec(n, Log, (log,)) for n in ("a", "b", "c")]
            await sys_.spawn("sup", stele.Supervisor, children)
            await sys_.spawn("d", Log, log, supervisor="sup")
            with pytest.raises(stele.KernelError, match="not a Supervisor"):
                await sys_.spawn("e", Log, log, supervisor="d")
            with pytest.raises(stele.RemoteError, match="takes no user messages"):
                await sys_.lookup("sup").ask("hello")
            assert sys_.stats("sup").failures == 0  # rejected, not crashed
            del log[:]
            await sys_.stop("sup")
            assert log == [("stop", n) for n in "dcba"]
            assert sys_.names() == []

    run(backend, main)
