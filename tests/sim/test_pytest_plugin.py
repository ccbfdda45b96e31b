"""The ``stele_sim`` pytest plugin: per-seed runs, the fixture, ``--stele-seed``, failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stele.sim import SimEnv

_SEEDS: list[int] = []


@pytest.mark.stele_sim(seeds=5, faults="swarm")
async def test_runs_once_per_seed_on_virtual_time(stele_env: SimEnv) -> None:
    _SEEDS.append(stele_env.seed)
    t0 = stele_env.now_ns()
    await stele_env.sleep(3600)
    assert stele_env.now_ns() - t0 == 3600 * 10**9


def test_the_seeds_ran() -> None:
    assert _SEEDS[-5:] == [0, 1, 2, 3, 4]


_FAILING = '''
import pytest

@pytest.mark.stele_sim(seeds=50, faults="none")
async def test_fails_on_some_seed(stele_env):
    await stele_env.sleep(1)
    assert stele_env.rng.randbelow(10) != 3
'''


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(_FAILING, encoding="utf-8")
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_user.py", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env=env)


def test_a_failing_seed_prints_its_seed_and_reproduce_line(tmp_path: Path) -> None:
    out = _pytest(tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("reproduce with: pytest"))
    seed = int(line.rsplit("--stele-seed", 1)[1])
    assert f"stele_sim: seed {seed} of 50 failed" in out.stdout
    again = _pytest(tmp_path, "--stele-seed", str(seed))
    assert again.returncode == 1 and f"seed {seed} failed" in again.stdout
