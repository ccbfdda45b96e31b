"""A store with the examples' TEL definitions and guests, shared by the profiler tests."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from stele.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GUESTS = EXAMPLES / "guests" / "bin"


def cli(*argv: str) -> tuple[int, str, str]:
    """``stele ARGV`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("profile") / "s.sqlite")
    for name in ("fib.tel", "nested.tel", "ledger.tel", "merkle.tel"):
        code, _, err = cli("store", str(EXAMPLES / name), "--store", path)
        assert code == 0, err
    code, _, err = cli("store", "--blob", str(GUESTS / "sort.elf"), "--name", "sort",
                       "--store", path)
    assert code == 0, err
    return path
