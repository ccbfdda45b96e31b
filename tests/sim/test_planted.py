"""Planted bugs: the simulator must catch each within a bounded number of seeds.

Each fixture monkeypatches one deliberate bug into the product code; the test
then runs seeds of the ``execution`` workload (the real store on the
simulated disk, crashes and restarts) until a checker fails, and requires
that to happen within ``BOUND`` seeds.  ``python tests/sim/test_planted.py``
prints seeds-to-catch for every bug (the figures in docs/simulator.md).

A planted bug that the simulator stops catching means a checker, a fault or
a crash path has gone dark.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from stele.sim._runner import RunConfig, RunResult, run_simulation

#: Seeds tried per bug before the test fails (measured seeds-to-catch from seed 1:
#: 1, 12, 1, 1, 27 -- see docs/simulator.md).
BOUND = 60
#: Virtual length of each run.
TICKS = 20_000


@contextmanager
def _patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


@contextmanager
def ack_before_commit() -> Iterator[None]:
    """The KV writer answers a batch with its transaction still open; COMMIT waits for the next."""
    from stele.store import _writer

    original = _writer.StoreWriter._transaction

    def transaction(self: Any, batch: Any) -> None:
        db = self.db
        if self.name == "KV" and db.in_transaction:
            db.execute("COMMIT")  # the previous batch, long acknowledged
        real_execute = db.execute

        class Deferred:  # swallow this batch's COMMIT: the callers are answered first
            def __getattr__(self, name: str) -> Any:
                return getattr(db, name)

            def execute(self, sql: str, *args: Any) -> Any:
                if self_name == "KV" and sql == "COMMIT":
                    return None
                return real_execute(sql, *args)

        self_name = self.name
        self.db = Deferred()
        try:
            original(self, batch)
        finally:
            self.db = db

    with _patched(_writer.StoreWriter, "_transaction", transaction):
        yield


@contextmanager
def lost_release_on_crash() -> Iterator[None]:
    """An execution that dies (crash, timeout, cancel) never releases its grant."""
    from stele.actors.allocator import RecordUsage, Release, Resources
    from stele.actors.executor import _executor

    def release(grant: Any) -> Any:
        if sys._getframe(1).f_locals.get("result") is None:  # the execution did not finish
            return RecordUsage(grant, Resources.ZERO)
        return Release(grant)

    with _patched(_executor, "Release", release):
        yield


@contextmanager
def nested_memo_wrong_key() -> Iterator[None]:
    """The memo key of a nested Exec.call ignores its argument."""
    from dataclasses import replace

    from stele.actors.executor import _executor

    original = _executor._memo_key

    def key(request: Any, digest: Any, limits: Any) -> Any:
        if request.handle is None:  # a child: only Exec.call builds one without a handle
            request = replace(request, args=())
        return original(request, digest, limits)

    with _patched(_executor, "_memo_key", key):
        yield


@contextmanager
def kv_applied_twice_on_retry() -> Iterator[None]:
    """The executor re-runs an execution that failed on a store error (its writes run twice)."""
    from stele.actors.executor._executor import ExecutorActor
    from stele.store import StoreUnavailable

    original = ExecutorActor.execute

    async def execute(self: Any, request: Any, parent: Any = None, budget: Any = None) -> Any:
        try:
            return await original(self, request, parent, budget)
        except StoreUnavailable:
            if parent is not None:
                raise
            return await original(self, request, parent, budget)

    with _patched(ExecutorActor, "execute", execute):
        yield


@contextmanager
def torn_write_not_detected() -> Iterator[None]:
    """The KV table runs without a rollback journal: a commit cut by power loss is not repaired."""
    from stele.actors.sandbox import _handlers

    def no_journal(db: Any, path: str | None) -> None:
        db.execute("PRAGMA journal_mode=OFF")

    with _patched(_handlers, "use_wal", no_journal):
        yield


PLANTED: dict[str, Callable[[], Any]] = {
    "ack-before-commit": ack_before_commit,
    "lost-release-on-crash": lost_release_on_crash,
    "nested-memo-wrong-key": nested_memo_wrong_key,
    "kv-applied-twice-on-retry": kv_applied_twice_on_retry,
    "torn-write-not-detected": torn_write_not_detected,
}


def seeds_to_catch(bug: str, bound: int = BOUND, first: int = 1
                   ) -> tuple[int | None, RunResult | None]:
    """Run seeds ``first..`` with ``bug`` planted; the count of seeds until one fails."""
    with PLANTED[bug]():
        for n, seed in enumerate(range(first, first + bound), start=1):
            res = run_simulation(RunConfig(seed=seed, ticks=TICKS, workload="execution"))
            if not res.ok:
                return n, res
    return None, None


@pytest.mark.slow
@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_planted_bug_is_caught(bug: str) -> None:
    n, res = seeds_to_catch(bug)
    assert n is not None, f"planted bug {bug!r} survived {BOUND} seeds of the execution workload"
    assert res is not None and res.error


def test_unmodified_code_passes_the_first_seeds() -> None:
    """The seeds the planted bugs fail on pass without the bug (no false alarm)."""
    for seed in (1, 2, 3):
        res = run_simulation(RunConfig(seed=seed, ticks=TICKS, workload="execution"))
        assert res.ok, f"seed {seed}: {res.error}"


if __name__ == "__main__":  # seeds-to-catch table
    for name in sorted(PLANTED):
        count, result = seeds_to_catch(name)
        detail = result.error if result is not None else "NOT CAUGHT"
        print(f"{name:28s} seeds_to_catch={count} seed={result.config.seed if result else '-'} "
              f"{detail[:150] if detail else ''}", flush=True)
