"""A real daemon in this process: :func:`stele.daemon.serve` in the test's own trio loop.

The daemon listens on a real Unix socket (clients and the CLI reach it as
they reach ``stele serve``); ``stop`` is its graceful shutdown.  The CLI is
run in a worker thread (``stele.cli.main`` starts its own event loop).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from stele.cli import main
from stele.daemon import DaemonConfig, serve
from stele.daemon._log import EventLog
from stele.daemon._server import Daemon

from ._harness import READY_TIMEOUT


@dataclass
class InProcess:
    """A running in-process daemon."""

    daemon: Daemon
    address: str
    log: io.StringIO
    stop: trio.Event = field(default_factory=trio.Event)
    code: list[int] = field(default_factory=list)


@asynccontextmanager
async def in_process(root: Path, **config: Any) -> AsyncIterator[InProcess]:
    """Serve ``root`` on ``unix:ROOT/d.sock`` until the block ends (then stop gracefully)."""
    cfg = DaemonConfig(root=str(root), listen=(f"unix:{root / 'd.sock'}",), **config)
    log = io.StringIO()
    got: list[Daemon] = []
    ready = trio.Event()
    stop = trio.Event()
    codes: list[int] = []

    def on_ready(d: Daemon) -> None:
        got.append(d)
        ready.set()

    async def run() -> None:
        codes.append(await serve(cfg, log=EventLog(stream=log), on_ready=on_ready, stop=stop))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run)
        with trio.fail_after(READY_TIMEOUT):
            await ready.wait()
        handle = InProcess(got[0], got[0].addresses[0], log, stop, codes)
        try:
            yield handle
        finally:
            stop.set()


async def cli(*argv: str) -> int:
    """``stele ARGV`` in a worker thread (its output goes to the captured stdout/stderr)."""
    code: int = await trio.to_thread.run_sync(main, list(argv))
    return code
