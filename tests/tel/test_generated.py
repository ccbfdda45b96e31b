"""10k generated programs per run: well-typed, deterministic, typed errors only, exact metering.

Four swarm profiles x 2,500 programs. Every program is type-checked, run twice
with the same handler replies (same value, cost, breakdown and effects), and
then re-run at limit c (same outcome) and c - 1 (a cost error), where c is
the cost spent by the first run -- whether it succeeded or stopped with a
runtime error. Only `TelError`s may escape the interpreter.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import given, settings

from stele.tel import (
    CostLimitExceeded, Limits, MemoryHandler, Program, TelError, check_module,
)
from stele.tel.testing import SWARM_PROFILES, Coverage, GenProgram, generate, programs, seeded_programs, splitmix_chooser

FUEL = 200_000
COVERAGE = Coverage()
OUTCOMES: dict[str, int] = {}


def outcome(program: Program, fuel: int) -> tuple[Any, ...]:
    handler = MemoryHandler(seed=7, start_ms=1_000)
    try:
        r = program.call("main", [], limits=Limits(fuel=fuel, memory=1 << 22, depth=60), handler=handler)
    except TelError as exc:  # anything else is a host crash and fails the test
        return ("error", type(exc).__name__, str(exc), getattr(exc, "cost", None), handler.calls)
    return ("ok", r.value, r.cost, r.breakdown, handler.calls)


def check_program(prog: GenProgram) -> None:
    COVERAGE.add(prog.module)
    program = Program(check_module(prog.module, prog.source))  # well-typed by construction
    first = outcome(program, FUEL)
    assert outcome(program, FUEL) == first  # deterministic
    kind = first[0] if first[0] == "ok" else first[1]
    OUTCOMES[kind] = OUTCOMES.get(kind, 0) + 1
    if first[0] == "error" and first[1] == "CostLimitExceeded":
        return
    cost = first[2] if first[0] == "ok" else first[3]
    assert isinstance(cost, int) and cost > 0
    assert outcome(program, cost) == first  # fits exactly
    short = outcome(program, cost - 1)
    assert short[:2] == ("error", CostLimitExceeded.__name__), short[:3]
    assert short[3] <= cost - 1


EXAMPLES = int(os.environ.get("TEL_GEN_EXAMPLES", "2500"))


@pytest.mark.parametrize("profile", sorted(SWARM_PROFILES))
def test_generated_programs(profile: str) -> None:
    """2,500 seeded programs per swarm profile (10k in all)."""
    @settings(max_examples=EXAMPLES, database=None)
    @given(seeded_programs(SWARM_PROFILES[profile]))
    def run(prog: GenProgram) -> None:
        check_program(prog)
    run()


@settings(max_examples=150)
@given(programs())
def test_generated_programs_shrinking(prog: GenProgram) -> None:
    """The same checks under the choice-level strategy, whose failures shrink to small programs."""
    check_program(prog)


def test_generator_reaches_every_node_builtin_and_effect() -> None:
    sweep = Coverage()
    for seed in range(600):
        sweep.add(generate(splitmix_chooser(seed), list(SWARM_PROFILES.values())[seed % 4]).module)
    assert sweep.missing() == {"nodes": [], "builtins": [], "effects": []}
    report = {"seeded_sweep": sweep.report(), "property_runs": COVERAGE.report(), "outcomes": OUTCOMES}
    print("TEL generator coverage:", json.dumps(report, sort_keys=True))
    if sum(COVERAGE.nodes.values()):  # the property tests above ran in this session
        assert COVERAGE.missing() == {"nodes": [], "builtins": [], "effects": []}


_SCRIPT = """
import json
from stele.tel import Limits, MemoryHandler, Program, TelError, check_module, hash_definitions, show_value
from stele.tel.testing import generate, splitmix_chooser
out = []
for seed in range(60):
    g = generate(splitmix_chooser(seed))
    p = Program(check_module(g.module))
    try:
        r = p.call("main", [], limits=Limits(fuel=100_000), handler=MemoryHandler(seed=seed))
        res = [show_value(r.value, g.ret), r.cost, r.breakdown, r.memory]
    except TelError as exc:
        res = [type(exc).__name__, str(exc), exc.cost]
    out.append([seed, {k: str(v) for k, v in hash_definitions(g.module).items()}, res])
print(json.dumps(out, sort_keys=True))
"""


def test_evaluation_and_digests_do_not_depend_on_the_hash_seed() -> None:
    import subprocess
    import sys
    runs = []
    for hash_seed in ("0", "99"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        proc = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                              text=True, check=True, timeout=300)
        runs.append(json.loads(proc.stdout))
    assert runs[0] == runs[1] and len(runs[0]) == 60
