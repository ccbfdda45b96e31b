"""The JIT (`stele.tel._compile`) against the interpreter: same value, typed error, cost and stopping point.

For random well-typed programs from the TEL generator, a Program that is
only interpreted and one compiled before its first call must agree on
everything a run shows: value, cost, breakdown, memory, steps, the effect
journal, the typed error with its message and cost -- at the full fuel, at
exactly the cost, one unit short, at fuel levels in between, under tight
memory and depth limits, and with fuel handed out in small slices (the
sequence of `check(c)` calls and the fuel spent at each must be identical,
so a deadline check stops both at the same point).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.tel import (
    CostLimitExceeded, DepthLimitExceeded, Limits, MemoryHandler, Program, TelError, check_module,
    parse_module, show_value,
)
from stele.tel.testing import SWARM_PROFILES, GenProgram, programs, seeded_programs

FUEL = 200_000
EXAMPLES = int(os.environ.get("TEL_JIT_EXAMPLES", "150"))


def pair(prog: GenProgram) -> tuple[Program, Program]:
    checked = check_module(prog.module, prog.source)
    ref = Program(checked, jit_after=None)
    jit = Program(checked, jit_after=1)
    assert jit.compile(), jit.jit_error  # generated programs must all compile
    assert ref.jit is None
    return ref, jit


def outcome(p: Program, limits: Limits, slice_: int | None = None, ret: Any = None) -> tuple[Any, ...]:
    handler = MemoryHandler(seed=7, start_ms=1_000)
    checks: list[tuple[int, int]] = []

    def check(need: int) -> None:
        checks.append((need, p.m.limit - p.m.fuel))

    try:
        if slice_ is None:
            r = p.call("main", [], limits=limits, handler=handler)
        else:
            r = p.call("main", [], limits=limits, handler=handler, check=check, check_every=slice_)
    except TelError as exc:
        return ("error", type(exc).__name__, str(exc), getattr(exc, "cost", None), handler.calls, checks)
    value = show_value(r.value, ret) if ret is not None else repr(r.value)
    return ("ok", value, r.cost, r.breakdown, r.memory, r.steps, r.cost_table, handler.calls, checks)


def agree(prog: GenProgram, sweep: int = 0) -> None:
    ref, jit = pair(prog)
    base = Limits(fuel=FUEL, memory=1 << 22, depth=60)
    first = outcome(ref, base, ret=prog.ret)
    assert outcome(jit, base, ret=prog.ret) == first
    cost = first[2] if first[0] == "ok" else first[3]
    assert isinstance(cost, int)
    fuels = {cost, max(cost - 1, 0), cost // 2, cost // 3, cost // 7, 1, 0}
    fuels |= set(range(0, min(cost, sweep) + 1))
    for fuel in sorted(fuels):
        lim = Limits(fuel=fuel, memory=1 << 22, depth=60)
        assert outcome(jit, lim, ret=prog.ret) == outcome(ref, lim, ret=prog.ret), fuel
    for depth in (0, 1, 2, 4):
        lim = Limits(fuel=FUEL, memory=1 << 22, depth=depth)
        assert outcome(jit, lim, ret=prog.ret) == outcome(ref, lim, ret=prog.ret), depth
    if first[0] == "ok":
        for mem in {first[4], max(first[4] - 1, 0), first[4] // 2, 0}:
            lim = Limits(fuel=FUEL, memory=mem, depth=60)
            assert outcome(jit, lim, ret=prog.ret) == outcome(ref, lim, ret=prog.ret), mem
    for slice_ in (1, 3, 17):  # the cooperative check sees the same steps at the same points
        lim = Limits(fuel=min(FUEL, cost + 5), memory=1 << 22, depth=60)
        assert outcome(jit, lim, slice_, prog.ret) == outcome(ref, lim, slice_, prog.ret), slice_


@pytest.mark.parametrize("profile", sorted(SWARM_PROFILES))
def test_jit_agrees_with_the_interpreter_on_generated_programs(profile: str) -> None:
    """Seeded programs per swarm profile: every observable of every run is identical."""
    @settings(max_examples=EXAMPLES, database=None, deadline=None)
    @given(seeded_programs(SWARM_PROFILES[profile]))
    def run(prog: GenProgram) -> None:
        agree(prog)
    run()


@settings(max_examples=60, deadline=None)
@given(programs())
def test_jit_agrees_at_every_fuel_level(prog: GenProgram) -> None:
    """Shrinking strategy; every fuel limit from 0 up to 150 units is tried."""
    agree(prog, sweep=150)


@pytest.mark.slow
@settings(max_examples=3000, database=None, deadline=None)
@given(seeded_programs(SWARM_PROFILES["mixed"]))
def test_jit_agrees_many(prog: GenProgram) -> None:
    agree(prog, sweep=100)


# ----------------------------------------------------------------------------- hand-written shapes

SRC = """
def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)
def sq(x: Int) -> Int = x * x
def sumsq(xs: List[Int]) -> Int = fold(xs, 0, fn (acc: Int, x: Int) => acc + sq(x))
def sum(xs: List[Int]) -> Int = fold(xs, 0, fn (acc: Int, x: Int) => acc + x)
def evens(n: Int) -> List[Int] = map(filter(range(0, n), fn (x: Int) => x % 2 == 0), fn (x: Int) => x * 3)
def folded(x: Int) -> Int = let k = 2 + 3 * 4 in if k > 10 then x + k else 0 - x
def dead(x: Int) -> Int = if true && x > 0 then x else (9223372036854775807 + 1)
def ovf(x: Int) -> Int = 9223372036854775807 + 1 + x
def divz(x: Int) -> Int = 10 / (x - x)
def build(n: Int, s: String) -> String = if n == 0 then s else build(n - 1, s ++ "ab")
def deep(n: Int) -> Int = if n == 0 then 0 else 1 + deep(n - 1)
def capt(n: Int) -> Int = let f = fn (x: Int) => x + n in fold(map(range(0, 5), f), 0, fn (a: Int, b: Int) => a + b)
def ldiv(xs: List[Int]) -> Int = fold(xs, 0, fn (a: Int, x: Int) => a + 100 / x)
def lneg(xs: List[Int]) -> List[Int] = map(xs, fn (x: Int) => -x)
def lbr(xs: List[Int]) -> Int = fold(xs, 0, fn (a: Int, x: Int) => if x > 3 then a + x * 2 else a - 1)
def lkeep(xs: List[Int], k: Int) -> List[Int] = filter(xs, fn (x: Int) => x % k == 1 || x == 7)
def opt(xs: List[Int]) -> Int = match get(xs, 2) { Some(v) => v * 2, None => 0 - 1 }
"""

CALLS: list[tuple[str, list[Any]]] = [
    ("fib", [0]), ("fib", [1]), ("fib", [12]), ("sumsq", [tuple(range(30))]), ("sum", [tuple(range(100))]),
    ("sum", [(2**62, 2**62)]), ("evens", [20]), ("folded", [5]), ("dead", [3]), ("dead", [-3]),
    ("ovf", [0]), ("divz", [4]), ("build", [10, ""]), ("deep", [50]), ("capt", [3]),
    ("opt", [(1, 2, 3)]), ("opt", [()]),
    ("ldiv", [(5, 4, 3, 0, 1)]), ("ldiv", [(1, 2, 3) * 20]), ("lneg", [(1, -(2**63), 3)]),
    ("lneg", [tuple(range(40))]), ("lbr", [tuple(range(30))]), ("lkeep", [tuple(range(50)), 3]),
    ("lkeep", [(1, 2), 0]), ("lbr", [(2**62, 2**62, 5)]),
]


def call_outcome(p: Program, name: str, args: list[Any], limits: Limits) -> tuple[Any, ...]:
    try:
        r = p.call(name, args, limits=limits)
    except TelError as exc:
        return ("error", type(exc).__name__, str(exc), getattr(exc, "cost", None))
    return ("ok", r.value, r.cost, r.breakdown, r.memory, r.steps)


def test_hand_written_shapes_agree_at_every_fuel_level() -> None:
    checked = check_module(parse_module(SRC), SRC)
    ref, jit = Program(checked, jit_after=None), Program(checked, jit_after=1)
    assert jit.compile()
    for name, args in CALLS:
        full = call_outcome(ref, name, args, Limits(fuel=10**6, depth=40))
        assert call_outcome(jit, name, args, Limits(fuel=10**6, depth=40)) == full, name
        cost = full[2] if full[0] == "ok" else full[3]
        for fuel in sorted(set(range(0, min(cost, 120) + 1)) | set(range(0, cost + 1, max(1, cost // 60)))):
            lim = Limits(fuel=fuel, depth=40)
            assert call_outcome(jit, name, args, lim) == call_outcome(ref, name, args, lim), (name, fuel)
        for depth in range(0, 6):
            lim = Limits(fuel=10**6, depth=depth)
            assert call_outcome(jit, name, args, lim) == call_outcome(ref, name, args, lim), (name, depth)


def test_the_optimizer_removes_work_but_not_cost() -> None:
    checked = check_module(parse_module(SRC), SRC)
    jit = Program(checked, jit_after=1)
    assert jit.compile() and jit.jit is not None
    src = jit.jit.source
    assert "ovf" in src  # an overflowing constant is left to fail at run time
    # `let k = 2 + 3 * 4` is folded and floated into `x + k`
    assert " + 14" in src and " 3 * 4" not in src
    # sq is inlined into sumsq's loop: its body appears inside a `for`
    assert "for " in src
    r = jit.call("folded", [5])
    assert r.value == 19
    ref = Program(checked, jit_after=None).call("folded", [5])
    assert (r.cost, r.breakdown, r.steps) == (ref.cost, ref.breakdown, ref.steps)


def test_hot_path_detection_compiles_on_the_nth_call() -> None:
    checked = check_module(parse_module(SRC), SRC)
    p = Program(checked, jit_after=3)
    ref = Program(checked, jit_after=None)
    results = []
    for i in range(5):
        results.append(p.call("fib", [10]))
        assert (p.jit is not None) == (i >= 2)
    want = ref.call("fib", [10])
    assert all((r.value, r.cost, r.breakdown, r.steps) == (want.value, want.cost, want.breakdown, want.steps)
               for r in results)
    never = Program(checked, jit_after=None)
    for _ in range(5):
        never.call("fib", [5])
    assert never.jit is None
    with pytest.raises(TelError):
        Program(checked, jit_after=0)
    # an entry expression counts too, and runs the compiled definitions
    q = Program(checked, jit_after=1)
    assert q.evaluate("fib(10) + 1").value == 56 and q.jit is not None
    assert q.evaluate("fib(10) + 1").cost == ref.evaluate("fib(10) + 1").cost


def test_limits_stop_the_jit_where_they_stop_the_interpreter() -> None:
    checked = check_module(parse_module(SRC), SRC)
    ref, jit = Program(checked, jit_after=None), Program(checked, jit_after=1)
    jit.compile()
    for name, args, lim, err in [
        ("fib", [20], Limits(fuel=5000), CostLimitExceeded),
        ("deep", [100], Limits(depth=30), DepthLimitExceeded),
    ]:
        with pytest.raises(err) as a:
            ref.call(name, args, limits=lim)
        with pytest.raises(err) as b:
            jit.call(name, args, limits=lim)
        assert (str(a.value), a.value.cost) == (str(b.value), b.value.cost)


EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLE_DIR.glob("*.tel")))
def test_every_example_compiles(name: str) -> None:
    src = (EXAMPLE_DIR / name).read_text()
    p = Program(check_module(parse_module(src, name), src), jit_after=1)
    assert p.compile(), p.jit_error


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=18), st.integers(min_value=0, max_value=3000))
def test_fib_agrees_at_random_limits(n: int, fuel: int) -> None:
    checked = check_module(parse_module(SRC), SRC)
    ref, jit = Program(checked, jit_after=None), Program(checked, jit_after=1)
    lim = Limits(fuel=fuel)
    assert call_outcome(jit, "fib", [n], lim) == call_outcome(ref, "fib", [n], lim)
