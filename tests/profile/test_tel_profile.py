"""TEL profiles: exact totals, no change to cost or value, nested executions, the off path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings

import stele
from stele._profiler._tel import profile_tel
from stele.actors.executor import ExecLimits
from stele.actors.sandbox import DENY_ALL, Policy
from stele.tel import CostLimitExceeded, Limits, MemoryHandler, Program, TelError, check_module
from stele.tel._parser import parse_module
from stele.tel._profile import TelProfiler, profiling
from stele.tel.testing import GenProgram, seeded_programs

from .conftest import EXAMPLES

ALL = Policy.allow("t", "Log", "KV", "Exec")


def _program(source: str) -> Program:
    return Program(check_module(parse_module(source, "<t>"), source))


def _outcome(program: Program, fuel: int, *args: Any) -> tuple[Any, ...]:
    handler = MemoryHandler(seed=7, start_ms=1_000)
    try:
        r = program.call("main" if not args else "fib", list(args),
                         limits=Limits(fuel=fuel, memory=1 << 22, depth=60), handler=handler)
    except TelError as exc:
        return ("error", type(exc).__name__, str(exc), getattr(exc, "cost", None), handler.calls)
    return ("ok", r.value, r.cost, r.breakdown, handler.calls)


def _run(store: str, target: str, args: list[Any], profiled: bool,
         fuel: int = 10_000_000) -> Any:
    limits = ExecLimits(fuel=fuel)

    async def go() -> Any:
        if profiled:
            return await profile_tel(store, target, args, limits=limits, policy=ALL)
        async with stele.open_runtime(store) as rt:
            return await rt.execute(target, args, limits=limits, policy=ALL, memo=False)
    return anyio.run(go, backend="trio")


@pytest.mark.parametrize("target,args", [
    ("fib", [15]), ("fib_fast", [30]), ("fib_sum", [6]), ("squares_via_exec", [5]),
    ("demo", []), ("merkle_root", [(b"a", b"b", b"c")]),
])
def test_total_is_the_execution_cost_and_value_cost_unchanged(
        store: str, target: str, args: list[Any], tmp_path: Path) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"  # KV writes persist: one copy each
    shutil.copy(store, a)
    shutil.copy(store, b)
    plain = _run(str(a), target, args, profiled=False)
    got = _run(str(b), target, args, profiled=True)
    assert got.result.value == plain.value
    assert got.result.cost == plain.cost
    assert got.result.breakdown == plain.breakdown
    assert got.result.journal_digest == plain.journal_digest
    assert got.cost.total() == plain.cost  # exact, children included
    assert set(got.wall.weights) <= set(got.cost.calls)  # every timed stack was entered
    top = got.cost.functions()
    assert top[0].self_weight > 0


def test_fib_call_counts_and_stacks_are_exact(store: str) -> None:
    got = _run(store, "fib", [10], profiled=True)
    rows = {r.name: r for r in got.cost.functions()}
    assert rows["fib"].calls == 177  # fib(10) makes 177 calls
    assert rows["fib"].self_weight == got.result.cost
    deepest = max(got.cost.weights, key=len)
    assert deepest[0] == "exec:fib" and set(deepest[1:]) == {"fib"} and len(deepest) == 11


def test_nested_exec_calls_are_nested_executions(store: str) -> None:
    got = _run(store, "fib_sum", [5], profiled=True)
    tree = got.tree
    assert len(tree.order) == 6  # the parent and five Exec.call children
    root = tree.contexts[tree.order[0]]
    kids = [tree.contexts[c] for c in tree.order[1:]]
    assert root.parent is None and all(k.parent == root.id and k.target == "fib" for k in kids)
    stacks = {s[:2] for s in got.cost.weights if len(s) > 1}
    assert ("exec:fib_sum", "exec:fib") in stacks
    child_cost = sum(w for s, w in got.cost.weights.items() if s[:2] == ("exec:fib_sum", "exec:fib"))
    assert child_cost == got.result.breakdown["exec"]


def test_a_cost_limit_stops_a_profiled_run_at_the_same_point(store: str) -> None:
    spent = []
    for profiled in (False, True):
        with pytest.raises(CostLimitExceeded) as info:
            _run(store, "fib", [20], profiled=profiled, fuel=5_000)
        spent.append((info.value.cost, str(info.value)))
    assert spent[0] == spent[1]


def test_programs_compiled_outside_profiling_are_not_instrumented() -> None:
    plain = _program((EXAMPLES / "fib.tel").read_text())
    assert not plain.def_closures["fib"].body.__qualname__.startswith("profiled")
    with profiling():
        hooked = _program((EXAMPLES / "fib.tel").read_text())
    assert hooked.def_closures["fib"].body.__qualname__.startswith("profiled")
    again = _program((EXAMPLES / "fib.tel").read_text())  # the mode ends with the block
    assert not again.def_closures["fib"].body.__qualname__.startswith("profiled")


def test_lambdas_are_frames_of_their_own() -> None:
    prof = TelProfiler()
    with profiling(prof):
        p = _program((EXAMPLES / "fib.tel").read_text())
    r = p.call("fib_fast", [20])
    run = prof.final_runs()[0]
    names = {s[-1] for s, _ in run.root.walk()}
    assert "fib_fast" in names and any(n.startswith("<lambda") for n in names)
    assert run.cost == r.cost and run.finished


def test_a_failed_run_keeps_the_cost_it_spent() -> None:
    prof = TelProfiler()
    with profiling(prof):
        p = _program("def boom(n: Int) -> Int = if n == 0 then 1 / n else boom(n - 1)\n")
    with pytest.raises(TelError) as info:
        p.call("boom", [5])
    run = prof.final_runs()[0]
    assert not run.finished and run.cost == info.value.cost


@settings(max_examples=60, database=None, deadline=None)
@given(seeded_programs())
def test_generated_programs_profiled_equal_unprofiled(prog: GenProgram) -> None:
    """Random well-typed effectful programs: same outcome and cost; the tree sums to the cost."""
    plain = Program(check_module(prog.module, prog.source))
    prof = TelProfiler()
    with profiling(prof):
        hooked = Program(check_module(prog.module, prog.source))
    first = _outcome(plain, 200_000)
    assert _outcome(hooked, 200_000) == first
    if first[0] == "ok":
        assert prof.final_runs()[-1].cost == first[2]
    elif first[3] is not None and prof.final_runs():
        assert prof.final_runs()[-1].cost == first[3]
    cost = first[2] if first[0] == "ok" else first[3]
    if isinstance(cost, int) and cost > 1 and first[1] != "CostLimitExceeded":
        assert _outcome(hooked, cost - 1)[:2] == _outcome(plain, cost - 1)[:2]


def test_denied_effect_is_the_same_error(store: str) -> None:
    async def go(profiled: bool) -> str:
        try:
            if profiled:
                await profile_tel(store, "demo", [], limits=ExecLimits(), policy=DENY_ALL)
            else:
                async with stele.open_runtime(store) as rt:
                    await rt.execute("demo", [], policy=DENY_ALL, memo=False)
        except Exception as exc:  # noqa: BLE001 - the type is what is compared
            return type(exc).__name__
        return "ok"
    assert anyio.run(go, True, backend="trio") == anyio.run(go, False, backend="trio") != "ok"
