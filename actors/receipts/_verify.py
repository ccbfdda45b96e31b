"""Making and checking receipts, with no runtime: only the receipt, the ELF and optionally the input.

:func:`prove_receipt` runs a guest in the zkVM's provable mode and wraps the
statement and proof in a :class:`~._receipt.Receipt`; :func:`verify_receipt`
checks a receipt against the ELF it claims to be about, and against whatever
the caller also expects (input, public output, exit code), naming the first
claim that fails.  Both are plain functions (picklable arguments), so the
prover actor can run them in a worker process.
"""

from __future__ import annotations

from stele.actors.zkvm import (MalformedVmProof, OutdatedVmProof, ProofRejected, Unprovable, decode_proof, digest,
                               encode_proof, verify)
from stele.protocol import Digest

from ._errors import MalformedReceipt, NotProvable, OutdatedReceipt, ReceiptRejected
from ._receipt import Receipt, decode_receipt, padded_log_cycles

__all__ = ["prove_receipt", "verify_receipt"]


def prove_receipt(elf: bytes, input_bytes: bytes = b"", *, max_cycles: int | None = None,
                  target: str = "guest") -> Receipt:
    """Run ``elf`` on ``input_bytes`` in provable mode and return the receipt of the run.

    Raises :class:`NotProvable` (naming the zkVM's reason) for a run outside
    provable mode's subset, and the co-processor's typed errors for a bad ELF.
    """
    from stele.actors.zkvm._prove import prove_run
    from stele.actors.zkvm._trace import DEFAULT_MAX_CYCLES

    try:
        statement, proof, cycles = prove_run(elf, input_bytes,
                                             max_cycles=DEFAULT_MAX_CYCLES if max_cycles is None
                                             else min(max_cycles, DEFAULT_MAX_CYCLES))
    except Unprovable as exc:
        raise NotProvable(target, exc.what, exc.detail) from None
    return Receipt(statement, cycles, encode_proof(proof))


def verify_receipt(receipt: Receipt | bytes, *, elf: bytes, input_bytes: bytes | None = None,
                   output: bytes | None = None, exit_code: int | None = None) -> Receipt:
    """Accept ``receipt`` as a proof about ``elf``, or raise :class:`ReceiptRejected`.

    ``receipt`` may be the encoded bytes (then :class:`MalformedReceipt` for
    bad bytes).  The input is the proven run's initial input region, so a
    receipt of a non-empty input needs ``input_bytes`` (else it is rejected,
    claim ``input``).  With ``output`` / ``exit_code`` the statement must also
    claim that output and exit code.  Returns the (decoded) receipt.
    """
    if not isinstance(receipt, Receipt):
        receipt = decode_receipt(receipt)
    st = receipt.statement
    if Digest.of(elf) != receipt.code:
        raise ReceiptRejected("code", f"the ELF's digest {Digest.of(elf).short()} is not the receipt's "
                              f"{receipt.code.short()}")
    if input_bytes is not None and digest(input_bytes) != st.input_digest:
        raise ReceiptRejected("input", "the input's digest is not the receipt's")
    if output is not None and output != st.output:
        raise ReceiptRejected("output", "the public output is not the receipt's")
    if exit_code is not None and (exit_code & 0xFFFFFFFF) != st.exit_code:
        raise ReceiptRejected("exit_code", f"expected {exit_code}, the receipt claims {st.exit_code}")
    if padded_log_cycles(receipt.cycles) > st.log_cycles:
        raise ReceiptRejected("cycles", f"{receipt.cycles} cycles need 2^{padded_log_cycles(receipt.cycles)}"
                              f" rows, the proof is of 2^{st.log_cycles}")
    try:  # a Receipt built in memory (not decoded) may carry bad proof bytes
        proof = decode_proof(receipt.proof)
    except OutdatedVmProof as exc:
        raise OutdatedReceipt(exc.version, exc.air, exc.detail) from None
    except MalformedVmProof as exc:
        raise MalformedReceipt(f"proof.{exc.field}", exc.detail) from None
    if input_bytes is None and st.input_digest != digest(b""):
        raise ReceiptRejected("input", "the receipt's input is not empty: pass its bytes (the proven run's "
                              "initial memory holds the input)")
    if proof.cycles != receipt.cycles:
        raise ReceiptRejected("cycles", f"the receipt claims {receipt.cycles} cycles, its proof proves "
                              f"{proof.cycles}")
    try:
        verify(st, proof, elf=elf, input_bytes=input_bytes)
    except ProofRejected as exc:
        raise ReceiptRejected(exc.claim, exc.detail) from None
    return receipt
