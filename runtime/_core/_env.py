"""The environment: the runtime's only door to nondeterminism.

Everything that can differ between two runs -- the clock and timers,
randomness, network streams, disk files, worker processes and blocking
threads -- is reached through an :class:`Env`.  :class:`stele.RealEnv` uses
the operating system; :class:`stele.sim.SimEnv` is virtual and driven by one
seed, so that a whole run of the runtime can be replayed exactly.

No module outside the Env implementations may call ``time.time``,
``time.monotonic``, ``random``, ``os.urandom``, ``uuid``, ``socket`` or
``threading`` directly; ``tests/test_env_discipline.py`` enforces this.

Conventions
-----------
* Time is integer nanoseconds (``now_ns``, ``wall_ns``) so that decisions
  never depend on float rounding; durations passed *in* may be float seconds
  for convenience and are converted once, with :func:`seconds_to_ns`.
* Probabilities are exact ratios: ``rng.chance(num, den)``.
* Everything async is written against anyio, so an Env works under trio and
  asyncio (``SimEnv`` is trio-only: it owns the trio clock).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import anyio
import anyio.abc

__all__ = [
    "Env",
    "EnvRandom",
    "Disk",
    "seconds_to_ns",
    "NS_PER_SECOND",
]

T = TypeVar("T")

NS_PER_SECOND = 1_000_000_000


def seconds_to_ns(seconds: float) -> int:
    """Convert a duration in seconds to integer nanoseconds (round half even)."""
    if seconds != seconds:  # NaN
        raise ValueError("duration is NaN")
    return round(seconds * NS_PER_SECOND)


class EnvRandom(Protocol):
    """A seeded source of choices.  Every random decision goes through one."""

    def randbits(self, k: int) -> int:
        """A uniform integer in ``[0, 2**k)``."""

    def randbelow(self, n: int) -> int:
        """A uniform integer in ``[0, n)``; ``n`` must be positive."""

    def randrange(self, start: int, stop: int) -> int:
        """A uniform integer in ``[start, stop)``."""

    def chance(self, numerator: int, denominator: int) -> bool:
        """True with probability exactly ``numerator / denominator``."""

    def choice(self, seq: Sequence[T]) -> T:
        """A uniform element of a non-empty sequence."""

    def shuffle(self, items: list[Any]) -> None:
        """Shuffle ``items`` in place (Fisher-Yates over ``randbelow``)."""

    def bytes(self, n: int) -> bytes:
        """``n`` uniform bytes."""

    def fork(self, label: str) -> EnvRandom:
        """An independent stream derived from this one and ``label``.

        Forking lets a component own its randomness without perturbing the
        draws of others, so adding a component does not change every trace.
        """


class Disk(abc.ABC):
    """Byte files under a root, with explicit durability.

    Paths are relative, ``/``-separated.  A write is durable only after
    :meth:`fsync`; the simulated disk may lose, tear or corrupt writes that
    were not synced when a crash is injected, and may fail any operation
    with :class:`OSError`.
    """

    @abc.abstractmethod
    async def read(self, path: str) -> bytes:
        """The whole file; :class:`FileNotFoundError` if missing."""

    @abc.abstractmethod
    async def write(self, path: str, data: bytes) -> None:
        """Replace the file's contents (not yet durable)."""

    @abc.abstractmethod
    async def append(self, path: str, data: bytes) -> None:
        """Append to the file, creating it (not yet durable)."""

    @abc.abstractmethod
    async def fsync(self, path: str) -> None:
        """Make the file's current contents durable."""

    @abc.abstractmethod
    async def rename(self, src: str, dst: str) -> None:
        """Atomically replace ``dst`` with ``src``."""

    @abc.abstractmethod
    async def remove(self, path: str) -> None:
        """Delete the file; missing files are an error."""

    @abc.abstractmethod
    async def exists(self, path: str) -> bool:
        """Whether the file exists."""

    @abc.abstractmethod
    async def listdir(self, path: str = "") -> list[str]:
        """Sorted names directly under ``path``."""


class Env(abc.ABC):
    """Clock, randomness, network, disk and processes for one runtime."""

    # -- identity -----------------------------------------------------------
    @property
    @abc.abstractmethod
    def simulated(self) -> bool:
        """True under simulation (work runs inline, time is virtual)."""

    def buggify(self, name: str) -> bool:
        """BUGGIFY fault point ``name``: true only when a simulation says so.

        Product code guards rare paths with it (``if env.buggify("x"): ...``)
        so simulation makes them common.  A real env never fires.
        """
        return False

    # -- time ---------------------------------------------------------------
    @abc.abstractmethod
    def now_ns(self) -> int:
        """Monotonic nanoseconds since this Env started (virtual in sim)."""

    def process_clock(self) -> Callable[[], int]:
        """A zero-argument callable reading :meth:`now_ns`, usable in a worker process too.

        Work sent to :meth:`run_in_worker` checks its deadline with it.  Under
        :class:`RealEnv` it is picklable and reads the same monotonic clock in
        any process of the machine; by default (simulation, where work runs
        inline) it is ``self.now_ns``.
        """
        return self.now_ns

    @abc.abstractmethod
    def wall_ns(self) -> int:
        """Nanoseconds since the Unix epoch, for timestamps (virtual in sim)."""

    async def sleep(self, seconds: float) -> None:
        """Sleep on the runtime clock (virtual time under simulation)."""
        await anyio.sleep(seconds)

    def move_on_after(self, seconds: float) -> anyio.CancelScope:
        """A cancel scope that silently expires after ``seconds``."""
        return anyio.move_on_after(seconds)

    def fail_after(self, seconds: float) -> Any:
        """A context manager raising :class:`TimeoutError` after ``seconds``."""
        return anyio.fail_after(seconds)

    # -- randomness -----------------------------------------------------------
    @property
    @abc.abstractmethod
    def rng(self) -> EnvRandom:
        """The root random stream (seeded under simulation)."""

    # -- network --------------------------------------------------------------
    @abc.abstractmethod
    async def connect_tcp(self, host: str, port: int) -> anyio.abc.ByteStream:
        """Open a byte stream to ``host:port``."""

    @abc.abstractmethod
    async def listen_tcp(
        self, host: str, port: int
    ) -> anyio.abc.Listener[anyio.abc.ByteStream]:
        """Listen on ``host:port`` (port 0 picks a free one)."""

    @abc.abstractmethod
    async def connect_unix(self, path: str) -> anyio.abc.ByteStream:
        """Open a byte stream to a Unix socket."""

    @abc.abstractmethod
    async def listen_unix(self, path: str) -> anyio.abc.Listener[anyio.abc.ByteStream]:
        """Listen on a Unix socket path."""

    # -- disk -----------------------------------------------------------------
    @property
    @abc.abstractmethod
    def disk(self) -> Disk:
        """This Env's files."""

    # -- processes and blocking work -----------------------------------------
    @abc.abstractmethod
    async def run_in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a CPU-heavy picklable ``fn(*args)`` in a worker process.

        Under simulation it runs inline, in the calling task, so that it is
        deterministic; under :class:`RealEnv` the event loop stays responsive.
        """

    @abc.abstractmethod
    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking ``fn(*args)`` (e.g. SQLite) off the event loop.

        Under simulation it runs inline.
        """
