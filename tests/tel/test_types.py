"""Types and effect rows: polymorphic builtins, several errors at once, rows checked."""

from __future__ import annotations

import pytest

from stele.tel import TelTypeError, check_expr, check_module, parse_expr, parse_module
from stele.tel._types import show_type


def types_of(source: str, expr: str) -> str:
    checked = check_module(parse_module(source), source)
    t, _row = check_expr(checked, parse_expr(expr))
    return show_type(t)


def errors(source: str) -> list[str]:
    with pytest.raises(TelTypeError) as info:
        check_module(parse_module(source, "t.tel"), source)
    return [d.render() for d in info.value.diagnostics]


@pytest.mark.parametrize("expr, expected", [
    ("size([1, 2])", "Int"), ('size("abc")', "Int"), ('size(x"00")', "Int"),
    ("get([true], 0)", "Option[Bool]"), ("get_or_else(None, 3)", "Int"),
    ('slice("abc", 0, 1)', "String"), ("slice([[1]], 0, 1)", "List[List[Int]]"),
    ("append([], 1)", "List[Int]"), ("range(0, 3)", "List[Int]"),
    ("map([1], fn (x: Int) => (x, int_to_string(x)))", "List[(Int, String)]"),
    ("filter([x\"\"], fn (b: Bytes) => size(b) > 0)", "List[Bytes]"),
    ("fold([1, 2], \"\", fn (s: String, x: Int) => s ++ int_to_string(x))", "String"),
    ("exists([1], fn (x: Int) => x > 0)", "Bool"), ("forall([], fn (x: Int) => x > 0)", "Bool"),
    ('blake2b256(x"")', "Bytes"), ('sha256(x"")', "Bytes"),
    ('string_to_int("1")', "Option[Int]"), ("int_to_bytes(1)", "Bytes"),
    ('bytes_to_int(x"")', "Option[Int]"), ('string_to_bytes("")', "Bytes"),
    ('bytes_to_string(x"")', "Option[String]"), ('bytes_to_hex(x"")', "String"),
    ("(1, true).1", "Bool"), ("match Some(1) { Some(x) => x, None => 0 }", "Int"),
    ("fn (x: Int) => perform Log.emit(int_to_string(x))", "Fn(Int) -> Unit ! {Log}"),
    ("[1] ++ [2]", "List[Int]"), ('"a" ++ "b"', "String"), ("();1", "Int"),
    ("perform KV.get(\"k\")", "Option[Bytes]"), ("twice(fn (x: Int) => x + 1, 3)", "Int"),
])
def test_builtins_and_expressions_have_the_documented_types(expr: str, expected: str) -> None:
    src = "def twice(f: Fn(Int) -> Int, x: Int) -> Int = f(f(x))"
    assert types_of(src, expr) == expected


def test_several_errors_are_reported_at_once_with_locations_and_types() -> None:
    src = (
        "def f(x: Int) -> Bool = x + true\n"
        "def g(s: String) -> Int = size(s) + s\n"
        "def h() -> Int = unknown_name(1)\n"
    )
    errs = errors(src)
    assert len(errs) >= 4
    assert any(e.startswith("t.tel:1:29: type mismatch in right operand of '+' (expected Int, found Bool)") for e in errs)
    assert any("t.tel:2:37" in e and "expected Int, found String" in e for e in errs)
    assert any("t.tel:3:18: unknown name 'unknown_name'" in e for e in errs)


@pytest.mark.parametrize("source, message", [
    ("def f() -> Int = perform Log.emit(\"x\"); 1", "'f' performs effect Log outside its row"),
    ("def g() -> Unit ! {Log} = perform Log.emit(\"x\")\ndef f() -> Unit = g()", "'f' performs effect Log"),
    ("def f() -> List[Unit] = map([1], fn (x: Int) => perform Clock.sleep(x))", "'f' performs effect Clock"),
    ("def f(k: Fn(Int) -> Int ! {Rand}) -> Int = k(1)", "'f' performs effect Rand"),
    ("def f() -> Int ! {Nope} = 1", "unknown effect 'Nope'"),
    ("def f() -> Int = perform Log.shout(\"x\")", "effect Log has no operation 'shout'"),
    ("def f() -> Int = perform Clock.now(1)", "Clock.now takes 0 argument(s), got 1"),
    ("def f() -> Bool = f == f", "functions cannot be compared"),
    ("def f() -> Int = map", "builtin 'map' must be called directly"),
    ("def f() -> Int = 1\ndef f() -> Int = 2", "defined twice"),
    ("def map() -> Int = 1", "has the name of a builtin"),
    ("effect Log { emit(msg: Int) -> Unit }", "differs from the prelude"),
    ("def f() -> Int = (1, 2).2", "tuple index 2 out of range"),
    ("def f() -> Int = 1 ++ 2", "operand of '++'"),
    ("def f(x: Int) -> Int = x(1)", "call of a non-function"),
])
def test_rejections(source: str, message: str) -> None:
    assert any(message in e for e in errors(source)), errors(source)


def test_effect_rows_allow_subsets_where_a_function_is_expected() -> None:
    src = """
def run(k: Fn(Int) -> Int ! {Log, Clock}) -> Int ! {Log, Clock} = k(1)
def pure_ok() -> Int ! {Log, Clock} = run(fn (x: Int) => x + 1)
def logs_ok() -> Int ! {Log, Clock} = run(fn (x: Int) => perform Log.emit("x"); x)
"""
    check_module(parse_module(src), src)
    bad = src + "def kv() -> Int ! {Log, Clock, KV} = run(fn (x: Int) => perform KV.put(\"k\", x\"\"); x)\n"
    assert any("argument 1" in e for e in errors(bad))


def test_user_effects_are_declared_and_checked() -> None:
    src = """
effect Metrics { count(name: String, n: Int) -> Unit }
def f() -> Unit ! {Metrics} = perform Metrics.count("hits", 1)
"""
    check_module(parse_module(src), src)
    assert any("argument 'n'" in e for e in errors(src.replace('"hits", 1', '"hits", "1"')))
