"""Proofs of co-processor executions (provable mode) and their public statement.

``prove(elf, input)`` runs an RV32 guest on the co-processor and proves the
run; ``verify(statement, proof, elf=...)`` checks it.  The proof binds the
:class:`Statement` (ELF digest, entry, memory layout, input digest, output,
exit code, padded cycle count) into the Fiat--Shamir transcript before any
challenge.  Provable mode covers RV32IM but for the system instructions:
``add sub addi slt sltu slti sltiu and or xor andi ori xori sll srl sra slli
srli srai lui auipc jal jalr beq bne blt bge bltu bgeu fence``, the M
extension ``mul mulh mulhsu mulhu div divu rem remu``, the loads and stores
``lb lbu lh lhu lw sb sh sw`` on the ELF's segments (RAM by offline memory
checking) and ``ecall`` as exit; anything else (CSRs, ``ebreak``, other
syscalls, traps, memory outside the segments) is refused with
:class:`Unprovable`.
``docs/zkvm.md`` says exactly what is proven.
"""

from __future__ import annotations

from ._errors import MalformedStatement as MalformedStatement
from ._errors import MalformedVmProof as MalformedVmProof
from ._errors import OutdatedVmProof as OutdatedVmProof
from ._errors import ProofRejected as ProofRejected
from ._errors import StatementMismatch as StatementMismatch
from ._errors import Unprovable as Unprovable
from ._errors import ZkvmError as ZkvmError
from ._prove import VmProof as VmProof
from ._prove import prove as prove
from ._prove import verify as verify
from ._statement import STATEMENT_VERSION as STATEMENT_VERSION
from ._statement import SegmentLayout as SegmentLayout
from ._statement import Statement as Statement
from ._statement import decode_statement as decode_statement
from ._statement import digest as digest
from ._statement import encode_statement as encode_statement
from ._statement import run_statement as run_statement
from ._statement import statement_for as statement_for
from ._bytecode import COVERED as COVERED
from ._wire import MAX_VM_PROOF_BYTES as MAX_VM_PROOF_BYTES
from ._wire import decode_proof as decode_proof
from ._wire import encode_proof as encode_proof

__all__ = ["ZkvmError", "MalformedStatement", "StatementMismatch", "Unprovable", "ProofRejected",
           "MalformedVmProof", "OutdatedVmProof", "STATEMENT_VERSION", "SegmentLayout", "Statement", "decode_statement", "digest",
           "encode_statement", "run_statement", "statement_for", "VmProof", "prove", "verify", "COVERED",
           "encode_proof", "decode_proof", "MAX_VM_PROOF_BYTES"]
