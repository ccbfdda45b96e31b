"""One SQLite connection's work, off the event loop, in group commits.

A :class:`StoreWriter` owns a connection.  Callers hand it small functions
of the connection (a KV put, a memo lookup) with :meth:`StoreWriter.call`
(wait for the result) or :meth:`StoreWriter.submit` (fire and forget); one
writer task (:meth:`StoreWriter.serve`, started in the runtime's task group)
takes everything queued, runs it in ONE transaction through
``Env.run_blocking`` (a worker thread under RealEnv, inline under SimEnv)
and only then answers the callers.  So:

* the event loop never waits on SQLite or on an fsync;
* one fsync covers a whole batch (group commit), however many executions
  wrote at once;
* a write is acknowledged only after the COMMIT that made it durable
  returned: an acknowledged write survives ``kill -9``.  If the COMMIT
  fails, every job of the batch fails (a read in the batch may have seen a
  write of it), typed by the ``errors`` callback, and nothing is
  acknowledged;
* jobs run in the order they were queued, on one connection, so a read
  sees every write queued before it;
* each job runs in its own SAVEPOINT: a job that raises (a typed error such
  as a damaged row) rolls back its own changes only, and gets its error.

Once it serves, the writer's batches own the connection: the connection's
owner routes every use through it, except synchronous work on the event
loop after :meth:`StoreWriter.exclusive` (no batch in flight, none can start
before the caller awaits) -- durable executions use that.  Under simulation the batch runs
inline in the writer task, and the order of jobs is the order of the
(deterministic) callers, so runs replay exactly.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

if TYPE_CHECKING:
    from .._core._env import Env

__all__ = ["StoreWriter", "WriterStopped"]

T = TypeVar("T")
log = logging.getLogger("stele.store.writer")

#: The most jobs one transaction takes (bounds one batch's time in the thread).
MAX_BATCH = 512


def _noop() -> None:
    return None


class WriterStopped(Exception):
    """The writer stopped (the runtime is closing) before the job ran; nothing was done."""


class _Job(Generic[T]):
    __slots__ = ("fn", "args", "done", "result", "error", "wait", "completed")

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...], wait: bool) -> None:
        self.fn = fn
        self.args = args
        self.wait = wait
        self.done: anyio.Event | None = anyio.Event() if wait else None
        self.result: T | None = None
        self.error: BaseException | None = None
        self.completed = False  # its batch committed (or failed as a whole): result is final


class StoreWriter:
    """Serves one connection's jobs in group commits (see the module docstring).

    ``errors(exc)`` turns a ``sqlite3.Error`` of BEGIN/COMMIT into the typed
    error the waiting callers get (e.g. ``StoreUnavailable``); ``on_drop(exc)``
    hears of every fire-and-forget job that failed (default: count it in
    :attr:`dropped`; a failing disk is expected under fault injection, so
    it is not logged as a warning).
    """

    def __init__(self, env: Env, db: Any, name: str,
                 errors: Callable[[sqlite3.Error], BaseException],
                 on_drop: Callable[[BaseException], None] | None = None) -> None:
        self.env = env
        self.db = db
        self.name = name
        self._errors = errors
        self._on_drop = on_drop
        self._queue: deque[_Job[Any]] = deque()
        self._wake: anyio.Event | None = None
        self.serving = False
        self.stopped = False
        #: a batch is in flight (its SQLite work may be running in the worker thread)
        self.busy = False
        self._idle: anyio.Event | None = None
        #: counters: transactions committed, jobs run, the largest batch, failed commits
        self.batches = 0
        self.jobs = 0
        self.largest_batch = 0
        self.failed_commits = 0
        self.dropped = 0  # fire-and-forget jobs that failed (logged, not raised)

    # -- the callers' side ----------------------------------------------------
    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the next batch; its result once the batch is durable."""
        if self.stopped:
            raise WriterStopped(f"the {self.name} writer has stopped")
        job: _Job[T] = _Job(fn, args, True)
        self._push(job)
        assert job.done is not None
        await job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)`` without waiting (an error is counted and logged)."""
        if self.stopped:
            self.dropped += 1
            return
        self._push(_Job(fn, args, False))

    async def flush(self) -> None:
        """Return once everything queued before this call is committed (or failed).

        Jobs run in queue order, so a waited no-op behind them is answered
        only after their batch's COMMIT.  A graceful close calls this before
        it cancels the writer, so fire-and-forget writes (a memo entry) are
        not lost when a short-lived process (one CLI command) exits.
        """
        if self.stopped or not self._queue and not self.busy:
            return
        try:
            await self.call(_noop)
        except Exception:  # noqa: BLE001 -- the batch failed (disk gone) or the writer stopped:
            # its waiting callers got the typed error and its fire-and-forget jobs
            # were counted as dropped; a flush has nothing to add (not even at close).
            pass

    async def exclusive(self) -> None:
        """Return once no batch is in flight: the caller owns the connection until it awaits.

        For the few users that need the connection synchronously on the event
        loop (a durable execution's KV write and journal row in one
        transaction, the durable tables): between this returning and the
        caller's next ``await`` no batch can start, since batches are started
        by the writer task on the same loop.
        """
        while self.busy:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()

    def _push(self, job: _Job[Any]) -> None:
        self._queue.append(job)
        wake = self._wake
        if wake is not None:
            self._wake = None
            wake.set()

    # -- the writer task --------------------------------------------------------
    async def serve(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                    ) -> None:
        """Run batches until cancelled; then fail whatever is still queued."""
        self.serving = True
        task_status.started()
        batch: list[_Job[Any]] = []
        try:
            while True:
                if not self._queue:
                    self._wake = anyio.Event()
                    await self._wake.wait()
                    continue
                batch = [self._queue.popleft()
                         for _ in range(min(MAX_BATCH, len(self._queue)))]
                self.busy = True
                try:
                    await self.env.run_blocking(self._run, batch)
                finally:
                    self.busy = False
                    idle, self._idle = self._idle, None
                    if idle is not None:
                        idle.set()
                self._finish(batch)
                batch = []
        finally:
            self.serving = False
            self.stopped = True
            leftover = [*batch, *self._queue]
            self._queue.clear()
            for job in leftover:
                if job.done is not None and not job.done.is_set():
                    if not job.completed:  # never ran, or its batch never reached COMMIT
                        job.result = None
                        job.error = WriterStopped(f"the {self.name} writer stopped")
                    job.done.set()

    def _finish(self, batch: list[_Job[Any]]) -> None:
        for job in batch:
            if job.done is not None:
                job.done.set()
            elif job.error is not None:
                self.dropped += 1
                log.debug("%s writer: a queued job failed: %s", self.name, job.error)
                if self._on_drop is not None:
                    self._on_drop(job.error)

    def _run(self, batch: list[_Job[Any]]) -> None:
        """One transaction over ``batch`` (in the worker thread; every error is captured)."""
        try:
            self._transaction(batch)
        finally:
            for job in batch:
                job.completed = True

    def _transaction(self, batch: list[_Job[Any]]) -> None:
        db = self.db
        self.jobs += len(batch)
        self.largest_batch = max(self.largest_batch, len(batch))
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._fail_all(batch, exc)
            return
        for job in batch:
            try:
                db.execute("SAVEPOINT job")
            except sqlite3.Error as exc:
                self._abort(batch, exc)
                return
            try:
                job.result = job.fn(*job.args)
            except Exception as exc:
                job.error = exc
                if not getattr(db, "in_transaction", True):
                    # SQLite rolled the whole transaction back (disk full, I/O error):
                    # the batch's earlier writes are gone too, so no job of it succeeded.
                    self._fail_all(batch, exc)
                    return
                try:
                    db.execute("ROLLBACK TO job")
                except sqlite3.Error as exc2:
                    self._abort(batch, exc2)
                    return
            try:
                db.execute("RELEASE job")
            except sqlite3.Error as exc:
                self._abort(batch, exc)
                return
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._abort(batch, exc)
            return
        self.batches += 1

    def _abort(self, batch: list[_Job[Any]], exc: sqlite3.Error) -> None:
        if getattr(self.db, "in_transaction", False):
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:  # the original error is the one to report
                pass
        self._fail_all(batch, exc)

    def _fail_all(self, batch: list[_Job[Any]], exc: BaseException) -> None:
        """Every job of ``batch`` fails (each with its own error object: they are raised
        in different tasks); a job whose own error rolled the batch back keeps it."""
        self.failed_commits += 1
        cause = exc if isinstance(exc, sqlite3.Error) else sqlite3.OperationalError(
            f"the transaction was rolled back: {exc}")
        for job in batch:
            job.result = None
            if job.error is not exc:
                job.error = self._errors(cause)
