"""Durable jobs: the ``daemon_jobs`` table, and KV writes that commit with the job's completion.

Exactly-once, the choice made here (the effect journal of an execution is
in memory, so it cannot be the durable record): a job's KV writes are
*buffered* while it runs (:class:`TxKV`, reads see the job's own writes)
and committed in **one SQLite transaction together with the job's
completion record**.  A crash before that commit leaves the job
``queued``/``running`` and the KV table untouched, so the restarted daemon
re-runs it from the start; a crash after it leaves the job terminal, never
re-run.  Either way every KV effect of an acknowledged job lands exactly
once.  Concurrent jobs stay serializable: the transaction first checks that
every key the job *read* still holds what it read (optimistic concurrency);
if another writer got there first, nothing is written and the job is run
again.  A failed job's writes are discarded (all or nothing).

Log lines and other non-durable effects of an interrupted attempt are not
part of this guarantee: they may be seen once per attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..actors.sandbox import KVStore
from ._db import open_durable
from ..store._integrity import row_check, verify_row
from ._messages import JobInfo

if TYPE_CHECKING:
    from .._core._env import Env

__all__ = ["JobStore", "JobRow", "TxKV", "job_id", "job_seq"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS daemon_jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    idem TEXT,
    request BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    result BLOB,
    error BLOB,
    chk BLOB NOT NULL,
    UNIQUE (tenant, idem)
);
CREATE INDEX IF NOT EXISTS daemon_jobs_state ON daemon_jobs(state);
"""

_LIVE = ("queued", "running")


def job_id(seq: int) -> str:
    """The public id of job ``seq``."""
    return f"job-{seq}"


def job_seq(text: str) -> int | None:
    """The sequence number in a job id, or ``None`` if it is not one."""
    if not text.startswith("job-") or not text[4:].isdigit() or len(text) > 24:
        return None
    return int(text[4:])


@dataclass(frozen=True, slots=True)
class JobRow:
    """One stored job."""

    seq: int
    tenant: str
    idem: str | None
    request: bytes
    state: str
    attempts: int
    result: bytes | None
    error: bytes | None

    def info(self, target: str, error_type: str | None = None,
             error_message: str | None = None) -> JobInfo:
        """The wire form of this row's state."""
        return JobInfo(job_id(self.seq), self.state, target, self.attempts, self.idem,
                       error_type, error_message)


def _chk(seq: int, tenant: str, idem: str | None, request: bytes, state: str, attempts: int,
         result: bytes | None, error: bytes | None) -> bytes:
    return row_check("daemon_jobs", seq, tenant, idem, request, state, attempts, result, error)


class TxKV(KVStore):
    """A job's view of the KV table: reads fall through to ``base``, writes are buffered.

    ``reads`` remembers the value first seen for each key read from the base
    (a later read returns the same value: the job sees one snapshot per key);
    ``writes`` holds the job's puts (``None`` for a delete).
    """

    def __init__(self, base: KVStore) -> None:  # no connection of its own
        self._base = base
        self.reads: dict[tuple[str, str], bytes | None] = {}
        self.writes: dict[tuple[str, str], bytes | None] = {}

    def get(self, tenant: str, key: str) -> bytes | None:
        k = (tenant, key)
        if k in self.writes:
            return self.writes[k]
        if k not in self.reads:
            self.reads[k] = self._base.get(tenant, key)
        return self.reads[k]

    def put(self, tenant: str, key: str, value: bytes) -> None:
        self.writes[(tenant, key)] = bytes(value)

    def delete(self, tenant: str, key: str) -> None:
        self.writes[(tenant, key)] = None

    def keys(self, tenant: str) -> list[str]:
        base = set(self._base.keys(tenant))
        for (t, k), v in self.writes.items():
            if t == tenant:
                (base.add if v is not None else base.discard)(k)
        return sorted(base)

    def close(self) -> None:
        """Nothing to close: the base store belongs to its owner."""


class JobStore:
    """The jobs table of one store file (every write is durable when it returns)."""

    def __init__(self, path: str, env: Env | None = None) -> None:
        self._db = open_durable(path, _SCHEMA, env)
        KVStore(path, env=env).close()  # make sure the kv table exists before we write to it

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def submit(self, tenant: str, idem: str | None, request: bytes) -> tuple[int, bool]:
        """Insert a queued job (durable on return); an existing ``idem`` returns that job."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if idem is not None:
                row = db.execute("SELECT seq FROM daemon_jobs WHERE tenant = ? AND idem = ?",
                                 (tenant, idem)).fetchone()
                if row is not None:
                    db.execute("COMMIT")
                    return int(row[0]), False
            cur = db.execute(
                "INSERT INTO daemon_jobs (tenant, idem, request, state, attempts, chk) "
                "VALUES (?, ?, ?, 'queued', 0, x'')", (tenant, idem, request))
            seq = cur.lastrowid
            assert seq is not None
            db.execute("UPDATE daemon_jobs SET chk = ? WHERE seq = ?",
                       (_chk(seq, tenant, idem, request, "queued", 0, None, None), seq))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return seq, True

    def find_idem(self, tenant: str, idem: str) -> int | None:
        """The job ``tenant`` submitted under idempotency key ``idem``, if any."""
        row = self._db.execute("SELECT seq FROM daemon_jobs WHERE tenant = ? AND idem = ?",
                               (tenant, idem)).fetchone()
        return None if row is None else int(row[0])

    def get(self, seq: int, tenant: str | None = None) -> JobRow | None:
        """Job ``seq`` (only if it belongs to ``tenant``, when given); checksum verified."""
        row = self._db.execute(
            "SELECT seq, tenant, idem, request, state, attempts, result, error, chk "
            "FROM daemon_jobs WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            return None
        job = JobRow(int(row[0]), str(row[1]), None if row[2] is None else str(row[2]),
                     bytes(row[3]), str(row[4]), int(row[5]),
                     None if row[6] is None else bytes(row[6]),
                     None if row[7] is None else bytes(row[7]))
        verify_row("daemon_jobs", job_id(job.seq), row[8], job.seq, job.tenant, job.idem,
                   job.request, job.state, job.attempts, job.result, job.error)
        if tenant is not None and job.tenant != tenant:
            return None
        return job

    def live(self) -> list[JobRow]:
        """Every queued or running job, oldest first (re-queued at start-up)."""
        seqs = [int(r[0]) for r in self._db.execute(
            "SELECT seq FROM daemon_jobs WHERE state IN ('queued', 'running') ORDER BY seq")]
        return [j for j in (self.get(s) for s in seqs) if j is not None]

    def _set(self, job: JobRow, state: str, attempts: int, result: bytes | None,
             error: bytes | None) -> int:
        cur = self._db.execute(
            "UPDATE daemon_jobs SET state = ?, attempts = ?, result = ?, error = ?, chk = ? "
            "WHERE seq = ? AND state IN ('queued', 'running')",
            (state, attempts, result, error,
             _chk(job.seq, job.tenant, job.idem, job.request, state, attempts, result, error),
             job.seq))
        return int(cur.rowcount)

    def start(self, job: JobRow) -> JobRow | None:
        """Mark ``job`` running and count the attempt; ``None`` if it is no longer live."""
        current = self.get(job.seq)
        if current is None or current.state not in _LIVE:
            return None
        if self._set(current, "running", current.attempts + 1, None, None) == 0:
            return None
        return self.get(job.seq)

    def cancel(self, job: JobRow) -> bool:
        """Make a live job ``cancelled``; false if it was already terminal."""
        current = self.get(job.seq)
        if current is None or current.state not in _LIVE:
            return False
        return self._set(current, "cancelled", current.attempts, None, None) == 1

    def complete(self, job: JobRow, state: str, result: bytes | None, error: bytes | None,
                 kv: TxKV | None) -> bool | None:
        """Commit the job's outcome and (on success) its KV writes in one transaction.

        Returns ``True`` when committed, ``False`` when a key the job read has
        changed since (nothing written: run the job again), ``None`` when the
        job was no longer live (cancelled meanwhile: nothing written).
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if kv is not None and state == "succeeded":
                for (tenant, key), seen in kv.reads.items():
                    row = db.execute("SELECT value, chk FROM kv WHERE tenant = ? AND key = ?",
                                     (tenant, key)).fetchone()
                    now = None if row is None else bytes(row[0])
                    if row is not None:
                        verify_row("kv", f"{tenant}/{key}", row[1], tenant, key, now)
                    if now != seen:
                        db.execute("ROLLBACK")
                        return False
                for (tenant, key), value in kv.writes.items():
                    if value is None:
                        db.execute("DELETE FROM kv WHERE tenant = ? AND key = ?", (tenant, key))
                    else:
                        db.execute("INSERT OR REPLACE INTO kv (tenant, key, value, chk) "
                                   "VALUES (?, ?, ?, ?)",
                                   (tenant, key, value, row_check("kv", tenant, key, value)))
            current = self.get(job.seq)
            if current is None or current.state not in _LIVE or \
                    self._set(current, state, current.attempts, result, error) == 0:
                db.execute("ROLLBACK")
                return None
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return True

    def counts(self) -> dict[str, dict[str, int]]:
        """tenant -> state -> number of jobs."""
        out: dict[str, dict[str, int]] = {}
        for tenant, state, n in self._db.execute(
                "SELECT tenant, state, COUNT(*) FROM daemon_jobs GROUP BY tenant, state"):
            out.setdefault(str(tenant), {})[str(state)] = int(n)
        return out
