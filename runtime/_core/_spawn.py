"""A task group that is cheap to spawn into: trio's own nursery under trio, anyio's elsewhere.

anyio (4.16) wraps every ``TaskGroup.start_soon`` in a task handle with its
own cancel scope and completion event: measured on this project's 2-core
machine, 37 us per short task against 8 us for ``trio.Nursery.start_soon``.
Where a task is started per request -- the daemon's per-request handlers,
the executor's per-execution tasks -- that was a fifth of a small request's
CPU.  Under trio these groups are plain nurseries (same structured
semantics: children are awaited, an error cancels the siblings and
propagates as an ``ExceptionGroup``, ``cancel_scope.cancel()`` stops them);
under asyncio they are anyio task groups as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, cast

import anyio
import trio

__all__ = ["SpawnGroup", "open_spawn_group"]


class SpawnGroup(Protocol):
    """What both a trio nursery and an anyio task group offer (the part this project uses)."""

    @property
    def cancel_scope(self) -> Any: ...

    def start_soon(self, fn: Callable[..., Awaitable[Any]], *args: Any,
                   name: object = None) -> None: ...

    async def start(self, fn: Callable[..., Awaitable[Any]], *args: Any,
                    name: object = None) -> Any: ...


def _under_trio() -> bool:
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


@asynccontextmanager
async def open_spawn_group() -> AsyncIterator[SpawnGroup]:
    """``trio.open_nursery()`` when running under trio, else ``anyio.create_task_group()``."""
    if _under_trio():
        async with trio.open_nursery() as nursery:
            yield cast(SpawnGroup, nursery)
    else:
        async with anyio.create_task_group() as tg:
            yield cast(SpawnGroup, tg)
