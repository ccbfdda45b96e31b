"""The executor actor: stored code by name or digest, in the sandbox, under grants.

``Execute`` messages are admitted by :meth:`ExecutorActor.receive`, which
takes over the reply (:meth:`stele.Actor.defer_reply`) and starts the run as
a child task in the runtime's task group (``spawn``); the actor is free for
the next message at once.  Concurrency is bounded by the allocator's
``slots``: a top-level execution holds one slot for its lifetime (waiting
for one if all are taken).

One execution:

1. resolve the target through the repository actor (name, digest or prefix);
2. consult the memo cache (top level, ``memo=True``): a hit is answered
   without running anything;
3. take a grant from the allocator actor -- a top-level execution under the
   root, an ``Exec.call`` child under its parent's grant, sized to what the
   parent has left, so it can never exceed it;
4. run under a cancel scope (``env.fail_after`` for a timeout):

   * TEL: ``Program.call`` with effects served by deterministic replay -- a
     ``perform`` suspends the run, the :class:`EffectSession` answers it
     (policy check, handler, journal), and the program is re-run with the
     replies so far (the same technique as ``stele.tel.evaluate_async``,
     applied to a definition call).  The fuel and memory a run had spent at
     the suspension bound an ``Exec.call`` child; the child's cost is then
     subtracted from the parent's fuel for the rest of the run and added
     to the parent's cost (``breakdown["exec"]``).
   * RISC-V: the guest ELF (a repository blob) runs on the
     :class:`CoprocessorActor` (a worker process under RealEnv, inline under
     SimEnv) in steps: ``RunGuest`` runs it until it exits, reaches its
     exact cycle limit or makes an effect ``ecall``; at an ``ecall`` the
     actor answers ``GuestSuspended`` (machine snapshot as canonical CBOR
     with its digest, the request, the cycles so far).  The executor serves
     the request through this execution's :class:`EffectSession` (policy
     check, handler, journal; a denial or handler error ends the run), and
     ``ResumeGuest`` continues from the snapshot: the ``ecall`` is
     re-executed with the reply, so cycle counts and final state are those
     of an uninterrupted run.

5. record usage on the grant, release it in a shielded ``finally`` (also on
   failure, timeout and cancellation), log the usage, and store a pure
   result (no effect performed) in the memo cache.
"""

from __future__ import annotations

import logging
import math
import pickle
import sys
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import anyio

from ..._core._actor import Actor, ActorRef, Reply
from ..._core._actor_errors import MailboxFull, RejectMessage, RemoteError
from ...protocol import Digest, decode, encode
from ...store import ELF_KIND, Loaded, WrongKind
from ...tel import COST_TABLE, EffectError, Limits, Program
from ..allocator import Granted, RecordUsage, Release, Resources
from ..allocator import allocate as allocator_allocate
from ..cache import CachedResult, MemoCache, MemoKey
from ..cache._actor import MemoLookup, MemoStore
from ..coprocessor import CycleLimitExceeded, GuestOutputLimit, RunLimits, load_elf
from ..coprocessor._messages import (GuestFinished, GuestStopped, GuestSuspended, ResumeGuest,
                                     RunGuest)
from ..repository._messages import GetObject, LoadReply, LoadTarget, ObjectRecord, Resolve, Resolved
from ..sandbox import WAITING, EffectSession, Journal, KVStore, LogSink
from ..sandbox._handlers import own_kv
from ..sandbox._values import value_from_cbor, value_to_cbor
from ..sandbox._durable import DurableLog, GuestSnapshot
from ._context import ExecutionContext, TraceEvent
from ._durable import finish_durable, open_durable
from ._errors import BadArguments, ExecutionTimeout, InternalTimeout, UnknownEngine
from ._guest import guest_failure, output_limit, wait_for_deadline
from ._pool import Suspended, TelRunner
from ._prove import PROVEN_ENGINE_SUFFIX, check_provable, prove_guest, receipt_field, stored_receipt
from ...tel._job import Suspend
from ._limits import check_nesting, describe, memoizable
from ._types import ENGINES, ExecLimits, Execute, ExecResult

if TYPE_CHECKING:
    from ..._collector import IdleCollector

__all__ = ["ExecutorActor", "Spawner", "ExecutorStatsRequest", "ExecutorStats", "NamesChanged"]

log = logging.getLogger("stele.executor")

#: Starts a coroutine function as a child task (the runtime's task group's ``start_soon``).
Spawner = Callable[[Callable[[], Awaitable[None]]], None]

#: Runs whose program last spent less fuel than this start inline (preempted after a slice).
_INLINE_FUEL = 200_000
#: Waiting effects (Clock.sleep, Exec.call) one TEL execution may perform (each costs a
#: re-run of the prefix; the others are served inside the run).
MAX_EFFECTS = 10_000
_EMPTY_JOURNAL = Journal().digest()


def _ensure_recursion_limit(depth: int) -> None:
    """Raise (never lower) the interpreter's recursion limit for a run of ``depth``.

    ``Program`` raises the limit for a run and restores it afterwards; with
    runs in worker threads overlapping runs on the event loop, one run's
    restore could pull the limit from under another.  Raising it here first,
    to what a run of this depth needs, means no run ever changes it.
    """
    need = 5000 + 60 * depth  # the interpreter's own estimate (tel._interp)
    if sys.getrecursionlimit() < need:
        sys.setrecursionlimit(need)


class _ProgramPool:
    """Compiled instances of one stored program (a ``Program`` is not reentrant).

    ``last_cost`` is the fuel the last run of it spent: runs expected to be
    short execute inline (preempted into a worker if they are not short after
    all), long ones in a worker process (inline under simulation): see
    ``_pool``.
    """

    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.entry = loaded.entry
        self.key = loaded.root.binary
        self.free: list[Program] = [loaded.program()]
        self.last_cost = 0
        self._blob: bytes | None = None

    def blob(self) -> bytes:
        """The pickled module of the closure, for worker processes (made once)."""
        if self._blob is None:
            self._blob = pickle.dumps(self.loaded.module, protocol=pickle.HIGHEST_PROTOCOL)
        return self._blob

    def acquire(self) -> Program:
        """An instance no other run is using (compiled on demand)."""
        return self.free.pop() if self.free else self.loaded.program()

    def release(self, program: Program) -> None:
        """Give an instance back (at most four are kept)."""
        if len(self.free) < 4:
            self.free.append(program)


@dataclass(frozen=True, slots=True)
class NamesChanged:
    """Tell the executor that names were rebound (it drops its resolution cache)."""


@dataclass(frozen=True, slots=True)
class ExecutorStatsRequest:
    """Ask for the executor's counters."""


@dataclass(frozen=True, slots=True)
class ExecutorStats:
    """Counters of the executor (since it started)."""

    started: int
    succeeded: int
    failed: int
    memo_hits: int
    running: int
    programs_cached: int
    cancelled: int = 0


class ExecutorActor(Actor):
    """Runs stored code (see the module docstring)."""

    def __init__(self, spawn: Spawner, kv: KVStore, *, repository: str = "repository",
                 allocator: str = "allocator", cache: str = "cache",
                 coprocessor: str = "coprocessor",
                 log_sink: LogSink | None = None, memo: MemoCache | None = None,
                 name_ttl: float = 1.0, collector: IdleCollector | None = None,
                 tracers: list[Callable[[ExecutionContext, TraceEvent], None]] | None = None
                 ) -> None:
        self._spawn = spawn
        #: the runtime's context observers (Runtime.trace); the list outlives restarts
        self._tracers = tracers
        self._collector = collector  # full GC collections at idle moments (stele._collector)
        self._collecting = False
        self._memo = memo
        self._resolved: dict[str, tuple[Digest, int]] = {}
        self._resolving: dict[str, anyio.Event] = {}  # target -> its resolution in flight
        self._name_ttl_ns = int(name_ttl * 1e9)
        self._kv = kv
        self._names = (repository, allocator, cache)
        self._coprocessor = coprocessor
        self._log_sink = log_sink
        self._programs: dict[Digest, _ProgramPool] = {}
        self._guests: dict[Digest, bytes] = {}
        self._counter = 0
        self._started = self._ok = self._failed = self._hits = self._running = 0
        self._cancelled = 0

    async def on_start(self) -> None:
        repo, alloc, cache = self._names
        self.repository: ActorRef = self.system.lookup(repo)
        self.allocator: ActorRef = self.system.lookup(alloc)
        self.cache: ActorRef = self.system.lookup(cache)
        self.coprocessor: ActorRef = self.system.lookup(self._coprocessor)

    async def receive(self, message: object) -> object:
        if isinstance(message, Execute):
            if message.engine not in ENGINES:
                raise RejectMessage(UnknownEngine(message.engine))
            if message.memo and self._memo is not None and not message.prove:  # fast path: a hit needs no task
                digest = self._cached_digest(message.target)
                if digest is not None:
                    hit = self._memo_get(message, digest, message.limits)
                    if hit is not None:
                        self._started += 1
                        self._ok += 1
                        return hit
            reply = self.defer_reply()
            # Counted as running from now, not from when its task starts: a stats
            # request handled in between must not see an idle executor.
            self._running += 1
            self._started += 1
            self._spawn(lambda: self._serve(message, reply))
            return None
        if isinstance(message, NamesChanged):
            self._resolved.clear()
            return None
        if isinstance(message, ExecutorStatsRequest):
            return ExecutorStats(self._started, self._ok, self._failed, self._hits,
                                 self._running, len(self._programs), self._cancelled)
        raise RejectMessage(TypeError(
            f"the executor does not handle {type(message).__name__} messages"))

    async def _serve(self, request: Execute, reply: Reply) -> None:
        try:
            with anyio.CancelScope() as scope:
                if request.handle is not None:
                    request.handle.attach(scope)
                try:
                    result = await self.execute(request)
                except Exception as exc:  # every failure goes back to the asker, typed
                    self._failed += 1
                    reply.fail(exc)
                else:
                    self._ok += 1
                    reply.ok(result)
            if scope.cancelled_caught:
                self._failed += 1
                self._cancelled += 1
                log.info("execution of %s cancelled: its asker stopped waiting", request.target)
        finally:
            self._running -= 1
            if (self._running == 0 and self._collector is not None and not self._collecting
                    and self._collector.due()):
                self._collecting = True
                self._spawn(self._collect_if_idle)

    async def _collect_if_idle(self) -> None:
        """A full GC collection, in its own task step (after the last reply was delivered)."""
        try:
            if self._running == 0 and self._collector is not None:
                self._collector.idle()
        finally:
            self._collecting = False

    # -- one execution ----------------------------------------------------------
    async def execute(self, request: Execute, parent: ExecutionContext | None = None,
                      budget: Resources | None = None) -> ExecResult:
        """Run ``request`` (as a child of ``parent`` within ``budget`` when nested)."""
        check_provable(request)
        digest = await self._resolve(request.target)
        limits = request.limits
        if budget is not None:  # a child never gets more than its parent has left
            limits = ExecLimits(fuel=min(limits.fuel, budget.fuel),
                                memory=min(limits.memory, budget.memory), depth=limits.depth,
                                cycles=min(limits.cycles, budget.cycles), timeout=limits.timeout,
                                storage=min(limits.storage, budget.storage),
                                max_output_bytes=limits.max_output_bytes)
        durable: DurableLog | None = None
        if request.durable is not None:  # a finished one answers its stored result
            store_kv = request.kv or self._kv
            await own_kv(store_kv)  # the durable tables are used synchronously (see KVStore.own)
            durable, done = open_durable(store_kv, request, digest, limits)
            if done is not None:
                return done
        key: MemoKey | None = None
        if request.memo and durable is None:
            key = _memo_key(request, digest, limits)
            if self._memo is not None:  # level two in the writer's thread, off the loop
                found: object = await self._memo.aget(key, limits.amounts())
            else:
                found = await self.cache.ask(MemoLookup(key, limits.amounts()), timeout=math.inf)
            if isinstance(found, CachedResult):
                receipt = await stored_receipt(self, found.value) if request.prove else None
                if not request.prove or receipt is not None:  # a proven hit needs its receipt
                    self._hits += 1
                    return replace(_from_cache(request, digest, found), receipt=receipt)
        self._counter += 1
        label = f"{self.name}#{self._counter}"
        ctx = (ExecutionContext(label, request.target, request.engine, tracers=self._tracers)
               if parent is None else parent.child(label, request.target, request.engine))
        ctx.event(self.env.now_ns(), "start", f"{request.engine} {digest.short()}")
        want = Resources(fuel=limits.fuel, memory=limits.memory,
                         wall_ns=0 if limits.timeout is None else int(limits.timeout * 1e9),
                         cycles=limits.cycles if request.engine == "riscv" else 0,
                         slots=1 if parent is None else 0, storage=limits.storage)
        # A top-level execution queues for its slot for as long as it takes (the
        # caller bounds the wait by cancelling) under ``request.grant`` (default: the
        # root); a child fails fast within its parent.
        ctx.note(self.env.now_ns, "alloc.wait", want.describe())
        granted: Granted = await allocator_allocate(
            self.allocator, want, parent=request.grant if parent is None else parent.grant,
            owner=label, wait=math.inf if parent is None else None)
        ctx.grant = granted.grant
        ctx.note(self.env.now_ns, "alloc.granted", granted.grant)
        start = self.env.now_ns()
        if limits.timeout is not None:
            mine = start + int(limits.timeout * 1e9)
            ctx.deadline_ns = mine if ctx.deadline_ns is None else min(ctx.deadline_ns, mine)
        session = EffectSession(
            self.env, request.policy, label=label, tenant=request.tenant,
            seed=lambda: Digest.of_object(["stele.rand.v1", digest.binary,
                                           _args_cbor(request), request.tenant]).value,
            kv=self._kv if request.kv is None else request.kv, log_sink=self._log_sink, storage_limit=limits.storage,
            tree=None if parent is None else parent.shared, output_limit=limits.max_output_bytes)
        ctx.shared = session.tree
        session.durable = durable
        result: ExecResult | None = None
        try:
            # move_on_after, not fail_after: only this scope's own deadline is this
            # execution's timeout; a TimeoutError from inside is someone else's.
            timer = (self.env.move_on_after(limits.timeout) if limits.timeout is not None
                     else None)
            with timer if timer is not None else nullcontext():
                if request.engine == "tel":
                    result = await self._run_tel(request, digest, limits, session, ctx)
                else:
                    result = await self._run_guest(request, digest, limits, session, ctx)
            if timer is not None and timer.cancelled_caught:  # this execution's own limit
                assert limits.timeout is not None
                result = None
                raise ExecutionTimeout(request.target, limits.timeout, ctx.usage.fuel)
            assert result is not None
            if request.prove:  # after the run's own timeout: the proof is of a finished run
                image, input_bytes = await self._provable(request, digest, limits)
                result = await prove_guest(self, request, image, input_bytes, result,
                                           min(limits.cycles, 1 << 48))
            result = replace(result, usage=result.usage + Resources(
                wall_ns=self.env.now_ns() - start))
            if durable is not None:
                await own_kv(request.kv or self._kv)
                finish_durable(durable, request, digest, limits, result)
            return result
        except TimeoutError as exc:
            raise InternalTimeout(f"execution of {request.target!r}: {exc}") from None
        finally:
            wall = self.env.now_ns() - start
            ctx.add_usage(Resources(wall_ns=min(wall, granted.capacity.wall_ns or wall),
                                    storage=session.stored_bytes - session.child_stored_bytes))
            own = ctx.usage  # this level only: each child records its own on its own grant
            ctx.event(self.env.now_ns(), "end", "ok" if result else "failed")
            with anyio.CancelScope(shield=True):
                try:
                    # Tells, in order: anything asked of the allocator after this execution
                    # has answered is handled after the release.
                    for note in (RecordUsage(granted.grant, _fit(own, granted.capacity)),
                                 Release(granted.grant)):
                        try:
                            self.allocator.tell(note)
                        except MailboxFull:
                            await self.allocator.send(note)
                except Exception as exc:  # the allocator restarted: its grants are gone
                    log.warning("release of %s failed: %s", granted.grant, exc)
            ctx.close()
            # The session's exec_call closure holds the run's children, which hold the
            # session: break the cycle so an execution's state is freed by reference
            # counting, not left for a full collection (a pause on the event loop).
            session.exec_call = None
            if log.isEnabledFor(logging.INFO):
                log.info("exec %s %s depth=%d ok=%s usage=%s", label, request.target,
                         ctx.depth, result is not None, own.describe())
            if result is not None and key is not None and result.effects == 0 \
                    and memoizable(result.value):
                if self._memo is not None:
                    # The shared cache directly: the entry is queued to the memo writer
                    # before the caller hears the answer, so a graceful close (which
                    # flushes the writer) keeps it -- a tell could still sit in the
                    # cache actor's mailbox when a one-shot CLI run exits.
                    self._memo.put(key, _to_cache(result))
                else:
                    self.cache.tell(MemoStore(key, _to_cache(result)))

    async def _run_tel(self, request: Execute, digest: Digest, limits: ExecLimits,
                       session: EffectSession, ctx: ExecutionContext) -> ExecResult:
        pool = await self._program(digest)
        program = pool.acquire()
        try:
            return await self._replay_tel(request, digest, limits, session, ctx, pool, program)
        finally:
            pool.release(program)

    async def _replay_tel(self, request: Execute, digest: Digest, limits: ExecLimits,
                          session: EffectSession, ctx: ExecutionContext, pool: _ProgramPool,
                          program: Program) -> ExecResult:
        _ensure_recursion_limit(limits.depth)
        replies: list[tuple[tuple[str, str, tuple[Any, ...]], Any]] = []
        kids = _Children(self, request, ctx, session)
        remaining = Resources.ZERO  # what the run had left at its latest effect
        waits = 0  # runs suspended at an effect that waits (each costs a re-run)

        async def exec_call(target: str, arg: int, fuel_left: int) -> int:
            return await kids.call(target, arg, fuel_left, limits.depth, remaining)

        session.exec_call = exec_call

        def serve(effect: str, op: str, args: tuple[Any, ...]) -> Any:
            """An effect that does not wait, served inside an inline run (no re-run)."""
            if (effect, op) in WAITING or not session.can_serve_inline(effect):
                raise Suspend((effect, op, args))
            ctx.note(self.env.now_ns, "effect", f"{effect}.{op}")
            reply = session.handle_now(effect, op, args)
            ctx.note(self.env.now_ns, "effect.done", f"{effect}.{op}")
            return reply

        runner = TelRunner(self.env, request.target, ctx.deadline_ns)
        try:
            while True:
                run_limits = Limits(fuel=max(0, limits.fuel - kids.cost),  # children's use is
                                    memory=max(0, limits.memory - kids.usage.memory),  # the tree's
                                    depth=limits.depth)
                try:
                    out = await runner.run(pool, program, list(request.args), run_limits,
                                           replies, _INLINE_FUEL, serve,
                                           force_inline=session.durable is not None)
                except Exception as exc:
                    spent = getattr(exc, "cost", None)
                    pool.last_cost = spent if isinstance(spent, int) else pool.last_cost
                    if isinstance(spent, int):  # a TEL error says what the run had spent
                        ctx.add_usage(Resources(fuel=spent))
                        setattr(exc, "cost", spent + kids.cost)
                    raise
                if not isinstance(out, Suspended):
                    res = out
                    pool.last_cost = res.cost
                    break
                waits += 1
                if waits > MAX_EFFECTS:
                    raise EffectError(f"more than {MAX_EFFECTS} effects in one execution "
                                      "(each is replayed; split the work)") from None
                remaining = Resources(fuel=out.fuel_left, memory=out.memory_left,
                                      storage=session.storage_left)
                ctx.note(self.env.now_ns, "effect", f"{out.request[0]}.{out.request[1]}")
                reply = await session.handle(*out.request, remaining_fuel=out.fuel_left)
                ctx.note(self.env.now_ns, "effect.done", f"{out.request[0]}.{out.request[1]}")
                replies.append((out.request, reply))
        finally:
            if runner.stopped_fuel:  # runs stopped at the deadline still spent their fuel
                ctx.add_usage(Resources(fuel=runner.stopped_fuel))
        ctx.add_usage(Resources(fuel=res.cost, memory=res.memory))
        breakdown = dict(res.breakdown)
        if kids.cost:
            breakdown["exec"] = kids.cost
        cost = res.cost + kids.cost
        usage = Resources(fuel=cost, memory=res.memory + kids.usage.memory,
                          cycles=kids.usage.cycles, storage=session.stored_bytes,
                          output=session.output_bytes + kids.usage.output)
        return ExecResult(request.target, digest, "tel", res.value, usage, cost, breakdown,
                          session.journal.digest(), len(session.journal),
                          logs=tuple(session.logs), children=kids.count,
                          events=tuple(f"{e.kind} {e.detail}" for e in ctx.events))

    async def _run_guest(self, request: Execute, digest: Digest, limits: ExecLimits,
                         session: EffectSession, ctx: ExecutionContext) -> ExecResult:
        from ._tel_riscv import is_tel_target, run_tel_on_riscv
        if await is_tel_target(self, digest):  # stored TEL code: compiled to a guest
            return await run_tel_on_riscv(self, request, digest, limits, session, ctx)
        if len(request.args) != 1 or not isinstance(request.args[0], bytes):
            raise BadArguments("a RISC-V guest takes exactly one argument: its input bytes")
        image = await self._guest(digest)
        kids = _Children(self, request, ctx, session)

        async def exec_call(target: str, arg: int, fuel_left: int) -> int:
            budget = Resources(fuel=fuel_left, memory=max(0, limits.memory - kids.usage.memory),
                               storage=session.storage_left)
            return await kids.call(target, arg, fuel_left, limits.depth, budget)

        session.exec_call = exec_call
        run = RunLimits(max_cycles=min(limits.cycles, 1 << 48),
                        memory_limit=max(1 << 16, min(limits.memory, 1 << 32)))
        charged = 0  # guest output bytes charged to the session so far (see _guest)
        step: object = RunGuest(image, request.args[0], run, ctx.deadline_ns,
                                output_limit(session, charged))
        durable: DurableLog | None = session.durable
        if durable is not None:
            await session.own_store()
        snap = None if durable is None else durable.store.snapshot(durable.ident)
        if durable is not None and snap is not None and snap.seq < len(durable.entries):
            # resume from the co-processor snapshot, not from cycle 0: the effects
            # before it are answered from the journal (bookkeeping only)
            for entry in durable.entries[:snap.seq + 1]:
                await self._serve_guest(session, list(decode(entry))[:3], limits, kids, ctx)  # type: ignore[call-overload]
            session.charge_output(snap.output_bytes, "guest output")
            charged = snap.output_bytes
            step = ResumeGuest(image, request.args[0], run, snap.snapshot,
                               Digest.from_binary(snap.digest), snap.answer, ctx.deadline_ns,
                               output_limit(session, charged))
        while True:
            try:
                out = await self.coprocessor.ask(step, timeout=math.inf)
            except RemoteError as exc:
                cause = exc.cause
                if isinstance(cause, (CycleLimitExceeded, GuestOutputLimit)):
                    ctx.add_usage(Resources(cycles=cause.cycle))
                raise guest_failure(cause, request.target, session, charged) from None
            if isinstance(out, GuestStopped):  # at the deadline: its scope reports it
                ctx.add_usage(Resources(cycles=out.cycles))
                await wait_for_deadline(self.env, ctx.deadline_ns, request.target)
            if isinstance(out, GuestFinished):
                break
            assert isinstance(out, GuestSuspended)
            session.charge_output(out.output_bytes - charged, "guest output")
            charged = out.output_bytes
            seq = len(session.journal)
            answer = await self._serve_guest(session, decode(out.request), limits, kids, ctx)
            if durable is not None and len(session.journal) > seq:  # journaled: checkpoint
                await session.own_store()
                durable.store.save_snapshot(durable.ident, GuestSnapshot(
                    seq, out.snapshot, out.snapshot_digest.binary, charged, encode(answer)))
            step = ResumeGuest(image, request.args[0], run, out.snapshot, out.snapshot_digest,
                               encode(answer), ctx.deadline_ns, output_limit(session, charged))
        usage = Resources(memory=out.memory_bytes, cycles=out.cycles)
        ctx.add_usage(usage)
        session.charge_output(max(out.output_bytes, len(out.stdout) + len(out.public_output))
                              - charged, "guest output")
        breakdown = {"cycles": out.cycles}
        if kids.cost:
            breakdown["exec"] = kids.cost
        return ExecResult(request.target, digest, "riscv", out.exit_code,
                          usage + Resources(fuel=kids.cost, memory=kids.usage.memory,
                                            storage=session.stored_bytes,
                                            output=session.output_bytes + kids.usage.output),
                          kids.cost, breakdown, session.journal.digest(), len(session.journal),
                          exit_code=out.exit_code, stdout=out.stdout,
                          public_output=out.public_output, logs=tuple(session.logs),
                          children=kids.count,
                          events=tuple(f"{e.kind} {e.detail}" for e in ctx.events))

    async def _serve_guest(self, session: EffectSession, req: Any, limits: ExecLimits,
                           kids: _Children, ctx: ExecutionContext) -> object:
        """Serve one guest effect request (policy check, handler, journal)."""
        what = f"{req[0]}.{req[1]}" if isinstance(req, list) and len(req) >= 2 else "?"
        ctx.note(self.env.now_ns, "effect", what)
        # every request async: KV goes through the store writer, off the event loop
        answer = await session.handle_guest_async(
            req, remaining_fuel=max(0, limits.fuel - kids.cost))
        ctx.note(self.env.now_ns, "effect.done", what)
        return answer

    # -- repository access ------------------------------------------------------
    async def _ask_repo(self, message: object) -> object:
        return await self.repository.ask_unboxed(message, math.inf)

    async def _resolve(self, target: str) -> Digest:
        # Single flight: when a cached resolution expires under many concurrent
        # executions of the same target, one asks the repository and the rest wait
        # for its answer (they ask themselves only if it failed).
        while (digest := self._cached_digest(target)) is None:
            pending = self._resolving.get(target)
            if pending is not None:
                await pending.wait()
                if (digest := self._cached_digest(target)) is not None:
                    return digest
            done = self._resolving[target] = anyio.Event()
            try:
                reply = await self._ask_repo(Resolve(target))
                assert isinstance(reply, Resolved)
                if len(self._resolved) >= 4096:
                    self._resolved.clear()
                self._resolved[target] = (reply.digest, self.env.now_ns() + self._name_ttl_ns)
                return reply.digest
            finally:
                if self._resolving.get(target) is done:
                    del self._resolving[target]
                done.set()
        return digest

    def _cached_digest(self, target: str) -> Digest | None:
        """A recent resolution of ``target`` (names may be rebound: entries expire)."""
        got = self._resolved.get(target)
        if got is None or got[1] < self.env.now_ns():
            return None
        return got[0]

    def _memo_get(self, request: Execute, digest: Digest, limits: ExecLimits
                  ) -> ExecResult | None:
        assert self._memo is not None
        key = _memo_key(request, digest, limits)
        found = self._memo.peek(key, limits.amounts())  # level one only: no SQLite here
        if found is None:
            return None
        self._hits += 1
        return _from_cache(request, digest, found)

    async def _program(self, digest: Digest) -> _ProgramPool:
        got = self._programs.get(digest)
        if got is None:
            reply = await self._ask_repo(LoadTarget(str(digest)))
            assert isinstance(reply, LoadReply)
            got = _ProgramPool(reply.assemble())
            if len(self._programs) >= 256:
                self._programs.pop(next(iter(self._programs)))
            self._programs[digest] = got
        return got

    async def _provable(self, request: Execute, digest: Digest, limits: Any) -> tuple[bytes, bytes]:
        """The ELF and input a ``prove=True`` run is proven as: the guest blob and its argument, or
        a TEL target's compiled guest and its guest input (``_tel_riscv``)."""
        from ._tel_riscv import is_tel_target, tel_guest

        if await is_tel_target(self, digest):
            return await tel_guest(self, request, digest, limits)
        return await self._guest(digest), request.args[0]

    async def _guest(self, digest: Digest) -> bytes:
        """The ELF image of guest ``digest`` (parsed once here so a bad one fails early)."""
        got = self._guests.get(digest)
        if got is None:
            reply = await self._ask_repo(GetObject(str(digest)))
            assert isinstance(reply, ObjectRecord)
            if reply.kind != ELF_KIND:
                raise WrongKind(digest, reply.kind, f"a {ELF_KIND} blob (engine='riscv')")
            # parsed off the event loop (a thread): a large ELF cannot stall the other tasks
            await self.env.run_blocking(load_elf, reply.payload)
            got = reply.payload
            if len(self._guests) >= 64:
                self._guests.pop(next(iter(self._guests)))
            self._guests[digest] = got
        return got


_PROFILES: dict[int, bytes] = {}


class _Key(MemoKey):
    """A :class:`MemoKey` that computes its digest once (hits look it up every time)."""

    @property
    def digest(self) -> Digest:
        """The key's digest, cached on first use."""
        cached = self.__dict__.get("_digest")
        if cached is None:
            cached = self.__dict__["_digest"] = MemoKey.digest.fget(self)  # type: ignore[attr-defined]
        assert isinstance(cached, Digest)
        return cached


_KEYS: dict[tuple[Digest, bytes, str, int], _Key] = {}


def _memo_key(request: Execute, digest: Digest, limits: ExecLimits) -> MemoKey:
    """The memo key of ``request`` (keys, with their digests, are reused while hot)."""
    args = encode(_args_cbor(request))
    engine = request.engine + PROVEN_ENGINE_SUFFIX if request.prove else request.engine
    ident = (digest, args, engine, limits.depth)
    key = _KEYS.get(ident)
    if key is None:
        profile = _PROFILES.get(limits.depth)
        if profile is None:
            profile = _PROFILES[limits.depth] = encode(limits.profile())
        if len(_KEYS) >= 4096:
            _KEYS.clear()
        key = _KEYS[ident] = _Key(digest, args, COST_TABLE.version, engine, profile)
    return key


def _args_cbor(request: Execute) -> Any:
    return [value_to_cbor(a) for a in request.args]


def _fit(used: Resources, cap: Resources) -> Resources:
    return used.componentwise_min(cap)


def _to_cache(result: ExecResult) -> CachedResult:
    # [value, stdout, public output, cost, breakdown, receipt digest | None, exit code | None]
    # (entries from before the exit code have 5 fields, or 6 with a receipt).
    receipt = receipt_field(result)
    value = encode([value_to_cbor(result.value), result.stdout, result.public_output,
                    result.cost, sorted(result.breakdown.items()),
                    receipt[0] if receipt else None, result.exit_code])
    usage = (("fuel", result.usage.fuel), ("memory", result.usage.memory),
             ("cycles", result.usage.cycles), ("output", result.usage.output))
    return CachedResult(value, usage)


_OLD_ENTRY = object()  # marks a 5/6-field memo entry (no exit code stored)
_DECODED: dict[bytes, tuple[Any, ...]] = {}  # cached value bytes -> decoded fields


def _from_cache(request: Execute, digest: Digest, hit: CachedResult) -> ExecResult:
    fields = _DECODED.get(hit.value)
    if fields is None:  # strict decode once per distinct entry; values are immutable
        obj = decode(hit.value)
        assert isinstance(obj, list) and len(obj) in (5, 6, 7)
        # The exit code, or _OLD_ENTRY for an entry from before it was kept (derived
        # below from the request, not cached: equal entry bytes may answer either engine).
        fields = (value_from_cbor(obj[0]), *obj[1:5], obj[6] if len(obj) == 7 else _OLD_ENTRY)
        if len(_DECODED) >= 4096:
            _DECODED.clear()
        _DECODED[hit.value] = fields
    value, stdout, public, cost, breakdown, exit_code = fields
    if exit_code is _OLD_ENTRY:  # a guest's value is its exit code
        exit_code = value if request.engine == "riscv" else None
    amounts = dict(hit.usage)
    usage = Resources(fuel=amounts.get("fuel", 0), memory=amounts.get("memory", 0),
                      cycles=amounts.get("cycles", 0), output=amounts.get("output", 0))
    return ExecResult(request.target, digest, request.engine, value, usage,
                      cost, {k: v for k, v in breakdown}, _EMPTY_JOURNAL, 0, memo_hit=True,
                      exit_code=exit_code,
                      stdout=stdout, public_output=public)


class _Children:
    """The nested ``Exec.call`` executions of one parent: runs each, totals their use.

    A child runs stored TEL code in a child context, under ``budget`` (carved
    from what the parent has left), and must return an Int; its cost, usage
    and KV storage roll up into the parent's.
    """

    def __init__(self, executor: Any, request: Execute, ctx: ExecutionContext,
                 session: EffectSession) -> None:
        self._executor = executor
        self._request = request
        self._ctx = ctx
        self._session = session
        self.cost = 0
        self.usage = Resources.ZERO
        self.count = 0

    async def call(self, target: str, arg: int, fuel: int, depth: int, budget: Resources) -> int:
        """Run ``target(arg)`` as a child with ``fuel`` and ``budget``; its Int result."""
        check_nesting(target, self._ctx.depth + 1)
        self.count += 1
        limits = ExecLimits(fuel=fuel, memory=budget.memory, depth=depth, storage=budget.storage)
        # A child is memoized when its caller asked for memo: a pure child's result
        # (no effect performed) is reused across parents, keyed like a top-level one.
        ns = self._request.namespace
        sub = Execute(f"{ns}.{target}" if ns else target, (arg,), limits, self._request.policy,
                      "tel", self._request.tenant, memo=self._request.memo, kv=self._request.kv,
                      namespace=ns, durable=None if self._request.durable is None
                      else f"{self._request.durable}/{len(self._session.journal)}")
        out = await self._executor.execute(sub, self._ctx, budget)
        self._session.add_child_storage(out.usage.storage)
        self.cost += out.cost
        self.usage = self.usage + out.usage
        if not isinstance(out.value, int) or isinstance(out.value, bool):
            raise BadArguments(f"Exec.call({target!r}) returned {describe(out.value)}, not an Int")
        return out.value
