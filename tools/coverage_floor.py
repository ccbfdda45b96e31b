"""Print branch coverage per package from ``.coverage`` and hold each floor.

Floors live in pyproject ``[tool.stele.coverage.floors]`` (percent, branch +
line combined as coverage.py reports it).  Exit 1 if any package is under its
floor, naming it.  Run by ``tools/test.sh`` after pytest.
"""

from __future__ import annotations

import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parent.parent


def _package(path: str) -> str:
    rel = Path(path).resolve().relative_to(ROOT)
    top = {"runtime": "stele", "actors": "stele.actors", "protocol": "stele.protocol"}[rel.parts[0]]
    sub = rel.parts[1:-1]
    return ".".join([top, *sub])


def main() -> int:
    floors: dict[str, float] = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"]["stele"]["coverage"]["floors"]
    cov = coverage.Coverage(data_file=str(ROOT / ".coverage"))
    cov.load()
    data = cov.get_data()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for f in data.measured_files():
        try:
            pkg = _package(f)
        except (ValueError, KeyError):
            continue
        an = cov._analyze(f)  # noqa: SLF001 - coverage's per-file numbers
        n = an.numbers
        t = totals[pkg]
        t[0] += n.n_statements
        t[1] += n.n_missing
        t[2] += n.n_branches
        t[3] += n.n_missing_branches
    print("== branch coverage per package (floor in pyproject [tool.stele.coverage.floors])")
    bad = []
    for pkg in sorted(totals):
        st, miss, br, mbr = totals[pkg]
        pct = 100.0 * (st - miss + br - mbr) / max(1, st + br)
        floor = floors.get(pkg, floors.get("default", 0.0))
        flag = "" if pct >= floor else "  UNDER FLOOR"
        if flag:
            bad.append(pkg)
        print(f"{pkg:<28} {pct:5.1f}%  branches {br - mbr}/{br}  floor {floor:.0f}%{flag}")
    if bad:
        print(f"coverage: under the floor: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
