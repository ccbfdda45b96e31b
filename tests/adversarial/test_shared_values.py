"""Host work on shared (DAG) values is paid for before it is done (issue 10, item 2)."""

from __future__ import annotations

from typing import Any

import pytest

from stele.actors.executor import ExecLimits
from stele.actors.sandbox import Policy
from stele.tel import CostLimitExceeded, Program, check_module, parse_module
from stele.tel import Limits, show_value
from stele.tel._measure import ValueTooDeep, ValueTooLarge, measure

from ._limits_support import run_sim

# each level repeats the previous one 10 times: 8 levels unfold to 10^8 elements
T9 = "List[" * 9 + "Int" + "]" * 9
BOMB = f"""
effect Sink {{ put(v: {T9}) -> Unit }}
def bomb(n: Int) -> {T9} =
  let a = [n] in let b = [a, a, a, a, a, a, a, a, a, a] in let c = [b, b, b, b, b, b, b, b, b, b] in
  let d = [c, c, c, c, c, c, c, c, c, c] in let e = [d, d, d, d, d, d, d, d, d, d] in
  let f = [e, e, e, e, e, e, e, e, e, e] in let g = [f, f, f, f, f, f, f, f, f, f] in
  let h = [g, g, g, g, g, g, g, g, g, g] in [h, h, h, h, h, h, h, h, h, h]
def eq_bomb(n: Int) -> Bool = bomb(n) == bomb(n + 0)
def log_bomb(n: Int) -> Int ! {{Sink}} = perform Sink.put(bomb(n)); n
"""
PROGRAM = Program(check_module(parse_module(BOMB)))


def test_bomb_is_cheap_to_build_but_unfolds_to_1e8() -> None:
    r = PROGRAM.call("bomb", [1], limits=Limits(fuel=10_000))
    assert r.cost < 300 and r.memory < 2_000
    with pytest.raises(ValueTooLarge):
        measure(r.value, 10**7)
    assert measure(r.value, 10**9)[0] > 10**8  # measured sharing-aware, O(DAG)


@pytest.mark.parametrize("fuel", [1_000, 10_000, 1_000_000])
def test_equality_on_the_bomb_fails_before_walking(fuel: int) -> None:
    with pytest.raises(CostLimitExceeded) as info:
        PROGRAM.call("eq_bomb", [1], limits=Limits(fuel=fuel))
    assert info.value.cost <= fuel and info.value.needed > fuel and info.value.limit == fuel


def test_passing_the_bomb_to_an_effect_is_charged_first() -> None:
    seen: list[Any] = []
    with pytest.raises(CostLimitExceeded):
        PROGRAM.call("log_bomb", [1], limits=Limits(fuel=100_000),
                     handler=lambda e, o, a: seen.append(a))
    assert seen == []  # the handler never saw it


def test_printing_the_bomb_is_bounded() -> None:
    r = PROGRAM.call("bomb", [1], limits=Limits(fuel=10_000))
    assert "not printed" in show_value(r.value)


def test_deep_values_are_refused_without_recursion() -> None:
    # TEL's types bound nesting by the source, but hosts (and guests) can hand in deep values
    v: Any = ()
    for _ in range(200_000):
        v = (v,)
    assert "not printed" in show_value(v)
    with pytest.raises(ValueTooDeep):
        measure(v, 10**9)


def test_executor_refuses_the_bomb_and_does_not_memoize_it() -> None:
    async def scenario(rt: Any) -> None:
        with pytest.raises(CostLimitExceeded):
            await rt.execute("eq_bomb", [1], limits=ExecLimits(fuel=10_000, timeout=2.0))
        r = await rt.execute("bomb", [1], limits=ExecLimits(fuel=10_000))  # memo on
        again = await rt.execute("bomb", [1], limits=ExecLimits(fuel=10_000))
        assert not r.memo_hit and not again.memo_hit  # too big to serialize: not memoized
        with pytest.raises(Exception) as info:  # refused by the sandbox before the journal
            await rt.execute("log_bomb", [1], policy=Policy.allow("p", "Sink"),
                             limits=ExecLimits(fuel=10**9))
        assert type(info.value).__name__ in ("CostLimitExceeded", "BadEffectRequest")

    run_sim(BOMB, scenario)
