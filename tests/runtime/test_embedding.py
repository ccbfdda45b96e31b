"""The embedding API from trio and asyncio programs, and `stele demo` end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("STELE_STORE", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


def test_embed_trio_example_runs() -> None:
    out = _run(str(ROOT / "examples" / "embed_trio.py"))
    assert out.returncode == 0, out.stderr
    assert "triangle(100) = 5050" in out.stdout
    assert "memo hit: True 5050" in out.stdout
    assert "noisy(21) = 42 logs ['n is 21']" in out.stdout


def test_embed_asyncio_example_runs() -> None:
    out = _run(str(ROOT / "examples" / "embed_asyncio.py"))
    assert out.returncode == 0, out.stderr
    assert "squares: [0, 1, 4, 9, 16]" in out.stdout
    assert "denied: effect KV.get denied by policy 'deny-all'" in out.stdout


@pytest.mark.parametrize("runs", [2])
def test_demo_runs_and_is_idempotent(tmp_path: Path, runs: int) -> None:
    store = tmp_path / "demo-store"
    outputs = []
    for _ in range(runs):
        out = _run("-m", "stele.cli", "demo", "--store", str(store), cwd=tmp_path)
        assert out.returncode == 0, out.stderr[-2000:]
        outputs.append(out.stdout)
    first, second = outputs
    for text in outputs:
        assert "EffectDenied: effect KV.get denied by policy 'deny-all'" in text
        assert "CostLimitExceeded" in text
        assert "children         12" in text
        assert "memo hit         True" in text
        assert "exit code        0" in text
        assert "exit code        49 (= square(7))" in text
        assert "back to full capacity: True" in text
    assert "an earlier `stele demo` already ran" in second
    assert "an earlier `stele demo` already ran" not in first


@pytest.mark.parametrize("kind", ["under-a-file", "sqlite-is-a-directory"])
def test_demo_bad_store_path_is_a_one_line_error(
        tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    from stele._demo import main

    (tmp_path / "file").write_text("x")
    (tmp_path / "dir.sqlite").mkdir()
    store = tmp_path / "file" / "x" if kind == "under-a-file" else tmp_path / "dir.sqlite"
    assert main(["--store", str(store)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"stele demo: error: cannot open the store at {str(store)!r}: ")
    assert "Traceback" not in err and len(err.splitlines()) == 1
