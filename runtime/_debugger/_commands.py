"""The debugger's command language: typed commands, :func:`parse`, and the :class:`Reply`.

Both sessions (:class:`~._session.DebugSession` over a TEL execution,
:class:`~._guest_session.GuestSession` over a guest) read the same
commands; each gives them its own meaning.  :func:`parse` turns a line
into a :class:`Command`, or raises :class:`BadCommand` saying what is
wrong; a session answers with a :class:`Reply`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._errors import SteleError

__all__ = ["BadCommand", "Command", "Step", "Next", "Finish", "Continue", "Goto", "Break",
           "Delete", "Watch", "Print", "Locals", "Where", "Show", "Info", "Help", "Quit",
           "Reply", "parse", "HELP"]


class BadCommand(SteleError):
    """A debugger command that cannot be parsed or does not apply (the message says why)."""


# -- commands ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Step:
    """``step [N]`` / ``rstep [N]``: N events forwards (backwards)."""

    count: int = 1
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Next:
    """``next`` / ``rnext``: the next (previous) event not inside a call made from here."""

    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Finish:
    """``finish`` / ``rfinish``: the return (the call) of the current frame."""

    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Continue:
    """``continue`` / ``rcontinue``: to the next (previous) breakpoint or watch hit."""

    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Goto:
    """``goto N``: to event N."""

    position: int


@dataclass(frozen=True, slots=True)
class Break:
    """``break SPEC``: a function name, an effect (``Log``) or one operation (``KV.put``)."""

    spec: str


@dataclass(frozen=True, slots=True)
class Watch:
    """``watch NAME``: stop where the current activation's local NAME changes value."""

    name: str


@dataclass(frozen=True, slots=True)
class Delete:
    """``delete [N]``: remove breakpoint/watch N (all of them without N)."""

    number: int | None = None


@dataclass(frozen=True, slots=True)
class Print:
    """``print [NAME]``: a local of the innermost frame (or ``$value``, ``$cost``...)."""

    name: str | None = None


@dataclass(frozen=True, slots=True)
class Locals:
    """``locals``: every assigned local of the innermost frame."""


@dataclass(frozen=True, slots=True)
class Where:
    """``where``: the call stack, innermost last."""


@dataclass(frozen=True, slots=True)
class Show:
    """``show``: the current event again."""


@dataclass(frozen=True, slots=True)
class Info:
    """``info``: the execution's length, outcome and the breakpoints."""


@dataclass(frozen=True, slots=True)
class Help:
    """``help``: the commands."""


@dataclass(frozen=True, slots=True)
class Quit:
    """``quit``: end the session."""


Command = (Step | Next | Finish | Continue | Goto | Break | Watch | Delete | Print | Locals
           | Where | Show | Info | Help | Quit)

HELP = """\
commands (short forms in brackets):
  step [N] (s)        N events forwards (default 1)
  rstep [N] (rs)      N events backwards
  next (n)            next event in this frame or an outer one (steps over calls)
  rnext (rn)          the same, backwards
  finish (f)          to the return of the current frame
  rfinish (rf)        back to the call of the current frame
  continue (c)        to the next breakpoint or watch hit (or the last event)
  rcontinue (rc)      to the previous one (or the first event)
  goto N (g)          to event N
  break SPEC (b)      break on a function's calls, an effect (Log) or an operation (KV.put)
  watch NAME (w)      stop where the local NAME of this activation changes value
  delete [N] (d)      remove breakpoint N, or all
  print [NAME] (p)    a local of the innermost frame; $value $cost $effects $position
  locals (l)          the innermost frame's locals
  where (bt)          the call stack, with the event that made each call
  show                the current event
  info (i)            the execution and its breakpoints
  help (h, ?)         this text
  quit (q)            leave (also Ctrl-D)"""

_NO_ARG: dict[str, Command] = {
    "next": Next(), "n": Next(), "rnext": Next(True), "rn": Next(True),
    "finish": Finish(), "f": Finish(), "rfinish": Finish(True), "rf": Finish(True),
    "continue": Continue(), "c": Continue(), "rcontinue": Continue(True),
    "rc": Continue(True), "locals": Locals(), "l": Locals(), "where": Where(), "bt": Where(),
    "backtrace": Where(), "show": Show(), "info": Info(), "i": Info(), "help": Help(),
    "h": Help(), "?": Help(), "quit": Quit(), "q": Quit(), "exit": Quit(),
}


def _count(word: str, text: str) -> int:
    try:
        n = int(text, 10)
    except ValueError:
        raise BadCommand(f"{word}: {text!r} is not a number") from None
    if n < 0:
        raise BadCommand(f"{word}: {text!r} must not be negative")
    return n


def parse(line: str) -> Command | None:
    """The command on ``line`` (None for a blank line or a ``#`` comment)."""
    words = line.split()
    if not words or words[0].startswith("#"):
        return None
    word, rest = words[0].lower(), words[1:]
    if word in _NO_ARG:
        if rest:
            raise BadCommand(f"{word} takes no argument (got {' '.join(rest)!r})")
        return _NO_ARG[word]
    if len(rest) > 1:
        raise BadCommand(f"{word}: one argument at most (got {' '.join(rest)!r})")
    arg = rest[0] if rest else None
    if word in ("step", "s", "rstep", "rs"):
        count = 1 if arg is None else _count(word, arg)
        return Step(count, reverse=word in ("rstep", "rs"))
    if word in ("goto", "g"):
        if arg is None:
            raise BadCommand("goto: give an event number (goto N)")
        return Goto(_count(word, arg))
    if word in ("break", "b"):
        if arg is None:
            raise BadCommand("break: give a function, an effect or Effect.op (break fib)")
        return Break(arg)
    if word in ("watch", "w"):
        if arg is None:
            raise BadCommand("watch: give a local's name (watch acc)")
        return Watch(arg)
    if word in ("delete", "d"):
        return Delete(None if arg is None else _count(word, arg))
    if word in ("print", "p"):
        return Print(arg)
    raise BadCommand(f"unknown command {words[0]!r} (type 'help' for the commands)")


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command produced: lines to show, and whether the session is over."""

    lines: tuple[str, ...] = ()
    quit: bool = False

    @property
    def text(self) -> str:
        """The lines joined."""
        return "\n".join(self.lines)
