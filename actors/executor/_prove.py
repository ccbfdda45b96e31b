"""Receipts for executions asked with ``prove=True``: prove after the run, store, and serve from the memo.

The guest first runs as any execution does (metered, under its grant and its
timeout); then the prover actor proves the same run in provable mode and the
receipt's statement is checked against what the execution returned (exit
code, public output, input digest and exact cycles), so a receipt never
disagrees with its result.  The receipt is stored in the repository as a
``stele.receipt`` blob, content-addressed, and its digest rides in the memo
entry of the proven execution, so a memo hit returns the stored receipt.

A TEL target run with ``engine="riscv"`` is proven as its compiled guest:
the receipt is about the compiled ELF (``stele compile NAME -o F.elf``, the
``tel-rv32.elf`` blob the executor stores) run on the canonical CBOR guest
input ``[fuel, memory, depth, [args...]]`` (``stele.tel.compiler.guest_input``),
and its public output is the guest's encoded outcome.

What cannot be proven fails with :class:`stele.actors.receipts.NotProvable`
before a result is returned: a target on the ``tel`` engine (run it with
``engine="riscv"``), a guest that performed effects (provable mode has no
effects), and a guest outside the zkVM's covered subset.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ...protocol import Digest, decode

if TYPE_CHECKING:
    from ..receipts import Receipt
    from ._types import Execute, ExecResult

__all__ = ["check_provable", "prove_guest", "stored_receipt", "receipt_field", "PROVEN_ENGINE_SUFFIX"]

#: appended to the engine in a proven execution's memo key (its entry carries a receipt)
PROVEN_ENGINE_SUFFIX = "+prove"


def check_provable(request: Execute) -> None:
    """Refuse ``prove=True`` on anything but the ``riscv`` engine, before any work is done."""
    if request.prove and request.engine != "riscv":
        from ..receipts import NotProvable
        raise NotProvable(request.target, "engine",
                          f"only runs on the co-processor (engine='riscv': guests, and TEL compiled to a guest) "
                          f"can be proven, not engine={request.engine!r}")


async def prove_guest(executor: Any, request: Execute, image: bytes, input_bytes: bytes,
                      result: ExecResult, max_cycles: int) -> ExecResult:
    """Prove the run of ``image`` on ``input_bytes`` that produced ``result``; the result with its stored receipt.

    For a guest blob ``image`` is the blob and the input the execution's
    argument; for a TEL target, the compiled ELF and its
    guest input.
    """
    from ..prover import ExecutionProven, ProveExecution
    from ..receipts import RECEIPT_KIND, NotProvable, decode_receipt
    from ..repository._messages import PutBlob
    from ..zkvm import digest as zk_digest

    if result.effects:
        raise NotProvable(request.target, "effects",
                          f"the run performed {result.effects} effect(s); provable mode proves runs "
                          "without effects (its syscalls are read, write, brk and exit)")
    prover = executor.system.lookup("prover")
    reply = await prover.ask_unboxed(
        ProveExecution(image, input_bytes, max_cycles, request.target), math.inf)
    assert isinstance(reply, ExecutionProven)
    receipt = decode_receipt(reply.receipt)
    st = receipt.statement
    mismatch = [name for name, ok in (
        ("exit_code", st.exit_code == (int(result.exit_code or 0) & 0xFFFFFFFF)),
        ("output", st.output == result.public_output),
        ("input", st.input_digest == zk_digest(input_bytes)),
        ("cycles", receipt.cycles == result.usage.cycles),
        ("code", receipt.code == Digest.of(image))) if not ok]
    if mismatch:  # the provable run is not the run that was metered: never hand out such a receipt
        raise NotProvable(request.target, "mismatch",
                          f"the proven run differs from the executed run in {', '.join(mismatch)}")
    await executor._ask_repo(PutBlob(reply.receipt, kind=RECEIPT_KIND))
    return replace(result, receipt=receipt)


def receipt_field(result: ExecResult) -> list[bytes]:
    """The extra memo-entry field of a proven result: its receipt's digest (binary form)."""
    return [] if result.receipt is None else [result.receipt.digest().binary]


async def stored_receipt(executor: Any, hit_value: bytes) -> Receipt | None:
    """The stored receipt a memo entry names, or ``None`` (not proven, or the blob is gone)."""
    from ...store import ObjectNotFound, UnknownTarget
    from ..receipts import RECEIPT_KIND, ReceiptError, decode_receipt
    from ..repository._messages import GetObject, ObjectRecord

    fields = decode(hit_value)
    if not isinstance(fields, list) or len(fields) not in (6, 7) or not isinstance(fields[5], bytes):
        return None
    try:
        record = await executor._ask_repo(GetObject(str(Digest.from_binary(fields[5]))))
    except (ObjectNotFound, UnknownTarget):
        return None
    if not isinstance(record, ObjectRecord) or record.kind != RECEIPT_KIND:
        return None
    try:
        return decode_receipt(record.payload)
    except ReceiptError:  # a damaged receipt is not served: the execution is proven again
        return None
