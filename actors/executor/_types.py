"""What the executor is asked and what it answers (in-process values, not wire messages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from ...protocol import Digest
from ..allocator import Resources
from ..sandbox import DENY_ALL, KVStore, Policy
from ..sandbox._tree import DEFAULT_OUTPUT_LIMIT

if TYPE_CHECKING:
    from ..receipts import Receipt

__all__ = ["ExecLimits", "Execute", "ExecResult", "ENGINES", "CancelHandle"]

#: The engines an execution can run on: the TEL interpreter or the RISC-V co-processor.
ENGINES = ("tel", "riscv")


@dataclass(frozen=True, slots=True)
class ExecLimits:
    """Limits of one execution.

    ``fuel`` (TEL cost units), ``memory`` (bytes: TEL allocation budget, or
    guest pages), ``depth`` (TEL call depth), ``cycles`` (co-processor
    cycles), ``timeout`` (seconds of Env time; ``None``: none), ``storage``
    (bytes an execution may write through ``KV.put``, key plus value),
    ``max_output_bytes`` (bytes of output the execution tree may produce:
    its effect journal -- which holds every ``Log.emit`` line -- and guest
    stdout, stderr and public output; past it an ``OutputLimitExceeded``).
    An ``Exec.call`` child gets at most what its parent has left: fuel,
    memory, storage, ``max_calls`` counts and output are shared by the tree.
    """

    fuel: int = 10_000_000
    memory: int = 64 << 20
    depth: int = 400
    cycles: int = 200_000_000
    timeout: float | None = None
    storage: int = 1 << 20
    max_output_bytes: int = DEFAULT_OUTPUT_LIMIT

    def __post_init__(self) -> None:
        for name in ("fuel", "memory", "depth", "cycles", "storage", "max_output_bytes"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"ExecLimits.{name}={v!r} must be an int >= 0")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"ExecLimits.timeout={self.timeout!r} must be > 0 or None")

    def amounts(self) -> dict[str, int]:
        """The amounts a cached result's recorded usage must fit (memo lookups)."""
        return {"fuel": self.fuel, "memory": self.memory, "cycles": self.cycles,
                "output": self.max_output_bytes}

    def profile(self) -> dict[str, Any]:
        """The semantic profile for memo keys: settings that change results, not only success."""
        return {"depth": self.depth}


class CancelHandle:
    """Cancels one execution from outside (the asker's side), before or while it runs."""

    __slots__ = ("_scope", "cancelled")

    def __init__(self) -> None:
        self._scope: anyio.CancelScope | None = None
        self.cancelled = False

    def attach(self, scope: anyio.CancelScope) -> None:
        """Called by the executor with the execution's cancel scope."""
        self._scope = scope
        if self.cancelled:
            scope.cancel()

    def cancel(self) -> None:
        """Cancel the execution (now, or as soon as it starts)."""
        self.cancelled = True
        if self._scope is not None:
            self._scope.cancel()


@dataclass(frozen=True, slots=True)
class Execute:
    """Ask the executor to run ``target`` (a name, digest or unique prefix) on ``args``.

    For ``engine="tel"`` ``args`` is the list of TEL argument values of the
    target's definition; for ``engine="riscv"`` it is one ``bytes`` value,
    the guest's input.  ``tenant`` scopes the KV effect.  ``handle``, when
    given, lets the asker cancel the execution if it stops waiting
    (cancelled or timed out), so an abandoned execution never holds its grant.
    ``kv``, when given, is the KV store this execution (and its nested ones)
    uses instead of the runtime's (the daemon's jobs buffer their writes).
    ``namespace``, when set, is prefixed to every ``Exec.call`` target of
    the execution tree (``NS.name``), so nested calls see only that
    namespace's names (the daemon's tenants).  ``prove`` asks for a
    receipt (``engine="riscv"`` only): the result comes back with
    ``receipt`` set, or the execution fails with
    :class:`stele.actors.receipts.NotProvable`.  ``grant``, when set, is the
    allocator grant a top-level execution's own grant is carved from (and
    waits under) instead of the root: the daemon's per-tenant grants.
    """

    target: str
    args: tuple[Any, ...] = ()
    limits: ExecLimits = ExecLimits()
    policy: Policy = DENY_ALL
    engine: str = "tel"
    tenant: str = "default"
    memo: bool = True
    handle: CancelHandle | None = field(default=None, compare=False)
    kv: KVStore | None = field(default=None, compare=False)
    namespace: str = ""
    prove: bool = False
    #: a durable execution's id: its effects are journaled in the store, and a
    #: later run with the same id replays them (``Runtime.resume``)
    durable: str | None = None
    grant: str | None = None


@dataclass(frozen=True, slots=True)
class ExecResult:
    """The outcome of one execution.

    ``value`` is the TEL result (for a guest: its exit code, with ``stdout``
    and ``public_output``).  ``usage`` covers this execution *and* its nested
    ones; ``cost`` is TEL fuel including children (``breakdown`` by kind,
    children under ``"exec"``).  ``journal_digest`` digests the effect
    journal; ``memo_hit`` says the result came from the memo cache.
    ``receipt`` is the execution's :class:`stele.actors.receipts.Receipt`
    when it was asked with ``prove=True`` (a memo hit returns the stored one).
    """

    target: str
    digest: Digest
    engine: str
    value: Any
    usage: Resources
    cost: int
    breakdown: dict[str, int]
    journal_digest: Digest
    effects: int
    memo_hit: bool = False
    exit_code: int | None = None
    stdout: bytes = b""
    public_output: bytes = b""
    logs: tuple[str, ...] = ()
    children: int = 0
    events: tuple[str, ...] = field(default=())
    receipt: Receipt | None = None
