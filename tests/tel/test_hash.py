"""Content addressing: rename-invariant, dependency-sensitive, cycle-aware, process-independent."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.protocol import Digest, decode, encode
from stele.tel import TelHashError, check_module, hash_definitions, hash_module, parse_module
from stele.tel._ast import Def, Module, Seq, UnitLit
from stele.tel._free import free_vars
from stele.tel.testing import GenProgram, programs

from ._rename import rename_module

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_digests_are_blake2b_over_canonical_cbor() -> None:
    src = "def inc(x: Int) -> Int = x + 1\ndef twice(y: Int) -> Int = inc(inc(y))"
    h = hash_module(parse_module(src))
    for name, d in h.digests.items():
        assert isinstance(d, Digest) and d.algorithm == "blake2b-256"
        obj = h.objects[d]
        data = encode(obj, max_depth=1000)
        assert Digest.of(data) == d and decode(data, max_depth=1000) is not None
    inc_form = h.objects[h.digests["inc"]]
    twice_form = h.objects[h.digests["twice"]]
    # locals are de Bruijn indices, references are digests, names are gone
    assert inc_form == ["tel.def.1", ["Int"], "Int", [], ["bin", "+", ["v", 0], ["i", 1]]]
    assert twice_form[4] == ["call", ["r", h.digests["inc"]], [["call", ["r", h.digests["inc"]], [["v", 0]]]]]
    assert "inc" not in repr(twice_form)
    sumsq = hash_module(parse_module((EXAMPLES / "sum_squares.tel").read_text()))
    assert "fold@1" in repr(sumsq.objects[sumsq.digests["sum_squares"]])


@settings(max_examples=150)
@given(programs(), st.sampled_from(["z_", "renamed_", "q"]))
def test_renaming_locals_and_definitions_keeps_every_digest(prog: GenProgram, prefix: str) -> None:
    before = hash_definitions(prog.module)
    renamed = rename_module(prog.module, lambda n: prefix + n)
    check_module(renamed)
    after = hash_definitions(renamed)
    assert {prefix + n: d for n, d in before.items()} == after
    # declaration order does not matter either
    reordered = Module(tuple(reversed(renamed.decls)))
    assert hash_definitions(reordered) == after


def _dependents(module: Module, name: str) -> set[str]:
    defs = module.defs
    graph = {n: (free_vars(d.body) - {p.name for p in d.params}) & defs.keys() for n, d in defs.items()}
    out, frontier = {name}, [name]
    while frontier:
        x = frontier.pop()
        for n, deps in graph.items():
            if x in deps and n not in out:
                out.add(n)
                frontier.append(n)
    return out


@settings(max_examples=150)
@given(programs(), st.data())
def test_editing_a_definition_changes_exactly_its_transitive_dependents(prog: GenProgram, data: st.DataObject) -> None:
    names = sorted(prog.module.defs)
    target = data.draw(st.sampled_from(names))
    decls = tuple(
        Def(d.name, d.params, d.ret, d.effects, Seq(UnitLit(), d.body)) if isinstance(d, Def) and d.name == target else d
        for d in prog.module.decls)
    edited = Module(decls)
    check_module(edited)
    before, after = hash_definitions(prog.module), hash_definitions(edited)
    changed = {n for n in names if before[n] != after[n]}
    assert changed == _dependents(prog.module, target)


def test_dependency_chain_diamond_and_cycle() -> None:
    src = """
def c(x: Int) -> Int = x * 3
def b(x: Int) -> Int = c(x) + 1
def b2(x: Int) -> Int = c(x) - 1
def a(x: Int) -> Int = b(x) + b2(x)
def d(x: Int) -> Int = x
def p(n: Int) -> Int = if n <= 0 then c(n) else q(n - 1)
def q(n: Int) -> Int = if n <= 0 then 0 else p(n - 1)
"""
    before = hash_definitions(parse_module(src))
    after = hash_definitions(parse_module(src.replace("x * 3", "x * 4")))
    assert {n for n in before if before[n] != after[n]} == {"a", "b", "b2", "c", "p", "q"}
    assert len(set(before.values())) == len(before)


def test_mutual_recursion_is_one_cycle_with_members_by_index() -> None:
    h = hash_module(parse_module((EXAMPLES / "parity.tel").read_text()))
    (ce, ie), (co, io) = h.cycles["is_even"], h.cycles["is_odd"]
    assert ce == co and {ie, io} == {0, 1}
    cycle = h.objects[ce]
    assert isinstance(cycle, list) and cycle[0] == "tel.cycle.1" and len(cycle[1]) == 2
    assert h.objects[h.digests["is_even"]] == ["tel.member.1", ce, ie]
    # the order is canonical: swapping the names and the declaration order changes nothing
    swapped = """
def odd_q(m: Int) -> Bool = if m == 0 then false else even_q(m - 1)
def even_q(m: Int) -> Bool = if m == 0 then true else odd_q(m - 1)
"""
    h2 = hash_definitions(parse_module(swapped))
    assert h2["even_q"] == h.digests["is_even"] and h2["odd_q"] == h.digests["is_odd"]
    # self-recursion is a cycle of one
    fib = hash_module(parse_module((EXAMPLES / "fib.tel").read_text()))
    assert fib.cycles["fib"][1] == 0 and "fib_fast" not in fib.cycles


RING = "def {a}(n: Int) -> Int = if n <= 0 then 0 else {b}(n - 1)\n"


def _ring(names: list[str], extra: str = "") -> str:
    return "".join(RING.format(a=a, b=names[(i + 1) % len(names)]) for i, a in enumerate(names)) + extra


def test_structurally_identical_cycle_members_get_distinct_stable_digests() -> None:
    """Unison's E253299: members that no structure tells apart still get distinct digests."""
    digests = hash_definitions(parse_module(_ring(["ping", "pong"])))
    assert len(set(digests.values())) == 2
    for names in (["x", "y"], ["pong", "ping"], ["b", "a"]):
        again = hash_definitions(parse_module(_ring(names)))
        assert set(again.values()) == set(digests.values())  # same pair of digests
    three = hash_definitions(parse_module(_ring(["r1", "r2", "r3"])))
    assert len(set(three.values())) == 3
    assert set(hash_definitions(parse_module(_ring(["k", "j", "i"]))).values()) == set(three.values())


def test_refinement_orders_members_that_differ_only_in_whom_they_call() -> None:
    # a and b look alike on their own; b calls c, which differs, so b is not a
    src = """
def {a}(n: Int) -> Int = if n <= 0 then 0 else {b}(n - 1)
def {b}(n: Int) -> Int = if n <= 0 then 0 else {c}(n - 1)
def {c}(n: Int) -> Int = if n <= 0 then 1 else {a}(n - 1)
"""
    base = hash_definitions(parse_module(src.format(a="a", b="b", c="c")))
    for perm in itertools.permutations(["u", "v", "w"]):
        names = dict(zip("abc", perm))
        h = hash_definitions(parse_module(src.format(**names)))
        assert {k: h[v] for k, v in names.items()} == base


def test_a_too_symmetric_cycle_is_a_clear_error() -> None:
    with pytest.raises(TelHashError, match="too symmetric"):
        hash_definitions(parse_module(_ring([f"f{i}" for i in range(8)])))


def test_effect_signatures_are_part_of_the_digest() -> None:
    src = "effect M {{ hit(n: {t}) -> Unit }}\ndef f() -> Unit ! {{M}} = ()\n"
    assert hash_definitions(parse_module(src.format(t="Int"))) != hash_definitions(parse_module(src.format(t="String")))


_SCRIPT = """
import json, sys
from pathlib import Path
from stele.tel import hash_definitions, parse_module
out = {}
for p in sorted(Path(sys.argv[1]).glob("*.tel")):
    for name, d in hash_definitions(parse_module(p.read_text())).items():
        out[p.name + ":" + name] = str(d)
print(json.dumps(out, sort_keys=True))
"""


def test_digests_are_identical_across_processes_and_hash_seeds() -> None:
    results = []
    for seed in ("0", "1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(EXAMPLES)], env=env,
                              capture_output=True, text=True, check=True, timeout=120)
        results.append(json.loads(proc.stdout))
    assert results[0] == results[1] == results[2]
    here = {}
    for p in sorted(EXAMPLES.glob("*.tel")):
        for name, d in hash_definitions(parse_module(p.read_text())).items():
            here[p.name + ":" + name] = str(d)
    assert results[0] == here and len(here) >= 15


def test_external_references_hash_like_internal_ones() -> None:
    lib = "def inc(x: Int) -> Int = x + 1\n"
    user = "def twice(y: Int) -> Int = inc(inc(y))\n"
    together = hash_definitions(parse_module(lib + user))
    alone = hash_definitions(parse_module(user), externals={"inc": together["inc"]})
    assert alone == {"twice": together["twice"]}
    with pytest.raises(TelHashError, match="unresolved name 'inc'"):
        hash_definitions(parse_module(user))
