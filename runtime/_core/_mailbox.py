"""Mailbox plumbing: reply slots for ``ask``, system messages, ask deadlines.

The hot paths (``tell``, ``ask``, the actor loop) avoid per-message channels
and per-ask cancel scopes: a message is appended to a ``deque``; an ask is a
small :class:`_Ask` slot with one event the asker parks on; ask deadlines are
kept by one reaper task per system in FIFO queues (one per distinct timeout,
so deadlines in a queue are non-decreasing) instead of a cancel scope per ask.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Callable

import anyio

from ._actor_errors import AskTimeout

if TYPE_CHECKING:
    from ._env import Env

__all__: list[str] = []

PENDING = 0
DONE = 1
FAILED = 2
ABANDONED = 3

EventFactory = Callable[[], anyio.Event]


class _Ask:
    """The reply slot of one ``ask``: the asker parks on ``event``.

    ``state`` goes PENDING -> DONE | FAILED (``value`` is the reply or the
    exception to raise) or PENDING -> ABANDONED (the asker was cancelled).
    Only the first transition counts, so late replies are dropped.
    """

    __slots__ = ("message", "event", "state", "value", "actor", "deadline", "timeout")

    def __init__(self, message: object, event: anyio.Event, actor: str) -> None:
        self.message = message
        self.event = event
        self.state = PENDING
        self.value: Any = None
        self.actor = actor
        self.deadline = 0
        self.timeout = 0.0

    def ok(self, value: object) -> None:
        if self.state == PENDING:
            self.state = DONE
            self.value = value
            self.event.set()

    def fail(self, exc: BaseException) -> None:
        if self.state == PENDING:
            self.state = FAILED
            self.value = exc
            self.event.set()


class _Sys:
    """A kernel-internal message (child exit, start/stop child, drain marker).

    System messages bypass the mailbox capacity and are never shown to the
    observer nor counted as handled.
    """

    __slots__ = ("kind", "payload")

    def __init__(self, kind: str, payload: object = None) -> None:
        self.kind = kind
        self.payload = payload


class _Deadlines:
    """Expires asks whose deadline passed, from one reaper task.

    Each distinct timeout has a FIFO of asks; since ``now`` never decreases,
    deadlines within a FIFO are sorted, so the reaper only looks at fronts.
    Answered asks are dropped from the fronts as new asks arrive (amortised
    O(1)), so a busy system does not accumulate them.
    """

    def __init__(self, env: Env, new_event: EventFactory) -> None:
        self._env = env
        self._new_event = new_event
        self._queues: dict[int, deque[_Ask]] = {}
        self._wake: anyio.Event | None = None
        self._target: int | None = None
        self._sleep_scope: anyio.CancelScope | None = None

    def add(self, ask: _Ask, timeout: float, timeout_ns: int) -> None:
        ask.timeout = timeout
        ask.deadline = deadline = self._env.now_ns() + timeout_ns
        dq = self._queues.get(timeout_ns)
        if dq is None:
            dq = self._queues[timeout_ns] = deque()
        else:
            while dq and dq[0].state != PENDING:
                dq.popleft()
        dq.append(ask)
        target = self._target
        if target is None:
            wake = self._wake
            if wake is not None:
                self._wake = None
                wake.set()
        elif deadline < target and self._sleep_scope is not None:
            self._sleep_scope.cancel()

    async def run(self) -> None:
        """The reaper loop; runs until cancelled with its system."""
        env = self._env
        while True:
            now = env.now_ns()
            earliest: int | None = None
            for key in list(self._queues):
                dq = self._queues[key]
                while dq and (dq[0].state != PENDING or dq[0].deadline <= now):
                    ask = dq.popleft()
                    if ask.state == PENDING:
                        ask.fail(AskTimeout(ask.actor, type(ask.message), ask.timeout))
                if not dq:
                    del self._queues[key]
                elif earliest is None or dq[0].deadline < earliest:
                    earliest = dq[0].deadline
            if earliest is None:
                wake = self._new_event()
                self._wake = wake
                await wake.wait()
            else:
                self._target = earliest
                with anyio.CancelScope() as scope:
                    self._sleep_scope = scope
                    await env.sleep(max(earliest - now, 1) / 1_000_000_000)
                self._target = None
                self._sleep_scope = None
