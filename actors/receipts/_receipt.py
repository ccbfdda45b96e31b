"""A receipt: the statement of one execution plus the proof of it, as versioned, hardened CBOR.

A receipt is what a user of content-addressed execution keeps: anyone with
the receipt and the guest's ELF can check, without re-running anything, that
running that code on an input with that digest exits with that code and that
public output.  The encoding, ``stele.receipt/1``, is a canonical CBOR map
with exactly these keys::

    version    "stele.receipt/1"
    statement  bytes: the canonical stele.vm-statement/1 encoding
    cycles     int: the run's exact cycle count (its cost), as the prover reported it
    proof      bytes: the canonical stele.vm-proof/3 encoding (a /1 or /2 proof: OutdatedReceipt)

The decoder refuses anything larger than :data:`MAX_RECEIPT_BYTES`, any
non-canonical CBOR, any other key set, and a proof whose own statement is not
the receipt's: one receipt has exactly one encoding, so its digest
(:meth:`Receipt.digest`) names it in the store.

What the proof binds and what it does not: the statement (code digest,
entry and memory layout, input digest, public output, exit code) is bound
into the proof's transcript.  Of the cost, the proof binds ``log_cycles``
(the run's rows fit ``2**log_cycles``) and proves the exact ``cycles`` (the
proof's own cycle count, which the receipt's must equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stele.actors.zkvm import (MAX_VM_PROOF_BYTES, MalformedStatement, MalformedVmProof, OutdatedVmProof, Statement,
                               decode_proof, decode_statement, encode_statement)
from stele.actors.zkvm._statement import MAX_STATEMENT_BYTES
from stele.protocol import DEFAULT_ALGORITHM, DecodeError, Digest, decode, encode

from ._errors import MalformedReceipt, OutdatedReceipt

__all__ = ["RECEIPT_VERSION", "MAX_RECEIPT_BYTES", "Receipt", "encode_receipt", "decode_receipt",
           "padded_log_cycles"]

RECEIPT_VERSION = "stele.receipt/1"
MAX_RECEIPT_BYTES = MAX_VM_PROOF_BYTES + MAX_STATEMENT_BYTES + 1024
_KEYS = frozenset({"version", "statement", "cycles", "proof"})
#: the zkVM pads a run to at least 2^4 rows (see ``stele.actors.zkvm``)
_MIN_LOG_CYCLES = 4


def padded_log_cycles(cycles: int) -> int:
    """The ``log_cycles`` the zkVM pads a run of ``cycles`` cycles to (at least one padding row)."""
    return max(_MIN_LOG_CYCLES, cycles.bit_length())


@dataclass(frozen=True, slots=True)
class Receipt:
    """The statement of one guest execution and its proof (see the module docstring).

    ``proof`` is the canonical ``stele.vm-proof/3`` encoding; its own
    statement equals ``statement`` (the constructor checks it only through
    :func:`decode_receipt`; :func:`stele.actors.receipts.verify_receipt`
    checks everything).
    """

    statement: Statement
    cycles: int
    proof: bytes

    @property
    def code(self) -> Digest:
        """The guest's content digest (its ELF's BLAKE2b-256, as the store names it)."""
        return Digest(DEFAULT_ALGORITHM, self.statement.elf_digest)

    @property
    def input_digest(self) -> bytes:
        """The BLAKE2b-256 digest of the guest's input."""
        return self.statement.input_digest

    @property
    def output(self) -> bytes:
        """The public output the statement claims."""
        return self.statement.output

    @property
    def exit_code(self) -> int:
        """The exit code the statement claims (unsigned 32-bit)."""
        return self.statement.exit_code

    def encode(self) -> bytes:
        """The canonical ``stele.receipt/1`` bytes."""
        return encode_receipt(self)

    def digest(self) -> Digest:
        """The receipt's content digest (of its canonical bytes)."""
        return Digest.of(encode_receipt(self))

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``stele receipt show --json`` prints)."""
        st = self.statement
        return {"version": RECEIPT_VERSION, "receipt": str(self.digest()), "code": str(self.code),
                "input_digest": st.input_digest.hex(), "output": st.output.hex(),
                "exit_code": st.exit_code, "cycles": self.cycles, "log_cycles": st.log_cycles,
                "entry": st.entry, "segments": len(st.segments), "proof_bytes": len(self.proof)}


def encode_receipt(receipt: Receipt) -> bytes:
    """The canonical CBOR bytes of ``receipt``."""
    return encode({"version": RECEIPT_VERSION, "statement": encode_statement(receipt.statement),
                   "cycles": receipt.cycles, "proof": receipt.proof})


def decode_receipt(data: bytes) -> Receipt:
    """Parse :func:`encode_receipt`'s output strictly; :class:`MalformedReceipt` names what is wrong.

    The proof is decoded too (its shape, canonical form and field elements)
    and its statement must be the receipt's, so a well-formed receipt is
    internally consistent; whether the proof *verifies* is
    :func:`~stele.actors.receipts.verify_receipt`'s question.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedReceipt("data", f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_RECEIPT_BYTES:
        raise MalformedReceipt("data", f"{len(data)} bytes exceed the limit {MAX_RECEIPT_BYTES}")
    try:
        obj = decode(data, max_size=MAX_RECEIPT_BYTES)
    except DecodeError as exc:
        raise MalformedReceipt("cbor", str(exc)) from None
    if not isinstance(obj, dict) or set(obj) != _KEYS:
        got = sorted(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__
        raise MalformedReceipt("map", f"expected the keys {sorted(_KEYS)}, got {got}")
    if obj["version"] != RECEIPT_VERSION:
        raise MalformedReceipt("version", f"expected {RECEIPT_VERSION!r}, got {obj['version']!r}")
    for key in ("statement", "proof"):
        if type(obj[key]) is not bytes:
            raise MalformedReceipt(key, "must be a byte string")
    try:
        statement = decode_statement(obj["statement"])
    except MalformedStatement as exc:
        raise MalformedReceipt(f"statement.{exc.field}", exc.detail) from None
    cycles = obj["cycles"]
    if type(cycles) is not int or not 0 <= cycles < 1 << statement.log_cycles:
        raise MalformedReceipt("cycles", f"must be an integer in 0..2^{statement.log_cycles} - 1")
    try:
        proof = decode_proof(obj["proof"])
    except OutdatedVmProof as exc:
        raise OutdatedReceipt(exc.version, exc.air, exc.detail) from None
    except MalformedVmProof as exc:
        raise MalformedReceipt(f"proof.{exc.field}", exc.detail) from None
    if proof.statement != statement:
        raise MalformedReceipt("proof", "the proof is about another statement than the receipt's")
    receipt = Receipt(statement, cycles, obj["proof"])
    if encode_receipt(receipt) != data:  # pragma: no cover - the strict decoder already refuses this
        raise MalformedReceipt("bytes", "not the canonical encoding")
    return receipt
