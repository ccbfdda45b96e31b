"""Kill -9 in the middle of a durable execution, resume it in a new process.

Each effect must happen exactly once across the two processes: the KV
counter the program increments (read, then write +1) ends at 3 -- one bump
per increment, never a bump repeated -- every Log line reaches the sink
once (the one
whose journal commit was the kill point never reaches it: lines are journaled
before the sink sees them, so a sink gets each at most once), and the final value, cost and journal digest are those of an
uninterrupted run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Every journal commit of the root (ids "job") and of its Exec.call child
# ("job/<seq>", the child is effect #5 of the root: Log, KV.get, KV.put, Rand,
# Clock.sleep, then Exec.call).
ROOT_POINTS = [("job", s) for s in range(10)]
CHILD_POINTS = [("job/5", s) for s in range(4)]
#: the commits that journal a Log line, and the line
LOG_COMMITS = {("job", 0): "start", ("job", 6): "after child", ("job", 9): "end",
               ("job/5", 0): "child 7"}
FAST = [("job", 1), ("job/5", 2), ("job", 7)]


def _run(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.durable._program", str(store), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    store = tmp_path_factory.mktemp("ref")
    done = _run(store, "run")
    assert done.returncode == 0, done.stderr
    out: dict[str, object] = json.loads(done.stdout)
    assert out["count"] == 3 and out["effects"] == 10 and out["entries"] == 10
    out["sink"] = (store / "sink.txt").read_text().splitlines()
    return out


def _kill_and_resume(store: Path, point: tuple[str, int], reference: dict[str, object]) -> None:
    killed = _run(store, "run", point[0], str(point[1]))
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-2000:])
    resumed = _run(store, "resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    out = json.loads(resumed.stdout)
    for key in ("value", "cost", "journal", "effects", "logs", "count", "entries"):
        assert out[key] == reference[key], (key, point)
    sink = (store / "sink.txt").read_text().splitlines()
    want = list(reference["sink"])  # type: ignore[call-overload]
    if point in LOG_COMMITS:  # killed between the line's journal commit and the sink:
        want.remove(LOG_COMMITS[point])  # the sink misses it (journaled first: never twice)
    assert sink == want, point  # every other line once, in order, across both processes


@pytest.mark.parametrize("point", FAST, ids=[f"{i}#{s}" for i, s in FAST])
def test_kill_9_then_resume_in_a_new_process(tmp_path: Path, point: tuple[str, int],
                                             reference: dict[str, object]) -> None:
    _kill_and_resume(tmp_path, point, reference)


@pytest.mark.slow
@pytest.mark.parametrize("point", ROOT_POINTS + CHILD_POINTS,
                         ids=[f"{i}#{s}" for i, s in ROOT_POINTS + CHILD_POINTS])
def test_kill_9_at_every_effect_boundary(tmp_path: Path, point: tuple[str, int],
                                         reference: dict[str, object]) -> None:
    _kill_and_resume(tmp_path, point, reference)
