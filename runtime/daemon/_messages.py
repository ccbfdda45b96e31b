"""The daemon's wire messages (protocol tags 600-659), carried in Request/Reply envelopes.

Every request body names one operation; its reply body is the matching
answer, or :class:`Raised` when the operation failed with a typed error
(the client re-raises it as the same class).  Protocol-level trouble (a
request the daemon does not understand) is an ``ErrorReply``.

The messages are versioned as a whole: :data:`DAEMON_PROTOCOL` is sent in
:class:`Hello` and answered in :class:`Welcome`, and a daemon refuses a
client that speaks another version with a typed
:class:`~stele.daemon.ProtocolVersionError` before anything else is read.
Version 2 added ``prove`` and ``durable`` to :class:`ExecuteRequest`,
``receipt`` to :class:`ExecOutcome`, ``with_kind`` to :class:`ResolveRequest`
``kind`` to :class:`DigestReply` and ``grant_slots`` to :class:`TenantUsage`.
Version 3 added the repository requests of :mod:`stele.daemon._repo_messages`
(tags 640-659: show, names, history, dependents, rename, delete, fetch,
resume), ``order`` to :class:`StoredNamesReply` and ``breakdown_order`` to
:class:`ExecOutcome`.

Limits travel as :class:`WireLimits` (integers only: canonical CBOR has no
floats), policies as their canonical CBOR form
(:meth:`stele.actors.sandbox.Policy.to_cbor_obj`), TEL values in the
sandbox's lossless CBOR form (:func:`stele.actors.sandbox.value_to_cbor`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..actors.allocator import Resources
from ..protocol import Digest, Message, message

__all__ = [
    "DAEMON_PROTOCOL", "Hello", "Welcome", "Raised", "StoreSourceRequest", "StoredNamesReply", "StoreBlobRequest",
    "DigestReply", "ResolveRequest", "WireLimits", "ExecuteRequest", "ExecOutcome",
    "StatsRequest", "StatsReply", "SubmitRequest", "JobAccepted", "JobStatusRequest", "JobInfo",
    "WaitRequest", "JobOutcome", "CancelRequest", "ServerStatusRequest", "ServerStatus",
    "TenantUsage", "JOB_STATES", "TERMINAL_STATES",
]

#: The version of this set of messages (see the module docstring).
DAEMON_PROTOCOL = 3

#: Every state a job can be in, in lifecycle order.
JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
#: States a job never leaves.
TERMINAL_STATES = ("succeeded", "failed", "cancelled")


@message(600)
@dataclass(frozen=True, slots=True)
class Hello(Message):
    """The first request on every connection: authenticate with the tenant's ``token``.

    ``protocol`` is the version of the daemon messages the client speaks
    (:data:`DAEMON_PROTOCOL`); another version is refused.
    """

    token: str
    client: str = ""
    protocol: int = DAEMON_PROTOCOL


@message(601)
@dataclass(frozen=True, slots=True)
class Welcome(Message):
    """Authenticated: the connection acts as ``tenant``, spoken in version ``protocol``."""

    tenant: str
    server: str
    admin: bool = False
    protocol: int = DAEMON_PROTOCOL


@message(602)
@dataclass(frozen=True, slots=True)
class Raised(Message):
    """A typed error: ``type`` is ``module:QualName``, ``fields`` its plain public attributes."""

    type: str
    message: str
    fields: dict[str, object]


@message(603)
@dataclass(frozen=True, slots=True)
class StoreSourceRequest(Message):
    """Store TEL ``source`` in the tenant's names."""

    source: str
    filename: str = "<input>"
    namespace: str = ""


@message(604)
@dataclass(frozen=True, slots=True)
class StoredNamesReply(Message):
    """Bound name (as the tenant sees it) -> digest; ``order`` lists the names in the order
    the source defines them (a CBOR map's keys are sorted: ``stele store`` prints this order)."""

    names: dict[str, Digest]
    order: tuple[str, ...] = ()


@message(605)
@dataclass(frozen=True, slots=True)
class StoreBlobRequest(Message):
    """Store a RISC-V guest ELF, optionally naming it."""

    data: bytes
    name: str | None = None


@message(606)
@dataclass(frozen=True, slots=True)
class DigestReply(Message):
    """A digest (of a stored blob, or a resolved target) and, answering
    :class:`ResolveRequest` ``with_kind``, the stored object's kind
    (``riscv.elf``, a TEL definition's kind...; empty otherwise)."""

    digest: Digest
    kind: str = ""


@message(607)
@dataclass(frozen=True, slots=True)
class ResolveRequest(Message):
    """Resolve a name, digest or unique prefix (among the tenant's own objects);
    ``with_kind`` asks for the object's kind too (one more store read)."""

    target: str
    with_kind: bool = False


@message(608)
@dataclass(frozen=True, slots=True)
class WireLimits(Message):
    """:class:`stele.actors.executor.ExecLimits` with ``timeout`` as integer nanoseconds."""

    fuel: int
    memory: int
    depth: int
    cycles: int
    timeout_ns: int | None
    storage: int
    max_output_bytes: int


@message(609)
@dataclass(frozen=True, slots=True)
class ExecuteRequest(Message):
    """Run stored code now and answer its result (``execute``).

    ``prove`` (a guest only) answers the run's receipt in
    :attr:`ExecOutcome.receipt`; ``durable`` makes it the tenant's durable
    execution with that id (1 to 256 characters): asked again with the same
    id, the daemon replays its journal (or answers its stored result)
    instead of performing its effects again.
    """

    target: str
    args: object
    limits: WireLimits
    policy: object
    engine: str = "tel"
    memo: bool = True
    prove: bool = False
    durable: str | None = None


@message(610)
@dataclass(frozen=True, slots=True)
class ExecOutcome(Message):
    """:class:`stele.actors.executor.ExecResult` on the wire (``value`` in CBOR form).

    ``receipt`` is the encoded :class:`stele.actors.receipts.Receipt`
    (``stele.receipt/1`` bytes, as ``stele receipt verify`` reads them) of a
    proven run, else ``None``.  ``breakdown_order`` is the order of the
    ``breakdown`` keys as the run counted them (a CBOR map's keys are sorted;
    ``stele run`` prints ties in this order).
    """

    target: str
    digest: Digest
    engine: str
    value: object
    usage: Resources
    cost: int
    breakdown: dict[str, int]
    journal_digest: Digest
    effects: int
    memo_hit: bool
    exit_code: int | None
    stdout: bytes
    public_output: bytes
    logs: tuple[str, ...]
    children: int
    events: tuple[str, ...]
    receipt: bytes | None = None
    breakdown_order: tuple[str, ...] = ()


@message(611)
@dataclass(frozen=True, slots=True)
class StatsRequest(Message):
    """The runtime's counters (``stats``)."""


@message(612)
@dataclass(frozen=True, slots=True)
class StatsReply(Message):
    """Executor, memo-cache and allocator counters as plain maps."""

    executor: dict[str, int]
    cache: dict[str, int]
    allocator_capacity: Resources
    allocator_available: Resources
    live_grants: int
    waiting: int


@message(613)
@dataclass(frozen=True, slots=True)
class SubmitRequest(Message):
    """Queue an execution as a durable job; answered once the job is in the store."""

    target: str
    args: object
    limits: WireLimits
    policy: object
    engine: str = "tel"
    memo: bool = True
    idempotency_key: str | None = None


@message(614)
@dataclass(frozen=True, slots=True)
class JobAccepted(Message):
    """The job is durable; ``created`` is false when an idempotency key matched an earlier submit."""

    job_id: str
    created: bool


@message(615)
@dataclass(frozen=True, slots=True)
class JobStatusRequest(Message):
    """The state of one job."""

    job_id: str


@message(616)
@dataclass(frozen=True, slots=True)
class JobInfo(Message):
    """A job's state (one of :data:`JOB_STATES`), target and run count."""

    job_id: str
    state: str
    target: str
    attempts: int
    idempotency_key: str | None
    error_type: str | None = None
    error_message: str | None = None


@message(617)
@dataclass(frozen=True, slots=True)
class WaitRequest(Message):
    """Wait until the job is terminal (or ``timeout_ns`` passes); answer :class:`JobOutcome`."""

    job_id: str
    timeout_ns: int | None = None


@message(618)
@dataclass(frozen=True, slots=True)
class JobOutcome(Message):
    """A job's info and, once terminal, its result or its typed error."""

    info: JobInfo
    result: ExecOutcome | None
    error: Raised | None


@message(619)
@dataclass(frozen=True, slots=True)
class CancelRequest(Message):
    """Cancel a queued or running job (a terminal job is left as it is)."""

    job_id: str


@message(620)
@dataclass(frozen=True, slots=True)
class ServerStatusRequest(Message):
    """The daemon's status (``stele status``)."""


@message(621)
@dataclass(frozen=True, slots=True)
class TenantUsage(Message):
    """One tenant's counters since the daemon started, its durable job counts, and the
    slots of its grant of the root allocator now (``grant_slots``; 0 while idle)."""

    requests: int
    executions: int
    running: int
    queued: int
    succeeded: int
    failed: int
    fuel: int
    connections: int
    grant_slots: int = 0


@message(622)
@dataclass(frozen=True, slots=True)
class ServerStatus(Message):
    """What ``stele status`` prints (JSON keys are these field names)."""

    version: str
    uptime_ns: int
    addresses: tuple[str, ...]
    connections: int
    queue_depth: int
    running: int
    queued: int
    succeeded: int
    failed: int
    tenants: dict[str, TenantUsage]
    store_bytes: int
    store: str
