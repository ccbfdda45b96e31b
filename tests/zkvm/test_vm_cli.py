"""``stele vm prove`` / ``stele vm verify``: output lines and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stele.actors.coprocessor._cli import main

from ._programs import all_classes, unit_programs


def test_prove_then_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elf, other = tmp_path / "a.elf", tmp_path / "b.elf"
    elf.write_bytes(all_classes(2))
    other.write_bytes(unit_programs()["add"])
    proof = tmp_path / "a.proof"
    assert main(["prove", str(elf), "-o", str(proof)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cycles: ") and "proof: " in out and "prove time: " in out
    assert main(["verify", str(proof), "--elf", str(elf)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "verified"
    assert main(["verify", str(proof), "--elf", str(other)]) == 1
    assert "proof rejected: statement" in capsys.readouterr().err
    assert main(["verify", str(proof), "--elf", str(elf), "--exit-code", "12345"]) == 1
    assert main(["verify", str(proof), "--elf", str(elf), "--output", str(other)]) == 1
    bad = tmp_path / "bad.proof"
    bad.write_bytes(proof.read_bytes()[:-10])
    assert main(["verify", str(bad), "--elf", str(elf)]) == 1
    assert "malformed vm proof" in capsys.readouterr().err


def test_unprovable_and_missing_files(tmp_path: Path) -> None:
    from stele._cli._common import CliError

    sort = Path(__file__).resolve().parents[2] / "examples" / "guests" / "bin" / "sort.elf"
    with pytest.raises(CliError, match="not provable: (instruction|syscall)") as info:
        main(["prove", str(sort), "-o", str(tmp_path / "p")])
    assert info.value.code == 1
    with pytest.raises(CliError) as info:
        main(["verify", str(tmp_path / "nope"), "--elf", str(sort)])
    assert info.value.code == 2
