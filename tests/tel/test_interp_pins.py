"""Pins for interpreter metering found unpinned by mutation testing (issue 19).

Behaviours: Int ``+ - *`` trap on 64-bit overflow in every expression shape
(so the fused fast paths cannot drop the check); metering is exact for
``Some(...)`` and list literals (fuel = cost succeeds, cost - 1 is refused);
list literals are charged per element; a depth error reports the needed
depth as limit + 1.
"""

from __future__ import annotations

import pytest

from stele.tel import (
    CostLimitExceeded, DepthLimitExceeded, IntegerOverflow, Limits, MemoryHandler, Program,
    check_module, parse_module,
)

#: every test here runs on the interpreter and on the JIT (tests/tel/conftest.py)
pytestmark = pytest.mark.usefixtures("tel_engine")

MAX, MIN = 2**63 - 1, -(2**63)

SRC = """
def add(a: Int, b: Int) -> Int = a + b
def add1(a: Int) -> Int = a + 1
def addc(a: Int, b: Int) -> Int = (a + b) + 0
def sub(a: Int, b: Int) -> Int = a - b
def sub1(a: Int) -> Int = a - 1
def mul(a: Int, b: Int) -> Int = a * b
def mul2(a: Int) -> Int = a * 2
def fused(a: Int, b: Int, c: Int) -> Int = a * b + c
def fused2(a: Int, b: Int, c: Int) -> Int = a - b * c
def down(n: Int) -> Int = if n == 0 then 0 else 1 + down(n - 1)
"""


@pytest.fixture(scope="module")
def prog() -> Program:
    return Program(check_module(parse_module(SRC), SRC))


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        ("add", [MAX, 1]), ("add", [MIN, -1]), ("add1", [MAX]), ("addc", [MAX, 1]),
        ("sub", [MIN, 1]), ("sub", [MAX, -1]), ("sub1", [MIN]),
        ("mul", [MAX, 2]), ("mul", [MIN, -1]), ("mul2", [2**62]),
        ("fused", [2**62, 2, 0]), ("fused", [MAX, 1, 1]), ("fused2", [MIN, 1, 1]),
        ("fused2", [0, 2**62, 2]),
    ],
)
def test_int_overflow_traps_in_every_shape(prog: Program, fn: str, args: list[int]) -> None:
    with pytest.raises(IntegerOverflow):
        prog.call(fn, args)


@pytest.mark.parametrize(
    ("fn", "args", "want"),
    [("add", [MAX - 1, 1], MAX), ("sub", [MIN + 1, 1], MIN), ("mul", [2**31, 2**31], 2**62),
     ("fused", [3, 4, 5], 17), ("fused2", [10, 2, 3], 4), ("mul2", [-(2**62)], MIN)],
)
def test_in_range_results_are_exact(prog: Program, fn: str, args: list[int], want: int) -> None:
    assert prog.call(fn, args).value == want


@pytest.mark.parametrize("expr", ["Some(1)", "Some(Some(add(1, 2)))", "[1, 2, 3]",
                                  "[Some(1), Some(2)]", "[[1], [2, 3]]"])
def test_metering_is_exact_for_options_and_lists(prog: Program, expr: str) -> None:
    r = prog.evaluate(expr, handler=MemoryHandler())
    assert r.cost > 0
    ok = prog.evaluate(expr, limits=Limits(fuel=r.cost), handler=MemoryHandler())
    assert ok.value == r.value
    with pytest.raises(CostLimitExceeded):
        prog.evaluate(expr, limits=Limits(fuel=r.cost - 1), handler=MemoryHandler())


def test_list_literals_are_charged_per_element(prog: Program) -> None:
    costs = [prog.evaluate("[" + ", ".join(["7"] * k) + "]").cost for k in (1, 2, 3, 4)]
    steps = {b - a for a, b in zip(costs, costs[1:])}
    assert len(steps) == 1 and steps.pop() > 0, costs


def test_depth_error_reports_needed_as_limit_plus_one(prog: Program) -> None:
    for limit in (3, 10):
        with pytest.raises(DepthLimitExceeded) as info:
            prog.call("down", [50], limits=Limits(depth=limit))
        assert (info.value.needed, info.value.limit) == (limit + 1, limit)
        assert f"needed {limit + 1}, limit {limit}" in str(info.value)


EQ_SRC = "def eq(n: Int) -> Bool = range(0, n) == range(0, n)\n"


@pytest.mark.parametrize("jit_after", [None, 1])
def test_equality_walks_are_not_limited_by_the_fuel_slice(jit_after: int | None) -> None:
    """`==` on a value larger than one fuel slice (a run with a `check` gets 10,000 units at a
    time) charges the same as without slices; it once failed with "limit 40013" of 10^6."""
    from stele.tel import TelError, check_module, parse_module
    checked = check_module(parse_module(EQ_SRC), EQ_SRC)
    p = Program(checked, jit_after=jit_after)
    plain = p.call("eq", [20_000], limits=Limits(fuel=10**6))
    sliced = p.call("eq", [20_000], limits=Limits(fuel=10**6), check=lambda c: None, check_every=10_000)
    assert (sliced.value, sliced.cost) == (plain.value, plain.cost) == (True, 60014)
    for fuel in (40_013, 50_000):  # too little fuel in total: the same error with or without slices
        errs = []
        for kw in ({}, {"check": lambda c: None, "check_every": 10_000}):
            with pytest.raises(TelError) as info:
                p.call("eq", [20_000], limits=Limits(fuel=fuel), **kw)  # type: ignore[arg-type]
            errs.append((type(info.value).__name__, str(info.value), info.value.cost))
        assert errs[0] == errs[1], errs
