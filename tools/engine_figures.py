"""Regenerate the engine speed table of ``docs/coprocessor.md`` from the bench's JSON.

    .venv/bin/python tools/engine_figures.py             # run the bench, rewrite the table
    .venv/bin/python tools/engine_figures.py --from FILE # use saved bench output

It runs ``tests/bench/coprocessor.py --quick --engines-only`` (or reads its
saved JSON), keeps the raw output in ``tests/bench/engine_figures.json`` and
rewrites the block between ``<!-- engine-figures:begin -->`` and
``<!-- engine-figures:end -->``.  Every figure in that block comes from the
JSON: none is typed by hand.  The load average at the time of the run is
recorded because the development machine is shared and wall figures move
with it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "coprocessor.md"
SAVED = ROOT / "tests" / "bench" / "engine_figures.json"
BEGIN, END = "<!-- engine-figures:begin -->", "<!-- engine-figures:end -->"
BENCH = ["tests/bench/coprocessor.py", "--quick", "--engines-only"]


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def collect(source: Path | None) -> dict[str, Any]:
    """The bench's JSON with the date, machine load and command, run now or read back."""
    if source is not None:
        data: dict[str, Any] = json.loads(source.read_text())
        return data
    load_before = _load()
    done = subprocess.run([sys.executable, *BENCH], cwd=ROOT, capture_output=True, text=True,
                          timeout=1200, check=True)
    return {"date": datetime.date.today().isoformat(), "command": " ".join(BENCH),
            "load_before": load_before, "load_after": _load(), "cpus": os.cpu_count(),
            "bench": json.loads(done.stdout)}


def _yes(met: bool) -> str:
    return "met" if met else "not met"


def table(saved: dict[str, Any]) -> str:
    """The Markdown block that goes between the markers."""
    eng = saved["bench"]["engines"]
    uni = eng.get("unicorn")
    comp = eng["compile"]
    lines = [BEGIN,
             f"Measured {saved['date']} with `python tools/engine_figures.py` "
             f"(`{saved['command']}`) on a shared {saved['cpus']}-core machine, load average "
             f"{saved['load_before']} before and {saved['load_after']} after (1/5/15 min): "
             "wall figures move with the load, CPU figures (process time) less so; treat "
             f"both as noisy. The mix is {eng['mix_cycles']:,} instructions.",
             "",
             "| engine | mix MIPS wall / CPU | witness MIPS wall / CPU | vs unicorn wall / CPU |",
             "|---|---|---|---|"]
    for name, row in eng["engines"].items():
        ratio = (f"{row['vs_unicorn']:.2f} / {row['cpu_vs_unicorn']:.2f}"
                 if "vs_unicorn" in row else "--")
        lines.append(f"| `{name}` | {row['mips']} / {row['cpu_mips']} | "
                     f"{row['witness_mips']} / {row['witness_cpu_mips']} | {ratio} |")
    if uni is not None:
        lines.append(f"| unicorn (no hooks, best of two) | {uni['mips']} / {uni['cpu_mips']} "
                     "| -- | 1 |")
    native = eng["engines"].get("native")
    if native is not None and comp.get("available"):
        lines += ["",
                  f"Native first use in a fresh process: cold (numba import and compile) "
                  f"{comp['cold_seconds']} s wall / {comp['cold_cpu_seconds']} s CPU, cached "
                  f"(object-code load) {comp['cached_seconds']} s wall / "
                  f"{comp['cached_cpu_seconds']} s CPU.",
                  "",
                  "Against the targets (native): >= 100 MIPS: "
                  f"{_yes(native['mips'] >= 100)} wall, {_yes(native['cpu_mips'] >= 100)} CPU; "
                  ">= 1/5 of unicorn: "
                  f"{_yes(native.get('vs_unicorn', 0) >= 0.2)}; >= 30 witness MIPS: "
                  f"{_yes(native['witness_mips'] >= 30)} wall, "
                  f"{_yes(native['witness_cpu_mips'] >= 30)} CPU; <= 3 s first compile: "
                  f"{_yes(comp['cold_seconds'] <= 3)} wall, {_yes(comp['cold_cpu_seconds'] <= 3)} "
                  f"CPU; <= 0.3 s cached: {_yes(comp['cached_seconds'] <= 0.3)}."]
    lines.append(END)
    return "\n".join(lines)


def rewrite(doc: Path, block: str) -> None:
    """Replace the marked block of ``doc`` with ``block``."""
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc}: no {BEGIN} ... {END} block to rewrite")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc.write_text(head + block + tail)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="source", type=Path, default=None,
                   help="saved output of this script (engine_figures.json)")
    p.add_argument("--doc", type=Path, default=DOC)
    ns = p.parse_args(argv)
    saved = collect(ns.source)
    SAVED.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
    rewrite(ns.doc, table(saved))
    print(f"{ns.doc.name}: engine figures rewritten; raw data in {SAVED.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
