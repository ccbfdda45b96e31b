"""The actor system: a task group that owns every actor, and a name registry.

``async with ActorSystem(env) as system:`` opens one task group; every actor
incarnation, the root supervisor and the ask-deadline reaper run in it, so
nothing outlives the block.  On exit the root supervisor stops its children
in reverse start order (each supervisor does the same for its own), then the
group is cancelled.  If the root supervisor gives up, the block fails with
:class:`stele.SupervisorGaveUp`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Callable

import anyio
import anyio.abc

from ._actor import Actor, ActorRef, ActorStats
from ._actor_errors import ActorNameTaken, ActorNotFound, ActorStopped, KernelError
from ._cell import _Cell
from ._env import Env
from ._mailbox import _Ask, _Deadlines, _Sys
from ._observer import KernelObserver
from ._realenv import RealEnv
from ._supervise import ChildSpec, Restart, Strategy, Supervisor

__all__ = ["ActorSystem"]

ROOT_NAME = "<root>"


class ActorSystem:
    """Named actors under a root supervisor, inside one structured task group.

    * ``env`` -- the :class:`stele.Env` (``None``: a :class:`stele.RealEnv`).
    * ``observer`` -- a :class:`stele.KernelObserver` (hooks for simulation).
    * ``capacity`` -- default mailbox bound.
    * ``ask_timeout`` -- default ``ask`` deadline in seconds.
    * ``intensity`` / ``period`` -- the root supervisor's restart intensity
      (one-for-one): more than ``intensity`` restarts of top-level actors
      within ``period`` seconds fail the whole system.
    """

    def __init__(
        self,
        env: Env | None = None,
        *,
        observer: KernelObserver | None = None,
        capacity: int = 1024,
        ask_timeout: float = 30.0,
        intensity: int = 10,
        period: float = 1.0,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity={capacity} must be >= 1")
        if not ask_timeout >= 0:
            raise ValueError(f"ask_timeout={ask_timeout} must be >= 0")
        self.env: Env = env if env is not None else RealEnv()
        self._observer = observer if observer is not None else KernelObserver()
        self._observing = type(self._observer) is not KernelObserver
        self.capacity = capacity
        self.ask_timeout = ask_timeout
        self._root_intensity = intensity
        self._root_period = period
        self._cells: dict[str, _Cell] = {}
        self._refs: dict[str, ActorRef] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._root: _Cell | None = None
        self._failure: BaseException | None = None
        self._new_event: Callable[[], anyio.Event] = anyio.Event
        self._deadlines: _Deadlines

    # -- context ------------------------------------------------------------
    async def __aenter__(self) -> ActorSystem:
        if self._tg is not None:
            raise KernelError("an ActorSystem can be entered only once")
        # The backend's own Event class, constructed directly: half the cost
        # of going through anyio.Event's backend lookup on every park.
        self._new_event = type(anyio.Event())
        self._deadlines = _Deadlines(self.env, self._new_event)
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        try:
            tg.start_soon(self._deadlines.run)
            root = _Cell(
                self,
                ROOT_NAME,
                Supervisor,
                ((), Strategy.ONE_FOR_ONE, self._root_intensity, self._root_period),
                self.capacity,
                None,
                None,
            )
            self._root = root
            await tg.start(root.run)
        except BaseException as exc:
            tg.cancel_scope.cancel()
            await tg.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        tg = self._tg
        assert tg is not None and self._root is not None
        with anyio.CancelScope(shield=True):
            if self._failure is None:
                await self._root.terminate()
            self._root.close()
            tg.cancel_scope.cancel()
        await tg.__aexit__(None, None, None)
        if self._failure is not None:
            raise self._failure
        return False

    def _escalate(self, failure: BaseException) -> None:
        if self._failure is None:
            self._failure = failure
        if self._tg is not None:
            self._tg.cancel_scope.cancel()

    # -- registry -----------------------------------------------------------
    def _new_cell(self, spec: ChildSpec, parent: _Cell) -> _Cell:
        if self._failure is not None or self._root is None or self._root.closed:
            raise ActorStopped(ROOT_NAME, "(the actor system) is shut down")
        if spec.name in self._cells:
            raise ActorNameTaken(spec.name)
        capacity = spec.capacity if spec.capacity is not None else self.capacity
        cell = _Cell(self, spec.name, spec.factory, spec.args, capacity, parent, spec)
        self._cells[spec.name] = cell
        return cell

    def _unregister(self, cell: _Cell) -> None:
        if self._cells.get(cell.name) is cell:
            del self._cells[cell.name]
            self._refs.pop(cell.name, None)

    def _ref_for(self, cell: _Cell) -> ActorRef:
        ref = self._refs.get(cell.name)
        if ref is None or ref._cell is not cell:
            ref = ActorRef(self, cell)
            if self._cells.get(cell.name) is cell:
                self._refs[cell.name] = ref
        return ref

    async def _start(self, cell: _Cell) -> None:
        assert self._tg is not None
        await self._tg.start(cell.run)

    def _cell_of(self, target: str | ActorRef) -> _Cell:
        name = target.name if isinstance(target, ActorRef) else target
        cell = self._cells.get(name)
        if cell is None or cell.closed:
            raise ActorNotFound(name)
        return cell

    async def _call(self, cell: _Cell, message: _Sys) -> Any:
        if cell.closed:
            raise ActorStopped(cell.name)
        ask = _Ask(message, self._new_event(), cell.name)
        cell.post_system(ask)
        try:
            await ask.event.wait()
        except BaseException:
            ask.state = 3
            raise
        if ask.state == 1:
            return ask.value
        raise ask.value

    # -- public API -----------------------------------------------------------
    async def spawn(
        self,
        name: str,
        factory: Callable[..., Actor],
        *args: Any,
        restart: Restart = Restart.PERMANENT,
        capacity: int | None = None,
        supervisor: str | ActorRef | None = None,
    ) -> ActorRef:
        """Start ``factory(*args)`` as actor ``name`` and return its reference.

        It is supervised by ``supervisor`` (a :class:`Supervisor` actor's name)
        or by the root supervisor.  Returns once its ``on_start`` has run;
        raises :class:`stele.ActorStartError` if that failed and
        :class:`stele.ActorNameTaken` if the name is in use.
        """
        spec = ChildSpec(name, factory, tuple(args), restart, capacity)
        if self._root is None:
            raise KernelError("spawn needs a running ActorSystem (use async with)")
        parent = self._root if supervisor is None else self._cell_of(supervisor)
        if not isinstance(parent.behaviour, Supervisor):
            raise KernelError(f"actor {parent.name!r} is not a Supervisor")
        if name in self._cells:
            raise ActorNameTaken(name)
        ref: ActorRef = await self._call(parent, _Sys("start", spec))
        return ref

    def lookup(self, name: str) -> ActorRef:
        """The reference of the live actor called ``name`` (:class:`stele.ActorNotFound`)."""
        return self._ref_for(self._cell_of(name))

    def names(self) -> list[str]:
        """Names of all live actors, sorted."""
        return sorted(name for name, cell in self._cells.items() if not cell.closed)

    async def stop(self, target: str | ActorRef, *, drain: bool = False) -> None:
        """Stop an actor (and, for a supervisor, its subtree) and remove it.

        ``drain=True`` lets it handle the messages already queued first;
        otherwise the message in hand is cancelled.  Asks still pending fail
        with :class:`stele.ActorStopped`.  Its supervisor does not restart it.
        """
        cell = self._cell_of(target)
        parent = cell.parent
        assert parent is not None
        await self._call(parent, _Sys("stop", (cell, drain)))

    def stats(self, target: str | ActorRef) -> ActorStats:
        """A snapshot of one actor's counters."""
        return self._cell_of(target).stats()

    def all_stats(self) -> list[ActorStats]:
        """Snapshots of every live actor's counters, sorted by name."""
        return [self._cells[name].stats() for name in self.names()]
