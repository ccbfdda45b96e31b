"""The interpreter: trapping Ints, structural equality, limits, effects, exact metering."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele import SteleError
from stele.tel import (
    CostLimitExceeded, DepthLimitExceeded, DivisionByZero, EffectError, IntegerOverflow, Limits,
    MemoryHandler, MemoryLimitExceeded, Program, Some, TelError, check_module, evaluate_async,
    parse_module,
)

#: every test here runs on the interpreter and on the JIT (tests/tel/conftest.py)
pytestmark = pytest.mark.usefixtures("tel_engine")

MAX, MIN = 2**63 - 1, -(2**63)

SRC = """
def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)
def down(n: Int) -> Int = if n == 0 then 0 else 1 + down(n - 1)
def grow(xs: List[Int], n: Int) -> List[Int] = if n == 0 then xs else grow(xs ++ xs, n - 1)
def add(a: Int, b: Int) -> Int = a + b
def mul(a: Int, b: Int) -> Int = a * b
def sub(a: Int, b: Int) -> Int = a - b
def div(a: Int, b: Int) -> Int = a / b
def rem(a: Int, b: Int) -> Int = a % b
def neg(a: Int) -> Int = -a
def greet(who: String) -> Int ! {Log, Clock} =
  let t = perform Clock.now() in perform Log.emit("hello " ++ who); t
"""


@pytest.fixture(scope="module")
def prog() -> Program:
    return Program(check_module(parse_module(SRC), SRC))


def run(prog: Program, expr: str, **kw: Any) -> Any:
    return prog.evaluate(expr, **kw).value


@pytest.mark.parametrize("name, a, b", [
    ("add", MAX, 1), ("add", MIN, -1), ("sub", MIN, 1), ("mul", 2**32, 2**31), ("mul", MIN, -1),
    ("div", MIN, -1),
])
def test_int_operations_trap_instead_of_wrapping(prog: Program, name: str, a: int, b: int) -> None:
    with pytest.raises(IntegerOverflow, match="overflow"):
        prog.call(name, [a, b])


def test_negation_overflow_and_literal_bounds(prog: Program) -> None:
    with pytest.raises(IntegerOverflow):
        prog.call("neg", [MIN])
    assert prog.call("add", [MAX, 0]).value == MAX
    assert run(prog, "-9223372036854775808") == MIN


@given(st.integers(MIN, MAX), st.integers(MIN, MAX).filter(lambda b: b != 0))
@settings(max_examples=200)
def test_division_truncates_toward_zero(a: int, b: int) -> None:
    prog = Program(check_module(parse_module(SRC), SRC))
    q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    if q > MAX:
        with pytest.raises(IntegerOverflow):
            prog.call("div", [a, b])
        return
    assert prog.call("div", [a, b]).value == q
    assert prog.call("rem", [a, b]).value == a - q * b


@pytest.mark.parametrize("name", ["div", "rem"])
def test_division_by_zero_is_an_error(prog: Program, name: str) -> None:
    with pytest.raises(DivisionByZero) as info:
        prog.call(name, [7, 0])
    assert isinstance(info.value, TelError) and isinstance(info.value, SteleError)


@pytest.mark.parametrize("expr, value", [
    ("[1, 2] == [1, 2]", True), ("[1, 2] == [2, 1]", False), ('(1, "a") == (1, "a")', True),
    ("Some([x\"00\"]) == Some([x\"00\"])", True), ("None == Some(1)", False),
    ("[Some((1, true))] != [Some((1, false))]", True), ("() == ()", True),
])
def test_equality_is_structural(prog: Program, expr: str, value: bool) -> None:
    assert run(prog, expr) is value


def test_recursion_depth_limit(prog: Program) -> None:
    # down(100) nests 100 calls below the entry call
    assert prog.call("down", [100], limits=Limits(depth=100)).value == 100
    with pytest.raises(DepthLimitExceeded) as info:
        prog.call("down", [100], limits=Limits(depth=99))
    assert info.value.limit == 99 and "depth limit exceeded" in str(info.value)
    with pytest.raises(DepthLimitExceeded):  # deep recursion never crashes the host
        prog.call("down", [100_000], limits=Limits(depth=Limits.MAX_DEPTH, fuel=10**9))
    with pytest.raises(TelError, match="depth"):
        Limits(depth=Limits.MAX_DEPTH + 1)


def test_memory_limit_counts_constructed_values(prog: Program) -> None:
    ok = prog.call("grow", [(1,), 10])
    assert len(ok.value) == 1024 and ok.memory > 8 * 1024
    with pytest.raises(MemoryLimitExceeded) as info:
        prog.call("grow", [(1,), 10], limits=Limits(memory=ok.memory - 1))
    assert info.value.limit == ok.memory - 1
    assert prog.call("grow", [(1,), 10], limits=Limits(memory=ok.memory)).value == ok.value


def test_effects_go_through_the_handler_and_replies_are_checked(prog: Program) -> None:
    h = MemoryHandler(start_ms=42)
    r = prog.call("greet", ["bob"], handler=h)
    assert r.value == 42 and h.log == ["hello bob"]
    assert h.calls == [("Clock", "now", ()), ("Log", "emit", ("hello bob",))]
    with pytest.raises(EffectError, match="no effect handler for Clock.now"):
        prog.call("greet", ["bob"])
    with pytest.raises(EffectError, match="not a value of the declared type"):
        prog.call("greet", ["bob"], handler=lambda e, o, a: "not an int")
    with pytest.raises(EffectError, match="ZeroDivisionError"):
        prog.call("greet", ["bob"], handler=lambda e, o, a: 1 // 0)

    class Denied(SteleError):
        pass

    def deny(e: str, o: str, a: tuple[object, ...]) -> object:
        raise Denied("Clock denied by policy")
    with pytest.raises(Denied):  # host (sandbox) errors pass through unchanged
        prog.call("greet", ["bob"], handler=deny)


def test_arguments_are_checked_against_parameter_types(prog: Program) -> None:
    for bad in (["x"], [True], [2**63], []):
        with pytest.raises(TelError):
            prog.call("fib", bad)
    with pytest.raises(TelError, match="no definition"):
        prog.call("nope", [])


def test_cost_breakdown_sums_to_the_total_and_metering_is_exact(prog: Program) -> None:
    for expr in ["fib(12)", "grow([1, 2], 3)", 'greet("x")', 'map(range(0, 5), fn (i: Int) => blake2b256(int_to_bytes(i)))']:
        h = MemoryHandler()
        r = prog.evaluate(expr, handler=h)
        assert sum(r.breakdown.values()) == r.cost > 0
        assert prog.evaluate(expr, limits=Limits(fuel=r.cost), handler=MemoryHandler()).value == r.value
        with pytest.raises(CostLimitExceeded) as info:
            prog.evaluate(expr, limits=Limits(fuel=r.cost - 1), handler=MemoryHandler())
        assert info.value.cost <= r.cost - 1 and info.value.needed > info.value.limit


def test_hash_cost_is_per_64_byte_block(prog: Program) -> None:
    def cost(n: int) -> int:
        return prog.evaluate(f"blake2b256(x\"{'00' * n}\")").breakdown["hash_blocks"]
    assert cost(0) == cost(64) == 8 and cost(65) == cost(128) == 16 and cost(129) == 24


def test_closures_capture_values_and_shadowing_works(prog: Program) -> None:
    assert run(prog, "let x = 1 in let f = fn (y: Int) => x + y in let x = 100 in f(10)") == 11
    assert run(prog, "let x = 1 in (let x = 2 in x) + x") == 3
    assert run(prog, "match Some(5) { Some(x) => (let x = x * 2 in x), None => 0 }") == 10
    assert run(prog, "let adder = fn (n: Int) => fn (m: Int) => n + m in adder(3)(4)") == 7
    assert run(prog, "get([1, 2, 3], 1)") == Some(2)
    assert run(prog, "get([1], -1)") is None


def test_a_program_is_not_reentrant(prog: Program) -> None:
    def nested(e: str, o: str, a: tuple[object, ...]) -> object:
        return prog.call("fib", [3]).value
    with pytest.raises(TelError, match="not reentrant"):
        prog.call("greet", ["x"], handler=nested)
    assert prog.call("fib", [10]).value == 55  # and it still works afterwards


async def test_async_handler_by_replay(prog: Program) -> None:
    import trio

    calls: list[tuple[str, str]] = []

    async def handler(effect: str, op: str, args: tuple[object, ...]) -> object:
        await trio.sleep(0)
        calls.append((effect, op))
        return 7 if op == "now" else ()

    r = await evaluate_async(prog, 'greet("a") + greet("b")', handler)
    assert r.value == 14
    assert calls == [("Clock", "now"), ("Log", "emit")] * 2  # each effect asked once
    sync = prog.evaluate('greet("a") + greet("b")', handler=lambda e, o, a: 7 if o == "now" else ())
    assert (sync.value, sync.cost) == (r.value, r.cost)
