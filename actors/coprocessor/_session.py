"""Guest runs that stop at each effect ``ecall``: the worker side of suspend/resume.

:func:`guest_step` runs a guest (fresh, or resumed from a snapshot with the
reply to the ``ecall`` it stopped at) until it exits, reaches its cycle limit
(exact, counted from cycle 0 of the run) or reaches its next effect
``ecall``.  At an ``ecall`` the effect handler raises, the engine leaves the
machine just before the ``ecall``, and the step answers
:class:`GuestSuspended`: the machine snapshot as canonical CBOR with its
digest, the request's CBOR bytes and the cycles so far.  Resuming re-executes
the ``ecall`` with the reply, so cycle counts and the final state are those
of an uninterrupted run.

A step with a deadline (on the Env clock) runs in chunks of :data:`CHUNK`
cycles and checks it between chunks (:class:`GuestDeadline`); past it the
step answers :class:`GuestStopped`, so a CPU-bound guest in a worker stops
itself within one chunk of its deadline and the worker is kept.
:func:`guest_step_inline` is the same step in the calling task (simulation),
yielding to the event loop after each chunk.  A step with an output limit
stops at the ``write`` that would pass it (:class:`GuestOutputLimit`).

The function is module-level and takes plain values, so it runs through
``env.run_in_worker`` (a worker process under RealEnv).  Each process keeps
the machines it last suspended (at most :data:`_KEEP`, keyed by the state's
digest and the run's image, input and memory limit): a resume that reaches
the same process continues on that machine and its compiled blocks instead
of rebuilding one from the snapshot.  The snapshot bytes are checked against
their digest either way.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import anyio.lowlevel

from stele.protocol import Digest, ProtocolError, decode, encode

from . import _errors
from ._binding import _load
from ._errors import CoprocessorError, CycleLimitExceeded, SnapshotError
from ._machine import Machine, MachineConfig
from ._messages import GuestFinished, GuestStopped, GuestSuspended
from ._snapshot import Snapshot

__all__ = ["guest_step", "guest_step_inline", "GuestDeadline", "rebuild_failure", "Failure",
           "CHUNK", "SIM_NS_PER_CYCLE"]

#: ``(error class name, message, attributes)`` of a co-processor error in a worker.
Failure = tuple[str, str, dict[str, Any]]

_KEEP = 8
_Key = tuple[Digest, bytes, bytes, int]
_MACHINES: OrderedDict[_Key, Machine] = OrderedDict()


class _Pause(BaseException):
    """Leaves the machine just before an effect ``ecall``."""

    def __init__(self, request: object) -> None:
        self.request = request


def _on_ecall(pending: list[object]) -> Any:
    def handler(request: object) -> object:
        if pending:
            return pending.pop()
        raise _Pause(request)
    return handler


#: Cycles one chunk of a guest step runs between two deadline checks (a few ms on the jit).
CHUNK = 20_000
#: Modelled CPU time per guest cycle under simulation (about this machine's jit engine).
SIM_NS_PER_CYCLE = 400

_Result = GuestFinished | GuestSuspended | GuestStopped | Failure


class GuestDeadline:
    """The deadline check of one guest step, made between chunks of :data:`CHUNK` cycles.

    ``clock`` reads the Env's ``now_ns`` (a picklable process clock in a
    worker); ``ns_per_cycle`` adds modelled CPU time for every cycle of the
    run so far (simulation, where the virtual clock stands still while a
    guest computes), so a deadline stops a guest at the same cycle in every
    replay of a seed.
    """

    __slots__ = ("clock", "deadline_ns", "ns_per_cycle")

    def __init__(self, clock: Callable[[], int], deadline_ns: int,
                 ns_per_cycle: int = 0) -> None:
        self.clock = clock
        self.deadline_ns = deadline_ns
        self.ns_per_cycle = ns_per_cycle

    def passed(self, cycle: int) -> bool:
        """True once the run (at ``cycle``) is at or past its deadline."""
        return self.clock() + self.ns_per_cycle * cycle >= self.deadline_ns

    def __reduce__(self) -> tuple[Any, ...]:
        return (GuestDeadline, (self.clock, self.deadline_ns, self.ns_per_cycle))


class _Step:
    """One guest step, advanced chunk by chunk (see :func:`guest_step`)."""

    def __init__(self, image: bytes, input: bytes, max_cycles: int, memory_limit: int,
                 snapshot: bytes | None, digest: Digest | None, reply: bytes | None,
                 output_limit: int | None) -> None:
        self.key = (image, input, memory_limit)
        self.max_cycles = max_cycles
        pending: list[object] = []
        handler = _on_ecall(pending)
        if snapshot is None:
            m = Machine(_load(image), input=input,
                        config=MachineConfig(memory_limit=memory_limit), effect_handler=handler)
        else:
            if digest is None or Digest.of(snapshot, digest.algorithm) != digest:
                raise SnapshotError(f"snapshot digest mismatch: expected {digest}, "
                                    f"got {Digest.of(snapshot)}")
            if reply is not None:
                try:
                    pending.append(decode(reply))
                except ProtocolError as exc:
                    raise SnapshotError(f"effect reply is not canonical CBOR: {exc}") from None
            kept = _MACHINES.pop((digest, image, input, memory_limit), None)
            if kept is None:
                m = Machine.from_snapshot(Snapshot.from_cbor(snapshot, digest=digest),
                                          _load(image), input=input,
                                          config=MachineConfig(memory_limit=memory_limit),
                                          effect_handler=handler)
            else:
                m = kept
                m.effect_handler = handler
        m.output_limit = output_limit
        self.m = m

    def advance(self, n: int) -> GuestFinished | GuestSuspended | None:
        """Run up to ``n`` more cycles: the step's outcome, or None if it goes on.

        Raises :class:`CycleLimitExceeded` at the run's exact cycle limit and
        the guest's own errors.
        """
        m = self.m
        try:
            left = self.max_cycles - m.cycle
            if left > 0 and not m.halted:
                m.advance_fast(min(n, left))
            if not m.halted:
                if m.cycle >= self.max_cycles:
                    raise CycleLimitExceeded(self.max_cycles, pc=m.pc, cycle=m.cycle)
                return None
        except _Pause as p:
            data = m.snapshot().to_cbor()
            state = Digest.of(data)
            m.effect_handler = None
            m.effect_log.clear()  # the asker journals every effect; nothing to keep here
            image, input, memory_limit = self.key
            _MACHINES[(state, image, input, memory_limit)] = m
            while len(_MACHINES) > _KEEP:
                _MACHINES.popitem(last=False)
            return GuestSuspended(data, state, encode(p.request), m.cycle, m.output_bytes())
        res = m.result()
        return GuestFinished(res.exit_code, res.stdout, res.public_output, res.cycles,
                             len(m.memory.pages) * 4096, res.halt_reason, m.output_bytes())

    def stopped(self) -> GuestStopped:
        return GuestStopped(self.m.cycle, self.m.output_bytes())


def _failure(exc: CoprocessorError) -> Failure:
    return (type(exc).__name__, str(exc), dict(vars(exc)))


def guest_step(image: bytes, input: bytes, max_cycles: int, memory_limit: int,
               snapshot: bytes | None = None, digest: Digest | None = None,
               reply: bytes | None = b"", deadline: GuestDeadline | None = None,
               output_limit: int | None = None) -> _Result:
    """Run (or resume) a guest to its exit, its cycle limit or its next effect ``ecall``.

    ``reply`` is the CBOR reply to the ``ecall`` a snapshot stopped at (None:
    the snapshot was not taken at an ``ecall``, nothing is pending).  With a
    ``deadline`` the step runs in chunks of :data:`CHUNK` cycles and answers
    :class:`GuestStopped` at the first check past it; ``output_limit`` bounds
    the guest's writes (:class:`GuestOutputLimit` at the write that passes it).
    """
    try:
        step = _Step(image, input, max_cycles, memory_limit, snapshot, digest, reply,
                     output_limit)
        while deadline is None:
            out = step.advance(max_cycles)
            if out is not None:
                return out
        while True:
            if deadline.passed(step.m.cycle):
                return step.stopped()
            out = step.advance(CHUNK)
            if out is not None:
                return out
    except CoprocessorError as exc:
        return _failure(exc)


async def guest_step_inline(image: bytes, input: bytes, max_cycles: int, memory_limit: int,
                            snapshot: bytes | None = None, digest: Digest | None = None,
                            reply: bytes | None = b"", deadline: GuestDeadline | None = None,
                            output_limit: int | None = None) -> _Result:
    """:func:`guest_step` in the calling task, yielding to the event loop after every chunk.

    So an inline guest (simulation) holds the loop for at most one chunk of
    :data:`CHUNK` cycles at a time, and a cancellation stops it between chunks.
    """
    try:
        step = _Step(image, input, max_cycles, memory_limit, snapshot, digest, reply,
                     output_limit)
        while True:
            if deadline is not None and deadline.passed(step.m.cycle):
                return step.stopped()
            out = step.advance(CHUNK)
            if out is not None:
                return out
            await anyio.lowlevel.checkpoint()
    except CoprocessorError as exc:
        return _failure(exc)


def rebuild_failure(failure: Failure) -> CoprocessorError:
    """The typed co-processor error a worker reported, with its message and attributes.

    Errors do not pickle by their constructors, so a worker reports the class
    name, message and attributes, and this builds the same error again.
    """
    kind, message, attrs = failure
    cls = getattr(_errors, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, CoprocessorError)):
        cls = CoprocessorError
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    vars(exc).update(attrs)
    return exc
