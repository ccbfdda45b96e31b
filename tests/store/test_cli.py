"""``stele store | show | names | history`` end to end (in process, and once as a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stele.cli import main
from stele.protocol import Digest

from ._helpers import EXAMPLES


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _bindings(out: str) -> dict[str, Digest]:
    pairs = [line.split(" -> ") for line in out.splitlines()]
    return {name: Digest.parse(d) for name, d in pairs}


def test_store_show_names_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "deep" / "dir" / "s.sqlite")  # parent dirs are created
    code, out, err = _run(capsys, "store", str(EXAMPLES / "fib.tel"), "--store", db, "-n", "math",
                          "--author", "ann")
    assert code == 0 and err == ""
    stored = _bindings(out)
    assert set(stored) == {"math.fib", "math.fib_fast"}

    lib = tmp_path / "use.tel"
    lib.write_text("#use fib = math.fib\ndef fib10() -> Int = fib(10)\n")
    code, out, _ = _run(capsys, "store", str(lib), "--store", db)
    assert code == 0 and list(_bindings(out)) == ["fib10"]

    code, out, _ = _run(capsys, "show", "fib10", "--store", db)
    assert code == 0
    assert "def fib10() -> Int =\n  fib(10)" in out
    assert f"#   fib -> {stored['math.fib']}  (math.fib)" in out

    prefix = stored["math.fib_fast"].short(8)
    code, out, _ = _run(capsys, "show", prefix, "--store", db)
    assert code == 0 and "def fib_fast(n: Int) -> Int" in out and "# no dependencies" in out

    code, out, _ = _run(capsys, "names", "--store", db)
    assert code == 0 and list(_bindings(out)) == ["fib10", "math.fib", "math.fib_fast"]
    code, out, _ = _run(capsys, "names", "math", "--store", db)
    assert list(_bindings(out)) == ["math.fib", "math.fib_fast"]

    (tmp_path / "fib2.tel").write_text("def fib(n: Int) -> Int = n\n")
    assert _run(capsys, "store", str(tmp_path / "fib2.tel"), "--store", db, "-n", "math",
                "--author", "bob")[0] == 0
    code, out, _ = _run(capsys, "history", "math.fib", "--store", db)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert "  ann  (none) -> " + str(stored["math.fib"]) in lines[0]
    assert f"  bob  {stored['math.fib']} -> " in lines[1]


def test_default_store_path_comes_from_the_environment(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STELE_STORE", str(tmp_path / "env.sqlite"))
    assert _run(capsys, "store", str(EXAMPLES / "parity.tel"))[0] == 0
    assert (tmp_path / "env.sqlite").exists()
    monkeypatch.delenv("STELE_STORE")
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, "store", str(EXAMPLES / "parity.tel"))[0] == 0
    assert (tmp_path / ".stele" / "store.sqlite").exists()


@pytest.mark.parametrize(("argv", "code", "needle"), [
    (["show", "nosuch"], 5, "'nosuch' is not a name, a digest or a digest prefix"),
    (["history", "nosuch"], 5, "no name 'nosuch'"),
    (["store", "missing.tel"], 2, "cannot read missing.tel"),
    (["show"], 2, "the following arguments are required: target"),
    (["store", "--bogus", "x"], 2, "unrecognized arguments"),
])
def test_bad_input_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      argv: list[str], code: int, needle: str) -> None:
    db = str(tmp_path / "s.sqlite")
    assert _run(capsys, "store", str(EXAMPLES / "fib.tel"), "--store", db)[0] == 0
    got, out, err = _run(capsys, *argv, "--store", db)
    assert got == code and needle in err and "Traceback" not in err


def test_tel_errors_show_file_line_col_and_caret(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.sqlite")
    bad = tmp_path / "bad.tel"
    bad.write_text("def f(x: Int) -> Int =\n  x + true\n")
    code, _, err = _run(capsys, "store", str(bad), "--store", db)
    assert code == 2
    assert f"{bad}:2:7: type mismatch" in err and "    x + true\n        ^" in err
    bad.write_text("def f(x: Int) -> Int = (x\n")
    code, _, err = _run(capsys, "store", str(bad), "--store", db)
    assert code == 2 and f"{bad}:2:1: expected" in err and "^" in err
    bad.write_bytes(b"\xff\xfe")
    code, _, err = _run(capsys, "store", str(bad), "--store", db)
    assert code == 2 and "not UTF-8" in err


def test_read_commands_refuse_a_missing_store(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "absent.sqlite"
    code, _, err = _run(capsys, "names", "--store", str(db))
    assert code == 5 and "no store at" in err and not db.exists()


def test_ambiguous_prefix_lists_candidates(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.sqlite")
    seen: dict[str, str] = {}
    for i in range(40):
        blob = tmp_path / f"b{i}.bin"
        blob.write_bytes(bytes([i]))
        code, out, _ = _run(capsys, "store", "--blob", str(blob), "--name", f"b{i}",
                            "--kind", "bytes", "--store", db)  # not an ELF: say so
        assert code == 0
        digest = out.split(" -> ")[1].strip()
        first = digest[3]
        if first in seen:
            code, _, err = _run(capsys, "show", f"b2:{first}", "--store", db)
            assert code == 5 and "ambiguous" in err and seen[first] in err and digest in err
            return
        seen[first] = digest
    raise AssertionError("no two blobs shared a first hex digit")  # pigeonhole: impossible


def test_subprocess_console_script(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    env = {**os.environ, "STELE_STORE": db}
    cmd = [sys.executable, "-m", "stele.cli"]
    done = subprocess.run(cmd + ["store", str(EXAMPLES / "parity.tel")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [line.split(" -> ")[0] for line in done.stdout.splitlines()] == ["is_even", "is_odd"]
    shown = subprocess.run(cmd + ["show", "is_even"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert shown.returncode == 0 and "def is_even(n: Int) -> Bool" in shown.stdout
    bad = subprocess.run(cmd + ["show", "nope"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 5 and "Traceback" not in bad.stderr and "nope" in bad.stderr


def test_show_closure_lists_transitive_dependencies(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.sqlite")
    for i, src in enumerate(["def a() -> Int = 1\n", "def b() -> Int = a() + 1\n",
                             "def c() -> Int = b() + a()\n"]):
        (tmp_path / f"f{i}.tel").write_text(src)
        assert _run(capsys, "store", str(tmp_path / f"f{i}.tel"), "--store", db)[0] == 0
    code, out, _ = _run(capsys, "show", "c", "--closure", "--store", db)
    assert code == 0
    closure = out.split("# closure (3 objects, dependencies first):\n")[1].splitlines()
    assert [line.rsplit("(", 1)[1].rstrip(")") for line in closure] == ["a", "b", "c"]


def test_show_json_matches_the_text_and_lists_the_closure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    db = str(tmp_path / "s.sqlite")
    src = tmp_path / "quad.tel"
    src.write_text("def double(x: Int) -> Int = x * 2\n"
                   "def quad(x: Int) -> Int = double(double(x))\n")
    code, out, _ = _run(capsys, "store", str(src), "--store", db)
    assert code == 0
    bound = _bindings(out)
    code, out, _ = _run(capsys, "show", "quad", "--store", db, "--json", "--closure")
    assert code == 0
    record = json.loads(out)
    assert record["ok"] is True and record["digest"] == str(bound["quad"])
    assert record["names"] == ["quad"] and "def quad(x: Int) -> Int" in record["text"]
    # quad calls double: the dependency is named and its digest is the stored one
    assert [d["digest"] for d in record["dependencies"]] == [str(bound["double"])]
    assert record["dependencies"][0]["names"] == ["double"]
    assert all(set(d) == {"identifier", "digest", "kind", "names"}
               for d in record["dependencies"])
    closure = [c["digest"] for c in record["closure"]]
    assert closure.index(str(bound["double"])) < closure.index(str(bound["quad"]))
    code, text, _ = _run(capsys, "show", "quad", "--store", db)
    assert record["text"] in text
    # an unknown target under --json is still one line on stderr and exit 5
    code, out, err = _run(capsys, "show", "nosuch", "--store", db, "--json")
    assert code == 5 and err.count("\n") == 1
