"""Actors and references to them.

An :class:`Actor` handles one message at a time in its own task, so its
state needs no locks; the outside world reaches it only through an
:class:`ActorRef`: ``tell`` (fire and forget, non-blocking), ``send`` (waits
for mailbox space) and ``ask`` (waits for the reply, with a deadline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._actor_errors import ActorStopped, AskTimeout, KernelError, MailboxFull, RemoteError
from ._env import seconds_to_ns
from ._mailbox import ABANDONED, DONE, PENDING, _Ask, _Sys

if TYPE_CHECKING:
    from ._cell import _Cell
    from ._env import Env
    from ._system import ActorSystem

__all__ = ["Actor", "ActorRef", "ActorStats", "Reply"]


class Actor:
    """Base class of actors: override :meth:`receive` (and optionally the hooks).

    The kernel constructs the actor with the factory arguments, then binds
    ``env``, ``name``, ``ref`` and ``system`` before :meth:`on_start` runs.
    Messages are handled one at a time; the value ``receive`` returns is the
    reply to an ``ask`` (ignored for ``tell``).  An exception escaping
    ``receive`` is a crash: the asker gets :class:`stele.RemoteError`, and the
    supervisor decides whether to restart the actor with fresh state.
    For expected failures (bad input) raise :class:`stele.RejectMessage`
    instead: the asker still gets :class:`stele.RemoteError`, but the actor
    keeps running with its state.
    """

    env: Env
    name: str
    ref: ActorRef
    system: ActorSystem
    _cell: _Cell

    async def receive(self, message: object) -> object:
        """Handle one message; the return value is the reply to an ``ask``."""
        raise KernelError(
            f"actor {self.name!r} ({type(self).__qualname__}) does not override receive"
        )

    async def on_start(self) -> None:
        """Called once per incarnation before the first message."""

    async def on_stop(self) -> None:
        """Called once per incarnation when it ends (stopped, exited or failed).

        Runs shielded from cancellation: keep it short.
        """

    def defer_reply(self) -> Reply:
        """Take over the reply to the message being handled, to send it later.

        Like an Erlang ``gen_server`` returning ``noreply``: ``receive`` returns
        (its value is ignored) and the actor goes on with other messages; the
        asker keeps waiting until someone calls :meth:`Reply.ok` or
        :meth:`Reply.fail` on the returned handle, or its deadline passes.
        Use it for requests that must wait for a later message (an allocation
        waiting for a release) or for work run in a child task.  For a
        ``tell`` the handle's methods do nothing.  Call it at most once per
        message, from within :meth:`receive`.
        """
        cell = self._cell
        ask = cell.current
        if ask is not None:
            cell.current = None
        return Reply(ask, self.name)

    def asker_gone(self) -> bool:
        """Whether the message being handled was asked by someone who stopped waiting.

        An asker that timed out or was cancelled while its message sat in the
        mailbox will never read the reply, so a request that hands something
        over (a grant, a lease) must not be granted: it would leak.  False for
        a ``tell``.
        """
        ask = self._cell.current
        return ask is not None and ask.state != PENDING

    def stop_self(self) -> None:
        """End this incarnation normally after the current message.

        A permanent child is then restarted; transient and temporary
        children are removed.
        """
        self._cell.exit_requested = True

    def _bind(self, cell: _Cell) -> None:
        self._cell = cell
        self.env = cell.system.env
        self.name = cell.name
        self.ref = cell.system._ref_for(cell)
        self.system = cell.system

    async def _on_system(self, message: _Sys, ask: _Ask | None) -> None:
        raise KernelError(
            f"actor {self.name!r} got kernel message {message.kind!r} it cannot handle"
        )


class Reply:
    """A deferred reply to one ``ask`` (see :meth:`Actor.defer_reply`).

    Only the first of :meth:`ok` / :meth:`fail` counts; replying after the
    asker gave up (deadline, cancellation) is silently dropped.
    """

    __slots__ = ("_ask", "_actor")

    def __init__(self, ask: _Ask | None, actor: str) -> None:
        self._ask = ask
        self._actor = actor

    @property
    def pending(self) -> bool:
        """True while an asker is still waiting for this reply."""
        return self._ask is not None and self._ask.state == PENDING

    def ok(self, value: object) -> None:
        """Send ``value`` as the reply."""
        if self._ask is not None:
            self._ask.ok(value)

    def fail(self, exc: BaseException) -> None:
        """Make the asker raise :class:`stele.RemoteError` boxing ``exc``."""
        if self._ask is not None:
            from ._actor_errors import RemoteError

            self._ask.fail(RemoteError(self._actor, type(self._ask.message), exc))


@dataclass(frozen=True, slots=True)
class ActorStats:
    """A snapshot of one actor's counters.

    ``handled`` counts user messages handled successfully, ``failures`` failed
    incarnations (crashes, failed starts), ``restarts`` restarts by its
    supervisor, ``queue_depth`` messages waiting now.
    """

    name: str
    handled: int
    failures: int
    restarts: int
    queue_depth: int
    running: bool


class ActorRef:
    """A handle to a named actor; cheap to copy and safe to share.

    If the actor behind the name is replaced (its supervisor was restarted),
    the reference follows the name to the new actor.
    """

    __slots__ = ("name", "_cell", "_system")

    def __init__(self, system: ActorSystem, cell: _Cell) -> None:
        self.name = cell.name
        self._cell = cell
        self._system = system

    def __repr__(self) -> str:
        return f"ActorRef({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ActorRef)
            and other.name == self.name
            and other._system is self._system
        )

    def __hash__(self) -> int:
        return hash(self.name)

    def _live(self) -> _Cell:
        cell = self._cell
        if cell.closed:
            found = self._system._cells.get(self.name)
            if found is None or found.closed:
                raise ActorStopped(self.name)
            self._cell = cell = found
        return cell

    def tell(self, message: object) -> None:
        """Queue ``message`` without waiting.

        Raises :class:`stele.MailboxFull` if the mailbox is at capacity and
        :class:`stele.ActorStopped` if the actor is gone.
        """
        cell = self._cell
        if cell.closed:
            cell = self._live()
        queue = cell.queue
        if len(queue) >= cell.capacity:
            raise MailboxFull(cell.name, cell.capacity)
        queue.append(message)
        waiter = cell.waiter
        if waiter is not None:
            cell.waiter = None
            waiter.set()

    async def send(self, message: object) -> None:
        """Queue ``message``, waiting while the mailbox is full (backpressure).

        Does not yield when there is space, so it is as fast as ``tell``.
        """
        cell = self._cell
        if cell.closed:
            cell = self._live()
        if len(cell.queue) >= cell.capacity:
            cell = await self._wait_for_space()
        cell.queue.append(message)
        waiter = cell.waiter
        if waiter is not None:
            cell.waiter = None
            waiter.set()

    async def _wait_for_space(self) -> _Cell:
        while True:
            cell = self._live()
            if len(cell.queue) < cell.capacity:
                return cell
            event = cell.system._new_event()
            cell.space.append(event)
            try:
                await event.wait()
            except BaseException:
                if event.is_set():
                    cell.wake_space()
                else:
                    try:
                        cell.space.remove(event)
                    except ValueError:
                        pass
                raise

    async def ask(self, message: object, timeout: float | None = None, *,
                  on_lost: Callable[[object], None] | None = None) -> Any:
        """Send ``message`` and wait for the actor's reply.

        ``timeout`` is in seconds on the runtime clock (virtual under
        simulation); ``None`` means the system's ``ask_timeout`` and
        ``math.inf`` means no deadline.  Raises :class:`stele.AskTimeout`,
        :class:`stele.RemoteError` (the actor raised; ``cause`` is what it
        raised) or :class:`stele.ActorStopped`.  Waits for mailbox space
        if the mailbox is full.

        ``on_lost(reply)`` is called with a reply that arrived while the
        asker was being cancelled (the actor answered, but the cancellation
        won): without it such a reply is dropped, which leaks whatever it
        hands over (e.g. an allocator's grant).
        """
        cell = self._cell
        if cell.closed:
            cell = self._live()
        system = cell.system
        ask = _Ask(message, system._new_event(), cell.name)
        if timeout is None:
            timeout = system.ask_timeout
        if timeout != math.inf:
            if timeout < 0 or timeout != timeout:
                raise ValueError(f"ask timeout={timeout} must be >= 0")
            if system.env.buggify("ask.early_timeout"):  # BUGGIFY: the timeout path, early
                timeout = timeout / 8
            system._deadlines.add(ask, timeout, seconds_to_ns(timeout))
        try:
            if len(cell.queue) >= cell.capacity:
                with system.env.move_on_after(timeout) as scope:
                    cell = await self._wait_for_space()
                if scope.cancelled_caught:
                    raise AskTimeout(cell.name, type(message), timeout)
            cell.queue.append(ask)
            waiter = cell.waiter
            if waiter is not None:
                cell.waiter = None
                waiter.set()
            await ask.event.wait()
        except BaseException:
            if ask.state == PENDING:
                ask.state = ABANDONED
            elif ask.state == DONE and on_lost is not None:
                on_lost(ask.value)
            raise
        if ask.state == DONE:
            return ask.value
        # Raised without a reference cycle: the error's traceback holds this frame,
        # so neither ``ask`` (through its value) nor a local may hold the error.
        error, ask.value = ask.value, None
        try:
            raise error
        finally:
            del error

    async def ask_unboxed(self, message: object, timeout: float | None = None) -> Any:
        """:meth:`ask`, but an actor's error is raised itself instead of in a :class:`stele.RemoteError`.

        For callers that pass the actor's typed error on (the executor's
        ``UnknownTarget`` to the user).  The cause is raised outside the
        ``except`` block, so the box is not its ``__context__``: box -> cause
        -> traceback -> frame -> box would be a reference cycle that only a
        full garbage collection -- a pause of the event loop -- frees.
        """
        try:
            return await self.ask(message, timeout)
        except RemoteError as exc:
            cause = exc.cause
        try:
            raise cause
        finally:
            del cause

    def stats(self) -> ActorStats:
        """A snapshot of this actor's counters."""
        return self._live().stats()
