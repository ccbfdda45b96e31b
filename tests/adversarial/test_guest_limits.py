"""Hostile RISC-V guests: wall-time deadlines, per-write output limits, ELF parsing off the loop.

Deadlines under SimEnv are checked on modelled time (``SIM_NS_PER_CYCLE``
virtual ns per cycle, between chunks of ``CHUNK`` cycles), so every bound
here is exact in cycles and the same in every run; the worker function is
tested with a counting clock, and once end to end in real worker processes
(where only the outcome is asserted, never a duration).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stele
from stele.actors.coprocessor import GuestOutputLimit, Machine, load_elf
from stele.actors.coprocessor._messages import GuestStopped
from stele.actors.coprocessor._session import (CHUNK, SIM_NS_PER_CYCLE, GuestDeadline,
                                               guest_step, guest_step_inline)
from stele.actors.coprocessor import encode as asm
from stele.actors.executor import ExecLimits, ExecutionTimeout
from stele.actors.sandbox import OutputLimitExceeded, Policy
from stele.sim import SimEnv

from coprocessor._elfgen import DATA, li, make_elf

ROOT = Path(__file__).resolve().parents[2]

#: ``j .`` -- spins for ever.
SPIN = make_elf([asm("jal", 0, imm=0)])
#: writes 4096 bytes to fd ``1`` (stdout) or ``2`` (stderr) in a loop, for ever.
def _writer(fd: int) -> bytes:
    body = li(10, fd) + li(11, DATA) + li(12, 4096) + li(17, 64) + [asm("ecall")]
    return make_elf(body + [asm("jal", 0, imm=-4 * len(body))], bss=4096)


WRITER = _writer(1)
NESTED = (ROOT / "examples" / "effect_guest" / "nested.elf").read_bytes()
TIMEOUT = 0.05
#: cycles a guest may run past a TIMEOUT deadline: to the deadline, plus one chunk
BOUND = int(TIMEOUT * 1e9) // SIM_NS_PER_CYCLE + CHUNK
HOT = """
def square(n: Int) -> Int = fold(range(0, 3000000), 0, fn (a: Int, x: Int) => a + x) + n * n
def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)
"""
SPIN_LIMITS = ExecLimits(cycles=5_000_000, timeout=TIMEOUT)  # unstopped: CycleLimitExceeded


async def _store_guests(rt: Any) -> None:
    await rt.store_blob(SPIN, name="g.spin")
    await rt.store_blob(WRITER, name="g.writer")
    await rt.store_blob(NESTED, name="g.nested")


def _sim(scenario: Any, seed: int = 1) -> Any:
    """Run ``scenario(rt, env)`` on an in-memory runtime under SimEnv; checks grants after."""
    env = SimEnv(seed=seed)

    async def main() -> Any:
        async with stele.open_runtime(None, env=env) as rt:
            await rt.store(HOT)
            await _store_guests(rt)
            out = await scenario(rt, env)
            status = (await rt.stats()).allocator
            assert status.live_grants == 0 and status.available == status.capacity, status
            return out

    return env.run(main)


# -- the step itself ------------------------------------------------------------------


def test_a_worker_step_stops_itself_at_its_deadline_within_one_chunk() -> None:
    ticks = iter(range(10**9))
    out = guest_step(SPIN, b"", 10**12, 1 << 20, deadline=GuestDeadline(lambda: next(ticks), 5))
    # checks at clock 0..4 pass, the sixth (clock 5) stops it: exactly five chunks ran
    assert out == GuestStopped(5 * CHUNK, 0)


def test_an_inline_step_yields_to_the_loop_after_every_chunk() -> None:
    env = SimEnv(seed=2)

    async def main() -> tuple[Any, int]:
        ticks = 0
        done = False

        async def ticker() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            deadline = GuestDeadline(env.now_ns, env.now_ns() + 10**8, SIM_NS_PER_CYCLE)
            out = await guest_step_inline(SPIN, b"", 10**12, 1 << 20, deadline=deadline)
            done = True
        return out, ticks

    out, ticks = env.run(main)
    assert isinstance(out, GuestStopped)
    assert 10**8 // SIM_NS_PER_CYCLE <= out.cycles <= 10**8 // SIM_NS_PER_CYCLE + CHUNK
    assert ticks >= out.cycles // CHUNK - 1  # the other task ran between every two chunks


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 3 * 4096), slack=st.integers(-2, 2))
def test_the_output_limit_is_exact_at_each_write(n: int, slack: int) -> None:
    """Writes of 4096 bytes: a limit of k*4096 lets exactly k writes through."""
    limit = max(0, n + slack)
    m = Machine(load_elf(WRITER))
    m.output_limit = limit
    with pytest.raises(GuestOutputLimit) as info:
        m.run(10**7)
    assert m.output_bytes() == (limit // 4096) * 4096  # every write that fitted, no more
    assert limit < info.value.needed == m.output_bytes() + 4096


def test_stderr_counts_towards_the_output_limit() -> None:
    m = Machine(load_elf(_writer(2)))
    m.output_limit = 10_000
    with pytest.raises(GuestOutputLimit):
        m.run(10**7)
    assert len(m.stderr) == 8192 and not m.stdout


# -- through the executor (SimEnv: deterministic) ------------------------------------------


def test_a_spinning_guest_fails_with_its_timeout_at_the_deadline() -> None:
    async def scenario(rt: Any, env: Any) -> list[int]:
        elapsed = []
        for _ in range(2):  # first run and a later one
            t0 = env.now_ns()
            with pytest.raises(ExecutionTimeout) as info:
                await rt.execute("g.spin", b"", engine="riscv", limits=SPIN_LIMITS, memo=False)
            assert info.value.timeout == TIMEOUT
            elapsed.append(env.now_ns() - t0)
        return elapsed

    for ns in _sim(scenario):
        assert ns == int(TIMEOUT * 1e9)  # reported at the deadline, by its own scope


def test_without_a_timeout_the_spinning_guest_hits_its_cycle_limit() -> None:
    from stele.actors.coprocessor import CycleLimitExceeded

    async def scenario(rt: Any, env: Any) -> None:
        with pytest.raises(CycleLimitExceeded):
            await rt.execute("g.spin", b"", engine="riscv",
                             limits=ExecLimits(cycles=300_000), memo=False)

    _sim(scenario)


def test_a_guest_parent_timeout_stops_its_cpu_bound_tel_child() -> None:
    """nested.elf calls Exec.call("square", 7); square spins 3M fold steps (15M fuel)."""

    async def scenario(rt: Any, env: Any) -> int:
        t0 = env.now_ns()
        with pytest.raises(ExecutionTimeout):
            await rt.execute("g.nested", b"", engine="riscv", memo=False,
                             limits=ExecLimits(fuel=10**9, timeout=TIMEOUT),
                             policy=Policy.allow("nested", "Exec", "Clock"))
        return int(env.now_ns() - t0)

    assert _sim(scenario) == int(TIMEOUT * 1e9)


def test_many_spinning_guests_at_once_all_stop_and_other_work_goes_on() -> None:
    async def scenario(rt: Any, env: Any) -> tuple[list[str], int]:
        outcomes: list[str] = []
        fib = []

        async def spin(i: int) -> None:
            try:
                await rt.execute("g.spin", bytes([i]), engine="riscv", limits=SPIN_LIMITS,
                                 memo=False)
                outcomes.append("returned")
            except ExecutionTimeout:
                outcomes.append(f"timeout@{env.now_ns()}")

        async def quick() -> None:
            fib.append((await rt.execute("fib", [12], memo=False)).value)

        async with anyio.create_task_group() as tg:
            for i in range(40):
                tg.start_soon(spin, i)
            tg.start_soon(quick)
        return outcomes, fib[0]

    outcomes, fib = _sim(scenario)
    assert fib == 144
    assert len(outcomes) == 40 and set(outcomes) == {f"timeout@{int(TIMEOUT * 1e9)}"}


def test_a_guest_writing_without_end_stops_at_the_write_that_passes_the_limit() -> None:
    async def scenario(rt: Any, env: Any) -> Any:
        with pytest.raises(OutputLimitExceeded) as info:
            await rt.execute("g.writer", b"", engine="riscv", memo=False,
                             limits=ExecLimits(cycles=10**8, max_output_bytes=100_000))
        return info.value

    exc = _sim(scenario)
    assert exc.limit == 100_000 < exc.needed <= 100_000 + 4096  # stopped at once, not at the end


def test_guest_output_and_effect_journal_share_one_limit() -> None:
    """The effects guest logs and writes: with a limit between them the run is stopped."""
    effects = (ROOT / "examples" / "effect_guest" / "effects.elf").read_bytes()

    async def scenario(rt: Any, env: Any) -> tuple[int, int]:
        await rt.store_blob(effects, name="g.effects")
        policy = Policy.allow("all", "Log", "KV", "Rand")
        ok = await rt.execute("g.effects", b"abc", engine="riscv", policy=policy, memo=False)
        total = ok.usage.output
        with pytest.raises(OutputLimitExceeded):
            await rt.execute("g.effects", b"abc", engine="riscv", policy=policy, memo=False,
                             limits=ExecLimits(max_output_bytes=total - 1))
        fits = await rt.execute("g.effects", b"abc", engine="riscv", policy=policy,
                                memo=False, limits=ExecLimits(max_output_bytes=total))
        return total, fits.usage.output

    total, again = _sim(scenario)
    assert total == again > 0


# -- real worker processes --------------------------------------------------------------


def test_a_spinning_guest_in_a_real_worker_fails_with_its_timeout() -> None:
    """RealEnv: the worker stops the guest itself; only the outcome is asserted."""

    async def main() -> Any:
        async with stele.open_runtime(None) as rt:
            await _store_guests(rt)
            limits = ExecLimits(cycles=10**11, timeout=0.3)  # ~hours of cycles unstopped
            for _ in range(2):
                with pytest.raises(ExecutionTimeout):
                    await rt.execute("g.spin", b"", engine="riscv", limits=limits, memo=False)
            done = await rt.execute("g.writer", b"", engine="riscv", memo=False,
                                    limits=ExecLimits(max_output_bytes=3 * 4096))
            return done, (await rt.stats()).allocator

    with pytest.raises(OutputLimitExceeded):
        anyio.run(main, backend="trio")


def test_after_real_guest_timeouts_the_allocator_is_full_again() -> None:
    async def main() -> Any:
        async with stele.open_runtime(None) as rt:
            await _store_guests(rt)
            limits = ExecLimits(cycles=10**11, timeout=0.2)
            async with anyio.create_task_group() as tg:
                for i in range(4):
                    tg.start_soon(_expect_timeout, rt, bytes([i]), limits)
            for _ in range(100):
                status = (await rt.stats()).allocator
                if status.live_grants == 0:
                    break
                await anyio.sleep(0)
            return status

    status = anyio.run(main, backend="trio")
    assert status.live_grants == 0 and status.available == status.capacity


async def _expect_timeout(rt: Any, data: bytes, limits: ExecLimits) -> None:
    with pytest.raises(ExecutionTimeout):
        await rt.execute("g.spin", data, engine="riscv", limits=limits, memo=False)


def test_elf_parsing_runs_off_the_event_loop() -> None:
    calls: list[str] = []

    class Env(stele.RealEnv):
        async def run_blocking(self, fn: Any, *args: Any) -> Any:
            calls.append(getattr(fn, "__name__", "?"))
            return await super().run_blocking(fn, *args)

    async def main() -> None:
        async with stele.open_runtime(None, env=Env()) as rt:
            await rt.store_blob(WRITER, name="g.writer")
            with pytest.raises(OutputLimitExceeded):
                await rt.execute("g.writer", b"", engine="riscv", memo=False,
                                 limits=ExecLimits(max_output_bytes=4096))

    anyio.run(main, backend="trio")
    assert "load_elf" in calls
