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
from typing import Any

from stele.protocol import Digest, ProtocolError, decode, encode

from . import _errors
from ._binding import _load
from ._errors import CoprocessorError, CycleLimitExceeded, SnapshotError
from ._machine import Machine, MachineConfig
from ._messages import GuestFinished, GuestSuspended
from ._snapshot import Snapshot

__all__ = ["guest_step", "rebuild_failure", "Failure"]

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


def guest_step(image: bytes, input: bytes, max_cycles: int, memory_limit: int,
               snapshot: bytes | None = None, digest: Digest | None = None,
               reply: bytes = b"") -> GuestFinished | GuestSuspended | Failure:
    """Run (or resume) a guest to its exit, its cycle limit or its next effect ``ecall``."""
    pending: list[object] = []
    handler = _on_ecall(pending)
    try:
        if snapshot is None:
            m = Machine(_load(image), input=input,
                        config=MachineConfig(memory_limit=memory_limit), effect_handler=handler)
        else:
            if digest is None or Digest.of(snapshot, digest.algorithm) != digest:
                raise SnapshotError(f"snapshot digest mismatch: expected {digest}, "
                                    f"got {Digest.of(snapshot)}")
            try:
                pending.append(decode(reply))
            except ProtocolError as exc:
                raise SnapshotError(f"effect reply is not canonical CBOR: {exc}") from None
            key = (digest, image, input, memory_limit)
            kept = _MACHINES.pop(key, None)
            if kept is None:
                m = Machine.from_snapshot(Snapshot.from_cbor(snapshot, digest=digest),
                                          _load(image), input=input,
                                          config=MachineConfig(memory_limit=memory_limit),
                                          effect_handler=handler)
            else:
                m = kept
                m.effect_handler = handler
        try:
            left = max_cycles - m.cycle
            if left > 0:
                m.advance_fast(left)
            if not m.halted:
                raise CycleLimitExceeded(max_cycles, pc=m.pc, cycle=m.cycle)
        except _Pause as p:
            snap = m.snapshot()
            data = snap.to_cbor()
            state = Digest.of(data)
            m.effect_handler = None
            _MACHINES[(state, image, input, memory_limit)] = m
            while len(_MACHINES) > _KEEP:
                _MACHINES.popitem(last=False)
            return GuestSuspended(data, state, encode(p.request), m.cycle)
    except CoprocessorError as exc:
        return (type(exc).__name__, str(exc), dict(vars(exc)))
    res = m.result()
    return GuestFinished(res.exit_code, res.stdout, res.public_output, res.cycles,
                         len(m.memory.pages) * 4096, res.halt_reason)


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
