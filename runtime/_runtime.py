"""The embedding API: ``stele.open_runtime`` starts the execution services in-process.

::

    async with stele.open_runtime("./.stele") as rt:
        names = await rt.store(source)                  # name -> Digest
        r = await rt.execute("fib", [20], limits=ExecLimits(fuel=10**6))
        r.value, r.cost, r.usage, r.journal_digest, r.memo_hit

It starts one supervisor (``services``) with the repository, allocator,
memo cache, co-processor and executor actors on an :class:`stele.ActorSystem`
over the given Env (``RealEnv`` by default; ``stele.sim.SimEnv`` under
simulation).  Executions run as tasks of the runtime's own task group, so
leaving the ``async with`` cancels whatever is still running (and every
grant is released).  Only anyio is used, so the runtime works inside trio
and asyncio programs alike.

``path`` is the store: a ``.sqlite`` file, or a directory holding
``store.sqlite`` (created if missing); ``None`` keeps everything in memory.
Under a simulated Env the path names a file on its simulated disk.
The KV effect's table and the memo cache's level two live in the same file;
each is served by a writer task whose SQLite work runs in a worker thread in
group commits (a KV write is answered once its batch is durable), so the
event loop never waits on the disk.

Names are resolved by the repository; the executor remembers a resolution
for one second of Env time (or until this runtime stores something), so a
name rebound by *another process* is seen within a second.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio

from ._core._actor import ActorRef
from ._core._actor_errors import RemoteError
from ._core._env import Env
from ._core._spawn import open_spawn_group
from ._collector import GC_POLICIES, IdleCollector
from ._errors import SteleError
from ._core._observer import KernelObserver
from ._core._supervise import ChildSpec, Strategy, Supervisor
from ._core._system import ActorSystem
from .protocol import Digest

if TYPE_CHECKING:  # the services load lazily, on first use of the runtime
    from .actors.allocator import Resources, Status
    from .actors.cache import MemoStatsReply
    from .actors.executor import CancelHandle, ExecLimits, Execute, ExecResult, ExecutorStats
    from .actors.sandbox import LogSink, Policy
    from ._profiler._live import RuntimeTrace

__all__ = ["open_runtime", "Runtime", "RuntimeStats"]


def _default_capacity() -> Resources:
    from .actors.allocator import Resources
    return Resources(fuel=1 << 60, memory=1 << 40, wall_ns=1 << 62, cycles=1 << 60, slots=64,
                     storage=1 << 40)


@dataclass(frozen=True, slots=True)
class RuntimeStats:
    """A snapshot of the runtime's counters."""

    executor: ExecutorStats
    cache: MemoStatsReply
    allocator: Status


class Runtime:
    """A running set of execution services (returned by :func:`open_runtime`)."""

    def __init__(self, system: ActorSystem, path: str | None, kv: Any = None,
                 tracers: list[Any] | None = None) -> None:
        self.system = system
        self.path = path
        self._tracers = tracers if tracers is not None else []
        self._executor: ActorRef | None = None
        self._default_limits: ExecLimits | None = None
        self._kv = kv

    def _ref(self, name: str) -> ActorRef:
        return self.system.lookup(name)

    async def _ask(self, name: str, message: object, timeout: float | None = None) -> Any:
        return await self._ref(name).ask_unboxed(message, timeout)

    async def store(self, source: str, *, filename: str = "<input>", namespace: str = ""
                    ) -> dict[str, Digest]:
        """Store TEL ``source``; returns bound name -> digest (typed TEL/store errors)."""
        from .actors.repository._messages import StoreSource, StoredNames
        from .actors.executor import NamesChanged
        reply = await self._ask("repository", StoreSource(source, filename, namespace))
        assert isinstance(reply, StoredNames)
        await self._ref("executor").send(NamesChanged())
        return reply.as_dict()

    async def store_blob(self, data: bytes, *, name: str | None = None) -> Digest:
        """Store a RISC-V guest ELF (kind ``riscv.elf``), optionally naming it."""
        from .actors.repository._messages import PutBlob, Resolved
        from .actors.executor import NamesChanged
        reply = await self._ask("repository", PutBlob(data, name=name))
        assert isinstance(reply, Resolved)
        await self._ref("executor").send(NamesChanged())
        return reply.digest

    async def resolve(self, target: str) -> Digest:
        """The digest a name, digest or unique prefix denotes."""
        from .actors.repository._messages import Resolve, Resolved
        reply = await self._ask("repository", Resolve(target))
        assert isinstance(reply, Resolved)
        return reply.digest

    async def execute(self, target: str | Digest, args: Sequence[Any] | bytes = (), *,
                      limits: ExecLimits | None = None, policy: Policy | None = None,
                      engine: str = "tel", tenant: str = "default", memo: bool = True,
                      prove: bool = False, durable: str | None = None) -> ExecResult:
        """Run stored code; returns an :class:`stele.actors.executor.ExecResult`.

        ``durable`` makes it a durable execution with that id: every effect is
        journaled in the store before the program goes on, and a later run
        with the same id (or :meth:`resume`) replays the journal instead of
        performing its effects again (``docs/durable.md``).

        ``args`` are the entry's TEL arguments, or for ``engine="riscv"`` the
        guest's input (``bytes``, or a one-element list holding it).

        With ``prove=True`` (guests only) the result's ``receipt`` is a
        :class:`stele.actors.receipts.Receipt` of the run, stored next to the
        result; what cannot be proven raises ``NotProvable``.

        Raises the execution's typed error (``EffectDenied``,
        ``CostLimitExceeded``, ``ExecutionTimeout``, ``UnknownTarget``, ...).
        Cancelling the caller cancels the execution (and its nested ones),
        which then release their grants.
        """
        from .actors.executor import CancelHandle, ExecLimits, Execute
        from .actors.sandbox import DENY_ALL
        handle = CancelHandle()
        if isinstance(args, (bytes, bytearray)):
            args = [bytes(args)]
        if limits is None:
            limits = self._default_limits or ExecLimits()
            self._default_limits = limits
        request = Execute(str(target), tuple(args), limits,
                          policy or DENY_ALL, engine, tenant, memo and durable is None, handle,
                          durable=durable, prove=prove)
        return await self._run(request, handle)

    async def resume(self, ident: str) -> ExecResult:
        """Finish the durable execution ``ident`` (after a crash, or on demand).

        Journaled effects are answered from the journal, never performed
        again; the program continues live from the first unjournaled one.
        A finished execution answers its stored result.  Raises
        ``UnknownExecution``, or ``DurableMismatch`` when the code under its
        name or the cost table changed since it started.
        """
        from dataclasses import replace as _replace

        from .actors.executor import CancelHandle
        from .actors.executor._durable import request_of
        from .actors.sandbox._durable import UnknownExecution
        from .actors.sandbox._handlers import own_kv
        await own_kv(self._kv)  # the durable tables are read on the loop, between writer batches
        stored = self.durable_store().get(ident)
        if stored is None:
            raise UnknownExecution(ident)
        handle = CancelHandle()
        return await self._run(_replace(request_of(ident, stored.header), handle=handle), handle)

    async def durable_journal(self, ident: str) -> tuple[Any, list[bytes]]:
        """The stored durable execution ``ident`` and its journal (canonical CBOR rows).

        Returns ``(StoredExecution, entries)``; raises ``UnknownExecution``.
        Reads only: nothing runs (the debugger replays from this).
        """
        from .actors.sandbox._durable import UnknownExecution
        from .actors.sandbox._handlers import own_kv
        await own_kv(self._kv)  # the durable tables are read on the loop, between writer batches
        store = self.durable_store()
        stored = store.get(ident)
        if stored is None:
            raise UnknownExecution(ident)
        return stored, store.entries(ident)

    def durable_store(self) -> Any:
        """The store's durable tables (:class:`stele.actors.sandbox._durable.DurableStore`)."""
        from .actors.executor._durable import durable_store
        assert self._kv is not None
        return durable_store(self._kv)

    async def _run(self, request: Any, handle: Any) -> ExecResult:
        if self._executor is None:
            self._executor = self._ref("executor")
        return await ask_execute(self._executor, request, handle)

    @contextmanager
    def trace(self, path: str | None = None) -> Iterator[RuntimeTrace]:
        """Record the execution-context tree of every execution started inside the block.

        Yields a :class:`~stele.RuntimeTrace`; its ``document()`` is Chrome
        trace-event / Perfetto JSON (open it at https://ui.perfetto.dev): one
        track per top-level execution, with nested slices for its allocator
        wait, its effects and the ``Exec.call`` children they ran, on the
        runtime Env's clock.  With ``path`` the document is also written
        there when the block ends (also when it ends by an exception).
        Traces nest and overlap; each sees only this runtime's executions.
        """
        from ._profiler._live import RuntimeTrace

        rec = RuntimeTrace()
        self._tracers.append(rec)
        try:
            yield rec
        finally:
            self._tracers.remove(rec)
            if path is not None:
                rec.write(path)

    async def stats(self) -> RuntimeStats:
        """Executor, memo cache and allocator counters."""
        from .actors.allocator import AllocatorStatus
        from .actors.cache import MemoStatsRequest
        from .actors.executor import ExecutorStatsRequest
        return RuntimeStats(await self._ask("executor", ExecutorStatsRequest()),
                            await self._ask("cache", MemoStatsRequest()),
                            await self._ask("allocator", AllocatorStatus()))


async def ask_execute(executor: ActorRef, request: Execute, handle: CancelHandle
                      ) -> ExecResult:
    """Ask the executor actor to run ``request``; its result, or its typed error unboxed.

    Shared by the embedded :meth:`Runtime.execute` and the daemon: if the
    caller is cancelled before the answer arrives, ``handle`` is cancelled
    too, so the execution (and its nested ones) stops and releases its grants.
    """
    from .actors.executor import ExecResult

    answered = False
    cause: BaseException | None = None
    try:
        reply = await executor.ask(request, timeout=math.inf)
        answered = True
    except RemoteError as exc:
        answered = True
        cause = exc.cause
    finally:
        if not answered:  # we were cancelled: so is the execution
            handle.cancel()
    if cause is not None:
        # Raised outside the except block, so the box is not the cause's
        # __context__ (the box points at the cause: a reference cycle through
        # both tracebacks and their frames, which only a full garbage
        # collection -- a pause of the event loop -- could free), and no local
        # of this frame, which the traceback holds, keeps the error.
        try:
            raise cause
        finally:
            del cause
    assert isinstance(reply, ExecResult)
    return reply


def _store_file(path: str | None) -> str | None:
    if path is None:
        return None
    if path.endswith((".sqlite", ".db")):
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        return path
    os.makedirs(path, exist_ok=True)
    return os.path.join(path, "store.sqlite")


def _sim_store_file(path: str | None) -> str | None:
    """The store file on a simulated Env's disk (no real directory is made)."""
    if path is None or path.endswith((".sqlite", ".db")):
        return path
    return f"{path.rstrip('/')}/store.sqlite"


@asynccontextmanager
async def _unwrapped() -> AsyncIterator[None]:
    """Re-raise a lone error out of the runtime's task groups as itself (see `_lone_error`)."""
    try:
        yield
    except BaseExceptionGroup as group:
        leaf = _lone_error(group)
        if leaf is None:
            raise
        raise leaf from None


def _store_error(path: str | None, exc: BaseException) -> SteleError:
    from .store import StoreError

    return StoreError(f"cannot open the store at {path!r}: {exc}")


def _lone_error(group: BaseExceptionGroup) -> BaseException | None:
    """The single error a (nested) exception group carries, if there is exactly one.

    Task groups wrap whatever leaves them, so an ``EffectDenied`` raised in
    the body of ``async with open_runtime()`` would otherwise reach the
    caller as an ``ExceptionGroup`` that ``except EffectDenied`` misses.
    Cancellation is never unwrapped (it belongs to the caller's scopes).
    """
    leaves: list[BaseException] = []

    def walk(e: BaseException) -> None:
        if isinstance(e, BaseExceptionGroup):
            for inner in e.exceptions:
                walk(inner)
        else:
            leaves.append(e)

    walk(group)
    if len(leaves) != 1:
        return None
    leaf = leaves[0]
    if isinstance(leaf, Exception) or isinstance(leaf, KeyboardInterrupt):
        return None if isinstance(leaf, anyio.get_cancelled_exc_class()) else leaf
    return None


@asynccontextmanager
async def open_runtime(path: str | None = None, *, env: Env | None = None,
                       capacity: Resources | None = None, log_sink: LogSink | None = None,
                       observer: KernelObserver | None = None,
                       restart_intensity: int = 10, gc: str = "idle") -> AsyncIterator[Runtime]:
    """Start the supervised execution services; stop them (and running executions) on exit.

    ``capacity`` is the root allocator's :class:`Resources` (default: 64
    slots, effectively unlimited amounts); ``log_sink(execution, message)``
    receives every ``Log.emit``; ``observer`` is the kernel observer (the
    simulator's crash injection); ``restart_intensity`` is how many restarts
    per 5 s of Env time the services' supervisor allows before giving up.
    ``gc`` is the cyclic garbage collector's policy while the runtime is open:
    ``"idle"`` (the default) moves CPython's full collections to moments when
    no execution runs, so that they do not freeze the event loop under load
    (see :mod:`stele._collector`; process-wide, restored on exit);
    ``"python"`` leaves the collector alone.  The simulator always leaves it alone.
    """
    from ._core._realenv import RealEnv
    from .actors.allocator import AllocatorActor
    from .actors.cache import MemoCache, MemoCacheActor
    from .actors.coprocessor import CoprocessorActor
    from .actors.executor import ExecutorActor
    from .actors.prover import ProverActor
    from .actors.repository import RepositoryActor
    from .actors.sandbox import KVStore
    from .store import StoreUnavailable

    env = env or RealEnv()
    if gc not in GC_POLICIES:
        raise ValueError(f"open_runtime(gc={gc!r}): the policy must be one of "
                         f"{', '.join(map(repr, GC_POLICIES))}")
    collector = IdleCollector(env.now_ns) if gc == "idle" and not env.simulated else None
    tracers: list[Any] = []  # Runtime.trace's recorders; kept across executor restarts
    try:  # a bad store path (a user's --store) is a typed error, not an OSError traceback
        file = _sim_store_file(path) if env.simulated else _store_file(path)
        kv = KVStore(file, env=env)
    except (OSError, sqlite3.Error) as exc:
        raise _store_error(path, exc) from None
    except StoreUnavailable as exc:  # KVStore's typed open error: name the store, once
        raise _store_error(path, exc.__cause__ or exc) from None
    try:
        memo = MemoCache(disk_path=file, env=env)
    except (OSError, sqlite3.Error) as exc:
        kv.close()
        raise _store_error(path, exc) from None
    if collector is not None:
        collector.install()
    try:
        async with _unwrapped(), ActorSystem(env, observer=observer) as system:
            async with open_spawn_group() as executions:  # a task per execution: the cheap kind
                # The KV table's and the memo cache's SQLite work: one writer task each,
                # in group commits in a worker thread, never on the event loop.
                await executions.start(kv.attach_writer(env).serve)
                memo_writer = memo.attach_writer(env)
                if memo_writer is not None:
                    await executions.start(memo_writer.serve)
                children = [
                    ChildSpec("repository", RepositoryActor, (file,)),
                    ChildSpec("allocator", AllocatorActor, (capacity or _default_capacity(),)),
                    ChildSpec("cache", partial(MemoCacheActor, shared=memo), (file,)),
                    ChildSpec("coprocessor", partial(CoprocessorActor, spawn=executions.start_soon),
                              ()),
                    ChildSpec("prover", ProverActor, ()),
                    ChildSpec("executor", partial(ExecutorActor, log_sink=log_sink, memo=memo,
                                                  collector=collector, tracers=tracers),
                              (executions.start_soon, kv)),
                ]
                await system.spawn("services", Supervisor, children, Strategy.ONE_FOR_ONE,
                                   restart_intensity, 5.0)
                try:
                    yield Runtime(system, file, kv, tracers)
                    # A graceful exit commits the writes still queued (memo entries
                    # are fire-and-forget) before the writers are cancelled.
                    with anyio.CancelScope(shield=True):
                        for writer in (kv.writer, memo_writer):
                            if writer is not None and writer.serving:
                                await writer.flush()
                finally:
                    executions.cancel_scope.cancel()
    finally:
        if collector is not None:
            collector.uninstall()
        memo.close()
        kv.close()
