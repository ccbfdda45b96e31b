"""The zkVM's typed errors, all under :class:`ZkvmError` (a :class:`stele.SteleError`)."""

from __future__ import annotations

from stele import SteleError

__all__ = ["ZkvmError", "MalformedStatement", "StatementMismatch", "Unprovable", "ProofRejected", "MalformedVmProof",
           "OutdatedVmProof"]


class ZkvmError(SteleError):
    """Root of every error raised by ``stele.actors.zkvm``."""


class MalformedStatement(ZkvmError):
    """An encoded statement has the wrong shape, a value out of range, or is not canonical.

    ``field`` names the offending part, ``detail`` says what was wrong.
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"malformed statement: {field}: {detail}")
        self.field = field
        self.detail = detail


class StatementMismatch(ZkvmError):
    """A statement differs from the one the verifier expects; ``field`` names the first difference."""

    def __init__(self, field: str) -> None:
        super().__init__(f"statement mismatch: {field}")
        self.field = field


class Unprovable(ZkvmError):
    """An execution uses something provable mode does not cover; ``what`` names it.

    Raised by the prover *before* any proof is made (an instruction outside
    the covered subset, a syscall other than exit, a trap, a text segment or
    a run too large), never by accepting a proof that would be unsound.
    """

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"not provable: {what}: {detail}")
        self.what = what
        self.detail = detail


class ProofRejected(ZkvmError):
    """A VM proof failed verification; ``claim`` names the claim that failed."""

    def __init__(self, claim: str, detail: str) -> None:
        super().__init__(f"proof rejected: {claim}: {detail}")
        self.claim = claim
        self.detail = detail


class MalformedVmProof(ZkvmError):
    """Encoded VM proof bytes have the wrong shape or are not canonical; ``field`` names the part."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"malformed vm proof: {field}: {detail}")
        self.field = field
        self.detail = detail


class OutdatedVmProof(MalformedVmProof):
    """VM proof bytes of an earlier proof format, made for an earlier constraint system.

    ``version`` is the proof's format (for example ``"stele.vm-proof/1"``),
    ``air`` the constraint system it was made for (``"stele.vm-air/2"``).  Such
    a proof is well formed for its time but cannot be checked against the
    current AIR; the run must be proven again.  ``field`` is ``"version"``.
    """

    def __init__(self, version: str, air: str, current: str, current_air: str) -> None:
        super().__init__("version", f"{version} proofs (constraint system {air}) are no longer accepted; this "
                         f"verifier checks {current} ({current_air}): prove the run again")
        self.version = version
        self.air = air
