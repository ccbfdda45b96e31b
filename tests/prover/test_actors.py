"""ProverActor and VerifierActor on the kernel: SimEnv (inline) and RealEnv (workers)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stele
from stele.actors.prover import P
from stele.actors.prover._actors import ProverActor, VerifierActor
from stele.actors.prover._errors import InvalidParameters, ProverError
from stele.actors.prover._messages import (
    Committed,
    CommitPolynomial,
    Loaded,
    LoadPolynomials,
    Opened,
    OpenPolynomial,
    ProveSum,
    SumProved,
    Verdict,
    VerifyOpening,
    VerifySum,
)
from stele.actors.prover._oracle import DenseOracle
from stele.actors.prover._proof import decode_argument, decode_commitment, decode_opening, encode_commitment
from stele.protocol import decode_message, encode_message
from stele.sim import SimEnv

N = 6


def _tables(seed: int, count: int = 2, n: int = N) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, P, (count, 1 << n)).astype(np.uint64)


def _point_bytes(seed: int, n: int = N) -> bytes:
    pt = np.random.default_rng(seed).integers(0, P, (n, 4)).astype("<u4")
    return pt.tobytes()


async def _session(env: stele.Env) -> list[object]:
    """Load, commit, open, verify, prove a sum, verify it, and some refusals."""
    out: list[object] = []
    tables = _tables(1)
    async with stele.ActorSystem(env, ask_timeout=120.0) as system:
        prover = await system.spawn("prover", ProverActor, {"spawned": DenseOracle(_tables(2))})
        verifier = await system.spawn("verifier", VerifierActor)
        values = tables.astype("<u4").tobytes()
        out.append(await prover.ask(LoadPolynomials("w", N, 2, values)))
        committed = await prover.ask(CommitPolynomial("w", 1))
        out.append(committed)
        opened = await prover.ask(OpenPolynomial("w", 1, _point_bytes(3), "t.open"))
        out.append(opened)
        out.append(await verifier.ask(VerifyOpening(opened.opening, "t.open", committed.commitment, 100,
                                                    _point_bytes(3), (opened.value,))))
        c = committed.commitment
        elsewhere = await verifier.ask(VerifyOpening(opened.opening, "t.open", c, 100, _point_bytes(4)))
        other_value = ((opened.value[0] + 1) % P, *opened.value[1:])
        wrong_value = await verifier.ask(VerifyOpening(opened.opening, "t.open", c, 100, None, (other_value,)))
        out.append((elsewhere.check, wrong_value.check))
        out.append(await verifier.ask(VerifyOpening(opened.opening, "t.other", c)))
        tampered = bytearray(opened.opening)
        tampered[-5] ^= 1
        out.append(await verifier.ask(VerifyOpening(bytes(tampered), "t.open", c)))
        out.append(await verifier.ask(VerifyOpening(b"\x00garbage", "t.open", c)))
        proved = await prover.ask(ProveSum("spawned", ((1, (0, 1)), (3, (1,))), "t.sum"))
        out.append(proved)
        sc = encode_commitment(decode_argument(proved.argument).commitment)
        out.append(await verifier.ask(VerifySum(proved.argument, "t.sum", proved.claimed_sum, commitment=sc)))
        wrong = ((proved.claimed_sum[0] + 1) % P, *proved.claimed_sum[1:])
        out.append(await verifier.ask(VerifySum(proved.argument, "t.sum", wrong, commitment=sc)))
        pinned = VerifySum(proved.argument, "t.sum", proved.claimed_sum, 100, ((1, (0, 1)), (3, (1,))), False, sc)
        other_g = VerifySum(proved.argument, "t.sum", proved.claimed_sum, 100, ((1, (0, 1)),), None, sc)
        out.append((await verifier.ask(pinned), await verifier.ask(other_g)))
        for bad in (
            CommitPolynomial("nope", 0),
            OpenPolynomial("w", 0, _point_bytes(3), "t"),  # never committed
            OpenPolynomial("w", 1, b"\x01\x02", "t"),  # malformed point
            CommitPolynomial("w", 0, (N, 9, 2, 100)),  # log_rows > num_vars
            LoadPolynomials("x", 2, 1, b"\x00" * 3),
            ProveSum("w", ((P, (0,)),), "t"),
            "not a message",
        ):
            try:
                await prover.ask(bad)
            except stele.RemoteError as exc:
                out.append(("refused", type(exc.cause).__name__))
        # Still alive after the refusals:
        out.append(await prover.ask(CommitPolynomial("w", 0)))
    return out


def _check_session(out: list[object]) -> None:
    loaded, committed, opened, ok, pins, other_t, tampered, garbage, proved, sum_ok, sum_wrong = out[:11]
    assert pins == ("point", "values")
    assert loaded == Loaded("w", N, 2)
    assert isinstance(committed, Committed) and isinstance(opened, Opened)
    opening = decode_opening(opened.opening)
    assert opening.commitment == decode_commitment(committed.commitment)
    assert opening.value == opened.value
    assert ok == Verdict(True)
    assert isinstance(other_t, Verdict) and not other_t.ok
    assert isinstance(tampered, Verdict) and not tampered.ok
    assert isinstance(garbage, Verdict) and garbage.check.startswith("malformed")
    assert isinstance(proved, SumProved) and proved.passes >= 1
    assert sum_ok == Verdict(True)
    assert isinstance(sum_wrong, Verdict) and sum_wrong.check == "claimed sum"
    assert out[11] == (Verdict(True), Verdict(False, "composition", "the argument proves a sum of another polynomial"))
    refusals = out[12:19]
    assert all(r[0] == "refused" for r in refusals)  # type: ignore[index]
    assert {r[1] for r in refusals} <= {"InvalidParameters", "MalformedProof", "ProverError"}  # type: ignore[index]
    assert isinstance(out[19], Committed)


def test_session_under_simulation_is_seed_independent() -> None:
    env = SimEnv(seed=9)
    out = env.run(_session, env)
    _check_session(out)
    env2 = SimEnv(seed=10)
    assert env2.run(_session, env2) == out  # the proofs do not depend on the schedule


async def test_session_under_real_env_uses_worker_processes() -> None:
    out = await _session(stele.RealEnv(max_workers=1))
    _check_session(out)


MESSAGES = [
    LoadPolynomials("a", 1, 1, b"\x00" * 8),
    Loaded("a", 1, 1),
    CommitPolynomial("a", 0, None),
    CommitPolynomial("a", 0, (4, 2, 1, 50)),
    Committed("a", 0, b"c"),
    OpenPolynomial("a", 0, b"\x00" * 16, "t"),
    Opened((1, 2, 3, 4), b"o"),
    ProveSum("a", ((1, (0, 1)), (2, (1,))), "t", True, None),
    SumProved((0, 0, 0, 0), b"arg", 3, 2),
    VerifyOpening(b"o", "t", None, 100),
    VerifyOpening(b"o", "t", b"c", 90, b"\x00" * 16, ((1, 2, 3, 4),)),
    VerifySum(b"arg", "t", (1, 0, 0, 0), 80),
    VerifySum(b"arg", "t", None, 100, ((1, (0, 1)), (2, (3,))), True, b"commitment"),
    Verdict(False, "merkle path", "column 3"),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: type(m).__name__)
def test_messages_round_trip_through_cbor(msg: object) -> None:
    assert decode_message(encode_message(msg)) == msg  # type: ignore[arg-type]


def test_message_tags_are_in_the_prover_range() -> None:
    for msg in MESSAGES:
        assert 400 <= type(msg).__stele_tag__ <= 499  # type: ignore[attr-defined]


@given(st.binary(max_size=200), st.text(max_size=10))
def test_verifier_job_never_raises_on_arbitrary_bytes(data: bytes, label: str) -> None:
    from stele.actors.prover._actors import verify_opening_job, verify_sum_job

    ok, check, _ = verify_opening_job(data, label, None, 100)
    assert not ok and check
    ok, check, _ = verify_sum_job(data, label, None, 100)
    assert not ok and check


def test_prover_errors_survive_pickling() -> None:
    import pickle

    exc = InvalidParameters("poly", 3, "in [0, 2)")
    back = pickle.loads(pickle.dumps(exc))
    assert isinstance(back, ProverError) and back.name == "poly" and str(back) == str(exc)


class _CrashFirstOpen(stele.KernelObserver):
    """Crash the prover on its first OpenPolynomial (once), record restarts."""

    def __init__(self) -> None:
        self.crashed = False
        self.restarts: list[str] = []

    def should_crash(self, actor: str, message: object) -> bool:
        if actor == "prover" and isinstance(message, OpenPolynomial) and not self.crashed:
            self.crashed = True
            return True
        return False

    def on_restart(self, actor: str) -> None:
        self.restarts.append(actor)


async def _crash_session(env: stele.Env, observer: _CrashFirstOpen) -> list[object]:
    out: list[object] = []
    async with stele.ActorSystem(env, observer=observer) as system:
        prover = await system.spawn("prover", ProverActor, {"o": DenseOracle(_tables(4))})
        await prover.ask(CommitPolynomial("o", 0))
        try:
            await prover.ask(OpenPolynomial("o", 0, _point_bytes(1), "t"))
        except stele.RemoteError as exc:
            out.append(type(exc.cause).__name__)
        # Restarted with fresh state: the commitment is gone, and that is a typed refusal.
        try:
            await prover.ask(OpenPolynomial("o", 0, _point_bytes(1), "t"))
        except stele.RemoteError as exc:
            out.append(type(exc.cause).__name__)
        committed = await prover.ask(CommitPolynomial("o", 0))
        opened = await prover.ask(OpenPolynomial("o", 0, _point_bytes(1), "t"))
        verifier = await system.spawn("verifier", VerifierActor)
        out.append(await verifier.ask(VerifyOpening(opened.opening, "t", committed.commitment)))
    return out


def test_prover_restarts_after_an_injected_crash() -> None:
    env = SimEnv(seed=3)
    observer = _CrashFirstOpen()
    out = env.run(_crash_session, env, observer)
    assert out == ["InjectedCrash", "InvalidParameters", Verdict(True)]
    assert observer.restarts == ["prover"]


async def _unpinned_session(env: stele.Env) -> list[object]:
    async with stele.ActorSystem(env, ask_timeout=120.0) as system:
        prover = await system.spawn("prover", ProverActor, {"s": DenseOracle(_tables(2))})
        verifier = await system.spawn("verifier", VerifierActor)
        committed = await prover.ask(CommitPolynomial("s", 1))
        opened = await prover.ask(OpenPolynomial("s", 1, _point_bytes(3), "t.open"))
        proved = await prover.ask(ProveSum("s", ((1, (0, 1)),), "t.sum"))
        return [
            await verifier.ask(VerifyOpening(opened.opening, "t.open")),
            await verifier.ask(VerifyOpening(opened.opening, "t.open", None, 100, _point_bytes(3), (opened.value,))),
            await verifier.ask(VerifyOpening(opened.opening, "t.open", committed.commitment)),
            await verifier.ask(VerifySum(proved.argument, "t.sum")),
            await verifier.ask(VerifySum(proved.argument, "t.sum", proved.claimed_sum)),
            await verifier.ask(VerifySum(proved.argument, "t.sum", None, 100, None, None,
                                         encode_commitment(decode_argument(proved.argument).commitment))),
        ]


def test_verifier_refuses_a_statement_that_pins_nothing() -> None:
    """A proof about a polynomial the prover chose itself is no statement: the verifier rejects it."""
    env = SimEnv(seed=5)
    out = env.run(_unpinned_session, env)
    assert all(isinstance(v, Verdict) for v in out)
    assert [v.check for v in out if isinstance(v, Verdict)] == ["unpinned", "unpinned", "", "unpinned",
                                                                 "unpinned", "unpinned"]
    assert isinstance(out[2], Verdict) and out[2].ok
