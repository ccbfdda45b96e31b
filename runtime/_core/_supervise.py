"""Supervision with Erlang/OTP semantics.

A :class:`Supervisor` is an actor that starts its children in order, stops
them in reverse order, and when one exits applies its :class:`Strategy`:

* ``ONE_FOR_ONE`` restarts only the child that exited;
* ``ONE_FOR_ALL`` stops the others (in reverse order) and restarts all (in order);
* ``REST_FOR_ONE`` does that for the exited child and those started after it.

Whether an exit triggers a restart depends on the child's :class:`Restart`:
``PERMANENT`` always, ``TRANSIENT`` only after a failure, ``TEMPORARY`` never
(a temporary child stopped because of a sibling is removed, not restarted).
More than ``intensity`` restarts within ``period`` seconds (on
``env.now_ns()``, so virtual under simulation) make the supervisor give up:
it stops its children and fails with :class:`stele.SupervisorGaveUp`, which
its own supervisor handles like any child failure.  The root supervisor of an
:class:`stele.ActorSystem` giving up fails the ``async with`` block.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ._actor import Actor
from ._actor_errors import (
    ActorNameTaken,
    ActorStopped,
    KernelError,
    RejectMessage,
    SupervisorGaveUp,
)
from ._env import seconds_to_ns
from ._mailbox import _Ask, _Sys

if TYPE_CHECKING:
    from ._cell import _Cell

__all__ = ["Strategy", "Restart", "ChildSpec", "Supervisor"]


class Strategy(enum.Enum):
    """Which children a supervisor restarts when one exits."""

    ONE_FOR_ONE = "one_for_one"
    ONE_FOR_ALL = "one_for_all"
    REST_FOR_ONE = "rest_for_one"


class Restart(enum.Enum):
    """When a child is restarted after it exits."""

    PERMANENT = "permanent"
    TRANSIENT = "transient"
    TEMPORARY = "temporary"


@dataclass(frozen=True)
class ChildSpec:
    """How a supervisor starts one child: ``factory(*args)`` under ``name``.

    ``capacity`` is the mailbox bound (``None``: the system default).
    """

    name: str
    factory: Callable[..., Actor]
    args: tuple[Any, ...] = ()
    restart: Restart = Restart.PERMANENT
    capacity: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"ChildSpec name={self.name!r} must be a non-empty str")
        if not callable(self.factory):
            raise TypeError(f"ChildSpec {self.name!r}: factory={self.factory!r} is not callable")
        if not isinstance(self.restart, Restart):
            raise TypeError(f"ChildSpec {self.name!r}: restart={self.restart!r} is not a Restart")
        if self.capacity is not None and self.capacity < 1:
            raise ValueError(f"ChildSpec {self.name!r}: capacity={self.capacity} must be >= 1")


class Supervisor(Actor):
    """An actor that starts, watches and restarts its children.

    ``children`` are started in order when the supervisor starts (a child
    that fails to start fails the supervisor's start); more can be added
    with ``system.spawn(..., supervisor=name)``.  A supervisor takes no user
    messages.
    """

    def __init__(
        self,
        children: Sequence[ChildSpec] = (),
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        intensity: int = 3,
        period: float = 5.0,
    ) -> None:
        if not isinstance(strategy, Strategy):
            raise TypeError(f"strategy={strategy!r} is not a Strategy")
        if intensity < 0:
            raise ValueError(f"intensity={intensity} must be >= 0")
        if not period > 0:
            raise ValueError(f"period={period} must be > 0")
        seen: set[str] = set()
        for spec in children:
            if spec.name in seen:
                raise ActorNameTaken(spec.name)
            seen.add(spec.name)
        self.specs = tuple(children)
        self.strategy = strategy
        self.intensity = intensity
        self.period = period
        self._period_ns = seconds_to_ns(period)
        self._restart_times: deque[int] = deque()

    async def on_start(self) -> None:
        for spec in self.specs:
            await self._start_new(spec)

    async def receive(self, message: object) -> object:
        raise RejectMessage(
            KernelError(
                f"supervisor {self.name!r} takes no user messages "
                f"(got {type(message).__qualname__})"
            )
        )

    def child_names(self) -> list[str]:
        """Names of the current children, in start order."""
        return [child.name for child in self._cell.children]

    async def _start_new(self, spec: ChildSpec) -> None:
        cell = self.system._new_cell(spec, self._cell)
        try:
            await self.system._start(cell)
        except BaseException:
            cell.close()
            raise
        self._cell.children.append(cell)

    async def _on_system(self, message: _Sys, ask: _Ask | None) -> None:
        kind = message.kind
        if kind == "exit":
            exited: tuple[_Cell, int, BaseException | None] = message.payload  # type: ignore[assignment]
            await self._child_exited(*exited)
        elif kind == "start":
            assert ask is not None
            spec: ChildSpec = message.payload  # type: ignore[assignment]
            try:
                await self._start_new(spec)
            except KernelError as exc:
                ask.fail(exc)
            else:
                ask.ok(self.system._ref_for(self._cell.children[-1]))
        elif kind == "stop":
            assert ask is not None
            stop: tuple[_Cell, bool] = message.payload  # type: ignore[assignment]
            cell, drain = stop
            if cell in self._cell.children:
                self._cell.children.remove(cell)
                await cell.terminate(drain)
                cell.close()
            ask.ok(None)
        else:
            await super()._on_system(message, ask)

    async def _child_exited(
        self, cell: _Cell, incarnation: int, failure: BaseException | None
    ) -> None:
        children = self._cell.children
        if cell.closed or cell.running or cell.incarnation != incarnation:
            return  # stale: already restarted or removed
        if cell not in children:
            return
        assert cell.spec is not None
        restart = cell.spec.restart
        if restart is Restart.TEMPORARY or (restart is Restart.TRANSIENT and failure is None):
            children.remove(cell)
            cell.close()
            return
        now = self.env.now_ns()
        times = self._restart_times
        times.append(now)
        while times and now - times[0] >= self._period_ns:
            times.popleft()
        if len(times) > self.intensity:
            cause = failure if failure is not None else ActorStopped(cell.name, "exited")
            raise SupervisorGaveUp(self.name, self.intensity, self.period, cause)
        index = children.index(cell)
        if self.strategy is Strategy.ONE_FOR_ONE:
            affected = [cell]
        elif self.strategy is Strategy.ONE_FOR_ALL:
            affected = list(children)
        else:
            affected = children[index:]
        for other in reversed(affected):
            if other is not cell:
                await other.terminate()
        observer = self.system._observer
        for other in affected:
            if other is not cell and other.spec is not None and (
                other.spec.restart is Restart.TEMPORARY
            ):
                children.remove(other)
                other.close()
                continue
            other.restarts += 1
            observer.on_restart(other.name)
            try:
                await self.system._start(other)
            except KernelError as exc:
                self._cell.post_system(_Sys("exit", (other, other.incarnation, exc)))
