"""Syntax: the DESIGN.md examples parse, errors point at line:col with a caret, printing round-trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from stele.tel import (
    TelSyntaxError, parse_expr, parse_module, parse_type, print_expr, print_module, print_type,
)
from stele.tel._ast import (
    Binary, Call, If, IntLit, Lambda, Let, Match, Param, Perform, Proj, Seq, StrLit, TFn, TName,
    Unary, Var,
)
from stele.tel.testing import programs

DESIGN_EXAMPLE = """
effect Log   { emit(msg: String) -> Unit }
effect Clock { now() -> Int; sleep(ms: Int) -> Unit }

def fib(n: Int) -> Int =
  if n < 2 then n else fib(n - 1) + fib(n - 2)

def sum_squares(xs: List[Int]) -> Int =
  fold(map(xs, fn (x: Int) => x * x), 0, fn (acc: Int, x: Int) => acc + x)

def greet(who: String) -> Int ! {Log, Clock} =
  let t = perform Clock.now() in
  perform Log.emit("hello " ++ who);
  t
"""


def test_design_example_parses_to_the_expected_shapes() -> None:
    m = parse_module(DESIGN_EXAMPLE, "design.tel")
    assert [type(d).__name__ for d in m.decls] == ["EffectDecl", "EffectDecl", "Def", "Def", "Def"]
    greet = m.defs["greet"]
    assert greet.effects == frozenset({"Log", "Clock"})
    # `;` binds loosest and the let body extends over it
    assert greet.body == Let("t", None, Perform("Clock", "now", ()), Seq(
        Perform("Log", "emit", (Binary("++", StrLit("hello "), Var("who")),)), Var("t")))
    assert m.defs["fib"].body.loc.line == 6


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", Binary("+", IntLit(1), Binary("*", IntLit(2), IntLit(3)))),
    ("1 - 2 - 3", Binary("-", Binary("-", IntLit(1), IntLit(2)), IntLit(3))),
    ("a || b && c", Binary("||", Var("a"), Binary("&&", Var("b"), Var("c")))),
    ("a == b && c < d", Binary("&&", Binary("==", Var("a"), Var("b")), Binary("<", Var("c"), Var("d")))),
    ("s ++ t == u", Binary("==", Binary("++", Var("s"), Var("t")), Var("u"))),
    ("-x * 2", Binary("*", Unary("-", Var("x")), IntLit(2))),
    ("-5", IntLit(-5)),
    ("- 5", IntLit(-5)),
    ("-(5)", Unary("-", IntLit(5))),
    ("!f(x)", Unary("!", Call(Var("f"), (Var("x"),)))),
    ("f(x)(y).1", Proj(Call(Call(Var("f"), (Var("x"),)), (Var("y"),)), 1)),
    ("a; b; c", Seq(Var("a"), Seq(Var("b"), Var("c")))),
    ("if c then a else b; d", If(Var("c"), Var("a"), Seq(Var("b"), Var("d")))),
    ("match o { None => 0, Some(x) => x }", Match(Var("o"), "x", Var("x"), IntLit(0))),
    ("fn (x: Int) => x + 1", Lambda((Param("x", TName("Int")),), Binary("+", Var("x"), IntLit(1)))),
    ("-9223372036854775808", IntLit(-(2**63))),
])
def test_precedence_and_associativity(text: str, expected: object) -> None:
    assert parse_expr(text) == expected


def test_types_and_effect_rows() -> None:
    t = parse_type("Fn(Int, List[Bytes]) -> Option[(Int, String)] ! {Log, KV}")
    assert isinstance(t, TFn) and t.effects == frozenset({"Log", "KV"})
    assert parse_type(print_type(t)) == t
    # a row after a Fn-typed result belongs to the inner Fn unless parenthesized
    inner = parse_type("Fn(Int) -> Fn(Int) -> Int ! {Log}")
    assert isinstance(inner, TFn) and inner.effects == frozenset()
    outer = parse_type("Fn(Int) -> (Fn(Int) -> Int) ! {Log}")
    assert isinstance(outer, TFn) and outer.effects == frozenset({"Log"})
    assert parse_type(print_type(outer)) == outer


@pytest.mark.parametrize("source, where, expected, found", [
    ("def f(x: Int) -> Int =\n  x +\n", "t.tel:3:1", "an expression", "end of input"),
    ("def f(x: Int) -> Int = if x then 1 2", "t.tel:1:36", "'else'", "'2'"),
    ("def f(x Int) -> Int = x", "t.tel:1:9", "':'", "'Int'"),
    ("def f() -> Int = 1 < 2 < 3", "t.tel:1:24", "no second comparison", "'<'"),
    ("def f() -> Int = 99999999999999999999", "t.tel:1:18", "an Int literal within 64 bits", "'99999999999999999999'"),
    ('def f() -> String = "abc', "t.tel:1:21", "a closing", "end of line"),
    ("def f() -> Bytes = x\"abc\"", "t.tel:1:20", "an even number of hex digits", "'abc'"),
    ("def f() -> Int = 1 $ 2", "t.tel:1:20", "a token", "'$'"),
    ("def f() -> Blob = 1", "t.tel:1:12", "a type", "'Blob'"),
    ("let x = 1 in x", "t.tel:1:1", "'def' or 'effect'", "'let'"),
    ("def f() -> Int = match o { Some(x) => 1 }", "t.tel:1:41", "both a 'Some(x) =>' and a 'None =>' arm", "'}'"),
])
def test_syntax_errors_say_where_what_was_expected_and_found(
        source: str, where: str, expected: str, found: str) -> None:
    with pytest.raises(TelSyntaxError) as info:
        parse_module(source, "t.tel")
    err = info.value
    text = str(err)
    assert text.startswith(where + ": expected "), text
    assert expected in err.expected and err.found == found
    # the source line and a caret under the column
    src_lines = source.splitlines() + [""]
    lines = text.splitlines()
    assert lines[-2] == "  " + src_lines[err.loc.line - 1]
    assert lines[-1] == "  " + " " * (err.loc.col - 1) + "^"


def test_nesting_is_bounded_with_a_syntax_error() -> None:
    deep = "(" * 500 + "1" + ")" * 500
    with pytest.raises(TelSyntaxError, match="levels of nesting"):
        parse_expr(deep)
    parse_expr("(" * 60 + "1" + ")" * 60)


@pytest.mark.parametrize("text", [
    "-(5)", "--5", "a - -5", "(-5).0", "(if a then b else c); d", "(fn (x: Int) => x)(1)",
    "(let x = 1 in x) + 2", "f(if a then b else c)", '"\\u{1f600}\\n\\"\\\\"', 'x"00ff"',
    "[(1, true), (2, false)]", "()", "match m { Some(v) => (v; w), None => None }",
    "perform KV.put(\"k\", x\"\")", "Some(Some(None))", "(a < b) == (c < d)", "!(!a)",
])
def test_print_parse_round_trip_cases(text: str) -> None:
    e = parse_expr(text)
    assert parse_expr(print_expr(e)) == e


@settings(max_examples=300)
@given(programs())
def test_print_parse_round_trip_property(prog: object) -> None:
    from stele.tel.testing import GenProgram
    assert isinstance(prog, GenProgram)
    text = print_module(prog.module)
    assert parse_module(text) == prog.module
    assert print_module(parse_module(text)) == text


def test_non_ascii_letters_are_rejected_not_looped_on() -> None:
    """Regression: a non-ASCII letter once stalled the lexer (found by test_fuzz)."""
    with pytest.raises(TelSyntaxError, match="expected a token, found 'é'"):
        parse_module("def é() -> Int = 1")
    assert parse_expr('"é"').value == "é"  # type: ignore[union-attr]


def test_maximum_nesting_works_through_the_whole_pipeline_even_from_a_deep_stack() -> None:
    from stele.tel import Program, check_module, hash_definitions
    from stele.tel._parser import MAX_NESTING

    lets = "".join(f"let v{i} = {i} in " for i in range(MAX_NESTING - 2)) + "v0 + v1"
    src = f"def f() -> Int = {lets}"

    def at_depth(k: int) -> int:
        if k:
            return at_depth(k - 1)
        module = parse_module(src)
        hash_definitions(module)
        return int(Program(check_module(module)).call("f", []).value)

    assert at_depth(600) == 1
