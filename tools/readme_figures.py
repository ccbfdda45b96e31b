"""Regenerate the README's speed table from the benchmarks' JSON output.

    .venv/bin/python tools/readme_figures.py            # run the benches (--quick), rewrite
    .venv/bin/python tools/readme_figures.py --from DIR # use saved DIR/actors.json, coprocessor.json

It runs ``tests/bench/actors.py --quick`` and ``tests/bench/coprocessor.py
--quick --guests sha256 --workers 1`` (or reads their saved output), records
the machine (CPU model, cores, Python) and the date, and rewrites the block
between ``<!-- figures:begin -->`` and ``<!-- figures:end -->`` in README.md.
The figures are never typed by hand; each is a ratio against a baseline
measured in the same run, with the absolute rate beside it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"
BENCHES = {
    "actors": ["tests/bench/actors.py", "--quick"],
    "coprocessor": ["tests/bench/coprocessor.py", "--quick", "--guests", "sha256",
                    "--workers", "1"],
}


def machine() -> str:
    """CPU model, core count and Python version of this machine."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def collect(source: Path | None) -> dict[str, Any]:
    """Each bench's JSON object, run now or read from ``source``."""
    out: dict[str, Any] = {}
    for name, argv in BENCHES.items():
        if source is not None:
            out[name] = json.loads((source / f"{name}.json").read_text())
            continue
        done = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True,
                              text=True, timeout=900, check=True)
        out[name] = json.loads(done.stdout)
    return out


def table(results: dict[str, Any], where: str, when: str) -> str:
    """The Markdown block that goes between the markers."""
    a, c = results["actors"], results["coprocessor"]["guests"]["sha256"]
    rows = [
        ("actor `tell` (trio)", f"{a['trio']['tell_msgs_per_s']:,} msgs/s",
         f"{a['trio']['tell_vs_trio_send_nowait']:.2f}x raw trio `send_nowait`"),
        ("actor `ask`, one caller (trio)", f"{a['trio']['ask_sequential_per_s']:,} /s",
         f"{a['trio']['ask_sequential_vs_event_pingpong']:.2f}x a trio Event ping-pong"),
        ("actor `ask`, 64 callers (trio)", f"{a['trio']['ask_concurrent_per_s']:,} /s", ""),
        ("co-processor, default engine (sha256 guest)",
         f"{c['fast']['mips']:.1f} MIPS ({c['fast'].get('engine', 'jit')})",
         f"{c['fast']['mips'] / c['naive']['mips']:.0f}x a naive Python RV32 loop"),
    ]
    e = results["coprocessor"].get("engines")
    if e is not None:  # MIPS per engine on the CPU-bound mix, against unicorn on the same ELF
        u = e["unicorn"]["mips"]
        for name, what in (("native", "numba-compiled loop"), ("jit", "Python block JIT"),
                           ("interp", "reference interpreter")):
            if name in e["engines"]:
                got = e["engines"][name]
                rows.append((f"co-processor `{name}` ({what}), CPU-bound mix",
                             f"{got['mips']:.1f} MIPS",
                             f"{got['mips'] / u:.2f}x unicorn ({u:.0f} MIPS, no hooks)"))
        if "native" in e["engines"]:
            rows.append(("witness generation, `native`, CPU-bound mix",
                         f"{e['engines']['native']['witness_mips']:.1f} MIPS", ""))
    rows += [
        ("co-processor interpreter (sha256 guest)", f"{c['interpreter']['mips']:.1f} MIPS", ""),
        ("witness generation with checkpoints (sha256 guest)", f"{c['witness']['mips']:.2f} MIPS",
         ""),
    ]
    lines = [BEGIN,
             f"Measured {when} on {where} with `python tools/readme_figures.py` "
             "(`tests/bench/actors.py --quick`, `tests/bench/coprocessor.py --quick`); "
             "a shared machine, so expect noise of tens of percent.",
             "", "| what | rate | against a baseline in the same run |", "| --- | --- | --- |"]
    lines += [f"| {w} | {r} | {b} |" for w, r, b in rows]
    lines.append(END)
    return "\n".join(lines)


def rewrite(readme: Path, block: str) -> None:
    """Replace the marked block of ``readme`` with ``block``."""
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme}: no {BEGIN} ... {END} block to rewrite")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    readme.write_text(head + block + tail)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="source", type=Path, default=None,
                   help="a directory of saved bench output (NAME.json)")
    p.add_argument("--readme", type=Path, default=README)
    ns = p.parse_args(argv)
    results = collect(ns.source)
    when = datetime.date.today().isoformat()
    where = machine()
    saved = ROOT / "tests" / "bench" / "figures.json"
    saved.write_text(json.dumps({"date": when, "machine": where, "results": results},
                                indent=1, sort_keys=True) + "\n")
    rewrite(ns.readme, table(results, where, when))
    print(f"README figures rewritten from {', '.join(BENCHES)}; raw data in {saved.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
