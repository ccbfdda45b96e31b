"""The daemon: one embedded runtime, many authenticated clients, durable jobs.

:func:`serve` opens the store (``ROOT/store.sqlite``) with
:func:`stele.open_runtime`, listens on every configured address, and runs
until SIGTERM/SIGINT (or ``stop`` is set).  Per connection:

1. the first request must be :class:`Hello` with a tenant's token, within
   ``auth_timeout``; anything else (or a wrong token) is answered with a
   typed :class:`AuthError` and the connection is closed;
2. every later request runs as its own task (at most ``max_inflight`` per
   connection and the tenant's ``inflight`` quota across its connections;
   past either the answer is :class:`Busy` with a retry-after, never an
   unbounded buffer);
3. a frame that breaks the protocol (bad CBOR, unknown message, oversized
   frame) gets a ``Goodbye`` naming the problem and closes *that*
   connection; the daemon goes on serving the others.

Tenants are kept apart by mapping, not by trust: names live under the store
namespace ``tenant.NAME``; digests resolve only among what the tenant
stored; the KV effect runs under the KV tenant ``NAME``; jobs are looked up
by (tenant, id); ``Exec.call`` targets are names in the tenant's namespace.

Tenants share the machine by allocation: each active tenant holds a grant of
the root allocator sized by its ``slots`` quota (:meth:`Daemon.tenant_grant`)
and every top-level execution of it is carved from that grant, so one
tenant's flood waits under its own grant and cannot take another's slots.

Shutdown (first signal): stop accepting, answer new requests ``Busy``, let
in-flight requests and running jobs finish for up to ``grace_seconds``,
then cancel what is left (a cancelled job stays ``running`` in the store
and is re-run at the next start: that is its checkpoint), close the store,
return 0.  A second signal cancels everything at once and returns 1.
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from .. import __version__
from .._core._env import Env
from .._core._spawn import SpawnGroup, open_spawn_group
from .._errors import SteleError
from .._runtime import Runtime, ask_execute, open_runtime
from ..protocol import (Connection, ConnectionClosed, Digest, ErrorReply, Goodbye, Message,
                        Ping, Pong, ProtocolError, RemoteProtocolError, Request, decode,
                        decode_message, encode, encode_frame, encode_message)
from ..actors.allocator import Resources
from ..actors.sandbox._durable import DurableMismatch
from ..protocol._errors import AmbiguousPrefix, UnknownDigest
from ..store import StoreUnavailable
from ._address import Address, parse_address
from ._config import DaemonConfig
from ._errors import AuthError, Busy, DaemonError, JobNotFound, ProtocolVersionError
from ._jobs import JobRow, JobStore, TxKV, job_id, job_seq
from ._log import EventLog
from ._metrics import Snapshot, TenantFigures, serve_metrics
from ._messages import (DAEMON_PROTOCOL, TERMINAL_STATES, CancelRequest, DigestReply, ExecOutcome,
                        ExecuteRequest, Hello, JobAccepted, JobInfo, JobOutcome,
                        JobStatusRequest, Raised, ResolveRequest, ServerStatus,
                        ServerStatusRequest, StatsReply, StatsRequest, StoreBlobRequest,
                        StoredNamesReply, StoreSourceRequest, SubmitRequest, TenantUsage,
                        WaitRequest, Welcome)
from ._repo_handlers import REPO_HANDLERS, tenant_source
from ._repo_view import RepoView
from ._tenants import Tenant, TenantStore, namespace_of
from ._wire import args_from_wire, limits_from_wire, outcome_of, raised_of

if TYPE_CHECKING:
    from .._profiler._live import RuntimeTrace

__all__ = ["serve", "Daemon", "BadRequest", "MAX_CONFLICT_RETRIES", "durable_id"]

#: Times a job is re-run because a KV key it read changed before it committed.
MAX_CONFLICT_RETRIES = 100
#: A job whose run meets a failing store (``StoreUnavailable``: nothing was written) is
#: run again, up to this many attempts in all; then it fails with that typed error.
MAX_STORE_ATTEMPTS = 20
_RESOLVE_TTL_NS = 1_000_000_000


class BadRequest(DaemonError, ValueError):
    """A request whose fields are well-typed but whose values are not acceptable."""


@dataclass
class _Usage:
    requests: int = 0
    executions: int = 0
    running: int = 0
    fuel: int = 0
    connections: int = 0
    inflight: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def ended(self, outcome: str) -> None:
        """Count an execution that ended ``succeeded``, ``failed`` or ``cancelled``."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass
class _Client:
    stream: anyio.abc.ByteStream
    conn: Connection
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    tenant: Tenant | None = None
    inflight: int = 0
    closing: bool = False
    tg: SpawnGroup | None = None
    auth_scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)


class Daemon:
    """The serving state of one ``stele serve`` (see the module docstring)."""

    def __init__(self, config: DaemonConfig, rt: Runtime, env: Env, store_file: str,
                 log: EventLog) -> None:
        from ..actors.sandbox import KVStore

        self.cfg = config
        self.rt = rt
        self.env = env
        self.store_file = store_file
        self.log = log
        opened: list[Any] = []
        try:  # the daemon's own connections to the store file, closed again if one fails
            self.tenants = TenantStore(store_file, env)
            opened.append(self.tenants)
            self.jobs = JobStore(store_file, env)
            opened.append(self.jobs)
            self.kv_base = KVStore(store_file, env=env)
            opened.append(self.kv_base)
            self.view = RepoView(store_file, env)
        except sqlite3.Error as exc:
            for db in opened:
                db.close()
            raise StoreUnavailable(f"cannot open the daemon's tables in {store_file}: "
                                   f"{exc}") from None
        self.started_ns = env.now_ns()
        self.addresses: list[str] = []
        self.connections = 0
        self.usage: dict[str, _Usage] = {}
        self.capacity = root_capacity(config)
        self.grants: dict[str, str] = {}  # tenant -> its grant under the root allocator
        self.grant_slots: dict[str, int] = {}  # tenant -> the slots its grant holds
        self.grant_quota: dict[str, int] = {}  # tenant -> the slots its quota asks for
        #: some grant is above or below its fair share or quota: settle() rebalances (else it costs nothing)
        self._unbalanced = False
        self._grant_lock = anyio.Lock()
        self._allocator: Any = None
        self.request_counts: dict[str, int] = {}  # by message type, since start
        self.conflicts = 0  # job runs discarded because a KV key they read changed
        self._retry_lock = anyio.Lock()
        self.metrics_address: str | None = None
        self.queues: dict[str, deque[int]] = {}
        self.rr: deque[str] = deque()
        self.live: dict[str, int] = {}  # tenant -> jobs queued or running
        self.waiters: dict[int, anyio.Event] = {}
        self.running_jobs: dict[int, anyio.CancelScope] = {}
        self.stopping = False
        self.active = 0  # requests being handled, all connections
        self._wake = anyio.Event()
        self._resolved: dict[tuple[str, str], tuple[Digest, int]] = {}
        self._resolving: dict[tuple[str, str], anyio.Event] = {}
        self._executor: Any = None

    def close(self) -> None:
        """Close the daemon's own store connections."""
        self.tenants.close()
        self.jobs.close()
        self.kv_base.close()
        self.view.close()

    # -- tenants ---------------------------------------------------------------
    def _usage(self, tenant: str) -> _Usage:
        u = self.usage.get(tenant)
        if u is None:
            u = self.usage[tenant] = _Usage()
        return u

    def _quota(self, tenant: Tenant, name: str) -> int:
        own: int = getattr(tenant.quota, name)
        return own or int(getattr(self.cfg, f"tenant_{name}"))

    # -- per-tenant grants -----------------------------------------------------
    def share(self, tenant: Tenant) -> Resources:
        """What ``tenant``'s grant holds: its ``slots`` quota, and that fraction of every
        other amount of the root's capacity."""
        return self._of_slots(max(1, self._quota(tenant, "slots")))

    def _of_slots(self, slots: int) -> Resources:
        """A grant of ``slots`` slots and that fraction of every other amount of the root's capacity."""
        cap = self.capacity
        return replace(cap.scale(min(slots, cap.slots), cap.slots), slots=slots)

    def fair_slots(self, active: int) -> int:
        """Each of ``active`` tenants' fair share of the root's slots (at least one)."""
        return max(1, self.capacity.slots // max(1, active))

    async def _resize_grant(self, name: str, slots: int) -> bool:
        """Resize ``name``'s grant to ``slots``; False if the allocator refuses (it holds more)."""
        from ..actors.allocator import AllocatorError, resize

        grant = self.grants.get(name)
        if grant is None or slots == self.grant_slots.get(name):
            return False
        try:
            await resize(self._allocator_ref(), grant, self._of_slots(slots))
        except (AllocatorError, SteleError):  # below what its executions hold, or no room to grow
            return False
        self.log("tenant_grant_resized", tenant=name, grant=grant, slots=slots,
                 was=self.grant_slots.get(name, 0))
        self.grant_slots[name] = slots
        return True

    async def _rebalance(self, newcomers: int = 0) -> None:
        """Move the active tenants' grants toward their fair shares (called under ``_grant_lock``).

        With ``n`` active tenants (plus ``newcomers`` about to ask) a tenant's
        fair share is ``slots // n``, or its quota if smaller.  When some tenant
        holds less than that, the grants above the fair share shrink to it, as
        far as their running executions allow (the rest is taken back as they
        finish: this runs again after every execution); the slots freed go to
        the tenants below.  Slots nobody needs go to tenants still below their
        quota, so a lone tenant can use its whole quota.
        """
        from ..actors.allocator import AllocatorStatus

        self._unbalanced = False
        if not self.grants:
            return
        fair = self.fair_slots(len(self.grants) + newcomers)
        want = {n: min(self.grant_quota.get(n, fair), fair) for n in self.grants}
        needy = newcomers > 0 or any(self.grant_slots.get(n, 0) < want[n] for n in self.grants)
        if needy:
            for name, slots in sorted(self.grant_slots.items(), key=lambda kv: (-kv[1], kv[0])):
                if slots > fair and not await self._resize_grant(name, fair):
                    running = self._usage(name).running
                    if fair < running < slots:
                        await self._resize_grant(name, running)
        status = await self._allocator_ref().ask(AllocatorStatus())
        free = int(status.available.slots) - (fair * newcomers if newcomers else 0)
        for stage in (want, self.grant_quota):  # first up to the fair share, then (if room) the quota
            for name in sorted(self.grants):
                have, cap = self.grant_slots.get(name, 0), stage.get(name, 0)
                if free > 0 and have < cap:
                    grow = min(cap - have, free)
                    if await self._resize_grant(name, have + grow):
                        free -= grow
        self._unbalanced = any(self.grant_slots.get(n, 0) < want.get(n, 0) for n in self.grants)

    async def settle(self, name: str) -> None:
        """After one of ``name``'s executions ended: give its grant back if idle, else rebalance."""
        u = self.usage.get(name)
        if u is not None and not (u.running or u.connections or self.live.get(name, 0)):
            await self.release_idle(name)
            return
        if self.grants and self._unbalanced:
            async with self._grant_lock:
                await self._rebalance()

    def _allocator_ref(self) -> Any:
        if self._allocator is None:
            self._allocator = self.rt.system.lookup("allocator")
        return self._allocator

    async def tenant_grant(self, tenant: Tenant) -> str:
        """The tenant's grant under the root allocator, carved when it first needs one.

        Every top-level execution of the tenant is carved from (and waits under)
        this grant, so a tenant never runs more than its grant's slots at once
        and never takes what another tenant's grant holds.  When the root has
        fewer slots free than the quota, the grants above the fair share
        (``slots // active tenants``) first shrink to it as far as their running
        executions allow (:meth:`_rebalance`), and the newcomer gets its fair
        share or what is free; with nothing free the answer is :class:`Busy`
        (a retry finds the slots the over-share tenants' finished executions
        gave back).  Grants grow back toward their quotas as tenants leave.  A
        grant is given back once its tenant is idle (nothing running or
        queued, no connection).
        """
        from ..actors.allocator import AllocatorStatus, InsufficientResources, allocate

        found = self.grants.get(tenant.name)
        if found is not None:
            return found
        async with self._grant_lock:
            found = self.grants.get(tenant.name)
            if found is not None:
                return found
            want = self.share(tenant)
            quota = want.slots
            status = await self._allocator_ref().ask(AllocatorStatus())
            free = int(status.available.slots)
            if free < quota and self.grants:  # make room: shrink the grants above the fair share
                await self._rebalance(newcomers=1)
                status = await self._allocator_ref().ask(AllocatorStatus())
                free = min(int(status.available.slots), self.fair_slots(len(self.grants) + 1))
            if 0 < free < quota:  # its fair share, or what is free: it grows when room appears
                want = self._of_slots(free)
                self._unbalanced = True
            try:
                granted = await allocate(self._allocator_ref(), want,
                                         owner=f"tenant:{tenant.name}")
            except InsufficientResources:
                raise self._busy(
                    f"tenant {tenant.name} needs a slot and the active tenants hold all the "
                    f"daemon's {self.capacity.slots}") from None
            self.grants[tenant.name] = granted.grant
            self.grant_slots[tenant.name] = want.slots
            self.grant_quota[tenant.name] = quota
            self.log("tenant_grant", tenant=tenant.name, grant=granted.grant, slots=want.slots)
            return granted.grant

    async def release_idle(self, name: str) -> None:
        """Give back ``name``'s grant if nothing of the tenant runs, waits or is connected."""
        from ..actors.allocator import AllocatorError, release

        u = self.usage.get(name)
        if u is None or u.running or u.connections or self.live.get(name, 0):
            return
        grant = self.grants.pop(name, None)
        self.grant_slots.pop(name, None)
        self.grant_quota.pop(name, None)
        if grant is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                await release(self._allocator_ref(), grant)
            except (AllocatorError, SteleError):  # already gone (the allocator restarted)
                pass
            if self.grants:  # the slots given back go to the tenants below their share
                async with self._grant_lock:
                    await self._rebalance()

    def _finished(self, name: str, usage: _Usage) -> None:
        """One of the tenant's executions ended: a worker may now take its next job."""
        usage.running -= 1
        if self.queues.get(name):
            self._wake.set()

    def _busy(self, what: str) -> Busy:
        return Busy(what, self.cfg.retry_after)

    # -- start-up --------------------------------------------------------------
    def recover(self) -> int:
        """Queue every job the store holds as queued or running (a crash's leftovers)."""
        n = 0
        for job in self.jobs.live():
            self._enqueue(job.tenant, job.seq)
            n += 1
        return n

    async def listen(self, text: str) -> anyio.abc.Listener[anyio.abc.ByteStream]:
        """Open one listener; records its actual address (a TCP port 0 is resolved)."""
        addr = parse_address(text)
        if addr.kind == "unix":
            listener = await self._listen_unix(addr)
            self.addresses.append(str(addr))
            return listener
        tcp = await self.env.listen_tcp(addr.host, addr.port)
        self.addresses.append(str(Address("tcp", host=addr.host, port=_port(tcp, addr.port))))
        return tcp

    async def _listen_unix(self, addr: Address) -> anyio.abc.Listener[anyio.abc.ByteStream]:
        path = addr.path
        if self.env.simulated:  # a simulated socket has no file: no directory, mode or unlink
            return await self.env.listen_unix(path)
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        if os.path.exists(path):
            try:
                probe = await self.env.connect_unix(path)
            except OSError:
                os.unlink(path)  # a stale socket left by a crash
            else:
                await probe.aclose()
                raise DaemonError(f"another daemon is already serving at unix:{path}")
        old = os.umask(0o177)  # the socket is born 0600: no window with wider permissions
        try:
            listener = await self.env.listen_unix(path)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        return listener

    # -- connections -------------------------------------------------------------
    async def accept_loop(self, listener: anyio.abc.Listener[anyio.abc.ByteStream],
                          tg: anyio.abc.TaskGroup) -> None:
        """Accept connections (each served in ``tg``) until cancelled or the listener closes."""
        try:
            await listener.serve(self.handle_connection, task_group=tg)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return

    async def handle_connection(self, stream: anyio.abc.ByteStream) -> None:
        """Serve one connection until it closes, errs, or the daemon stops."""
        self.connections += 1
        conn = Connection(max_frame_size=self.cfg.max_frame_size,
                          max_pending=self.cfg.max_inflight + 64, check_outgoing=False)
        c = _Client(stream, conn)
        try:
            async with open_spawn_group() as tg:  # a task per request: the cheap kind
                c.tg = tg
                tg.start_soon(self._auth_deadline, c)
                await self._read_loop(c)
        except Exception as exc:  # one connection's failure never takes the daemon down
            self.log("connection_error", error=f"{type(exc).__name__}: {exc}")
        finally:
            self.connections -= 1
            with anyio.CancelScope(shield=True):
                if c.tenant is not None:
                    self._usage(c.tenant.name).connections -= 1
                    await self.release_idle(c.tenant.name)
                await stream.aclose()

    async def _auth_deadline(self, c: _Client) -> None:
        with c.auth_scope:
            await self.env.sleep(self.cfg.auth_timeout)
        if c.tenant is None and c.tg is not None and not c.auth_scope.cancelled_caught:
            self.log("auth_timeout")
            c.tg.cancel_scope.cancel()

    async def _read_loop(self, c: _Client) -> None:
        while not c.closing:
            try:
                data = await c.stream.receive(65536)
            except anyio.EndOfStream:
                data = b""
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                assert c.tg is not None
                c.tg.cancel_scope.cancel()  # the peer is gone: nobody to answer
                return
            c.conn.receive_data(data)
            while not c.closing:
                try:
                    event = c.conn.next_event()
                except RemoteProtocolError as exc:
                    self.log("protocol_error", tenant=c.tenant.name if c.tenant else "-",
                             error=exc.reason)
                    await self._raw_send(c, encode_frame(encode_message(
                        Goodbye(f"protocol error: {exc.reason}"[:1000]))))
                    assert c.tg is not None
                    c.tg.cancel_scope.cancel()
                    return
                if event is None:
                    break
                if isinstance(event, ConnectionClosed):
                    if c.tenant is None and c.tg is not None:
                        c.tg.cancel_scope.cancel()
                    return  # the task group waits for in-flight requests
                await self._on_event(c, event)
        if c.tg is not None:
            c.tg.cancel_scope.cancel()

    async def _on_event(self, c: _Client, event: Message) -> None:
        if isinstance(event, Request):
            kind = type(event.body).__name__
            self.request_counts[kind] = self.request_counts.get(kind, 0) + 1
            if c.tenant is None:
                await self._hello(c, event)
                return
            tenant = c.tenant
            usage = self._usage(tenant.name)
            if self.stopping:
                await self._reply_error(c, event.id, self._busy("the daemon is shutting down"))
            elif c.inflight >= self.cfg.max_inflight:
                await self._reply_error(c, event.id, self._busy(
                    f"{c.inflight} requests in flight on this connection "
                    f"(max_inflight={self.cfg.max_inflight})"))
            elif usage.inflight >= self._quota(tenant, "inflight"):
                await self._reply_error(c, event.id, self._busy(
                    f"tenant {tenant.name} has {usage.inflight} requests in flight "
                    f"(quota {self._quota(tenant, 'inflight')})"))
            else:
                c.inflight += 1
                usage.inflight += 1
                usage.requests += 1
                self.active += 1
                assert c.tg is not None
                c.tg.start_soon(self._handle, c, event.id, event.body)
        elif isinstance(event, Ping):
            await self._raw_send(c, c.conn.send(Pong(event.nonce)))
        elif isinstance(event, Goodbye):
            c.closing = True
        # any other one-way message is ignored (none is defined for clients)

    async def _hello(self, c: _Client, req: Request) -> None:
        body = req.body
        error: DaemonError | None = None
        if not isinstance(body, Hello):
            error = AuthError(f"the first request must be Hello with a token, "
                              f"not {type(body).__name__}")
        elif self.connections > self.cfg.max_connections:
            error = self._busy(f"{self.connections - 1} connections "
                               f"(max_connections={self.cfg.max_connections})")
        elif body.protocol != DAEMON_PROTOCOL:
            error = ProtocolVersionError(body.protocol, DAEMON_PROTOCOL)
        else:
            tenant = self.tenants.authenticate(body.token) if body.token else None
            if tenant is None:
                error = AuthError("missing token" if not body.token else
                                  "unknown token (see 'stele tenant add')")
        if error is not None:
            self.log("auth_refused", reason=str(error))
            await self._reply_error(c, req.id, error)
            c.closing = True
            return
        assert isinstance(body, Hello) and tenant is not None
        c.tenant = tenant
        c.auth_scope.cancel()
        self._usage(tenant.name).connections += 1
        await self._raw_send(c, c.conn.reply(req.id, Welcome(tenant.name, __version__,
                                                             tenant.admin, DAEMON_PROTOCOL)))

    async def _raw_send(self, c: _Client, data: bytes) -> None:
        async with c.lock:
            try:
                await c.stream.send(data)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                c.closing = True

    async def _reply_error(self, c: _Client, rid: int, exc: BaseException) -> None:
        await self._raw_send(c, c.conn.reply(rid, raised_of(exc)))

    async def _handle(self, c: _Client, rid: int, body: Message) -> None:
        tenant = c.tenant
        assert tenant is not None
        usage = self._usage(tenant.name)
        try:
            data = await self._answer(c, rid, tenant, body)
        finally:
            # Counted out before the answer is written: a client that sends its next
            # request as soon as it reads this answer must find the slot free.
            c.inflight -= 1
            usage.inflight -= 1
            self.active -= 1
        await self._raw_send(c, data)

    async def _answer(self, c: _Client, rid: int, tenant: Tenant, body: Message) -> bytes:
        try:
            reply: Message = await self._dispatch(tenant, body)
        except SteleError as exc:
            reply = raised_of(exc)
        except (ValueError, TypeError) as exc:  # e.g. a bad limit in ExecLimits
            reply = raised_of(BadRequest(f"{type(body).__name__}: {exc}"))
        except sqlite3.Error as exc:  # the daemon's own tables met a failing disk: typed
            self.log("store_error", request=type(body).__name__,
                     error=f"{type(exc).__name__}: {exc}")
            reply = raised_of(StoreUnavailable(f"the daemon's tables: {exc}"))
        except Exception as exc:
            if isinstance(exc, anyio.get_cancelled_exc_class()):
                raise
            self.log("internal_error", request=type(body).__name__,
                     error=f"{type(exc).__name__}: {exc}")
            return c.conn.send(ErrorReply(rid, "internal", f"{type(exc).__name__}: {exc}"))
        try:
            return c.conn.reply(rid, reply)
        except ProtocolError as exc:  # an answer that cannot be encoded: say so, typed
            return c.conn.reply(rid, raised_of(BadRequest(
                f"the answer to {type(body).__name__} cannot be sent: {exc}")))

    # -- requests ------------------------------------------------------------------
    async def _dispatch(self, tenant: Tenant, body: Message) -> Message:
        handler = _HANDLERS.get(type(body))
        if handler is None:
            raise BadRequest(f"the daemon does not handle {type(body).__name__} requests")
        return await handler(self, tenant, body)

    async def _store_source(self, tenant: Tenant, body: StoreSourceRequest) -> Message:
        ns = namespace_of(tenant.name)
        inner = f"{ns}.{body.namespace}" if body.namespace else ns
        source = await tenant_source(self, tenant, body.source, body.filename)
        names = await self.rt.store(source, filename=body.filename, namespace=inner)
        self.forget(tenant)
        self.tenants.own(tenant.name, sorted({str(d) for d in names.values()}))
        cut = len(ns) + 1
        shown = {k[cut:] if k.startswith(ns + ".") else k: d for k, d in names.items()}
        return StoredNamesReply(shown, tuple(shown))

    async def _store_blob(self, tenant: Tenant, body: StoreBlobRequest) -> Message:
        name = None if body.name is None else f"{namespace_of(tenant.name)}.{body.name}"
        digest = await self.rt.store_blob(body.data, name=name)
        self.forget(tenant)
        self.tenants.own(tenant.name, [str(digest)])
        return DigestReply(digest)

    async def _resolve_request(self, tenant: Tenant, body: ResolveRequest) -> Message:
        from ..actors.repository._messages import GetObject, ObjectRecord

        digest = await self.resolve(tenant, body.target)
        if not body.with_kind:
            return DigestReply(digest)
        record = await self.rt._ask("repository", GetObject(str(digest)))
        assert isinstance(record, ObjectRecord)
        return DigestReply(digest, record.kind)

    def forget(self, tenant: Tenant) -> None:
        """Drop the tenant's cached resolutions (its names changed)."""
        for key in [k for k in self._resolved if k[0] == tenant.name]:
            del self._resolved[key]

    async def resolve(self, tenant: Tenant, target: str) -> Digest:
        """What ``target`` denotes *for this tenant*: its own name, or a digest it stored."""
        key = (tenant.name, target)
        got = self._resolved.get(key)
        if got is not None and got[1] > self.env.now_ns():
            return got[0]
        # Single flight: concurrent misses of one key (an entry expiring under load)
        # wait for the first one's answer instead of each asking the store.
        pending = self._resolving.get(key)
        if pending is not None:
            await pending.wait()
            got = self._resolved.get(key)
            if got is not None and got[1] > self.env.now_ns():
                return got[0]  # else the first one failed: ask ourselves
        done = self._resolving[key] = anyio.Event()
        try:
            return await self._resolve_now(tenant, target, key)
        finally:
            if self._resolving.get(key) is done:
                del self._resolving[key]
            done.set()

    async def _resolve_now(self, tenant: Tenant, target: str, key: tuple[str, str]) -> Digest:
        from ..store import NameNotFound, UnknownTarget

        now = self.env.now_ns()
        digest: Digest | None = None
        if target and ":" not in target and not target.startswith("."):
            try:
                digest = await self.rt.resolve(f"{namespace_of(tenant.name)}.{target}")
            except (NameNotFound, UnknownTarget, AmbiguousPrefix):
                digest = None
            if digest is not None and str(digest) not in self.tenants.owned_matching(
                    tenant.name, str(digest), 1):
                self.tenants.own(tenant.name, [str(digest)])
        if digest is None:
            text = target.strip().lower()
            prefix = text if text.startswith("b2:") else f"b2:{text}"
            try:
                candidates = [Digest.parse(d) for d in self.tenants.owned_matching(
                    tenant.name, prefix)]
                digest = _one(target, prefix, candidates)
            except (UnknownDigest, ValueError):
                raise UnknownTarget(target) from None
        if len(self._resolved) >= 65536:
            self._resolved.clear()
        self._resolved[key] = (digest, now + _RESOLVE_TTL_NS)
        return digest

    def _policy(self, tenant: Tenant, obj: object) -> Any:
        """The request's policy (``Exec.call`` targets are mapped into the tenant's namespace
        by the executor: see ``Execute.namespace``)."""
        from ..actors.sandbox import DENY_ALL, Policy

        return DENY_ALL if obj is None else Policy.from_cbor_obj(obj)

    def _limits(self, tenant: Tenant, wire: Any) -> Any:
        limits = limits_from_wire(wire)
        cap = self._quota(tenant, "fuel")
        if cap and limits.fuel > cap:
            limits = replace(limits, fuel=cap)
        return limits

    async def _execute_request(self, tenant: Tenant, body: ExecuteRequest) -> Message:
        durable = None if body.durable is None else durable_id(tenant.name, body.durable)
        digest = await self.resolve(tenant, body.target)
        limits = self._limits(tenant, body.limits)
        policy = self._policy(tenant, body.policy)
        args = args_from_wire(body.args)
        result = await self._counted(tenant, body.durable, lambda: self._run(
            tenant, str(digest), args, limits, policy, body.engine,
            body.memo and durable is None, None, prove=body.prove, durable=durable))
        if result.receipt is not None:  # the tenant may fetch its own receipts by digest
            self.tenants.own(tenant.name, [str(result.receipt.digest())])
        return outcome_of(result, target=body.target)

    async def resume_durable(self, tenant: Tenant, ident: str) -> Message:
        """Finish the tenant's durable execution ``ident`` (``stele resume --connect``)."""
        return outcome_of(await self._counted(
            tenant, ident, lambda: self._resume(tenant, durable_id(tenant.name, ident))))

    async def _counted(self, tenant: Tenant, durable: str | None,
                       run: Callable[[], Awaitable[Any]]) -> Any:
        """``run()``'s result, counted as one of the tenant's synchronous executions.

        A durable execution's errors name the tenant's id (``durable``), not the
        store's (which holds the tenant's namespace).
        """
        from ..actors.sandbox._durable import UnknownExecution

        usage = self._usage(tenant.name)
        usage.executions += 1
        usage.running += 1
        outcome = "cancelled"
        try:
            try:
                result = await run()
                outcome = "succeeded"
            except UnknownExecution:
                outcome = "failed"
                if durable is None:
                    raise
                raise UnknownExecution(durable) from None
            except DurableMismatch as exc:
                outcome = "failed"
                if durable is None:
                    raise
                raise DurableMismatch(durable, exc.field, exc.journaled, exc.now) from None
            except Exception:
                outcome = "failed"
                raise
        finally:
            usage.ended(outcome)
            self._finished(tenant.name, usage)
            with anyio.CancelScope(shield=True):
                await self.settle(tenant.name)
        usage.fuel += result.cost
        return result

    async def _run(self, tenant: Tenant, target: str, args: tuple[Any, ...], limits: Any,
                   policy: Any, engine: str, memo: bool, kv: TxKV | None, *,
                   prove: bool = False, durable: str | None = None) -> Any:
        """One execution through the runtime's executor, under the tenant's KV namespace."""
        from ..actors.executor import Execute

        return await self._granted(tenant, lambda grant, handle: Execute(
            target, args, limits, policy, engine, tenant.name, memo, handle, kv=kv,
            namespace=namespace_of(tenant.name), prove=prove, durable=durable, grant=grant))

    async def _resume(self, tenant: Tenant, ident: str) -> Any:
        """The stored durable execution ``ident`` (the store's id), finished under the
        tenant's grant as :meth:`stele.Runtime.resume` finishes it."""
        from ..actors.executor._durable import request_of

        stored, _entries = await self.rt.durable_journal(ident)  # UnknownExecution if none
        again = request_of(ident, stored.header)
        return await self._granted(
            tenant, lambda grant, handle: replace(again, handle=handle, grant=grant))

    async def _granted(self, tenant: Tenant, build: Callable[[str, Any], Any]) -> Any:
        """Ask the executor for ``build(grant, handle)``, carved from the tenant's grant."""
        from ..actors.allocator import GrantReleased
        from ..actors.executor import CancelHandle

        if self._executor is None:
            self._executor = self.rt.system.lookup("executor")
        for attempt in (1, 2):
            grant = await self.tenant_grant(tenant)
            handle = CancelHandle()
            try:
                return await ask_execute(self._executor, build(grant, handle), handle)
            except GrantReleased as exc:
                # The allocator restarted (its grants went with it): carve a new one, once.
                if attempt == 2 or exc.grant != grant:
                    raise
                if self.grants.get(tenant.name) == grant:
                    del self.grants[tenant.name]
        raise AssertionError("unreachable")

    async def _stats(self, tenant: Tenant, body: StatsRequest) -> Message:
        s = await self.rt.stats()
        ex = s.executor
        cs = s.cache
        executor = {"started": ex.started, "succeeded": ex.succeeded, "failed": ex.failed,
                    "memo_hits": ex.memo_hits, "running": ex.running,
                    "programs_cached": ex.programs_cached, "cancelled": ex.cancelled}
        cache = {f"stats.{k}": int(v) for k, v in _fields(cs.stats).items()
                 if isinstance(v, int)}
        cache.update(entries=cs.entries, memory_bytes=cs.memory_bytes, disk_bytes=cs.disk_bytes)
        a = s.allocator
        return StatsReply(executor, cache, a.capacity, a.available, a.live_grants, a.waiting)

    # -- jobs ------------------------------------------------------------------
    async def _submit(self, tenant: Tenant, body: SubmitRequest) -> Message:
        digest = await self.resolve(tenant, body.target)
        self._limits(tenant, body.limits)  # refuse bad values now, not in the worker
        self._policy(tenant, body.policy)
        args_from_wire(body.args)
        if body.idempotency_key is not None and not 0 < len(body.idempotency_key) <= 256:
            raise BadRequest("an idempotency key is 1 to 256 characters")
        if body.idempotency_key is None or not self._known_idem(tenant, body.idempotency_key):
            live = self.live.get(tenant.name, 0)
            if live >= self._quota(tenant, "queue"):
                raise self._busy(f"tenant {tenant.name} has {live} jobs queued or running "
                                 f"(quota {self._quota(tenant, 'queue')})")
            total = sum(self.live.values())
            if total >= self.cfg.max_queue:
                raise self._busy(f"{total} jobs queued or running (max_queue={self.cfg.max_queue})")
        pinned = replace(body, target=str(digest))
        record = encode([body.target, encode_message(pinned)])
        seq, created = self.jobs.submit(tenant.name, body.idempotency_key, record)
        if created:
            self._enqueue(tenant.name, seq)
        return JobAccepted(job_id(seq), created)

    def _known_idem(self, tenant: Tenant, key: str) -> bool:
        return self.jobs.find_idem(tenant.name, key) is not None

    def _enqueue(self, tenant: str, seq: int) -> None:
        q = self.queues.get(tenant)
        if q is None:
            q = self.queues[tenant] = deque()
        if not q:
            self.rr.append(tenant)
        q.append(seq)
        self.live[tenant] = self.live.get(tenant, 0) + 1
        self._wake.set()

    def _saturated(self, tenant: str) -> bool:
        """The tenant already runs as many executions as its grant has slots."""
        slots = self.grant_slots.get(tenant)
        return slots is not None and self._usage(tenant).running >= slots

    async def _next_job(self) -> int | None:
        """The next queued job, round-robin over tenants (fair share); ``None`` when stopping.

        A tenant running all its slots is passed over: its job would only wait
        under its grant, holding a worker another tenant's job could use.
        """
        while not self.stopping:
            for _ in range(len(self.rr)):
                tenant = self.rr.popleft()
                q = self.queues[tenant]
                if self._saturated(tenant):
                    self.rr.append(tenant)
                    continue
                seq = q.popleft()
                if q:
                    self.rr.append(tenant)
                return seq
            # Every idle worker waits on the *same* event (one made per wake-up): a worker
            # replacing an unset event would strand the workers waiting on the old one.
            if self._wake.is_set():
                self._wake = anyio.Event()
            await self._wake.wait()
        return None

    def _requeue(self, tenant: str, seq: int) -> None:
        """Put a job taken by :meth:`_next_job` back at the end of its tenant's queue."""
        q = self.queues.setdefault(tenant, deque())
        if not q:
            self.rr.append(tenant)
        q.append(seq)

    def queue_depth(self) -> int:
        """Jobs waiting for a worker."""
        return sum(len(q) for q in self.queues.values())

    async def worker(self) -> None:
        """Run queued jobs one at a time until the daemon stops."""
        while True:
            seq = await self._next_job()
            if seq is None:
                return
            try:
                job = self.jobs.get(seq)
            except sqlite3.Error as exc:
                await self._disk_trouble(seq, None, exc)
                continue
            if job is not None and job.state not in TERMINAL_STATES:
                try:  # the tenant's grant first: a job that cannot run yet stays queued
                    await self.tenant_grant(Tenant(job.tenant, self._tenant_quota(job.tenant)))
                except Busy:
                    self._requeue(job.tenant, seq)
                    await self.env.sleep(self.cfg.retry_after)
                    continue
                except sqlite3.Error as exc:  # the tenants table could not be read
                    await self._disk_trouble(seq, job.tenant, exc)
                    continue
            try:
                started = None if job is None else self.jobs.start(job)
            except sqlite3.Error as exc:
                assert job is not None
                await self._disk_trouble(seq, job.tenant, exc)
                continue
            if started is None:  # cancelled while queued
                self._job_done(job.tenant if job else "", seq)
                continue
            with anyio.CancelScope() as scope:
                self.running_jobs[seq] = scope
                usage = self._usage(started.tenant)
                usage.running += 1
                usage.executions += 1
                outcome = "cancelled"
                try:
                    outcome = await self._run_job(started)
                except (sqlite3.Error, StoreUnavailable) as exc:  # a failing disk: run it again
                    outcome = "retry"  # still 'running' in the store; nothing was committed
                    self.log("job_store_error", job=job_id(seq),
                             error=f"{type(exc).__name__}: {exc}")
                except Exception as exc:
                    outcome = "failed"  # a bug or a damaged row: fail this job, keep serving
                    self.log("job_error", job=job_id(seq), error=f"{type(exc).__name__}: {exc}")
                    err = DaemonError(f"job {job_id(seq)} failed inside the daemon: "
                                      f"{type(exc).__name__}: {exc}")
                    self.jobs.complete(started, "failed", None,
                                       encode_message(raised_of(err)), None)
                finally:
                    self._finished(started.tenant, usage)
                    del self.running_jobs[seq]
                    if not (outcome == "cancelled" and self.stopping) and outcome != "retry":
                        usage.ended(outcome)  # else: re-run later
            if scope.cancelled_caught and self.stopping:
                continue  # still 'running' in the store: re-run at the next start
            if outcome == "retry":
                self._requeue(started.tenant, seq)
                await self.env.sleep(self.cfg.retry_after)
                continue
            self._job_done(started.tenant, seq)
            await self.settle(started.tenant)

    async def _disk_trouble(self, seq: int, tenant: str | None, exc: sqlite3.Error) -> None:
        """A job's row could not be read or updated (a failing disk): try it again later.

        The job stays as the store has it (queued or running), so a restart
        would re-run it too; committing its outcome is atomic with its KV
        writes, so running it again is safe.
        """
        self.log("job_store_error", job=job_id(seq), error=f"{type(exc).__name__}: {exc}")
        # An unreadable row's tenant is unknown: the queue "" (no tenant's name) holds it;
        # its live count stays with its tenant, settled when the job ends.
        self._requeue(tenant if tenant is not None else "", seq)
        await self.env.sleep(self.cfg.retry_after)

    def _job_done(self, tenant: str, seq: int) -> None:
        if tenant in self.live:
            self.live[tenant] -= 1
        ev = self.waiters.pop(seq, None)
        if ev is not None:
            ev.set()

    async def _run_job(self, job: JobRow) -> str:
        """Run one started job to its end; the state it ended in."""
        record = decode(job.request)
        assert isinstance(record, list) and len(record) == 2
        shown, inner = record[0], record[1]
        body = decode_message(inner, SubmitRequest)
        tenant = Tenant(job.tenant, self._tenant_quota(job.tenant))
        try:
            limits = self._limits(tenant, body.limits)
            policy = self._policy(tenant, body.policy)
            args = args_from_wire(body.args)
        except (SteleError, ValueError, TypeError) as exc:
            self.jobs.complete(job, "failed", None, encode_message(raised_of(exc)), None)
            return "failed"
        retrying = False
        try:
            for attempt in range(MAX_CONFLICT_RETRIES):
                if attempt == 1:
                    # Re-runs after a conflict go one at a time: jobs contending for one hot
                    # key would otherwise keep invalidating each other's re-runs.
                    await self._retry_lock.acquire()
                    retrying = True
                kv = TxKV(self.kv_base)
                try:
                    result = await self._run(tenant, body.target, args, limits, policy,
                                             body.engine, body.memo, kv)
                except SteleError as exc:
                    if isinstance(exc, StoreUnavailable) and job.attempts < MAX_STORE_ATTEMPTS:
                        raise  # transient: the worker runs it again (nothing was committed)
                    self.jobs.complete(job, "failed", None, encode_message(raised_of(exc)),
                                       None)
                    return "failed"
                self._usage(job.tenant).fuel += result.cost
                outcome = outcome_of(result, target=str(shown))
                done = self.jobs.complete(job, "succeeded", encode_message(outcome), None, kv)
                if done is not False:
                    return "succeeded"
                self.conflicts += 1
        finally:
            if retrying:
                self._retry_lock.release()
        err = DaemonError(f"job {job_id(job.seq)}: KV keys it reads kept changing under it "
                          f"({MAX_CONFLICT_RETRIES} attempts)")
        self.jobs.complete(job, "failed", None, encode_message(raised_of(err)), None)
        return "failed"

    def _tenant_quota(self, name: str) -> Any:
        from ._tenants import Quota

        for t in self.tenants.all():
            if t.name == name:
                return t.quota
        return Quota()

    def _job(self, tenant: Tenant, text: str) -> JobRow:
        seq = job_seq(text)
        job = None if seq is None else self.jobs.get(seq, tenant.name)
        if job is None:
            raise JobNotFound(text)
        return job

    def _info(self, job: JobRow) -> JobInfo:
        record = decode(job.request)
        assert isinstance(record, list)
        shown = record[0]
        etype = emsg = None
        if job.error is not None:
            r = decode_message(job.error, Raised)
            etype, emsg = r.type, r.message
        return job.info(str(shown), etype, emsg)

    async def _status(self, tenant: Tenant, body: JobStatusRequest) -> Message:
        return self._info(self._job(tenant, body.job_id))

    async def _wait(self, tenant: Tenant, body: WaitRequest) -> Message:
        job = self._job(tenant, body.job_id)
        timeout = math.inf if body.timeout_ns is None else body.timeout_ns / 1e9
        with self.env.move_on_after(timeout):
            while job.state not in TERMINAL_STATES and not self.stopping:
                ev = self.waiters.get(job.seq)
                if ev is None:
                    ev = self.waiters[job.seq] = anyio.Event()
                await ev.wait()
                job = self._job(tenant, body.job_id)
        job = self._job(tenant, body.job_id)
        result = None if job.result is None else decode_message(job.result, ExecOutcome)
        error = None if job.error is None else decode_message(job.error, Raised)
        return JobOutcome(self._info(job), result, error)

    async def _cancel(self, tenant: Tenant, body: CancelRequest) -> Message:
        job = self._job(tenant, body.job_id)
        if self.jobs.cancel(job):
            scope = self.running_jobs.get(job.seq)
            if scope is not None:
                scope.cancel()  # the worker then calls _job_done
            elif job.seq not in self.running_jobs:
                q = self.queues.get(job.tenant)
                if q is not None and job.seq in q:
                    q.remove(job.seq)
                    if not q and job.tenant in self.rr:
                        self.rr.remove(job.tenant)
                    self._job_done(job.tenant, job.seq)
        return self._info(self._job(tenant, body.job_id))

    # -- status ----------------------------------------------------------------------
    async def _server_status(self, tenant: Tenant, body: ServerStatusRequest) -> Message:
        return self.status(None if tenant.admin else tenant.name)

    def snapshot(self) -> Snapshot:
        """The figures ``/metrics`` shows (in-memory only: a scrape never touches the store)."""
        tenants = {}
        for name in sorted(set(self.usage) | set(self.queues)):
            u = self.usage.get(name, _Usage())
            tenants[name] = TenantFigures(u.requests, u.executions, u.running,
                                          len(self.queues.get(name, ())), u.fuel, u.connections,
                                          self.grant_slots.get(name, 0), dict(u.outcomes))
        running = sum(u.running for u in self.usage.values())
        return Snapshot(__version__, (self.env.now_ns() - self.started_ns) / 1e9,
                        self.connections, self.queue_depth(), running,
                        dict(self.request_counts), tenants, self.capacity.slots,
                        self.capacity.slots - sum(self.grant_slots.values()), self.conflicts)

    def status(self, only: str | None = None) -> ServerStatus:
        """The figures ``stele status`` prints (``only``: one tenant's usage)."""
        counts = self.jobs.counts()
        names = set(counts) | set(self.usage)
        tenants: dict[str, TenantUsage] = {}
        totals = dict.fromkeys(("queued", "succeeded", "failed"), 0)
        running = 0
        for name in sorted(names):
            c = counts.get(name, {})
            u = self.usage.get(name, _Usage())
            queued = c.get("queued", 0)
            for k in totals:
                totals[k] += queued if k == "queued" else c.get(k, 0)
            running += u.running
            if only is None or name == only:
                tenants[name] = TenantUsage(u.requests, u.executions, u.running, queued,
                                            c.get("succeeded", 0), c.get("failed", 0), u.fuel,
                                            u.connections, self.grant_slots.get(name, 0))
        return ServerStatus(__version__, self.env.now_ns() - self.started_ns,
                            tuple(self.addresses), self.connections, self.queue_depth(),
                            running, totals["queued"], totals["succeeded"], totals["failed"],
                            tenants, _store_bytes(self.store_file), self.store_file)


def _port(tcp: Any, asked: int) -> int:
    """The port a TCP listener is bound to (``asked``, or the one a port 0 resolved to)."""
    try:
        return int(tcp.extra(anyio.abc.SocketAttribute.local_address)[1])
    except (anyio.TypedAttributeLookupError, TypeError, IndexError):
        inner = getattr(tcp, "listeners", [])
        if inner:
            return int(inner[0].extra(anyio.abc.SocketAttribute.local_address)[1])
    return asked


def root_capacity(config: DaemonConfig) -> Resources:
    """The daemon's root allocator: ``config.slots`` slots, effectively unlimited amounts."""
    return Resources(fuel=1 << 60, memory=1 << 40, wall_ns=1 << 62, cycles=1 << 60,
                     slots=config.slots, storage=1 << 40)


def durable_id(tenant: str, ident: str) -> str:
    """The store's id of ``tenant``'s durable execution ``ident`` (tenants never share one).

    A tenant name cannot hold ``/``, so two tenants' ids never collide.
    """
    if not 0 < len(ident) <= 256:
        raise BadRequest(f"a durable execution id is 1 to 256 characters, got {len(ident)}")
    return f"{namespace_of(tenant)}/{ident}"


def _fields(obj: object) -> dict[str, object]:
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return {}


def _one(target: str, prefix: str, candidates: list[Digest]) -> Digest:
    from ..protocol import resolve_prefix

    return resolve_prefix(prefix, candidates)


def _store_bytes(path: str) -> int:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        try:
            total += os.path.getsize(path + suffix)
        except OSError:
            pass
    return total


_Handler = Callable[[Daemon, Tenant, Any], Awaitable[Message]]
_HANDLERS: dict[type[Message], _Handler] = {
    StoreSourceRequest: Daemon._store_source,
    StoreBlobRequest: Daemon._store_blob,
    ResolveRequest: Daemon._resolve_request,
    ExecuteRequest: Daemon._execute_request,
    StatsRequest: Daemon._stats,
    SubmitRequest: Daemon._submit,
    JobStatusRequest: Daemon._status,
    WaitRequest: Daemon._wait,
    CancelRequest: Daemon._cancel,
    ServerStatusRequest: Daemon._server_status,
    **REPO_HANDLERS,
}


async def serve(config: DaemonConfig, *, env: Env | None = None,
                log: EventLog | None = None,
                on_ready: Callable[[Daemon], None] | None = None,
                stop: anyio.Event | None = None) -> int:
    """Run the daemon until a signal (or ``stop``); the exit status (0 graceful, 1 forced)."""
    from .._core._realenv import RealEnv

    env = env or RealEnv()
    log = log or EventLog(json_lines=config.json_logs)
    if not env.simulated:  # under simulation the store is on the simulated disk
        os.makedirs(config.root, exist_ok=True)
    capacity = root_capacity(config)
    forced = False
    async with open_runtime(config.root, env=env, capacity=capacity) as rt:
        assert rt.path is not None
        daemon = Daemon(config, rt, env, rt.path, log)
        unix_paths: list[str] = []
        # --trace: record from the start; written after the last request has finished
        tracing = ExitStack()
        trace = tracing.enter_context(rt.trace()) if config.trace else None
        try:
            async with anyio.create_task_group() as top:
                listeners = []
                closing: list[Any] = []  # closed at shutdown too, never served by accept_loop
                for text in config.addresses:
                    listeners.append(await daemon.listen(text))
                    if text.startswith("unix:") and not env.simulated:
                        unix_paths.append(text[5:])
                if config.metrics:
                    maddr = parse_address(config.metrics)
                    metrics = await env.listen_tcp(maddr.host, maddr.port)
                    closing.append(metrics)
                    daemon.metrics_address = str(Address("tcp", host=maddr.host,
                                                         port=_port(metrics, maddr.port)))
                    top.start_soon(serve_metrics, metrics, env, daemon.snapshot)
                recovered = daemon.recover()
                async with anyio.create_task_group() as conns, \
                        anyio.create_task_group() as workers:
                    for _ in range(config.workers):
                        workers.start_soon(daemon.worker)
                    accept = anyio.CancelScope()

                    async def accepting() -> None:
                        with accept:
                            async with anyio.create_task_group() as acc:
                                for listener in listeners:
                                    acc.start_soon(daemon.accept_loop, listener, conns)

                    top.start_soon(accepting)
                    log("listening", address=list(daemon.addresses), store=rt.path,
                        version=__version__, pid=os.getpid(), recovered_jobs=recovered,
                        **({"metrics": daemon.metrics_address} if daemon.metrics_address else {}))
                    if on_ready is not None:
                        on_ready(daemon)
                    with _signals(env) as signals:
                        first = await _first_signal(signals, stop)
                        log("shutting_down", signal=first, grace_seconds=config.grace_seconds,
                            running_jobs=len(daemon.running_jobs), in_flight=daemon.active)
                        daemon.stopping = True
                        accept.cancel()
                        for listener in listeners + closing:
                            await listener.aclose()
                        for path in unix_paths:
                            _unlink(path)
                        daemon._wake.set()
                        for ev in list(daemon.waiters.values()):
                            ev.set()
                        forced = await _drain(daemon, signals, env, config.grace_seconds, log)
                    conns.cancel_scope.cancel()
                    workers.cancel_scope.cancel()
                top.cancel_scope.cancel()
        finally:
            tracing.close()  # stop recording, then write what was recorded
            if trace is not None and config.trace:
                _write_trace(trace, config.trace, log)
            for path in unix_paths:
                _unlink(path)
            daemon.close()
    log("stopped", forced=forced)
    return 1 if forced else 0


def _write_trace(recording: RuntimeTrace, path: str, log: EventLog) -> None:
    """Write ``stele serve --trace``'s recording; a failure is logged, never raised."""
    try:
        recording.write(path)
    except OSError as exc:
        log("trace_error", path=path, error=f"{type(exc).__name__}: {exc}")
        return
    log("trace_written", path=path, executions=recording.executions, events=recording.events)


@contextmanager
def _signals(env: Env) -> Iterator[Any]:
    """SIGTERM/SIGINT as an async iterator; none under simulation (``stop`` ends the run).

    A simulated daemon shares its process with the simulator (and maybe
    with other simulated daemons): the process's signals are not its own.
    """
    if env.simulated:
        yield _NoSignals()
        return
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        yield signals


class _NoSignals:
    """An async iterator of signals that never yields (the simulated daemon's)."""

    def __aiter__(self) -> _NoSignals:
        return self

    async def __anext__(self) -> int:
        await anyio.sleep_forever()
        raise StopAsyncIteration  # pragma: no cover - sleep_forever never returns


async def _first_signal(signals: Any, stop: anyio.Event | None) -> str:
    """The name of the first signal received (or ``"stop"`` when ``stop`` is set)."""
    got = "stop"
    async with anyio.create_task_group() as tg:
        async def by_signal() -> None:
            nonlocal got
            async for sig in signals:
                got = signal.Signals(sig).name
                break
            tg.cancel_scope.cancel()

        async def by_event() -> None:
            assert stop is not None
            await stop.wait()
            tg.cancel_scope.cancel()

        tg.start_soon(by_signal)
        if stop is not None:
            tg.start_soon(by_event)
    return got


async def _drain(daemon: Daemon, signals: Any, env: Env, grace: float, log: EventLog) -> bool:
    """Wait (up to ``grace`` s) for in-flight requests and running jobs; True if forced."""
    forced = False
    async with anyio.create_task_group() as tg:
        async def second() -> None:
            nonlocal forced
            async for sig in signals:
                forced = True
                log("forced", signal=signal.Signals(sig).name)
                break
            tg.cancel_scope.cancel()

        async def quiet() -> None:
            with env.move_on_after(grace) as scope:
                while daemon.active or daemon.running_jobs:
                    await env.sleep(0.01)
            if scope.cancelled_caught:
                log("grace_expired", running_jobs=len(daemon.running_jobs),
                    in_flight=daemon.active)
            tg.cancel_scope.cancel()

        tg.start_soon(second)
        tg.start_soon(quiet)
    return forced


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
