"""CPU-bound TEL runs off the event loop: the worker pool and cooperative deadlines.

One *run* is one ``Program.call`` of a stored definition, replaying the
effect replies known so far (see ``_executor``: a ``perform`` whose reply is
not known yet ends the run with :class:`Suspended`).  :class:`TelRunner`
decides where a run happens:

* under simulation (``env.simulated``) always inline, in the calling task,
  so the run is deterministic; its deadline is checked on *modelled* CPU
  time, :data:`SIM_NS_PER_FUEL` virtual nanoseconds per fuel unit on top of
  the virtual clock, so a timeout stops a CPU-bound run at the same fuel
  count in every replay of a seed;
* under a real Env, a program whose last run was short (under
  ``inline_fuel``) runs inline, but only for :data:`INLINE_SLICE_NS` of
  real time: past that it is *preempted* (its partial work is discarded,
  nothing of it is observable) and the run starts again in a worker
  process, as every later run of that program does at once.  So no run
  holds the event loop for much more than the inline slice, on the first
  run of a program as on later ones;
* in a worker process: ``env.run_in_worker(tel_job, ...)``
  (:mod:`stele.tel._job`; a worker imports only ``stele.tel``, and keeps
  the programs it compiled).

Deadlines are checked cooperatively on the fuel counter: the interpreter
hands out fuel in slices of :data:`CHECK_EVERY` units and calls a
:class:`CpuCheck` before each further slice; past the deadline the check
stops the run.  Inline, the runner then waits (on the Env clock) for the
deadline's cancel scope to fire, so the timeout is reported by the level
that set it, exactly as for a run that was waiting on an effect.  In a
worker, the job answers ``("stopped", spent)`` the same way; a worker that
does not answer within :data:`GRACE_S` of the deadline (a host operation
that does not reach a fuel check) is killed.  A cancellation that is not
the deadline (the caller gave up, the runtime is stopping) kills the worker
at once.  A worker that dies -- a crash, a signal, running out of memory --
is reported as :class:`WorkerCrashed`; the pool starts a fresh worker for
the next job, and the runtime goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import anyio

from ..._core._env import Env
from ...tel import EvalResult, Limits, Program
from ...tel import _profile as tel_profile
from ...tel._job import (CHECK_EVERY, CpuCheck, DeadlineReached, Preempted, Request, Suspended,
                         call_once, rebuild, tel_job, worker_ready)
from ._errors import WorkerCrashed

__all__ = ["TelRunner", "Suspended", "INLINE_SLICE_NS", "GRACE_S", "SIM_NS_PER_FUEL",
           "CHECK_EVERY"]

#: Real time an inline run may take before it moves to a worker process.
INLINE_SLICE_NS = 5_000_000
#: The largest single charge (fuel) an inline run may make; a larger one moves it to a worker.
INLINE_MAX_CHARGE = 50_000
#: How long after its deadline a worker may take to answer before it is killed.
GRACE_S = 0.25
#: Modelled CPU time per fuel unit under simulation (about this machine's interpreter).
SIM_NS_PER_FUEL = 100

_Outcome = EvalResult | Suspended
#: serves an effect that does not wait inside an inline run (``tel._job.Replay``)
Serve = Callable[[str, str, tuple[Any, ...]], Any]


# -- the runtime side ------------------------------------------------------------


class _PoolState:
    """What the runtime knows of one Env's worker processes (anyio's process pool).

    ``ready`` counts workers believed started and idle or busy, ``busy``
    the jobs in flight, ``cap`` the pool's size.  A run with a deadline that
    would need a new worker first starts one, shielded, with a job that only
    imports the TEL engine: a worker's start-up (a fresh interpreter and its
    imports, half a second or more on a busy machine) is then never counted
    against a run's deadline, and a short timeout never kills a worker that
    was still starting.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.ready = 0
        self.busy = 0

    async def start_one(self, env: Env) -> None:
        with anyio.CancelScope(shield=True):
            await env.run_in_worker(worker_ready)
        self.ready = min(self.cap, self.ready + 1)

    def lost(self) -> None:
        """A worker was killed or died."""
        self.ready = max(0, self.ready - 1)


_POOLS: WeakKeyDictionary[Env, _PoolState] = WeakKeyDictionary()


def _pool_state(env: Env) -> _PoolState:
    state = _POOLS.get(env)
    if state is None:
        cap = getattr(env, "_max_workers", None) or os.cpu_count() or 1
        state = _POOLS[env] = _PoolState(cap)
    return state


class TelRunner:
    """Runs one execution's TEL runs inline or in a worker (see the module docstring).

    ``deadline_ns`` is the execution's deadline on the Env clock (the
    nearest of its own and its ancestors'), or None.  ``spent`` accumulates
    the fuel of runs stopped at the deadline (for usage accounting).
    """

    def __init__(self, env: Env, target: str, deadline_ns: int | None) -> None:
        self.env = env
        self.target = target
        self.deadline_ns = deadline_ns
        self.stopped_fuel = 0

    async def run(self, pool: Any, program: Program, args: list[Any], limits: Limits,
                  replies: list[tuple[Request, Any]], inline_fuel: int,
                  serve: Serve | None = None, *, force_inline: bool = False) -> _Outcome:
        """One run of ``pool``'s program (a ``_ProgramPool``); ``program`` is for inline use.

        ``serve`` answers effects that do not wait inside an inline run (see
        ``tel._job.Replay``); ``force_inline`` keeps the run on the event loop
        (a durable execution: each effect must be journaled as it happens).
        """
        env = self.env
        if env.simulated:
            check = CpuCheck(env.now_ns, self.deadline_ns, None, SIM_NS_PER_FUEL)
            return await self._inline(program, pool.entry, args, limits, replies, check, serve)
        if tel_profile.active() is not None or force_inline:  # observed / journaled: inline
            check = CpuCheck(env.now_ns, self.deadline_ns, None)
            return await self._inline(program, pool.entry, args, limits, replies, check, serve)
        if pool.last_cost < inline_fuel:
            check = CpuCheck(env.now_ns, self.deadline_ns, env.now_ns() + INLINE_SLICE_NS,
                             preempt_charge=INLINE_MAX_CHARGE)
            try:
                return await self._inline(program, pool.entry, args, limits, replies, check,
                                          serve)
            except Preempted:
                pool.last_cost = max(pool.last_cost, inline_fuel)
        return await self._in_worker(pool, args, limits, replies)

    async def _inline(self, program: Program, entry: str, args: list[Any], limits: Limits,
                      replies: list[tuple[Request, Any]], check: CpuCheck,
                      serve: Serve | None = None) -> _Outcome:
        try:
            return call_once(program, entry, args, limits, replies, check, serve)
        except DeadlineReached:
            m = program.m
            await self._until_deadline(m.limit - m.fuel)
            raise AssertionError("unreachable")  # _until_deadline never returns

    async def _until_deadline(self, spent: int) -> None:
        """The run passed the deadline: wait for the deadline's scope to fire (it must)."""
        self.stopped_fuel += spent
        assert self.deadline_ns is not None
        wait = max(0, self.deadline_ns - self.env.now_ns()) / 1e9
        await self.env.sleep(wait + 3600.0)  # cancelled at the deadline, at the latest
        raise RuntimeError(f"internal: the deadline of {self.target!r} passed, but its "
                           "cancel scope did not fire")

    async def _in_worker(self, pool: Any, args: list[Any], limits: Limits,
                         replies: list[tuple[Request, Any]]) -> _Outcome:
        env = self.env
        check = (None if self.deadline_ns is None
                 else CpuCheck(env.process_clock(), self.deadline_ns))
        job = (pool.key, pool.blob(), pool.entry, args, limits, replies, check)
        result = await self._worker(job)
        kind, value = result
        if kind == "stopped":
            await self._until_deadline(value)
        if kind == "error":
            raise rebuild(value)
        if kind == "suspend":
            assert isinstance(value, Suspended)
        else:
            assert kind == "ok" and isinstance(value, EvalResult)
        pool.last_cost = value.cost if isinstance(value, EvalResult) else pool.last_cost
        return value  # type: ignore[no-any-return]

    async def _worker(self, job: tuple[Any, ...]) -> tuple[Any, ...]:
        """``tel_job(*job)`` in a worker; killed on cancellation unless it is the deadline."""
        env = self.env
        pool = _pool_state(env)
        if self.deadline_ns is not None and pool.busy >= pool.ready < pool.cap:
            await pool.start_one(env)  # a worker's start-up is not this run's time
        pool.busy += 1
        try:
            if self.deadline_ns is None:  # nothing to wait for: a cancellation kills it
                try:
                    result = await env.run_in_worker(tel_job, *job)
                except anyio.get_cancelled_exc_class():
                    pool.lost()
                    raise
            else:
                result = await self._worker_with_deadline(job, pool)
            pool.ready = max(pool.ready, min(pool.cap, pool.busy))
            return result
        except anyio.BrokenWorkerProcess as exc:
            pool.lost()
            raise WorkerCrashed(self.target, str(exc.__cause__ or exc) or "it exited") from None
        finally:
            pool.busy -= 1

    async def _worker_with_deadline(self, job: tuple[Any, ...], pool: _PoolState
                                    ) -> tuple[Any, ...]:
        """The job runs shielded until ``deadline + GRACE_S``; any other cancellation kills it.

        The deadline's own cancellation must not kill the worker: the job
        stops itself at the deadline and answers; killing a worker costs a
        fresh process.  A watcher task, outside the shield, sees every
        cancellation of the caller: one before the deadline (the caller gave
        up, the runtime stops) cancels the shielded call, which kills the
        worker.
        """
        env = self.env
        assert self.deadline_ns is not None
        result: tuple[Any, ...] | None = None
        crashed: anyio.BrokenWorkerProcess | None = None
        window = max(0, self.deadline_ns - env.now_ns()) / 1e9 + GRACE_S
        async with anyio.create_task_group() as tg:
            shielded = env.move_on_after(window)
            shielded.shield = True

            async def watch() -> None:
                try:
                    await anyio.sleep_forever()
                finally:
                    if self.deadline_ns is not None and env.now_ns() < self.deadline_ns:
                        shielded.cancel()  # not the deadline: stop the worker now

            tg.start_soon(watch)
            with shielded:
                try:
                    result = await env.run_in_worker(tel_job, *job)
                except anyio.BrokenWorkerProcess as exc:  # raised below, outside the group
                    crashed = exc
                else:
                    if result[0] == "stopped":  # recorded now: leaving the group may raise
                        self.stopped_fuel += result[1]  # the deadline's cancellation
                        result = ("stopped", 0)
            tg.cancel_scope.cancel()
        if crashed is not None:
            raise crashed
        if result is None:  # past deadline + grace (killed), or killed for the caller
            pool.lost()
            await self._until_deadline(0)
            raise AssertionError("unreachable")
        return result
