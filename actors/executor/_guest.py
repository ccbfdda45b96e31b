"""Guest (RISC-V) executions: deadlines, per-write output limits and worker failures.

The executor runs a guest on the co-processor actor in steps (see
``_executor``); this module holds what a step needs from the execution:

* the step's deadline is the execution's (the nearest of its own and its
  ancestors', on the Env clock): the co-processor checks it between chunks
  of cycles and answers :class:`GuestStopped` past it; the execution then
  waits for the deadline's own cancel scope to fire, so the timeout is
  reported by the level that set it, as a TEL run's is
  (:func:`wait_for_deadline`);
* the step's output limit is what the guest has written so far plus what
  the execution tree may still output (:func:`output_limit`), so a guest
  that writes without end stops at the ``write`` that passes
  ``max_output_bytes`` (:class:`GuestOutputLimit`), never after the run;
* the co-processor's typed failures become the executor's
  (:func:`guest_failure`): :class:`OutputLimitExceeded` for the output
  limit, :class:`WorkerCrashed` for a worker that died or hung.
"""

from __future__ import annotations

from ..._core._env import Env
from ..coprocessor import GuestOutputLimit, WorkerLost
from ..sandbox import EffectSession, OutputLimitExceeded
from ._errors import WorkerCrashed

__all__ = ["output_limit", "guest_failure", "wait_for_deadline"]


def output_limit(session: EffectSession, charged: int) -> int:
    """Bytes a guest's writes may reach in all: those already charged plus the tree's rest."""
    return charged + session.tree.output_left


def guest_failure(cause: BaseException, target: str, session: EffectSession,
                  charged: int) -> BaseException:
    """The error an execution of ``target`` reports for the co-processor's ``cause``."""
    if isinstance(cause, GuestOutputLimit):
        tree = session.tree
        return OutputLimitExceeded(tree.output_used + cause.needed - charged, tree.output_limit,
                                   "a guest write")
    if isinstance(cause, WorkerLost):
        return WorkerCrashed(target, str(cause))
    return cause


async def wait_for_deadline(env: Env, deadline_ns: int | None, target: str) -> None:
    """A guest step stopped at ``deadline_ns``: wait for the deadline's scope (it must fire)."""
    if deadline_ns is None:
        raise RuntimeError(f"internal: a step of {target!r} stopped with no deadline")
    await env.sleep(max(0, deadline_ns - env.now_ns()) / 1e9 + 3600.0)
    raise RuntimeError(f"internal: the deadline of {target!r} passed, but its cancel scope "
                       "did not fire")
