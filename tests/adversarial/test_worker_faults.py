"""Worker processes that die or hang mid-run, in real worker processes (RealEnv).

The job functions are wrapped (``_workers``) so that one marked argument
makes the worker die with ``os._exit`` (no reply, as a segfault) or block
for ever without reaching a deadline check.  For each: the execution fails
with a typed error, the runtime goes on, the next run gets a fresh worker
and the right answer, and nothing leaks (allocator back to full capacity,
no job counted busy).  Only outcomes are asserted, never durations.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import stele
from stele.actors.executor import ExecLimits, ExecutionTimeout
from stele.actors.executor import _pool
from stele.actors.executor._errors import WorkerCrashed
from stele.actors.coprocessor import _actor as coprocessor_actor
from stele.actors.coprocessor import encode as asm

from coprocessor._elfgen import li, make_elf

from . import _workers

SRC = "def total(n: Int) -> Int = fold(range(0, n), 0, fn (a: Int, x: Int) => a + x)"
BIG = ExecLimits(fuel=10**9, memory=1 << 34)
#: exits with code 5 at once (li a0, 5; li a7, 93; ecall)
EXIT5 = make_elf(li(10, 5) + li(17, 93) + [asm("ecall")])


class _CountingEnv(stele.RealEnv):
    """A RealEnv that counts the jobs sent to worker processes, by function name."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[str] = []

    async def run_in_worker(self, fn: Any, *args: Any) -> Any:
        self.jobs.append(getattr(fn, "__name__", "?"))
        return await super().run_in_worker(fn, *args)


async def _leaks(rt: Any) -> tuple[int, int]:
    """(live grants, capacity missing) once the executor has nothing running."""
    for _ in range(1000):
        stats = await rt.stats()
        if stats.executor.running == 0 and stats.allocator.live_grants == 0:
            break
        await anyio.sleep(0)
    a = stats.allocator
    return a.live_grants, int(a.available != a.capacity)


def _run(main: Any, env: stele.Env) -> Any:
    async def go() -> Any:
        async with stele.open_runtime(None, env=env) as rt:
            await rt.store(SRC)
            await rt.store_blob(EXIT5, name="g.exit5")
            return await main(rt)

    return anyio.run(go, backend="trio")


def test_a_tel_worker_that_dies_mid_run_is_a_typed_error_and_is_replaced(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pool, "tel_job", _workers.tel_job_with_faults)
    env = _CountingEnv()

    async def main(rt: Any) -> Any:
        # a first long run makes the program a worker program (preempted off the loop)
        first = await rt.execute("total", [300_000], limits=BIG, memo=False)
        with pytest.raises(WorkerCrashed):
            await rt.execute("total", [_workers.CRASH], limits=BIG, memo=False)
        with pytest.raises(WorkerCrashed):  # with a deadline too (the shielded path)
            await rt.execute("total", [_workers.CRASH], memo=False,
                             limits=ExecLimits(fuel=10**9, memory=1 << 34, timeout=30.0))
        jobs = len(env.jobs)
        after = await rt.execute("total", [300_000], limits=BIG, memo=False)
        assert "tel_job_with_faults" in env.jobs[jobs:]  # a fresh worker ran it
        return first.value, after.value, await _leaks(rt), _pool._pool_state(env).busy

    first, after, leaks, busy = _run(main, env)
    assert first == after == 299_999 * 150_000
    assert leaks == (0, 0) and busy == 0


def test_a_hung_tel_worker_is_killed_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pool, "tel_job", _workers.tel_job_with_faults)
    env = _CountingEnv()

    async def main(rt: Any) -> Any:
        await rt.execute("total", [300_000], limits=BIG, memo=False)
        with pytest.raises(ExecutionTimeout):  # killed at deadline + grace, reported as its own
            await rt.execute("total", [_workers.HANG], memo=False,
                             limits=ExecLimits(fuel=10**9, memory=1 << 34, timeout=0.3))
        # no deadline: a hung worker is killed when its caller gives up
        with anyio.move_on_after(0.5) as scope:
            await rt.execute("total", [_workers.HANG], limits=BIG, memo=False)
        assert scope.cancelled_caught
        after = await rt.execute("total", [300_000], limits=BIG, memo=False)
        return after.value, await _leaks(rt), _pool._pool_state(env).busy

    value, leaks, busy = _run(main, env)
    assert value == 299_999 * 150_000
    assert leaks == (0, 0) and busy == 0


def test_a_guest_worker_that_dies_or_hangs_is_typed_and_replaced(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coprocessor_actor, "guest_step", _workers.guest_step_with_faults)
    env = _CountingEnv()

    async def main(rt: Any) -> Any:
        with pytest.raises(WorkerCrashed):
            await rt.execute("g.exit5", _workers.CRASH_INPUT, engine="riscv", memo=False)
        with pytest.raises(ExecutionTimeout):
            await rt.execute("g.exit5", _workers.HANG_INPUT, engine="riscv", memo=False,
                             limits=ExecLimits(timeout=0.3))
        ok = await rt.execute("g.exit5", b"", engine="riscv", memo=False)
        return ok.exit_code, await _leaks(rt)

    code, leaks = _run(main, env)
    assert code == 5 and leaks == (0, 0)
