"""The real environment: the operating system behind the :class:`stele.Env` contract.

This module (with :mod:`stele._random` and :mod:`stele.sim`) is one of the few
places allowed to read clocks, ``os.urandom`` and sockets directly; everything
else in Stele reaches them through an Env so that simulation can replace them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.abc
import anyio.to_process
import anyio.to_thread

from ._env import Disk, Env
from .._errors import SteleError
from ._random import SeededRandom

__all__ = ["RealEnv", "RealDisk", "DiskPathError", "check_disk_path", "ProcessClock"]

T = TypeVar("T")

_MAX_PATH_LEN = 4096


class DiskPathError(SteleError, ValueError):
    """A :class:`stele.Disk` path was not a relative, ``/``-separated path."""


def check_disk_path(path: str, *, allow_root: bool = False) -> str:
    """Validate a Disk path and return it normalised (no trailing ``/``).

    Paths are relative and ``/``-separated, with no empty, ``.`` or ``..``
    parts, so a Disk can never escape its root.
    """
    if not isinstance(path, str):
        raise DiskPathError(f"disk path must be str, got {type(path).__name__}")
    if len(path) > _MAX_PATH_LEN:
        raise DiskPathError(f"disk path length {len(path)} exceeds limit {_MAX_PATH_LEN}")
    stripped = path.rstrip("/")
    if stripped == "":
        if allow_root:
            return ""
        raise DiskPathError(f"disk path {path!r} names the root, a file path is required")
    if stripped.startswith("/"):
        raise DiskPathError(f"disk path {path!r} is absolute; paths are relative to the root")
    for part in stripped.split("/"):
        if part in ("", ".", ".."):
            raise DiskPathError(f"disk path {path!r} has a forbidden part {part!r}")
        if "\x00" in part or "\\" in part:
            raise DiskPathError(f"disk path {path!r} has a forbidden character")
    return stripped


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RealDisk(Disk):
    """A :class:`stele.Disk` on the local file system, rooted at a directory.

    Blocking calls run in a worker thread.  :meth:`fsync` flushes the file and
    its directory; :meth:`rename` is ``os.replace`` followed by a directory
    fsync, so an acknowledged rename survives power loss.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        """The directory the disk lives in."""
        return self._root

    def _p(self, path: str) -> Path:
        return self._root / check_disk_path(path)

    async def read(self, path: str) -> bytes:
        return await anyio.to_thread.run_sync(self._p(path).read_bytes)

    async def write(self, path: str, data: bytes) -> None:
        target = self._p(path)

        def write() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)

        await anyio.to_thread.run_sync(write)

    async def append(self, path: str, data: bytes) -> None:
        target = self._p(path)

        def append() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "ab") as f:
                f.write(data)

        await anyio.to_thread.run_sync(append)

    async def fsync(self, path: str) -> None:
        target = self._p(path)

        def fsync() -> None:
            fd = os.open(target, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            _fsync_dir(target.parent)

        await anyio.to_thread.run_sync(fsync)

    async def rename(self, src: str, dst: str) -> None:
        s, d = self._p(src), self._p(dst)

        def rename() -> None:
            d.parent.mkdir(parents=True, exist_ok=True)
            os.replace(s, d)
            _fsync_dir(d.parent)
            if s.parent != d.parent:
                _fsync_dir(s.parent)

        await anyio.to_thread.run_sync(rename)

    async def remove(self, path: str) -> None:
        await anyio.to_thread.run_sync(os.remove, self._p(path))

    async def exists(self, path: str) -> bool:
        return await anyio.to_thread.run_sync(self._p(path).is_file)

    async def listdir(self, path: str = "") -> list[str]:
        rel = check_disk_path(path, allow_root=True)
        target = self._root / rel if rel else self._root

        def listdir() -> list[str]:
            try:
                return sorted(os.listdir(target))
            except FileNotFoundError:
                return []

        return await anyio.to_thread.run_sync(listdir)


class ProcessClock:
    """``RealEnv.now_ns`` as a picklable callable: the same reading in any process.

    ``time.monotonic_ns`` is the machine's monotonic clock (``CLOCK_MONOTONIC``),
    shared by every process, so a deadline computed in the runtime's process
    can be checked in a worker process.
    """

    __slots__ = ("start_ns",)

    def __init__(self, start_ns: int) -> None:
        self.start_ns = start_ns

    def __call__(self) -> int:
        return time.monotonic_ns() - self.start_ns

    def __reduce__(self) -> tuple[Any, ...]:
        return (ProcessClock, (self.start_ns,))


class RealEnv(Env):
    """The operating system as an :class:`stele.Env` (the default Env).

    ``seed`` fixes the random stream (default: 32 bytes of ``os.urandom``);
    ``root`` is the directory behind :attr:`disk` (default: a fresh temporary
    directory, created on first use).  Heavy work given to
    :meth:`run_in_worker` runs in a worker process (anyio's process pool),
    blocking work given to :meth:`run_blocking` in a worker thread.
    Works under trio and asyncio.
    """

    def __init__(
        self,
        *,
        seed: int | bytes | None = None,
        root: str | os.PathLike[str] | None = None,
        max_workers: int | None = None,
    ) -> None:
        self._start_ns = time.monotonic_ns()
        self._rng = SeededRandom(os.urandom(32) if seed is None else seed)
        self._root = root
        self._disk: RealDisk | None = None
        self._worker_limiter: anyio.CapacityLimiter | None = None
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self._max_workers = max_workers

    @property
    def simulated(self) -> bool:
        return False

    def now_ns(self) -> int:
        return time.monotonic_ns() - self._start_ns

    def wall_ns(self) -> int:
        return time.time_ns()

    def process_clock(self) -> ProcessClock:
        return ProcessClock(self._start_ns)

    @property
    def rng(self) -> SeededRandom:
        return self._rng

    async def connect_tcp(self, host: str, port: int) -> anyio.abc.ByteStream:
        return await anyio.connect_tcp(host, port)

    async def listen_tcp(
        self, host: str, port: int
    ) -> anyio.abc.Listener[anyio.abc.ByteStream]:
        return await anyio.create_tcp_listener(local_host=host, local_port=port)

    async def connect_unix(self, path: str) -> anyio.abc.ByteStream:
        return await anyio.connect_unix(path)

    async def listen_unix(self, path: str) -> anyio.abc.Listener[anyio.abc.ByteStream]:
        return await anyio.create_unix_listener(path)

    @property
    def disk(self) -> RealDisk:
        if self._disk is None:
            root = self._root
            if root is None:
                root = tempfile.mkdtemp(prefix="stele-")
            self._disk = RealDisk(root)
        return self._disk

    async def run_in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        if self._max_workers is not None and self._worker_limiter is None:
            self._worker_limiter = anyio.CapacityLimiter(self._max_workers)
        with _main_hidden(fn):
            result: T = await anyio.to_process.run_sync(
                fn, *args, cancellable=True, limiter=self._worker_limiter
            )
        return result

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args)


_hidden_depth = 0
_real_main: Any = None


@contextlib.contextmanager
def _main_hidden(fn: Callable[..., Any]) -> Iterator[None]:
    """Let a plain script (no ``if __name__ == "__main__":`` guard) use worker processes.

    anyio's worker processes, like multiprocessing's spawn, first re-run the
    parent's ``__main__`` file; a user script that runs a guest at top level
    would then run again inside the worker and fail ("Error during worker
    process initialization").  Stele's worker functions never live in
    ``__main__``, so while a worker call is in flight ``sys.modules["__main__"]``
    is a stand-in with the same names but no ``__file__``: nothing is re-run.
    The user's own globals are untouched (they live in the real module).
    A function defined in ``__main__`` keeps the standard behaviour.
    """
    global _hidden_depth, _real_main
    main = sys.modules.get("__main__")
    if getattr(fn, "__module__", None) == "__main__" or (
            _hidden_depth == 0 and getattr(main, "__file__", None) is None):
        yield
        return
    if _hidden_depth == 0:
        _real_main = main
        stand_in = types.ModuleType("__main__")
        stand_in.__dict__.update({k: v for k, v in vars(main).items() if k != "__file__"})
        sys.modules["__main__"] = stand_in
    _hidden_depth += 1
    try:
        yield
    finally:
        _hidden_depth -= 1
        if _hidden_depth == 0:
            sys.modules["__main__"] = _real_main
            _real_main = None
