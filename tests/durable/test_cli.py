"""``stele run --durable ID`` and ``stele resume ID``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stele.cli import main

from ._program import SOURCE


def _call(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capfd.readouterr()
    code = main(list(argv))
    out, err = capfd.readouterr()
    return code, out, err


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "s.sqlite"
    monkeypatch.setenv("STELE_STORE", str(db))
    src = tmp_path / "p.tel"
    src.write_text(SOURCE)
    assert main(["store", str(src)]) == 0
    return db


def test_run_durable_then_resume_answers_the_stored_result(
        store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    allow = [a for e in ("KV", "Log", "Exec", "Rand", "Clock") for a in ("--allow", e)]
    code, out, err = _call(capfd, "run", "main", "7", *allow, "--durable", "j1", "--json")
    assert code == 0, err
    first = json.loads(out)
    code, out, err = _call(capfd, "resume", "j1", "--json")
    assert code == 0, err
    again = json.loads(out)
    for key in ("value", "cost", "journal_digest", "effects", "logs"):
        assert again[key] == first[key], key


def test_resume_of_an_unknown_id_is_a_one_line_error(
        store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _call(capfd, "resume", "nope")
    assert code == 5  # not found, like an unknown name or digest
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err and "nope" in lines[0], err
