"""The TEL -> RV32IM compiler against the interpreter: same value, typed error, cost and stopping point.

The differential suite runs programs from the TEL generator (restricted to
the compiled subset, `_compilable`) on the interpreter and as compiled
guests on the co-processor, and requires them to agree on the value, the
typed error with its message and cost, the fuel spent and the memory
accounted -- at the full fuel, one unit short of the cost, at half of it,
and under a tight memory and depth limit. The generated programs use
strings, bytes, lists, options, tuples and closures. `TEL_RV_PROGRAMS`
sets how many (2,000 by default, all of which compile; the slow
suite runs 8,000 more), and a hypothesis test over the same generator
shrinks any disagreement to a minimal program.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor import decode
from stele.tel import (
    DepthLimitExceeded, DivisionByZero, IntegerOverflow, Limits,
    MemoryLimitExceeded, Program, Some, TelError, check_module, parse_module,
)
from stele.tel._gen import GenProgram
from stele.tel.compiler import (
    COMPILER_VERSION, CompileUnsupported, compile_program, run_compiled, sites_of,
)
from stele.tel.compiler._asm import encode

from ._compilable import compilable, compilable_programs

PROGRAMS = int(os.environ.get("TEL_RV_PROGRAMS", "2000"))
FUEL = 100_000


def both(src: str, name: str, args: list[Any], limits: Limits) -> tuple[Any, Any]:
    checked = check_module(parse_module(src), src)
    ref = Program(checked, jit_after=None)
    c = compile_program(checked, name)
    return outcome(lambda: ref.call(name, args, limits=limits)), \
        outcome(lambda: run_compiled(c, args, limits))


def outcome(run: Any) -> tuple[Any, ...]:
    try:
        r = run()
    except TelError as exc:
        return ("error", type(exc).__name__, str(exc), getattr(exc, "cost", None))
    return ("ok", repr(r.value), r.cost, r.memory)


FIB = "def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)\n"


def test_fib_value_and_exact_cost() -> None:
    ref, got = both(FIB, "fib", [15], Limits(fuel=FUEL))
    assert ref == got and ref[1] == "610"


@pytest.mark.parametrize("fuel", [0, 1, 9, 10, 11, 500, 19724, 19725])
def test_fib_stops_where_the_interpreter_stops(fuel: int) -> None:
    ref, got = both(FIB, "fib", [15], Limits(fuel=fuel))
    assert ref == got
    assert (ref[0] == "ok") == (fuel >= 19725)


def test_fuel_beyond_one_slice_is_exact() -> None:
    """Fuel above the guest's 2^30 slice is handed out by the runtime, still exactly."""
    checked = check_module(parse_module(FIB), FIB)
    c = compile_program(checked, "fib")
    r = run_compiled(c, [12], Limits(fuel=(1 << 40) + 3))
    assert r.cost == Program(checked, jit_after=None).call("fib", [12]).cost


SRC = """
def arith(a: Int, b: Int) -> Int = a / b + a % b
def mul(a: Int, b: Int) -> Int = a * b
def neg(a: Int) -> Int = -a
def deep(n: Int) -> Int = if n <= 0 then 0 else 1 + deep(n - 1)
def opt(n: Int) -> Option[(Int, Bool)] = if n > 0 then Some((n, n > 5)) else None
def use(n: Int) -> Int = match opt(n) { Some(p) => p.0 * 2, None => 0 }
"""
BIG, MIN = 2**63 - 1, -(2**63)


@pytest.mark.parametrize("name,args", [
    ("arith", [7, 2]), ("arith", [-7, 2]), ("arith", [7, -2]), ("arith", [-7, -2]), ("arith", [1, 0]),
    ("arith", [MIN, -1]), ("arith", [MIN, 1]), ("arith", [BIG, 3]), ("arith", [MIN, 7]),
    ("arith", [123456789012345, -98765]), ("arith", [-(2**40), 2**33 + 5]),
    ("mul", [2**31, 2**31]), ("mul", [2**32, 2**31]), ("mul", [-(2**32), 2**31]), ("mul", [BIG, 1]),
    ("mul", [MIN, 1]), ("mul", [MIN, -1]), ("mul", [-1, BIG]), ("mul", [3037000500, 3037000500]),
    ("mul", [-3037000499, 3037000499]), ("mul", [0, MIN]), ("mul", [-5, 0]),
    ("neg", [MIN]), ("neg", [BIG]), ("neg", [0]), ("neg", [-(2**32)]),
    ("use", [3]), ("use", [7]), ("use", [0]), ("opt", [9]), ("opt", [-1]),
])
def test_int_semantics_and_errors_agree(name: str, args: list[int]) -> None:
    ref, got = both(SRC, name, args, Limits(fuel=FUEL))
    assert ref == got


def test_typed_errors_carry_the_interpreters_message_and_cost() -> None:
    checked = check_module(parse_module(SRC), SRC)
    for name, args, err in (("arith", [1, 0], DivisionByZero), ("mul", [MIN, -1], IntegerOverflow),
                            ("neg", [MIN], IntegerOverflow)):
        with pytest.raises(err) as info:
            run_compiled(compile_program(checked, name), args, Limits(fuel=FUEL))
        assert info.value.cost > 0 and "<input>:" in str(info.value)


def test_depth_and_memory_limits_stop_at_the_same_point() -> None:
    for limits in (Limits(fuel=FUEL, depth=5), Limits(fuel=FUEL, depth=0)):
        ref, got = both(SRC, "deep", [10], limits)
        assert ref == got and ref[1] == DepthLimitExceeded.__name__
    for mem in (0, 15, 16, 39, 40, 56):
        ref, got = both(SRC, "opt", [9], Limits(fuel=FUEL, memory=mem))
        assert ref == got
    assert both(SRC, "opt", [9], Limits(memory=20))[1][1] == MemoryLimitExceeded.__name__


def test_results_decode_to_tel_values() -> None:
    checked = check_module(parse_module(SRC), SRC)
    assert run_compiled(compile_program(checked, "opt"), [9]).value == Some((9, True))
    assert run_compiled(compile_program(checked, "opt"), [0]).value is None


def test_unsupported_constructs_are_refused_by_name() -> None:
    for src, what in (
        ('def s(n: Int) -> Bytes = blake2b256(int_to_bytes(n))\n',
         "1:26: the builtin blake2b256 does not compile"),
        ('def s(f: Fn(Int) -> Int) -> Int = f(1)\n', "an entry argument of type Fn"),
        ('def s(n: Int) -> Bytes = sha256(int_to_bytes(n))\n', "the builtin sha256"),
        ('def s(n: Int) -> Unit ! {Log} = perform Log.emit("x")\n', "Perform does not compile"),
        ("def s(n: Int) -> Int = (" + ", ".join(["n"] * 201) + ").0\n", "a tuple of 201 items"),
    ):
        with pytest.raises(CompileUnsupported, match=what):
            compile_program(check_module(parse_module(src), src), "s")


def test_wide_literals_compile() -> None:
    """A 300-item list and a 200-item tuple: item offsets past a 12-bit immediate."""
    src = ("def w(n: Int) -> (Int, Int) = (size([" + ", ".join(["n"] * 300) + "]), ("
           + ", ".join(["n"] * 200) + ").199)\n")
    ref, got = both(src, "w", [3], Limits(fuel=FUEL))
    assert ref == got and ref[1] == "(300, 3)"


SEQ = """
def dag() -> Bool = let a = [1, 2, 3] in let b = [a, a, a] in [b, b] == [b, b]
def shared_empty() -> Bool = let a = [1, 2, 3] in let b = [] ++ a in let c = slice(a, 0, 9) in [a, b, c] == [a, b, c]
def strs() -> (String, Int, Bool) = let s = "h\u00e9llo " ++ "w\u00f6rld" in (slice(s, 1, 8), size(s), s != "x")
def bytes_() -> Bytes = slice(x"00010203ff", 1, 9) ++ x"ee"
def lists() -> List[Int] = filter(map(range(-2, 9), fn(x: Int) => x * x), fn(x: Int) => x % 2 == 0)
def folds() -> Int = fold(append(range(0, 20), 7), 0, fn(a: Int, x: Int) => a * 3 - x)
def quant() -> (Bool, Bool) = (exists([1, 2, 3], fn(x: Int) => x == 2), forall([1, 2, 3], fn(x: Int) => x < 3))
def opts() -> Bool = get([Some("a"), None], 0) == Some(Some("a")) && get([1], 5) == None
def nested() -> Bool = [(1, "a"), (2, "b")] == [(1, "a"), (2, "c")]
"""


@pytest.mark.parametrize("name", ["dag", "shared_empty", "strs", "bytes_", "lists", "folds", "quant", "opts",
                                  "nested"])
def test_sequences_agree_at_every_fuel_and_memory(name: str) -> None:
    """Every stopping point: each fuel from 0 to the cost, each memory from 0 to what it needs.

    `dag` and `shared_empty` stop inside `==`'s size walk, whose reported cost is
    the walk's lower bound at the point it passed the fuel: it depends on which
    containers are shared (a list concatenated with [] or sliced whole is the
    list itself, as in CPython), so these fail if the guest walks differently.
    """
    checked = check_module(parse_module(SEQ), SEQ)
    ref = Program(checked, jit_after=None)
    c = compile_program(checked, name)
    full = ref.call(name, [], limits=Limits(fuel=FUEL))
    for lim in [Limits(fuel=f) for f in range(full.cost + 1)] + \
               [Limits(fuel=FUEL, memory=m) for m in range(0, full.memory + 1, 3)]:
        want = outcome(lambda: ref.call(name, [], limits=lim))
        got = outcome(lambda: run_compiled(c, [], lim))
        assert want == got, lim


def test_the_size_walk_reports_the_interpreters_lower_bound() -> None:
    """Pinned: at 32 fuel `dag` stops in the walk having counted 33 of its 40 units."""
    ref, got = both(SEQ, "dag", [], Limits(fuel=32))
    assert ref == got == ("error", "CostLimitExceeded",
                          "<input>:2:70: fuel limit exceeded: needed 33, limit 32", 31)


def test_dynamic_charges_cross_fuel_slices_and_report_64_bit_costs() -> None:
    src = "def r(n: Int) -> Int = size(range(0, n))\n"
    for n, fuel, mem in ((2**30 + 2, 2**30 + 40, 64), (2**62, 10**6, 64), (10, 2**31, 200)):
        ref, got = both(src, "r", [n], Limits(fuel=fuel, memory=mem))
        assert ref == got, (n, fuel)


def test_closures_called_from_builtins_at_the_deepest_depth_fit_the_stack() -> None:
    """Each level calls through `fold`'s loop (a runtime frame of its own) at depth 10,000."""
    src = "def r(n: Int) -> Int = if n <= 0 then 0 else fold([n], 0, fn(a: Int, x: Int) => r(x - 1) + 1)\n"
    for n in (4998, 5000, 5001):
        ref, got = both(src, "r", [n], Limits(fuel=10**6, depth=10_000))
        assert ref == got, n


def test_equality_on_a_value_larger_than_a_fuel_slice() -> None:
    """2^29 + 1198 units unfolded from 30 shared lists: past the interpreter's fuel slice, within
    the fuel; both engines charge it (the interpreter once stopped at the slice)."""
    lets = "".join(f"let x{i + 1} = [x{i}, x{i}] in " for i in range(27))
    src = f"def big() -> Bool = let x0 = [1, 1] in {lets}x27 == x27\n"
    for fuel in (2**29 - 1000, 2**31):
        ref, got = both(src, "big", [], Limits(fuel=fuel))
        assert ref == got, fuel
    assert ref[0] == "ok" and ref[2] == 536871110


PARSE = ["", "-", "0", "-0", "007", "12a", "9223372036854775807", "9223372036854775808",
         "-9223372036854775808", "-9223372036854775809", "99999999999999999999", "+5", "\u0661\u0662", " 1"]
UTF8 = [b"", b"abc", "h\u00e9llo\U0001F600".encode(), b"\xc0\x80", b"\xc2\x80", b"\xe0\x80\x80",
        b"\xe0\xa0\x80", b"\xed\xa0\x80", b"\xed\x9f\xbf", b"\xef\xbf\xbf", b"\xf0\x8f\xbf\xbf",
        b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xe2\x82",
        b"\x80", b"\xff", b"\xc2\x41", b"\xe2\x82\xac\xe2\x82\xac"]


def test_parsing_conversions_agree_on_every_edge() -> None:
    """string_to_int's digits and range, bytes_to_string's strict UTF-8 (overlongs, surrogates,
    past U+10FFFF, truncated and stray continuation bytes), as Python decides them."""
    for sv in PARSE:
        ref, got = both("def f(s: String) -> Option[Int] = string_to_int(s)\n", "f", [sv], Limits(fuel=FUEL))
        assert ref == got, sv
    for bv in UTF8:
        ref, got = both("def f(b: Bytes) -> Option[String] = bytes_to_string(b)\n", "f", [bv], Limits(fuel=FUEL))
        assert ref == got, bv


def test_results_larger_than_the_output_buffer_are_flushed() -> None:
    """A result far larger than the 4 KiB output buffer (and than the stack below the heap,
    which an unchecked buffer would run through into the value being encoded)."""
    src = "def big(xs: List[String]) -> List[String] = xs ++ xs\n"
    xs = tuple("x\u00e9" * 60 + str(i) for i in range(1500))
    ref, got = both(src, "big", [xs], Limits(fuel=FUEL))
    assert ref == got and ref[0] == "ok" and len(ref[1]) > 300_000


def test_entry_arguments_of_every_data_type() -> None:
    src = ("def f(s: String, b: Bytes, xs: List[Option[(Int, Bool)]], u: Unit) -> (Int, Bytes, Bool) = "
           "(size(s), b ++ b, xs == xs ++ [])\n")
    args = ["h\u00e9\U0001F600", b"\x00\xff", (None, Some((3, True)), Some((-(2**63), False))), ()]
    ref, got = both(src, "f", args, Limits(fuel=FUEL))
    assert ref == got and ref[1] == "(3, b'\\x00\\xff\\x00\\xff', True)"


def test_the_elf_carries_its_site_table_and_version() -> None:
    c = compile_program(check_module(parse_module(FIB), FIB), "fib")
    note = sites_of(c.elf)
    assert note is not None and note["version"] == COMPILER_VERSION
    assert len(note["sites"]) == len(c.sites)


def test_arguments_are_checked_before_the_guest_runs() -> None:
    c = compile_program(check_module(parse_module(FIB), FIB), "fib")
    with pytest.raises(TelError, match="argument"):
        run_compiled(c, [True])
    with pytest.raises(TelError, match="takes 1"):
        run_compiled(c, [])


@settings(max_examples=300, deadline=None)
@given(op=st.sampled_from(["add", "sub", "mul", "div", "divu", "rem", "remu", "sll", "slt", "sltu",
                           "xor", "or", "and", "mulh", "mulhu", "sra", "srl"]),
       rd=st.integers(0, 31), rs1=st.integers(0, 31), rs2=st.integers(0, 31))
def test_the_encoder_agrees_with_the_coprocessors_decoder_r(op: str, rd: int, rs1: int, rs2: int) -> None:
    ins = decode(encode(op, rd, rs1, rs2))
    assert (ins.op, ins.rd, ins.rs1, ins.rs2) == (op, rd, rs1, rs2)


@settings(max_examples=300, deadline=None)
@given(op=st.sampled_from(["addi", "sltiu", "xori", "andi", "ori", "lw", "lbu", "jalr", "sw", "sb",
                           "beq", "bne", "blt", "bgeu", "jal", "lui"]),
       r1=st.integers(0, 31), r2=st.integers(0, 31), imm=st.integers(-(1 << 20), (1 << 20) - 1))
def test_the_encoder_agrees_with_the_coprocessors_decoder_imm(op: str, r1: int, r2: int, imm: int) -> None:
    if op in ("beq", "bne", "blt", "bgeu"):
        imm = (imm % 4096) * 2 - 4096
        ins = decode(encode(op, 0, r1, r2, imm))
        assert (ins.op, ins.rs1, ins.rs2, ins.imm) == (op, r1, r2, imm)
    elif op == "jal":
        imm -= imm % 2
        ins = decode(encode(op, r1, imm=imm))
        assert (ins.op, ins.rd, ins.imm) == (op, r1, imm)
    elif op == "lui":
        ins = decode(encode(op, r1, imm=(imm << 12) & 0xFFFFF000))
        assert (ins.op, ins.rd) == (op, r1) and ins.imm & 0xFFFFFFFF == (imm << 12) & 0xFFFFF000
    elif op in ("sw", "sb"):
        imm %= 2048
        ins = decode(encode(op, 0, r1, r2, imm))
        assert (ins.op, ins.rs1, ins.rs2, ins.imm) == (op, r1, r2, imm)
    else:
        imm = imm % 4096 - 2048
        ins = decode(encode(op, r1, r2, imm=imm))
        assert (ins.op, ins.rd, ins.rs1, ins.imm) == (op, r1, r2, imm)


# ----------------------------------------------------------------------------- differential suite

def disagreement(prog: GenProgram) -> str | None:
    """None if both engines agree at every limit tried, else a report; raises CompileUnsupported."""
    checked = check_module(prog.module, prog.source)
    c = compile_program(checked, "main")
    ref = Program(checked, jit_after=None)
    first = Limits(fuel=FUEL, depth=40)
    a = outcome(lambda: ref.call("main", [], limits=first))
    cost = a[2] if a[0] == "ok" else a[3]
    assert isinstance(cost, int)
    tries = [first, Limits(fuel=max(cost - 1, 0), depth=40), Limits(fuel=cost // 2, depth=40),
             Limits(fuel=FUEL, memory=48, depth=3)]
    for i, lim in enumerate(tries):
        want = a if i == 0 else outcome(lambda: ref.call("main", [], limits=lim))
        got = outcome(lambda: run_compiled(c, [], lim))
        if want != got:
            return f"{lim}:\n  interpreter {want}\n  compiled    {got}\n{prog.source}"
    return None


def run_suite(seeds: range) -> tuple[int, int]:
    compiled = refused = 0
    for seed in seeds:
        prog = compilable(seed)
        try:
            report = disagreement(prog)
        except CompileUnsupported:
            refused += 1
            continue
        compiled += 1
        assert report is None, f"seed {seed}: {report}"
    return compiled, refused


def test_differential_suite() -> None:
    compiled, refused = run_suite(range(PROGRAMS))
    assert compiled >= PROGRAMS * 0.99, (compiled, refused)  # every generated program compiles


@pytest.mark.slow
def test_differential_suite_slow() -> None:
    compiled, refused = run_suite(range(10**6, 10**6 + 8_000))
    assert compiled >= 7_900, (compiled, refused)


@settings(max_examples=60, deadline=None)
@given(prog=compilable_programs())
def test_shrinking_differential(prog: GenProgram) -> None:
    """Hypothesis draws the generator's choices one by one: a disagreement shrinks to a minimal program."""
    try:
        report = disagreement(prog)
    except CompileUnsupported:
        return
    assert report is None, report
