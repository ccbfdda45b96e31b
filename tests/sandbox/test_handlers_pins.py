"""Pins for the effect handlers found unpinned by mutation testing (issue 19).

Behaviours of one :class:`EffectSession`, driven directly (no executor):
``Clock.now`` is the Env's wall clock in whole milliseconds and
``Clock.sleep(ms)`` sleeps ms on Env time; ``max_calls`` counts each call
once; ``Exec.call`` without an executor is denied; a KV request through the
async path works on a table without a writer; KV requests are validated
(operation, key type, value type; a Bytes key is read as UTF-8); while a
writer batch holds the KV connection the synchronous methods refuse; a guest
request must be ``[effect, op, [args]]``; the Rand stream's seed function is
called once, on the first draw, and gives the stream a bytes seed gives.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import trio

import stele

from stele.actors.sandbox import (
    BadEffectRequest, DeterministicRandom, EffectDenied, EffectSession, Grant, KVStore, Policy,
    parse_guest_request,
)
from stele.sim import SimEnv
from stele.tel import Some


def _session(*effects: str | Grant, env: SimEnv | None = None, **kw: Any) -> EffectSession:
    return EffectSession(env or SimEnv(seed=1), Policy.allow("p", *effects), label="t",
                         tenant="t", seed=b"s", kv=kw.pop("kv", None) or KVStore(), **kw)


def test_clock_now_is_the_env_wall_clock_in_whole_milliseconds() -> None:
    env = SimEnv(seed=3)
    s = _session("Clock", env=env)
    want = env.wall_ns() // 1_000_000
    assert want > 10**12  # milliseconds since the epoch, so the unit matters
    assert s.handle_now("Clock", "now", ()) == want
    assert s.handle_sync(["Clock", "now", []]) == want


def test_clock_sleep_sleeps_its_argument_in_milliseconds_on_env_time() -> None:
    env = SimEnv(seed=1)
    s = _session("Clock", env=env)

    async def main() -> int:
        t0 = env.now_ns()
        assert await s.handle("Clock", "sleep", (250,)) == ()
        return env.now_ns() - t0

    assert env.run(main) == 250_000_000
    with pytest.raises(BadEffectRequest, match=r"^Clock\.sleep: argument 0 must be an Int"):
        SimEnv(seed=1).run(s.handle, "Clock", "sleep", ("soon",))


def test_max_calls_counts_each_call_once() -> None:
    s = _session(Grant("Rand", max_calls=3))
    for _ in range(3):
        s.handle_now("Rand", "int", (1, 6))
    assert s.calls["Rand"] == 3
    with pytest.raises(EffectDenied, match="call limit reached"):
        s.handle_now("Rand", "int", (1, 6))


def test_exec_call_without_an_executor_is_denied() -> None:
    s = _session("Exec")
    with pytest.raises(EffectDenied) as info:
        SimEnv(seed=1).run(s.handle, "Exec", "call", ("f", 1))
    assert info.value.reason == "no executor to run stored code"


def test_kv_through_the_async_path_on_a_table_without_a_writer() -> None:
    kv = KVStore()
    assert kv.writer is None
    s = _session("KV", kv=kv)
    env = s.env

    async def main() -> list[Any]:
        out = [await s.handle("KV", "get", ("k",))]
        out.append(await s.handle("KV", "put", ("k", b"v1")))
        out.append(await s.handle("KV", "get", ("k",)))
        out.append(await s.handle("KV", "delete", ("k",)))
        out.append(await s.handle("KV", "get", ("k",)))
        return out

    assert env.run(main) == [None, (), Some(b"v1"), (), None]
    assert s.stored_bytes == len("k") + len(b"v1")
    assert len(s.journal) == 5


def test_kv_requests_are_validated() -> None:
    s = _session("KV")
    with pytest.raises(BadEffectRequest, match=r"^no handler for KV\.scan$"):
        s.handle_now("KV", "scan", ("k",))
    with pytest.raises(BadEffectRequest, match=r"^KV\.get: key must be a String, got 5"):
        s.handle_now("KV", "get", (5,))
    with pytest.raises(BadEffectRequest, match=r"^KV\.put: value must be Bytes, got 'v'"):
        s.handle_now("KV", "put", ("k", "v"))
    # a guest's key may arrive as Bytes: it names the same row as the String
    assert s.handle_sync(["KV", "put", [b"k\xc3\xa9", b"v"]]) is None
    assert s.handle_now("KV", "get", ("k\u00e9",)) == Some(b"v")
    assert s.handle_now("KV", "delete", ("k\u00e9",)) == ()
    assert s.handle_now("KV", "get", (b"k\xc3\xa9",)) is None


@pytest.mark.parametrize("request_", [
    ("Log", "emit", ["x"]),             # a tuple, not a list
    ["Log", "emit"],                    # too short
    ["Log", "emit", ["x"], None],       # too long
    [1, "emit", ["x"]],                 # effect not a String
    ["Log", 2, ["x"]],                  # op not a String
    ["Log", "emit", "x"],               # args not a list
])
def test_a_malformed_guest_request_is_refused(request_: object) -> None:
    with pytest.raises(BadEffectRequest, match=r"^a guest effect request is \[effect, op, \[args\]\]"):
        parse_guest_request(request_)


def test_a_well_formed_guest_request_parses() -> None:
    assert parse_guest_request(["Log", "emit", ["x", 1]]) == ("Log", "emit", ("x", 1))


def test_the_rand_seed_function_runs_once_on_the_first_draw() -> None:
    calls: list[int] = []

    def seed() -> bytes:
        calls.append(1)
        return b"seed"

    lazy = DeterministicRandom(seed)
    assert calls == []
    first = lazy.bytes(40)
    assert calls == [1]
    rest = lazy.bytes(40)
    assert calls == [1]
    eager = DeterministicRandom(b"seed")
    assert eager.bytes(80) == first + rest


def test_synchronous_kv_methods_refuse_while_a_writer_batch_holds_the_connection() -> None:
    kv = KVStore()
    kv.put("t", "k", b"v")

    async def main() -> list[object]:
        writer = kv.attach_writer(stele.RealEnv())
        gate = threading.Event()
        out: list[object] = []
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.serve)
            writer.submit(gate.wait, 30)  # a batch that holds the connection until released
            while not writer.busy:
                await trio.lowlevel.checkpoint()
            for call in (lambda: kv.get("t", "k"), lambda: kv.put("t", "k", b"w"),
                         lambda: kv.delete("t", "k")):
                with pytest.raises(RuntimeError, match="a writer batch holds the connection"):
                    call()
            gate.set()
            await kv.own()  # the batch is over: the connection is free until the next await
            out.append(kv.get("t", "k"))
            out.append(await kv.aget("t", "k"))
            nursery.cancel_scope.cancel()
        return out

    assert trio.run(main) == [b"v", b"v"]


def _durable_session(seed: bytes, entries: list[bytes]) -> tuple[EffectSession, Any]:
    from stele.actors.sandbox._durable import DurableLog, DurableStore

    kv = KVStore()
    s = EffectSession(SimEnv(seed=1), Policy.allow("p", "Rand", "Clock"), label="t", tenant="t",
                      seed=seed, kv=kv)
    s.durable = DurableLog(DurableStore(kv._db), "run-1", list(entries))
    return s, s.durable


def test_a_replayed_rand_draw_advances_the_stream_as_the_first_run_did() -> None:
    first, log = _durable_session(b"seed", [])
    draws = [first.handle_now("Rand", "int", (1, 10**9)) for _ in range(3)]
    now = first.handle_now("Clock", "now", ())
    assert len(log.entries) == 4
    # a resumed run: the first two draws and nothing else are journaled
    again, log2 = _durable_session(b"seed", log.entries[:2])
    assert [again.handle_now("Rand", "int", (1, 10**9)) for _ in range(2)] == draws[:2]
    assert log2.replayed == 2
    assert again.handle_now("Rand", "int", (1, 10**9)) == draws[2]  # live, same stream position
    assert again.handle_now("Clock", "now", ()) == now
    assert again.journal.digest() == first.journal.digest()


def test_a_replayed_rand_draw_the_stream_disagrees_with_is_a_divergence_at_its_index() -> None:
    from stele.actors.sandbox import ReplayDiverged

    first, log = _durable_session(b"seed", [])
    for _ in range(3):
        first.handle_now("Rand", "int", (1, 10**9))
    other, _ = _durable_session(b"another seed", log.entries)  # same journal, another stream
    with pytest.raises(ReplayDiverged) as info:
        other.handle_now("Rand", "int", (1, 10**9))
    assert info.value.ident == "run-1" and info.value.seq == 0
    assert info.value.journaled.startswith("Rand -> ") and info.value.now.startswith("Rand -> ")


def test_an_allowed_effect_with_no_such_operation_is_a_typed_error() -> None:
    s = _session("Log", "Rand")
    with pytest.raises(BadEffectRequest, match=r"no handler for Log\.shout"):
        s.handle_now("Log", "shout", ("x",))
    with pytest.raises(BadEffectRequest, match=r"no handler for Rand\.coin"):
        s.handle_now("Rand", "coin", ())


def test_effect_arguments_must_be_scalars_and_unit_is_one() -> None:
    s = _session("Log")
    with pytest.raises(BadEffectRequest, match=r"Log\.emit: argument 0 is a list"):
        s.handle_now("Log", "emit", (["not", "a", "scalar"],))
    with pytest.raises(BadEffectRequest, match=r"argument 0 is a tuple"):
        s.handle_now("Log", "emit", ((1, 2),))
    assert s.handle_now("Log", "emit", ((),)) == ()  # Unit is a scalar argument
    assert s.logs == ["()"]


def test_own_kv_owns_a_table_that_can_be_owned_and_skips_a_view_that_cannot() -> None:
    from stele.actors.sandbox._handlers import own_kv

    owned: list[str] = []

    class Table:
        async def own(self) -> None:
            owned.append("own")

    class View:  # a KV view without a connection: nothing to own
        pass

    async def main() -> None:
        await own_kv(Table())
        await own_kv(View())

    trio.run(main)
    assert owned == ["own"]
