"""docs/debugger.md's session transcript is what ``stele debug`` prints, line for line."""

from __future__ import annotations

from pathlib import Path

import pytest

from stele._debugger._session import HELP
from stele.cli import main

from ._doc import DOC, commands, transcript

ROOT = Path(__file__).resolve().parents[2]


def _transcript() -> list[str]:
    lines = transcript("$ stele store examples/ledger.tel")
    assert lines[0] == "$ stele debug demo --allow KV --allow Log --commands cmds.txt"
    return lines[1:]


def test_the_documented_session_is_what_the_debugger_prints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STELE_STORE", str(tmp_path / "s.sqlite"))
    assert main(["store", str(ROOT / "examples" / "ledger.tel")]) == 0
    expected = _transcript()
    script = tmp_path / "cmds.txt"
    script.write_text(commands(expected))
    capfd.readouterr()
    code = main(["debug", "demo", "--allow", "KV", "--allow", "Log", "--commands", str(script)])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert out.splitlines() == expected


def test_every_command_is_documented() -> None:
    for line in HELP.splitlines()[1:]:
        word = line.split()[0]
        assert f"`{word}" in DOC, word
