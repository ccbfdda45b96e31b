"""Malformed and ill-typed input: the front end and interpreter raise only typed TEL errors."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stele.tel import (
    Limits, MemoryHandler, MemoryLimitExceeded, Program, TelError, check_module, parse_module,
)
from stele.tel.testing import GenProgram, programs, seeded_programs

TOKENS = ["(", ")", "[", "]", "{", "}", ",", ";", ":", ".", "=>", "->", "!", "-", "+", "*",
          "let", "in", "if", "then", "else", "fn", "match", "Some", "None", "perform",
          "def", "effect", "Int", "List[", "x\"0\"", "\"", "0", "9223372036854775808", "é", "#"]


@settings(max_examples=300)
@given(seeded_programs(), st.data())
def test_mutated_sources_fail_only_with_tel_errors(prog: GenProgram, data: st.DataObject) -> None:
    src = prog.source
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(src)))
        j = data.draw(st.integers(i, min(len(src), i + 12)))
        src = src[:i] + data.draw(st.sampled_from(TOKENS + [""])) + src[j:]
    try:
        checked = check_module(parse_module(src, "fuzz.tel"), src)
        Program(checked).call("main", [], limits=Limits(fuel=20_000), handler=MemoryHandler())
    except TelError:
        pass


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_arbitrary_text_fails_only_with_syntax_or_type_errors(text: str) -> None:
    try:
        check_module(parse_module(text), text)
    except TelError:
        pass


@settings(max_examples=100)
@given(programs())
def test_memory_accounting_is_exact_too(prog: GenProgram) -> None:
    """A run that accounts m bytes succeeds with memory limit m and fails with m - 1."""
    program = Program(check_module(prog.module))
    try:
        r = program.call("main", [], limits=Limits(fuel=100_000), handler=MemoryHandler())
    except TelError:
        return
    again = program.call("main", [], limits=Limits(fuel=100_000, memory=r.memory), handler=MemoryHandler())
    assert (again.value, again.cost) == (r.value, r.cost)
    if r.memory:
        try:
            program.call("main", [], limits=Limits(fuel=100_000, memory=r.memory - 1), handler=MemoryHandler())
        except MemoryLimitExceeded as exc:
            assert exc.limit == r.memory - 1
        else:
            raise AssertionError("memory limit m - 1 did not stop the run")
