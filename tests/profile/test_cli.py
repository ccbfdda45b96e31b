"""``stele profile`` on the command line: the table, the files, one-line typed errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import EXAMPLES, GUESTS, cli


def test_tel_prints_value_totals_table_and_files(store: str, tmp_path: Path) -> None:
    out_stem = str(tmp_path / "fib")
    code, out, err = cli("profile", "fib", "12", "-o", out_stem, "--store", store, "--top", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("value=144 cost=") and "profile_total=" in lines[0]
    assert lines[1].split()[:2] == ["self", "cost"] and lines[2].endswith("  fib")
    assert lines[-1] == f"wrote {out_stem}.speedscope.json {out_stem}.perfetto.json {out_stem}.html"
    for suffix in (".speedscope.json", ".perfetto.json", ".html"):
        assert Path(out_stem + suffix).stat().st_size > 0


def test_one_format_writes_exactly_that_file(store: str, tmp_path: Path) -> None:
    target = tmp_path / "only.json"
    code, out, err = cli("profile", "fib", "5", "-o", str(target), "--format", "speedscope",
                         "--store", store, "--top", "0")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["only.json"]
    assert json.loads(target.read_text())["$schema"].endswith("file-format-schema.json")


def test_guest_exit_code_and_pcs(store: str, tmp_path: Path) -> None:
    code, out, err = cli("profile", "sort", "50 1", "-o", str(tmp_path / "g"), "--store", store)
    assert code == 0, err
    assert out.startswith("exit=0 cycles=") and "mode=exact" in out and "hottest pcs: 0x" in out


def _fails(code_wanted: int, *argv: str) -> str:
    code, out, err = cli("profile", *argv)
    lines = err.strip().splitlines()
    assert code == code_wanted, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("stele profile: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_bad_input_is_one_typed_line_with_the_documented_code(store: str, tmp_path: Path) -> None:
    o = str(tmp_path / "x")
    assert "'nope'" in _fails(5, "nope", "-o", o, "--store", store)
    assert "no store" in _fails(5, "fib", "-o", o, "--store", str(tmp_path / "none.sqlite"))
    assert "does not exist" in _fails(2, "fib", "3", "-o", str(tmp_path / "no" / "x"),
                                      "--store", store)
    assert "is a directory" in _fails(2, "fib", "3", "-o", str(tmp_path), "--format", "html",
                                      "--store", store)
    assert "--format 'svg'" in _fails(2, "fib", "3", "-o", o, "--format", "svg", "--store", store)
    assert "-o" in _fails(2, "fib", "3", "--store", store)  # -o is required
    assert "--sample" in _fails(2, "fib", "3", "-o", o, "--sample", "10", "--store", store)
    assert "--sample" in _fails(2, str(GUESTS / "sha256.elf"), "-o", o, "--sample", "0")
    assert "not a TEL literal" in _fails(2, "fib", '"open', "-o", o, "--store", store)
    assert "takes 1 argument" in _fails(2, "fib", "1", "2", "-o", o, "--store", store)
    assert "--allow 'Net'" in _fails(2, "fib", "1", "-o", o, "--allow", "Net", "--store", store)
    assert "ElfError" in _fails(2, str(EXAMPLES / "fib.tel"), "-o", o)  # a file, not an ELF
    assert "fuel" in _fails(3, "fib", "25", "-o", o, "--fuel", "1000", "--store", store)
    assert "Exec" in _fails(4, "fib_sum", "3", "-o", o, "--store", store)  # not granted
    assert "CycleLimitExceeded" in _fails(3, str(GUESTS / "sha256.elf"), "-o", o,
                                          "--cycles", "100")


def test_a_guest_effect_is_denied_not_served(tmp_path: Path) -> None:
    elf = EXAMPLES / "effect_guest" / "effects.elf"
    if not elf.exists():
        pytest.skip("effects.elf not built")
    line = _fails(4, str(elf), "-o", str(tmp_path / "e"))
    assert "not granted" in line


def test_json_error_record(store: str, tmp_path: Path) -> None:
    code, out, _err = cli("profile", "nope", "-o", str(tmp_path / "x"), "--store", store,
                          "--json")
    assert code == 5
    rec = json.loads(out)
    assert rec["ok"] is False and rec["error"]["type"] == "UnknownTarget"
