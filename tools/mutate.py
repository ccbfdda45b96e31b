"""Small mutation-testing runner for Stele.

Why our own runner: mutmut 3.x mutates a copy of the sources under
``mutants/`` and expects the directory names to match the import names
(``src/<pkg>``); Stele maps ``runtime/`` to ``stele``, ``actors/`` to
``stele.actors`` and ``protocol/`` to ``stele.protocol`` through setuptools'
``package-dir``, so the copied tree does not import as ``stele``.  This runner
instead mutates the file *in place* in the editable checkout (restoring it in
a ``finally``), which works with any layout.

Operators (each applied at one AST site per mutant):
  cmp    flip a comparison (``<`` -> ``>=``, ``==`` -> ``!=`` ...)
  raise  drop a ``raise`` (replaced by ``pass``)
  const  integer constant off by one (``n`` -> ``n + 1``)
  return insert an early ``return`` before a function's first statement
         (after its docstring)
  not    negate an ``if``/``while`` condition

Mutants are sampled with a fixed seed, so runs are reproducible.  A
non-zero pytest exit or a timeout is a kill.

Speed: the unmutated baseline run of the module's test folder is recorded
with per-test coverage contexts (pytest-cov ``--cov-context=test``).  Each
mutant then first runs, with ``-x``, only the tests that executed the
mutated lines; a kill there is final.  A mutant that survives them (or whose
lines ran only at import time, or in no test at all) is re-run against the
whole folder, so the verdict is the same as running the whole folder for
every mutant, only most kills cost a few tests instead of hundreds.
``--full`` turns the selection off.  Hypothesis runs derandomized
(``HYPOTHESIS_PROFILE=ci``) so verdicts do not depend on luck.  Equivalent mutants are listed with a
reason in ``tools/mutation-equivalent.toml`` and excluded from the score.

Usage: python tools/mutate.py [--n N] [--seed S] [--timeout T] [--full] [--list] MODULE...
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In,
}


@dataclass(frozen=True)
class Site:
    """One place a mutation operator can apply; ``key`` is stable across runs."""

    op: str
    line: int
    col: int
    index: int  # position of the node in ast.walk order, to find it again

    @property
    def key(self) -> str:
        return f"{self.op}:{self.line}:{self.col}"


def _sites(tree: ast.AST) -> list[Site]:
    out: list[Site] = []
    for i, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _FLIP:
            out.append(Site("cmp", node.lineno, node.col_offset, i))
        elif isinstance(node, ast.Raise):
            out.append(Site("raise", node.lineno, node.col_offset, i))
        elif (isinstance(node, ast.Constant) and type(node.value) is int):
            out.append(Site("const", node.lineno, node.col_offset, i))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append(Site("return", node.lineno, node.col_offset, i))
        elif isinstance(node, (ast.If, ast.While)):
            out.append(Site("not", node.lineno, node.col_offset, i))
    return out


def _in_annotation_or_docstring(tree: ast.AST) -> set[int]:
    """Node indexes never worth mutating (type annotations)."""
    skip: set[int] = set()
    ids = {id(n): i for i, n in enumerate(ast.walk(tree))}
    for node in ast.walk(tree):
        ann = getattr(node, "annotation", None) or getattr(node, "returns", None)
        if isinstance(ann, ast.AST):
            for sub in ast.walk(ann):
                skip.add(ids[id(sub)])
    return skip


def _apply(source: str, site: Site) -> str:
    tree = ast.parse(source)
    node = list(ast.walk(tree))[site.index]
    if site.op == "cmp":
        assert isinstance(node, ast.Compare)
        node.ops[0] = _FLIP[type(node.ops[0])]()
    elif site.op == "raise":
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if isinstance(value, list) and node in value:
                    value[value.index(node)] = ast.Pass()
    elif site.op == "const":
        assert isinstance(node, ast.Constant)
        node.value = node.value + 1
    elif site.op == "return":
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        body = node.body
        at = 1 if (body and isinstance(body[0], ast.Expr)
                   and isinstance(body[0].value, ast.Constant)
                   and isinstance(body[0].value.value, str)) else 0
        body.insert(at, ast.Return(value=None))
    elif site.op == "not":
        assert isinstance(node, (ast.If, ast.While))
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    return ast.unparse(ast.fix_missing_locations(tree))


def _config() -> dict[str, object]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(data["tool"]["stele"]["mutation"])


def _equivalent() -> dict[str, dict[str, str]]:
    path = ROOT / "tools" / "mutation-equivalent.toml"
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    return {mod: {e["mutant"]: e["reason"] for e in entries}
            for mod, entries in data.get("equivalent", {}).items()}


def tests_for(module: str, cfg: dict[str, object]) -> list[str]:
    """The test paths mapped to ``module`` in pyproject (longest prefix wins)."""
    mapping = dict(cfg["tests"])  # type: ignore[call-overload]
    best = max((p for p in mapping if module.startswith(p)), key=len, default=None)
    if best is None:
        raise SystemExit(f"mutate: no test mapping for {module!r} in [tool.stele.mutation.tests]")
    value = mapping[best]
    return [value] if isinstance(value, str) else list(value)


def choose(module: str, n: int, seed: int) -> tuple[str, list[Site]]:
    source = (ROOT / module).read_text()
    tree = ast.parse(source)
    skip = _in_annotation_or_docstring(tree)
    sites = [s for s in _sites(tree) if s.index not in skip]
    rng = random.Random(f"{seed}:{module}")
    picked = sorted(rng.sample(sites, min(n, len(sites))), key=lambda s: (s.line, s.col))
    return source, picked


def _drop_pyc(path: Path) -> None:
    cache = path.parent / "__pycache__"
    if cache.is_dir():
        for pyc in cache.glob(path.stem + ".*.pyc"):
            pyc.unlink(missing_ok=True)


def _pytest_cmd(tests: list[str], timeout: float) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly",
            "-p", "no:cacheprovider", "-m", "not slow", "--timeout", str(int(timeout)),
            *tests]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONDONTWRITEBYTECODE="1", HYPOTHESIS_PROFILE="ci")


def _run_tests(tests: list[str], timeout: float, run_timeout: float) -> str:
    """Run pytest; ``timeout`` is per test, ``run_timeout`` for the whole run.

    Exit 1 (a test failed) and 2 (collection error: the mutant broke an
    import) are kills; 0 is a survival; anything else (internal or usage
    error, no tests) is reported as ``error rc N`` so the caller can fall
    back to the whole folder.
    """
    try:
        proc = subprocess.run(_pytest_cmd(tests, timeout), cwd=ROOT, env=_env(),
                              capture_output=True, timeout=run_timeout)
    except subprocess.TimeoutExpired:
        return "killed (timeout)"
    if proc.returncode == 0:
        return "survived"
    if proc.returncode in (1, 2):
        return "killed" if proc.returncode == 1 else "killed (import)"
    return f"error rc {proc.returncode}"


# Which tests executed each line of the module: {line: {test node id}}; the
# empty string stands for code run outside any test (import, collection).
CoverageMap = dict[int, set[str]]


class BaselineFailed(Exception):
    """The module's tests fail (or time out) on the unmutated source."""


def coverage_map(module: str, tests: list[str], timeout: float) -> CoverageMap:
    """Run ``tests`` once on the unmutated source with per-test contexts.

    Raises :class:`BaselineFailed` (with the end of pytest's output) if the
    tests fail or take longer than ``timeout``."""
    with tempfile.TemporaryDirectory(prefix="stele-mutate-") as tmp:
        data_file = str(Path(tmp) / ".coverage")
        src_dir = str((ROOT / module).parent)
        cmd = _pytest_cmd(tests, timeout) + [
            f"--cov={src_dir}", "--cov-context=test", "--cov-report="]
        env = dict(_env(), COVERAGE_FILE=data_file)
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BaselineFailed(f"timed out after {timeout:.0f}s") from None
        if proc.returncode != 0:
            raise BaselineFailed(f"pytest exit {proc.returncode}:\n" + proc.stdout[-3000:])
        import coverage

        data = coverage.CoverageData(basename=data_file)
        data.read()
        target = str((ROOT / module).resolve())
        by_line = data.contexts_by_lineno(target) if target in data.measured_files() else {}
        out: CoverageMap = {}
        for line, contexts in by_line.items():
            out[line] = {c.rsplit("|", 1)[0] for c in contexts}
        return out


def site_lines(source: str, site: Site) -> list[int]:
    """The source lines whose execution the mutant can change."""
    node = list(ast.walk(ast.parse(source)))[site.index]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        body = node.body
        first = body[1] if (len(body) > 1 and isinstance(body[0], ast.Expr)
                            and isinstance(body[0].value, ast.Constant)) else body[0]
        return [first.lineno]
    if isinstance(node, (ast.If, ast.While)):
        node = node.test
    assert isinstance(node, (ast.expr, ast.stmt))
    return list(range(node.lineno, (node.end_lineno or node.lineno) + 1))


def select(cmap: CoverageMap, lines: list[int]) -> set[str] | None:
    """Test ids that ran ``lines``; None if only import-time code ran them."""
    hit: set[str] = set()
    for line in lines:
        hit |= cmap.get(line, set())
    named = {c for c in hit if c}
    if "" in hit and not named:
        return None
    return named


def run_module(module: str, n: int, seed: int, timeout: float,
               only: set[str] | None, verbose: bool,
               full: bool = False,
               record: list[dict[str, str]] | None = None,
               first: list[str] | None = None) -> tuple[int, int, int, list[str]]:
    cfg = _config()
    tests = tests_for(module, cfg)
    path = ROOT / module
    source, sites = choose(module, n, seed)
    equiv = _equivalent().get(module, {})
    killed = total = eq = 0
    survivors: list[str] = []
    t0 = time.monotonic()
    base_timeout = max(timeout * 10, 1800.0)
    if first:
        # Re-checking survivors against new tests: those tests must pass on the
        # unmutated source; the whole folder then only runs for a mutant they miss.
        base = _run_tests(first, timeout, base_timeout)
        if base != "survived":
            raise BaselineFailed(f"--first tests: {base}")
        cmap: CoverageMap = {}
    elif full:
        base = _run_tests(tests, timeout, base_timeout)
        if base != "survived":
            raise BaselineFailed(base)
        cmap: CoverageMap = {}
    else:
        cmap = coverage_map(module, tests, base_timeout)
    # A whole-folder run may take far longer than one test under load: allow
    # three times the (coverage-instrumented, so slower) baseline.
    run_timeout = max(timeout + 30, 3 * (time.monotonic() - t0))
    if first:
        run_timeout = base_timeout
    if verbose:
        print(f"  {module}: baseline {time.monotonic() - t0:.0f}s, tests {' '.join(tests)}",
              flush=True)
    try:
        for site in sites:
            if only is not None and site.key not in only:
                continue
            if site.key in equiv:
                eq += 1
                if record is not None:
                    record.append({"key": site.key, "verdict": "equivalent"})
                continue
            chosen = None if (full or first) else select(cmap, site_lines(source, site))
            mutated = _apply(source, site)
            path.write_text(mutated)
            _drop_pyc(path)
            t0 = time.monotonic()
            how = "all"
            verdict = "survived"
            if first:
                how = "first"
                verdict = _run_tests(first, timeout, run_timeout)
            elif chosen:
                how = f"{len(chosen)} covering"
                verdict = _run_tests(sorted(chosen), timeout, run_timeout)
            if not verdict.startswith("killed"):
                if chosen or first:
                    how += " + all"
                elif chosen is not None and not full:
                    how = "uncovered; all"
                verdict = _run_tests(tests, timeout, run_timeout)
            total += 1
            if verdict != "survived":  # the whole folder failed: a kill whatever the code
                killed += 1
            else:
                survivors.append(site.key)
            if record is not None:
                record.append({"key": site.key,
                               "verdict": "survived" if verdict == "survived" else "killed",
                               "detail": verdict})
            if verbose:
                print(f"  {module} {site.key:<18} {verdict:<17} {how} "
                      f"({time.monotonic() - t0:.0f}s)", flush=True)
    finally:
        path.write_text(source)
        _drop_pyc(path)
    return killed, total, eq, survivors


def _save_json(path: Path, module: str, entry: dict[str, object]) -> None:
    """Merge one module's result into ``path`` (written atomically), so a
    long multi-module run keeps what it measured if it is interrupted."""
    data: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    data[module] = entry
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def _on_term(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so run_module's ``finally`` restores the source


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _on_term)
    cfg = _config()
    ap = argparse.ArgumentParser(prog="mutate", description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="+", metavar="MODULE")
    ap.add_argument("--n", type=int, default=int(cfg.get("mutants", 20)))  # type: ignore[call-overload]
    ap.add_argument("--seed", type=int, default=int(cfg.get("seed", 19)))  # type: ignore[call-overload]
    ap.add_argument("--timeout", type=float, default=float(cfg.get("timeout", 120)))  # type: ignore[arg-type]
    ap.add_argument("--list", action="store_true", help="print the sampled mutants and exit")
    ap.add_argument("--only", action="append", help="run only this mutant key (repeatable)")
    ap.add_argument("--show", metavar="KEY", help="print the diff of one mutant and exit")
    ap.add_argument("--full", action="store_true",
                    help="run the whole test folder for every mutant (no coverage selection)")
    ap.add_argument("--first", action="append", metavar="TEST",
                    help="run these tests first for each mutant (they must pass unmutated);"
                         " a failure is a kill, otherwise the whole folder decides (repeatable)")
    ap.add_argument("--json", metavar="PATH",
                    help="merge per-mutant verdicts into this JSON file (one entry per module;"
                         " tools/mutation_report.py turns it into the score table)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    for m in args.modules:
        if not (ROOT / m).is_file():
            print(f"mutate: no such module file: {m}", file=sys.stderr)
            return 2
    if args.list or args.show:
        import difflib
        for m in args.modules:
            source, sites = choose(m, args.n, args.seed)
            for s in sites:
                if args.show and s.key != args.show:
                    continue
                print(f"{m} {s.key}")
                if args.show:
                    a = ast.unparse(ast.parse(source)).splitlines()
                    b = _apply(source, s).splitlines()
                    print("\n".join(difflib.unified_diff(a, b, lineterm="", n=2)))
        return 0
    rows = []
    broken: list[str] = []
    for m in args.modules:
        record: list[dict[str, str]] = []
        started = time.time()
        try:
            k, t, e, surv = run_module(m, args.n, args.seed, args.timeout,
                                       set(args.only) if args.only else None, not args.quiet,
                                       full=args.full, record=record, first=args.first)
        except BaselineFailed as exc:
            print(f"mutate: {m}: its tests fail before mutation, skipped: {exc}",
                  file=sys.stderr, flush=True)
            broken.append(m)
            continue
        rows.append((m, k, t, e, surv))
        if args.json:
            _save_json(Path(args.json), m, {
                "sha256": hashlib.sha256((ROOT / m).read_bytes()).hexdigest(),
                "seed": args.seed, "n": args.n, "only": sorted(args.only or []),
                "full": args.full, "first": args.first or [], "tests": tests_for(m, cfg),
                "seconds": round(time.time() - started), "mutants": record})
    print()
    print("| module | killed / non-equivalent | equivalent | survivors |")
    print("|---|---|---|---|")
    tk = tt = 0
    for m, k, t, e, surv in rows:
        pct = f"{100 * k / t:.0f}%" if t else "n/a"
        print(f"| `{m}` | {k}/{t} ({pct}) | {e} | {' '.join(surv) or '-'} |")
        tk += k
        tt += t
    if tt:
        print(f"\ntotal: {tk}/{tt} killed ({100 * tk / tt:.0f}%)")
    for m in broken:
        print(f"not measured (tests fail unmutated): {m}")
    floor = float(cfg.get("floor", 0))  # type: ignore[arg-type]
    return 0 if not broken and all(t == 0 or 100 * k / t >= floor for _, k, t, _, _ in rows) else 1


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("mutate: interrupted; source restored", file=sys.stderr)
        raise SystemExit(130) from None
