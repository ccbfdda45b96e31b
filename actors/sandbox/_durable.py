"""Durable executions: every effect's request and reply in the store before the program goes on.

The model is Temporal's, Restate's and DBOS's: a durable execution has an
id; each effect it performs is appended to its journal in the store, as
canonical CBOR ``[effect, op, args, reply]`` (the same bytes as the
in-memory :class:`~stele.actors.sandbox.Journal`, so the journal digest of a
resumed run equals that of an uninterrupted one), and committed *before*
the reply is handed back to the program.  Re-running the execution with the
same id (``resume``) answers the journaled effects from the journal, in
order, without performing them again, and continues live from the first
effect that is not journaled.

Exactly-once:

* ``KV.put``/``KV.delete`` write the KV table and append their journal row
  in **one SQLite transaction** on the KV connection (the tables share the
  store file), so a crash leaves either both or neither;
* ``Log.emit`` is journaled first, then passed to the log sink: a crash in
  between loses that line from the sink, never duplicates it (the journal
  has it);
* ``Clock``/``Rand`` replies come back from the journal, so a resumed run
  sees the same time and numbers (the Rand stream is advanced and checked);
* ``Exec.call`` runs its child as a durable execution of its own (id
  ``parent/seq``): a finished child returns its stored result, an
  unfinished one resumes from its own journal.

Tables (in the store file, beside ``kv``):

* ``durable_exec(id, header, state, result, chk)``: the execution's identity
  (target, code digest, engine, arguments, tenant, policy, limits, cost
  table) and, once it finished, its result;
* ``durable_journal(id, seq, entry, chk)``: the effects;
* ``durable_snapshot(id, seq, snapshot, digest, output, chk)``: the latest
  co-processor snapshot of a guest, taken at its effect ``ecall`` number
  ``seq`` (a guest resumes from it, not from cycle 0).

Non-determinism that would break replay is a typed error: the code under a
name changed, another cost table (:class:`DurableMismatch`), or the program
asked for another effect than the journal holds at that position
(:class:`ReplayDiverged`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..._errors import SteleError
from ...protocol import decode, encode
from ...store._integrity import row_check, verify_row
from ._values import value_from_cbor, value_to_cbor

__all__ = ["DurableError", "DurableMismatch", "ReplayDiverged", "UnknownExecution",
           "DurableStore", "DurableLog", "GuestSnapshot", "StoredExecution"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS durable_exec (
    id TEXT PRIMARY KEY,
    header BLOB NOT NULL,
    state TEXT NOT NULL,
    result BLOB,
    chk BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS durable_journal (
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry BLOB NOT NULL,
    chk BLOB NOT NULL,
    PRIMARY KEY (id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS durable_snapshot (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    snapshot BLOB NOT NULL,
    digest BLOB NOT NULL,
    output INTEGER NOT NULL,
    answer BLOB NOT NULL,
    chk BLOB NOT NULL
) WITHOUT ROWID;
"""

#: Test and simulation hook: called as ``hook(execution_id, seq)`` after each journal commit.
#: Crash injection sets it to raise; the product never sets it.
AFTER_COMMIT: Callable[[str, int], None] | None = None


class DurableError(SteleError):
    """Root of the durable-execution errors."""


class UnknownExecution(DurableError):
    """``resume`` of an id that has no durable execution in this store."""

    def __init__(self, ident: str) -> None:
        self.ident = ident
        super().__init__(f"no durable execution {ident!r} in this store")


class DurableMismatch(DurableError):
    """The execution under this id was started with something else (code, cost table, ...)."""

    def __init__(self, ident: str, field: str, journaled: object, now: object) -> None:
        self.ident = ident
        self.field = field
        self.journaled = journaled
        self.now = now
        what = ("the code under the name changed" if field == "digest"
                else f"its {field} differs")
        super().__init__(f"durable execution {ident!r} cannot be replayed: {what} "
                         f"(journaled {journaled!s:.80}, now {now!s:.80})")


class ReplayDiverged(DurableError):
    """On replay the program asked for another effect than its journal holds there."""

    def __init__(self, ident: str, seq: int, journaled: str, now: str) -> None:
        self.ident = ident
        self.seq = seq
        self.journaled = journaled
        self.now = now
        super().__init__(f"replay of durable execution {ident!r} diverged at effect #{seq}: "
                         f"the journal has {journaled:.120}, the program now asks {now:.120}")


@dataclass(frozen=True, slots=True)
class GuestSnapshot:
    """A guest's machine state at its effect ``ecall`` number ``seq``, and that ecall's answer.

    Saved after entry ``seq`` of the journal is committed, so resuming from it
    replays the journal's first ``seq + 1`` entries (bookkeeping only) and
    continues the machine with ``answer``.
    """

    seq: int
    snapshot: bytes
    digest: bytes
    output_bytes: int
    answer: bytes


@dataclass(frozen=True, slots=True)
class StoredExecution:
    """A durable execution's row: its header, state and (finished) result."""

    ident: str
    header: dict[str, Any]
    state: str
    result: Any


def describe_request(effect: str, op: str, args: Sequence[Any]) -> str:
    """``Effect.op(args)`` for error messages."""
    return f"{effect}.{op}({', '.join(repr(a)[:40] for a in args)})"


class DurableStore:
    """The durable tables on one SQLite connection (the KV table's, for atomic writes)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        db.executescript(_SCHEMA)
        self._depth = 0
        self._commits: list[tuple[str, int]] = []
        #: journal rows of reads (Rand, Clock.now, KV.get) not committed yet (see append)
        self._pending: list[tuple[str, int, bytes]] = []

    # -- transactions ----------------------------------------------------------
    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction around a handler and its journal row (nested calls join it)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        waiting = self._pending
        try:
            self._flush()
            yield
        except BaseException:
            self._depth = 0
            self._commits.clear()
            self._pending = waiting  # the reads of other executions wait for the next commit
            self.db.execute("ROLLBACK")
            raise
        self._depth = 0
        self.db.execute("COMMIT")
        done, self._commits = self._commits, []
        for ident, seq in done:
            _after_commit(ident, seq)

    # -- executions ------------------------------------------------------------
    def get(self, ident: str) -> StoredExecution | None:
        """The stored execution ``ident`` (checked against its checksum), or None."""
        row = self.db.execute("SELECT header, state, result, chk FROM durable_exec WHERE id = ?",
                              (ident,)).fetchone()
        if row is None:
            return None
        header, state, result, chk = bytes(row[0]), _text(row[1]), row[2], row[3]
        result = None if result is None else bytes(result)
        verify_row("durable_exec", ident, bytes(chk) if chk is not None else None,
                   ident, header, state, result)
        head = decode(header)
        if not isinstance(head, dict):
            from ...store._errors import StoreCorrupted
            raise StoreCorrupted("durable_exec", ident, "header is not a map")
        return StoredExecution(ident, head, state,
                               None if result is None else decode(result))

    def begin(self, ident: str, header: dict[str, Any]) -> None:
        """Record a new execution (``running``)."""
        blob = encode(header)
        with self.atomic():
            self.db.execute("INSERT INTO durable_exec (id, header, state, result, chk) "
                            "VALUES (?, ?, 'running', NULL, ?)",
                            (ident, blob, row_check("durable_exec", ident, blob, "running", None)))

    def finish(self, ident: str, header: dict[str, Any], result: Any) -> None:
        """Record the result of a finished execution (and its deferred reads)."""
        blob, res = encode(header), encode(result)
        with self.atomic():
            self.db.execute("UPDATE durable_exec SET state = 'done', result = ?, chk = ? "
                            "WHERE id = ?",
                            (res, row_check("durable_exec", ident, blob, "done", res), ident))
            self.db.execute("DELETE FROM durable_snapshot WHERE id = ?", (ident,))

    def executions(self) -> list[StoredExecution]:
        """Every durable execution of the store, by id."""
        ids = [_text(r[0]) for r in self.db.execute("SELECT id FROM durable_exec ORDER BY id")]
        return [e for e in (self.get(i) for i in ids) if e is not None]

    # -- journal ---------------------------------------------------------------
    def entries(self, ident: str) -> list[bytes]:
        """The journal of ``ident`` in order (each row verified; a gap is damage)."""
        self.flush()
        out: list[bytes] = []
        for seq, entry, chk in self.db.execute(
                "SELECT seq, entry, chk FROM durable_journal WHERE id = ? ORDER BY seq", (ident,)):
            entry = bytes(entry)
            verify_row("durable_journal", f"{ident}#{seq}", bytes(chk), ident, seq, entry)
            if seq != len(out):
                from ...store._errors import StoreCorrupted
                raise StoreCorrupted("durable_journal", f"{ident}#{seq}",
                                     f"journal gap: expected entry #{len(out)}")
            out.append(entry)
        return out

    def append(self, ident: str, seq: int, entry: bytes, *, defer: bool = False) -> None:
        """Append entry ``seq`` of ``ident`` (committed on return, or with the open transaction).

        ``defer`` (a read: Rand, Clock.now, KV.get) keeps the row in memory
        until the next commit -- the next effect with an outside consequence,
        or the end -- so reads cost no fsync of their own.  A crash before
        that commit loses only reads nothing outside has seen: the resumed
        run performs them again (Rand draws the same numbers).
        """
        if defer and not self._depth:
            self._pending.append((ident, seq, entry))
            return
        with self.atomic():
            self._insert(ident, seq, entry)

    def flush(self) -> None:
        """Commit the deferred rows now."""
        if self._pending:
            with self.atomic():
                pass

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for ident, seq, entry in pending:
            self._insert(ident, seq, entry)

    def _insert(self, ident: str, seq: int, entry: bytes) -> None:
        self.db.execute("INSERT INTO durable_journal (id, seq, entry, chk) VALUES (?, ?, ?, ?)",
                        (ident, seq, entry, row_check("durable_journal", ident, seq, entry)))
        self._commits.append((ident, seq))

    # -- guest snapshots -------------------------------------------------------
    def save_snapshot(self, ident: str, snap: GuestSnapshot) -> None:
        """Keep ``snap`` as the latest snapshot of guest execution ``ident``."""
        with self.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO durable_snapshot "
                "(id, seq, snapshot, digest, output, answer, chk) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ident, snap.seq, snap.snapshot, snap.digest, snap.output_bytes, snap.answer,
                 row_check("durable_snapshot", ident, snap.seq, snap.snapshot, snap.digest,
                           snap.output_bytes, snap.answer)))

    def snapshot(self, ident: str) -> GuestSnapshot | None:
        """The latest snapshot of ``ident``, or None."""
        row = self.db.execute("SELECT seq, snapshot, digest, output, answer, chk "
                              "FROM durable_snapshot WHERE id = ?", (ident,)).fetchone()
        if row is None:
            return None
        seq, snap, digest, output = int(row[0]), bytes(row[1]), bytes(row[2]), int(row[3])
        answer, chk = bytes(row[4]), row[5]
        verify_row("durable_snapshot", ident, bytes(chk), ident, seq, snap, digest, output, answer)
        return GuestSnapshot(seq, snap, digest, output, answer)


def _text(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _after_commit(ident: str, seq: int) -> None:
    hook = AFTER_COMMIT
    if hook is not None:
        hook(ident, seq)


class DurableLog:
    """The journal of one durable execution while it runs: replay cursor and appends.

    ``entries`` are the journaled effects; :meth:`lookup` answers the next
    one (checking the request is the one journaled there), :meth:`append`
    records a live one.
    """

    def __init__(self, store: DurableStore, ident: str, entries: list[bytes]) -> None:
        self.store = store
        self.ident = ident
        self.entries = entries
        self.cursor = 0
        self.replayed = 0

    @property
    def replaying(self) -> bool:
        """Whether journaled effects remain to be answered."""
        return self.cursor < len(self.entries)

    def lookup(self, effect: str, op: str, args: Sequence[Any]) -> tuple[bool, Any]:
        """``(True, reply)`` for a journaled effect (the next one), ``(False, None)`` past the end."""
        i = self.cursor
        if i >= len(self.entries):
            return False, None
        obj = decode(self.entries[i])
        try:
            want = [effect, op, [value_to_cbor(a) for a in args]]
        except Exception:
            want = [effect, op, ["<function>"]]
        if not isinstance(obj, list) or len(obj) != 4 or obj[:3] != want:
            got = (describe_request(obj[0], obj[1], obj[2])
                   if isinstance(obj, list) and len(obj) == 4 else repr(obj))
            raise ReplayDiverged(self.ident, i, got, describe_request(effect, op, args))
        self.cursor = i + 1
        self.replayed += 1
        return True, value_from_cbor(obj[3])

    def append(self, entry: bytes, *, defer: bool = False) -> None:
        """Journal a live effect (durable on return, or with the enclosing transaction)."""
        seq = len(self.entries)
        self.store.append(self.ident, seq, entry, defer=defer)
        self.entries.append(entry)
        self.cursor = seq + 1
