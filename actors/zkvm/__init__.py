"""The zkVM's public statement: what a proof of a co-processor execution is about.

This package is the start of issue "Prove RV32IM executions".  What exists:
the public :class:`Statement` (ELF digest, entry, memory layout, input
digest, output bytes, exit code, padded cycle count), its canonical and
hardened CBOR encoding, and :meth:`Statement.absorb`, which binds a
Fiat--Shamir transcript to it before any challenge.  There is **no proof of a
VM execution yet**: no RV32IM constraints, no memory checking, no prove or
verify command.  See ``docs/zkvm.md``.
"""

from __future__ import annotations

from ._errors import MalformedStatement as MalformedStatement
from ._errors import StatementMismatch as StatementMismatch
from ._errors import ZkvmError as ZkvmError
from ._statement import STATEMENT_VERSION as STATEMENT_VERSION
from ._statement import SegmentLayout as SegmentLayout
from ._statement import Statement as Statement
from ._statement import decode_statement as decode_statement
from ._statement import digest as digest
from ._statement import encode_statement as encode_statement
from ._statement import run_statement as run_statement
from ._statement import statement_for as statement_for

__all__ = ["ZkvmError", "MalformedStatement", "StatementMismatch", "STATEMENT_VERSION", "SegmentLayout",
           "Statement", "decode_statement", "digest", "encode_statement", "run_statement", "statement_for"]
