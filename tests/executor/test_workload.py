"""The `execution` simulation workload passes and is deterministic for a few seeds."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


@pytest.mark.parametrize("seed", [1, 4, 6])
def test_execution_workload_passes_and_is_deterministic(seed: int) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "stele.cli", "sim", "--plugin", "stele.actors.executor._workload",
         "--workload", "execution", "--seed", str(seed), "--ticks", "20000", "--quiet",
         "--opt", "executions=60", "--check-determinism"], capture_output=True, text=True,
        timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "result=PASS" in out.stdout
    assert "SAME" in out.stdout
    assert re.search(r"allocator-full=[1-9]", out.stdout)  # once per clean life


def test_memo_checker_catches_a_lying_cache() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "stele.cli", "sim", "--plugin", "tests.executor.broken_memo",
         "--workload", "execution-broken-memo", "--seed", "4", "--ticks", "20000", "--quiet",
         "--opt", "programs=2", "--opt", "executions=40"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "memo-equals-reexecution" in out.stdout + out.stderr
