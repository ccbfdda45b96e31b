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

Mutants are sampled with a fixed seed, so runs are reproducible.  Each
mutant runs the module's own test folder with ``-x`` and a timeout; a
non-zero exit or a timeout is a kill.  Equivalent mutants are listed with a
reason in ``tools/mutation-equivalent.toml`` and excluded from the score.

Usage: python tools/mutate.py [--n N] [--seed S] [--timeout T] [--list] MODULE...
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import signal
import subprocess
import sys
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


def _run_tests(tests: list[str], timeout: float) -> str:
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly",
           "-m", "not slow", "--timeout", str(int(timeout)), *tests]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                              timeout=timeout + 30)
    except subprocess.TimeoutExpired:
        return "killed (timeout)"
    return "survived" if proc.returncode == 0 else (
        "killed" if proc.returncode == 1 else f"killed (rc {proc.returncode})")


def run_module(module: str, n: int, seed: int, timeout: float,
               only: set[str] | None, verbose: bool) -> tuple[int, int, int, list[str]]:
    cfg = _config()
    tests = tests_for(module, cfg)
    path = ROOT / module
    source, sites = choose(module, n, seed)
    equiv = _equivalent().get(module, {})
    killed = total = eq = 0
    survivors: list[str] = []
    base = _run_tests(tests, timeout * 3)
    if base != "survived":
        raise SystemExit(f"mutate: {' '.join(tests)} fails before mutation ({base}); fix that first")
    try:
        for site in sites:
            if only is not None and site.key not in only:
                continue
            if site.key in equiv:
                eq += 1
                continue
            mutated = _apply(source, site)
            path.write_text(mutated)
            _drop_pyc(path)
            t0 = time.monotonic()
            verdict = _run_tests(tests, timeout)
            total += 1
            if verdict.startswith("killed"):
                killed += 1
            else:
                survivors.append(site.key)
            if verbose:
                print(f"  {module} {site.key:<18} {verdict} ({time.monotonic() - t0:.0f}s)",
                      flush=True)
    finally:
        path.write_text(source)
        _drop_pyc(path)
    return killed, total, eq, survivors


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
    for m in args.modules:
        k, t, e, surv = run_module(m, args.n, args.seed, args.timeout,
                                   set(args.only) if args.only else None, not args.quiet)
        rows.append((m, k, t, e, surv))
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
    floor = float(cfg.get("floor", 0))  # type: ignore[arg-type]
    return 0 if all(t == 0 or 100 * k / t >= floor for _, k, t, _, _ in rows) else 1


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("mutate: interrupted; source restored", file=sys.stderr)
        raise SystemExit(130) from None
