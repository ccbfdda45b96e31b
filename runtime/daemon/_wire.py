"""Conversions between the embedded API's values and the daemon's wire messages.

Errors cross as :class:`Raised`: the class's ``module:QualName``, its
message, and its plain public attributes (ints, strings, bytes, bools,
``None``, floats, and tuples of those).  The client rebuilds an instance of
the *same class* -- only classes under ``stele.`` that derive from
:class:`stele.SteleError` (anything else becomes :class:`RemoteFailure`), so
a daemon can never make a client import or construct arbitrary objects.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._errors import SteleError
from ._errors import RemoteFailure
from ._messages import ExecOutcome, Raised, WireLimits

if TYPE_CHECKING:
    from ..actors.executor import ExecLimits, ExecResult

__all__ = ["limits_to_wire", "limits_from_wire", "outcome_of", "result_of", "raised_of",
           "exception_of", "args_to_wire", "args_from_wire"]


def limits_to_wire(limits: ExecLimits) -> WireLimits:
    """:class:`ExecLimits` as integers."""
    timeout = None if limits.timeout is None else max(1, int(limits.timeout * 1e9))
    return WireLimits(limits.fuel, limits.memory, limits.depth, limits.cycles, timeout,
                      limits.storage, limits.max_output_bytes)


def limits_from_wire(w: WireLimits) -> ExecLimits:
    """Inverse of :func:`limits_to_wire` (``ValueError`` for out-of-range values)."""
    from ..actors.executor import ExecLimits

    return ExecLimits(fuel=w.fuel, memory=w.memory, depth=w.depth, cycles=w.cycles,
                      timeout=None if w.timeout_ns is None else w.timeout_ns / 1e9,
                      storage=w.storage, max_output_bytes=w.max_output_bytes)


def args_to_wire(args: Sequence[Any] | bytes) -> list[Any]:
    """Execution arguments in CBOR form (a guest's input bytes as a one-element list)."""
    from ..actors.sandbox import value_to_cbor

    if isinstance(args, (bytes, bytearray)):
        return [bytes(args)]
    return [value_to_cbor(tuple(a) if isinstance(a, list) else a) for a in args]


def args_from_wire(obj: object) -> tuple[Any, ...]:
    """Inverse of :func:`args_to_wire`; ``ValueError`` if ``obj`` is not a list."""
    from ..actors.sandbox import value_from_cbor

    if not isinstance(obj, list):
        raise ValueError(f"execution args must be an array, got {type(obj).__name__}")
    return tuple(value_from_cbor(a) for a in obj)


def outcome_of(r: ExecResult, target: str | None = None) -> ExecOutcome:
    """An :class:`ExecResult` as a wire message (``target`` overrides the reported target)."""
    from ..actors.sandbox import value_to_cbor

    receipt = None if r.receipt is None else bytes(r.receipt.encode())
    return ExecOutcome(target if target is not None else r.target, r.digest, r.engine,
                       value_to_cbor(r.value), r.usage, r.cost, dict(r.breakdown),
                       r.journal_digest, r.effects, r.memo_hit, r.exit_code, r.stdout,
                       r.public_output, tuple(r.logs), r.children, tuple(r.events), receipt,
                       tuple(r.breakdown))


def result_of(o: ExecOutcome) -> ExecResult:
    """Inverse of :func:`outcome_of`: the same :class:`ExecResult` the embedded API returns.

    A receipt is decoded strictly (``MalformedReceipt`` for bad bytes); it is
    *not* verified here -- that needs the guest's ELF (``stele receipt verify``).
    """
    from ..actors.executor import ExecResult
    from ..actors.receipts import decode_receipt
    from ..actors.sandbox import value_from_cbor

    receipt = None if o.receipt is None else decode_receipt(o.receipt)
    breakdown = dict(o.breakdown)
    if sorted(o.breakdown_order) == sorted(breakdown):  # the run's order, where given
        breakdown = {k: breakdown[k] for k in o.breakdown_order}
    return ExecResult(o.target, o.digest, o.engine, value_from_cbor(o.value), o.usage, o.cost,
                      breakdown, o.journal_digest, o.effects, o.memo_hit, o.exit_code,
                      o.stdout, o.public_output, tuple(o.logs), o.children, tuple(o.events),
                      receipt)


def _plain(v: Any) -> Any:
    """``v`` in a CBOR-safe form, or raise ``TypeError`` (floats as ``{"float": repr}``)."""
    if v is None or isinstance(v, (bool, int, str, bytes)):
        return v
    if isinstance(v, float):
        return {"float": repr(v)}
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    raise TypeError(type(v).__name__)


def _unplain(v: Any) -> Any:
    if isinstance(v, dict) and set(v) == {"float"} and isinstance(v["float"], str):
        return float(v["float"])
    if isinstance(v, list):
        return tuple(_unplain(x) for x in v)
    return v


def raised_of(exc: BaseException) -> Raised:
    """A typed error as a wire message (plain public attributes carried along)."""
    cls = type(exc)
    fields: dict[str, object] = {}
    attrs = getattr(exc, "__dict__", {})
    for name in sorted(attrs):
        if name.startswith("_"):
            continue
        try:
            fields[name] = _plain(attrs[name])
        except (TypeError, OverflowError):
            continue
        if isinstance(fields[name], int) and not -(2**63) <= fields[name] < 2**64:  # type: ignore[operator]
            del fields[name]
    return Raised(f"{cls.__module__}:{cls.__qualname__}", str(exc), fields)


def exception_of(r: Raised) -> BaseException:
    """The exception a :class:`Raised` describes, as an instance of the same class if allowed."""
    module, _, qualname = r.type.partition(":")
    cls: Any = None
    if module == "stele" or module.startswith("stele."):
        try:
            obj: Any = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
            cls = obj
        except (ImportError, AttributeError):
            cls = None
    if not (isinstance(cls, type) and issubclass(cls, SteleError)):
        return RemoteFailure(r.type, r.message)
    exc: BaseException = cls.__new__(cls)
    BaseException.__init__(exc, r.message)
    for name, value in r.fields.items():
        try:
            setattr(exc, name, _unplain(value))
        except (AttributeError, TypeError):
            continue
    if type(exc).__str__ is not BaseException.__str__:
        try:
            str(exc)
        except Exception:  # a __str__ needing attributes that did not cross: fall back
            return RemoteFailure(r.type, r.message)
    return exc
