"""The ``bank`` workload: accounts behind a supervision tree, under every fault.

Shape of the system::

    <root> -- bank (Supervisor, one_for_one)
                 |-- shard-0 .. shard-{S-1}   (accounts; crashable; persist to the SimDisk)
                 '-- auditor                  (told of every applied transfer)
    client-0 .. client-{C-1}  --sim network-->  gateway task  --ask-->  shard-i

Clients send transfers (with a unique transfer id) to the gateway over the
lossy network and retry the same id until a reply arrives.  The gateway
``ask``\\ s the shard; the shard decides (apply, or reject for insufficient
funds), appends the decision to its log on the SimDisk, **fsyncs**, and only
then replies; on restart it replays the log (skipping a torn or corrupt tail).
A shard failure of any kind is a process crash: its unsynced file data is
damaged by the disk's crash faults before it restarts.

Invariants, checked continuously by :class:`BankChecker`:

* ``money-conserved`` -- after every decision, every shard's total is its
  initial total; no balance is negative;
* ``acked-transfer-kept`` -- after every recovery and at the end, every
  decision a client saw is in the shard's recovered log, unchanged;
* ``no-reply-without-request`` -- a client only gets replies for transfer ids
  it sent, and every reply for an id agrees with the first;
* ``applied-once`` -- the auditor is never told of the same transfer twice;
* ``liveness`` -- after the traffic window faults are healed and every
  client's transfer in flight must be acknowledged within ``LIVENESS_NS``.
"""

from __future__ import annotations

import hashlib
import marshal
import struct
from dataclasses import dataclass

import trio

from .._core._actor import Actor
from .._core._actor_errors import KernelError
from .._core._env import Disk
from .._core._random import SeededRandom
from .._core._supervise import ChildSpec, Restart, Strategy, Supervisor
from .._core._system import ActorSystem
from ._timers import _opt_int
from ._workload import SimContext, register_workload

__all__ = ["BankWorkload", "Shard", "BankChecker", "Transfer", "TransferRequest", "TransferReply"]

OK = "ok"
REJECTED = "rejected"
#: After the traffic window, faults stop and every transfer in flight must be
#: acknowledged within this much virtual time.
LIVENESS_NS = 30 * 10**9


@dataclass(frozen=True, slots=True)
class Transfer:
    """Gateway -> shard: move ``amount`` from account ``src`` to ``dst``."""

    tid: str
    src: int
    dst: int
    amount: int


@dataclass(frozen=True, slots=True)
class Audit:
    """Ask a shard for its state: replies ``(balances, decisions)``."""


@dataclass(frozen=True, slots=True)
class Applied:
    """Shard -> auditor (tell): transfer ``tid`` was applied."""

    shard: int
    tid: str


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """Client -> gateway over the network."""

    tid: str
    shard: int
    src: int
    dst: int
    amount: int


@dataclass(frozen=True, slots=True)
class TransferReply:
    """Gateway -> client over the network: the decision for ``tid``."""

    tid: str
    result: str


# -- the log ------------------------------------------------------------------
_HEAD = struct.Struct(">IHHQ?")  # tid length, src, dst, amount, applied
_SUM = 8


def encode_record(tid: str, src: int, dst: int, amount: int, applied: bool) -> bytes:
    """One log record: header, tid, and an 8-byte BLAKE2b checksum of both."""
    raw_tid = tid.encode("utf-8")
    body = _HEAD.pack(len(raw_tid), src, dst, amount, applied) + raw_tid
    return body + hashlib.blake2b(body, digest_size=_SUM).digest()


def decode_log(data: bytes) -> tuple[list[tuple[str, int, int, int, bool]], int]:
    """The valid records of a log and the length of its valid prefix."""
    records: list[tuple[str, int, int, int, bool]] = []
    pos = 0
    while pos + _HEAD.size <= len(data):
        tid_len, src, dst, amount, applied = _HEAD.unpack_from(data, pos)
        end = pos + _HEAD.size + tid_len + _SUM
        if end > len(data):
            break
        body = data[pos:end - _SUM]
        if hashlib.blake2b(body, digest_size=_SUM).digest() != data[end - _SUM:end]:
            break
        try:
            tid = body[_HEAD.size:].decode("utf-8")
        except UnicodeDecodeError:
            break
        records.append((tid, src, dst, amount, applied))
        pos = end
    return records, pos


COMPACT_EVERY = 128
_SNAP_MAGIC = b"SNAP"


def encode_snapshot(balances: list[int], decisions: dict[str, str]) -> bytes:
    """A checksummed snapshot of a shard's state (marshal: fast, sim-internal)."""
    body = marshal.dumps((balances, [(t, r == OK) for t, r in decisions.items()]))
    return _SNAP_MAGIC + hashlib.blake2b(body, digest_size=_SUM).digest() + body


def decode_snapshot(data: bytes) -> tuple[list[int], dict[str, str]] | None:
    """The state in a snapshot, or None if it is damaged."""
    head = len(_SNAP_MAGIC) + _SUM
    body = data[head:]
    if data[:len(_SNAP_MAGIC)] != _SNAP_MAGIC:
        return None
    if hashlib.blake2b(body, digest_size=_SUM).digest() != data[len(_SNAP_MAGIC):head]:
        return None
    balances, decided = marshal.loads(body)
    return list(balances), {t: OK if ok else REJECTED for t, ok in decided}


async def _read_or_empty(disk: Disk, path: str) -> bytes:
    try:
        return await disk.read(path)
    except FileNotFoundError:
        return b""


async def _replace(disk: Disk, path: str, data: bytes) -> None:
    """Crash-safe replace: write a temporary file, fsync it, rename it over."""
    tmp = path + ".tmp"
    await disk.write(tmp, data)
    await disk.fsync(tmp)
    await disk.rename(tmp, path)


# -- the checker --------------------------------------------------------------
class BankChecker:
    """The simulator's omniscient view of the bank: every invariant lives here."""

    def __init__(self, ctx: SimContext, shards: int, accounts: int, initial: int) -> None:
        self.ctx = ctx
        self.total = accounts * initial
        self.acked: list[dict[str, str]] = [{} for _ in range(shards)]
        self.applied_seen: set[str] = set()

    def on_state(self, shard: int, balances: list[int]) -> None:
        if sum(balances) != self.total:
            self.ctx.violation(
                "money-conserved", f"shard {shard} holds {sum(balances)}, expected {self.total}"
            )
        elif min(balances) < 0:
            self.ctx.violation("money-conserved", f"shard {shard} has a negative balance {balances}")
        else:
            self.ctx.passed("money-conserved")

    def on_ack(self, shard: int, tid: str, result: str) -> None:
        self.acked[shard][tid] = result
        self.ctx.env.trace.record("bank.ack", tid, result)

    def on_recover(self, shard: int, decisions: dict[str, str]) -> None:
        for tid, result in self.acked[shard].items():
            if decisions.get(tid) != result:
                self.ctx.violation(
                    "acked-transfer-kept",
                    f"shard {shard} recovered without acknowledged transfer {tid} "
                    f"({result}); it has {decisions.get(tid)!r}",
                )
                return
        self.ctx.passed("acked-transfer-kept")

    def on_applied(self, tid: str) -> None:
        if tid in self.applied_seen:
            self.ctx.violation("applied-once", f"transfer {tid} applied twice")
            return
        self.applied_seen.add(tid)
        self.ctx.passed("applied-once")


# -- the actors ---------------------------------------------------------------
class Shard(Actor):
    """A group of accounts; decisions are durable (fsync) before they are replied."""

    def __init__(self, shard: int, accounts: int, initial: int, checker: BankChecker) -> None:
        self.shard = shard
        self.accounts = accounts
        self.initial = initial
        self.checker = checker
        self.path = f"bank/shard-{shard}.log"
        self.snap_path = f"bank/shard-{shard}.snap"
        self.logged = 0
        self.balances = [initial] * accounts
        self.decisions: dict[str, str] = {}

    async def on_start(self) -> None:
        disk = self.env.disk
        snapshot = await _read_or_empty(disk, self.snap_path)
        if snapshot:
            state = decode_snapshot(snapshot)
            if state is None:
                self.checker.ctx.violation("snapshot-intact", f"shard {self.shard} snapshot is damaged")
                return
            self.balances, self.decisions = state
        data = await _read_or_empty(disk, self.path)
        parsed, valid = decode_log(data)
        records = self.recovered(parsed)
        for tid, src, dst, amount, applied in records:
            if tid in self.decisions:
                continue  # already in the snapshot (crash between snapshot and truncation)
            self.decisions[tid] = OK if applied else REJECTED
            if applied:
                self.balances[src] -= amount
                self.balances[dst] += amount
        self.logged = len(records)
        if valid < len(data) or len(records) < len(parsed):
            # Rewrite the log without its damaged tail (crash-safe replace).
            await _replace(disk, self.path, b"".join(encode_record(*r) for r in records))
        self.checker.on_recover(self.shard, self.decisions)
        self.checker.on_state(self.shard, self.balances)

    async def compact(self) -> None:
        """Snapshot the state (durably), then empty the log."""
        disk = self.env.disk
        await _replace(disk, self.snap_path, encode_snapshot(self.balances, self.decisions))
        await _replace(disk, self.path, b"")
        self.logged = 0

    def recovered(
        self, records: list[tuple[str, int, int, int, bool]]
    ) -> list[tuple[str, int, int, int, bool]]:
        """Hook for test-only broken variants; the real shard keeps every record."""
        return records

    async def persist(self, record: bytes) -> None:
        """Append and fsync a decision (a broken variant may skip the fsync)."""
        await self.env.disk.append(self.path, record)
        await self.env.disk.fsync(self.path)

    async def receive(self, message: object) -> object:
        if isinstance(message, Audit):
            return (list(self.balances), dict(self.decisions))
        assert isinstance(message, Transfer)
        m = message
        known = self.decisions.get(m.tid)
        if known is not None:
            return known
        if not (0 <= m.src < self.accounts and 0 <= m.dst < self.accounts) or m.amount <= 0:
            raise ValueError(f"bad transfer {m}")
        applied = self.balances[m.src] >= m.amount
        # Durable first; an OSError here crashes the shard (it restarts from the log).
        await self.persist(encode_record(m.tid, m.src, m.dst, m.amount, applied))
        result = OK if applied else REJECTED
        self.decisions[m.tid] = result
        if applied:
            self.balances[m.src] -= m.amount
            self.balances[m.dst] += m.amount
            try:
                self.system.lookup("auditor").tell(Applied(self.shard, m.tid))
            except KernelError:
                pass  # a notification; the checker still sees state and recovery
        self.checker.on_state(self.shard, self.balances)
        self.logged += 1
        if self.logged >= COMPACT_EVERY:
            await self.compact()
        return result


class Auditor(Actor):
    """Told of every applied transfer; checks none is applied twice."""

    def __init__(self, checker: BankChecker) -> None:
        self.checker = checker

    async def receive(self, message: object) -> object:
        assert isinstance(message, Applied)
        self.checker.on_applied(message.tid)
        return None


# -- the workload ---------------------------------------------------------------
class BankWorkload:
    """Clients, gateway, shards and auditor (see the module docstring).

    ``shard_factory`` lets tests plug in a deliberately broken shard.
    """

    shard_factory: type[Shard] = Shard

    def __init__(self) -> None:
        self.shards = 2
        self.accounts = 4
        self.clients = 4
        self.initial = 100
        self.max_amount = 40
        self.think_ms = 20
        self.retry_ms = 200

    def configure(self, rng: SeededRandom, options: dict[str, str]) -> list[tuple[str, str]]:
        self.shards = _opt_int(options, "shards", rng.choice((1, 2, 3, 4)), 1, 64)
        self.accounts = _opt_int(options, "accounts", rng.choice((2, 3, 5, 8)), 2, 1000)
        self.clients = _opt_int(options, "clients", rng.choice((1, 2, 4, 8)), 1, 1000)
        self.max_amount = _opt_int(options, "max-amount", rng.choice((10, 40, 90)), 1, 10**9)
        self.think_ms = _opt_int(options, "think-ms", rng.choice((1, 5, 20, 100)), 0, 10**6)
        self.retry_ms = _opt_int(options, "retry-ms", rng.choice((50, 200, 500)), 1, 10**6)
        unknown = set(options) - {
            "shards", "accounts", "clients", "max-amount", "think-ms", "retry-ms"
        }
        if unknown:
            from ._errors import SimError

            raise SimError(f"unknown bank option(s): {', '.join(sorted(unknown))}")
        return [
            ("shards", str(self.shards)), ("accounts", str(self.accounts)),
            ("clients", str(self.clients)), ("initial", str(self.initial)),
            ("max-amount", str(self.max_amount)), ("think-ms", str(self.think_ms)),
            ("retry-ms", str(self.retry_ms)),
        ]

    async def run(self, ctx: SimContext) -> None:
        env = ctx.env
        checker = BankChecker(ctx, self.shards, self.accounts, self.initial)
        obs = ctx.observer
        obs.crashable = lambda name: name.startswith("shard-")
        obs.on_crash = lambda name: _crash_files(ctx, name)
        ctx.net.endpoint("gateway")
        for j in range(self.clients):
            ctx.net.endpoint(f"client-{j}")
        specs = [
            ChildSpec(f"shard-{i}", self.shard_factory, (i, self.accounts, self.initial, checker))
            for i in range(self.shards)
        ]
        specs.append(ChildSpec("auditor", Auditor, (checker,), Restart.PERMANENT))
        async with ActorSystem(env, observer=obs, ask_timeout=1.0, intensity=10) as system:
            await system.spawn("bank", Supervisor, specs, Strategy.ONE_FOR_ONE, 1_000_000, 1.0)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._gateway, ctx, system)
                async with trio.open_nursery() as clients:
                    for j in range(self.clients):
                        clients.start_soon(self._client, ctx, checker, j)
                # Final audit: every acknowledged decision is in the live state.
                for i in range(self.shards):
                    balances, decisions = await self._audit(system, i)
                    checker.on_recover(i, decisions)
                    checker.on_state(i, balances)
                nursery.cancel_scope.cancel()
        del env

    async def _audit(self, system: ActorSystem, shard: int) -> tuple[list[int], dict[str, str]]:
        """Ask a shard for its state, retrying through injected crashes."""
        while True:
            try:
                reply = await system.lookup(f"shard-{shard}").ask(Audit(), timeout=10.0)
            except KernelError:
                await trio.sleep(0.01)
                continue
            balances, decisions = reply
            return balances, decisions

    async def _gateway(self, ctx: SimContext, system: ActorSystem) -> None:
        ep = ctx.net.endpoint("gateway")

        async def handle(src: str, req: TransferRequest) -> None:
            try:
                ref = system.lookup(f"shard-{req.shard}")
                result = await ref.ask(Transfer(req.tid, req.src, req.dst, req.amount), timeout=1.0)
            except KernelError as exc:
                ctx.env.trace.record("bank.gateway.error", req.tid, type(exc).__qualname__)
                return  # the client retries
            ep.send(src, TransferReply(req.tid, result))

        async with trio.open_nursery() as nursery:
            while True:
                src, msg = await ep.receive()
                assert isinstance(msg, TransferRequest)
                nursery.start_soon(handle, src, msg)

    async def _client(self, ctx: SimContext, checker: BankChecker, j: int) -> None:
        env = ctx.env
        rng = ctx.rng.fork(f"client-{j}")
        name = f"client-{j}"
        ep = ctx.net.endpoint(name)
        sent: dict[str, int] = {}  # tid -> shard
        seen: dict[str, str] = {}  # tid -> first result
        n = 0
        while ctx.time_left():
            n += 1
            tid = f"c{j}-{n}"
            shard = rng.randbelow(self.shards)
            src = rng.randbelow(self.accounts)
            dst = (src + 1 + rng.randbelow(self.accounts - 1)) % self.accounts
            amount = 1 + rng.randbelow(self.max_amount)
            req = TransferRequest(tid, shard, src, dst, amount)
            sent[tid] = shard
            ctx.bump("transfers")
            while tid not in seen:
                if not ctx.time_left():
                    # Liveness: with faults healed, the transfer in flight must finish.
                    ctx.heal()
                    if env.now_ns() >= ctx.end_ns + LIVENESS_NS:
                        ctx.violation(
                            "liveness",
                            f"{name}'s transfer {tid} not acknowledged "
                            f"{LIVENESS_NS // 10**9}s after faults were healed",
                        )
                        return
                ep.send("gateway", req)
                with trio.move_on_after(self.retry_ms / 1000):
                    while tid not in seen:
                        _src, reply = await ep.receive()
                        assert isinstance(reply, TransferReply)
                        if reply.tid not in sent:
                            ctx.violation(
                                "no-reply-without-request", f"{name} got a reply for {reply.tid}"
                            )
                            return
                        first = seen.get(reply.tid)
                        if first is None:
                            seen[reply.tid] = reply.result
                            checker.on_ack(sent[reply.tid], reply.tid, reply.result)
                        elif first != reply.result:
                            ctx.violation(
                                "no-reply-without-request",
                                f"{name} got {reply.result} for {reply.tid}, first {first}",
                            )
                            return
                        ctx.passed("no-reply-without-request")
            if not ctx.time_left():
                ctx.passed("liveness")
            if self.think_ms:
                await env.sleep(rng.randbelow(self.think_ms + 1) / 1000)


def _crash_files(ctx: SimContext, actor: str) -> None:
    """A shard failure is a process crash: damage its unsynced file data."""
    ctx.env.disk.crash(f"bank/{actor}.")


register_workload("bank", BankWorkload, "accounts behind a supervision tree, clients over the sim network")
