"""The Env is the only door to nondeterminism: no clocks, randomness, sockets
or threads anywhere in the package except the Env implementations.

Every module under ``runtime/``, ``actors/`` and ``protocol/`` is parsed and
its imports and calls are checked.  Allowed without question: the Env
implementations (``runtime/_core/_realenv.py``, ``runtime/_core/_random.py``) and the
simulator (``runtime/sim/``), which *is* the simulated Env and also times its
own runs for progress lines (never feeding the trace).  Anything else needs an
entry in ``ALLOWED`` with a written reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("runtime", "actors", "protocol")

#: Modules whose import alone is a door to nondeterminism.
FORBIDDEN_MODULES = {
    "time": "clock reads (use env.now_ns / env.wall_ns / env.sleep)",
    "random": "unseeded randomness (use env.rng)",
    "secrets": "randomness (use env.rng)",
    "uuid": "random/clock-based ids (derive ids from env.rng or content)",
    "socket": "real network (use env.connect_tcp / listen_tcp)",
    "threading": "threads (use env.run_blocking)",
    "_thread": "threads (use env.run_blocking)",
    "multiprocessing": "processes (use env.run_in_worker)",
    "concurrent": "thread/process pools (use env.run_in_worker / run_blocking)",
}
#: Attribute uses that are forbidden: (base name, attribute).
FORBIDDEN_ATTRS = {
    ("os", "urandom"): "randomness (use env.rng)",
    ("os", "getrandom"): "randomness (use env.rng)",
    ("datetime", "now"): "wall clock (use env.wall_ns)",
    ("datetime", "utcnow"): "wall clock (use env.wall_ns)",
    ("datetime", "today"): "wall clock (use env.wall_ns)",
    ("date", "today"): "wall clock (use env.wall_ns)",
    ("anyio", "to_thread"): "threads (use env.run_blocking)",
    ("anyio", "to_process"): "processes (use env.run_in_worker)",
    ("trio", "to_thread"): "threads (use env.run_blocking)",
    ("os", "fork"): "processes (use env.run_in_worker)",
    ("os", "posix_spawn"): "processes (use env.run_in_worker)",
}
FORBIDDEN_FROM = {("os", "urandom"), ("os", "getrandom"), ("anyio", "to_thread"),
                  ("anyio", "to_process"), ("trio", "to_thread")}

#: The Env implementations.
ENV_IMPLEMENTATIONS = ("runtime/_core/_realenv.py", "runtime/_core/_random.py", "runtime/sim/")

#: Justified exceptions: (path, forbidden name) -> why it is acceptable.
ALLOWED: dict[tuple[str, str], str] = {
    ("actors/coprocessor/_cli.py", "time"): (
        "`stele vm --stats` prints the wall time of a run (time.perf_counter in "
        "_wall_seconds); it is only printed, never part of a result, a hash or a decision"
    ),
    ("actors/coprocessor/_native.py", "time"): (
        "the numba engine times its own first compile (_clock) for compile_seconds(), "
        "a figure the benchmark reports; never part of a result, a hash or a decision"
    ),
    ("runtime/_debugger/_replay.py", "os.fork"): (
        "rr-style checkpoints of `stele debug`: the replay forks paused copies of itself "
        "so a reverse step runs on from the nearest one; a developer tool outside every "
        "runtime and simulation, and each copy's answer is checked against a replay "
        "from the journal (same positions, same states)"
    ),
}


def violations_in(source: str, path: str) -> list[str]:
    """Every forbidden import or attribute use in ``source`` (one line each)."""
    found: list[str] = []
    tree = ast.parse(source, filename=path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in FORBIDDEN_MODULES:
                    found.append(f"{path}:{node.lineno}: import {alias.name}: "
                                 f"{FORBIDDEN_MODULES[root]}|{root}")
                if alias.name in ("anyio.to_thread", "anyio.to_process", "trio.to_thread"):
                    found.append(f"{path}:{node.lineno}: import {alias.name}|{alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            root = node.module.split(".")[0]
            if root in FORBIDDEN_MODULES:
                found.append(f"{path}:{node.lineno}: from {node.module} import ...: "
                             f"{FORBIDDEN_MODULES[root]}|{root}")
            for alias in node.names:
                if (node.module, alias.name) in FORBIDDEN_FROM:
                    found.append(f"{path}:{node.lineno}: from {node.module} import "
                                 f"{alias.name}|{node.module}.{alias.name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            key = (node.value.id, node.attr)
            if key in FORBIDDEN_ATTRS:
                found.append(f"{path}:{node.lineno}: {key[0]}.{key[1]}: "
                             f"{FORBIDDEN_ATTRS[key]}|{key[0]}.{key[1]}")
    return found


def scanned_files() -> list[Path]:
    files: list[Path] = []
    for top in SCANNED:
        base = ROOT / top
        if base.is_dir():
            files.extend(sorted(base.rglob("*.py")))
    return files


def test_no_nondeterminism_outside_the_env() -> None:
    problems: list[str] = []
    for file in scanned_files():
        rel = file.relative_to(ROOT).as_posix()
        if rel.startswith(ENV_IMPLEMENTATIONS):
            continue
        for v in violations_in(file.read_text(encoding="utf-8"), rel):
            message, _, name = v.rpartition("|")
            if (rel, name) not in ALLOWED:
                problems.append(message)
    assert not problems, "nondeterminism outside the Env:\n" + "\n".join(problems)


def test_allow_list_entries_are_still_needed() -> None:
    live = set()
    for file in scanned_files():
        rel = file.relative_to(ROOT).as_posix()
        for v in violations_in(file.read_text(encoding="utf-8"), rel):
            live.add((rel, v.rpartition("|")[2]))
    stale = [k for k in ALLOWED if k not in live]
    assert not stale, f"allow-list entries no longer needed: {stale}"


@pytest.mark.parametrize("snippet,name", [
    ("import time\nx = time.monotonic()", "time"),
    ("from time import perf_counter", "time"),
    ("import random", "random"),
    ("import os\nos.urandom(4)", "os.urandom"),
    ("from os import urandom", "os.urandom"),
    ("import uuid", "uuid"),
    ("import socket", "socket"),
    ("import threading", "threading"),
    ("import secrets", "secrets"),
    ("from datetime import datetime\ndatetime.now()", "datetime.now"),
    ("from concurrent.futures import ThreadPoolExecutor", "concurrent"),
    ("import anyio\nanyio.to_thread.run_sync(f)", "anyio.to_thread"),
])
def test_the_checker_catches(snippet: str, name: str) -> None:
    names = [v.rpartition("|")[2] for v in violations_in(snippet, "x.py")]
    assert name in names


def test_the_checker_passes_clean_code() -> None:
    clean = "import anyio\nimport os\nos.path.join('a')\nasync def f(env):\n    await env.sleep(1)\n"
    assert violations_in(clean, "x.py") == []
