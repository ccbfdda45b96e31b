"""Run kernel tests on both anyio backends, on virtual time.

trio runs with ``MockClock(autojump_threshold=0)``; asyncio runs on an event
loop whose clock is virtual and jumps forward whenever the loop would block
on a timer, so timeouts and sleeps cost no real time on either backend.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import pytest
import sniffio
import trio.testing

import stele

T = TypeVar("T")

BACKENDS = ("trio", "asyncio")
backends = pytest.mark.parametrize("backend", BACKENDS)


class _AutojumpSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    loop: VirtualTimeLoop

    def select(self, timeout: float | None = None) -> list[Any]:
        events = super().select(0)
        if events or timeout == 0:
            return list(events)
        if timeout is None:
            return list(super().select(None))
        self.loop.virtual_now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on virtual time that autojumps to the next timer."""

    def __init__(self) -> None:
        self.virtual_now = 0.0
        selector = _AutojumpSelector()
        selector.loop = self
        super().__init__(selector)

    def time(self) -> float:
        return self.virtual_now


class LoopEnv(stele.RealEnv):
    """RealEnv whose clock is the event loop's (virtual in these tests)."""

    def now_ns(self) -> int:
        return round(anyio.current_time() * 1_000_000_000)

    def wall_ns(self) -> int:
        return self.now_ns()


def run(backend: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``fn(*args)`` on ``backend`` with a virtual clock; check the backend."""

    async def checked() -> T:
        assert sniffio.current_async_library() == backend
        return await fn(*args)

    if backend == "trio":
        return anyio.run(
            checked, backend="trio",
            backend_options={"clock": trio.testing.MockClock(autojump_threshold=0)},
        )
    return anyio.run(checked, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop})


def system(**kwargs: Any) -> stele.ActorSystem:
    return stele.ActorSystem(LoopEnv(seed=0), **kwargs)


class Recorder(stele.KernelObserver):
    """Records every observer call; crashes on messages listed in ``crash_on``."""

    def __init__(self, crash_on: tuple[object, ...] = ()) -> None:
        self.events: list[tuple[str, str, object]] = []
        self.crash_on = crash_on

    def on_deliver(self, actor: str, message: object) -> None:
        self.events.append(("deliver", actor, message))

    def should_crash(self, actor: str, message: object) -> bool:
        return message in self.crash_on

    def on_failure(self, actor: str, exc: BaseException) -> None:
        self.events.append(("failure", actor, type(exc).__name__))

    def on_restart(self, actor: str) -> None:
        self.events.append(("restart", actor, None))

    def on_stop(self, actor: str) -> None:
        self.events.append(("stop", actor, None))
