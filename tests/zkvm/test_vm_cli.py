"""``stele vm prove`` / ``stele vm verify``: output lines and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stele.actors.coprocessor._cli import main

from stele.actors.coprocessor import encode

from ._programs import all_classes, program, unit_programs


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

    csr = tmp_path / "csr.elf"
    csr.write_bytes(program([encode("csrrs", 5, 0, imm=0xC00)]))  # rdcycle: CSRs are outside provable mode
    with pytest.raises(CliError, match="not provable: instruction") as info:
        main(["prove", str(csr), "-o", str(tmp_path / "p")])
    assert info.value.code == 1
    with pytest.raises(CliError) as info:
        main(["verify", str(tmp_path / "nope"), "--elf", str(csr)])
    assert info.value.code == 2


def test_prove_and_verify_with_input_and_public_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .test_vm_syscalls import echo

    elf, inp, out, wrong = tmp_path / "echo.elf", tmp_path / "in", tmp_path / "out", tmp_path / "wrong"
    elf.write_bytes(echo())
    inp.write_bytes(b"hello")
    out.write_bytes(b"hello")
    wrong.write_bytes(b"jello")
    proof = tmp_path / "echo.proof"
    assert main(["prove", str(elf), "--input", str(inp), "-o", str(proof)]) == 0
    capsys.readouterr()
    assert main(["verify", str(proof), "--elf", str(elf), "--input", str(inp), "--output", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "verified"
    assert main(["verify", str(proof), "--elf", str(elf), "--input", str(inp), "--output", str(wrong)]) == 1
    assert "proof rejected: statement" in capsys.readouterr().err
    assert main(["verify", str(proof), "--elf", str(elf)]) == 1  # the input is part of the initial memory
    assert "input" in capsys.readouterr().err
