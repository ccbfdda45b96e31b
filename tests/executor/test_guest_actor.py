"""Guests run on the CoprocessorActor: suspend at each effect ecall, resume with the reply."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

import stele
from stele.actors.coprocessor import CycleLimitExceeded, Machine, RunLimits, SnapshotError, load_elf
from stele.actors.coprocessor import _session
from stele.actors.coprocessor._actor import CoprocessorActor
from stele.actors.coprocessor._messages import GuestFinished, GuestSuspended, ResumeGuest, RunGuest
from stele.actors.executor import ExecLimits
from stele.actors.sandbox import EffectDenied, Policy
from stele.protocol import Digest, decode, encode
from stele.sim import SimEnv

from ._support import ROOT, run

EFFECTS = (ROOT / "examples" / "effect_guest" / "effects.elf").read_bytes()
NESTED = (ROOT / "examples" / "effect_guest" / "nested.elf").read_bytes()
SHA = (ROOT / "examples" / "guests" / "bin" / "sha256.elf").read_bytes()
ALL = Policy.allow("all", "Log", "KV", "Rand")


def _reply(request: object) -> object:
    """Fixed replies for the effects guest (Log and KV answer Unit, Rand an int)."""
    assert isinstance(request, list)
    return 4 if request[0] == "Rand" else None


def _direct(limit: int = 10**7) -> Any:
    """The effects guest run uninterrupted, its ecalls answered inside the machine."""
    m = Machine(load_elf(EFFECTS), input=b"abc", effect_handler=_reply)
    res = m.run(limit)
    return res, m.snapshot().digest(), len(m.memory.pages) * 4096


class _CountingEnv(stele.RealEnv):
    """RealEnv that records which functions went to a worker process."""

    def __init__(self) -> None:
        super().__init__()
        self.worker_calls: list[str] = []

    async def run_in_worker(self, fn: Any, *args: Any) -> Any:
        self.worker_calls.append(fn.__name__)
        return await super().run_in_worker(fn, *args)


def _execute(env: stele.Env) -> tuple[Any, ...]:
    async def main(env: stele.Env) -> tuple[Any, ...]:
        async with stele.open_runtime(None, env=env) as rt:
            await rt.store_blob(EFFECTS, name="g/effects")
            r = await rt.execute("g/effects", [b"abc"], engine="riscv", policy=ALL, memo=False)
        return (r.exit_code, r.stdout, r.usage.cycles, r.usage.memory, r.journal_digest,
                r.logs, r.effects)

    if isinstance(env, SimEnv):
        return env.run(main, env)
    return trio.run(main, env)


def test_guest_with_effects_uses_a_worker_process_under_realenv_same_result_as_sim() -> None:
    sim = _execute(SimEnv(seed=1))
    assert sim[0] == 0 and sim[6] == 3 and sim[5] == ("abc",)
    _session._MACHINES.clear()
    env = _CountingEnv()
    real = _execute(env)
    assert real == sim
    # one step to the first ecall, one resume per effect, all in worker processes
    assert env.worker_calls.count("guest_step") == 4
    assert not _session._MACHINES  # the machines lived in the workers, not here


@pytest.mark.parametrize("kind", ["sim", "real"])
def test_denied_effect_ends_run_and_coprocessor_keeps_serving(kind: str) -> None:
    async def scenario(rt: Any) -> None:
        await rt.store_blob(EFFECTS, name="g/effects")
        await rt.store_blob(SHA, name="g/sha")
        for _ in range(3):
            with pytest.raises(EffectDenied) as info:  # Log allowed, then KV denied
                await rt.execute("g/effects", [b"x"], engine="riscv",
                                 policy=Policy.allow("l", "Log"), memo=False)
            assert info.value.effect == "KV"
        ok = await rt.execute("g/effects", [b"x"], engine="riscv", policy=ALL, memo=False)
        assert ok.exit_code == 0 and ok.effects == 3
        h = await rt.execute("g/sha", [b"abc"], engine="riscv", memo=False)
        assert h.stdout.startswith(b"ba7816bf")
        cop = rt.system.lookup("coprocessor").stats()
        assert (cop.failures, cop.restarts) == (0, 0) and cop.handled == 3 * 2 + 4 + 1  # steps, each answered

    run(kind, scenario)


def test_cycle_limit_is_exact_across_suspensions() -> None:
    direct, _, _ = _direct()
    total = direct.cycles

    async def scenario(rt: Any) -> None:
        await rt.store_blob(EFFECTS, name="g/effects")
        full = await rt.execute("g/effects", [b"abc"], engine="riscv", policy=ALL, memo=False)
        assert full.usage.cycles == total
        # around every suspension point, and at the very end
        points = [s.cycles for s in await _steps(rt.system.lookup("coprocessor"))]
        for limit in sorted({p + d for p in [*points, total] for d in (-1, 0, 1)}):
            if limit >= total:
                r = await rt.execute("g/effects", [b"abc"], engine="riscv", policy=ALL,
                                     memo=False, limits=ExecLimits(cycles=limit))
                assert r.usage.cycles == total
            else:
                with pytest.raises(CycleLimitExceeded) as info:
                    await rt.execute("g/effects", [b"abc"], engine="riscv", policy=ALL,
                                     memo=False, limits=ExecLimits(cycles=limit))
                assert info.value.cycle == limit  # type: ignore[attr-defined]

    run("sim", scenario)


async def _steps(ref: stele.ActorRef, limit: int = 10**7) -> list[Any]:
    """Drive the effects guest through the actor by hand; every reply, in order."""
    lim = RunLimits(max_cycles=limit)
    out: list[Any] = [await ref.ask(RunGuest(EFFECTS, b"abc", lim))]
    while isinstance(out[-1], GuestSuspended):
        s = out[-1]
        reply = encode(_reply(decode(s.request)))
        out.append(await ref.ask(ResumeGuest(EFFECTS, b"abc", lim, s.snapshot,
                                             s.snapshot_digest, reply)))
    return out


@settings(max_examples=25, deadline=None)
@given(limit=st.integers(min_value=1, max_value=3000), cold=st.booleans())
def test_actor_steps_equal_an_uninterrupted_run(limit: int, cold: bool) -> None:
    """Any limit: the stepped run ends exactly like the uninterrupted one (warm or cold)."""
    direct, _, memory = _direct()
    if cold:  # resume from the snapshot bytes alone, as another worker process would
        _session._MACHINES.clear()

    async def main(env: stele.Env) -> list[Any]:
        async with stele.ActorSystem(env) as system:
            ref = await system.spawn("cop", CoprocessorActor)
            try:
                return await _steps(ref, limit)
            except stele.RemoteError as exc:
                return [exc.cause]

    env = SimEnv(seed=1)
    got = env.run(main, env)
    end = got[-1]
    if limit >= direct.cycles:
        assert isinstance(end, GuestFinished)
        assert (end.exit_code, end.stdout, end.cycles, end.memory_bytes) == \
            (direct.exit_code, direct.stdout, direct.cycles, memory)
        assert [s.cycles for s in got[:-1]] == sorted(s.cycles for s in got[:-1])
        assert len(got) == 4
    else:
        assert isinstance(end, CycleLimitExceeded) and end.cycle == limit  # type: ignore[attr-defined]
        assert f"max_cycles={limit}" in str(end)


def test_resume_checks_the_snapshot_digest_and_actor_keeps_serving() -> None:
    async def main(env: stele.Env) -> list[Any]:
        async with stele.ActorSystem(env) as system:
            ref = await system.spawn("cop", CoprocessorActor)
            first = await ref.ask(RunGuest(EFFECTS, b"abc", RunLimits()))
            assert isinstance(first, GuestSuspended)
            assert Digest.of(first.snapshot) == first.snapshot_digest
            bad = first.snapshot[:-1] + bytes([first.snapshot[-1] ^ 1])
            errors = []
            for snap, digest in ((bad, first.snapshot_digest), (bad, Digest.of(bad))):
                try:
                    await ref.ask(ResumeGuest(EFFECTS, b"abc", RunLimits(), snap, digest,
                                              encode(None)))
                except stele.RemoteError as exc:
                    errors.append(exc.cause)
            return [*errors, *await _steps(ref)]

    _session._MACHINES.clear()
    env = SimEnv(seed=1)
    got = env.run(main, env)
    assert all(isinstance(e, SnapshotError) for e in got[:2]) and len(got) == 6
    assert isinstance(got[-1], GuestFinished) and got[-1].cycles == _direct()[0].cycles
