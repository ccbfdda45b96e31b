r"""The ``execution`` simulation workload: generated TEL programs run by the executor.

``programs`` programs from the TEL generator (``stele.tel.testing``) are
stored; then ``workers`` concurrent tasks run ``executions`` executions in
all, each of a random program under random limits (fuel, depth, optional
timeout) and a random policy (a random subset of Log, Clock, Rand, KV), with
the memo cache on or off; a quarter of the executions instead run fixed
programs with nested ``Exec.call``\ s, sleeps, timeouts, and callers that give
up (cancellation); an eighth run RISC-V guests (sha256, and the two effect
guests) with random inputs, cycle limits and policies.  The executor, cache
and co-processor actors are
crashable (kernel crash injection); the repository and allocator are not (an
in-memory store would lose its code, and a restarted allocator would forget
its grants, which would make the capacity check vacuous).  Checkers:

* ``memo-equals-reexecution`` -- every memo hit equals a fresh execution
  (value, cost, breakdown) under the same limits and policy;
* ``allocator-full`` -- when every execution has ended, the root allocator
  is back to its full capacity with no live grant;
* ``outcomes`` -- every execution ends with a value or a typed Stele error
  (never an untyped exception).

Determinism is the simulator's own check (``--check-determinism``: the same
seed gives the same trace hash; outcomes are folded into the trace).

It is one of the simulator's built-ins: ``stele sim --workload execution``
(``--plugin stele.actors.executor._workload`` is accepted too, and redundant).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import anyio

from ..._core._actor_errors import InjectedCrash
from ..._errors import SteleError
from ..._core._random import SeededRandom
from ...sim import SimContext, register_workload
from ..sandbox import Policy
from ._types import ExecLimits

__all__ = ["ExecutionWorkload"]

_EFFECTS = ("Log", "Clock", "Rand", "KV")
_GUESTS = Path(__file__).resolve().parents[2] / "examples"  # present in a source checkout

#: Fixed programs for nested executions, sleeps, timeouts and cancellation.
NESTED_TEL = """
effect Exec { call(target: String, arg: Int) -> Int }
def nap(ms: Int) -> Int ! {Clock} = perform Clock.sleep(ms); ms
def spin(n: Int) -> Int = if n <= 0 then 0 else 1 + spin(n - 1)
def twice(n: Int) -> Int ! {Exec} = perform Exec.call("sim.spin", n) + perform Exec.call("sim.spin", n)
def nested_nap(ms: Int) -> Int ! {Exec} = perform Exec.call("sim.nap", ms) + perform Exec.call("sim.twice", 20)
"""


def _opt(options: dict[str, str], key: str, default: int, lo: int, hi: int) -> int:
    if key not in options:
        return default
    v = int(options[key])
    if not lo <= v <= hi:
        raise ValueError(f"workload option {key}={v} must be in [{lo}, {hi}]")
    return v


class ExecutionWorkload:
    """See the module docstring."""

    def configure(self, rng: SeededRandom, options: dict[str, str]) -> list[tuple[str, str]]:
        """Draw the program count, execution count and concurrency."""
        self.programs = _opt(options, "programs", rng.choice((3, 8, 16)), 1, 1000)
        self.executions = _opt(options, "executions", rng.choice((20, 60, 150)), 1, 100_000)
        self.workers = _opt(options, "workers", rng.choice((1, 3, 8)), 1, 64)
        self.seed = rng.randbits(62)
        return [("programs", str(self.programs)), ("executions", str(self.executions)),
                ("workers", str(self.workers))]

    async def run(self, ctx: SimContext) -> None:
        """Store programs, run executions, then check memo and capacity."""
        from ... import open_runtime
        from ...tel.testing import generate, splitmix_chooser

        ctx.observer.crashable = lambda name: name in ("executor", "cache", "coprocessor")
        rng = ctx.rng
        async with open_runtime(env=ctx.env, observer=ctx.observer,
                                restart_intensity=1_000_000) as rt:
            await rt.store(NESTED_TEL, namespace="sim")
            await rt.store("def square(n: Int) -> Int = n * n")  # for guest.nested
            self.guests = _GUESTS.is_dir()
            if self.guests:
                for name, rel in (("sha256", "guests/bin/sha256.elf"),
                                  ("effects", "effect_guest/effects.elf"),
                                  ("nested", "effect_guest/nested.elf")):
                    data = await ctx.env.run_blocking((_GUESTS / rel).read_bytes)
                    await rt.store_blob(data, name=f"guest.{name}")
            targets: list[str] = []
            for i in range(self.programs):
                prog = generate(splitmix_chooser(self.seed + i))
                names = await rt.store(prog.source, namespace=f"p{i}")
                targets.append(next(n for n in names if n.endswith(prog.entry)))
            remaining = [self.executions]

            async def worker() -> None:
                while remaining[0] > 0 and ctx.time_left():
                    remaining[0] -= 1
                    await self._one(ctx, rt, rng, targets)
                    await ctx.env.sleep(rng.randbelow(20) / 1000)  # spread over virtual time

            async with anyio.create_task_group() as tg:
                for _ in range(self.workers):
                    tg.start_soon(worker)
            for _ in range(1000):  # abandoned executions finish cancelling
                try:
                    stats = await rt.stats()
                except InjectedCrash:  # a kernel fault, not a verdict: ask again
                    ctx.bump("crash_retries")
                    await ctx.env.sleep(0.01)
                    continue
                if stats.executor.running == 0:
                    break
                await ctx.env.sleep(0.01)
            status = stats.allocator
            if status.live_grants or status.available != status.capacity:
                ctx.violation("allocator-full", f"after every execution: {status}")
            else:
                ctx.passed("allocator-full")

    async def _nested(self, ctx: SimContext, rt: Any, rng: SeededRandom) -> None:
        target, arg = rng.choice((("sim.nested_nap", rng.randbelow(300)),
                                  ("sim.twice", rng.randbelow(60)), ("sim.nap", 50)))
        limits = ExecLimits(fuel=rng.choice((30, 300, 100_000)), depth=rng.choice((10, 400)),
                            timeout=rng.choice((None, 0.1, 1.0)))
        policy = Policy.allow("sim-nested", *[e for e in ("Exec", "Clock") if rng.chance(3, 4)])
        give_up = rng.choice((None, 0.02, 0.2))
        try:
            with anyio.move_on_after(give_up if give_up is not None else math.inf) as scope:
                r = await rt.execute(target, [arg], limits=limits, policy=policy)
            if scope.cancelled_caught:
                ctx.bump("abandoned")
                ctx.env.trace.record("exec.outcome", target, "abandoned")
                return
        except SteleError as exc:
            ctx.bump("failed")
            ctx.env.trace.record("exec.outcome", target, type(exc).__name__)
        else:
            ctx.bump("ok")
            ctx.env.trace.record("exec.outcome", target, r.cost, str(r.journal_digest))
            # Every nested call (memo hits included) must add up to the known
            # answer: a memo entry served under the wrong key shows up here.
            want = {"sim.nested_nap": arg + 40, "sim.twice": 2 * arg, "sim.nap": arg}[target]
            if r.value != want:
                ctx.violation("nested-value",
                              f"{target}({arg}) returned {r.value!r}, want {want}")
                return
            ctx.passed("nested-value")
        ctx.passed("outcomes")

    async def _guest(self, ctx: SimContext, rt: Any, rng: SeededRandom) -> None:
        target = rng.choice(("guest.sha256", "guest.effects", "guest.nested"))
        limits = ExecLimits(cycles=rng.choice((500, 5_000, 1_000_000)),
                            fuel=rng.choice((2, 1000)))
        grants = [e for e in ("Log", "KV", "Rand", "Exec", "Clock") if rng.chance(2, 3)]
        policy = Policy.allow("sim-guest-" + "-".join(grants), *grants)
        data = rng.bytes(rng.randbelow(40))
        memo = rng.chance(1, 2)
        try:
            r = await rt.execute(target, data, engine="riscv", limits=limits, policy=policy,
                                 memo=memo)
        except SteleError as exc:
            ctx.bump("failed")
            ctx.env.trace.record("exec.outcome", target, type(exc).__name__)
            ctx.passed("outcomes")
            return
        ctx.bump("ok")
        ctx.passed("outcomes")
        ctx.env.trace.record("exec.outcome", target, r.usage.cycles, str(r.journal_digest))
        if r.memo_hit:
            for _ in range(20):
                try:
                    fresh = await rt.execute(target, data, engine="riscv", limits=limits,
                                             policy=policy, memo=False)
                    break
                except InjectedCrash:
                    ctx.bump("crash_retries")
            else:
                return
            if (fresh.exit_code, fresh.stdout, fresh.usage.cycles) != \
                    (r.exit_code, r.stdout, r.usage.cycles):
                ctx.violation("memo-equals-reexecution", f"{target}: guest memo differs")
                return
            ctx.passed("memo-equals-reexecution")

    async def _one(self, ctx: SimContext, rt: Any, rng: SeededRandom,
                   targets: list[str]) -> None:
        roll = rng.randbelow(8)
        if roll < 2:
            await self._nested(ctx, rt, rng)
            return
        if roll == 2 and self.guests:
            await self._guest(ctx, rt, rng)
            return
        target = rng.choice(targets)
        limits = ExecLimits(fuel=rng.choice((50, 500, 5_000, 100_000)),
                            depth=rng.choice((5, 50, 400)),
                            timeout=rng.choice((None, 0.05, 2.0)))
        grants = [e for e in _EFFECTS if rng.chance(1, 2)]
        policy = Policy.allow("sim-" + "-".join(grants), *grants)
        memo = rng.chance(2, 3)
        try:
            r = await rt.execute(target, [], limits=limits, policy=policy, memo=memo)
        except SteleError as exc:
            ctx.bump("failed")
            ctx.passed("outcomes")
            ctx.env.trace.record("exec.outcome", target, type(exc).__name__)
            return
        except Exception as exc:  # noqa: BLE001 - an untyped failure is the violation
            ctx.violation("outcomes", f"{target}: untyped {type(exc).__name__}: {exc}")
            return
        ctx.passed("outcomes")
        ctx.bump("ok")
        ctx.env.trace.record("exec.outcome", target, r.cost, str(r.journal_digest))
        if r.memo_hit:
            ctx.bump("memo_hits")
            for _ in range(20):  # an injected crash is a kernel fault, not an answer: retry
                try:
                    fresh = await rt.execute(target, [], limits=limits, policy=policy,
                                             memo=False)
                    break
                except InjectedCrash:
                    ctx.bump("crash_retries")
                except SteleError as exc:
                    ctx.violation("memo-equals-reexecution",
                                  f"{target}: memo hit {r.value!r} but re-execution raised {exc}")
                    return
            else:
                return
            if (fresh.value, fresh.cost, fresh.breakdown) != (r.value, r.cost, r.breakdown):
                ctx.violation("memo-equals-reexecution",
                              f"{target}: memo {r.value!r}/{r.cost} vs fresh "
                              f"{fresh.value!r}/{fresh.cost}")
                return
            ctx.passed("memo-equals-reexecution")


register_workload("execution", ExecutionWorkload,
                  "generated TEL programs on the executor (memo, limits, policies, crashes)")
