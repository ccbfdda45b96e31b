"""The ``daemon`` workload: a real ``stele serve`` under crashes, resets and stalls.

The seeds pass, a seed replays to the same trace, and the checkers fire when
the daemon is deliberately broken (a checker that cannot fail proves nothing).
"""

from __future__ import annotations

import pytest

from stele.daemon._jobs import TxKV
from stele.sim._runner import RunConfig, RunResult, run_simulation

#: Every fault of the workload, often: crashes, connection resets, stalls.
_FAULTY = {"crash-every": "1", "reset-every": "1", "stall-every": "1"}


def _run(seed: int, ticks: int = 2500, **options: str) -> RunResult:
    return run_simulation(RunConfig(seed=seed, ticks=ticks, workload="daemon",
                                    options=dict(options)))


@pytest.mark.parametrize("seed", range(3))
def test_daemon_workload_passes(seed: int) -> None:
    res = _run(seed)
    assert res.ok, (res.error, res.recent)
    assert res.checks.get("exactly-once", 0) >= 2
    assert res.checks.get("pure-value", 0) > 0


def test_daemon_survives_crashes_resets_and_stalls() -> None:
    res = _run(2, ticks=5000, **_FAULTY)
    assert res.ok, (res.error, res.recent)
    assert res.stats.get("daemon_crashes", 0) >= 1
    assert res.stats.get("stream_resets", 0) + res.stats.get("stream_stalls", 0) >= 1
    assert res.stats.get("jobs_checked", 0) > 0
    assert res.checks.get("isolation", 0) > 0


def test_daemon_survives_disk_faults() -> None:
    """EIO in the daemon's tables and the code store: typed answers, jobs re-run."""
    res = _run(3, ticks=5000, disk="1")
    assert res.ok, (res.error, res.recent)
    assert res.faults_injected > 0
    assert res.checks.get("exactly-once", 0) >= 2


def test_a_daemon_run_is_a_function_of_its_seed() -> None:
    a = _run(4, ticks=2000, **_FAULTY)
    b = _run(4, ticks=2000, **_FAULTY)
    assert a.ok, a.error
    assert (a.trace_hash, a.events, a.checks) == (b.trace_hash, b.events, b.checks)


def test_exactly_once_fires_when_a_job_counts_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each job's KV write adds 2 instead of 1: the counter no longer matches the jobs."""
    put = TxKV.put

    def put_twice(self: TxKV, tenant: str, key: str, value: bytes) -> None:
        if key == "count":
            n = int.from_bytes(value, "big", signed=True)
            value = (n + 1).to_bytes(8, "big", signed=True)
        put(self, tenant, key, value)

    monkeypatch.setattr(TxKV, "put", put_twice)
    res = _run(1, ticks=1500)
    assert not res.ok
    assert res.error is not None and "exactly-once" in res.error


def test_isolation_fires_when_tenants_share_a_namespace(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every tenant's names in one namespace: a tenant runs another's ``secret``."""
    import stele.daemon._server as server

    monkeypatch.setattr(server, "namespace_of", lambda tenant: "tenant.shared")
    # (seed 1 happens to miss it: each tenant's resolve cache keeps its own digest)
    res = _run(0, ticks=1500, tenants="3")
    assert not res.ok
    assert res.error is not None and "isolation" in res.error


def test_liveness_fires_when_jobs_never_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's job workers never take a job: the clients' waits hang."""
    import anyio

    from stele.daemon._server import Daemon

    async def idle(self: Daemon) -> None:
        await anyio.sleep_forever()

    monkeypatch.setattr(Daemon, "worker", idle)
    res = _run(1, ticks=1500)
    assert not res.ok
    assert res.error is not None and "liveness" in res.error


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_daemon_workload_sweep(seed: int) -> None:
    res = _run(seed, ticks=20_000)
    assert res.ok, (res.error, res.recent)
