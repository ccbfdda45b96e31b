"""The prover's typed errors.

Every error the prover or a verifier raises on purpose derives from
:class:`ProverError`, itself a :class:`stele.SteleError`.  Verifiers never let
a malformed proof escape as anything else: a proof that cannot be parsed is a
:class:`MalformedProof` (it names the field, the value and the limit), and a
well-formed proof that does not check is a :class:`VerificationFailed` (it
names the check that failed).
"""

from __future__ import annotations

from stele import SteleError

__all__ = ["ProverError", "MalformedProof", "VerificationFailed", "InvalidParameters"]


class ProverError(SteleError):
    """Root of every error raised by ``stele.actors.prover``."""


class MalformedProof(ProverError):
    """A serialized proof or proof object has the wrong shape or encoding.

    ``field`` names the offending part of the proof (a dotted path such as
    ``"openings[3].path"``), ``detail`` says what was wrong with it.
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"malformed proof: {field}: {detail}")
        self.field = field
        self.detail = detail

    def __reduce__(self) -> tuple[type[MalformedProof], tuple[str, str]]:
        # Errors cross process boundaries (worker processes): pickle by fields.
        return (type(self), (self.field, self.detail))


class VerificationFailed(ProverError):
    """A well-formed proof did not verify.

    ``check`` names the failed check (for example ``"merkle path"`` or
    ``"evaluation"``), ``detail`` gives the position or values involved.
    """

    def __init__(self, check: str, detail: str = "") -> None:
        message = f"verification failed: {check}" + (f": {detail}" if detail else "")
        super().__init__(message)
        self.check = check
        self.detail = detail

    def __reduce__(self) -> tuple[type[VerificationFailed], tuple[str, str]]:
        return (type(self), (self.check, self.detail))


class InvalidParameters(ProverError):
    """Parameters out of range: names the parameter, its value and the limit."""

    def __init__(self, name: str, value: object, limit: str) -> None:
        super().__init__(f"invalid parameter {name}={value!r}: {limit}")
        self.name = name
        self.value = value
        self.limit = limit

    def __reduce__(self) -> tuple[type[InvalidParameters], tuple[str, object, str]]:
        return (type(self), (self.name, self.value, self.limit))
