"""``stele sim`` at scale: ordered parallel sweeps, JSON lines, bounds, Ctrl-C, progress."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from stele.sim._cli import MAX_TICKS, main


def _table(out: str) -> list[list[str]]:
    """The sweep rows without the real-seconds column (the only non-deterministic one)."""
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[0].isdigit() and parts[1] in ("PASS", "FAIL"):
            rows.append(parts[:5] + parts[6:])
    return rows


def test_parallel_sweep_prints_the_same_ordered_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--workload", "bank", "--seeds", "0..5", "--ticks", "400"]
    assert main(argv) == 0
    serial = _table(capsys.readouterr().out)
    assert main(argv + ["-j", "2"]) == 0
    out = capsys.readouterr().out
    assert "jobs=2" in out
    assert _table(out) == serial
    assert [int(r[0]) for r in serial] == list(range(6))


def test_default_workload_is_the_runtime_itself(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seed", "2", "--ticks", "300", "--quiet"]) == 0
    assert "  workload=execution" in capsys.readouterr().out.splitlines()


def test_json_lines_for_a_run_and_a_sweep(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--workload", "bank", "--seed", "4", "--ticks", "300", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    run = json.loads(lines[0])
    assert run["type"] == "run" and run["seed"] == 4 and run["result"] == "PASS"
    assert run["ok"] is True and run["reproduce"] is None and len(run["trace_hash"]) == 64
    assert run["options"]["workload"] == "bank" and run["ticks"] == 300
    # the same run without --json prints the same trace hash
    assert main(["--workload", "bank", "--seed", "4", "--ticks", "300", "--quiet"]) == 0
    assert f"trace_hash={run['trace_hash']}" in capsys.readouterr().out
    assert main(["--workload", "bank", "--seeds", "1..3", "--ticks", "300", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["type"] for r in records] == ["run", "run", "run", "summary"]
    assert [r["seed"] for r in records[:3]] == [1, 2, 3]
    assert records[3]["seeds"] == 3 and records[3]["passed"] == 3 and records[3]["failed"] == 0


def test_an_unknown_workload_under_json_is_one_usage_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--workload", "no-such-workload", "--seed", "1", "--ticks", "10", "--json"]
    # an unknown workload is a usage error, one line, no JSON run record
    assert main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(("argv", "needle"), [
    (["--ticks", str(10**23)], f"1..{MAX_TICKS}"),
    (["--ticks", "0"], f"1..{MAX_TICKS}"),
    (["--seeds", "0..3", "-j", "0"], "-j must be in 1.."),
    (["--seeds", "0..3", "-j", "100000"], "-j must be in 1.."),
    (["--progress-seconds", "0"], "--progress-seconds must be > 0"),
])
def test_bounds_are_one_line_errors(argv: list[str], needle: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err


def test_time_based_progress_lines_do_not_change_the_trace(
        capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--workload", "bank", "--seed", "9", "--ticks", "2000"]
    assert main(base + ["--quiet"]) == 0
    quiet = capsys.readouterr().out
    # a tiny interval: every poll (a thousandth of the run) is due, so lines appear
    assert main(base + ["--progress-seconds", "1e-9"]) == 0
    chatty = capsys.readouterr().out
    progress = [ln for ln in chatty.splitlines() if ln.startswith("[")]
    assert len(progress) > 10
    hash_line = [ln for ln in quiet.splitlines() if ln.startswith("trace_hash=")]
    assert hash_line and hash_line[0] in chatty.splitlines()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_in_a_sweep_is_interrupted_not_fail(jobs: str) -> None:
    """SIGINT once the first row is out (no clock): exit 130, an ``interrupted`` line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "stele.cli", "sim", "--seeds", "0..400", "--ticks", "20000",
         "-j", jobs], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    seen = b""
    while True:
        line = proc.stdout.readline()
        seen += line
        if not line or b" PASS " in line or b" FAIL " in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    text = (seen + out).decode()
    assert proc.returncode == 130, text + err.decode()
    assert "interrupted after" in text
    assert "result=FAIL" not in text and "KeyboardInterrupt" not in text + err.decode()
    assert "Traceback" not in err.decode()


def test_parallel_sweep_starts_seeds_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """-j N hands seeds to workers in seed order, so the first row is out early.

    (One task per seed left the order to trio's scheduler, which may start the
    last seed first: the first row then waited for nearly the whole sweep.)
    """
    from stele._core._realenv import RealEnv
    from stele.sim import _cli
    from stele.sim._runner import RunConfig

    started: list[int] = []
    reported: list[int] = []

    async def fake_worker(self: RealEnv, fn: object, config: RunConfig) -> object:
        started.append(config.seed)
        import trio
        await trio.lowlevel.checkpoint()
        return config.seed

    monkeypatch.setattr(RealEnv, "run_in_worker", fake_worker)
    configs = [RunConfig(seed=s, ticks=10, workload="bank") for s in range(60)]
    _cli._sweep(configs, 3, lambda r: reported.append(r))  # type: ignore[arg-type,arg-type]
    assert started == list(range(60))
    assert reported == list(range(60))
