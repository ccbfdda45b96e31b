"""The files: speedscope validates, Perfetto nests executions, the HTML is self-contained."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ._schema import speedscope_errors
from .conftest import GUESTS, cli


def _profile(store: str, tmp_path: Path, *argv: str) -> dict[str, Any]:
    code, out, err = cli("profile", *argv, "-o", str(tmp_path / "p"), "--store", store,
                         "--json")
    assert code == 0, err
    return dict(json.loads(out))


@pytest.mark.parametrize("argv", [
    ("fib", "12"), ("fib_sum", "5", "--allow", "Exec"), ("demo", "--allow", "KV", "--allow", "Log"),
    (str(GUESTS / "sha256.elf"), "abc"), (str(GUESTS / "sha256.elf"), "abc", "--sample", "50"),
])
def test_speedscope_validates_and_totals_match(store: str, tmp_path: Path,
                                               argv: tuple[str, ...]) -> None:
    shutil.copy(store, tmp_path / "s.sqlite")
    rec = _profile(str(tmp_path / "s.sqlite"), tmp_path, *argv)
    doc = json.loads((tmp_path / "p.speedscope.json").read_text())
    assert speedscope_errors(doc) == []
    first = doc["profiles"][0]
    reported = rec["cost"] if rec["engine"] == "tel" else rec["cycles"]
    assert first["endValue"] == sum(first["weights"]) == rec["profile_total"] == reported


def test_the_validator_rejects_broken_files(store: str, tmp_path: Path) -> None:
    _profile(store, tmp_path, "fib", "8")
    good = json.loads((tmp_path / "p.speedscope.json").read_text())
    breaks = [
        lambda d: d.pop("shared"),
        lambda d: d["profiles"][0].pop("weights"),
        lambda d: d["profiles"][0].__setitem__("unit", "cost"),
        lambda d: d["profiles"][0].__setitem__("type", "flame"),
        lambda d: d["profiles"][0]["samples"].append([len(d["shared"]["frames"])]),
        lambda d: d["shared"]["frames"][0].pop("name"),
        lambda d: d.__setitem__("$schema", "http://example.com/x.json"),
    ]
    for brk in breaks:
        bad = copy.deepcopy(good)
        brk(bad)
        assert speedscope_errors(bad), brk


def _slices(doc: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(name, depth, parent index) of each B/E slice, checking that they nest per track."""
    out: list[tuple[str, int, int]] = []
    stacks: dict[int, list[int]] = {}
    for ev in doc["traceEvents"]:
        if ev["ph"] == "B":
            st = stacks.setdefault(ev["tid"], [])
            out.append((ev["name"], len(st), st[-1] if st else -1))
            st.append(len(out) - 1)
        elif ev["ph"] == "E":
            st = stacks[ev["tid"]]
            opened = out[st.pop()]
            assert ev.get("name", opened[0]) == opened[0]  # closes what it opened
    assert all(not st for st in stacks.values())
    return out


def test_perfetto_nests_child_executions_inside_the_exec_call_effect(
        store: str, tmp_path: Path) -> None:
    _profile(store, tmp_path, "fib_sum", "4", "--allow", "Exec")
    doc = json.loads((tmp_path / "p.perfetto.json").read_text())
    slices = _slices(doc)
    names = [s[0] for s in slices]
    assert names[0] == "exec fib_sum" and names.count("exec fib") == 4
    for name, depth, parent in slices:
        if name == "exec fib":  # parent: the effect of the parent execution
            assert slices[parent][0] == "effect Exec.call" and depth == 2
            assert slices[slices[parent][2]][0] == "exec fib_sum"
    assert names.count("alloc.wait") == 5
    ts = [e["ts"] for e in doc["traceEvents"] if "ts" in e]
    assert ts == sorted(ts)


def test_perfetto_of_a_guest_is_its_calls_on_the_cycle_axis(store: str, tmp_path: Path) -> None:
    rec = _profile(store, tmp_path, str(GUESTS / "sha256.elf"), "abc")
    doc = json.loads((tmp_path / "p.perfetto.json").read_text())
    slices = _slices(doc)
    assert slices[0][0].startswith("exec ") and "main" in [s[0] for s in slices]
    assert max(e["ts"] for e in doc["traceEvents"] if "ts" in e) == rec["cycles"]


def test_html_is_self_contained_and_escapes_names(store: str, tmp_path: Path) -> None:
    _profile(store, tmp_path, "fib", "10")
    page = (tmp_path / "p.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # no network
    assert "<script type='application/json' id='profiles'>" in page and "fib" in page
    from stele._profiler._flame import flame_html
    from stele._profiler._model import Profile

    p = Profile("x", "cycles")
    p.add(("main", "</script><script>alert(1)</script>"), 5)
    hostile = flame_html([p], "<b>t</b>")
    assert "</script><script>alert(1)" not in hostile and "<b>t</b>" not in hostile


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_html_script_draws_boxes_under_a_minimal_dom(store: str, tmp_path: Path) -> None:
    """Run the page's script under node with a tiny DOM: it draws one box per frame."""
    _profile(store, tmp_path, "fib_sum", "3", "--allow", "Exec")
    page = (tmp_path / "p.html").read_text()
    data = re.search(r"id='profiles'>(.*?)</script>", page, re.S)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert data and script
    harness = """
const made = [];
function el(id){ return {id, children: [], style: {}, classList: {add(){}}, clientWidth: 1000,
  appendChild(c){ this.children.push(c); made.push(c); }, set textContent(v){ this._t = v;
  if (v === '') this.children = []; }, get textContent(){ return this._t; }}; }
const els = {profiles: el('profiles'), graph: el('graph'), tip: el('tip'), which: el('which'),
  search: el('search')};
els.profiles._t = DATA; els.search.value = '';
globalThis.document = {getElementById: id => els[id], createElement: () => el('x')};
globalThis.addEventListener = () => {}; globalThis.innerWidth = 1200;
SCRIPT
const boxes = els.graph.children.map(c => c._t);
console.log(JSON.stringify({boxes, options: els.which.children.length}));
""".replace("DATA", json.dumps(data.group(1).replace("<\\/", "</"))).replace(
        "SCRIPT", script.group(1))
    (tmp_path / "h.js").write_text(harness)
    done = subprocess.run(["node", str(tmp_path / "h.js")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["options"] == 2  # cost and wall time
    assert got["boxes"][0].startswith("all: ") and "exec:fib_sum" in got["boxes"]
    assert "fib_sum" in got["boxes"] and "exec:fib" in got["boxes"]
