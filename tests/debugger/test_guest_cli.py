"""``stele debug`` on RISC-V guests end to end: an ELF file or a stored blob, scripted."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from stele.cli import main

from ._doc import DOC, commands, transcript

ROOT = Path(__file__).resolve().parents[2]
SORT = ROOT / "examples" / "guests" / "bin" / "sort.elf"


def _call(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capfd.readouterr()
    code = main(list(argv))
    out, err = capfd.readouterr()
    return code, out, err


def _script(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "cmds.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _answers(out: str) -> dict[str, list[str]]:
    """Each echoed command with the lines that answered it (a repeated command keeps the first)."""
    got: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("(stele debug) "):
            current = line.removeprefix("(stele debug) ")
            while current in got:
                current += "'"
            got[current] = []
        elif current is not None:
            got[current].append(line)
    return got


def test_a_scripted_session_on_an_elf_file(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no store here: a file target needs none
    script = _script(tmp_path, "break main", "continue", "where", "step 1000", "show",
                     "step 1000", "rstep 1000", "watch s1", "continue", "rcontinue",
                     "finish", "info", "delete", "continue", "print $stdout")
    code, out, err = _call(capfd, "debug", str(SORT), "50 7", "--commands", script,
                           "--checkpoint-every", "500")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("sort.elf: ") and "cycles; the run exited with 0;" in lines[0]
    assert lines[1] == "#0/" + lines[0].split()[1] + " 0x00010000 _start: auipc gp, 0x2"
    got = _answers(out)
    assert got["break main"] == ["breakpoint 1: 0x00010420 main"]
    assert got["continue"][0] == "breakpoint 1: 0x00010420 main"
    assert got["continue'"][0] == "watch 2: changes of s1: 0x00000032 -> 0x00000000"
    assert got["continue''"][0] == "no breakpoint hit; at the last cycle"
    assert got["where"][0] == f"pc 0x00010420 in main, cycle 11 of {lines[0].split()[1]}"
    assert got["rstep 1000"] == got["show"] != got["step 1000'"]  # back exactly where the forward step was
    assert got["print $stdout"][0].startswith("$stdout = b'n=50 min=")
    assert got["finish"][0].startswith("#231/") and " main+0x90: " in got["finish"][0]
    assert got["info"][1] == "15 checkpoint(s), every 500 cycles"


def test_a_stored_guest_with_an_input_file(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STELE_STORE", str(tmp_path / "s.sqlite"))
    assert main(["store", "--blob", str(SORT), "--name", "sorter", "--kind", "riscv.elf"]) == 0
    data = tmp_path / "in.txt"
    data.write_text("20 3\n")
    script = _script(tmp_path, "goto 3000", "rstep 2000", "print a0", "print sp",
                     "continue")
    code, out, err = _call(capfd, "debug", "sorter", "--input", str(data),
                           "--commands", script)
    assert code == 0, err
    assert out.splitlines()[0].startswith("sorter: ")
    got = _answers(out)
    assert got["rstep 2000"][0].startswith("#1000/")
    assert got["print sp"][0].startswith("sp = 0x")
    assert got["continue"][0] == "no breakpoint hit; at the last cycle"
    assert got["continue"][1].endswith("[end: exited with 0]")


def test_commands_from_piped_stdin(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("step 3\nrstep\nquit\nstep\n"))
    code, out, _ = _call(capfd, "debug", str(SORT), "5 1")
    assert code == 0
    got = _answers(out)
    assert got["step 3"][0].startswith("#3/") and got["rstep"][0].startswith("#2/")
    assert "step" not in got  # quit left before it


@pytest.mark.parametrize("script, message", [
    (["break nowhere"], "stele debug: error: break nowhere: no function symbol 'nowhere' in "
                        "the ELF (give a hex address or one of: "),
    (["goto 999999999"], "stele debug: error: goto 999999999: the run has cycles 0.."),
    (["watch 0x3"], "stele debug: error: watch 0x3: not 4-byte aligned"),
])
def test_a_bad_command_in_a_script_exits_2(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                          script: list[str], message: str) -> None:
    code, out, err = _call(capfd, "debug", str(SORT), "5 1", "--commands",
                           _script(tmp_path, *script, "step"))
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1
    assert "Traceback" not in out + err


@pytest.mark.parametrize("extra, message", [
    (["--allow", "Log"], "--allow: stele debug does not serve guest effects yet"),
    (["--durable", "x"], "--durable: a guest is not recorded as a durable execution"),
    (["a", "b"], "a guest takes one input, got 2 arguments"),
    (["a", "--input", "f"], "give a guest's input as --input FILE or as one ARG, not both"),
    (["--input", "/nonexistent/in"], "No such file or directory: /nonexistent/in"),
])
def test_usage_errors_on_a_guest(capfd: pytest.CaptureFixture[str], extra: list[str],
                                 message: str) -> None:
    code, _out, err = _call(capfd, "debug", str(SORT), *extra)
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_a_file_that_is_not_an_elf(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.elf"
    bad.write_bytes(b"not an elf")
    code, _out, err = _call(capfd, "debug", str(bad), "--commands", _script(tmp_path, "step"))
    assert code == 2 and "bad ELF" in err and err.count("\n") == 1


def test_the_documented_guest_session_is_what_the_debugger_prints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    first = '$ stele debug examples/guests/bin/sort.elf "40000 12345" --commands cmds.txt'
    expected = transcript(first)
    script = tmp_path / "cmds.txt"
    script.write_text(commands(expected))
    monkeypatch.chdir(ROOT)
    code, out, err = _call(capfd, "debug", "examples/guests/bin/sort.elf", "40000 12345",
                           "--commands", str(script))
    assert code == 0, err
    assert out.splitlines() == expected


def test_every_guest_command_is_documented() -> None:
    from stele._debugger._guest_session import GUEST_HELP
    for line in GUEST_HELP.splitlines()[1:]:
        assert f"`{line.split()[0]}" in DOC, line
