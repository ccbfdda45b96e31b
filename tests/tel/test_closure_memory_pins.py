"""Closure memory metering (issue 19): creating a lambda allocates
``mem_base`` plus ``mem_per_item`` per captured variable, and the memory
limit stops it exactly there."""

from __future__ import annotations

import pytest

from stele.tel import COST_TABLE, Limits, MemoryLimitExceeded, Program, check_module, parse_module

BASE, PER = COST_TABLE.mem_base, COST_TABLE.mem_per_item

SRC = """
def adder(a: Int, b: Int) -> Fn(Int) -> Int = fn (x: Int) => a + b + x
def use(a: Int) -> Int = adder(a, 2)(1)
"""


@pytest.fixture(scope="module")
def prog() -> Program:
    return Program(check_module(parse_module(SRC)))


def _lambda_capturing(k: int) -> str:
    names = [f"v{i}" for i in range(k)]
    lets = "".join(f"let {n} = {i} in " for i, n in enumerate(names))
    return f"{lets}(let f = fn (x: Int) => {' + '.join(names + ['x'])} in f(1))"


@pytest.mark.parametrize("k", [0, 1, 2, 5])
def test_a_closure_costs_base_plus_one_item_per_capture(prog: Program, k: int) -> None:
    r = prog.evaluate(_lambda_capturing(k))
    assert r.value == sum(range(k)) + 1
    assert r.memory == BASE + PER * k


@pytest.mark.parametrize("k", [0, 3])
def test_the_memory_limit_stops_closure_creation_exactly(prog: Program, k: int) -> None:
    need = BASE + PER * k
    assert prog.evaluate(_lambda_capturing(k), limits=Limits(memory=need)).memory == need
    with pytest.raises(MemoryLimitExceeded) as info:
        prog.evaluate(_lambda_capturing(k), limits=Limits(memory=need - 1))
    assert "memory" in str(info.value)


def test_only_variables_the_body_uses_are_captured(prog: Program) -> None:
    src = "let a = 1 in let b = 2 in let c = 3 in (let f = fn (x: Int) => a + x in f(1))"
    assert prog.evaluate(src).memory == BASE + PER


def test_a_lambda_in_a_definition_is_charged_on_the_first_run_and_later_ones() -> None:
    # The definitions are compiled before any run: the charge must not depend
    # on what the cost table was when the closure code was built.
    prog = Program(check_module(parse_module(SRC)))
    first = prog.call("use", [5])
    again = prog.call("use", [5])
    assert first.value == again.value == 8
    assert first.memory == again.memory == BASE + 2 * PER


def test_the_first_entry_expression_is_charged_like_later_ones() -> None:
    prog = Program(check_module(parse_module(SRC)))
    src = _lambda_capturing(0)
    assert [prog.evaluate(src).memory for _ in range(2)] == [BASE, BASE]
