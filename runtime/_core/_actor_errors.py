"""Typed errors of the actor kernel.

Every error names the actor (and, where it applies, the message type, the
limit or the cause) so that a failure in a tree of actors can be read without
a traceback.  All derive from :class:`KernelError`, itself a
:class:`stele.SteleError`.
"""

from __future__ import annotations

from .._errors import SteleError

__all__ = [
    "KernelError",
    "MailboxFull",
    "AskTimeout",
    "RemoteError",
    "RejectMessage",
    "ActorStopped",
    "ActorNotFound",
    "ActorNameTaken",
    "ActorStartError",
    "InjectedCrash",
    "SupervisorGaveUp",
]


def _type_name(cls: type) -> str:
    return cls.__qualname__


class KernelError(SteleError):
    """Root of the actor kernel's errors."""


class MailboxFull(KernelError):
    """``tell`` found the actor's bounded mailbox full (use ``send`` to wait)."""

    def __init__(self, actor: str, capacity: int) -> None:
        super().__init__(f"mailbox of actor {actor!r} is full (capacity={capacity})")
        self.actor = actor
        self.capacity = capacity


class AskTimeout(KernelError, TimeoutError):
    """An ``ask`` got no reply before its deadline."""

    def __init__(self, actor: str, message_type: type, timeout: float) -> None:
        super().__init__(
            f"ask of actor {actor!r} with {_type_name(message_type)} "
            f"got no reply within timeout={timeout}s"
        )
        self.actor = actor
        self.message_type = message_type
        self.timeout = timeout


class RemoteError(KernelError):
    """The actor raised while handling an asked message; ``cause`` is what it raised.

    The exception is boxed rather than re-raised as-is so that the caller can
    tell a failure of the remote actor from one of its own code.
    """

    def __init__(self, actor: str, message_type: type, cause: BaseException) -> None:
        super().__init__(
            f"actor {actor!r} failed handling {_type_name(message_type)}: "
            f"{type(cause).__name__}: {cause}"
        )
        self.actor = actor
        self.message_type = message_type
        self.cause = cause
        self.__cause__ = cause


class RejectMessage(KernelError):
    """Raise from ``receive`` to refuse one message without crashing.

    The actor keeps running with its state; an asker gets
    :class:`RemoteError` whose ``cause`` is ``cause``.  Use it for expected
    failures (bad input); any other exception is a crash that supervision
    handles.
    """

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"message rejected: {type(cause).__name__}: {cause}")
        self.cause = cause
        self.__cause__ = cause


class ActorStopped(KernelError):
    """The actor is stopped (or was stopped while a message to it was pending)."""

    def __init__(self, actor: str, detail: str = "is stopped") -> None:
        super().__init__(f"actor {actor!r} {detail}")
        self.actor = actor


class ActorNotFound(KernelError, LookupError):
    """No live actor has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no actor named {name!r}")
        self.name = name


class ActorNameTaken(KernelError):
    """An actor with this name already exists in the system."""

    def __init__(self, name: str) -> None:
        super().__init__(f"actor name {name!r} is already taken")
        self.name = name


class ActorStartError(KernelError):
    """Constructing the actor or its ``on_start`` raised; ``cause`` is what it raised."""

    def __init__(self, actor: str, cause: BaseException) -> None:
        super().__init__(
            f"actor {actor!r} failed to start: {type(cause).__name__}: {cause}"
        )
        self.actor = actor
        self.cause = cause
        self.__cause__ = cause


class InjectedCrash(KernelError):
    """A deliberate crash injected by a :class:`KernelObserver` (fault injection)."""

    def __init__(self, actor: str, message_type: type) -> None:
        super().__init__(
            f"injected crash in actor {actor!r} handling {_type_name(message_type)}"
        )
        self.actor = actor
        self.message_type = message_type


class SupervisorGaveUp(KernelError):
    """A supervisor exceeded its restart intensity and escalated.

    Raised out of ``async with ActorSystem(...)`` when the root supervisor gives
    up; ``cause`` is the child failure that went over the limit.
    """

    def __init__(
        self, supervisor: str, intensity: int, period: float, cause: BaseException
    ) -> None:
        super().__init__(
            f"supervisor {supervisor!r} gave up: more than intensity={intensity} "
            f"restarts within period={period}s; last failure: "
            f"{type(cause).__name__}: {cause}"
        )
        self.supervisor = supervisor
        self.intensity = intensity
        self.period = period
        self.cause = cause
        self.__cause__ = cause
