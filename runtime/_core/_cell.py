"""The cell: one named actor's mailbox, counters and running incarnation.

A cell outlives the incarnations its supervisor restarts (so the mailbox and
the references to it survive a restart; only the message being handled when
it crashed is lost) and is closed when the actor leaves its supervisor or its
supervisor's incarnation ends.  An incarnation is one task in the system's
task group, with its own cancel scope so it can be stopped alone.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Callable

import anyio
import anyio.abc
import anyio.lowlevel

from ._actor_errors import (
    ActorStartError,
    ActorStopped,
    InjectedCrash,
    RejectMessage,
    RemoteError,
)
from ._mailbox import _Ask, _Sys

if TYPE_CHECKING:
    from ._actor import Actor, ActorStats
    from ._supervise import ChildSpec
    from ._system import ActorSystem

__all__: list[str] = []

# The actor loop yields to the scheduler after this many messages handled
# without waiting, so a busy actor cannot starve the others.
BATCH = 64

DRAIN = _Sys("drain")


class _Cell:
    __slots__ = (
        "system",
        "name",
        "factory",
        "args",
        "spec",
        "capacity",
        "parent",
        "queue",
        "waiter",
        "space",
        "closed",
        "running",
        "incarnation",
        "scope",
        "done",
        "behaviour",
        "children",
        "handled",
        "failures",
        "restarts",
        "stopping",
        "exit_requested",
        "current",
    )

    def __init__(
        self,
        system: ActorSystem,
        name: str,
        factory: Callable[..., Actor],
        args: tuple[Any, ...],
        capacity: int,
        parent: _Cell | None,
        spec: ChildSpec | None,
    ) -> None:
        self.system = system
        self.name = name
        self.factory = factory
        self.args = args
        self.spec = spec
        self.capacity = capacity
        self.parent = parent
        self.queue: deque[Any] = deque()
        self.waiter: anyio.Event | None = None
        self.space: deque[anyio.Event] = deque()
        self.closed = False
        self.running = False
        self.incarnation = 0
        self.scope: anyio.CancelScope | None = None
        self.done: anyio.Event | None = None
        self.behaviour: Actor | None = None
        self.children: list[_Cell] = []
        self.handled = 0
        self.failures = 0
        self.restarts = 0
        self.stopping = False
        self.exit_requested = False
        self.current: _Ask | None = None

    # -- mailbox ------------------------------------------------------------
    def post_system(self, message: object) -> None:
        """Queue a kernel message, ignoring capacity."""
        self.queue.append(message)
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter.set()

    def wake_space(self) -> None:
        space = self.space
        while space:
            event = space.popleft()
            if not event.is_set():
                event.set()
                return

    def stats(self) -> ActorStats:
        from ._actor import ActorStats

        return ActorStats(
            name=self.name,
            handled=self.handled,
            failures=self.failures,
            restarts=self.restarts,
            queue_depth=len(self.queue),
            running=self.running,
        )

    # -- lifecycle ----------------------------------------------------------
    def close(self) -> None:
        """Remove the actor for good: unregister, fail queued asks, wake senders."""
        if self.closed:
            return
        self.closed = True
        self.system._unregister(self)
        queue = self.queue
        while queue:
            item = queue.popleft()
            if type(item) is _Ask:
                item.fail(ActorStopped(self.name, "was stopped before handling the message"))
        for event in self.space:
            event.set()
        self.space.clear()

    async def terminate(self, drain: bool = False) -> None:
        """Stop the running incarnation (if any) and wait until it has ended.

        ``drain`` lets it handle what is already queued first; otherwise the
        message in hand is cancelled.  The parent does not see this as an exit.
        """
        done = self.done
        if done is None or done.is_set():
            return
        self.stopping = True
        if drain:
            self.post_system(DRAIN)
        elif self.scope is not None:
            self.scope.cancel()
        await done.wait()

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """One incarnation: construct, ``on_start``, serve, ``on_stop``.

        Reports ``started`` once ``on_start`` returned; a failed start is
        raised to the starter as :class:`ActorStartError`.  A later failure
        or exit is reported to the parent supervisor, never raised.
        """
        system = self.system
        observer = system._observer
        self.incarnation += 1
        done = self.done = system._new_event()
        self.stopping = False
        self.exit_requested = False
        scope = self.scope = anyio.CancelScope()
        behaviour: Actor | None = None
        failure: BaseException | None = None
        started = False
        try:
            with scope:
                try:
                    behaviour = self.factory(*self.args)
                    behaviour._bind(self)
                    self.behaviour = behaviour
                    await behaviour.on_start()
                except Exception as exc:
                    raise ActorStartError(self.name, exc) from exc
                started = True
                self.running = True
                task_status.started()
                await self._serve(behaviour)
        except Exception as exc:
            failure = exc
        finally:
            self.running = False
            self.waiter = None
            current = self.current
            if current is not None:
                self.current = None
                current.fail(ActorStopped(self.name, "was stopped while handling the message"))
            with anyio.CancelScope(shield=True):
                await self._stop_children()
                if started and behaviour is not None:
                    try:
                        await behaviour.on_stop()
                    except Exception as exc:
                        if failure is None:
                            failure = exc
            self.behaviour = None
            done.set()
        if failure is not None:
            self.failures += 1
            observer.on_failure(self.name, failure)
        else:
            observer.on_stop(self.name)
        if not started:
            raise failure if failure is not None else ActorStopped(
                self.name, "was stopped while starting"
            )
        if self.stopping:
            return
        if self.parent is not None:
            self.parent.post_system(_Sys("exit", (self, self.incarnation, failure)))
        elif failure is not None:
            system._escalate(failure)

    async def _stop_children(self) -> None:
        children = self.children
        while children:
            child = children.pop()
            await child.terminate()
            child.close()

    async def _serve(self, behaviour: Actor) -> None:
        queue = self.queue
        receive = behaviour.receive
        system = self.system
        observer = system._observer if system._observing else None
        name = self.name
        budget = BATCH
        while True:
            if not queue:
                if self.exit_requested:
                    return
                waiter = system._new_event()
                self.waiter = waiter
                await waiter.wait()
                budget = BATCH
                continue
            message = queue.popleft()
            if self.space:
                self.wake_space()
            cls = type(message)
            ask: _Ask | None
            if cls is _Ask:
                ask = message
                message = ask.message
                cls = type(message)
            else:
                ask = None
            if cls is _Sys:
                if message is DRAIN:
                    return
                await behaviour._on_system(message, ask)
                continue
            if observer is not None:
                observer.on_deliver(name, message)
                if observer.should_crash(name, message):
                    crash = InjectedCrash(name, cls)
                    if ask is not None:
                        ask.fail(RemoteError(name, cls, crash))
                    raise crash
                if system.env.buggify("actor.slow"):  # BUGGIFY: a slow actor, 2 ms per message
                    await system.env.sleep(0.002)
            self.current = ask
            try:
                result = await receive(message)
            except RejectMessage as exc:
                if ask is not None and self.current is ask:
                    ask.fail(RemoteError(name, cls, exc.cause))
            except Exception as exc:
                if ask is not None and self.current is ask:
                    ask.fail(RemoteError(name, cls, exc))
                raise
            else:
                # current is None when receive deferred the reply (Actor.defer_reply).
                if ask is not None and self.current is ask:
                    ask.ok(result)
            self.current = None
            self.handled += 1
            if self.exit_requested:
                return
            budget -= 1
            if not budget:
                budget = BATCH
                await anyio.lowlevel.checkpoint()
