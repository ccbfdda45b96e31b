"""Replay every seed kept in ``tests/sim/regressions.toml``; each must pass."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from stele.sim._runner import RunConfig, run_simulation

_FILE = Path(__file__).with_name("regressions.toml")


def _entries() -> list[dict[str, Any]]:
    data = tomllib.loads(_FILE.read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = data["seed"]
    for e in entries:
        assert isinstance(e["seed"], int) and e["workload"] and e["bug"], e
    return entries


@pytest.mark.parametrize("entry", _entries(), ids=lambda e: f"{e['workload']}-{e['seed']}")
def test_regression_seed_passes(entry: dict[str, Any]) -> None:
    config = RunConfig(seed=entry["seed"], ticks=entry.get("ticks", 20_000),
                       workload=entry["workload"])
    res = run_simulation(config)
    assert res.ok, f"{entry['bug']}: {res.error}\nreproduce with: {config.reproduce()}"
