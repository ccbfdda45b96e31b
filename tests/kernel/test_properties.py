"""Hypothesis properties of the kernel, on trio and asyncio.

* Random interleavings of tell/send/ask from several senders into a small
  mailbox: per-sender FIFO order holds and nothing is lost or duplicated.
* Random crashes: exactly the crashing asks fail (boxed), the mailbox
  survives the restarts, counters agree.
* Restart intensity: for random crash/sleep schedules on virtual time, the
  supervisor gives up exactly when a model of the OTP sliding window says so.
"""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stele
from stele import ChildSpec, Strategy, Supervisor

from ._support import backends, run, system


class Collect(stele.Actor):
    def __init__(self, log: list[object]) -> None:
        self.log = log

    async def receive(self, message: object) -> object:
        if message == "crash":
            raise RuntimeError("crash")
        self.log.append(message)
        return message


OPS = st.lists(st.tuples(st.sampled_from(["tell", "send", "ask"]), st.booleans()), max_size=25)


@backends
@settings(max_examples=30)
@given(senders=st.lists(OPS, min_size=1, max_size=4), capacity=st.integers(1, 6))
def test_per_sender_fifo_and_no_loss(
    backend: str, senders: list[list[tuple[str, bool]]], capacity: int
) -> None:
    async def main() -> list[object]:
        log: list[object] = []
        async with system() as sys_:
            ref = await sys_.spawn("c", Collect, log, capacity=capacity)

            async def sender(index: int, ops: list[tuple[str, bool]]) -> None:
                for seq, (op, pause) in enumerate(ops):
                    message = (index, seq)
                    if op == "tell":
                        try:
                            ref.tell(message)
                        except stele.MailboxFull:
                            await ref.send(message)
                    elif op == "send":
                        await ref.send(message)
                    else:
                        assert await ref.ask(message) == message
                    if pause:
                        await anyio.sleep(0)

            async with anyio.create_task_group() as tg:
                for index, ops in enumerate(senders):
                    tg.start_soon(sender, index, ops)
            await ref.ask("sync")
            assert ref.stats().handled == sum(map(len, senders)) + 1
        return log

    log = run(backend, main)
    assert log[-1] == "sync"
    for index, ops in enumerate(senders):
        assert [m[1] for m in log[:-1] if isinstance(m, tuple) and m[0] == index] == list(
            range(len(ops)))
    assert len(log) == sum(map(len, senders)) + 1


@backends
@settings(max_examples=30)
@given(script=st.lists(st.tuples(st.sampled_from(["ok", "crash"]), st.booleans()), max_size=30))
def test_crashes_fail_exactly_their_asks_and_lose_nothing_else(
    backend: str, script: list[tuple[str, bool]]
) -> None:
    async def main() -> None:
        log: list[object] = []
        async with system(intensity=1000) as sys_:
            ref = await sys_.spawn("c", Collect, log)
            asks: list[tuple[int, str]] = []
            for seq, (kind, ask) in enumerate(script):
                message: object = "crash" if kind == "crash" else seq
                if ask:
                    try:
                        await ref.ask(message)
                        asks.append((seq, "ok"))
                    except stele.RemoteError as exc:
                        assert exc.actor == "c" and isinstance(exc.cause, RuntimeError)
                        asks.append((seq, "crash"))
                else:
                    ref.tell(message)
            await ref.ask("sync")
            assert asks == [(seq, kind) for seq, (kind, ask) in enumerate(script) if ask]
            assert log[:-1] == [seq for seq, (kind, _) in enumerate(script) if kind == "ok"]
            crashes = sum(kind == "crash" for kind, _ in script)
            stats = ref.stats()
            assert (stats.failures, stats.restarts) == (crashes, crashes)
            assert stats.handled == len(script) - crashes + 1

    run(backend, main)


# 0.0 is a crash; other values are sleeps as fractions of the period
STEP = st.sampled_from([0.0, 0.0, 0.3, 0.6, 1.2])


def model_gives_up_at(steps: list[float], intensity: int, period: float) -> int | None:
    """Index (among crashes) of the crash that makes the supervisor give up.

    ``0.0`` is a crash (followed by the test's 1 ms settle sleep), any other
    value a sleep of that fraction of the period.
    """
    now = 0.0
    times: list[float] = []
    crash = 0
    for step in steps:
        if step == 0.0:
            times = [t for t in times if now - t < period] + [now]
            if len(times) > intensity:
                return crash
            crash += 1
            now += 0.001
        else:
            now += step * period
    return None


@backends
@settings(max_examples=60)
@given(
    steps=st.lists(STEP, max_size=20),
    intensity=st.integers(0, 2),
    period=st.sampled_from([1.0, 3.0]),
)
def test_intensity_matches_the_sliding_window_model(
    backend: str, steps: list[float], intensity: int, period: float
) -> None:
    crashes_done = 0

    async def main() -> None:
        nonlocal crashes_done
        async with system(intensity=0) as sys_:
            await sys_.spawn("sup", Supervisor, [ChildSpec("w", Collect, ([],))],
                             Strategy.ONE_FOR_ONE, intensity, period)
            await anyio.sleep(1000)  # start on a clean window, away from t=0
            ref = sys_.lookup("w")
            for step in steps:
                if step == 0.0:
                    with pytest.raises(stele.RemoteError):
                        await ref.ask("crash")
                    crashes_done += 1
                    await anyio.sleep(0.001)
                else:
                    await anyio.sleep(step * period)
            assert sys_.stats("w").restarts == crashes_done

    expected = model_gives_up_at(steps, intensity, period)
    if expected is None:
        run(backend, main)
    else:
        with pytest.raises(stele.SupervisorGaveUp) as info:
            run(backend, main)
        assert info.value.cause.supervisor == "sup"  # type: ignore[attr-defined]
        assert crashes_done == expected + 1
