"""Fast path placeholder: delegates to the interpreter until the block compiler lands."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._machine import Machine

__all__ = ["Jit"]


class Jit:
    """Executes a machine without a witness (same contract as ``Machine.advance``)."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine

    def advance(self, n: int) -> int:
        """Up to ``n`` cycles, stopping at halt; returns cycles run."""
        return self.machine.advance(n)
