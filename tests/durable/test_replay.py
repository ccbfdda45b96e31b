"""Durable executions in-process: crash injection property, non-determinism errors, guests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stele
from stele.actors.sandbox import Policy
from stele.actors.sandbox import _durable
from stele.actors.sandbox._durable import DurableMismatch, ReplayDiverged, UnknownExecution
from stele.store._integrity import row_check
from stele.tel._gen import SWARM_PROFILES, programs

from ._program import POLICY, SOURCE

ROOT = Path(__file__).resolve().parents[2]
EFFECTS_ELF = (ROOT / "examples" / "effect_guest" / "effects.elf").read_bytes()
ALL = Policy.allow("all", "KV", "Log", "Rand", "Clock", "Exec")


class Crash(BaseException):
    """An injected crash: unwinds the runtime like a dying process (nothing after it runs)."""


@pytest.fixture(autouse=True)
def _no_hook() -> Iterator[None]:
    yield
    _durable.AFTER_COMMIT = None


def _crash_at(n: int | None) -> None:
    """Crash right after the ``n``-th journal commit of this process (any execution)."""
    if n is None:
        _durable.AFTER_COMMIT = None
        return
    seen = [0]

    def hook(ident: str, seq: int) -> None:
        seen[0] += 1
        if seen[0] == n:
            raise Crash()

    _durable.AFTER_COMMIT = hook


def _summary(r: Any, rt: Any) -> tuple[Any, ...]:
    kv = rt._kv
    return (r.value, r.cost, r.journal_digest, r.effects, r.logs, r.exit_code, r.stdout,
            r.usage.storage,  # a resumed run counts the journaled KV writes too
            tuple((k, kv.get("default", k)) for k in kv.keys("default")))


def _run(store: str, source: str | None, target: str, args: Any, *, crash: int | None,
         resume: bool, engine: str = "tel", blob: bytes | None = None,
         policy: Policy = ALL) -> tuple[Any, ...] | None:
    """One process' worth: run (or resume) ``job``; None when the injected crash hit."""

    async def main() -> tuple[Any, ...]:
        async with stele.open_runtime(store) as rt:
            if source is not None:
                await rt.store(source)
            if blob is not None:
                await rt.store_blob(blob, name=target)
            _crash_at(crash)
            try:
                if resume:
                    r = await rt.resume("job")
                else:
                    r = await rt.execute(target, args, policy=policy, engine=engine,
                                         durable="job")
            finally:
                _crash_at(None)
            return _summary(r, rt)

    try:
        return trio.run(main)
    except Crash:
        return None
    except BaseExceptionGroup as group:  # the crash, wrapped by a task group
        if group.subgroup(Crash) is not None:
            return None
        raise


def _crash_then_resume(store: str, crashes: list[int], **kw: Any) -> tuple[Any, ...]:
    out = _run(store, crash=crashes[0] if crashes else None, resume=False, **kw)
    for c in crashes[1:] + [0]:
        if out is not None:
            break
        src = kw.get("source")
        kw2 = {**kw, "source": None, "blob": None}
        del src
        out = _run(store, crash=c or None, resume=True, **kw2)
    assert out is not None
    return out


def test_resume_after_a_crash_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    ref = _run(str(tmp_path / "a"), SOURCE, "main", [7], crash=None, resume=False, policy=POLICY)
    for n in (1, 5, 9, 13):
        got = _crash_then_resume(str(tmp_path / f"c{n}"), [n], source=SOURCE, target="main",
                                 args=[7], policy=POLICY)
        assert got == ref, n


def test_a_finished_execution_answers_its_stored_result_without_running(tmp_path: Path) -> None:
    store = str(tmp_path / "s")
    first = _run(store, SOURCE, "main", [7], crash=None, resume=False, policy=POLICY)
    again = _run(store, None, "main", [7], crash=None, resume=True)
    assert again == first  # the counter was not bumped again: the KV contents are equal


def test_repeated_crashes_during_resume(tmp_path: Path) -> None:
    ref = _run(str(tmp_path / "a"), SOURCE, "main", [7], crash=None, resume=False, policy=POLICY)
    got = _crash_then_resume(str(tmp_path / "b"), [2, 1, 1, 3], source=SOURCE, target="main",
                             args=[7], policy=POLICY)
    assert got == ref


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(prog=programs(SWARM_PROFILES["effects"], max_depth=3),
       crashes=st.lists(st.integers(1, 12), min_size=1, max_size=3))
def test_property_crashes_at_random_effect_boundaries(prog: Any, crashes: list[int]) -> None:
    """Random effectful programs: crash at random commits, resume; same result and journal."""
    if "Clock.now" in prog.source:  # live wall-clock reads differ between any two runs
        return
    with tempfile.TemporaryDirectory() as d:
        try:
            ref = _run(f"{d}/ref", prog.source, "main", [], crash=None, resume=False)
        except stele.SteleError as exc:  # a program that fails fails the same way resumed
            with pytest.raises(type(exc)):
                _crash_then_resume(f"{d}/c", crashes, source=prog.source, target="main",
                                   args=[])
            return
        got = _crash_then_resume(f"{d}/c", crashes, source=prog.source, target="main", args=[])
        assert got == ref


def test_code_changed_under_the_name_is_a_typed_error(tmp_path: Path) -> None:
    store = str(tmp_path / "s")
    assert _run(store, SOURCE, "main", [7], crash=3, resume=False, policy=POLICY) is None
    changed = SOURCE.replace("r % 100", "r % 10")
    with pytest.raises(DurableMismatch, match="code under the name changed"):
        _run(store, changed, "main", [7], crash=None, resume=True)


def _rewrite(store: str, sql: str, *params: Any) -> None:
    async def main() -> None:
        async with stele.open_runtime(store) as rt:
            rt.durable_store().db.execute(sql, params)
    trio.run(main)


def test_another_cost_table_is_a_typed_error(tmp_path: Path) -> None:
    from stele.protocol import decode, encode
    store = str(tmp_path / "s")
    assert _run(store, SOURCE, "main", [7], crash=3, resume=False, policy=POLICY) is None

    async def main() -> None:
        async with stele.open_runtime(store) as rt:
            ds = rt.durable_store()
            header = ds.get("job").header
            header["cost_table"] = "tel-cost-v0"
            blob = encode(header)
            ds.db.execute("UPDATE durable_exec SET header = ?, chk = ? WHERE id = 'job'",
                          (blob, row_check("durable_exec", "job", blob, "running", None)))
            assert decode(blob)["cost_table"] == "tel-cost-v0"
    trio.run(main)
    with pytest.raises(DurableMismatch, match="cost_table"):
        _run(store, None, "main", [7], crash=None, resume=True)


def test_a_journal_that_does_not_match_the_program_is_a_typed_error(tmp_path: Path) -> None:
    from stele.protocol import encode
    store = str(tmp_path / "s")
    assert _run(store, SOURCE, "main", [7], crash=3, resume=False, policy=POLICY) is None
    entry = encode(["Log", "emit", ["something else"], []])
    _rewrite(store, "UPDATE durable_journal SET entry = ?, chk = ? WHERE id = 'job' AND seq = 0",
             entry, row_check("durable_journal", "job", 0, entry))
    with pytest.raises(ReplayDiverged, match="effect #0"):
        _run(store, None, "main", [7], crash=None, resume=True)


def test_a_damaged_journal_row_is_store_corruption(tmp_path: Path) -> None:
    from stele.store import StoreCorrupted
    store = str(tmp_path / "s")
    assert _run(store, SOURCE, "main", [7], crash=3, resume=False, policy=POLICY) is None
    _rewrite(store, "UPDATE durable_journal SET entry = x'00' WHERE id = 'job' AND seq = 1")
    with pytest.raises(StoreCorrupted):
        _run(store, None, "main", [7], crash=None, resume=True)


def test_resume_of_an_unknown_id(tmp_path: Path) -> None:
    with pytest.raises(UnknownExecution, match="nope"):
        async def main() -> None:
            async with stele.open_runtime(str(tmp_path / "s")) as rt:
                await rt.resume("nope")
        trio.run(main)


def test_guest_resumes_from_its_snapshot(tmp_path: Path) -> None:
    kw: dict[str, Any] = dict(source=None, target="g", args=b"abc", engine="riscv",
                              blob=EFFECTS_ELF)
    ref = _run(str(tmp_path / "a"), crash=None, resume=False, **kw)
    assert ref is not None and ref[5] == 0 and ref[3] == 3
    for n in (1, 2):  # commits: Log.emit, KV.put (the Rand read commits with the result)
        store = str(tmp_path / f"c{n}")
        assert _run(store, crash=n, resume=False, **kw) is None

        async def snap() -> Any:
            async with stele.open_runtime(store) as rt:
                return rt.durable_store().snapshot("job")
        saved = trio.run(snap)
        # the crash hit right after journal entry n-1 committed, before that ecall's
        # snapshot: the latest is the machine at ecall n-2 (none before the first)
        assert (saved is None) if n == 1 else (saved is not None and saved.seq == n - 2)
        got = _run(store, crash=None, resume=True, **{**kw, "blob": None})
        assert got == ref, n
        assert trio.run(snap) is None  # a finished execution keeps no snapshot


def test_durable_and_ordinary_kv_writers_share_the_store_writer(tmp_path: Path) -> None:
    """Durable executions write KV + journal synchronously, ordinary ones through the
    writer thread: interleaved on one real store (RealEnv: batches really run in a
    worker thread) neither corrupts the other nor trips over a busy connection."""
    source = """
def bump(key: String) -> Int ! {KV} =
  let n = match perform KV.get(key) { Some(b) => get_or_else(bytes_to_int(b), 0), None => 0 } in
  perform KV.put(key, int_to_bytes(n + 1));
  n + 1
def spin(k: Int, key: String) -> Int ! {KV} = if k == 0 then 0 else let _ = bump(key) in spin(k - 1, key)
def durable_job(i: Int) -> Int ! {KV, Log} =
  perform Log.emit("d");
  spin(20, "d" ++ int_to_string(i))
def plain_job(i: Int) -> Int ! {KV} = spin(20, "p" ++ int_to_string(i))
"""
    policy = Policy.allow("kv-log", "KV", "Log")
    store = str(tmp_path / "s")

    async def main() -> None:
        async with stele.open_runtime(store) as rt:
            await rt.store(source)
            async with trio.open_nursery() as n:
                for i in range(6):
                    n.start_soon(lambda i=i: rt.execute("durable_job", [i], policy=policy,
                                                        durable=f"d{i}"))
                    n.start_soon(lambda i=i: rt.execute("plain_job", [i], policy=policy,
                                                        memo=False))
            kv = rt._kv
            await kv.own()
            for i in range(6):
                assert int.from_bytes(kv.get("default", f"d{i}") or b"", "big") == 20
                assert int.from_bytes(kv.get("default", f"p{i}") or b"", "big") == 20
                assert len(rt.durable_store().entries(f"d{i}")) == 41  # 1 log + 20 gets + 20 puts
            again = await rt.resume("d3")  # finished: its stored result, nothing re-runs
            assert again.value == 0

    trio.run(main)
