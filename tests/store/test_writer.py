"""StoreWriter: group commit, all-or-nothing batches, queue order, flush.

Each test watches the SQL the writer sends (a ``sqlite3.Connection``
subclass records or fails statements), so what is asserted is the
transaction structure on the connection, not a counter the writer keeps
about itself.  The writer runs its batches through ``Env.run_blocking``:
either a real worker thread (:class:`stele.RealEnv`) or inline.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

import stele
from stele.store import _writer
from stele.store._writer import StoreWriter, WriterStopped


class Recording(sqlite3.Connection):
    """Records every statement; ``fail_on`` makes one statement raise once armed."""

    fail_on: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[str] = []

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        self.log.append(sql.split()[0].upper() if sql.strip() else sql)
        if self.fail_on is not None and sql == self.fail_on:
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)


class Unavailable(Exception):
    """What the ``errors`` callback makes of a failed BEGIN/COMMIT."""


class InlineEnv:
    """Just the part of an Env a writer uses: ``run_blocking``, inline, with a checkpoint."""

    async def run_blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        await trio.lowlevel.checkpoint()
        return fn(*args)


def _open(path: Path) -> Recording:
    db = sqlite3.connect(str(path), factory=Recording, isolation_level=None,
                         check_same_thread=False)
    assert isinstance(db, Recording)
    db.execute("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    db.log.clear()
    return db


def _writer_on(db: Recording, env: Any) -> StoreWriter:
    return StoreWriter(env, db, "test", lambda exc: Unavailable(str(exc)))


def _put(db: sqlite3.Connection, k: int, v: int) -> int:
    db.execute("INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)", (k, v))
    return k


def _get(db: sqlite3.Connection, k: int) -> int | None:
    row = db.execute("SELECT v FROM t WHERE k = ?", (k,)).fetchone()
    return None if row is None else int(row[0])


def _committed(path: Path) -> dict[int, int]:
    """What another connection sees: only committed rows."""
    other = sqlite3.connect(str(path))
    try:
        return {int(k): int(v) for k, v in other.execute("SELECT k, v FROM t")}
    finally:
        other.close()


@pytest.mark.parametrize("real", [True, False])
async def test_concurrent_writes_share_one_transaction(tmp_path: Path, real: bool) -> None:
    db = _open(tmp_path / "s.sqlite")
    writer = _writer_on(db, stele.RealEnv() if real else InlineEnv())
    results: dict[int, int] = {}

    async def one(k: int) -> None:
        results[k] = await writer.call(_put, db, k, k * k)

    async with trio.open_nursery() as nursery:
        await nursery.start(writer.serve)
        async with trio.open_nursery() as callers:
            for k in range(40):          # all 40 queue before the writer task runs again
                callers.start_soon(one, k)
        assert results == {k: k for k in range(40)}
        assert db.log.count("BEGIN") == 1 and db.log.count("COMMIT") == 1
        assert writer.batches == 1 and writer.largest_batch == 40
        assert _committed(tmp_path / "s.sqlite") == {k: k * k for k in range(40)}
        nursery.cancel_scope.cancel()
    db.close()


async def test_a_batch_is_capped_at_max_batch(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_writer, "MAX_BATCH", 7)
    db = _open(tmp_path / "s.sqlite")
    writer = _writer_on(db, InlineEnv())
    async with trio.open_nursery() as nursery:
        for k in range(20):
            writer.submit(_put, db, k, k)
        await nursery.start(writer.serve)
        await writer.flush()
        # 20 writes + the flush's no-op in batches of at most 7: 7, 7, 7
        assert db.log.count("COMMIT") == 3 and writer.largest_batch == 7
        nursery.cancel_scope.cancel()
    db.close()


@pytest.mark.parametrize("fail_on", ["COMMIT", "BEGIN IMMEDIATE"])
async def test_a_failed_commit_fails_every_job_and_acknowledges_nothing(
        tmp_path: Path, fail_on: str) -> None:
    path = tmp_path / "s.sqlite"
    db = _open(path)
    writer = _writer_on(db, stele.RealEnv())
    await_errors: list[BaseException] = []
    acknowledged: list[int] = []
    dropped: list[BaseException] = []
    writer._on_drop = dropped.append

    async def one(k: int) -> None:
        try:
            acknowledged.append(await writer.call(_put, db, k, 1))
        except Exception as exc:
            await_errors.append(exc)

    async def read() -> None:  # a read in the batch saw the batch's writes: it fails too
        try:
            acknowledged.append(-1 if await writer.call(_get, db, 0) is None else 0)
        except Exception as exc:
            await_errors.append(exc)

    async def fire() -> None:
        writer.submit(_put, db, 99, 1)

    async with trio.open_nursery() as nursery:
        await nursery.start(writer.serve)
        db.fail_on = fail_on
        async with trio.open_nursery() as callers:
            for k in range(10):
                callers.start_soon(one, k)
            callers.start_soon(read)
            callers.start_soon(fire)           # fire and forget, same batch
        assert acknowledged == []
        assert len(await_errors) == 11 and all(isinstance(e, Unavailable) for e in await_errors)
        assert len({id(e) for e in await_errors}) == 11  # one error object per waiter
        assert len(dropped) == 1 and isinstance(dropped[0], Unavailable)
        assert writer.failed_commits == 1 and writer.batches == 0
        assert not db.in_transaction
        assert _committed(path) == {}
        # the writer goes on: the next batch commits
        db.fail_on = None
        assert await writer.call(_put, db, 5, 5) == 5
        assert _committed(path) == {5: 5}
        nursery.cancel_scope.cancel()
    db.close()


async def test_a_failing_job_rolls_back_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    db = _open(path)
    writer = _writer_on(db, InlineEnv())

    def bad(db: sqlite3.Connection) -> None:
        _put(db, 2, 2)
        raise ValueError("a typed job error")

    async with trio.open_nursery() as nursery:
        await nursery.start(writer.serve)
        writer.submit(_put, db, 1, 1)
        with pytest.raises(ValueError, match="typed job error"):
            await writer.call(bad, db)
        writer.submit(_put, db, 3, 3)
        await writer.flush()
        assert _committed(path) == {1: 1, 3: 3}
        assert writer.dropped == 0 and writer.failed_commits == 0
        nursery.cancel_scope.cancel()
    db.close()


# A program of queued operations: ("put", k, v), ("get", k), ("fail", k, v) (writes then
# raises), ("call",) (the driver waits for a read: a batch boundary), ("tick",)
# (the driver lets the writer run a batch of what is queued so far).
ops = st.lists(st.one_of(
    st.tuples(st.just("put"), st.integers(0, 4), st.integers(0, 99)),
    st.tuples(st.just("get"), st.integers(0, 4)),
    st.tuples(st.just("fail"), st.integers(0, 4), st.integers(100, 199)),
    st.tuples(st.just("call"), st.integers(0, 4)),
    st.tuples(st.just("tick")),
), max_size=40)


@settings(max_examples=60, deadline=None)
@given(program=ops, max_batch=st.integers(1, 8))
def test_jobs_observe_queue_order(tmp_path_factory: pytest.TempPathFactory,
                                  program: list[tuple[Any, ...]], max_batch: int) -> None:
    """Whatever the batch boundaries, every read sees exactly the writes queued before it."""
    path = tmp_path_factory.mktemp("order") / "s.sqlite"
    seen: list[tuple[int, int | None]] = []
    expected: list[tuple[int, int | None]] = []
    model: dict[int, int] = {}

    def failing(db: sqlite3.Connection, k: int, v: int) -> None:
        _put(db, k, v)
        raise ValueError("rolled back")

    def read_into(db: sqlite3.Connection, k: int) -> None:
        seen.append((k, _get(db, k)))

    async def main() -> None:
        db = _open(path)
        writer = _writer_on(db, InlineEnv())
        saved = _writer.MAX_BATCH
        _writer.MAX_BATCH = max_batch
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.serve)
                for op in program:
                    if op[0] == "put":
                        writer.submit(_put, db, op[1], op[2])
                        model[op[1]] = op[2]
                    elif op[0] == "fail":
                        writer.submit(failing, db, op[1], op[2])
                    elif op[0] == "get":
                        writer.submit(read_into, db, op[1])
                        expected.append((op[1], model.get(op[1])))
                    elif op[0] == "call":
                        got = await writer.call(_get, db, op[1])
                        seen.append((op[1], got))
                        expected.append((op[1], model.get(op[1])))
                    else:
                        await trio.testing.wait_all_tasks_blocked()
                await writer.flush()
                nursery.cancel_scope.cancel()
        finally:
            _writer.MAX_BATCH = saved
        assert writer.dropped == sum(1 for op in program if op[0] == "fail")
        db.close()

    trio.run(main)
    assert seen == expected
    assert _committed(path) == model


async def test_flush_commits_queued_fire_and_forget_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    db = _open(path)
    writer = _writer_on(db, stele.RealEnv())
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.serve)
        await writer.flush()                         # nothing queued: returns, runs nothing
        assert db.log == []
        for k in range(25):
            writer.submit(_put, db, k, k + 1)
        assert _committed(path) == {}                # queued, not yet written
        await writer.flush()
        assert _committed(path) == {k: k + 1 for k in range(25)}
        nursery.cancel_scope.cancel()
    db.close()


async def test_flush_of_a_batch_whose_commit_fails_does_not_raise(tmp_path: Path) -> None:
    """A graceful close flushes: a disk that fails the COMMIT is counted, not raised.

    (Found by the simulator: seed 20 lost power during close, and flush()
    raised the batch's error out of open_runtime.)
    """
    path = tmp_path / "s.sqlite"
    db = _open(path)
    writer = _writer_on(db, stele.RealEnv())
    dropped: list[BaseException] = []
    writer._on_drop = dropped.append
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.serve)
        db.fail_on = "COMMIT"
        writer.submit(_put, db, 1, 1)
        await writer.flush()
        assert len(dropped) == 1 and isinstance(dropped[0], Unavailable)
        assert writer.failed_commits == 1 and _committed(path) == {}
        nursery.cancel_scope.cancel()
    db.close()


async def test_jobs_queued_when_the_writer_stops_fail_typed_and_run_nothing(
        tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    db = _open(path)
    writer = _writer_on(db, InlineEnv())
    errors: list[BaseException] = []

    async def one() -> None:
        try:
            await writer.call(_put, db, 1, 1)
        except WriterStopped as exc:
            errors.append(exc)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(one)                      # queued; the writer never serves
        await trio.testing.wait_all_tasks_blocked()
        with trio.CancelScope() as scope:
            scope.cancel()
            await writer.serve()                     # cancelled at once: fails the queue
    assert len(errors) == 1 and writer.stopped
    with pytest.raises(WriterStopped):
        await writer.call(_put, db, 2, 2)
    await writer.flush()                             # a stopped writer's flush returns
    assert _committed(path) == {}
    db.close()
