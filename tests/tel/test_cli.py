"""`stele eval FILE.tel 'EXPR' [--fuel N]` prints the value and the cost."""

from __future__ import annotations

from pathlib import Path

import pytest

from stele.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_eval_prints_value_type_and_cost(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(EXAMPLES / "fib.tel"), "fib(20)"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "6765 : Int"
    assert out[1].startswith("cost=218908 ")
    assert out[2].startswith("breakdown: ")


def test_eval_fuel_limit_is_exact(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(EXAMPLES / "fib.tel"), "fib(20)", "--fuel", "218908"]) == 0
    capsys.readouterr()
    assert main(["eval", str(EXAMPLES / "fib.tel"), "fib(20)", "--fuel", "218907"]) == 3  # limit
    err = capsys.readouterr().err
    assert "fuel limit exceeded: needed 218908, limit 218907" in err


def test_eval_effects_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(EXAMPLES / "ledger.tel"), "demo()"]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("(70, 30, true, false, 100) : (Int, Int, Bool, Bool, Int)")
    assert "log: mint 100 to alice" in cap.err
    assert main(["eval", str(EXAMPLES / "fib.tel"), 'fib("x")']) == 2  # a type error
    err = capsys.readouterr().err
    assert "<expr>:1:5: type mismatch in argument 1 (expected Int, found String)" in err
    assert main(["eval", str(EXAMPLES / "fib.tel"), "fib(1"]) == 2  # a syntax error
    assert "expected ')', found end of input" in capsys.readouterr().err
    assert main(["eval", "/nonexistent.tel", "1"]) == 2
