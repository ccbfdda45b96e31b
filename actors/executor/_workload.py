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
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from ..._core._actor_errors import InjectedCrash, KernelError
from ...protocol import Digest
from ...store import StoreUnavailable
from ..._errors import SteleError
from ..._core._random import SeededRandom
from ...sim import SimContext, register_workload
from ...sim._workload import int_option as _opt
from ..sandbox import Policy
from ._simcheck import DURABLE_TEL, DurabilityModel, media_damaged, retry as _retry
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


#: The store's directory on the simulated disk.
_STORE = "stele"
#: Actors the kernel may crash: every service of the runtime.
_CRASHABLE = frozenset({"executor", "cache", "coprocessor", "repository", "allocator"})
#: Attempts at an operation the disk may fail transiently (open, store, read back).
_RETRIES = 40
#: A bound on runtime lives per run (each is opened, driven, then crashed or stopped).
_MAX_LIVES = 24


class ExecutionWorkload:
    """See the module docstring."""

    def configure(self, rng: SeededRandom, options: dict[str, str]) -> list[tuple[str, str]]:
        """Draw the program count, execution count and concurrency."""
        self.programs = _opt(options, "programs", rng.choice((3, 8, 16)), 1, 1000)
        self.executions = _opt(options, "executions", rng.choice((60, 150, 400)), 1, 100_000)
        self.workers = _opt(options, "workers", rng.choice((1, 3, 8)), 1, 64)
        self.seed = rng.randbits(62)
        return [("programs", str(self.programs)), ("executions", str(self.executions)),
                ("workers", str(self.workers))]

    async def run(self, ctx: SimContext) -> None:
        """Run the runtime through lives (crash, restart, recover), checking each."""
        ctx.observer.crashable = lambda name: name in _CRASHABLE
        rng = ctx.rng
        self.model = DurabilityModel(ctx)
        self.stored: dict[str, Digest] = {}
        self.targets: list[str] = []
        self.remaining = self.executions
        self.life = 0
        self.refused = False  # the damaged store refused to open (typed): the run ends
        while True:
            self.life += 1
            final = not ctx.time_left() or self.remaining <= 0 or self.life >= _MAX_LIVES
            crash = (not final and bool(ctx.faults.crash) and rng.chance(2, 3))
            length = rng.choice((0.03, 0.1, 0.3, 1.0))
            ctx.env.trace.record("runtime.open", self.life)
            await self._life(ctx, rng, final=final, length=length, crash=crash)
            if final or self.refused:
                return
            if crash:
                damaged = ctx.env.disk.crash(_STORE + "/")
                ctx.env.disk.restore_power()
                ctx.bump("runtime_crashes")
                ctx.env.trace.record("runtime.crash", self.life, damaged)
            else:
                ctx.bump("runtime_restarts")

    async def _life(self, ctx: SimContext, rng: SeededRandom, *, final: bool, length: float,
                    crash: bool) -> None:
        from ... import open_runtime
        from ...store import StoreError

        last: StoreError | KernelError | None = None
        for attempt in range(_RETRIES):
            try:
                async with open_runtime(_STORE, env=ctx.env, observer=ctx.observer,
                                        restart_intensity=1_000_000) as rt:
                    await self._recover(ctx, rt)
                    if final:
                        await self._traffic(ctx, rt, rng)
                        ctx.heal()  # liveness: faults stop, and the runtime must converge
                        await self._audit(ctx, rt, liveness=True)
                        return
                    with anyio.move_on_after(length + (0.5 if crash else 0.0)):
                        async with anyio.create_task_group() as tg:
                            tg.start_soon(self._traffic, ctx, rt, rng)
                            if crash:  # power fails after some more disk writes: mid-commit
                                tg.start_soon(self._power_loss, ctx, rng, length, tg.cancel_scope)
                    if not crash:
                        await self._drain(ctx, rt)
                        await self._audit(ctx, rt)
                    else:
                        self.model.crashed()  # whatever was in flight may or may not be durable
                return
            except (StoreError, KernelError) as exc:  # the disk failed while opening, or an
                # injected crash ended the last retry of recovery: a retry, not a verdict
                last = exc
                ctx.bump("open_retries")
                ctx.env.trace.record("runtime.open_failed", type(exc).__name__)
                await ctx.env.sleep(0.01)
        if media_damaged(ctx):
            # Sector faults damaged durable data: refusing with a typed error (a
            # checksum or SQLite's own check caught it) is the right answer.
            ctx.env.trace.record("runtime.refused", type(last).__name__)
            ctx.passed("recovery-damage-typed")
            self.refused = True
            return
        ctx.violation("recovery", f"the runtime did not open in {_RETRIES} attempts")

    async def _power_loss(self, ctx: SimContext, rng: SeededRandom, after: float,
                          scope: anyio.CancelScope) -> None:
        """Arm a power loss ``after`` seconds in; crash the runtime soon after it hits."""
        await ctx.env.sleep(after)
        ops = rng.randbelow(rng.choice((4, 16, 64)))  # small: likely inside the next commit
        ctx.env.trace.record("runtime.power_loss", ops)
        ctx.env.disk.lose_power_after(ops)
        while ctx.env.disk.powered:
            await ctx.env.sleep(0.005)
        await ctx.env.sleep(0.005)  # the runtime notices (its writes fail), then dies
        scope.cancel()

    async def _recover(self, ctx: SimContext, rt: Any) -> None:
        """First life: store the code.  Later lives: every acknowledged write is still there."""
        if self.life == 1:
            await _retry(ctx, lambda: rt.store(NESTED_TEL, namespace="sim"))
            await _retry(ctx, lambda: rt.store(DURABLE_TEL, namespace="dur"))
            await _retry(ctx, lambda: rt.store("def square(n: Int) -> Int = n * n"))
            self.guests = _GUESTS.is_dir()
            if self.guests:
                for name, rel in (("sha256", "guests/bin/sha256.elf"),
                                  ("effects", "effect_guest/effects.elf"),
                                  ("nested", "effect_guest/nested.elf")):
                    data = await ctx.env.run_blocking((_GUESTS / rel).read_bytes)
                    await _retry(ctx, partial(rt.store_blob, data, name=f"guest.{name}"))
            from ...tel.testing import generate, splitmix_chooser

            for i in range(self.programs):
                prog = generate(splitmix_chooser(self.seed + i))
                names = await _retry(ctx, partial(rt.store, prog.source, namespace=f"p{i}"))
                self.targets.append(next(n for n in names if n.endswith(prog.entry)))
                self.stored.update(names)
            return
        # Acknowledged code: every stored name resolves to the digest it was stored as.
        for name, digest in sorted(self.stored.items()):
            got = await _retry(ctx, partial(rt.resolve, name))
            if got is None:
                ctx.violation("acked-store", f"life {self.life}: {name} does not resolve")
                return
            if got != digest:
                ctx.violation("acked-store", f"life {self.life}: {name} -> {got}, "
                              f"acknowledged {digest}")
                return
            ctx.passed("acked-store")
        await self.model.read_back(rt, self.life)

    async def _traffic(self, ctx: SimContext, rt: Any, rng: SeededRandom) -> None:
        async def worker(w: int) -> None:
            while self.remaining > 0 and ctx.time_left():
                self.remaining -= 1
                if rng.randbelow(4) == 0:
                    await self.model.bump(rt, rng, w)
                elif rng.randbelow(40) == 0:
                    await self._store_more(ctx, rt, rng)
                else:
                    await self._one(ctx, rt, rng, self.targets)
                await ctx.env.sleep(rng.randbelow(20) / 1000)  # spread over virtual time

        async with anyio.create_task_group() as tg:
            for w in range(self.workers):
                tg.start_soon(worker, w)

    async def _store_more(self, ctx: SimContext, rt: Any, rng: SeededRandom) -> None:
        """Store new code mid-run; acknowledged names must survive every crash."""
        n = len(self.stored)
        src = f"def v{n}(x: Int) -> Int = x + {rng.randbelow(1000)}"
        try:
            names = await rt.store(src, namespace=f"life{self.life}")
        except SteleError as exc:
            ctx.bump("store_failed")
            ctx.env.trace.record("store.outcome", type(exc).__name__)
            return
        self.stored.update(names)
        ctx.passed("store-acked")

    async def _drain(self, ctx: SimContext, rt: Any) -> Any:
        stats = None
        for _ in range(1000):  # abandoned executions finish cancelling
            try:
                stats = await rt.stats()
            except KernelError:  # a kernel fault (crash, restart), not a verdict: ask again
                ctx.bump("crash_retries")
                await ctx.env.sleep(0.01)
                continue
            ctx.env.trace.record("drain", stats.executor.running, stats.allocator.live_grants)
            if stats.executor.running == 0:
                break
            await ctx.env.sleep(0.01)
        return stats

    async def _audit(self, ctx: SimContext, rt: Any, *, liveness: bool = False) -> None:
        started = ctx.env.now_ns()
        stats = await self._drain(ctx, rt)
        if stats is None:
            if liveness:
                ctx.violation("liveness", "stats() never answered after the faults stopped")
            return
        if liveness:
            if stats.executor.running:
                ctx.violation("liveness", f"{stats.executor.running} executions still running "
                              f"{(ctx.env.now_ns() - started) / 1e9:.1f}s after the faults "
                              "stopped")
                return
            ctx.passed("liveness")
        status = stats.allocator
        if status.live_grants or status.available != status.capacity:
            ctx.violation("allocator-full", f"life {self.life}, after every execution: {status}")
        else:
            ctx.passed("allocator-full")
        await self.model.read_back(rt, self.life)

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
                except (InjectedCrash, StoreUnavailable):  # a fault, not an answer: retry
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
                except (InjectedCrash, StoreUnavailable):
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
