"""Deferred replies (Actor.defer_reply): an ask answered by a later message."""

from __future__ import annotations

import anyio
import pytest

import stele

from ._support import backends, run, system


class Gate(stele.Actor):
    """``("wait", k)`` is answered when ``("open", k)`` arrives; meanwhile other asks proceed."""

    def __init__(self) -> None:
        self.waiting: dict[str, stele.Reply] = {}

    async def receive(self, message: object) -> object:
        assert isinstance(message, tuple)
        kind, key = message
        if kind == "wait":
            self.waiting[key] = self.defer_reply()
            return "ignored"
        if kind == "open":
            self.waiting.pop(key).ok(f"opened {key}")
            return "done"
        if kind == "refuse":
            self.waiting.pop(key).fail(ValueError(f"refused {key}"))
            return "done"
        if kind == "pending":
            return self.waiting[key].pending
        raise AssertionError(message)


@backends
def test_deferred_reply_arrives_later_and_actor_keeps_serving(backend: str) -> None:
    async def main() -> None:
        async with system() as sys:
            gate = await sys.spawn("gate", Gate)
            results: dict[str, object] = {}

            async def waiter(key: str) -> None:
                try:
                    results[key] = await gate.ask(("wait", key), timeout=10)
                except stele.RemoteError as exc:
                    results[key] = exc

            async with anyio.create_task_group() as tg:
                tg.start_soon(waiter, "a")
                tg.start_soon(waiter, "b")
                await anyio.sleep(1)
                assert results == {}  # both still waiting
                assert await gate.ask(("pending", "a")) is True
                assert await gate.ask(("open", "b")) == "done"
                assert await gate.ask(("refuse", "a")) == "done"
            assert results["b"] == "opened b"
            err = results["a"]
            assert isinstance(err, stele.RemoteError)
            assert isinstance(err.cause, ValueError) and err.actor == "gate"

    run(backend, main)


@backends
def test_deferred_reply_never_sent_times_out(backend: str) -> None:
    async def main() -> None:
        async with system() as sys:
            gate = await sys.spawn("gate", Gate)
            with pytest.raises(stele.AskTimeout):
                await gate.ask(("wait", "x"), timeout=2)
            assert await gate.ask(("pending", "x")) is False

    run(backend, main)


@backends
def test_defer_on_tell_is_harmless(backend: str) -> None:
    async def main() -> None:
        async with system() as sys:
            gate = await sys.spawn("gate", Gate)
            gate.tell(("wait", "t"))
            assert await gate.ask(("pending", "t")) is False
            assert await gate.ask(("open", "t")) == "done"

    run(backend, main)
