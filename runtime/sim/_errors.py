"""Errors of the simulator."""

from __future__ import annotations

from .._errors import SteleError

__all__ = ["SimError", "SimDeadlock", "InvariantViolation", "SimUnsupported"]


class SimError(SteleError):
    """Root of the simulator's errors."""


class SimUnsupported(SimError):
    """The operation has no simulated counterpart (e.g. a real socket)."""


class SimDeadlock(SimError):
    """Every task was blocked with no timer and no event pending."""


class InvariantViolation(SimError):
    """A checker found the system in a state its invariant forbids.

    ``checker`` names the invariant, ``detail`` says what was seen.
    """

    def __init__(self, checker: str, detail: str) -> None:
        super().__init__(f"invariant {checker!r} violated: {detail}")
        self.checker = checker
        self.detail = detail
