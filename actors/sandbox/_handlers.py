"""Handlers of the standard effects, behind the policy check, with an effect journal.

One :class:`EffectSession` serves one execution.  Every request -- a TEL
``perform`` or a co-processor effect ``ecall`` -- goes through
:meth:`Policy.check` first (deny by default; ``max_calls`` counts per
effect), then to its handler, and is appended to the :class:`Journal` as
canonical CBOR ``[effect, op, args, reply]``.  The journal's digest is part
of the execution's result: two runs performed the same effects with the same
replies exactly when their journal digests agree.

Handlers:

* ``Log.emit(msg)``: journaled and passed to a log sink ``(execution, msg)``.
* ``Clock.now()``: the Env's wall clock in milliseconds; ``Clock.sleep(ms)``
  sleeps on Env time (virtual under simulation).
* ``Rand.int(lo, hi)`` / ``Rand.bytes(n)``: a BLAKE2b counter-mode stream
  seeded from the execution's identity (code digest, arguments, tenant), so a
  re-execution draws the same numbers.
* ``KV.get/put/delete``: tenant-scoped, durable in SQLite (:class:`KVStore`);
  bytes written (key + value) count against ``storage_limit``.
* ``Exec.call(target, arg)``: delegated to the executor (which runs the
  target in a child context under a subdivided grant), through an async
  callback given to the session.

Guests (co-processor ``ecall``): the executor suspends the guest at the
``ecall`` (the machine is left just before it), serves the request with
:meth:`EffectSession.handle_guest_async` (every effect, the ones that wait --
:data:`WAITING`: ``Clock.sleep``, ``Exec.call`` -- and KV, whose table is
served off the event loop by the store's writer) and resumes the guest,
which re-executes the ``ecall`` and gets the reply.
:meth:`EffectSession.handle_sync` serves the effects that need not wait
(Log, Clock.now, Rand, KV on a table without a serving writer) for callers
that cannot suspend, and refuses the waiting ones with :class:`EffectDenied`.

KV in a runtime: :class:`KVStore` is served by a
:class:`stele.store._writer.StoreWriter` (one writer task, its SQLite work
in a worker thread, group commits): a ``KV.put`` is answered only after
the COMMIT of its batch returned, so an acknowledged put survives
``kill -9``, and the event loop never waits on the disk.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..._core._env import Env
from ...protocol import Digest, encode
from ...store._connect import connect, unavailable, use_wal
from ...store._errors import StoreCorrupted
from ...store._integrity import row_check, text_cell, verify_row
from ...store._writer import StoreWriter
from ...tel import Some
from ._errors import EffectDenied, SandboxError, StorageLimitExceeded
from ._policy import Policy
from ._tree import DEFAULT_OUTPUT_LIMIT, TreeBudget
from ._values import UnencodableValue, value_to_cbor

__all__ = ["EffectSession", "Journal", "KVStore", "DeterministicRandom", "ExecCallback",
           "LogSink", "BadEffectRequest", "WAITING", "parse_guest_request"]

#: ``(target, arg, remaining_fuel) -> Int``: runs stored code in a child context.
ExecCallback = Callable[[str, int, int], Awaitable[int]]
#: ``(execution label, message) -> None``: where ``Log.emit`` lines go besides the journal.
LogSink = Callable[[str, str], None]

_KV_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    chk BLOB,                 -- stele.store row checksum over (tenant, key, value)
    PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
"""


class BadEffectRequest(SandboxError):
    """A request that is not ``[effect, op, [args...]]`` or names an unknown operation."""


class KVStore:
    """The KV effect's storage: a ``kv`` table keyed by ``(tenant, key)`` in SQLite.

    ``path`` is the store's SQLite file (the table lives beside the code
    objects) or ``None`` for an in-memory store.  Every ``put``/``delete``
    commits before it returns (WAL, ``synchronous=FULL``).  In a runtime the
    table is served by a :class:`stele.store._writer.StoreWriter`
    (:meth:`attach_writer`): the effect handlers use :meth:`aget`,
    :meth:`aput` and :meth:`adelete`, which run in a worker thread in group
    commits, acknowledged only once durable.
    """

    #: the writer serving this table (None: synchronous use on the caller's thread)
    writer: StoreWriter | None = None

    def __init__(self, path: str | None = None, *, env: Env | None = None) -> None:
        """Open (and create or upgrade) the table; a file SQLite cannot open is StoreUnavailable."""
        try:
            self._open(path, env)
        except sqlite3.Error as exc:
            raise unavailable(f"cannot open the KV table at {path!r}", exc) from exc

    def _open(self, path: str | None, env: Env | None) -> None:
        self._db = connect(path, env=env, check_same_thread=False, timeout=30.0)
        self._db.text_factory = bytes  # TEXT cells are decoded (and checked) by us
        if path is not None:
            use_wal(self._db, path)
            self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_KV_SCHEMA)
        cols = {bytes(r[1]).decode() for r in self._db.execute("PRAGMA table_info(kv)")}
        if "chk" not in cols:  # a store from before row checksums: add and fill them once
            self._db.execute("ALTER TABLE kv ADD COLUMN chk BLOB")
            rows = self._db.execute("SELECT tenant, key, value FROM kv").fetchall()
            self._db.executemany(
                "UPDATE kv SET chk = ? WHERE tenant = ? AND key = ?",
                [(row_check("kv", t.decode(), k.decode(), bytes(v)), t, k) for t, k, v in rows])

    # -- served by the writer (off the event loop, group commit) ---------------
    def attach_writer(self, env: Env) -> StoreWriter:
        """Serve this table through a :class:`StoreWriter` on ``env`` (start its ``serve``).

        While the writer serves, the async methods queue their work to it
        (a put is acknowledged after the COMMIT of its batch) and the
        synchronous ones refuse, since the connection belongs to the writer.
        """
        self.writer = StoreWriter(env, self._db, "KV",
                                  lambda exc: unavailable("KV commit", exc))
        return self.writer

    async def aget(self, tenant: str, key: str) -> bytes | None:
        """:meth:`get`, through the writer when it serves (sees every write queued before)."""
        if self.writer is None or not self.writer.serving:  # a subclass may override get
            return self.get(tenant, key)
        return await self.writer.call(self._get, tenant, key)

    async def aput(self, tenant: str, key: str, value: bytes) -> None:
        """:meth:`put`, through the writer when it serves (durable when it returns)."""
        if self.writer is None or not self.writer.serving:  # a subclass may override put
            return self.put(tenant, key, value)
        return await self.writer.call(self._put, tenant, key, value)

    async def adelete(self, tenant: str, key: str) -> None:
        """:meth:`delete`, through the writer when it serves (durable when it returns)."""
        if self.writer is None or not self.writer.serving:  # a subclass may override delete
            return self.delete(tenant, key)
        return await self.writer.call(self._delete, tenant, key)

    # -- synchronous (a KVStore without a serving writer) -------------------------
    async def own(self) -> None:
        """Wait until the synchronous methods may use the connection (no batch in flight).

        They may until the caller next awaits (:meth:`StoreWriter.exclusive`).
        """
        if self.writer is not None and self.writer.serving:
            await self.writer.exclusive()

    def _refuse_if_served(self, what: str) -> None:
        if self.writer is not None and self.writer.busy:
            raise RuntimeError(f"KVStore.{what}: a writer batch holds the connection "
                               f"(use a{what}, or await own() first)")

    def get(self, tenant: str, key: str) -> bytes | None:
        """The value under ``key`` for ``tenant``, or ``None``.

        The row's checksum is verified: damage is :class:`StoreCorrupted`
        naming the row, never a different value.
        """
        self._refuse_if_served("get")
        return self._get(tenant, key)

    def put(self, tenant: str, key: str, value: bytes) -> None:
        """Store ``value`` under ``key`` for ``tenant`` (durable on return)."""
        self._refuse_if_served("put")
        self._put(tenant, key, value)

    def delete(self, tenant: str, key: str) -> None:
        """Remove ``key`` for ``tenant`` (no error if absent)."""
        self._refuse_if_served("delete")
        self._delete(tenant, key)

    def _get(self, tenant: str, key: str) -> bytes | None:
        try:
            row = self._db.execute("SELECT value, chk FROM kv WHERE tenant = ? AND key = ?",
                                   (tenant, key)).fetchone()
        except sqlite3.Error as exc:
            raise unavailable("KV.get", exc) from None
        if row is None:
            return None
        value = row[0]
        if not isinstance(value, bytes):
            raise StoreCorrupted("kv", f"{tenant}/{key}", "value is not a blob")
        verify_row("kv", f"{tenant}/{key}", row[1], tenant, key, value)
        return value

    def _put(self, tenant: str, key: str, value: bytes) -> None:
        # Alone, the statement is its own durable transaction; in a writer batch it
        # joins the batch's, which commits before the put is acknowledged.
        value = bytes(value)
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO kv (tenant, key, value, chk) VALUES (?, ?, ?, ?)",
                (tenant, key, value, row_check("kv", tenant, key, value)))
        except sqlite3.Error as exc:  # not acknowledged: the execution fails, typed
            raise unavailable("KV.put", exc) from None

    def _delete(self, tenant: str, key: str) -> None:
        try:
            self._db.execute("DELETE FROM kv WHERE tenant = ? AND key = ?", (tenant, key))
        except sqlite3.Error as exc:
            raise unavailable("KV.delete", exc) from None

    def keys(self, tenant: str) -> list[str]:
        """Every key of ``tenant``, sorted (a key that is not UTF-8 is StoreCorrupted)."""
        self._refuse_if_served("keys")
        return [text_cell("kv", f"{tenant}/?", r[0]) for r in self._db.execute(
            "SELECT key FROM kv WHERE tenant = ? ORDER BY key", (tenant,))]

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


class DeterministicRandom:
    """A BLAKE2b counter-mode byte stream from a seed: the Rand effect's source.

    ``seed`` may be a function computing it, called on the first draw (most
    executions never draw).
    """

    def __init__(self, seed: bytes | Callable[[], bytes]) -> None:
        self._seed_source = seed
        self._seed: bytes | None = seed if isinstance(seed, bytes) else None
        self._counter = 0
        self._buf = b""

    def bytes(self, n: int) -> bytes:
        """The next ``n`` bytes of the stream."""
        if self._seed is None:
            source = self._seed_source
            assert callable(source)
            self._seed = source()
        while len(self._buf) < n:
            self._buf += Digest.of(self._seed + self._counter.to_bytes(8, "big")).value
            self._counter += 1
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def int(self, lo: int, hi: int) -> int:
        """A number in ``[lo, hi]`` (128 random bits reduced; bias below 2**-64)."""
        return lo + int.from_bytes(self.bytes(16), "big") % (hi - lo + 1)


class Journal:
    """The ordered record of an execution's effects and their replies."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.size = 0  # total bytes of the entries

    @staticmethod
    def entry(effect: str, op: str, args: Sequence[Any], reply: Any) -> bytes:
        """The canonical CBOR ``[effect, op, args, reply]`` of one effect (not yet recorded)."""
        try:
            item = [effect, op, [value_to_cbor(a) for a in args], value_to_cbor(reply)]
        except UnencodableValue:
            item = [effect, op, ["<function>"], None]
        return encode(item)

    def add(self, entry: bytes) -> None:
        """Record an entry made by :meth:`entry`."""
        self.entries.append(entry)
        self.size += len(entry)

    def append(self, effect: str, op: str, args: Sequence[Any], reply: Any) -> None:
        """Record one effect as canonical CBOR ``[effect, op, args, reply]``."""
        self.add(self.entry(effect, op, args, reply))

    def digest(self) -> Digest:
        """The digest of the whole journal (the empty journal has a digest too)."""
        return Digest.of(encode(["stele.journal.v1", self.entries]))

    def __len__(self) -> int:
        return len(self.entries)


class EffectSession:
    """The sandbox for one execution: policy check, handlers, call counts, journal."""

    def __init__(self, env: Env, policy: Policy, *, label: str, tenant: str,
                 seed: bytes | Callable[[], bytes],
                 kv: KVStore, log_sink: LogSink | None = None,
                 exec_call: ExecCallback | None = None, storage_limit: int | None = None,
                 tree: TreeBudget | None = None, output_limit: int | None = None) -> None:
        self.env = env
        self.policy = policy
        self.label = label
        self.tenant = tenant
        self.kv = kv
        self.log_sink = log_sink
        self.exec_call = exec_call
        self.rand = DeterministicRandom(seed)
        #: shared with every session of the execution tree (call counts, output budget)
        self.tree = tree if tree is not None else TreeBudget(
            DEFAULT_OUTPUT_LIMIT if output_limit is None else output_limit)
        self.output_bytes = 0  # bytes this execution itself output (journal + guest writes)
        self.journal = Journal()
        #: the durable journal (:class:`stele.actors.sandbox._durable.DurableLog`) or None
        self.durable: Any = None
        self.logs: list[str] = []
        self.storage_limit = storage_limit
        self.stored_bytes = 0  # key + value bytes written by KV.put (the storage resource)
        self.child_stored_bytes = 0  # the part of stored_bytes written by Exec.call children

    @property
    def storage_left(self) -> int:
        """Bytes this execution (and so a child) may still write; large when unlimited."""
        if self.storage_limit is None:
            return 1 << 62
        return max(0, self.storage_limit - self.stored_bytes)

    def add_child_storage(self, n: int) -> None:
        """Account bytes a child execution wrote to this one."""
        self.stored_bytes += n
        self.child_stored_bytes += n

    @property
    def calls(self) -> Counter[str]:
        """Calls of each effect so far, across the whole execution tree."""
        return self.tree.calls

    def check(self, effect: str, op: str, args: Sequence[Any]) -> None:
        """The policy check every request passes (raises :class:`EffectDenied`).

        Arguments must be scalars (the standard effects take nothing else),
        so nothing a program shares can reach a handler, the journal or a
        replay comparison unfolded; ``max_calls`` counts across the tree.
        """
        check_scalar_args(effect, op, args)
        self.policy.check(effect, op, args, calls_so_far=self.tree.calls[effect])
        self.tree.calls[effect] += 1

    def charge_output(self, n: int, what: str) -> None:
        """Account ``n`` output bytes of this execution against the tree's budget (or raise)."""
        self.tree.charge_output(n, what)
        self.output_bytes += n

    def _record(self, entry: bytes, what: str) -> None:
        self.charge_output(len(entry), what)
        self.journal.add(entry)

    async def handle(self, effect: str, op: str, args: tuple[Any, ...],
                     remaining_fuel: int = 0) -> Any:
        """Serve a TEL ``perform`` (``remaining_fuel`` bounds an ``Exec.call``)."""
        if (effect, op) not in WAITING:
            if effect == "KV" and self.durable is None:
                # through the store's writer: off the event loop, durable when answered
                self.check(effect, op, args)
                reply: Any = await self._kv(op, args)
                self._record(Journal.entry(effect, op, args, reply), f"{effect}.{op}")
                return reply
            await self.own_store()
            return self.handle_now(effect, op, args)
        self.check(effect, op, args)
        hit, known = self._lookup(effect, op, args)
        if effect == "Clock" and op == "sleep":
            ms = _int_arg(effect, op, args, 0)
            if ms > 0 and not hit:  # a journaled sleep has been slept
                await self.env.sleep(ms / 1000)
            reply = ()
        else:
            if self.exec_call is None:
                raise EffectDenied(effect, op, self.policy.name, "no executor to run stored code")
            target, arg = args[0], _int_arg(effect, op, args, 1)
            if not isinstance(target, str):
                raise BadEffectRequest(f"Exec.call target must be a String, got {target!r}")
            # A journaled call still goes to the executor: the child is a durable
            # execution of its own and answers its stored result (with its cost).
            reply = await self.exec_call(target, arg, remaining_fuel)
            if hit and reply != known:
                from ._durable import ReplayDiverged
                assert self.durable is not None
                raise ReplayDiverged(self.durable.ident, self.durable.cursor - 1,
                                     f"Exec.call -> {known!r}", f"Exec.call -> {reply!r}")
        entry = Journal.entry(effect, op, args, reply)
        self._record(entry, f"{effect}.{op}")
        if self.durable is not None and not hit:
            await self.own_store()
            self.durable.append(entry)
        return reply

    def can_serve_inline(self, effect: str) -> bool:
        """Whether :meth:`handle_now` may serve ``effect`` right now, without awaiting.

        Not a KV request of an ordinary execution while the store's writer
        serves (it goes through the writer, off the loop: :meth:`handle`);
        not any effect of a durable execution while a writer batch holds the
        connection (its journal row is written synchronously).  The answer
        is the same either way; only the path differs.
        """
        writer = getattr(self.kv, "writer", None)
        if writer is None or not writer.serving:
            return True
        if self.durable is not None:
            return not writer.busy
        return effect != "KV"

    async def own_store(self) -> None:
        """In a durable execution, wait until the KV connection is free for synchronous use.

        A durable effect writes its KV row and its journal row in one SQLite
        transaction on the event loop (:meth:`handle_now`); while the store's
        writer serves, that is only safe between its batches.
        """
        if self.durable is not None:
            await own_kv(self.kv)

    def handle_now(self, effect: str, op: str, args: tuple[Any, ...], *,
                   guest: bool = False) -> Any:
        """Serve an effect that does not wait, synchronously (policy check, handler, journal).

        In a durable execution a journaled effect is answered from the
        journal; a live one's handler and journal row commit together.
        """
        self.check(effect, op, args)
        hit, known = self._lookup(effect, op, args)
        if hit:
            return self._replay_known(effect, op, args, known)
        if effect == "Log" and op == "emit":  # the line is paid for before it is kept
            self._emit(args)
            return ()
        if self.durable is None:
            reply = self._sync(effect, op, args, guest=guest)
            self._record(Journal.entry(effect, op, args, reply), f"{effect}.{op}")
            return reply
        if (effect, op) in _READS:  # no outside consequence: committed with the next write
            reply = self._sync(effect, op, args, guest=guest)
            entry = Journal.entry(effect, op, args, reply)
            self._record(entry, f"{effect}.{op}")
            self.durable.append(entry, defer=True)
            return reply
        with self.durable.store.atomic():  # the KV write and its journal row: all or nothing
            reply = self._sync(effect, op, args, guest=guest)
            entry = Journal.entry(effect, op, args, reply)
            self._record(entry, f"{effect}.{op}")
            self.durable.append(entry)
        return reply

    def _lookup(self, effect: str, op: str, args: tuple[Any, ...]) -> tuple[bool, Any]:
        if self.durable is None:
            return False, None
        return self.durable.lookup(effect, op, args)  # type: ignore[no-any-return]

    def _replay_known(self, effect: str, op: str, args: tuple[Any, ...], known: Any) -> Any:
        """A journaled effect: do its bookkeeping (journal, output, storage, Rand stream)."""
        self._record(Journal.entry(effect, op, args, known), f"{effect}.{op}")
        if effect == "Log" and op == "emit":
            msg = args[0] if args else ""
            self.logs.append(msg if isinstance(msg, str) else repr(msg))
        elif effect == "KV" and op == "put" and len(args) > 1:
            key = args[0].decode("utf-8", "replace") if isinstance(args[0], bytes) else args[0]
            if isinstance(key, str) and isinstance(args[1], bytes):
                self.stored_bytes += len(key.encode()) + len(args[1])
        elif effect == "Rand":  # the stream moves on exactly as in the first run
            drawn = self._sync(effect, op, args, guest=False)
            if drawn != known:
                from ._durable import ReplayDiverged
                assert self.durable is not None
                raise ReplayDiverged(self.durable.ident, self.durable.cursor - 1,
                                     f"Rand -> {known!r}", f"Rand -> {drawn!r}")
        return known

    def _emit(self, args: tuple[Any, ...]) -> None:
        """``Log.emit``: charge its journal entry, then journal it and pass it on."""
        entry = Journal.entry("Log", "emit", args, ())
        self._record(entry, "Log.emit")
        if self.durable is not None:  # journaled before the sink sees it: never twice
            self.durable.append(entry)
        msg = args[0] if args else ""
        text = msg if isinstance(msg, str) else repr(msg)
        self.logs.append(text)
        if self.log_sink is not None:
            self.log_sink(self.label, text)

    def handle_sync(self, request: object) -> object:
        """Serve a co-processor effect ``ecall``: ``[effect, op, [args...]]`` -> reply.

        Replies are CBOR-ready: ``KV.get`` answers ``[value]`` or ``[]``;
        ``Unit`` answers ``None``.  The effects that wait (:data:`WAITING`)
        are refused here; a caller that can suspend the guest serves them
        with :meth:`handle_guest_async` instead.
        """
        effect, op, args = parse_guest_request(request)
        return _guest_reply(effect, op, self.handle_now(effect, op, args, guest=True))

    async def handle_guest_async(self, request: object, remaining_fuel: int = 0) -> object:
        """Serve a guest's effect request that may wait (``Clock.sleep``, ``Exec.call``)."""
        effect, op, args = parse_guest_request(request)
        return _guest_reply(effect, op, await self.handle(effect, op, args, remaining_fuel))

    def _sync(self, effect: str, op: str, args: tuple[Any, ...], *, guest: bool) -> Any:
        if effect == "Clock" and op == "now":
            return self.env.wall_ns() // 1_000_000
        if effect == "Rand" and op == "int":
            lo, hi = _int_arg(effect, op, args, 0), _int_arg(effect, op, args, 1)
            if hi < lo:
                raise BadEffectRequest(f"Rand.int: hi={hi} is below lo={lo}")
            return self.rand.int(lo, hi)
        if effect == "Rand" and op == "bytes":
            n = _int_arg(effect, op, args, 0)
            if not 0 <= n <= 1 << 20:
                raise BadEffectRequest(f"Rand.bytes: n={n} is outside [0, 1048576]")
            return self.rand.bytes(n)
        if effect == "KV":
            key, value, size = self._kv_request(op, args)
            if op == "get":
                got = self.kv.get(self.tenant, key)
                return None if got is None else Some(got)
            if op == "put":
                assert value is not None
                self.kv.put(self.tenant, key, value)
                self.stored_bytes = size
                return ()
            self.kv.delete(self.tenant, key)
            return ()
        if guest and (effect, op) in (("Clock", "sleep"), ("Exec", "call")):
            raise EffectDenied(effect, op, self.policy.name,
                               "this effect waits; a guest needs a suspending executor for it")
        raise BadEffectRequest(f"no handler for {effect}.{op}")

    def _kv_request(self, op: str, args: tuple[Any, ...]) -> tuple[str, bytes | None, int]:
        """``(key, value, stored bytes after it)`` of a KV request, checked (storage first)."""
        if op not in ("get", "put", "delete"):
            raise BadEffectRequest(f"no handler for KV.{op}")
        key = args[0] if args else None
        if isinstance(key, bytes):
            key = key.decode("utf-8", "replace")
        if not isinstance(key, str):
            raise BadEffectRequest(f"KV.{op}: key must be a String, got {key!r:.40}")
        if op != "put":
            return key, None, self.stored_bytes
        value = args[1] if len(args) > 1 else None
        if not isinstance(value, bytes):
            raise BadEffectRequest(f"KV.put: value must be Bytes, got {value!r:.40}")
        size = self.stored_bytes + len(key.encode()) + len(value)
        if self.storage_limit is not None and size > self.storage_limit:
            raise StorageLimitExceeded(size, self.storage_limit)
        return key, value, size

    async def _kv(self, op: str, args: tuple[Any, ...]) -> Any:
        """A KV request through the store's writer: off the event loop, durable when answered."""
        key, value, size = self._kv_request(op, args)
        if op == "get":
            got = await self.kv.aget(self.tenant, key)
            return None if got is None else Some(got)
        if op == "put":
            assert value is not None
            await self.kv.aput(self.tenant, key, value)
            self.stored_bytes = size
            return ()
        await self.kv.adelete(self.tenant, key)
        return ()


#: Effect operations with no consequence outside the execution (journaled without an fsync
#: of their own: their rows commit with the next write, see ``_durable``).
_READS: frozenset[tuple[str, str]] = frozenset({("Rand", "int"), ("Rand", "bytes"),
                                                ("Clock", "now"), ("KV", "get")})
#: Effect operations that wait (sleep on the Env clock, run a child execution).
WAITING: frozenset[tuple[str, str]] = frozenset({("Clock", "sleep"), ("Exec", "call")})


async def own_kv(kv: object) -> None:
    """:meth:`KVStore.own` for any KV table (a view without a connection has nothing to own)."""
    own = getattr(kv, "own", None)
    if own is not None:
        await own()


def parse_guest_request(request: object) -> tuple[str, str, tuple[Any, ...]]:
    """``(effect, op, args)`` of a guest's ``[effect, op, [args...]]`` request."""
    if (not isinstance(request, list) or len(request) != 3
            or not isinstance(request[0], str) or not isinstance(request[1], str)
            or not isinstance(request[2], list)):
        raise BadEffectRequest(f"a guest effect request is [effect, op, [args]], got "
                               f"{request!r:.80}")
    return request[0], request[1], tuple(request[2])


def _guest_reply(effect: str, op: str, reply: Any) -> object:
    if isinstance(reply, Some):
        return [reply.value]
    if reply is None and effect == "KV" and op == "get":
        return []
    return None if reply == () else reply


_SCALARS = (str, bytes, int, bool, type(None))


def check_scalar_args(effect: str, op: str, args: Sequence[Any]) -> None:
    """Refuse an effect argument that is not a scalar (Int, Bool, String, Bytes, Unit, None).

    Every standard effect takes scalars only; a program that declares one of
    them with a list, tuple or option parameter, or a guest that sends one, is
    refused before the argument is journaled, compared or printed.
    """
    for i, a in enumerate(args):
        if not isinstance(a, _SCALARS) and a != ():
            raise BadEffectRequest(f"{effect}.{op}: argument {i} is a {type(a).__name__}; "
                                   "effect arguments must be Int, Bool, String, Bytes or Unit")


def _int_arg(effect: str, op: str, args: tuple[Any, ...], i: int) -> int:
    v = args[i] if len(args) > i else None
    if not isinstance(v, int) or isinstance(v, bool):
        raise BadEffectRequest(f"{effect}.{op}: argument {i} must be an Int, got {v!r:.40}")
    return v
