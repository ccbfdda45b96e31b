"""Kernel observer: the hooks through which a simulator watches and perturbs actors.

The kernel calls these synchronously, from the task of the actor concerned, in
the order the events happen, so that under a deterministic scheduler the
sequence of calls is itself deterministic and can be recorded in a trace.
"""

from __future__ import annotations

__all__ = ["KernelObserver"]


class KernelObserver:
    """No-op base: subclass and override the hooks you need.

    * ``on_deliver`` -- a user message is about to be handled by ``actor``.
    * ``should_crash`` -- return True to make ``actor`` fail with
      :class:`stele.InjectedCrash` instead of handling ``message`` (so
      supervision runs); called right after ``on_deliver``.
    * ``on_failure`` -- an incarnation of ``actor`` failed with ``exc``.
    * ``on_restart`` -- a supervisor is restarting ``actor``.
    * ``on_stop`` -- an incarnation of ``actor`` ended without failing.
    """

    def on_deliver(self, actor: str, message: object) -> None:
        """A user message is about to be handled by ``actor``."""

    def should_crash(self, actor: str, message: object) -> bool:
        """Whether ``actor`` should fail instead of handling ``message``."""
        return False

    def on_failure(self, actor: str, exc: BaseException) -> None:
        """An incarnation of ``actor`` failed with ``exc``."""

    def on_restart(self, actor: str) -> None:
        """A supervisor is restarting ``actor``."""

    def on_stop(self, actor: str) -> None:
        """An incarnation of ``actor`` ended without failing."""
