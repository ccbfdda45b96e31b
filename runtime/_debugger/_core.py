"""What the TEL and the guest debugger sessions share: the line entry point, moves, breakpoints.

Both sessions hold a position (a TEL event, a guest cycle) between 0 and
:attr:`SessionCore.last`, and reach any position with ``_go``.  Moving by
a count, moving to a found target (or to the edge when there is none),
adding a breakpoint once and deleting one read the same on both, so they
live here; the ``unit`` word (``event``, ``cycle``) is the only
difference in what they print.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

from ._commands import (BadCommand, Command, Delete, Help, Info, Quit, Reply, Show, Step, Where,
                        parse)

__all__ = ["SessionCore", "Point"]


class Point(Protocol):
    """A breakpoint or watch: its number, what makes two the same, and its description."""

    @property
    def number(self) -> int: ...

    def key(self) -> tuple[object, ...]: ...

    def describe(self) -> str: ...


P = TypeVar("P", bound=Point)


class SessionCore(Generic[P]):
    """The shared half of a debugger session over points of type ``P`` (see the module docstring)."""

    #: what a position is, in messages ("already at the first event")
    unit = "event"
    #: the text of ``help``
    help_text = ""

    def __init__(self) -> None:
        self.points: list[P] = []
        self._next_number = 1

    @property
    def position(self) -> int:
        """The current position."""
        raise NotImplementedError

    @property
    def last(self) -> int:
        """The last position."""
        raise NotImplementedError

    def describe(self) -> str:
        """The one-line view of the current position."""
        raise NotImplementedError

    def execute(self, command: Command) -> Reply:
        """Run one command (raises :class:`BadCommand` when it does not apply)."""
        raise NotImplementedError

    def _go(self, target: int, note: str = "") -> Reply:
        raise NotImplementedError

    def _where(self) -> Iterator[str]:
        raise NotImplementedError

    def _info(self) -> Iterator[str]:
        raise NotImplementedError

    def _shared(self, command: Command) -> Reply | None:
        """The commands that read the same on both sessions (None: not one of them)."""
        if isinstance(command, Step):
            return self._step(command)
        if isinstance(command, Delete):
            return self._delete(command.number)
        if isinstance(command, Where):
            return Reply(tuple(self._where()))
        if isinstance(command, Show):
            return Reply((self.describe(),))
        if isinstance(command, Info):
            return Reply(tuple(self._info()))
        if isinstance(command, Help):
            return Reply(tuple(self.help_text.splitlines()))
        if isinstance(command, Quit):
            return Reply(quit=True)
        return None

    def handle(self, line: str) -> Reply:
        """Parse and run ``line``; a bad command is a reply saying so (the session goes on)."""
        try:
            command = parse(line)
            if command is None:
                return Reply()
            return self.execute(command)
        except BadCommand as exc:
            return Reply((f"error: {exc}",))

    def _step(self, cmd: Step) -> Reply:
        p = self.position
        if cmd.reverse:
            if p == 0:
                return Reply((f"already at the first {self.unit}", self.describe()))
            return self._go(max(0, p - cmd.count))
        if p == self.last:
            return Reply((f"already at the last {self.unit}", self.describe()))
        return self._go(min(self.last, p + cmd.count))

    def _move(self, target: int | None, what: str, reverse: bool) -> Reply:
        if target is None:
            edge = "first" if reverse else "last"
            target = 0 if reverse else self.last
            if target == self.position:
                return Reply((f"{what}: already at the {edge} {self.unit}", self.describe()))
            return self._go(target, f"{what}: no such {self.unit}; at the {edge} {self.unit}")
        return self._go(target)

    def _add_point(self, make: Callable[[int], P]) -> Reply:
        point = make(self._next_number)
        for p in self.points:
            if p.key() == point.key():
                return Reply((f"already set: {p.describe()}",))
        self._next_number += 1
        self.points.append(point)
        return Reply((f"breakpoint {point.describe()}",))

    def _delete(self, number: int | None) -> Reply:
        if number is None:
            n = len(self.points)
            self.points.clear()
            return Reply((f"deleted {n} breakpoint(s)",))
        for p in self.points:
            if p.number == number:
                self.points.remove(p)
                return Reply((f"deleted {p.describe()}",))
        raise BadCommand(f"delete {number}: no breakpoint {number} (see 'info')")
