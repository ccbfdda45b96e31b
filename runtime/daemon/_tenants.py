"""Tenants: names, quotas and the hashes of their tokens, kept in the store's SQLite file.

``stele tenant add NAME`` makes a token (``stl_`` + 64 hex digits) from the
Env's random stream -- a forked stream, hashed, so tokens reveal nothing of
the generator -- prints it once and keeps only its BLAKE2b-256 hash: a copy
of the store does not let anyone connect.  Every row carries the store's
row checksum, verified when read back.

A tenant's stored names live under the namespace ``tenant.NAME`` and its KV
keys under the KV tenant ``NAME``; the daemon maps both, so a tenant never
names, reads or runs another's data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
from dataclasses import dataclass, replace
from typing import Any, Final

from .._core._env import Env
from ..protocol import decode, encode
from ._db import open_durable
from ..store._integrity import row_check, text_cell, verify_row
from ._errors import TenantError

__all__ = ["Quota", "Tenant", "TenantStore", "parse_quota", "token_hash", "namespace_of",
           "TENANT_NAME"]

TENANT_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS daemon_tenants (
    name TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    quota BLOB NOT NULL,
    admin INTEGER NOT NULL,
    created_ns INTEGER NOT NULL,
    chk BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS daemon_owned (
    tenant TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (tenant, digest)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Quota:
    """Per-tenant limits; ``0`` means the daemon's default.

    ``slots``: executions running at once (synchronous and jobs together);
    ``queue``: jobs queued or running; ``fuel``: the most fuel one execution
    may ask for (larger limits are clamped); ``inflight``: requests in flight
    across the tenant's connections.
    """

    slots: int = 0
    queue: int = 0
    fuel: int = 0
    inflight: int = 0

    def to_obj(self) -> dict[str, int]:
        """The stored form."""
        return {"slots": self.slots, "queue": self.queue, "fuel": self.fuel,
                "inflight": self.inflight}


_QUOTA_KEYS = ("slots", "queue", "fuel", "inflight")


def parse_quota(specs: list[str]) -> Quota:
    """``["slots=4,queue=100", "fuel=1000000"]`` -> :class:`Quota` (:class:`TenantError` if bad)."""
    q = Quota()
    for spec in specs:
        for item in filter(None, (s.strip() for s in spec.split(","))):
            key, sep, value = item.partition("=")
            if not sep or key not in _QUOTA_KEYS:
                raise TenantError(f"--quota {item!r}: expected KEY=N with KEY one of "
                                  f"{', '.join(_QUOTA_KEYS)}")
            try:
                n = int(value)
            except ValueError:
                raise TenantError(f"--quota {item!r}: {value!r} is not an integer") from None
            if n < 0:
                raise TenantError(f"--quota {item!r}: must be >= 0")
            q = replace(q, **{key: n})
    return q


@dataclass(frozen=True, slots=True)
class Tenant:
    """An authenticated tenant."""

    name: str
    quota: Quota
    admin: bool = False


def token_hash(token: str) -> bytes:
    """The stored form of a token."""
    return hashlib.blake2b(token.encode(), digest_size=32, person=b"stele.token.v1").digest()


def namespace_of(tenant: str) -> str:
    """The store namespace holding ``tenant``'s names."""
    return f"tenant.{tenant}"


class TenantStore:
    """The tenants table (``daemon_tenants``) of one store file."""

    def __init__(self, path: str, env: Env | None = None) -> None:
        self._db = open_durable(path, _SCHEMA, env)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def add(self, env: Env, name: str, quota: Quota, *, admin: bool = False) -> str:
        """Create tenant ``name`` and return its token (shown once; only its hash is kept)."""
        if not TENANT_NAME.fullmatch(name):
            raise TenantError(f"tenant name {name!r} must match [a-z][a-z0-9_]{{0,63}}")
        label = f"stele.daemon.token:{name}:{env.rng.randbits(64)}:{env.wall_ns()}"
        secret = hashlib.blake2b(env.rng.fork(label).bytes(64), digest_size=32).hexdigest()
        token = f"stl_{secret}"
        h = token_hash(token)
        q = encode(quota.to_obj())
        created = env.wall_ns()
        try:
            self._db.execute(
                "INSERT INTO daemon_tenants VALUES (?, ?, ?, ?, ?, ?)",
                (name, h, q, int(admin), created,
                 row_check("daemon_tenants", name, h, q, int(admin), created)))
        except sqlite3.IntegrityError:
            raise TenantError(f"tenant {name!r} already exists "
                              "(remove it first to issue a new token)") from None
        return token

    def remove(self, name: str) -> None:
        """Delete tenant ``name`` (its stored data stays; its token stops working)."""
        cur = self._db.execute("DELETE FROM daemon_tenants WHERE name = ?", (name,))
        if cur.rowcount == 0:
            raise TenantError(f"no tenant {name!r}")

    def authenticate(self, token: str) -> Tenant | None:
        """The tenant whose token this is, or ``None``."""
        h = token_hash(token)
        row = self._db.execute(
            "SELECT name, token_hash, quota, admin, created_ns, chk FROM daemon_tenants "
            "WHERE token_hash = ?", (h,)).fetchone()
        if row is None or not hmac.compare_digest(bytes(row[1]), h):
            return None
        return self._tenant(row)

    def all(self) -> list[Tenant]:
        """Every tenant, by name."""
        rows = self._db.execute(
            "SELECT name, token_hash, quota, admin, created_ns, chk FROM daemon_tenants "
            "ORDER BY name").fetchall()
        return [self._tenant(r) for r in rows]

    def own(self, tenant: str, digests: list[str]) -> None:
        """Record that ``tenant`` stored these digests (it may then run them by digest)."""
        self._db.executemany("INSERT OR IGNORE INTO daemon_owned VALUES (?, ?)",
                             [(tenant, d) for d in digests])

    def owned_matching(self, tenant: str, prefix: str, limit: int = 11) -> list[str]:
        """Digests (``b2:hex`` text) ``tenant`` stored that start with ``prefix``."""
        if not all(c in "0123456789abcdef:b" for c in prefix):
            return []
        rows = self._db.execute(
            "SELECT digest FROM daemon_owned WHERE tenant = ? AND digest >= ? AND digest < ? "
            "ORDER BY digest LIMIT ?", (tenant, prefix, prefix + "\uffff", limit))
        return [str(r[0]) for r in rows]

    def _tenant(self, row: tuple[object, ...]) -> Tenant:
        name = text_cell("daemon_tenants", "?", row[0])
        verify_row("daemon_tenants", name, row[5], name, row[1], row[2], row[3], row[4])
        raw: Any = row[2]
        obj = decode(bytes(raw))
        assert isinstance(obj, dict)
        quota = Quota(**{k: int(obj.get(k, 0)) for k in _QUOTA_KEYS})
        return Tenant(name, quota, bool(row[3]))
