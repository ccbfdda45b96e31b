"""Receipts: an execution's statement plus its proof, checkable without re-running anything.

``rt.execute(target, input, engine="riscv", prove=True)`` returns an
:class:`~stele.actors.executor.ExecResult` whose ``receipt`` is a
:class:`Receipt`; the receipt is stored content-addressed next to the result
(kind ``stele.receipt``) and a memo hit of a proven execution returns it.
Anyone holding the receipt and the ELF checks it with :func:`verify_receipt`
or ``stele receipt verify``.  ``docs/receipts.md`` says what a receipt proves
and what is not built yet (segmented proofs of long runs, batch verification).
"""

from __future__ import annotations

from ._errors import MalformedReceipt as MalformedReceipt
from ._errors import NotProvable as NotProvable
from ._errors import OutdatedReceipt as OutdatedReceipt
from ._errors import ReceiptError as ReceiptError
from ._errors import ReceiptRejected as ReceiptRejected
from ._receipt import MAX_RECEIPT_BYTES as MAX_RECEIPT_BYTES
from ._receipt import RECEIPT_VERSION as RECEIPT_VERSION
from ._receipt import Receipt as Receipt
from ._receipt import decode_receipt as decode_receipt
from ._receipt import encode_receipt as encode_receipt
from ._verify import prove_receipt as prove_receipt
from ._verify import verify_receipt as verify_receipt

#: the store kind receipts are kept under
RECEIPT_KIND = "stele.receipt"

__all__ = ["ReceiptError", "MalformedReceipt", "OutdatedReceipt", "ReceiptRejected", "NotProvable", "RECEIPT_VERSION",
           "MAX_RECEIPT_BYTES", "RECEIPT_KIND", "Receipt", "encode_receipt", "decode_receipt", "prove_receipt",
           "verify_receipt"]
