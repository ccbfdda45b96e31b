"""The performance fast paths agree with their reference definitions on generated programs."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given, settings

from stele.tel import check_module, hash_module
from stele.tel._ast import Expr
from stele.tel._free import _free_slow, children, free_vars
from stele.tel.testing import GenProgram, programs


def _walk(e: Expr) -> Iterator[Expr]:
    yield e
    for c in children(e):
        yield from _walk(c)


@settings(max_examples=150, deadline=None)
@given(programs())
def test_free_vars_matches_the_reference_definition(prog: GenProgram) -> None:
    for d in prog.module.defs.values():
        for e in _walk(d.body):
            assert free_vars(e) == _free_slow(e)


@settings(max_examples=100, deadline=None)
@given(programs())
def test_hashed_bytes_are_the_encoding_of_the_forms(prog: GenProgram) -> None:
    from stele.protocol import DEPTH_CEILING, Digest, encode

    check_module(prog.module, prog.source)
    hashed = hash_module(prog.module)
    assert hashed.encoded.keys() == hashed.objects.keys()
    for digest, form in hashed.objects.items():
        data = hashed.encoded[digest]
        assert data == encode(form, max_depth=DEPTH_CEILING) and Digest.of(data) == digest


def test_parsing_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    import pytest

    from stele.tel import TelSyntaxError, parse_module
    from stele.tel._gc import gc_paused

    assert gc.isenabled()
    parse_module("def f(x: Int) -> Int = x")
    assert gc.isenabled()
    with pytest.raises(TelSyntaxError):
        parse_module("def f(x: Int) -> Int = )")
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the inner pause leaves the outer one in charge
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        parse_module("def g(x: Int) -> Int = x")
        assert not gc.isenabled()
    finally:
        gc.enable()
