"""The executor's side of durable executions (see :mod:`stele.actors.sandbox._durable`).

:func:`open_durable` is called once per execution that has a durable id:
it records the execution's identity the first time, and on a later run
with the same id checks that nothing replay depends on has changed (the
code digest, the cost table, the engine, the arguments, the tenant, the
policy and the limits), then hands back the journal to replay, or the
stored result of an execution that already finished (nothing runs again).
"""

from __future__ import annotations

from typing import Any

from ...protocol import Digest
from ...tel import COST_TABLE
from ..allocator import Resources
from ..sandbox import KVStore
from ..sandbox._durable import DurableError, DurableLog, DurableMismatch, DurableStore
from ..sandbox._values import value_from_cbor, value_to_cbor
from ._types import ExecLimits, Execute, ExecResult

__all__ = ["durable_store", "open_durable", "finish_durable", "header_of", "request_of"]

_FIELDS = ("digest", "cost_table", "engine", "args", "tenant", "policy", "limits", "namespace")


def durable_store(kv: KVStore) -> DurableStore:
    """The durable tables on ``kv``'s connection (made once per KV store)."""
    found = getattr(kv, "_stele_durable", None)
    if isinstance(found, DurableStore):
        return found
    db = getattr(kv, "_db", None)
    if db is None:
        base = getattr(kv, "_base", None)  # a job's buffered view: durable writes need the table
        raise DurableError("a durable execution needs the store's own KV table"
                           + (" (this KV view buffers its writes)" if base is not None else ""))
    store = DurableStore(db)
    kv._stele_durable = store  # type: ignore[attr-defined]
    return store


def _limits(limits: ExecLimits) -> dict[str, Any]:
    return {"fuel": limits.fuel, "memory": limits.memory, "depth": limits.depth,
            "cycles": limits.cycles, "storage": limits.storage,
            "max_output_bytes": limits.max_output_bytes,
            "timeout_ms": None if limits.timeout is None else int(limits.timeout * 1000)}


def header_of(request: Execute, digest: Digest, limits: ExecLimits) -> dict[str, Any]:
    """What identifies a durable execution (stored with it, compared on every resume)."""
    return {"target": request.target, "digest": str(digest), "cost_table": COST_TABLE.version,
            "engine": request.engine, "args": [value_to_cbor(a) for a in request.args],
            "tenant": request.tenant, "policy": request.policy.to_cbor_obj(),
            "limits": _limits(limits), "namespace": request.namespace}


def request_of(ident: str, header: dict[str, Any]) -> Execute:
    """The :class:`Execute` that resumes the stored execution ``ident``."""
    from ..sandbox import Policy
    lim = dict(header["limits"])
    timeout_ms = lim.pop("timeout_ms")
    limits = ExecLimits(**lim, timeout=None if timeout_ms is None else timeout_ms / 1000)
    return Execute(header["target"], tuple(value_from_cbor(a) for a in header["args"]), limits,
                   Policy.from_cbor_obj(header["policy"]), header["engine"], header["tenant"],
                   memo=False, namespace=header["namespace"], durable=ident)


def open_durable(kv: KVStore, request: Execute, digest: Digest, limits: ExecLimits
                 ) -> tuple[DurableLog | None, ExecResult | None]:
    """The journal to run with, or the stored result of a finished execution."""
    assert request.durable is not None
    ident = request.durable
    store = durable_store(kv)
    header = header_of(request, digest, limits)
    stored = store.get(ident)
    if stored is None:
        store.begin(ident, header)
        return DurableLog(store, ident, []), None
    for name in _FIELDS:
        if stored.header.get(name) != header[name]:
            raise DurableMismatch(ident, name, stored.header.get(name), header[name])
    if stored.state == "done":
        return None, result_from_cbor(request, digest, stored.result)
    return DurableLog(store, ident, store.entries(ident)), None


def finish_durable(log: DurableLog, request: Execute, digest: Digest, limits: ExecLimits,
                   result: ExecResult) -> None:
    """Store the result of a durable execution that finished."""
    log.store.finish(log.ident, header_of(request, digest, limits), result_to_cbor(result))


def result_to_cbor(r: ExecResult) -> dict[str, Any]:
    """The stored form of a finished execution's result."""
    u = r.usage
    return {"value": value_to_cbor(r.value), "cost": r.cost,
            "usage": [u.fuel, u.memory, u.wall_ns, u.cycles, u.storage, u.output],
            "breakdown": sorted(r.breakdown.items()), "journal": r.journal_digest.binary,
            "effects": r.effects, "exit_code": r.exit_code, "stdout": r.stdout,
            "public_output": r.public_output, "logs": list(r.logs), "children": r.children}


def result_from_cbor(request: Execute, digest: Digest, obj: Any) -> ExecResult:
    """The :class:`ExecResult` of a finished durable execution, as it was first answered."""
    fuel, memory, wall, cycles, storage, output = obj["usage"]
    return ExecResult(request.target, digest, request.engine, value_from_cbor(obj["value"]),
                      Resources(fuel=fuel, memory=memory, wall_ns=wall, cycles=cycles,
                                storage=storage, output=output),
                      obj["cost"], {k: v for k, v in obj["breakdown"]},
                      Digest.from_binary(obj["journal"]), obj["effects"],
                      exit_code=obj["exit_code"], stdout=obj["stdout"],
                      public_output=obj["public_output"], logs=tuple(obj["logs"]),
                      children=obj["children"])
