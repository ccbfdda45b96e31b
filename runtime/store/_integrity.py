"""Row checksums and the whole-store scan behind ``stele store check``.

Every row the store reads back is verified: objects by their digest (the
payload must hash to the id it is stored under), every other row of the
KV and memo tables by a checksum column ``chk`` = BLAKE2b-128 over the
canonical CBOR of ``[table, cells...]``.  The table name and the key cells
are inside the checksum, so a value moved to another row (a misdirected
write, an SQL ``UPDATE ... SET key``) fails as surely as a flipped bit.
TEXT cells are read as bytes and decoded here, so invalid UTF-8 is a
:class:`StoreCorrupted` naming the row, not a raw ``UnicodeDecodeError``.

:func:`check_store` scans a store file and returns every damaged row.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..protocol import Digest, DigestError, encode
from ._errors import StoreCorrupted

__all__ = ["row_check", "verify_row", "text_cell", "Damage", "check_store"]


def row_check(table: str, *cells: Any) -> bytes:
    """The checksum of one row: BLAKE2b-128 of canonical CBOR ``[table, cells]``."""
    return hashlib.blake2b(encode(["stele.row.v1", table, list(cells)]),
                           digest_size=16).digest()


def verify_row(table: str, row: str, chk: object, *cells: Any) -> None:
    """Raise :class:`StoreCorrupted` unless ``chk`` is the checksum of ``cells``."""
    if not isinstance(chk, bytes) or len(chk) != 16:
        raise StoreCorrupted(table, row, "checksum missing or malformed")
    if row_check(table, *cells) != chk:
        raise StoreCorrupted(table, row, "checksum mismatch")


def text_cell(table: str, row: str, value: object) -> str:
    """Decode a TEXT cell read as bytes (``text_factory=bytes``); damage is typed."""
    if isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        raise StoreCorrupted(table, row, f"expected text, found {type(value).__name__}")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreCorrupted(table, row, f"invalid UTF-8 at byte {exc.start}") from None


@dataclass(frozen=True, slots=True)
class Damage:
    """One damaged row found by :func:`check_store`."""

    table: str
    row: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """JSON form: ``{"table", "row", "reason"}``."""
        return {"table": self.table, "row": self.row, "reason": self.reason}


def _tables(db: sqlite3.Connection) -> set[str]:
    return {bytes(r[0]).decode("utf-8", "replace") if isinstance(r[0], bytes) else str(r[0])
            for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _printable(value: object) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    return str(value)


# Mirrors _store.ROW_TABLES (not imported: _store imports this module).
_ROW_TABLES: dict[str, tuple[tuple[str, ...], int]] = {
    "deps": (("id", "position", "dep"), 2),
    "names": (("name", "namespace", "id"), 1),
    "name_history": (("seq", "name", "previous", "id", "time_ns", "author"), 2),
    "meta": (("id", "key", "value"), 2),
}


#: The other checksummed tables (durable executions, the daemon's jobs and tenants),
#: written by their own modules: the cells ``chk`` covers, in order, and the
#: row's name as their readers' :class:`StoreCorrupted` gives it.
_OWNED_TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "durable_exec": (("id", "header", "state", "result"), "{0}"),
    "durable_journal": (("id", "seq", "entry"), "{0}#{1}"),
    "durable_snapshot": (("id", "seq", "snapshot", "digest", "output", "answer"), "{0}"),
    "daemon_jobs": (("seq", "tenant", "idem", "request", "state", "attempts", "result",
                     "error"), "job-{0}"),
    "daemon_tenants": (("name", "token_hash", "quota", "admin", "created_ns"), "{0}"),
}


def _check_owned(db: sqlite3.Connection, table: str, damage: list[Damage]) -> int:
    """Verify every row of one of :data:`_OWNED_TABLES`; return how many were scanned.

    TEXT columns (by their declared type) are decoded as their readers decode
    them, so invalid UTF-8 is damage of that row; a durable journal must also
    run 0, 1, 2 ... without a gap (a deleted entry is damage of the next one).
    """
    cols, name = _OWNED_TABLES[table]
    types = {_printable(r[1]): _printable(r[2]).upper()
             for r in db.execute(f"PRAGMA table_info({table})")}
    scanned = 0
    expected: dict[str, int] = {}
    order = " ORDER BY id, seq" if table == "durable_journal" else ""
    for raw in db.execute(f"SELECT {', '.join(cols)}, chk FROM {table}{order}"):
        scanned += 1
        row = name.format(*(_printable(c) for c in raw[:-1]))
        gap = None
        if table == "durable_journal":  # counted first: a damaged entry is no gap of the next
            ident, seq = _printable(raw[0]), raw[1]
            want = expected.get(ident, 0)
            expected[ident] = (seq if isinstance(seq, int) else want) + 1
            if seq != want:
                gap = f"journal gap: expected entry #{want}"
        try:
            cells = [text_cell(table, row, c) if types.get(col) == "TEXT" and c is not None
                     else c for col, c in zip(cols, raw[:-1])]
            verify_row(table, row, raw[-1], *cells)
            if gap is not None:
                raise StoreCorrupted(table, row, gap)
        except StoreCorrupted as exc:
            damage.append(Damage(exc.table, exc.row, exc.reason))
    return scanned


def check_store(path: str) -> tuple[int, list[Damage]]:
    """Scan the store file at ``path``; return (rows scanned, every damaged row).

    Opened read-only.  Covers SQLite's own structure (``PRAGMA
    integrity_check``), objects (digest of the payload, UTF-8 of id and
    kind), dependency rows, names, name history, annotations (checksums), the KV table and memo level
    two (checksums), durable executions (their rows, journals and guest
    snapshots) and the daemon's jobs and tenants (checksums; a journal gap).
    """
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.text_factory = bytes
    damage: list[Damage] = []
    scanned = 0
    try:
        for (line,) in db.execute("PRAGMA integrity_check"):
            text = _printable(line)
            if text != "ok":
                damage.append(Damage("sqlite", "-", text))
        tables = _tables(db)
        if "objects" in tables:
            for oid, kind, payload in db.execute("SELECT id, kind, payload FROM objects"):
                scanned += 1
                row = _printable(oid)
                try:
                    digest = Digest.parse(text_cell("objects", row, oid))
                    text_cell("objects", row, kind)
                    if not isinstance(payload, bytes):
                        raise StoreCorrupted("objects", row, "payload is not a blob")
                    if Digest.of(payload, digest.algorithm) != digest:
                        raise StoreCorrupted("objects", row, "payload does not match its digest")
                except DigestError as exc:
                    damage.append(Damage("objects", row, f"id is not a digest: {exc}"))
                except StoreCorrupted as exc:
                    damage.append(Damage(exc.table, exc.row, exc.reason))
        for table, (cols, nkey) in _ROW_TABLES.items():
            if table not in tables:
                continue
            has_chk = "chk" in {_printable(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}
            select = ", ".join(cols) + (", chk" if has_chk else ", NULL")
            for raw in db.execute(f"SELECT {select} FROM {table}"):
                scanned += 1
                row = "/".join(_printable(c) for c in raw[:nkey])
                try:
                    cells = [text_cell(table, row, c) if isinstance(c, bytes)
                             and not (table == "meta" and i == 2) else c
                             for i, c in enumerate(raw[:-1])]
                    if has_chk:  # a store not yet opened since checksums came in has none
                        verify_row(table, row, raw[-1], *cells)
                    for i, c in enumerate(cells):
                        if cols[i] in ("dep", "previous") or (cols[i] == "id" and c is not None):
                            if c is not None:
                                Digest.parse(str(c))
                except DigestError as exc:
                    damage.append(Damage(table, row, f"not a digest: {exc}"))
                except StoreCorrupted as exc:
                    damage.append(Damage(exc.table, exc.row, exc.reason))
        if "kv" in tables:
            for tenant, key, value, chk in db.execute("SELECT tenant, key, value, chk FROM kv"):
                scanned += 1
                row = f"{_printable(tenant)}/{_printable(key)}"
                try:
                    verify_row("kv", row, chk, text_cell("kv", row, tenant),
                               text_cell("kv", row, key), value)
                except StoreCorrupted as exc:
                    damage.append(Damage(exc.table, exc.row, exc.reason))
        if "memo" in tables:
            for key, entry, chk in db.execute("SELECT key, entry, chk FROM memo"):
                scanned += 1
                row = key.hex() if isinstance(key, bytes) else _printable(key)
                try:
                    verify_row("memo", row, chk, key, entry)
                except StoreCorrupted as exc:
                    damage.append(Damage(exc.table, exc.row, exc.reason))
        for table in _OWNED_TABLES:
            if table in tables:
                scanned += _check_owned(db, table, damage)
    finally:
        db.close()
    return scanned, damage
