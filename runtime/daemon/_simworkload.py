"""The ``daemon`` simulation workload: a real ``stele serve`` and its clients under faults.

Shape of the system (one SimEnv, virtual time)::

    client t0/c0 ..  --simulated unix stream-->  serve()  --  open_runtime (SimDisk store)
    client t1/c0 ..        (resets, stalls)        ^  crashed and restarted by the rng

:func:`stele.daemon.serve` runs unchanged on the SimEnv: its store, its
tenants' and jobs' tables are SQLite files on the simulated disk, its socket
is a simulated one.  ``tenants`` tenants are made before the first start;
each has ``clients`` clients that connect with :func:`stele.connect` and,
until the traffic window ends, run a random mix of

* synchronous pure executions (``fib(n)``, the value is checked);
* durable jobs: ``submit("tick", idempotency_key=K)`` (a KV counter of the
  tenant), retried with the *same* key on every connection loss or
  :class:`Busy` until the daemon acknowledges it, then ``wait`` (retried
  likewise);
* isolation probes: the tenant's own ``secret()`` returns its own value;
  another tenant's ``secret`` digest, and another tenant's job id, are
  unknown to it (the typed ``UnknownTarget`` / ``JobNotFound``).

Faults, drawn from the run's rng: the whole daemon crashes (its scope is
cancelled without the graceful ``stop``, and the OS's part -- the listener
vanishes, every accepted connection is reset -- is :meth:`StreamHub.kill`),
then starts again on the same store; single connections are reset; the
streams stall (a partition that TCP outlasts).  At ``ctx.end_ns`` faults
heal and no more crashes happen.  The disk's own faults are on for half
the seeds (``--opt disk=0|1``): EIO/ENOSPC/latency as drawn, never sector
faults, whose damage outlasts the heal; a daemon whose store fails to open
exits and is started again.

Invariants:

* ``exactly-once`` -- at the end each tenant's counter equals the number of
  distinct idempotency keys the daemon acknowledged, and the values the
  ``wait``\\ s returned are exactly ``1..count`` (no job ran twice or never);
* ``wait-consistent`` -- every ``wait`` of one job returns the same value,
  and resubmitting a key returns the job id first acknowledged for it;
* ``pure-value`` -- every ``fib(n)`` execution returns ``fib(n)``;
* ``isolation`` -- a tenant sees its own ``secret`` and never another's
  data: another tenant's digest is ``UnknownTarget``, its job ``JobNotFound``;
* ``liveness`` -- once faults heal, every client finishes its operation in
  flight, and its remaining waits, within ``LIVENESS_S`` of virtual time.
"""

from __future__ import annotations

import dataclasses
import io
import sqlite3
from dataclasses import dataclass, field

import anyio

from .._core._random import SeededRandom
from ..sim._faults import ZERO, DiskFaults
from ..sim._workload import SimContext, register_workload
from ..sim._workload import int_option as _opt
from ._client import RemoteRuntime
from ._config import DaemonConfig
from ..store import StoreUnavailable
from ._errors import Busy, DaemonUnavailable, JobNotFound

__all__ = ["DaemonWorkload", "TICK_TEL", "FIB_TEL", "LIVENESS_S"]

#: The store's directory on the simulated disk, and the daemon's socket.
_ROOT = "daemon"
_SOCKET = "/sim/daemon.sock"
#: After the traffic window, every client must be done within this much virtual time.
LIVENESS_S = 30.0
#: A connection attempt (connect + Hello) gives up after this long.
_CONNECT_TIMEOUT_S = 2.0

FIB_TEL = "def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)\n"
TICK_TEL = """
def tick(i: Int) -> Int ! {KV} =
  let n = match perform KV.get("count") {
    Some(b) => get_or_else(bytes_to_int(b), 0),
    None => 0
  } in
  perform KV.put("count", int_to_bytes(n + 1));
  n + 1
def count() -> Int ! {KV} =
  match perform KV.get("count") {
    Some(b) => get_or_else(bytes_to_int(b), 0),
    None => 0
  }
"""


def _secret_tel(value: int) -> str:
    return f"def secret() -> Int = {value}\n"


def _fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@dataclass
class _Tenant:
    """What the workload knows of one tenant: its token, code and acknowledged jobs."""

    index: int
    name: str
    token: str
    secret_digest: str = ""
    #: idempotency key -> the job id the daemon first acknowledged for it
    acked: dict[str, str] = field(default_factory=dict)
    #: idempotency key -> the value its wait returned
    results: dict[str, int] = field(default_factory=dict)
    #: idempotency keys whose job failed, typed (the store kept failing it): no effect
    failed: set[str] = field(default_factory=set)
    stored: bool = False


class _Retry(Exception):
    """The connection was lost (or the daemon was busy): reconnect and redo the operation."""


class DaemonWorkload:
    """See the module docstring."""

    def configure(self, rng: SeededRandom, options: dict[str, str]) -> list[tuple[str, str]]:
        """Draw the tenant and client counts and the fault rates."""
        self.tenants = _opt(options, "tenants", rng.choice((2, 3)), 1, 8)
        self.clients = _opt(options, "clients", rng.choice((2, 3, 4)), 1, 16)
        #: Mean virtual seconds between daemon crashes (0: never).
        self.crash_every = _opt(options, "crash-every", rng.choice((0, 2, 5)), 0, 3600)
        #: Mean virtual seconds between connection resets (0: never).
        self.reset_every = _opt(options, "reset-every", rng.choice((0, 1, 3)), 0, 3600)
        #: Mean virtual seconds between stream stalls (0: never).
        self.stall_every = _opt(options, "stall-every", rng.choice((0, 2)), 0, 3600)
        self.workers = _opt(options, "workers", rng.choice((1, 2, 4)), 1, 16)
        #: 1: keep the run's disk faults (half the seeds; see the module docstring).
        self.disk = _opt(options, "disk", rng.choice((0, 1)), 0, 1)
        return [("tenants", str(self.tenants)), ("clients", str(self.clients)),
                ("crash-every", str(self.crash_every)), ("reset-every", str(self.reset_every)),
                ("stall-every", str(self.stall_every)), ("workers", str(self.workers)),
                ("disk", str(self.disk))]

    # -- the run ---------------------------------------------------------------
    async def run(self, ctx: SimContext) -> None:
        """Start the daemon, drive the clients through faults, heal, then check."""
        from ._tenants import Quota, TenantStore

        self.ctx = ctx
        env = ctx.env
        drawn = env.disk.faults
        env.disk.faults = DiskFaults()  # the setup (the tenants' rows) runs on a sound disk
        self.config = DaemonConfig(root=_ROOT, listen=(f"unix:{_SOCKET}",),
                                   workers=self.workers, grace_seconds=1.0,
                                   auth_timeout=5.0)
        store = TenantStore(f"{_ROOT}/store.sqlite", env)
        try:
            self.ts = [_Tenant(i, f"t{i}", store.add(env, f"t{i}", Quota()))
                       for i in range(self.tenants)]
        finally:
            store.close()
        if self.disk:  # sector faults stay off: their damage outlasts the heal (no liveness)
            env.disk.faults = dataclasses.replace(drawn, sector_error=ZERO, misdirect=ZERO,
                                                  misread=ZERO)
        self.done_clients = 0
        self.busy: dict[str, _ClientState] = {}
        self.audited = False
        self.total_clients = self.tenants * self.clients
        self.stop = anyio.Event()
        self.lives = 0
        self.crashed = False
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._daemon, ctx)
            async with anyio.create_task_group() as faults:
                faults.start_soon(self._stream_faults, ctx)
                faults.start_soon(self._watchdog, ctx)
                async with anyio.create_task_group() as clients:
                    for t in self.ts:
                        for k in range(self.clients):
                            clients.start_soon(self._client, ctx, t, k)
                await self._audit(ctx)
                self.audited = True
                ctx.passed("liveness")  # the watchdog did not fire first
                faults.cancel_scope.cancel()
            self.stop.set()  # the last life ends gracefully
        ctx.env.trace.record("daemon.lives", self.lives)

    async def _daemon(self, ctx: SimContext) -> None:
        """Serve; while faults last, crash at rng-drawn times and start again."""
        from . import serve
        from ..store import StoreError
        from ._log import EventLog

        rng = ctx.env.rng.fork("daemon.crash")
        with ctx.env.node("daemon"):  # its own wall clock (drift, steps), not the setup's
            while True:
                self.lives += 1
                ctx.env.trace.record("daemon.start", self.lives)
                log = EventLog(stream=_Discard())
                crash_at = 0.0
                if self.crash_every and not ctx.healed:
                    crash_at = rng.randrange(100, 2 * 1000 * self.crash_every) / 1000
                async with anyio.create_task_group() as life:
                    if crash_at:
                        life.start_soon(self._crash_after, ctx, crash_at, life.cancel_scope)
                    try:
                        await serve(self.config, env=ctx.env, log=log, stop=self.stop)
                    except (StoreError, sqlite3.Error) as exc:  # the disk failed it: restarted
                        ctx.bump("daemon_store_errors")
                        ctx.env.trace.record("daemon.store_error", type(exc).__name__)
                    life.cancel_scope.cancel()
                if self.stop.is_set():
                    return
                # The process died: the OS closes its socket and resets its connections.
                ctx.env.streams.kill("unix", _SOCKET)
                if self.crashed:
                    self.crashed = False
                    ctx.bump("daemon_crashes")
                    ctx.env.trace.record("daemon.crash", self.lives)
                await ctx.env.sleep(rng.randrange(1, 500) / 1000)  # until it is restarted

    async def _crash_after(self, ctx: SimContext, seconds: float,
                           scope: anyio.CancelScope) -> None:
        """Crash the daemon (cancel it abruptly: no ``stop``) ``seconds`` from now.

        A crash drawn for after the faults healed does not happen: the liveness
        phase runs on a daemon that stays up.
        """
        await ctx.env.sleep(seconds)
        if not ctx.healed and not self.stop.is_set():
            self.crashed = True
            scope.cancel()

    async def _stream_faults(self, ctx: SimContext) -> None:
        """Reset a random connection now and then; stall every stream now and then."""
        rng = ctx.env.rng.fork("daemon.streams")
        hub = ctx.env.streams
        if not (self.reset_every or self.stall_every):
            return
        while ctx.time_left():
            await ctx.env.sleep(rng.randrange(10, 200) / 1000)
            if not ctx.time_left():
                break
            if self.reset_every and rng.chance(1, 5 * self.reset_every):
                live = hub.live()
                if live:
                    hub.reset(rng.choice(live))
                    ctx.bump("stream_resets")
            if self.stall_every and rng.chance(1, 5 * self.stall_every):
                hub.stall(rng.randrange(10, 1500) * 1_000_000)
                ctx.bump("stream_stalls")

    async def _watchdog(self, ctx: SimContext) -> None:
        """Heal at the end of the traffic window; then every client must finish in time."""
        await ctx.env.sleep_ns(max(0, ctx.end_ns - ctx.env.now_ns()))
        ctx.heal()  # network, disk and stream faults stop; _crash_after crashes no more
        healed_at = ctx.env.now_ns()
        await ctx.env.sleep(LIVENESS_S)
        if self.done_clients < self.total_clients:
            ctx.violation("liveness", f"{self.total_clients - self.done_clients} of "
                          f"{self.total_clients} clients still busy {LIVENESS_S} s after the "
                          f"faults healed (at {healed_at} ns): " + "; ".join(
                              f"{name} op {st.op} ({st.key or '-'}), last error {st.last_error!r}"
                              for name, st in sorted(self.busy.items())))
        elif not self.audited:
            ctx.violation("liveness", f"the final audit did not finish {LIVENESS_S} s after "
                          f"the faults healed (at {healed_at} ns)")

    # -- clients ---------------------------------------------------------------
    async def _client(self, ctx: SimContext, t: _Tenant, k: int) -> None:
        """Connect, run operations until the window ends, reconnecting on every loss."""
        from . import connect

        rng = ctx.env.rng.fork(f"daemon.client.{t.name}.{k}")
        state = self.busy[f"{t.name}/c{k}"] = _ClientState(rng)
        while True:
            try:
                async with connect(f"unix:{_SOCKET}", token=t.token, env=ctx.env,
                                   timeout=_CONNECT_TIMEOUT_S) as rt:
                    ctx.bump("connections")
                    await self._session(ctx, rt, t, k, state)
                break
            except (_Retry, DaemonUnavailable, Busy) as exc:
                ctx.bump("reconnects")
                why = exc.args[0] if isinstance(exc, _Retry) else type(exc).__name__
                ctx.env.trace.record("client.retry", t.name, k, why)
                state.last_error = str(exc.args[-1]) if exc.args else type(exc).__name__
                await ctx.env.sleep(rng.randrange(1, 100) / 1000)
        self.done_clients += 1
        del self.busy[f"{t.name}/c{k}"]
        ctx.env.trace.record("client.done", t.name, k)

    async def _session(self, ctx: SimContext, r: RemoteRuntime, t: _Tenant, k: int,
                       state: _ClientState) -> None:
        """One connection's life: resume the operation in flight, then run new ones."""
        if not t.stored:
            await self._store(ctx, r, t)
        while True:
            if state.op is None:
                if not ctx.time_left():
                    break
                state.op = state.rng.randbelow(10)
                state.arg = state.rng.randbelow(16)
                state.key = f"{t.name}.c{k}.j{state.jobs}"
                state.jobs += 1 if 4 <= state.op <= 6 else 0
            try:
                await self._op(ctx, r, t, state)
            except _Retry as exc:
                if exc.args[0] == "DaemonUnavailable":
                    raise  # the connection is gone: reconnect
                # Busy or a failing disk: the connection is fine, redo the operation on it
                ctx.bump("op_retries")
                state.last_error = str(exc.args[-1])
                ctx.env.trace.record("client.op_retry", t.name, k, exc.args[0])
                await ctx.env.sleep(state.rng.randrange(1, 50) / 1000)
                continue
            state.op = None
            await ctx.env.sleep(state.rng.randrange(0, 30) / 1000)
        # Drain: every job this client got acknowledged has been waited for (in _op);
        # nothing else is owed.

    async def _store(self, ctx: SimContext, r: RemoteRuntime, t: _Tenant) -> None:
        """Store the tenant's programs (once per tenant; idempotent if redone)."""
        try:
            await r.store(FIB_TEL)
            await r.store(TICK_TEL)
            names = await r.store(_secret_tel(1000 + t.index))
        except (DaemonUnavailable, Busy, StoreUnavailable) as exc:
            raise _Retry(type(exc).__name__, str(exc)[:200]) from None
        t.secret_digest = str(next(iter(names.values())))
        t.stored = True

    async def _op(self, ctx: SimContext, r: RemoteRuntime, t: _Tenant,
                  state: _ClientState) -> None:
        """Run (or resume) the client's current operation; ``_Retry`` when it must be redone."""
        from ..actors.sandbox import Policy
        from ..store import UnknownTarget

        env = ctx.env
        try:
            if state.op is not None and state.op < 4:
                n = state.arg
                res = await r.execute("fib", [n])
                if res.value != _fib(n):
                    ctx.violation("pure-value", f"{t.name}: fib({n}) = {res.value!r}, "
                                  f"want {_fib(n)}")
                    return
                ctx.passed("pure-value")
                env.trace.record("client.fib", t.name, n, res.value)
            elif state.op is not None and state.op < 7:
                key = state.key
                if key not in t.acked:
                    job = await r.submit("tick", [state.jobs], policy=Policy.allow("kv", "KV"),
                                         idempotency_key=key)
                    first = t.acked.setdefault(key, job)
                    env.trace.record("client.acked", key, job)
                    ctx.bump("jobs_acked")
                    if first != job:
                        ctx.violation("wait-consistent", f"{key}: acknowledged as {first}, "
                                      f"then as {job}")
                        return
                try:
                    res = await r.wait(t.acked[key])
                except StoreUnavailable:
                    info = await r.status(t.acked[key])  # the request's error, or the job's?
                    if info.state != "failed":
                        raise
                    t.failed.add(key)
                    ctx.bump("jobs_failed_typed")
                    env.trace.record("client.job_failed", key)
                    return
                value = res.value
                seen = t.results.setdefault(key, value)
                env.trace.record("client.waited", key, value)
                if seen != value:
                    ctx.violation("wait-consistent", f"{key}: wait returned {seen}, then {value}")
                    return
                ctx.passed("wait-consistent")
            elif state.op == 7 or len(self.ts) < 2:
                res = await r.execute("secret", [])
                if res.value != 1000 + t.index:
                    ctx.violation("isolation", f"{t.name}: secret() = {res.value!r}, want "
                                  f"{1000 + t.index}")
                    return
                ctx.passed("isolation")
            else:
                other = self.ts[(t.index + 1 + state.arg % (len(self.ts) - 1)) % len(self.ts)]
                if state.op == 8 and other.stored:
                    try:
                        res = await r.execute(other.secret_digest, [])
                    except UnknownTarget:
                        ctx.passed("isolation")
                    else:
                        ctx.violation("isolation", f"{t.name} ran {other.name}'s secret "
                                      f"({other.secret_digest}): {res.value!r}")
                        return
                elif other.acked:
                    job = next(iter(other.acked.values()))
                    try:
                        info = await r.status(job)
                    except JobNotFound:
                        ctx.passed("isolation")
                    else:
                        ctx.violation("isolation", f"{t.name} saw {other.name}'s job {job}: "
                                      f"{info.state}")
                        return
        except (DaemonUnavailable, Busy, StoreUnavailable) as exc:
            raise _Retry(type(exc).__name__, str(exc)[:200]) from None

    # -- the final checks ------------------------------------------------------
    async def _audit(self, ctx: SimContext) -> None:
        """Every tenant's counter equals its acknowledged jobs, and their values are 1..n."""
        from . import connect

        for t in self.ts:
            count: int | None = None
            for _ in range(100):
                try:
                    async with connect(f"unix:{_SOCKET}", token=t.token, env=ctx.env,
                                       timeout=_CONNECT_TIMEOUT_S) as rt:
                        if not t.stored:
                            await self._store(ctx, rt, t)
                        from ..actors.sandbox import Policy

                        res = await rt.execute("count", [], policy=Policy.allow("kv", "KV"),
                                               memo=False)
                        count = int(res.value)
                    break
                except (_Retry, DaemonUnavailable, Busy, StoreUnavailable):
                    await ctx.env.sleep(0.05)
            if count is None:
                ctx.violation("liveness", f"{t.name}: the counter could not be read after "
                              "the faults healed")
                return
            acked = len(t.acked) - len(t.failed)  # a failed job committed nothing
            ctx.env.trace.record("audit", t.name, count, acked)
            ctx.bump("jobs_checked", acked)
            if count != acked:
                ctx.violation("exactly-once", f"{t.name}: counter {count}, but {acked} jobs "
                              "were acknowledged")
                return
            values = sorted(t.results.values())
            if values != list(range(1, acked + 1)) or set(t.results) != set(t.acked) - t.failed:
                ctx.violation("exactly-once", f"{t.name}: the waits returned {values}, want "
                              f"1..{acked} once each")
                return
            ctx.passed("exactly-once")


class _ClientState:
    """A client's operation in flight, kept across reconnections (so a retry is the same)."""

    def __init__(self, rng: SeededRandom) -> None:
        self.rng = rng
        self.op: int | None = None
        self.arg = 0
        self.key = ""
        self.jobs = 0
        #: The last error that made this client retry (shown when liveness fails).
        self.last_error = ""


class _Discard(io.StringIO):
    """A text stream that drops the simulated daemon's log lines (nothing accumulates)."""

    def write(self, text: str) -> int:
        return len(text)


register_workload("daemon", DaemonWorkload,
                  "a real stele serve with tenants and clients (crashes, resets, stalls, disk EIO)")
