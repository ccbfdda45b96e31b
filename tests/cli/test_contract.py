"""The CLI contract: exit codes of the one table, one-line typed errors, ``--json``, names.

Most cases call :func:`stele.cli.main` in-process (fast, deterministic);
``test_subprocess.py`` covers what needs a real process (SIGINT, PATH).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stele._cli._common import EXIT_CODES
from stele.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SHA = EXAMPLES / "guests" / "bin" / "sha256.elf"
EFFECTS = EXAMPLES / "effect_guest" / "effects.elf"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store holding fib.tel, timer.tel and the sha256 guest, as $STELE_STORE."""
    db = tmp_path / "s.sqlite"
    monkeypatch.setenv("STELE_STORE", str(db))
    monkeypatch.chdir(tmp_path)
    assert main(["store", str(EXAMPLES / "fib.tel")]) == 0
    assert main(["store", str(EXAMPLES / "timer.tel")]) == 0
    assert main(["store", "--blob", str(SHA), "--name", "sha256"]) == 0
    return db


def _call(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capfd.readouterr()
    code = main(list(argv))
    out, err = capfd.readouterr()
    return code, out, err


def _digest_of(capfd: pytest.CaptureFixture[str], name: str) -> str:
    _code, out, _ = _call(capfd, "names")
    return dict(line.split(" -> ") for line in out.splitlines())[name].strip()


def _one_line_error(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0], err
    for n in needles:
        assert n in lines[0], (n, err)


def test_version_and_help(capfd: pytest.CaptureFixture[str]) -> None:
    import stele

    code, out, _ = _call(capfd, "--version")
    assert code == 0 and out.startswith(f"stele {stele.__version__} ")
    code, out, _ = _call(capfd, "--help")
    assert code == 0 and "run " in out and "exit codes:" in out
    for c, meaning in EXIT_CODES.items():
        assert f"{c:<4} {meaning}" in out


def test_run_tel_prints_value_cost_and_memo_hit(store: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _call(capfd, "run", "fib", "20")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "6765"
    assert lines[1].startswith("cost=218905 ")
    assert lines[2].startswith("memo_hit=no digest=b2:")
    code, out, _ = _call(capfd, "run", "fib", "20")
    assert "memo_hit=yes" in out


def test_run_json_schema(store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _call(capfd, "run", "fib", "10", "--json")
    record = json.loads(out)
    assert code == 0
    assert set(record) == {"ok", "exit_code", "target", "digest", "engine", "value", "cost",
                           "breakdown", "usage", "effects", "journal_digest", "memo_hit",
                           "logs", "stdout", "public_output"}
    assert record["ok"] is True and record["value"] == 55 and record["engine"] == "tel"
    assert record["cost"] == sum(record["breakdown"].values())


def test_run_by_digest_prefix_and_guest(store: Path, tmp_path: Path,
                                        capfd: pytest.CaptureFixture[str]) -> None:
    digest = _digest_of(capfd, "fib")
    code, out, _ = _call(capfd, "run", digest[:12], "10")
    assert code == 0 and out.splitlines()[0] == "55"
    (tmp_path / "in").write_bytes(b"abc")
    code, out, err = _call(capfd, "run", "sha256", "--input", str(tmp_path / "in"))
    assert code == 0
    assert out.strip() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert "exit=0" in err


def test_run_effects_need_a_grant(store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, _, err = _call(capfd, "run", "run_steps", '["a"]', "5")
    assert code == 4
    _one_line_error(err, "EffectDenied", "Clock")
    code, out, _ = _call(capfd, "run", "run_steps", '["a", "b"]', "5",
                         "--allow", "Clock", "--allow", "Log")
    assert code == 0 and out.splitlines()[0] == "2"
    assert [line.split()[-1] for line in out.splitlines() if line.startswith("log: t+")] == ["a", "b"]


@pytest.mark.parametrize("argv,code,needles", [
    (["run", "nope"], 5, ["UnknownTarget", "'nope'"]),
    (["run", "fib", "30", "--fuel", "100"], 3, ["CostLimitExceeded", "limit 100"]),
    (["run", "fib", "abc"], 2, ["argument 'n' of fib"]),
    (["run", "fib", "1", "2"], 2, ["takes 1 argument"]),
    (["run", "fib", "--fuel", "x"], 2, ["--fuel", "not an integer"]),
    (["run", "fib", "1", "--allow", "Nope"], 2, ["not an effect"]),
    (["run", "fib", "[1,"], 2, ["not a TEL literal"]),
    (["eval", "nope(1)"], 2, ["TelTypeError", "unknown name 'nope'"]),
    (["eval", "fib("], 2, ["TelSyntaxError"]),
    (["eval", "fib(30)", "--fuel", "50"], 3, ["CostLimitExceeded"]),
    (["eval", "1 / 0"], 1, ["DivisionByZero"]),
    (["eval", "/nonexistent.tel", "1"], 2, ["No such file"]),
    (["show", "zzz"], 5, ["zzz"]),
    (["diff", "fib@1", "fib@7"], 5, ["versions 1..1"]),
    (["diff", "fib@x", "fib"], 2, ["must be a number"]),
    (["delete", "nope"], 5, ["not a bound name"]),
    (["rename", "fib", "fib_fast"], 2, ["already bound"]),
    (["dependents", "nope"], 5, ["UnknownTarget"]),
    (["vm", "run", "nothing-here"], 5, ["neither a file nor a stored guest"]),
    (["vm", "run", str(EXAMPLES / "fib.tel")], 2, ["ElfError"]),
    (["vm", "run", str(SHA), "--max-cycles", "10"], 3, ["CycleLimitExceeded"]),
    (["vm", "run", str(EFFECTS)], 4, ["NotGranted", "Log.emit", "--allow Log"]),
    (["vm", "run", str(SHA), "--allow", "Bogus"], 2, ["not an effect"]),
    (["store", "--blob", str(ROOT / "README.md"), "--name", "r"], 2, ["not a RISC-V ELF"]),
    (["store", "--store", "/proc/x/y.sqlite", str(EXAMPLES / "fib.tel")], 2, ["/proc/x"]),
    (["store", "--store", str(ROOT / "README.md") + "/y.sqlite", str(EXAMPLES / "fib.tel")],
     2, ["README.md"]),
    (["sim", "--seed", "abc"], 2, ["--seed", "abc"]),
    (["bogus"], 2, ["unknown command 'bogus'"]),
])
def test_user_errors_are_one_line_with_the_documented_code(
        store: Path, capfd: pytest.CaptureFixture[str], argv: list[str], code: int,
        needles: list[str]) -> None:
    got, _out, err = _call(capfd, *argv)
    assert got == code, (argv, err)
    _one_line_error(err, *needles)


def test_json_errors_are_records(store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = _call(capfd, "run", "fib", "30", "--fuel", "100", "--json")
    record = json.loads(out)
    assert code == 3 and record == {"ok": False, "exit_code": 3, "error": {
        "type": "CostLimitExceeded", "message": record["error"]["message"]}}
    assert "limit 100" in record["error"]["message"]
    code, out, _ = _call(capfd, "eval", "fib(10)", "--json")
    record = json.loads(out)
    assert code == 0 and record["value"] == 55 and record["type"] == "Int"


def test_traceback_flag_shows_the_traceback(store: Path,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    code, _, err = _call(capfd, "--traceback", "run", "nope")
    assert code == 5 and "Traceback" in err and err.rstrip().endswith(
        "(see 'stele names')")


def test_eval_sees_stored_names_and_use_lines(store: Path, tmp_path: Path,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _call(capfd, "eval", "fib(20)")
    assert code == 0 and out.startswith("6765 : Int")
    digest = _digest_of(capfd, "fib")
    src = tmp_path / "use.tel"
    src.write_text(f"#use f = {digest[:14]}\ndef g(n: Int) -> Int = f(n) + 1\n")
    code, out, err = _call(capfd, "eval", str(src), "g(10) + f(1)")
    assert code == 0 and out.startswith("57 : Int"), err


def test_rename_delete_history_diff(store: Path, tmp_path: Path,
                                    capfd: pytest.CaptureFixture[str]) -> None:
    assert _call(capfd, "rename", "fib", "fibonacci")[0] == 0
    assert _call(capfd, "run", "fib", "5")[0] == 5
    code, out, _ = _call(capfd, "run", "fibonacci", "10")
    assert code == 0 and out.startswith("55")
    assert _call(capfd, "delete", "fibonacci")[0] == 0
    code, out, _ = _call(capfd, "history", "fibonacci")
    assert code == 0 and len(out.splitlines()) == 2 and out.splitlines()[1].endswith("(none)")
    v2 = tmp_path / "v2.tel"
    v2.write_text("def wait_until(deadline: Int, delay: Int) -> Int ! {Clock} =\n"
                  "  let now = perform Clock.now() in\n"
                  "  if now >= deadline then now else wait_until(deadline, delay + 1)\n")
    assert _call(capfd, "store", str(v2))[0] == 0
    code, out, _ = _call(capfd, "diff", "wait_until@1", "wait_until@2")
    assert code == 0
    assert any(line.startswith("-") and "delay * 2" in line for line in out.splitlines())
    assert any(line.startswith("+") and "delay + 1" in line for line in out.splitlines())
    code, out, _ = _call(capfd, "dependents", "wait_until@1".split("@")[0])
    assert code == 0


def test_dependents_follow_references(store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _call(capfd, "history", "wait_until")
    code, out, _ = _call(capfd, "dependents", "wait_until", "--json")
    record = json.loads(out)
    assert code == 0 and [d["names"] for d in record["dependents"]] == [["workflow"]]


def test_vm_run_allow_and_json(store: Path, tmp_path: Path,
                               capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in").write_bytes(b"hi")
    code, out, err = _call(capfd, "vm", "run", str(EFFECTS), "--input", str(tmp_path / "in"),
                           "--allow", "Log", "--allow", "KV", "--allow", "Rand")
    assert code == 0 and "Log.emit: 1 f6" in out and "log: hi" in err
    code, out, _ = _call(capfd, "vm", "run", "sha256", "--input", str(tmp_path / "in"),
                         "--json")
    record = json.loads(out)
    assert code == 0 and record["ok"] and record["halt_reason"] == "exit"
    assert record["cycles"] > 0 and len(record["public_output"]) == 64


def test_repl_session(store: Path) -> None:
    import io

    from stele._cli._repl import Session, run_loop

    out = io.StringIO()
    lines = iter(["fib(10)", ":type fib", ":cost fib(5)", ":use fib as f", "f(6) + 1",
                  "def sq(x: Int) -> Int = x * x", "sq(f(5))", "nope(1)", ":bogus", ":quit",
                  "never read"])
    run_loop(Session(str(store), 10_000_000, out), lambda _prompt: next(lines))
    text = out.getvalue().splitlines()
    assert text[0] == "55 : Int" and text[2] == "Fn(Int) -> Int"
    assert text[3].startswith("cost=148: ")
    assert "9 : Int" in text and "defined sq" in text and "25 : Int" in text
    assert any(t.startswith("error: TelTypeError") and "unknown name 'nope'" in t for t in text)
    assert next(lines) == "never read"  # :quit ended the loop
