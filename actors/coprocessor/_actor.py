"""The co-processor actor: guest runs and witness regeneration behind messages.

:class:`CoprocessorActor` handles :class:`RunProgram` (-> :class:`RunOutcome`),
:class:`RecordWitness` (-> :class:`WitnessRecorded`) and :class:`ReadWitness`
(-> :class:`WitnessRows`).  All CPU work goes through ``env.run_in_worker``:
a worker process under RealEnv (the event loop stays responsive), inline under
SimEnv (deterministic).  The worker functions are module-level and take plain
values, and they are also the library's synchronous entry points
(:func:`run_execution`, :func:`record_execution`).

A guest that fails (cycle limit, fault, bad ELF, memory limit) is an expected
outcome, not an actor crash: the asker gets :class:`stele.RemoteError` whose
cause is :class:`GuestRunFailed` naming the original error, and the actor
keeps its state.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from stele import Actor, ActorRef, RejectMessage
from stele.protocol import Digest

from ._binding import Execution
from ._checkpoint import CheckpointSet, choose_interval, record, split_ranges
from ._errors import CoprocessorError
from ._messages import (
    ReadWitness,
    RecordWitness,
    RunLimits,
    RunOutcome,
    RunProgram,
    WitnessRecorded,
    WitnessRows,
)
from ._stream import regenerate_ranges_async
from ._stream_errors import GuestRunFailed, StreamError

__all__ = ["CoprocessorActor", "run_execution", "record_execution", "run_program"]

_Failure = tuple[str, str]


def _failure(exc: CoprocessorError) -> _Failure:
    return (type(exc).__name__, str(exc))


def run_execution(
    image: bytes, input: bytes, max_cycles: int, memory_limit: int
) -> RunOutcome | _Failure:
    """Run a guest on the fast path; a :class:`RunOutcome` or ``(error kind, message)``.

    Module-level and picklable so that it can run in a worker process.
    """
    try:
        ex = Execution(image, input, max_cycles, memory_limit)
        machine = ex.machine()
        result = machine.run(max_cycles)
        digest = machine.snapshot().digest()
    except CoprocessorError as exc:
        return _failure(exc)
    return RunOutcome(
        exit_code=result.exit_code,
        stdout=result.stdout,
        public_output=result.public_output,
        cycles=result.cycles,
        state_digest=digest,
        halt_reason=result.halt_reason,
    )


def record_execution(
    image: bytes, input: bytes, max_cycles: int, memory_limit: int, workers: int
) -> tuple[bytes, str] | _Failure:
    """Record a witness run's checkpoints; ``(CBOR bytes, digest text)`` or a failure.

    The run's length T is measured first on the fast path, then the
    interval is T/``workers`` (or about sqrt(T) when ``workers`` is 0) and
    a second fast-path run takes the checkpoints; the witness itself is
    generated later, from them, by :class:`ReadWitness`.
    """
    try:
        ex = Execution(image, input, max_cycles, memory_limit)
        total = ex.run_fast().cycles
        interval = choose_interval(total, workers or None)
        # checkpoints on the fast path: equal to a witness run's, and cheaper
        data, digest = record(ex, interval, witness=False).to_bytes(ex)
    except CoprocessorError as exc:
        return _failure(exc)
    return data, str(digest)


def _raise_failure(result: object) -> None:
    if isinstance(result, tuple) and len(result) == 2 and all(isinstance(x, str) for x in result):
        raise RejectMessage(GuestRunFailed(result[0], result[1]))


class CoprocessorActor(Actor):
    """Runs guests and serves their witnesses (see the module docstring).

    Keeps the checkpoints of the last ``max_recordings`` recorded runs (in
    memory, O(M * K + pages) each) so that :class:`ReadWitness` can
    regenerate any range of them.
    """

    def __init__(self, max_recordings: int = 4) -> None:
        if max_recordings < 1:
            raise StreamError(f"max_recordings={max_recordings} is below the minimum 1")
        self._max = max_recordings
        self._recordings: OrderedDict[Digest, tuple[Execution, CheckpointSet]] = OrderedDict()

    async def receive(self, message: object) -> object:
        if isinstance(message, RunProgram):
            return await self._run(message)
        if isinstance(message, RecordWitness):
            return await self._record(message)
        if isinstance(message, ReadWitness):
            return await self._read(message)
        raise RejectMessage(
            StreamError(f"the co-processor does not handle {type(message).__name__}")
        )

    async def _run(self, msg: RunProgram) -> RunOutcome:
        lim = msg.limits
        result = await self.env.run_in_worker(
            run_execution, msg.program, msg.input, lim.max_cycles, lim.memory_limit
        )
        _raise_failure(result)
        assert isinstance(result, RunOutcome)
        return result

    async def _record(self, msg: RecordWitness) -> WitnessRecorded:
        lim = msg.limits
        result = await self.env.run_in_worker(
            record_execution, msg.program, msg.input, lim.max_cycles, lim.memory_limit,
            msg.workers,
        )
        _raise_failure(result)
        data, digest_text = result
        assert isinstance(data, bytes)
        digest = Digest.parse(digest_text)
        ex = Execution(msg.program, msg.input, lim.max_cycles, lim.memory_limit)
        cps = CheckpointSet.from_bytes(data, digest, ex)
        self._recordings[digest] = (ex, cps)
        self._recordings.move_to_end(digest)
        while len(self._recordings) > self._max:
            self._recordings.popitem(last=False)
        return WitnessRecorded(
            checkpoints=digest,
            total_cycles=cps.total_cycles,
            columns=cps.columns,
            interval=cps.interval,
            checkpoint_count=len(cps.checkpoints),
            checkpoint_bytes=len(data),
        )

    async def _read(self, msg: ReadWitness) -> WitnessRows:
        entry = self._recordings.get(msg.checkpoints)
        if entry is None:
            raise RejectMessage(
                StreamError(f"no recorded witness under checkpoints={msg.checkpoints}")
            )
        ex, cps = entry
        stop = msg.start + msg.length
        if stop > cps.total_cycles:
            raise RejectMessage(
                StreamError(f"rows [{msg.start}, {stop}) are outside [0, {cps.total_cycles})")
            )
        k = len(cps.columns)
        parts = [
            (msg.start + s, msg.start + e)
            for s, e in split_ranges(msg.length, min(msg.workers, max(1, msg.length)))
        ]
        rows = await regenerate_ranges_async(self.env, ex, cps, parts)
        flat = np.concatenate(rows) if rows else np.zeros((0, k), dtype=np.uint32)
        return WitnessRows(msg.start, msg.length, k, flat.astype("<u4").tobytes())


async def run_program(
    ref: ActorRef,
    program: bytes,
    input: bytes = b"",
    limits: RunLimits | None = None,
    timeout: float | None = None,
) -> RunOutcome:
    """Ask a :class:`CoprocessorActor` to run ``program`` on ``input`` within ``limits``."""
    reply = await ref.ask(RunProgram(program, input, limits or RunLimits()), timeout=timeout)
    if not isinstance(reply, RunOutcome):
        raise StreamError(f"co-processor replied {type(reply).__name__}, expected RunOutcome")
    return reply
