"""The remote face of the runtime: ``stele.connect(address, token=...)``.

::

    async with stele.connect("unix:.stele/stele.sock", token=TOKEN) as rt:
        names = await rt.store(source)                  # the tenant's names -> Digest
        r = await rt.execute("fib", [20], limits=ExecLimits(fuel=10**6))
        job = await rt.submit("fib", [25], idempotency_key="fib-25")
        r = await rt.wait(job)

:class:`RemoteRuntime` has the methods of the embedded
:class:`stele.Runtime` (``store``, ``store_blob``, ``resolve``,
``execute``, ``stats``) with the same arguments and result types, plus the
daemon's jobs (``submit``, ``status``, ``wait``, ``cancel``) and
``server_status``.  A typed error raised by the remote execution
(``EffectDenied``, ``UnknownTarget``, ``CostLimitExceeded``...) is raised
here as the same class.  Only anyio is used: it works from trio and asyncio.

One connection carries any number of concurrent requests (each under its
own request id); the daemon bounds how many are in flight and answers
:class:`Busy` past that.  Cancelling a caller stops waiting for its answer;
a synchronous execution already running in the daemon runs to its end
(use jobs and :meth:`RemoteRuntime.cancel` for work you may abandon).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from .._core._env import Env
from ..protocol import (Connection, ConnectionClosed, Digest, ErrorReply, Goodbye, Message, Ping,
                        Pong, ProtocolError, Reply)
from ..protocol._frames import MAX_FRAME_SIZE
from ._address import parse_address
from ._errors import (DaemonError, DaemonUnavailable, JobCancelled, JobFailed,
                      ProtocolVersionError, RemoteFailure)
from ._messages import (DAEMON_PROTOCOL, CancelRequest, DigestReply, ExecOutcome, ExecuteRequest, Hello,
                        JobAccepted, JobInfo, JobOutcome, JobStatusRequest, Raised,
                        ResolveRequest, ServerStatus, ServerStatusRequest, StatsReply,
                        StatsRequest, StoreBlobRequest, StoredNamesReply, StoreSourceRequest,
                        SubmitRequest, WaitRequest, Welcome)
from ..actors.repository._messages import HistoryReply, NameChange, NamesReply
from ._repo_messages import (DeleteRequest, DependentsList, DependentsRequest, FetchReply,
                             FetchRequest, HistoryRequest, NamesRequest, RenameRequest,
                             ResumeRequest, ShowOutcome, ShowRequest)
from ._wire import args_to_wire, exception_of, limits_to_wire, result_of

if TYPE_CHECKING:
    from .._runtime import RuntimeStats
    from ..actors.executor import ExecLimits, ExecResult
    from ..actors.sandbox import Policy

__all__ = ["connect", "RemoteRuntime"]


class _Slot:
    __slots__ = ("event", "reply")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.reply: Message | BaseException | None = None


class RemoteRuntime:
    """A connection to a daemon, acting as one tenant (returned by :func:`connect`)."""

    def __init__(self, stream: anyio.abc.ByteStream, address: str, *,
                 max_frame_size: int = MAX_FRAME_SIZE) -> None:
        self.address = address
        self.tenant = ""
        self.server_version = ""
        self.admin = False
        self._stream = stream
        # Outgoing messages are built here from typed values (args already in CBOR form):
        # skip re-decoding each one before it is sent (the daemon validates every field).
        self._conn = Connection(max_frame_size=max_frame_size, check_outgoing=False)
        self._lock = anyio.Lock()
        self._pending: dict[int, _Slot] = {}
        self._error: BaseException | None = None
        self._default_limits: ExecLimits | None = None

    # -- plumbing ----------------------------------------------------------------
    async def _reader(self) -> None:
        try:
            while True:
                try:
                    data = await self._stream.receive(65536)
                except anyio.EndOfStream:
                    data = b""
                self._conn.receive_data(data)
                while (event := self._conn.next_event()) is not None:
                    if isinstance(event, (Reply, ErrorReply)):
                        slot = self._pending.pop(event.id, None)
                        if slot is not None:
                            slot.reply = event
                            slot.event.set()
                    elif isinstance(event, ConnectionClosed):
                        raise DaemonUnavailable(f"the daemon at {self.address} closed the "
                                                "connection")
                    elif isinstance(event, Goodbye):
                        raise DaemonUnavailable(f"the daemon at {self.address} closed the "
                                                f"connection: {event.reason}")
                    elif isinstance(event, Ping):
                        async with self._lock:
                            await self._stream.send(self._conn.send(Pong(event.nonce)))
        except (DaemonUnavailable, ProtocolError, anyio.BrokenResourceError,
                anyio.ClosedResourceError, OSError) as exc:
            self._fail(exc if isinstance(exc, DaemonUnavailable) else DaemonUnavailable(
                f"connection to {self.address} lost: {exc}"))

    def _fail(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = exc
        for slot in self._pending.values():
            slot.reply = self._error
            slot.event.set()
        self._pending.clear()

    async def _request(self, body: Message) -> Message:
        if self._error is not None:
            raise DaemonUnavailable(str(self._error))
        rid, data = self._conn.request(body)
        slot = self._pending[rid] = _Slot()
        try:
            async with self._lock:
                await self._stream.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            self._fail(DaemonUnavailable(f"connection to {self.address} lost: {exc}"))
        await slot.event.wait()
        reply = slot.reply
        if isinstance(reply, BaseException):
            raise DaemonUnavailable(str(reply)) if not isinstance(
                reply, DaemonUnavailable) else reply
        if isinstance(reply, ErrorReply):
            raise RemoteFailure(f"daemon:{reply.code}", reply.message)
        assert isinstance(reply, Reply)
        out = reply.body
        if isinstance(out, Raised):
            raise exception_of(out)
        return out

    async def _expect(self, body: Message, kind: type[Any]) -> Any:
        out = await self._request(body)
        if not isinstance(out, kind):
            raise DaemonError(f"the daemon answered {type(body).__name__} with "
                              f"{type(out).__name__}, expected {kind.__name__}")
        return out

    async def _hello(self, token: str) -> None:
        welcome = await self._expect(Hello(token, "stele.connect", DAEMON_PROTOCOL), Welcome)
        if welcome.protocol != DAEMON_PROTOCOL:
            raise ProtocolVersionError(DAEMON_PROTOCOL, welcome.protocol)
        self.tenant = welcome.tenant
        self.server_version = welcome.server
        self.admin = welcome.admin

    # -- the Runtime's methods ---------------------------------------------------------
    async def store(self, source: str, *, filename: str = "<input>", namespace: str = ""
                    ) -> dict[str, Digest]:
        """Store TEL ``source`` under this tenant's names; returns name -> digest."""
        reply = await self._expect(StoreSourceRequest(source, filename, namespace),
                                   StoredNamesReply)
        if sorted(reply.order) != sorted(reply.names):  # an older answer: no order given
            return dict(reply.names)
        return {name: reply.names[name] for name in reply.order}

    async def store_blob(self, data: bytes, *, name: str | None = None) -> Digest:
        """Store a RISC-V guest ELF, optionally naming it."""
        reply = await self._expect(StoreBlobRequest(bytes(data), name), DigestReply)
        digest: Digest = reply.digest
        return digest

    async def resolve(self, target: str | Digest) -> Digest:
        """The digest a name, digest or unique prefix denotes (among this tenant's)."""
        reply = await self._expect(ResolveRequest(str(target)), DigestReply)
        digest: Digest = reply.digest
        return digest

    async def resolve_kind(self, target: str | Digest) -> tuple[Digest, str]:
        """:meth:`resolve`, with the stored object's kind (``riscv.elf`` for a guest)."""
        reply = await self._expect(ResolveRequest(str(target), with_kind=True), DigestReply)
        return reply.digest, str(reply.kind)

    def _limits(self, limits: ExecLimits | None) -> Any:
        if limits is None:
            if self._default_limits is None:
                from ..actors.executor import ExecLimits

                self._default_limits = ExecLimits()
            limits = self._default_limits
        return limits_to_wire(limits)

    def _check_tenant(self, tenant: str) -> None:
        if tenant not in ("default", self.tenant):
            raise DaemonError(f"tenant={tenant!r}: a connection acts as its token's tenant "
                              f"({self.tenant!r})")

    async def execute(self, target: str | Digest, args: Sequence[Any] | bytes = (), *,
                      limits: ExecLimits | None = None, policy: Policy | None = None,
                      engine: str = "tel", tenant: str = "default", memo: bool = True,
                      prove: bool = False, durable: str | None = None) -> ExecResult:
        """Run stored code in the daemon; the same :class:`ExecResult` as embedded.

        ``prove=True`` (a guest) returns the run's ``receipt``, made and stored
        by the daemon; ``durable`` is a durable execution id of this tenant's
        (asked again, the daemon replays its journal or answers its stored
        result: ``docs/durable.md``).
        """
        self._check_tenant(tenant)
        reply = await self._expect(ExecuteRequest(
            str(target), args_to_wire(args), self._limits(limits),
            None if policy is None else policy.to_cbor_obj(), engine, memo, prove, durable),
            ExecOutcome)
        return result_of(reply)

    async def stats(self) -> RuntimeStats:
        """The daemon runtime's executor, memo cache and allocator counters."""
        from .._runtime import RuntimeStats
        from ..actors.allocator import Status
        from ..actors.cache import CacheStats, MemoStatsReply
        from ..actors.executor import ExecutorStats

        r = await self._expect(StatsRequest(), StatsReply)
        cs = {k[6:]: v for k, v in r.cache.items() if k.startswith("stats.")}
        cache = MemoStatsReply(CacheStats(**cs), r.cache.get("entries", 0),
                               r.cache.get("memory_bytes", 0), r.cache.get("disk_bytes", 0))
        return RuntimeStats(ExecutorStats(**r.executor), cache,
                            Status(r.allocator_capacity, r.allocator_available, r.live_grants,
                                   r.waiting))

    # -- jobs --------------------------------------------------------------------------
    async def submit(self, target: str | Digest, args: Sequence[Any] | bytes = (), *,
                     limits: ExecLimits | None = None, policy: Policy | None = None,
                     engine: str = "tel", memo: bool = True,
                     idempotency_key: str | None = None) -> str:
        """Queue a durable job; returns its id once the daemon has it in the store.

        Submitting again with the same ``idempotency_key`` returns the same
        job (whether or not the first answer arrived).
        """
        reply = await self._expect(SubmitRequest(
            str(target), args_to_wire(args), self._limits(limits),
            None if policy is None else policy.to_cbor_obj(), engine, memo, idempotency_key),
            JobAccepted)
        job: str = reply.job_id
        return job

    async def status(self, job_id: str) -> JobInfo:
        """The job's state (``queued``, ``running``, ``succeeded``, ``failed``, ``cancelled``)."""
        info: JobInfo = await self._expect(JobStatusRequest(job_id), JobInfo)
        return info

    async def wait(self, job_id: str, timeout: float | None = None) -> ExecResult:
        """The job's result once it completes; its typed error if it failed.

        Raises :class:`JobCancelled` for a cancelled job and ``TimeoutError``
        when ``timeout`` seconds pass first.
        """
        deadline_ns = None if timeout is None else max(1, int(timeout * 1e9))
        while True:
            out = await self._expect(WaitRequest(job_id, deadline_ns), JobOutcome)
            state = out.info.state
            if state == "succeeded" and out.result is not None:
                return result_of(out.result)
            if state == "failed":
                if out.error is not None:
                    raise exception_of(out.error)
                raise JobFailed(f"job {job_id} failed")
            if state == "cancelled":
                raise JobCancelled(job_id)
            if timeout is not None:
                raise TimeoutError(f"job {job_id} is still {state} after {timeout} s")

    async def cancel(self, job_id: str) -> JobInfo:
        """Cancel a queued or running job; returns its state afterwards."""
        info: JobInfo = await self._expect(CancelRequest(job_id), JobInfo)
        return info

    async def server_status(self) -> ServerStatus:
        """The daemon's status (what ``stele status`` prints)."""
        status: ServerStatus = await self._expect(ServerStatusRequest(), ServerStatus)
        return status

    # -- the repository (names as this tenant sees them) --------------------------------
    async def show(self, target: str | Digest, *, closure: bool = False) -> ShowOutcome:
        """A stored definition made readable, its dependencies (and closure)."""
        shown: ShowOutcome = await self._expect(ShowRequest(str(target), closure), ShowOutcome)
        return shown

    async def names(self, namespace: str | None = None) -> list[tuple[str, Digest]]:
        """This tenant's bound names (all, or ``namespace`` and below), sorted."""
        reply = await self._expect(NamesRequest(namespace), NamesReply)
        return list(reply.names)

    async def history(self, name: str) -> list[NameChange]:
        """Every change of ``name``, oldest first (``NameNotFound`` if never bound)."""
        reply = await self._expect(HistoryRequest(name), HistoryReply)
        return list(reply.events)

    async def dependents(self, target: str | Digest, *, all: bool = False) -> DependentsList:
        """This tenant's objects that use ``target``'s (``all``: transitively)."""
        reply: DependentsList = await self._expect(DependentsRequest(str(target), all),
                                                   DependentsList)
        return reply

    async def rename(self, old: str, new: str, *, force: bool = False) -> NameChange:
        """Bind ``new`` to ``old``'s object and unbind ``old`` (history keeps both)."""
        info: NameChange = await self._expect(RenameRequest(old, new, force), NameChange)
        return info

    async def delete(self, name: str) -> NameChange:
        """Unbind ``name``; its ``previous`` is the digest it was bound to."""
        info: NameChange = await self._expect(DeleteRequest(name), NameChange)
        return info

    async def fetch(self, targets: Sequence[str], optional: Sequence[str] = ()) -> FetchReply:
        """The closures of ``targets`` (and of those ``optional`` ones that resolve), to run
        locally (see :func:`stele.daemon._fetch.scratch_store`)."""
        reply: FetchReply = await self._expect(
            FetchRequest(tuple(targets), tuple(optional)), FetchReply)
        return reply

    async def resume(self, ident: str) -> ExecResult:
        """Finish this tenant's durable execution ``ident`` from its journal."""
        return result_of(await self._expect(ResumeRequest(ident), ExecOutcome))

    async def aclose(self) -> None:
        """Close the connection (pending requests fail with :class:`DaemonUnavailable`)."""
        self._fail(DaemonUnavailable(f"connection to {self.address} closed by the client"))
        with anyio.CancelScope(shield=True):
            await self._stream.aclose()


@asynccontextmanager
async def connect(address: str, *, token: str | None = None, env: Env | None = None,
                  timeout: float = 10.0, max_frame_size: int = MAX_FRAME_SIZE
                  ) -> AsyncIterator[RemoteRuntime]:
    """Connect to a daemon at ``unix:PATH`` or ``tcp:HOST:PORT`` and authenticate.

    ``token`` defaults to ``$STELE_TOKEN``.  Connecting and authenticating
    must finish within ``timeout`` seconds (:class:`DaemonUnavailable`);
    a refused token raises :class:`AuthError`.
    """
    from .._core._realenv import RealEnv
    from .._runtime import _unwrapped

    addr = parse_address(address)
    env = env or RealEnv()
    if token is None:
        token = os.environ.get("STELE_TOKEN", "")
    try:
        with env.fail_after(timeout):
            if addr.kind == "unix":
                stream = await env.connect_unix(addr.path)
            else:
                stream = await env.connect_tcp(addr.host, addr.port)
    except (OSError, TimeoutError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (
            str(exc) or type(exc).__name__)
        raise DaemonUnavailable(f"cannot connect to {address}: {reason}") from None
    client = RemoteRuntime(stream, str(addr), max_frame_size=max_frame_size)
    async with _unwrapped():
        async with anyio.create_task_group() as tg:
            tg.start_soon(client._reader)
            try:
                with env.move_on_after(timeout) as scope:
                    await client._hello(token)
                if scope.cancelled_caught:
                    raise DaemonUnavailable(f"{address}: no answer to Hello within {timeout} s")
                yield client
            finally:
                tg.cancel_scope.cancel()
                await client.aclose()

