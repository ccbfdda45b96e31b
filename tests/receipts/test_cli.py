"""``stele run --prove`` and ``stele receipt verify|show|get``: output lines, JSON and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stele.cli import main

from zkvm._programs import counter


@pytest.fixture()
def made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, Path, str]:
    store = tmp_path / "s.sqlite"
    elf = tmp_path / "c.elf"
    elf.write_bytes(counter(30))
    receipt = tmp_path / "c.receipt"
    assert main(["store", "--blob", str(elf), "--name", "count", "--store", str(store)]) == 0
    code = main(["run", "count", "in", "--prove", "--receipt", str(receipt), "--store", str(store)])
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("receipt="))
    return store, elf, receipt, line.split()[0].removeprefix("receipt=") + f" {code}"


def test_run_prove_writes_a_receipt_that_a_second_process_verifies(made: tuple[Path, Path, Path, str],
                                                                  tmp_path: Path) -> None:
    _store, elf, receipt, digest_code = made
    digest, code = digest_code.split()
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    (alone / "c.receipt").write_bytes(receipt.read_bytes())
    (alone / "c.elf").write_bytes(elf.read_bytes())
    (alone / "in").write_bytes(b"in")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STELE_")}
    out = subprocess.run([sys.executable, "-m", "stele.cli", "receipt", "verify", "c.receipt", "--elf", "c.elf",
                          "--input", "in", "--exit-code", str(int(code)), "--json"],
                         cwd=alone, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["verified"] is True and record["receipt"] == digest
    assert not (alone / ".stele").exists()  # verification needs no store


def test_verify_exit_codes(made: tuple[Path, Path, Path, str], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    _store, elf, receipt, _ = made
    other = tmp_path / "o.elf"
    other.write_bytes(counter(60))
    inp = tmp_path / "in"
    inp.write_bytes(b"in")
    assert main(["receipt", "verify", str(receipt), "--elf", str(elf), "--input", str(inp)]) == 0
    assert capsys.readouterr().out.startswith("verified: ")
    assert main(["receipt", "verify", str(receipt), "--elf", str(elf)]) == 7  # the input is the initial memory's
    assert "receipt rejected: input" in capsys.readouterr().err
    assert main(["receipt", "verify", str(receipt), "--elf", str(other)]) == 7
    assert "receipt rejected: code" in capsys.readouterr().err
    wrong_input = tmp_path / "x"
    wrong_input.write_bytes(b"not the input")
    assert main(["receipt", "verify", str(receipt), "--elf", str(elf), "--input", str(wrong_input)]) == 7
    assert "receipt rejected: input" in capsys.readouterr().err
    bad = tmp_path / "bad.receipt"
    bad.write_bytes(receipt.read_bytes()[:-7])
    assert main(["receipt", "verify", str(bad), "--elf", str(elf)]) == 7
    assert "malformed receipt" in capsys.readouterr().err
    assert main(["receipt", "verify", str(tmp_path / "missing"), "--elf", str(elf)]) == 2
    assert main(["receipt", "verify", str(receipt)]) == 2  # --elf is required
    assert main(["receipt"]) == 2


def test_show_and_get(made: tuple[Path, Path, Path, str], tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    store, _elf, receipt, digest_code = made
    digest = digest_code.split()[0]
    assert main(["receipt", "show", str(receipt), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["receipt"] == digest and shown["version"] == "stele.receipt/1"
    out = tmp_path / "g.receipt"
    assert main(["receipt", "get", digest[:12], "-o", str(out), "--store", str(store)]) == 0
    assert out.read_bytes() == receipt.read_bytes()
    assert main(["receipt", "get", "b2:00", "-o", str(out), "--store", str(store)]) == 5
    # a stored object that is not a receipt: the ELF
    capsys.readouterr()
    assert main(["receipt", "get", "count", "-o", str(out), "--store", str(store)]) == 2


def test_run_prove_usage_errors(made: tuple[Path, Path, Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    store = made[0]
    assert main(["run", "count", "--receipt", "x", "--store", str(store)]) == 2
    assert "--receipt FILE needs --prove" in capsys.readouterr().err
    tel = store.parent / "one.tel"
    tel.write_text("def one() -> Int = 1\n")
    assert main(["store", str(tel), "--store", str(store)]) == 0
    capsys.readouterr()
    assert main(["run", "one", "--prove", "--store", str(store)]) == 2
    assert "add --engine riscv" in capsys.readouterr().err
    receipt = store.parent / "one.receipt"
    assert main(["run", "one", "--engine", "riscv", "--prove", "--receipt", str(receipt), "--store", str(store)]) == 0
    assert "receipt=" in capsys.readouterr().err and receipt.stat().st_size > 0
    assert main(["run", "count", "--prove", "--connect", "unix:/nonexistent", "--store", str(store)]) == 2
    assert "--connect" in capsys.readouterr().err


def test_run_prove_json_and_memo_hit(made: tuple[Path, Path, Path, str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    store, _elf, _receipt, digest_code = made
    main(["run", "count", "in", "--prove", "--json", "--store", str(store)])
    record = json.loads(capsys.readouterr().out)
    assert record["memo_hit"] is True and record["receipt"] == digest_code.split()[0]
