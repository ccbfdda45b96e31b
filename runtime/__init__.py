"""Stele: a content-addressed, provable, deterministically simulated runtime.

The public surface is re-exported here; implementation lives in private
``_name`` modules.
"""

from __future__ import annotations

from ._errors import SteleError as SteleError
from ._core._actor import Actor as Actor
from ._core._actor import ActorRef as ActorRef
from ._core._actor import ActorStats as ActorStats
from ._core._actor import Reply as Reply
from ._core._actor_errors import ActorNameTaken as ActorNameTaken
from ._core._actor_errors import ActorNotFound as ActorNotFound
from ._core._actor_errors import ActorStartError as ActorStartError
from ._core._actor_errors import ActorStopped as ActorStopped
from ._core._actor_errors import AskTimeout as AskTimeout
from ._core._actor_errors import InjectedCrash as InjectedCrash
from ._core._actor_errors import KernelError as KernelError
from ._core._actor_errors import MailboxFull as MailboxFull
from ._core._actor_errors import RejectMessage as RejectMessage
from ._core._actor_errors import RemoteError as RemoteError
from ._core._actor_errors import SupervisorGaveUp as SupervisorGaveUp
from ._core._observer import KernelObserver as KernelObserver
from ._core._supervise import ChildSpec as ChildSpec
from ._core._supervise import Restart as Restart
from ._core._supervise import Strategy as Strategy
from ._core._supervise import Supervisor as Supervisor
from ._core._system import ActorSystem as ActorSystem
from ._core._env import Disk as Disk
from ._core._env import Env as Env
from ._core._env import EnvRandom as EnvRandom
from ._core._env import seconds_to_ns as seconds_to_ns
from ._core._realenv import RealEnv as RealEnv

__version__ = "0.1.0"

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._runtime import Runtime as Runtime
    from ._runtime import RuntimeStats as RuntimeStats
    from ._runtime import open_runtime as open_runtime
    from ._profiler._live import RuntimeTrace as RuntimeTrace
    from .daemon import RemoteRuntime as RemoteRuntime
    from .daemon import connect as connect


def __getattr__(name: str) -> object:
    # The embedding API imports every service; load it on first use, not with `import stele`.
    if name in ("open_runtime", "Runtime", "RuntimeStats"):
        from . import _runtime
        return getattr(_runtime, name)
    if name == "RuntimeTrace":
        from ._profiler import _live
        return _live.RuntimeTrace
    if name in ("connect", "RemoteRuntime"):
        from . import daemon
        return getattr(daemon, name)
    raise AttributeError(f"module 'stele' has no attribute {name!r}")
