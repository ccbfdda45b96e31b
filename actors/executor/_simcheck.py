"""Durability checks of the ``execution`` simulation workload: acknowledged KV writes.

Each worker owns a few counters in the KV table (tenant ``dur``) and bumps
them with ``dur.bump``, an execution that reads the counter, writes it plus
one and reads it back.  The model keeps, per counter, the last acknowledged
value ``a`` and how many bumps since then ended without an answer ``u``
(failed, abandoned, or cut short by a runtime crash: each may or may not
have reached the disk).  Then:

* an acknowledged bump returns a value in ``[a + 1, a + 1 + u]`` -- more
  means a write was applied twice, less that an acknowledged one was lost;
* after every restart, and at the end of every life, each counter reads
  back a value in ``[a, a + u]`` -- less is an acknowledged write lost in a
  crash, a read that fails every retry is acknowledged data made
  unreadable.

Once the disk has damaged durable data (a sector fault: misdirected write or
read, a sector gone bad -- see :func:`media_damaged`), no journal can restore
it, and the contract is the checksums': an acknowledged value reads back
right *or* fails with a typed store error (:class:`StoreError`: corrupted or
unavailable).  A wrong value is still a violation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from ..._core._actor_errors import KernelError
from ..._errors import SteleError
from ..._core._random import SeededRandom
from ...sim import SimContext
from ...store import StoreError, StoreUnavailable
from ..sandbox import Policy
from ._types import ExecLimits

__all__ = ["DURABLE_TEL", "DurabilityModel", "retry", "media_damaged"]

T = TypeVar("T")

DURABLE_TEL = """
def cur(k: String) -> Int ! {KV} =
  match perform KV.get(k) { Some(b) => get_or_else(bytes_to_int(b), -2), None => 0 }
def bump(k: String) -> Int ! {KV} =
  let n = cur(k) + 1 in perform KV.put(k, int_to_bytes(n)); cur(k)
"""

_POLICY = Policy.allow("sim-durable", "KV")
_LIMITS = ExecLimits(fuel=100_000)
_TENANT = "dur"
#: Transient failures tolerated before an operation's failure is a verdict.
RETRIES = 40


def media_damaged(ctx: SimContext) -> bool:
    """Whether a sector fault has hit the simulated disk (durable data may be damaged)."""
    return getattr(ctx.env.disk, "sector_faults", 0) > 0


async def retry(ctx: SimContext, fn: Callable[[], Awaitable[T]],
                tries: int = RETRIES) -> T:
    """``await fn()``, again after a transient failure (disk error, injected actor crash).

    After ``tries`` attempts the last failure is re-raised -- unless an
    earlier attempt failed with a typed store error and the last one with a
    transient actor crash: then the store error is the verdict (a bad sector
    that refuses every read is what the retries saw; an injected crash that
    happened to hit the last try must not hide it).
    """
    store_error: StoreError | None = None
    for attempt in range(tries):
        try:
            return await fn()
        except (StoreUnavailable, KernelError) as exc:
            if isinstance(exc, StoreError):
                store_error = exc
            if attempt == tries - 1:
                if store_error is not None and store_error is not exc:
                    raise store_error from exc
                raise
            ctx.bump("retries")
            ctx.env.trace.record("retry", type(exc).__name__)
            await ctx.env.sleep(0.005)
    raise AssertionError("unreachable")  # pragma: no cover


class DurabilityModel:
    """The acknowledged state of every counter (see the module docstring)."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.acked: dict[str, int] = {}
        self.unsure: dict[str, int] = {}

    async def bump(self, rt: Any, rng: SeededRandom, worker: int) -> None:
        """Bump one of ``worker``'s counters and check the answer."""
        ctx = self.ctx
        key = f"c{worker}.{rng.randbelow(3)}"
        a, u = self.acked.get(key, 0), self.unsure.get(key, 0)
        answered = False
        try:
            r = await rt.execute("dur.bump", [key], limits=_LIMITS, policy=_POLICY,
                                 tenant=_TENANT, memo=False)
            answered = True
        except SteleError as exc:
            ctx.bump("bump_failed")
            ctx.env.trace.record("bump.outcome", key, type(exc).__name__)
            return
        finally:
            if not answered:
                self.unsure[key] = u + 1
        ctx.env.trace.record("bump.outcome", key, r.value)
        if not isinstance(r.value, int) or not a + 1 <= r.value <= a + 1 + u:
            ctx.violation("acked-kv", f"bump({key}) answered {r.value!r}; acknowledged {a}, "
                          f"{u} unanswered since, so it must be in [{a + 1}, {a + 1 + u}]")
            return
        self.acked[key], self.unsure[key] = r.value, 0
        ctx.passed("acked-kv")

    async def read_back(self, rt: Any, life: int) -> None:
        """Every counter holds its last acknowledged value (or an unanswered later one)."""
        ctx = self.ctx
        for key in sorted(set(self.acked) | set(self.unsure)):
            a, u = self.acked.get(key, 0), self.unsure.get(key, 0)
            try:
                r = await retry(ctx, partial(rt.execute, "dur.cur", [key], limits=_LIMITS,
                                             policy=_POLICY, tenant=_TENANT, memo=False))
            except SteleError as exc:
                if isinstance(exc, StoreError) and media_damaged(ctx):
                    ctx.env.trace.record("readback.refused", key, type(exc).__name__)
                    ctx.passed("acked-kv-damage-typed")  # detected, never served wrong
                    continue
                ctx.violation("acked-kv", f"life {life}: counter {key} (acknowledged {a}) is "
                              f"unreadable: {type(exc).__name__}: {exc}")
                return
            if not isinstance(r.value, int) or not a <= r.value <= a + u:
                ctx.violation("acked-kv", f"life {life}: counter {key} reads {r.value!r}; "
                              f"acknowledged {a} with {u} unanswered bumps since, "
                              f"so it must be in [{a}, {a + u}]")
                return
            self.acked[key], self.unsure[key] = r.value, 0
            ctx.passed("acked-kv-readback")

    def crashed(self) -> None:
        """The runtime crashed: nothing to do (cut-short bumps were counted as unanswered)."""
