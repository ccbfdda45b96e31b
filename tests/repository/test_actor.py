"""RepositoryActor on the kernel: every message, typed failures, durability across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stele
from stele import tel
from stele.actors.repository import (
    GetHistory, GetObject, HistoryReply, ListNames, LoadReply, LoadTarget, NameChange, NamesReply,
    ObjectRecord, PutBlob, RemoveName, RepositoryActor, Resolve, Resolved, SetName, ShowReply,
    ShowTarget, StoredNames, StoreSource,
)
from stele.protocol import AmbiguousPrefix, Digest, decode_message, encode_message
from stele.sim import SimEnv
from stele.store import MissingDependencies, UnknownTarget

FIB = (Path(__file__).resolve().parents[2] / "examples" / "fib.tel").read_text()


async def _session(env: stele.Env, path: str | None) -> list[object]:
    out: list[object] = []
    async with stele.ActorSystem(env) as system:
        ref = await system.spawn("repo", RepositoryActor, path)
        stored = await ref.ask(StoreSource(FIB, "fib.tel", "math", "ann"), timeout=30)
        assert isinstance(stored, StoredNames)
        out.append(stored)
        fib = stored.as_dict()["math.fib"]
        out.append(await ref.ask(StoreSource("def ten() -> Int = fib(10)\n", namespace="math"),
                                 timeout=30))
        out.append(await ref.ask(Resolve(fib.short()), timeout=30))
        out.append(await ref.ask(ShowTarget("math.ten"), timeout=30))
        reply = await ref.ask(LoadTarget("math.ten"), timeout=30)
        assert isinstance(reply, LoadReply)
        loaded = reply.assemble()
        out.append(loaded.program().call(loaded.entry).value)
        out.append(await ref.ask(PutBlob(b"\x7fELF guest", name="guests.g"), timeout=30))
        out.append(await ref.ask(GetObject("guests.g"), timeout=30))
        out.append(await ref.ask(ListNames("math"), timeout=30))
        out.append(await ref.ask(SetName("math.alias", str(fib), "bob"), timeout=30))
        out.append(await ref.ask(RemoveName("math.alias", "cat"), timeout=30))
        out.append(await ref.ask(GetHistory("math.alias"), timeout=30))
        for bad in (StoreSource("def f( -> Int = 1", "bad.tel"), Resolve("nosuch"),
                    LoadTarget("guests.g"), "not a message"):
            try:
                await ref.ask(bad, timeout=30)
            except stele.RemoteError as exc:
                out.append(exc.cause)
        # the actor survived every refusal
        out.append(await ref.ask(Resolve("math.fib"), timeout=30))
    return out


def _check(results: list[object]) -> None:
    (stored, ten, resolved, shown, value, blob, record, names, set_, removed, history,
     syntax, unknown, wrong, not_message, again) = results
    assert isinstance(stored, StoredNames) and list(stored.as_dict()) == ["math.fib", "math.fib_fast"]
    fib = stored.as_dict()["math.fib"]
    assert resolved == Resolved(fib) == again
    assert isinstance(shown, ShowReply) and "def ten() -> Int =\n  fib(10)" in shown.text
    assert [d.digest for d in shown.dependencies] == [fib]
    assert shown.dependencies[0].names == ("math.fib",)
    assert value == 55
    assert isinstance(blob, Resolved) and blob.digest == Digest.of(b"\x7fELF guest")
    assert isinstance(record, ObjectRecord) and record.payload == b"\x7fELF guest"
    assert record.kind == "riscv.elf"
    assert isinstance(names, NamesReply)
    assert [n for n, _ in names.names] == ["math.fib", "math.fib_fast", "math.ten"]
    assert isinstance(set_, NameChange) and set_.digest == fib and set_.author == "bob"
    assert isinstance(removed, NameChange) and removed.digest is None
    assert isinstance(history, HistoryReply) and [e.author for e in history.events] == ["bob", "cat"]
    assert isinstance(ten, StoredNames)
    assert isinstance(syntax, tel.TelSyntaxError) and "bad.tel:1:8" in str(syntax)
    assert isinstance(unknown, UnknownTarget)
    assert isinstance(wrong, stele.store.WrongKind)
    assert isinstance(not_message, TypeError)


def test_actor_under_simenv() -> None:
    env = SimEnv(seed=5)
    _check(env.run(_session, env, None))


def test_actor_under_simenv_is_deterministic() -> None:
    def comparable(results: list[object]) -> list[object]:
        return [repr(r) if isinstance(r, Exception) else r for r in results]

    a, b = SimEnv(seed=9), SimEnv(seed=9)
    assert comparable(a.run(_session, a, None)) == comparable(b.run(_session, b, None))


async def test_actor_under_realenv_with_a_file(tmp_path: Path) -> None:
    path = str(tmp_path / "repo.sqlite")
    _check(await _session(stele.RealEnv(seed=1), path))
    # everything acknowledged is on disk: a new actor on the same file sees it
    async with stele.ActorSystem(stele.RealEnv(seed=2)) as system:
        ref = await system.spawn("repo2", RepositoryActor, path)
        reply = await ref.ask(LoadTarget("math.ten"), timeout=30)
        assert isinstance(reply, LoadReply)
        loaded = reply.assemble()
        assert loaded.program().call(loaded.entry).value == 55


async def test_ambiguous_and_missing_are_typed_causes(tmp_path: Path) -> None:
    async with stele.ActorSystem(stele.RealEnv(seed=3)) as system:
        ref = await system.spawn("repo", RepositoryActor)
        digests = []
        for i in range(40):
            r = await ref.ask(PutBlob(bytes([i])), timeout=30)
            assert isinstance(r, Resolved)
            digests.append(r.digest)
        firsts = [d.hex[0] for d in digests]
        dup = next(h for h in firsts if firsts.count(h) > 1)
        with pytest.raises(stele.RemoteError) as info:
            await ref.ask(Resolve(dup), timeout=30)
        assert isinstance(info.value.cause, AmbiguousPrefix)
        assert len(info.value.cause.candidates) == firsts.count(dup)
    # a store file holding a definition without its dependency
    full = stele.store.Repository(clock=lambda: 0)
    lib = full.store("def lib() -> Int = 1\n")["lib"]
    app = full.store("def app() -> Int = lib() + 1\n")["app"]
    path = str(tmp_path / "partial.sqlite")
    with stele.store.Repository(path, clock=lambda: 0) as partial:
        o = full.objects.get(app)
        partial.objects.commit([stele.store.NewObject(o.kind, o.payload, o.deps)])
    async with stele.ActorSystem(stele.RealEnv(seed=4)) as system:
        ref = await system.spawn("repo", RepositoryActor, path)
        with pytest.raises(stele.RemoteError) as info:
            await ref.ask(LoadTarget(str(app)), timeout=30)
        assert isinstance(info.value.cause, MissingDependencies)
        assert list(info.value.cause.missing) == [lib]


msgs = st.one_of(
    st.builds(StoreSource, st.text(max_size=30), st.text(max_size=10), st.text(max_size=10),
              st.text(max_size=10)),
    st.builds(Resolve, st.text(max_size=20)),
    st.builds(PutBlob, st.binary(max_size=50), st.text(min_size=1, max_size=10),
              st.none() | st.text(max_size=10), st.text(max_size=10)),
    st.builds(SetName, st.text(max_size=10), st.text(max_size=10), st.text(max_size=10)),
    st.builds(ListNames, st.none() | st.text(max_size=10)),
    st.builds(NameChange, st.text(max_size=10),
              st.none() | st.binary(min_size=32, max_size=32).map(Digest.of),
              st.none() | st.binary(min_size=32, max_size=32).map(Digest.of),
              st.integers(0, 2**63), st.text(max_size=10)),
)


@settings(max_examples=200, deadline=None)
@given(msg=msgs)
def test_messages_round_trip_through_cbor(msg: object) -> None:
    assert decode_message(encode_message(msg)) == msg  # type: ignore[arg-type]


def test_load_reply_round_trips_and_assembles() -> None:
    repo = stele.store.Repository(clock=lambda: 0)
    repo.store(FIB + "def both(n: Int) -> Int = fib(n) + fib_fast(n)\n")
    from stele.actors.repository._actor import load_reply
    reply = load_reply(repo, "both")
    again = decode_message(encode_message(reply))
    assert again == reply and isinstance(again, LoadReply)
    loaded = again.assemble()
    assert loaded.entry == "both" and loaded.program().call("both", [12]).value == 288


class _CrashOn(stele.KernelObserver):
    """Crash the repository actor on the first message of a given type."""

    def __init__(self, kind: type) -> None:
        self.kind = kind
        self.crashed = 0
        self.restarts = 0

    def should_crash(self, actor: str, message: object) -> bool:
        if actor == "repo" and isinstance(message, self.kind) and not self.crashed:
            self.crashed += 1
            return True
        return False

    def on_restart(self, actor: str) -> None:
        self.restarts += 1


def test_crash_and_restart_keeps_acknowledged_stores() -> None:
    path = "crash.sqlite"  # a file on the SimEnv's simulated disk, reopened after the crash
    env = SimEnv(seed=11)
    observer = _CrashOn(ShowTarget)

    async def session() -> list[object]:
        out: list[object] = []
        async with stele.ActorSystem(env, observer=observer) as system:
            ref = await system.spawn("repo", RepositoryActor, path)
            stored = await ref.ask(StoreSource(FIB, "fib.tel", "math"), timeout=30)
            with pytest.raises(stele.RemoteError) as info:
                await ref.ask(ShowTarget("math.fib"), timeout=30)
            out.append(info.value.cause)
            # the supervisor restarted it; the new incarnation reopened the file
            for _ in range(100):
                try:
                    out.append(await ref.ask(Resolve("math.fib"), timeout=30))
                    break
                except stele.ActorStopped:
                    await env.sleep(0.01)
            out.append(stored)
        return out

    crash, resolved, stored = env.run(session)
    assert isinstance(crash, stele.InjectedCrash)
    assert observer.restarts == 1
    assert isinstance(stored, StoredNames) and resolved == Resolved(stored.as_dict()["math.fib"])
