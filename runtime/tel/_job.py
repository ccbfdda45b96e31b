r"""One TEL run for a worker process: replay of known effect replies, a fuel-counter check.

The worker side of the executor's pool (``stele.actors.executor._pool``).
It lives here, beside the interpreter, so that a worker process imports only
``stele.tel`` (a fraction of a second) and not the whole runtime.

:func:`tel_job` runs a definition once: effect ``perform``\ s are answered
from the replies known so far (:class:`Replay`), and the first unknown one
ends the run with :class:`Suspended`; a :class:`CpuCheck` on the fuel
counter stops the run at its deadline.  Each worker keeps the programs it
compiled (:data:`_PROGRAMS`, keyed by digest), so a program's module is sent
every time but type-checked and compiled once per worker.
"""

from __future__ import annotations

import pickle
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._builtin_impl import Machine, fuel_left
from ._cost import Limits
from ._errors import EffectError
from ._interp import EvalResult, Program
from ._types import check_module

__all__ = ["Request", "Suspend", "Stop", "DeadlineReached", "Preempted", "Replay", "CpuCheck",
           "Suspended", "call_once", "tel_job", "worker_ready", "rebuild", "CHECK_EVERY"]

#: Fuel handed out between two deadline checks (about 1-3 ms of interpretation).
CHECK_EVERY = 10_000
#: Programs a worker process keeps compiled.
_KEEP_PROGRAMS = 64

Request = tuple[str, str, tuple[Any, ...]]


class Suspend(BaseException):
    """Unwinds a TEL run at a ``perform`` whose reply is not known yet."""

    def __init__(self, request: Request) -> None:
        self.request = request


class Stop(BaseException):
    """Ends a run from its fuel check (not an error of the program)."""


class DeadlineReached(Stop):
    """The run passed its deadline."""


class Preempted(Stop):
    """An inline run used up its slice of the event loop."""


class Replay:
    """The effect handler of one run: answers known replies in order, suspends at the next.

    ``serve``, when given (inline runs only), answers an unknown effect that
    does not wait at once: it returns the reply, which is appended to
    ``replies`` (a later run replays it), or raises :class:`Suspend` for an
    effect that waits.  So an inline run suspends only at the effects that
    wait, and a program with many effects costs one run, not one per effect.
    """

    __slots__ = ("replies", "calls", "serve")

    def __init__(self, replies: list[tuple[Request, Any]],
                 serve: Callable[[str, str, tuple[Any, ...]], Any] | None = None) -> None:
        self.replies = replies
        self.calls = 0
        self.serve = serve

    def __call__(self, effect: str, op: str, args: tuple[Any, ...]) -> Any:
        i = self.calls
        self.calls += 1
        if i < len(self.replies):
            if self.replies[i][0] != (effect, op, args):  # engines are deterministic
                raise EffectError(f"replay diverged at effect #{i}: {effect}.{op}")
            return self.replies[i][1]
        if self.serve is not None:
            reply = self.serve(effect, op, args)
            self.replies.append(((effect, op, args), reply))
            return reply
        raise Suspend((effect, op, args))


class CpuCheck:
    """The fuel-counter check of one run: stop past ``deadline_ns`` (or preempt).

    ``clock`` reads the Env's ``now_ns`` (picklable under RealEnv, so the
    check also works in a worker process); ``ns_per_fuel`` adds modelled CPU
    time for the fuel this run has spent, and for the step about to be
    charged (simulation, where the virtual clock does not move while a run
    computes).  An inline run is preempted past ``preempt_ns`` or before a
    single step costing more than ``preempt_charge`` (a big builtin would hold
    the event loop for its whole length).
    """

    __slots__ = ("clock", "deadline_ns", "preempt_ns", "ns_per_fuel", "preempt_charge", "m")

    def __init__(self, clock: Callable[[], int], deadline_ns: int | None,
                 preempt_ns: int | None = None, ns_per_fuel: int = 0,
                 preempt_charge: int | None = None) -> None:
        self.clock = clock
        self.deadline_ns = deadline_ns
        self.preempt_ns = preempt_ns
        self.ns_per_fuel = ns_per_fuel
        self.preempt_charge = preempt_charge
        self.m: Machine | None = None

    def __call__(self, need: int = 0) -> None:
        now = self.clock()
        m = self.m
        if self.ns_per_fuel and m is not None:
            now += self.ns_per_fuel * (m.limit - m.fuel + need)
        if self.deadline_ns is not None and now >= self.deadline_ns:
            raise DeadlineReached()
        if self.preempt_ns is not None and (
                now >= self.preempt_ns
                or (self.preempt_charge is not None and need > self.preempt_charge)):
            raise Preempted()

    def __reduce__(self) -> tuple[Any, ...]:
        return (CpuCheck, (self.clock, self.deadline_ns, self.preempt_ns, self.ns_per_fuel,
                           self.preempt_charge))


@dataclass(frozen=True, slots=True)
class Suspended:
    """A run stopped at an effect: the request, and the fuel and memory it had left."""

    request: Request
    fuel_left: int
    memory_left: int


_Outcome = EvalResult | Suspended


def call_once(program: Program, entry: str, args: list[Any], limits: Limits,
              replies: list[tuple[Request, Any]], check: CpuCheck | None,
              serve: Callable[[str, str, tuple[Any, ...]], Any] | None = None) -> _Outcome:
    """One run of ``program`` (raises the program's TEL error, or ``_Stop``)."""
    if check is not None:
        check.m = program.m
    try:
        return program.call(entry, args, limits=limits, handler=Replay(replies, serve),
                            check=check,
                            check_every=CHECK_EVERY)
    except Suspend as s:
        m = program.m
        return Suspended(s.request, fuel_left(m), m.mem)


_PROGRAMS: OrderedDict[bytes, Program] = OrderedDict()


def _portable(exc: BaseException) -> tuple[Any, ...]:
    """An exception as ``(class, args, attributes)``: rebuilt without calling ``__init__``.

    TEL errors take keyword-only or computed constructor arguments, so plain
    pickling cannot rebuild them; their state is their ``args`` and ``__dict__``.
    """
    out = (type(exc), exc.args, dict(getattr(exc, "__dict__", {})))
    try:
        pickle.dumps(out)
    except Exception:
        return (RuntimeError, (f"{type(exc).__name__}: {exc}",), {})
    return out


def rebuild(state: tuple[Any, ...]) -> BaseException:
    cls, args, attrs = state
    exc: BaseException = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(attrs)
    return exc


def worker_ready() -> bool:
    """A no-op job: importing this module is what starts a worker for TEL runs."""
    return True


def tel_job(key: bytes, blob: bytes, entry: str, args: list[Any], limits: Limits,
            replies: list[tuple[Request, Any]], check: CpuCheck | None) -> tuple[Any, ...]:
    """One run in a worker process: ``("ok", EvalResult)``, ``("suspend", Suspended)``,
    ``("stopped", spent)`` (deadline) or ``("error", portable exception)``.

    Module-level and given plain values so that it pickles; ``blob`` (the
    pickled module of the stored closure) is unpickled, checked and compiled
    only when this worker has not compiled ``key`` yet.
    """
    program = _PROGRAMS.pop(key, None)
    try:
        if program is None:
            program = Program(check_module(pickle.loads(blob)))
        assert program is not None
        need = 5000 + 60 * limits.depth  # raised once, never lowered (see _executor)
        if sys.getrecursionlimit() < need:
            sys.setrecursionlimit(need)
        out = call_once(program, entry, args, limits, replies, check)
    except Stop:
        assert program is not None
        m = program.m
        return ("stopped", m.limit - m.fuel)
    except Exception as exc:
        return ("error", _portable(exc))
    finally:
        if program is not None:
            _PROGRAMS[key] = program
            while len(_PROGRAMS) > _KEEP_PROGRAMS:
                _PROGRAMS.popitem(last=False)
    return ("suspend", out) if isinstance(out, Suspended) else ("ok", out)
