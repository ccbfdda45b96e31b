"""Repository: store / lookup / prefix / show / load / history / blobs / errors."""

from __future__ import annotations

import pytest

from stele import tel
from stele.protocol import AmbiguousPrefix, Digest
from stele.store import (
    ELF_KIND,
    EffectConflict,
    NameNotFound,
    UnknownTarget,
    UnresolvedImport,
    WrongKind,
)

from ._helpers import EXAMPLE_NAMES, example, repo


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_store_digests_are_the_tel_engines(name: str) -> None:
    r = repo()
    src = example(name)
    stored = r.store(src, filename=f"{name}.tel", namespace="ex")
    expected = tel.hash_definitions(tel.parse_module(src, name))
    assert stored == {f"ex.{n}": d for n, d in expected.items()}
    for n, d in expected.items():
        assert r.lookup(f"ex.{n}") == d == r.resolve(f"ex.{n}") == r.resolve(str(d))
        assert r.resolve(d.short()) == d


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_load_rebuilds_a_module_that_hashes_to_the_stored_digests(name: str) -> None:
    r = repo()
    stored = r.store(example(name), filename=f"{name}.tel")
    for n, d in stored.items():
        loaded = r.load(n)
        assert loaded.root == d and loaded.entry == n  # names restored from the store
        rehashed = tel.hash_definitions(loaded.module)
        for digest, ident in loaded.identifiers.items():
            if ident in rehashed:
                assert rehashed[ident] == digest
        loaded.check()
        # the printed module parses back to the same AST
        assert tel.parse_module(tel.print_module(loaded.module)) == loaded.module


def test_loaded_code_runs() -> None:
    r = repo()
    r.store(example("fib"), namespace="math")
    r.store(example("parity"))
    fib = r.load("math.fib")
    assert fib.program().call(fib.entry, [15]).value == 610
    even = r.load("is_even")
    assert even.program().call(even.entry, [10]).value is True
    odd = r.load("is_odd")
    assert odd.program().call(odd.entry, [10]).value is False


def test_show_restores_names_and_locals() -> None:
    r = repo()
    r.store(example("fib"), namespace="math")
    shown = r.show("math.fib_fast")
    assert shown.names == ("math.fib_fast",)
    assert "def fib_fast(n: Int) -> Int" in shown.text
    assert "fn (p: (Int, Int), i: Int)" in shown.text  # local names as written
    assert shown.dependencies == ()
    # the shown text is TEL that hashes back to the same digest
    assert tel.hash_definitions(tel.parse_module(shown.text))["fib_fast"] == shown.digest


def test_show_lists_dependencies_with_their_names() -> None:
    r = repo()
    r.store("def inc(x: Int) -> Int = x + 1\n", namespace="lib")
    r.store("#use inc = lib.inc\ndef twice(x: Int) -> Int = inc(inc(x))\n")
    shown = r.show("twice")
    assert "inc(inc(x))" in shown.text
    [dep] = shown.dependencies
    assert dep.digest == r.lookup("lib.inc") and dep.names == ("lib.inc",)
    assert dep.identifier == "inc"


def test_show_of_a_cycle_member_shows_the_whole_cycle_asked_member_first() -> None:
    r = repo()
    r.store(example("parity"))
    for first, other in (("is_odd", "is_even"), ("is_even", "is_odd")):
        text = r.show(first).text
        assert text.index(f"def {first}") < text.index(f"def {other}")


def test_renaming_locals_or_the_definition_stores_the_same_object() -> None:
    r = repo()
    a = r.store("def f(x: Int) -> Int = let y = x * 2 in y + x\n")
    count = r.objects.count()
    b = r.store("def g(n: Int) -> Int = let m = n * 2 in m + n\n")
    assert a["f"] == b["g"] and r.objects.count() == count
    # the most recent spelling is what show prints
    assert "let m = n * 2 in m + n" in r.show("f").text


def test_references_to_stored_code_are_pinned_by_digest() -> None:
    r = repo()
    v1 = r.store("def step(x: Int) -> Int = x + 1\n", namespace="lib")["lib.step"]
    app = r.store("def run(x: Int) -> Int = step(step(x))\n", namespace="lib")["lib.run"]
    v2 = r.store("def step(x: Int) -> Int = x + 100\n", namespace="lib")["lib.step"]
    assert v1 != v2 and r.lookup("lib.step") == v2
    # run still means what it meant: it refers to v1 by digest
    loaded = r.load("lib.run")
    assert loaded.root == app and v1 in loaded.identifiers and v2 not in loaded.identifiers
    assert loaded.program().call(loaded.entry, [0]).value == 2
    # storing run again now picks up the moved name: a new digest
    app2 = r.store("def run(x: Int) -> Int = step(step(x))\n", namespace="lib")["lib.run"]
    assert app2 != app
    again = r.load("lib.run")
    assert again.program().call(again.entry, [0]).value == 200
    # an explicit pin by digest prefix keeps the old version
    pinned = r.store(f"#use step = {v1.short()}\ndef run_v1(x: Int) -> Int = step(x)\n")
    by_full = r.store(f"#use step = {v1}\ndef run_v1(x: Int) -> Int = step(x)\n")
    assert pinned == by_full
    p = r.load("run_v1")
    assert p.program().call(p.entry, [0]).value == 1


def test_cross_file_references_hash_like_in_file_references() -> None:
    one = repo().store("def a(x: Int) -> Int = x * 3\ndef b(x: Int) -> Int = a(x) + a(1)\n")
    r = repo()
    r.store("def a(x: Int) -> Int = x * 3\n", namespace="p")
    split = r.store("def b(x: Int) -> Int = a(x) + a(1)\n", namespace="p")
    assert split["p.b"] == one["b"]


def test_namespace_lookup_prefers_the_files_namespace() -> None:
    r = repo()
    r.store("def k() -> Int = 1\n")
    r.store("def k() -> Int = 2\n", namespace="ns")
    r.store("def use_k() -> Int = k()\n", namespace="ns")
    r.store("def use_root_k() -> Int = k()\n", namespace="other")
    ns = r.load("ns.use_k")
    assert ns.program().call(ns.entry).value == 2
    other = r.load("other.use_root_k")
    assert other.program().call(other.entry).value == 1


def test_effects_of_imported_code_are_checked() -> None:
    r = repo()
    r.store("effect Bell { ring(n: Int) -> Unit }\n"
            "def ding(n: Int) -> Unit ! {Bell} = perform Bell.ring(n)\n", namespace="fx")
    # using it without Bell in the row is a type error at the call
    with pytest.raises(tel.TelTypeError, match="Bell"):
        r.store("#use ding = fx.ding\ndef quiet() -> Unit = ding(1)\n", filename="q.tel")
    ok = r.store("#use ding = fx.ding\ndef loud() -> Unit ! {Bell} = ding(1); ding(2)\n")
    loaded = r.load("loud")
    assert "effect Bell" in tel.print_module(loaded.module)
    handler = tel.MemoryHandler()
    calls: list[object] = []

    def bell(effect: str, op: str, args: tuple[object, ...]) -> object:
        calls.append((effect, op, args))
        return ()  # TEL's Unit
    loaded.program().call(loaded.entry, [], handler=bell)  # type: ignore[arg-type]
    assert calls == [("Bell", "ring", (1,)), ("Bell", "ring", (2,))] and handler.calls == []
    assert ok["loud"] == loaded.root
    with pytest.raises(EffectConflict, match="Bell"):
        r.store("effect Bell { ring(n: String) -> Unit }\n#use ding = fx.ding\n"
                "def clash() -> Unit ! {Bell} = ding(1)\n")


def test_ambiguous_prefix_lists_the_candidates() -> None:
    r = repo()
    digests = [r.put_blob(bytes([i]), name=f"blob.b{i}") for i in range(40)]
    by_first: dict[str, list[Digest]] = {}
    for d in digests:
        by_first.setdefault(d.hex[0], []).append(d)
    hexdigit, group = next((h, g) for h, g in sorted(by_first.items()) if len(g) >= 2)
    with pytest.raises(AmbiguousPrefix) as info:
        r.resolve(f"b2:{hexdigit}")
    assert set(group) <= set(info.value.candidates)
    assert all(str(d) in str(info.value) for d in group[:10])
    with pytest.raises(AmbiguousPrefix):
        r.show(hexdigit)


def test_unknown_targets_are_typed_errors() -> None:
    r = repo()
    r.store(example("fib"))
    for bad in ("nope", "b2:", "b2:0000000000000000000000", "zz:12", "math..fib"):
        with pytest.raises(UnknownTarget, match="not a name"):
            r.resolve(bad)
    with pytest.raises(NameNotFound):
        r.lookup("nope")
    with pytest.raises(NameNotFound):
        r.history("nope")


def test_history_records_every_move_with_author_and_time() -> None:
    r = repo()
    d1 = r.store("def f() -> Int = 1\n", author="ann")["f"]
    d2 = r.store("def f() -> Int = 2\n", author="bob")["f"]
    r.store("def f() -> Int = 2\n", author="cat")  # unchanged: no event
    r.set_name("f", d1, author="dan")
    gone = r.remove_name("f", author="eve")
    events = r.history("f")
    assert [(e.previous, e.digest, e.author) for e in events] == [
        (None, d1, "ann"), (d1, d2, "bob"), (d2, d1, "dan"), (d1, None, "eve")]
    assert [e.time_ns for e in events] == sorted(e.time_ns for e in events)
    assert gone.digest is None
    with pytest.raises(UnknownTarget):
        r.resolve("f")
    assert r.load(d2).root == d2  # code outlives its names


def test_names_by_namespace_recursively() -> None:
    r = repo()
    r.store("def a() -> Int = 1\n", namespace="x")
    r.store("def b() -> Int = 2\n", namespace="x.y")
    r.store("def c() -> Int = 3\n", namespace="xz")
    assert [n for n, _ in r.names("x")] == ["x.a", "x.y.b"]
    assert [n for n, _ in r.names("x", recursive=False)] == ["x.a"]
    assert [n for n, _ in r.names()] == ["x.a", "x.y.b", "xz.c"]


def test_blobs_by_digest_and_name() -> None:
    r = repo()
    elf = b"\x7fELF" + bytes(range(256))
    d = r.put_blob(elf, name="guests.sort")
    assert d == Digest.of(elf)
    obj = r.get_blob("guests.sort")
    assert obj.payload == elf and obj.kind == ELF_KIND
    assert r.get_blob(d.short()).payload == elf
    assert "riscv.elf blob, 260 bytes" in r.show("guests.sort").text
    with pytest.raises(WrongKind):
        r.load("guests.sort")
    r.store(example("fib"))
    with pytest.raises(WrongKind):
        r.get_blob("fib")
    with pytest.raises(WrongKind):
        r.put_blob(b"x", kind="tel.def.1")


def test_failed_stores_write_nothing() -> None:
    r = repo()
    r.store(example("fib"))
    before = (r.objects.count(), r.names())
    with pytest.raises(tel.TelSyntaxError) as syn:
        r.store("def f(x: Int) -> Int =\n  x +\n", filename="bad.tel")
    assert "bad.tel:3:1" in str(syn.value)
    with pytest.raises(tel.TelTypeError) as ty:
        r.store("def f(x: Int) -> Int = x + true\ndef g() -> Bool = 1\n", filename="t.tel")
    assert len(ty.value.diagnostics) == 2 and "t.tel:1:" in str(ty.value)
    with pytest.raises(UnresolvedImport, match="u.tel:2"):
        r.store("def ok() -> Int = 1\n#use q = no.such.name\n", filename="u.tel")
    with pytest.raises(UnresolvedImport, match="expected '#use"):
        r.store("#use broken\n", filename="u.tel")
    with pytest.raises(UnresolvedImport, match="defines"):
        r.store("#use fib = fib\ndef fib() -> Int = 1\n")
    assert (r.objects.count(), r.names()) == before


def test_repository_cache_is_bounded() -> None:
    r = repo(cache_size=3)
    r.store(example("merkle"))
    for n, _ in r.names():
        r.load(n)
    assert len(r._forms) <= 3
    assert r.objects.cache_hits + r.objects.cache_misses > 0


def _scan(form: object, out: list[Digest]) -> list[Digest]:
    if isinstance(form, Digest):
        out.append(form)
    elif isinstance(form, list):
        for x in form:
            _scan(x, out)
    return out


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_recorded_dependencies_are_exactly_the_digests_in_each_form(name: str) -> None:
    r = repo()
    r.store("def helper(x: Int) -> Int = x\n", namespace="h")
    src = example(name) + "\n#use hh = h.helper\ndef extra(x: Int) -> Int = hh(x) + hh(1)\n"
    objects, _, _ = r.prepare(src)
    module = tel.parse_module(src)
    forms = tel.hash_module(module, externals={"hh": r.lookup("h.helper")}).objects
    assert {Digest.of(o.payload) for o in objects} == set(forms)
    for o in objects:
        form = forms[Digest.of(o.payload)]
        assert isinstance(form, list)
        scanned = set(_scan(form[1:], []))
        if o.kind == "tel.cycle.1":
            members = {d for d, f in forms.items()
                       if isinstance(f, list) and f[0] == "tel.member.1" and f[1] == Digest.of(o.payload)}
            scanned -= members
        assert set(o.deps) == scanned and len(o.deps) == len(set(o.deps))


def test_imports_must_be_definitions() -> None:
    r = repo()
    r.put_blob(b"\x7fELF", name="helper")
    with pytest.raises(UnresolvedImport, match="riscv.elf"):
        r.store("def f() -> Int = helper()\n", filename="f.tel")
    r.store(example("parity"), namespace="p")
    cycle = r.objects.get(r.lookup("p.is_even")).deps[0]
    with pytest.raises(UnresolvedImport, match="whole cycle"):
        r.store(f"#use c = {cycle}\ndef g() -> Bool = c(1)\n", filename="g.tel")
    # a whole cycle can still be shown and loaded by its digest
    assert "def is_even" in r.show(str(cycle)).text and "def is_odd" in r.show(str(cycle)).text
    loaded = r.load(cycle)
    assert loaded.entry in ("is_even", "is_odd")
    assert loaded.program().call("is_even", [4]).value is True


def test_prepare_leaves_the_garbage_collector_as_it_found_it() -> None:
    """`prepare` pauses the cyclic collector for speed; on success and on error it is restored."""
    import gc

    from stele.store import Repository
    from stele.tel import TelSyntaxError

    assert gc.isenabled()
    with Repository(None, clock=lambda: 0) as repo:
        repo.prepare("def f(x: Int) -> Int = x\n")
        assert gc.isenabled()
        with pytest.raises(TelSyntaxError):
            repo.prepare("def f(x: Int) -> Int = )\n")
        assert gc.isenabled()
        gc.disable()
        try:
            repo.prepare("def g(x: Int) -> Int = x\n")
            assert not gc.isenabled()
        finally:
            gc.enable()
