"""The dependency graph: transitive loading, diamonds, cycles, pinning, missing pieces.

Properties: a random DAG of definitions stored as one file or as one file per
definition gets the same digests, and loads each dependency once, in
dependency order; generated TEL programs survive store -> load unchanged in
value and cost.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele import tel
from stele.protocol import Digest
from stele.store import MissingDependencies, NewObject, Repository, StoredObject
from stele.tel.testing import seeded_programs

from ._helpers import repo


def _copy(src: Repository, dst: Repository, digests: list[Digest]) -> None:
    objs = [src.objects.get(d) for d in digests]
    dst.objects.commit([NewObject(o.kind, o.payload, o.deps) for o in objs])


def _assert_dependency_order(objects: tuple[StoredObject, ...]) -> None:
    """Every dependency comes before its dependent, except back edges inside a cycle."""
    position = {o.digest: i for i, o in enumerate(objects)}
    assert len(position) == len(objects), "an object was loaded twice"
    for i, o in enumerate(objects):
        for d in o.deps:
            assert d in position, f"{d} missing from the closure"
            if o.kind != "tel.cycle.1":
                assert position[d] < i


def test_diamond_loads_the_shared_dependency_once() -> None:
    r = repo()
    leaf = r.store("def leaf(x: Int) -> Int = x * 10\n")["leaf"]
    r.store("def left(x: Int) -> Int = leaf(x) + 1\n")
    r.store("def right(x: Int) -> Int = leaf(x) + 2\n")
    top = r.store("def top(x: Int) -> Int = left(x) + right(x)\n")["top"]
    loaded = r.load(top)
    digests = [o.digest for o in loaded.objects]
    assert digests.count(leaf) == 1 and len(digests) == 4 and digests[-1] == top
    _assert_dependency_order(loaded.objects)
    assert loaded.program().call(loaded.entry, [1]).value == 23


def test_cycles_load_once_and_run() -> None:
    r = repo()
    r.store("def ping(n: Int) -> Int = if n <= 0 then 0 else 1 + pong(n - 1)\n"
            "def pong(n: Int) -> Int = if n <= 0 then 0 else 2 + ping(n - 1)\n"
            "def self_loop(n: Int) -> Int = if n <= 0 then 0 else self_loop(n - 1)\n", namespace="c")
    user = r.store("def both(n: Int) -> Int = ping(n) + pong(n) + self_loop(n)\n", namespace="c")
    loaded = r.load(user["c.both"])
    kinds = sorted(o.kind for o in loaded.objects)
    # two cycles (ping/pong, self_loop), the two members referenced, and both
    assert kinds == ["tel.cycle.1", "tel.cycle.1", "tel.def.1", "tel.member.1",
                     "tel.member.1", "tel.member.1"]
    _assert_dependency_order(loaded.objects)
    assert loaded.program().call(loaded.entry, [4]).value == (1 + 2 + 1 + 2) + (2 + 1 + 2 + 1)


def test_missing_dependencies_are_all_reported_at_once() -> None:
    full = repo()
    p = full.store("def p() -> Int = 1\n", namespace="l1")["l1.p"]
    q = full.store("def q() -> Int = 2\n", namespace="l2")["l2.q"]
    mid = full.store("#use q = l2.q\ndef mid() -> Int = q() + 1\n")["mid"]
    top = full.store("#use p = l1.p\ndef top() -> Int = p() + mid()\n")["top"]
    partial = repo()
    _copy(full, partial, [top, mid])  # p and q are missing, at two depths
    with pytest.raises(MissingDependencies) as info:
        partial.load(top)
    assert set(info.value.missing) == {p, q}
    assert info.value.missing[p] == [top] and info.value.missing[q] == [mid]
    text = str(info.value)
    assert "2 missing dependencies" in text and str(p) in text and str(q) in text
    _copy(full, partial, [p, q])
    loaded = partial.load(top)  # no names or annotations were copied: d_<hex> identifiers
    assert loaded.entry.startswith("d_") and loaded.program().call(loaded.entry).value == 4


def test_pinned_reference_survives_the_name_moving_and_being_removed() -> None:
    r = repo()
    old = r.store("def base() -> Int = 7\n")["base"]
    user = r.store(f"#use b = {old}\ndef user() -> Int = b() * 2\n")["user"]
    r.store("def base() -> Int = 8\n")
    r.remove_name("base")
    loaded = r.load(user)
    assert old in loaded.identifiers
    assert loaded.program().call(loaded.entry).value == 14
    assert "b2:" not in r.show(user).text  # printed under the name it was written with
    assert [d.digest for d in r.show(user).dependencies] == [old]


@st.composite
def dags(draw: st.DrawFn) -> list[list[int]]:
    """A random DAG: node i depends on a subset of nodes < i."""
    n = draw(st.integers(1, 8))
    return [sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else [] for i in range(n)]


def _source(i: int, deps: list[int]) -> str:
    body = " + ".join([f"x * {i + 1}"] + [f"f{j}(x)" for j in deps])
    return f"def f{i}(x: Int) -> Int = {body}\n"


def _model(dag: list[list[int]], i: int, x: int) -> int:
    return x * (i + 1) + sum(_model(dag, j, x) for j in dag[i])


@settings(max_examples=40, deadline=None)
@given(dag=dags(), x=st.integers(-100, 100))
def test_random_dags_resolve_each_dependency_once_in_order(dag: list[list[int]], x: int) -> None:
    whole = repo().store("".join(_source(i, d) for i, d in enumerate(dag)))
    r = repo()
    split: dict[str, Digest] = {}
    for i, deps in enumerate(dag):  # one file per definition, references by stored name
        split |= r.store(_source(i, deps))
    assert split == whole
    top = len(dag) - 1
    loaded = r.load(f"f{top}")
    reachable: set[int] = set()
    stack = [top]
    while stack:
        i = stack.pop()
        if i not in reachable:
            reachable.add(i)
            stack += dag[i]
    assert {o.digest for o in loaded.objects} == {whole[f"f{i}"] for i in reachable}
    _assert_dependency_order(loaded.objects)
    assert loaded.program().call(loaded.entry, [x]).value == _model(dag, top, x)


@st.composite
def cyclic_graphs(draw: st.DrawFn) -> list[list[int]]:
    """Random graphs with back edges (cycles); node i refers to any nodes."""
    n = draw(st.integers(1, 6))
    return [sorted(draw(st.sets(st.integers(0, n - 1), max_size=3))) for _ in range(n)]


@settings(max_examples=40, deadline=None)
@given(graph=cyclic_graphs())
def test_graphs_with_cycles_load_and_rehash_to_the_stored_digests(graph: list[list[int]]) -> None:
    # f_i(x) = if x <= 0 then i else sum of f_j(x - 1): terminates, and cycles are legal
    src = "".join(
        f"def f{i}(x: Int) -> Int = if x <= 0 then {i} else "
        + (" + ".join(f"f{j}(x - 1)" for j in deps) if deps else f"x + {i}") + "\n"
        for i, deps in enumerate(graph))
    r = repo()
    stored = r.store(src)
    for name, digest in stored.items():
        loaded = r.load(name)
        _assert_dependency_order(loaded.objects)
        rehashed = tel.hash_definitions(loaded.module)
        for d, ident in loaded.identifiers.items():
            assert rehashed[ident] == d
    original = tel.Program(tel.check_module(tel.parse_module(src)))
    for name in stored:
        loaded = r.load(name)
        a = original.call(name, [3])
        b = loaded.program().call(loaded.entry, [3])
        assert (a.value, a.cost) == (b.value, b.cost)


@settings(max_examples=60, deadline=None)
@given(gp=seeded_programs())
def test_generated_programs_survive_store_and_load(gp: tel.testing.GenProgram) -> None:
    r = repo()
    stored = r.store(gp.source, filename="gen.tel")
    loaded = r.load(gp.entry)
    assert loaded.root == stored[gp.entry]
    limits = tel.Limits(fuel=200_000, memory=1 << 22, depth=60)

    def run(program: tel.Program, entry: str) -> tuple[str, object, int]:
        try:
            res = program.call(entry, [], limits=limits, handler=tel.MemoryHandler(seed=3))
            return ("ok", res.value, res.cost)
        except tel.TelError as exc:  # locations differ (the loaded module has none)
            return (type(exc).__name__, getattr(exc, "detail", str(exc)), getattr(exc, "cost", 0))

    assert run(tel.Program(tel.check_module(gp.module)), gp.entry) == \
        run(loaded.program(), loaded.entry)
    # show's text is TEL that hashes back to the digest
    text = r.show(gp.entry).text
    rehashed = tel.hash_definitions(tel.parse_module(text), externals={
        d.identifier: d.digest for d in r.show(gp.entry).dependencies})
    assert loaded.root in rehashed.values()
