"""CoprocessorActor: runs, exact limits, typed failures, witness record/read."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stele
from stele.actors.coprocessor._actor import CoprocessorActor, run_execution, run_program
from stele.actors.coprocessor._binding import Execution
from stele.actors.coprocessor._checkpoint import collect_trace
from stele.actors.coprocessor._guests import guest_elf, guest_input
from stele.actors.coprocessor._messages import (
    ReadWitness,
    RecordWitness,
    RunLimits,
    RunOutcome,
    RunProgram,
    WitnessRecorded,
    WitnessRows,
)
from stele.actors.coprocessor._stream_errors import GuestRunFailed
from stele.protocol import decode_message, encode_message
from stele.sim import SimEnv

SORT = guest_elf("sort").read_bytes()
SORT_IN = guest_input("sort", 50)


def _cycles() -> int:
    return Execution(SORT, SORT_IN).run_fast().cycles


async def _session(env: stele.Env) -> list[object]:
    out: list[object] = []
    t = _cycles()
    async with stele.ActorSystem(env) as system:
        ref = await system.spawn("cop", CoprocessorActor)
        out.append(await run_program(ref, SORT, SORT_IN, RunLimits(max_cycles=t), timeout=60))
        try:
            await run_program(ref, SORT, SORT_IN, RunLimits(max_cycles=t - 1), timeout=60)
        except stele.RemoteError as exc:
            out.append(exc.cause)
        try:
            await run_program(ref, b"\x7fELF garbage", b"", timeout=60)
        except stele.RemoteError as exc:
            out.append(exc.cause)
        rec = await ref.ask(RecordWitness(SORT, SORT_IN, RunLimits(max_cycles=t), workers=3), timeout=60)
        out.append(rec)
        assert isinstance(rec, WitnessRecorded)
        out.append(await ref.ask(ReadWitness(rec.checkpoints, 5, t - 10, workers=2), timeout=60))
        # the actor survived every failure and still answers
        out.append(await run_program(ref, SORT, SORT_IN, timeout=60))
    return out


def _check(results: list[object]) -> None:
    ok, limit, bad_elf, rec, rows, again = results
    assert isinstance(ok, RunOutcome) and ok.exit_code == 0
    assert ok.stdout.startswith(b"n=50 ") and len(ok.public_output) == 4
    assert ok.cycles == _cycles() and ok.halt_reason == "exit"
    assert again == ok  # deterministic, including the final state's digest
    assert isinstance(limit, GuestRunFailed) and limit.kind == "CycleLimitExceeded"
    assert f"max_cycles={ok.cycles - 1}" in str(limit)
    assert isinstance(bad_elf, GuestRunFailed) and bad_elf.kind == "ElfError"
    assert isinstance(rec, WitnessRecorded)
    assert rec.total_cycles == ok.cycles and rec.checkpoint_count == 3
    assert isinstance(rows, WitnessRows) and rows.k == 14
    _, trace = collect_trace(Execution(SORT, SORT_IN), 1000)
    got = np.frombuffer(rows.data, dtype="<u4").reshape(-1, 14)
    assert np.array_equal(got, trace[5:ok.cycles - 5])


def test_actor_under_simenv_runs_inline_and_is_deterministic() -> None:
    first = SimEnv(seed=3).run(_session, SimEnv(seed=3))
    _check(first)


def test_actor_under_simenv_repeats() -> None:
    def comparable(results: list[object]) -> list[object]:
        return [(type(r).__name__, str(r)) if isinstance(r, Exception) else r for r in results]

    env1, env2 = SimEnv(seed=8), SimEnv(seed=8)
    assert comparable(env1.run(_session, env1)) == comparable(env2.run(_session, env2))


async def test_actor_under_realenv_uses_worker_processes() -> None:
    _check(await _session(stele.RealEnv(max_workers=2)))


def test_messages_round_trip_through_cbor() -> None:
    outcome = run_execution(SORT, SORT_IN, 10**7, 1 << 24)
    assert isinstance(outcome, RunOutcome)
    for msg in (RunLimits(5, 8192), RunProgram(SORT, SORT_IN, RunLimits()), outcome,
                ReadWitness(outcome.state_digest, 0, 10, 2)):
        assert decode_message(encode_message(msg)) == msg


def test_bad_limits_are_rejected_by_field() -> None:
    with pytest.raises(ValueError, match="memory_limit=0"):
        RunLimits(memory_limit=0)
    with pytest.raises(ValueError, match="workers=0"):
        ReadWitness(run_execution(SORT, SORT_IN, 10**7, 1 << 24).state_digest, 0, 1, 0)  # type: ignore[union-attr]


@settings(max_examples=15)
@given(st.integers(0, 40))
def test_cycle_limit_is_exact(slack: int) -> None:
    t = _cycles()
    assert isinstance(run_execution(SORT, SORT_IN, t + slack, 1 << 24), RunOutcome)
    failed = run_execution(SORT, SORT_IN, max(0, t - 1 - slack), 1 << 24)
    assert isinstance(failed, tuple) and failed[0] == "CycleLimitExceeded"
