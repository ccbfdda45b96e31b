"""Typed errors of the executor."""

from __future__ import annotations

from ..._errors import SteleError

__all__ = ["ExecutorError", "ExecutionTimeout", "UnknownEngine", "BadArguments", "WorkerCrashed",
           "InternalTimeout"]


class ExecutorError(SteleError):
    """Root of the executor's errors."""


class ExecutionTimeout(ExecutorError):
    """An execution ran past its wall-clock limit (Env time) and was cancelled."""

    def __init__(self, target: str, timeout: float, fuel_spent: int | None = None) -> None:
        self.target = target
        self.timeout = timeout
        #: TEL fuel this execution had spent when it was stopped (its own runs, this level)
        self.fuel_spent = fuel_spent
        super().__init__(f"execution of {target!r} exceeded its time limit of {timeout}s "
                         f"(Env time) and was cancelled")


class WorkerCrashed(ExecutorError):
    """The worker process running an execution died (crash, signal, out of memory).

    The runtime is unaffected: the pool starts a fresh worker for the next run.
    """

    def __init__(self, target: str, detail: str) -> None:
        self.target = target
        self.detail = detail
        super().__init__(f"the worker process running {target!r} died: {detail}")


class InternalTimeout(ExecutorError):
    """A service the executor relies on did not answer in time (not the execution's limit)."""


class UnknownEngine(ExecutorError):
    """An engine other than ``"tel"`` or ``"riscv"``."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        super().__init__(f"engine={engine!r} is not one of 'tel', 'riscv'")


class BadArguments(ExecutorError):
    """Arguments that do not suit the engine (e.g. non-bytes input for a guest)."""
