"""``stele vm run``: exit status, I/O, signatures, stats and clear errors."""

from __future__ import annotations

import importlib.util

from pathlib import Path

import pytest

from stele.actors.coprocessor import encode
from stele._cli._common import UsageError
from stele.actors.coprocessor._cli import main

from ._elfgen import DATA, li, make_elf, syscall

SHA = "examples/guests/bin/sha256.elf"


def test_run_guest_with_input_and_stats(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    inp = tmp_path / "in"
    inp.write_bytes(b"abc")
    assert main(["run", SHA, "--input", str(inp), "--stats"]) == 0
    out, err = capfd.readouterr()
    assert out == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
    assert "cycles=" in err and "mips=" in err and "time=" in err


def test_exit_status_public_output_and_signature(tmp_path: Path) -> None:
    text = syscall(64, 3, DATA, 4) + syscall(93, 300)
    elf = tmp_path / "t.elf"
    elf.write_bytes(make_elf(text, b"pub!" + bytes(12),
                             symbols={"begin_signature": DATA, "end_signature": DATA + 8}))
    pub, sig = tmp_path / "pub", tmp_path / "sig"
    assert main(["run", str(elf), "--public", str(pub), "--signature", str(sig)]) == 300 & 0xFF
    assert pub.read_bytes() == b"pub!"
    assert sig.read_text() == "21627570\n00000000\n"


@pytest.mark.parametrize("interp", [False, True])
def test_bad_programs_fail_with_one_clear_line(tmp_path: Path, interp: bool,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    cases = {  # name -> (image, message, exit code of the shared table)
        "wrong.elf": (b"\x7fELF\x02" + bytes(60), "ElfError: bad ELF: EI_CLASS", 2),
        "unmapped.elf": (make_elf(li(5, 0x5000_0000) + [encode("jalr", 0, 5)]),
                         "AccessFault: guest trap: instruction access fault", 1),
        "illegal.elf": (make_elf([0xFFFFFFFF]), "IllegalInstruction", 1),
        "loop.elf": (make_elf([encode("jal", 0, imm=0)]), "CycleLimitExceeded", 3),
        "memory.elf": (make_elf(li(5, 0x7FFF0000 - 4) + [
            encode("sw", 0, 5, 0), encode("lui", 6, imm=0x1000), encode("sub", 5, 5, 6),
            encode("jal", 0, imm=-12)]), "MemoryLimitExceeded", 3),
    }
    for name, (data, message, code) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        argv = ["run", str(path), "--max-cycles", "5000", "--memory-limit", "65536"]
        assert main(argv + (["--interp"] if interp else [])) == code, name
        _, err = capfd.readouterr()
        assert err.count("\n") == 1 and message in err, err


def test_missing_file(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.elf")]) == 2
    assert "No such file" in capfd.readouterr().err


def test_raw_image(tmp_path: Path) -> None:
    from ._elfgen import words

    path = tmp_path / "raw.bin"
    path.write_bytes(words(syscall(93, 9)))
    assert main(["run", str(path), "--raw", "0x10000"]) == 9


@pytest.mark.parametrize("argv,needle", [
    (["--max-cycles", "-1"], "argument --max-cycles: must be >= 0, got -1"),
    (["--memory-limit", "-3"], "argument --memory-limit: must be >= 0, got -3"),
    (["--max-cycles", "abc"], "argument --max-cycles: not an integer: 'abc'"),
    (["--raw", "xyz"], "argument --raw: not an address: 'xyz'"),
])
def test_bad_options_are_usage_errors(argv: list[str], needle: str,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError) as info:  # the dispatcher prints it as one line, exit 2
        main(["run", SHA, *argv])
    assert info.value.code == 2
    assert needle in str(info.value)


@pytest.mark.parametrize("option", ["--public", "--signature"])
def test_unwritable_output_is_one_clear_line(tmp_path: Path, option: str,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    elf = tmp_path / "t.elf"
    elf.write_bytes(make_elf(syscall(93, 0), bytes(16),
                             symbols={"begin_signature": DATA, "end_signature": DATA + 8}))
    assert main(["run", str(elf), option, str(tmp_path)]) == 2  # a directory
    _, err = capfd.readouterr()
    assert err.count("\n") == 1 and "Is a directory" in err, err


@pytest.mark.parametrize("engine", ["interp", "jit", pytest.param("native", marks=pytest.mark.skipif(
    importlib.util.find_spec("numba") is None, reason="numba (the fast extra) not installed"))])
def test_engine_flag_same_output_and_stats_names_it(
        tmp_path: Path, capfd: pytest.CaptureFixture[str], engine: str) -> None:
    inp = tmp_path / "in"
    inp.write_bytes(b"abc")
    assert main(["run", SHA, "--input", str(inp), "--stats", "--engine", engine]) == 0
    out, err = capfd.readouterr()
    assert out == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
    assert f"engine={engine} cycles=" in err


def test_default_engine_is_the_fastest_installed(tmp_path: Path,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["run", SHA, "--stats"]) == 0
    want = "native" if importlib.util.find_spec("numba") else "jit"
    assert f"engine={want} " in capfd.readouterr().err


def test_unknown_engine_and_contradiction_are_usage_errors(
        capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="invalid choice: 'turbo'"):
        main(["run", SHA, "--engine", "turbo"])  # the dispatcher prints it as one line, exit 2
    assert main(["run", SHA, "--interp", "--engine", "jit"]) == 2
    assert "--interp contradicts --engine jit" in capfd.readouterr().err
