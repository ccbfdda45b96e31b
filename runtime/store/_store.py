"""The content-addressed object store: objects by digest, names with history.

One SQLite database in WAL mode with ``synchronous=FULL``: a write call
returns only after its transaction is durable, so every acknowledged write
survives a crash (``tests/store/test_durability.py`` kills a writer with
SIGKILL mid-batch and checks).  Objects are immutable byte payloads (the
canonical CBOR their digest is taken over) with a kind and the digests they
depend on; names map to digests with a history of every change (previous
digest, time, author).  Names are dotted (``math.fib``): the part before the
last dot is the namespace.

Time stamps come from the ``clock`` the caller passes (an Env's ``wall_ns``).
The store is synchronous; the repository actor runs it through
``Env.run_blocking``.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ..protocol import ALGORITHMS, AmbiguousPrefix, Digest, DigestError, UnknownDigest
from ._errors import (
    DigestMismatch,
    InvalidName,
    MissingDependencies,
    NameNotFound,
    ObjectNotFound,
    StoreCorrupted,
)
from ._connect import connect, use_wal
from ._integrity import row_check, verify_row

if TYPE_CHECKING:
    from .._core._env import Env

__all__ = ["ObjectStore", "StoredObject", "NameEvent", "NewObject"]

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY,          -- printable digest, e.g. b2:<hex>; prefix-searchable
    kind TEXT NOT NULL,
    payload BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deps (
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    dep TEXT NOT NULL,
    chk BLOB,                     -- row_check over the row (see _integrity)
    PRIMARY KEY (id, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS names (
    name TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    id TEXT NOT NULL,
    chk BLOB
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS names_namespace ON names(namespace);
CREATE INDEX IF NOT EXISTS names_id ON names(id);
CREATE TABLE IF NOT EXISTS name_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    previous TEXT,
    id TEXT,
    time_ns INTEGER NOT NULL,
    author TEXT NOT NULL,
    chk BLOB
);
CREATE INDEX IF NOT EXISTS name_history_name ON name_history(name, seq);
CREATE TABLE IF NOT EXISTS meta (
    id TEXT NOT NULL,             -- the object the annotation describes
    key TEXT NOT NULL,
    value BLOB NOT NULL,          -- canonical CBOR, not part of the object's digest
    chk BLOB,
    PRIMARY KEY (id, key)
) WITHOUT ROWID;
"""

# The checksummed tables: their cells in checksum order, and how many name a row.
ROW_TABLES: dict[str, tuple[tuple[str, ...], int]] = {
    "deps": (("id", "position", "dep"), 2),
    "names": (("name", "namespace", "id"), 1),
    "name_history": (("seq", "name", "previous", "id", "time_ns", "author"), 2),
    "meta": (("id", "key", "value"), 2),
}


def row_name(table: str, cells: Sequence[object]) -> str:
    """The printable key of a row of a checksummed table (what errors name)."""
    return "/".join(str(c) for c in cells[:ROW_TABLES[table][1]])


def _migrate(db: sqlite3.Connection) -> None:
    """Add and fill the ``chk`` column of stores written before it existed (once)."""
    for table, (cols, _) in ROW_TABLES.items():
        have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        if "chk" in have:
            continue
        with _transaction(db):
            db.execute(f"ALTER TABLE {table} ADD COLUMN chk BLOB")
            rows = db.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
            where = " AND ".join(f"{c} IS ?" for c in cols)
            db.executemany(f"UPDATE {table} SET chk = ? WHERE {where}",
                           [(row_check(table, *r), *r) for r in rows])


def _verified(table: str, row: Sequence[object]) -> tuple[object, ...]:
    """The cells of ``row`` (cells..., chk) after checking its checksum."""
    cells = tuple(row[:-1])
    verify_row(table, row_name(table, cells), row[-1], *cells)
    return cells


def _blob(value: object) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise StoreCorrupted("meta", "?", f"value is not a blob ({type(value).__name__})")
    return bytes(value)


def _name_row(row: Sequence[object]) -> tuple[object, ...]:
    return _verified("names", row)


@dataclass(frozen=True, slots=True)
class NewObject:
    """An object to store: its kind, canonical payload and dependencies."""

    kind: str
    payload: bytes
    deps: tuple[Digest, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object read back from the store."""

    digest: Digest
    kind: str
    payload: bytes
    deps: tuple[Digest, ...]


@dataclass(frozen=True, slots=True)
class NameEvent:
    """One change of a name: ``digest`` is None when the name was removed."""

    name: str
    previous: Digest | None
    digest: Digest | None
    time_ns: int
    author: str


class ObjectStore:
    """Objects by digest and names with history, in one SQLite file.

    ``path=None`` opens a private in-memory database (tests).  ``env``: under
    a simulated Env the file is on its simulated disk (see
    :mod:`stele.store._connect`).  ``cache_size`` bounds the loader cache: an
    LRU of decoded objects so that repeated loads of hot definitions skip
    SQLite.
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        clock: Callable[[], int],
        cache_size: int = 1024,
        verify_reads: bool = True,
        env: Env | None = None,
    ) -> None:
        self.path = path
        self._clock = clock
        # check_same_thread=False: the repository actor moves calls between worker
        # threads (Env.run_blocking); it never makes two at once.
        self._db = connect(path, env=env, check_same_thread=False)
        use_wal(self._db, path)
        # A TEXT cell that is not UTF-8 is damage: a typed StoreCorrupted, not a raw
        # UnicodeDecodeError / sqlite3.OperationalError from inside a query.
        self._db.text_factory = _text_cell
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        _migrate(self._db)
        self._cache: OrderedDict[Digest, StoredObject] = OrderedDict()
        self._cache_size = cache_size
        self._verify = verify_reads
        self.cache_hits = 0
        self.cache_misses = 0

    def close(self) -> None:
        """Close the database (every acknowledged write is already durable)."""
        self._db.close()

    # -- objects ----------------------------------------------------------------
    def put(self, obj: NewObject) -> Digest:
        """Store one object durably; returns its digest (idempotent)."""
        return self.put_many([obj])[0]

    def put_many(self, objects: Sequence[NewObject]) -> list[Digest]:
        """Store a batch in one durable transaction; returns the digests in order."""
        return self.commit(objects)[0]

    def commit(
        self,
        objects: Sequence[NewObject] = (),
        *,
        bindings: Sequence[tuple[str, Digest]] = (),
        meta: Sequence[tuple[Digest, str, bytes]] = (),
        author: str = "",
    ) -> tuple[list[Digest], list[NameEvent]]:
        """Store objects, annotations and name bindings in ONE durable transaction.

        Either all of it is on disk when this returns, or (on error or crash)
        none of it is.  ``meta`` entries ``(digest, key, value)`` are
        descriptive annotations (e.g. the local names a TEL definition was
        written with) that are not part of any digest; a later write of the
        same key replaces the value.  Bindings may name objects of this batch.
        """
        digests = [Digest.of(o.payload) for o in objects]
        keys = [str(d) for d in digests]
        with _transaction(self._db):
            present: set[str] = set()
            for chunk in _chunks(keys):
                present.update(r[0] for r in self._db.execute(
                    f"SELECT id FROM objects WHERE id IN ({','.join('?' * len(chunk))})", chunk))
            new: dict[str, NewObject] = {}
            for k, o in zip(keys, objects):
                if k not in present:
                    new.setdefault(k, o)  # the first writer of a digest fixes its deps
            self._db.executemany(
                "INSERT INTO objects(id, kind, payload) VALUES (?, ?, ?)",
                [(k, o.kind, o.payload) for k, o in new.items()])
            self._db.executemany(
                "INSERT INTO deps(id, position, dep, chk) VALUES (?, ?, ?, ?)",
                [(k, i, str(d), row_check("deps", k, i, str(d)))
                 for k, o in new.items() for i, d in enumerate(o.deps)])
            if meta:
                self._db.executemany(
                    "INSERT OR REPLACE INTO meta(id, key, value, chk) VALUES (?, ?, ?, ?)",
                    [(str(d), k, v, row_check("meta", str(d), k, v)) for d, k, v in meta])
            events = self._bind(bindings, author, set(keys))
        return digests, events

    def get_meta_many(self, digests: Iterable[Digest], key: str) -> dict[Digest, bytes]:
        """The annotation ``key`` of each of ``digests`` that has one (batched lookups)."""
        out: dict[Digest, bytes] = {}
        for chunk in _chunks(list(digests)):
            by_key = {str(d): d for d in chunk}
            marks = ",".join("?" * len(by_key))
            for row in self._db.execute(
                    f"SELECT id, key, value, chk FROM meta WHERE key = ? AND id IN ({marks})",
                    (key, *by_key)):
                i, _, v = _verified("meta", row)
                out[by_key[str(i)]] = _blob(v)
        return out

    def get_meta(self, digest: Digest, key: str) -> bytes | None:
        """The annotation ``key`` of ``digest`` (None if there is none)."""
        row = self._db.execute("SELECT id, key, value, chk FROM meta WHERE id = ? AND key = ?",
                               (str(digest), key)).fetchone()
        if row is None:
            return None
        return _blob(_verified("meta", row)[2])

    def has(self, digest: Digest) -> bool:
        """Whether an object with this digest is stored."""
        if digest in self._cache:
            return True
        row = self._db.execute("SELECT 1 FROM objects WHERE id = ?", (str(digest),)).fetchone()
        return row is not None

    def get(self, digest: Digest) -> StoredObject:
        """The object with this digest, through the loader cache."""
        cached = self._cache.get(digest)
        if cached is not None:
            self._cache.move_to_end(digest)
            self.cache_hits += 1
            return cached
        self.cache_misses += 1
        key = str(digest)
        row = self._db.execute("SELECT kind, payload FROM objects WHERE id = ?", (key,)).fetchone()
        if row is None:
            raise ObjectNotFound(digest)
        payload = bytes(row[1])
        if self._verify:
            actual = Digest.of(payload, digest.algorithm)
            if actual != digest:
                raise DigestMismatch(digest, actual)
        deps = tuple(Digest.parse(str(_verified("deps", r)[2])) for r in self._db.execute(
            "SELECT id, position, dep, chk FROM deps WHERE id = ? ORDER BY position", (key,)))
        obj = StoredObject(digest, str(row[0]), payload, deps)
        if self._cache_size > 0:
            self._cache[digest] = obj
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return obj

    def count(self) -> int:
        """How many objects are stored."""
        return int(self._db.execute("SELECT COUNT(*) FROM objects").fetchone()[0])

    def resolve(self, text: str) -> Digest:
        """A full digest from its printable form or a unique prefix of it.

        Accepts ``b2:<hex>``, ``b2:<hex prefix>`` or a bare hex prefix; an
        ambiguous prefix raises :class:`stele.protocol.AmbiguousPrefix`
        listing the candidates, an unknown one :class:`UnknownDigest`.
        """
        text = text.strip().lower()
        if ":" in text:
            head, _, hexpart = text.partition(":")
            prefixes = [text] if any(a.prefix == head for a in ALGORITHMS.values()) else []
            if not prefixes:
                raise DigestError(f"unknown digest prefix {head!r} in {text!r}")
        else:
            hexpart = text
            prefixes = [f"{a.prefix}:{text}" for a in ALGORITHMS.values()]
        if not hexpart or any(c not in "0123456789abcdef" for c in hexpart):
            raise DigestError(f"{text!r} is not a digest or a hex prefix of one")
        candidates: list[str] = []
        for p in prefixes:
            candidates += [r[0] for r in self._db.execute(
                "SELECT id FROM objects WHERE id >= ? AND id < ? ORDER BY id LIMIT 11",
                (p, p + "\U0010ffff"))]
        if not candidates:
            raise UnknownDigest(text)
        if len(candidates) > 1:
            # At most 11 per algorithm are fetched: enough to list ten and say "more".
            error = AmbiguousPrefix(text, [Digest.parse(c) for c in candidates])
            if len(candidates) > 10:
                total = sum(int(self._db.execute(
                    "SELECT COUNT(*) FROM objects WHERE id >= ? AND id < ?",
                    (p, p + "\U0010ffff")).fetchone()[0]) for p in prefixes)
                error.args = (f"digest prefix {text!r} is ambiguous: it matches {total} "
                              f"objects, e.g. {', '.join(candidates[:10])}",)
            raise error
        return Digest.parse(candidates[0])

    # -- dependencies -------------------------------------------------------------
    def closure(self, roots: Iterable[Digest]) -> list[StoredObject]:
        """Every object ``roots`` need, transitively, each exactly once.

        Dependencies come before their dependents (cycles -- legal inside a
        mutually recursive group -- are broken at the back edge), shared
        dependencies (diamonds) are loaded once, and every missing piece is
        reported at once in one :class:`MissingDependencies`.
        """
        roots = list(roots)
        fetched = self._prefetch(roots)
        order: list[StoredObject] = []
        state: dict[Digest, int] = {}  # 1 = in progress, 2 = done
        missing: dict[Digest, list[Digest]] = {}
        for root in roots:
            if state.get(root):
                continue
            stack: list[tuple[Digest, Digest | None, int]] = [(root, None, 0)]
            loaded: dict[Digest, StoredObject] = {}
            while stack:
                digest, parent, index = stack.pop()
                if index == 0:
                    if state.get(digest):
                        continue
                    try:
                        loaded[digest] = fetched[digest] if digest in fetched else self.get(digest)
                    except ObjectNotFound:
                        missing.setdefault(digest, []).append(parent or digest)
                        state[digest] = 2
                        continue
                    state[digest] = 1
                obj = loaded[digest]
                if index < len(obj.deps):
                    stack.append((digest, parent, index + 1))
                    dep = obj.deps[index]
                    if not state.get(dep):
                        stack.append((dep, digest, 0))
                    elif dep in missing:
                        missing[dep].append(digest)
                else:
                    state[digest] = 2
                    order.append(obj)
        if missing:
            raise MissingDependencies(missing)
        return order

    def _prefetch(self, roots: list[Digest]) -> dict[Digest, StoredObject]:
        """Every stored object reachable from ``roots``, read with two queries.

        A recursive CTE walks the ``deps`` table inside SQLite (``UNION``
        deduplicates, so diamonds and cycles terminate), instead of two
        queries per object; the closure walk then runs in memory.  Missing
        objects are simply absent (the walk reports them).  Fills the cache.
        """
        out: dict[Digest, StoredObject] = {}
        for chunk in _chunks(list(dict.fromkeys(roots))):
            reach = ("WITH RECURSIVE reach(id) AS (VALUES " + ",".join(["(?)"] * len(chunk))
                     + " UNION SELECT deps.dep FROM deps JOIN reach ON deps.id = reach.id) ")
            args = tuple(str(d) for d in chunk)
            deps: dict[str, list[tuple[int, str]]] = {}
            for r in self._db.execute(
                    reach + "SELECT deps.id, deps.position, deps.dep, deps.chk FROM deps "
                    "JOIN reach ON deps.id = reach.id", args):
                i, pos, dep = _verified("deps", r)
                deps.setdefault(str(i), []).append((int(str(pos)), str(dep)))
            for i, kind, payload in self._db.execute(
                    reach + "SELECT objects.id, objects.kind, objects.payload FROM objects "
                    "JOIN reach ON objects.id = reach.id", args):
                d = Digest.parse(i)
                cached = self._cache.get(d)
                if cached is not None:
                    out[d] = cached
                    continue
                payload = bytes(payload)
                if self._verify:
                    actual = Digest.of(payload, d.algorithm)
                    if actual != d:
                        raise DigestMismatch(d, actual)
                obj = StoredObject(d, str(kind), payload,
                                   tuple(Digest.parse(x) for _, x in sorted(deps.get(i, ()))))
                out[d] = obj
                if self._cache_size > 0:
                    self._cache[d] = obj
                    if len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        return out

    def dependents(self, digest: Digest) -> list[Digest]:
        """Objects that directly depend on ``digest``."""
        ids = [str(_verified("deps", r)[0]) for r in self._db.execute(
            "SELECT id, position, dep, chk FROM deps WHERE dep = ? ORDER BY id", (str(digest),))]
        return [Digest.parse(i) for i in dict.fromkeys(ids)]

    # -- names --------------------------------------------------------------------
    def set_name(self, name: str, digest: Digest, *, author: str = "") -> NameEvent:
        """Bind ``name`` to a stored ``digest``, recording the change durably.

        Binding a name to the digest it already has changes nothing and
        returns the event that bound it.
        """
        events = self.set_names([(name, digest)], author=author)
        return events[0] if events else self.history(name)[-1]

    def set_names(self, bindings: Sequence[tuple[str, Digest]], *, author: str = "") -> list[NameEvent]:
        """Bind several names in one durable transaction."""
        with _transaction(self._db):
            return self._bind(bindings, author)

    def _bind(self, bindings: Sequence[tuple[str, Digest]], author: str,
              known: frozenset[str] | set[str] = frozenset()) -> list[NameEvent]:
        """Bind names inside the caller's transaction (``known``: ids stored by it).

        Batched: one query for the current bindings, one for the objects'
        existence, two ``executemany`` for the rows.
        """
        for name, _ in bindings:
            _check_name(name)
        current: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(n for n, _ in bindings))):
            current.update((str(c[0]), str(c[2])) for c in map(_name_row, self._db.execute(
                f"SELECT name, namespace, id, chk FROM names WHERE name IN "
                f"({','.join('?' * len(chunk))})", chunk)))
        unknown = list(dict.fromkeys(str(d) for _, d in bindings if str(d) not in known))
        present: set[str] = set()
        for chunk in _chunks(unknown):
            present.update(r[0] for r in self._db.execute(
                f"SELECT id FROM objects WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        events: list[NameEvent] = []
        name_rows: list[tuple[str, str, str, bytes]] = []
        history_rows: list[tuple[int, str, str | None, str, int, str, bytes]] = []
        seq = self._last_seq()
        for name, digest in bindings:
            key = str(digest)
            if key not in known and key not in present:
                raise ObjectNotFound(digest)
            previous = current.get(name)
            if previous == key:
                continue
            now = self._clock()
            current[name] = key
            ns = name.rpartition(".")[0]
            name_rows.append((name, ns, key, row_check("names", name, ns, key)))
            seq += 1
            history_rows.append((seq, name, previous, key, now, author,
                                 row_check("name_history", seq, name, previous, key, now, author)))
            events.append(NameEvent(name, Digest.parse(previous) if previous else None, digest,
                                    now, author))
        self._db.executemany(
            "INSERT OR REPLACE INTO names(name, namespace, id, chk) VALUES (?, ?, ?, ?)", name_rows)
        self._db.executemany(
            "INSERT INTO name_history(seq, name, previous, id, time_ns, author, chk) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", history_rows)
        return events

    def _last_seq(self) -> int:
        # The last name_history sequence number handed out (inside a transaction).
        row = self._db.execute(
            "SELECT MAX(s) FROM (SELECT seq AS s FROM sqlite_sequence WHERE name = 'name_history'"
            " UNION ALL SELECT MAX(seq) FROM name_history)").fetchone()
        return int(row[0] or 0)

    def remove_name(self, name: str, *, author: str = "") -> NameEvent:
        """Unbind ``name`` (its history is kept)."""
        with _transaction(self._db):
            previous = self.lookup(name)
            now = self._clock()
            self._db.execute("DELETE FROM names WHERE name = ?", (name,))
            seq = self._last_seq() + 1
            self._db.execute(
                "INSERT INTO name_history(seq, name, previous, id, time_ns, author, chk) "
                "VALUES (?, ?, ?, NULL, ?, ?, ?)",
                (seq, name, str(previous), now, author,
                 row_check("name_history", seq, name, str(previous), None, now, author)))
        return NameEvent(name, previous, None, now, author)

    def lookup(self, name: str) -> Digest:
        """The digest ``name`` is bound to."""
        row = self._db.execute("SELECT name, namespace, id, chk FROM names WHERE name = ?",
                               (name,)).fetchone()
        if row is None:
            raise NameNotFound(name)
        return Digest.parse(str(_name_row(row)[2]))

    def names(self, namespace: str | None = None, *,
              recursive: bool = False) -> list[tuple[str, Digest]]:
        """Bound names, sorted; only those directly in ``namespace`` if given.

        With ``recursive``, names in the namespace's sub-namespaces too
        (``a`` covers ``a.x`` and ``a.b.y``).
        """
        if namespace is None or (recursive and not namespace):
            rows = self._db.execute("SELECT name, namespace, id, chk FROM names ORDER BY name")
        elif recursive:
            # "." < "/" in code point order: [ns + ".", ns + "/") is every name under ns
            rows = self._db.execute(
                "SELECT name, namespace, id, chk FROM names WHERE name >= ? AND name < ? "
                "ORDER BY name",
                (namespace + ".", namespace + "/"))
        else:
            rows = self._db.execute(
                "SELECT name, namespace, id, chk FROM names WHERE namespace = ? ORDER BY name",
                (namespace,))
        return [(str(c[0]), Digest.parse(str(c[2]))) for c in map(_name_row, rows)]

    def names_of(self, digest: Digest) -> list[str]:
        """Names currently bound to ``digest``."""
        return [str(_name_row(r)[0]) for r in self._db.execute(
            "SELECT name, namespace, id, chk FROM names WHERE id = ? ORDER BY name",
            (str(digest),))]

    def names_of_many(self, digests: Iterable[Digest]) -> dict[Digest, list[str]]:
        """Names currently bound to each of ``digests`` (batched `names_of`)."""
        out: dict[Digest, list[str]] = {}
        for chunk in _chunks(list(digests)):
            by_key = {str(d): d for d in chunk}
            marks = ",".join("?" * len(by_key))
            for r in self._db.execute(
                    f"SELECT name, namespace, id, chk FROM names WHERE id IN ({marks}) "
                    "ORDER BY name", tuple(by_key)):
                name, _, i = _name_row(r)
                out.setdefault(by_key[str(i)], []).append(str(name))
        return out

    def history(self, name: str) -> list[NameEvent]:
        """Every change of ``name``, oldest first."""
        rows = self._db.execute(
            "SELECT seq, name, previous, id, time_ns, author, chk FROM name_history "
            "WHERE name = ? ORDER BY seq", (name,)).fetchall()
        if not rows:
            raise NameNotFound(name)
        cells = [_verified("name_history", r) for r in rows]
        return [NameEvent(name, Digest.parse(str(p)) if p else None,
                          Digest.parse(str(i)) if i else None, int(str(t)), str(a))
                for _, _, p, i, t, a in cells]

    def integrity_check(self) -> str:
        """SQLite's own integrity check ("ok" when consistent)."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT (durable on return) or ROLLBACK on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            if self._db.in_transaction:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:  # the original error is the one to report
                    pass
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error:
            # A failed COMMIT (I/O error, disk full) may leave the transaction open;
            # close it so the next BEGIN does not fail forever.  Nothing was acknowledged.
            if self._db.in_transaction:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise


def _text_cell(raw: bytes) -> str:
    """SQLite's ``text_factory``: decode a TEXT cell, or raise :class:`StoreCorrupted`."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreCorrupted("?", raw[:40].hex(),
                             f"TEXT cell is not UTF-8 (byte {exc.start})") from None


def _chunks(items: list[_T], size: int = 500) -> list[list[_T]]:
    """Split a batch so each query stays under SQLite's bound-parameter limit."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def _check_name(name: str) -> None:
    if not name or any(not seg for seg in name.split(".")) or any(c.isspace() for c in name):
        raise InvalidName(f"invalid name {name!r}: use dotted segments without whitespace")
