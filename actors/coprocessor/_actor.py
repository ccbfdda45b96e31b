"""The co-processor actor: guest runs and witness regeneration behind messages.

:class:`CoprocessorActor` handles :class:`RunProgram` (-> :class:`RunOutcome`),
:class:`RecordWitness` (-> :class:`WitnessRecorded`), :class:`ReadWitness`
(-> :class:`WitnessRows`), and the suspend/resume pair :class:`RunGuest` /
:class:`ResumeGuest` (-> :class:`GuestFinished` or :class:`GuestSuspended`)
with which the executor runs stored guests: a guest runs until it exits,
reaches its exact cycle limit or makes an effect ``ecall``; the asker serves
the effect and resumes it from the snapshot (see ``_session``).  All CPU work goes through ``env.run_in_worker``:
a worker process under RealEnv (the event loop stays responsive), inline under
SimEnv (deterministic).  The worker functions are module-level and take plain
values, and they are also the library's synchronous entry points
(:func:`run_execution`, :func:`record_execution`).

A guest that fails (cycle limit, fault, bad ELF, memory limit) is an expected
outcome, not an actor crash: the asker gets :class:`stele.RemoteError` whose
cause is :class:`GuestRunFailed` naming the original error, and the actor
keeps its state.  A failed :class:`RunGuest` / :class:`ResumeGuest` gives the
original typed error (e.g. :class:`CycleLimitExceeded`) as the cause instead.

Given a ``spawn`` function (the runtime's task group's ``start_soon``), the
actor answers guest steps from child tasks, so several guests run at once
(one worker process each) and a step whose asker gave up (timeout,
cancellation) is cancelled, which stops its worker.  Without one, steps are
answered one at a time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

import anyio

import numpy as np

from stele import Actor, ActorRef, RejectMessage
from stele._core._actor import Reply
from stele.protocol import Digest

from ._binding import Execution
from ._checkpoint import CheckpointSet, choose_interval, record, split_ranges
from ._errors import CoprocessorError
from ._messages import (
    GuestFinished,
    GuestStopped,
    GuestSuspended,
    ReadWitness,
    ResumeGuest,
    RunGuest,
    RecordWitness,
    RunLimits,
    RunOutcome,
    RunProgram,
    WitnessRecorded,
    WitnessRows,
)
from ._session import (SIM_NS_PER_CYCLE, GuestDeadline, guest_step, guest_step_inline,
                       rebuild_failure)
from ._stream import regenerate_ranges_async
from ._stream_errors import GuestRunFailed, StreamError

__all__ = ["CoprocessorActor", "run_execution", "record_execution", "run_program"]

_Failure = tuple[str, str]

#: How long after its deadline a guest's worker may take to answer before it is killed.
GRACE_S = 0.25


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


_StepArgs = tuple[bytes, bytes, int, int, "bytes | None", "Digest | None", bytes]


def _step_args(msg: RunGuest | ResumeGuest) -> _StepArgs:
    lim = msg.limits
    if isinstance(msg, RunGuest):
        return (msg.program, msg.input, lim.max_cycles, lim.memory_limit, None, None, b"")
    return (msg.program, msg.input, lim.max_cycles, lim.memory_limit, msg.snapshot,
            msg.snapshot_digest, msg.reply)


def _step_reply(result: object) -> GuestFinished | GuestSuspended | GuestStopped:
    if isinstance(result, (GuestFinished, GuestSuspended, GuestStopped)):
        return result
    assert isinstance(result, tuple) and len(result) == 3
    raise RejectMessage(rebuild_failure(result))


class CoprocessorActor(Actor):
    """Runs guests and serves their witnesses (see the module docstring).

    Keeps the checkpoints of the last ``max_recordings`` recorded runs (in
    memory, O(M * K + pages) each) so that :class:`ReadWitness` can
    regenerate any range of them.
    """

    def __init__(self, max_recordings: int = 4,
                 spawn: Callable[[Callable[[], Coroutine[Any, Any, None]]], object] | None = None) -> None:
        if max_recordings < 1:
            raise StreamError(f"max_recordings={max_recordings} is below the minimum 1")
        self._max = max_recordings
        self._spawn = spawn
        self._recordings: OrderedDict[Digest, tuple[Execution, CheckpointSet]] = OrderedDict()

    async def receive(self, message: object) -> object:
        if isinstance(message, (RunGuest, ResumeGuest)):
            if self._spawn is None:
                return _step_reply(await self._guest_step(message))
            reply = self.defer_reply()
            self._spawn(lambda: self._step(message, reply))
            return None
        if isinstance(message, RunProgram):
            return await self._run(message)
        if isinstance(message, RecordWitness):
            return await self._record(message)
        if isinstance(message, ReadWitness):
            return await self._read(message)
        raise RejectMessage(
            StreamError(f"the co-processor does not handle {type(message).__name__}")
        )

    async def _guest_step(self, msg: RunGuest | ResumeGuest) -> object:
        """One guest step: inline on modelled time (simulation) or in a worker process.

        With a deadline the step stops itself at it (:class:`GuestStopped`);
        a worker that has not answered :data:`GRACE_S` after the deadline
        does not reach its checks (it is hung) and is killed.
        """
        env = self.env
        args = _step_args(msg)
        if env.simulated:
            deadline = (None if msg.deadline_ns is None
                        else GuestDeadline(env.now_ns, msg.deadline_ns, SIM_NS_PER_CYCLE))
            return await guest_step_inline(*args, deadline, msg.output_limit)
        try:
            if msg.deadline_ns is None:
                return await env.run_in_worker(guest_step, *args, None, msg.output_limit)
            check = GuestDeadline(env.process_clock(), msg.deadline_ns)
            window = max(0, msg.deadline_ns - env.now_ns()) / 1e9 + GRACE_S
            with env.move_on_after(window):
                return await env.run_in_worker(guest_step, *args, check, msg.output_limit)
        except anyio.BrokenWorkerProcess as exc:
            return ("WorkerLost", f"the worker process running the guest died: "
                    f"{exc.__cause__ or exc or 'it exited'}", {})
        return ("WorkerLost", f"the guest's worker did not stop within {GRACE_S} s of its "
                "deadline (hung): it was killed", {})

    async def _step(self, msg: RunGuest | ResumeGuest, reply: Reply) -> None:
        """One guest step in a child task, cancelled if its asker stops waiting.

        An asker that stops waiting *at* the step's deadline is the deadline
        itself: the step stops on its own within a chunk, and its worker is
        kept; any other give-up cancels the step (and kills its worker).
        """
        result: object = None
        async with anyio.create_task_group() as tg:
            if not self.env.simulated:  # inline under simulation: nothing to watch
                tg.start_soon(self._watch, reply, tg.cancel_scope, msg.deadline_ns)
            try:
                result = await self._guest_step(msg)
            except Exception as exc:  # a worker that died: the asker gets it, typed
                reply.fail(exc)
                return
            finally:
                tg.cancel_scope.cancel()
        if result is None:
            return
        try:
            reply.ok(_step_reply(result))
        except RejectMessage as exc:
            reply.fail(exc.cause)

    async def _watch(self, reply: Reply, scope: anyio.CancelScope,
                     deadline_ns: int | None) -> None:
        while reply.pending:
            await self.env.sleep(0.01)
        if deadline_ns is None or self.env.now_ns() < deadline_ns:
            scope.cancel()

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
