"""Typed errors of the executor."""

from __future__ import annotations

from ..._errors import SteleError

__all__ = ["ExecutorError", "ExecutionTimeout", "UnknownEngine", "BadArguments"]


class ExecutorError(SteleError):
    """Root of the executor's errors."""


class ExecutionTimeout(ExecutorError):
    """An execution ran past its wall-clock limit (Env time) and was cancelled."""

    def __init__(self, target: str, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        super().__init__(f"execution of {target!r} exceeded its time limit of {timeout}s "
                         f"(Env time) and was cancelled")


class UnknownEngine(ExecutorError):
    """An engine other than ``"tel"`` or ``"riscv"``."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        super().__init__(f"engine={engine!r} is not one of 'tel', 'riscv'")


class BadArguments(ExecutorError):
    """Arguments that do not suit the engine (e.g. non-bytes input for a guest)."""
