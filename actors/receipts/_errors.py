"""Typed errors of receipts, all under :class:`ReceiptError` (a :class:`stele.SteleError`)."""

from __future__ import annotations

from stele import SteleError

__all__ = ["ReceiptError", "MalformedReceipt", "OutdatedReceipt", "ReceiptRejected", "NotProvable"]


class ReceiptError(SteleError):
    """Root of every error raised by ``stele.actors.receipts``."""


class MalformedReceipt(ReceiptError):
    """Receipt bytes have the wrong shape, a value out of range, or are not canonical.

    ``field`` names the offending part and ``detail`` says what was wrong.
    Nothing about a malformed receipt is trusted, not even its statement.
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"malformed receipt: {field}: {detail}")
        self.field = field
        self.detail = detail


class OutdatedReceipt(MalformedReceipt):
    """A receipt whose proof was made for an earlier zkVM constraint system (``field`` = ``"proof.version"``).

    ``version`` and ``air`` name the proof's format and constraint system
    (for example ``"stele.vm-proof/1"``, ``"stele.vm-air/2"``).  The receipt
    cannot be checked by this verifier; prove the execution again.
    """

    def __init__(self, version: str, air: str, detail: str) -> None:
        super().__init__("proof.version", detail)
        self.version = version
        self.air = air


class ReceiptRejected(ReceiptError):
    """A well-formed receipt failed verification; ``claim`` names the claim that failed.

    ``claim`` is the zkVM's failed claim (``"opening"``, ``"register memory
    check"``, ...) or one of the receipt's own: ``"code"`` (not the ELF's
    digest), ``"input"``, ``"output"``, ``"exit_code"``, ``"cycles"``.
    """

    def __init__(self, claim: str, detail: str) -> None:
        super().__init__(f"receipt rejected: {claim}: {detail}")
        self.claim = claim
        self.detail = detail


class NotProvable(ReceiptError):
    """``prove=True`` was asked of an execution no receipt can be made for; ``what`` names why.

    Raised before the execution's result is returned (never a result
    without the receipt that was asked for): a TEL target, an execution that
    performed effects, or a guest outside the zkVM's provable subset (the
    zkVM's own reason is in ``detail``).
    """

    def __init__(self, target: str, what: str, detail: str) -> None:
        super().__init__(f"cannot prove {target!r}: {what}: {detail}")
        self.target = target
        self.what = what
        self.detail = detail
