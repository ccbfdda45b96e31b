"""The mutation runner (tools/mutate.py): sampling is seeded and every
operator yields a parseable source that differs from the original.  The
`slow` test is the CI hook: it mutates the modules this branch changed
against ``main`` and requires each to meet the floor in pyproject."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stele_mutate", ROOT / "tools" / "mutate.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["stele_mutate"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_sampling_is_seeded_and_every_mutant_changes_the_program() -> None:
    m = _runner()
    src, a = m.choose("protocol/_cbor.py", 20, 19)
    _, b = m.choose("protocol/_cbor.py", 20, 19)
    _, c = m.choose("protocol/_cbor.py", 20, 20)
    assert [s.key for s in a] == [s.key for s in b]
    assert [s.key for s in a] != [s.key for s in c]
    original = ast.dump(ast.parse(src))
    for site in a:
        mutated = m._apply(src, site)
        assert ast.dump(ast.parse(mutated)) != original, site.key


def test_every_mapped_module_has_a_test_folder() -> None:
    m = _runner()
    cfg = m._config()
    for prefix, tests in dict(cfg["tests"]).items():
        assert (ROOT / prefix).is_dir() or (ROOT / prefix).is_file(), prefix
        for t in [tests] if isinstance(tests, str) else tests:
            assert (ROOT / t).exists(), t
    # the longest prefix wins: a file mapping beats its folder's
    assert m.tests_for("actors/coprocessor/_machine.py", cfg) != ["tests/coprocessor"]
    assert m.tests_for("actors/coprocessor/_elf.py", cfg) == [
        "tests/coprocessor", "tests/adversarial/test_elf_and_traps.py"]  # the folder's mapping
    assert "tests/coprocessor/test_machine_witness.py" in m.tests_for("actors/coprocessor/_jit.py", cfg)


def test_selection_uses_the_tests_that_ran_the_mutated_lines() -> None:
    m = _runner()
    cmap = {10: {"t.py::a", ""}, 11: {"t.py::b"}, 20: {""}}
    assert m.select(cmap, [10, 11]) == {"t.py::a", "t.py::b"}
    assert m.select(cmap, [20]) is None          # import-time only: the whole folder
    assert m.select(cmap, [30]) == set()         # never ran: the whole folder confirms
    src = "def f(x):\n    \"doc\"\n    if x < 1:\n        raise ValueError(x)\n    return 2\n"
    sites = {s.key: s for s in m._sites(__import__("ast").parse(src))}
    assert m.site_lines(src, sites["return:1:0"]) == [3]   # first statement after the docstring
    assert m.site_lines(src, sites["not:3:4"]) == [3]
    assert m.site_lines(src, sites["raise:4:8"]) == [4]


@pytest.mark.slow
def test_changed_modules_meet_the_mutation_floor() -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    proc = subprocess.run(["bash", str(ROOT / "tools" / "mutation.sh"), "--changed", "main"],
                          cwd=ROOT, capture_output=True, text=True, timeout=6 * 3600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def _report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stele_mutation_report",
                                                  ROOT / "tools" / "mutation_report.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _entry(sha: str, only: list[str], **verdicts: str) -> dict[str, object]:
    return {"sha256": sha, "only": only,
            "mutants": [{"key": k.replace("_", ":"), "verdict": v} for k, v in verdicts.items()]}


def test_report_overlays_a_survivor_rerun_only_on_the_same_source() -> None:
    r = _report()
    before = _entry("aa", [], cmp_1_0="killed", raise_2_0="survived", const_3_0="survived")
    rerun = _entry("aa", ["raise:2:0", "const:3:0"], raise_2_0="killed", const_3_0="survived")
    v, note = r.merged_after(before, rerun)
    assert v == {"cmp:1:0": "killed", "raise:2:0": "killed", "const:3:0": "survived"}
    assert note == "survivors re-run"
    assert r.score(v, set()) == (2, 3, 0, ["const:3:0"])
    assert r.score(v, {"const:3:0"}) == (2, 2, 1, [])   # the current equivalent list applies
    # a changed source: the old kills are not carried over
    v2, note2 = r.merged_after(before, _entry("bb", ["raise:2:0"], raise_2_0="killed"))
    assert v2 == {"raise:2:0": "killed"} and "source changed" in note2
    # a full AFTER run replaces BEFORE outright
    full = _entry("bb", [], cmp_1_0="survived")
    assert r.merged_after(before, full) == ({"cmp:1:0": "survived"}, "")


def test_report_table_marks_unmeasured_and_not_rerun_modules(tmp_path: Path) -> None:
    r = _report()
    before = {"a.py": _entry("aa", [], cmp_1_0="killed", cmp_2_0="survived")}
    after = {"a.py": _entry("aa", [], cmp_1_0="killed", cmp_2_0="killed"),
             "b.py": _entry("cc", [], cmp_1_0="survived")}
    text = r.table(before, after)
    assert "| `a.py` | 1/2 (50%) | 2/2 (100%) | 0 | - |  |" in text
    assert "| `b.py` | not measured | 0/1 (0%) | 0 | cmp:1:0 |  |" in text
    assert "| **total** | 1/2 (50%) | 2/3 (67%) |" in text
    clean = {"c.py": _entry("dd", [], cmp_1_0="killed"), "d.py": _entry("ee", [], cmp_1_0="survived")}
    text2 = r.table(clean, {})
    assert "| `c.py` | 1/1 (100%) | 1/1 (100%) | 0 | - | no survivors before |" in text2
    assert "| `d.py` | 0/1 (0%) | not re-run |" in text2
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{r.BEGIN}\nstale\n{r.END}\noutro\n")
    assert r.write(doc, text) is True
    assert doc.read_text() == f"intro\n{r.BEGIN}\n{text}{r.END}\noutro\n"
    assert r.write(doc, text) is False
