"""The zkVM's typed errors, all under :class:`ZkvmError` (a :class:`stele.SteleError`)."""

from __future__ import annotations

from stele import SteleError

__all__ = ["ZkvmError", "MalformedStatement", "StatementMismatch"]


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
