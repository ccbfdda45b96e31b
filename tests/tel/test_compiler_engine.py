"""The compiled engine end to end: `rt.execute(..., engine="riscv")` on TEL, `stele compile`, examples.

Every TEL definition in `examples/` is tried on both engines: the ones the
compiler translates must agree with the interpreter exactly (value, typed
error, cost); the rest must be refused by name (`CompileUnsupported`), and
the count of each is pinned so the docs' claim stays true.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import stele
from stele.actors.executor import ExecLimits
from stele.actors.executor._tel_riscv import COMPILED
from stele.actors.repository._messages import GetObject
from stele.sim import SimEnv
from stele.tel import CostLimitExceeded, DepthLimitExceeded, Limits, Program, TelError, check_module, parse_module
from stele.tel.compiler import CompileUnsupported, compile_program, run_compiled, sites_of

ROOT = Path(__file__).resolve().parents[2]
SRC = """
def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)
def deep(n: Int) -> Int = if n <= 0 then 0 else 1 + deep(n - 1)
def pair(n: Int) -> Option[(Int, Bool)] = if n > 0 then Some((n, n > 5)) else None
def text(n: Int) -> Bytes = sha256(int_to_bytes(n))
"""


def _sim(scenario: Any) -> Any:
    async def main(env: stele.Env) -> Any:
        async with stele.open_runtime(None, env=env) as rt:
            await rt.store(SRC)
            return await scenario(rt)
    env = SimEnv(seed=3)
    return env.run(main, env)


def test_execute_on_riscv_agrees_with_tel_and_memoizes_the_compilation() -> None:
    async def scenario(rt: Any) -> Any:
        tel = await rt.execute("fib", [12], memo=False)
        before = COMPILED.misses
        rv = await rt.execute("fib", [12], engine="riscv", memo=False)
        again = await rt.execute("fib", [13], engine="riscv", memo=False)
        opt = await rt.execute("pair", [9], engine="riscv", memo=False)
        return tel, rv, again, opt, COMPILED.misses - before
    tel, rv, again, opt, compiled = _sim(scenario)
    assert (rv.value, rv.cost, rv.engine) == (tel.value, tel.cost, "riscv")
    assert rv.usage.cycles > 0 and rv.breakdown["cycles"] == rv.usage.cycles
    assert again.value == 233
    assert opt.value == stele.tel.Some((9, True))
    assert compiled <= 2  # fib once (then from the cache), pair once


def test_execute_on_riscv_raises_the_interpreters_typed_errors() -> None:
    async def scenario(rt: Any) -> Any:
        out = []
        for engine in ("tel", "riscv"):
            for target, limits in (("fib", ExecLimits(fuel=500)), ("deep", ExecLimits(depth=5))):
                try:
                    await rt.execute(target, [20], engine=engine, limits=limits, memo=False)
                except TelError as exc:
                    out.append((type(exc).__name__, str(exc), exc.cost))
        return out
    got = _sim(scenario)
    assert got[:2] == got[2:]
    assert got[0][0] == CostLimitExceeded.__name__ and got[1][0] == DepthLimitExceeded.__name__


def test_a_compilation_is_stored_content_addressed_and_reused() -> None:
    """The ELF goes to the store under the TEL digest and compiler version; a process whose
    memory cache is empty loads it from there instead of compiling again."""
    from stele.actors.executor import _tel_riscv as tr

    async def scenario(rt: Any) -> Any:
        tr.COMPILED._items.clear()
        writes = tr.STORE_WRITES[0]
        first = await rt.execute("pair", [9], engine="riscv", memo=False)
        tr.COMPILED._items.clear()  # a fresh process: only the store remembers
        again = await rt.execute("pair", [9], engine="riscv", memo=False)
        blob = await rt._ask("repository", GetObject(tr.compiled_name(first.digest)))
        return first, again, tr.STORE_WRITES[0] - writes, blob
    first, again, writes, blob = _sim(scenario)
    assert (first.value, first.cost) == (again.value, again.cost) == (stele.tel.Some((9, True)), first.cost)
    assert writes == 1
    assert blob.kind == "tel-rv32.elf" and blob.digest == stele.protocol.Digest.of(blob.payload)
    assert sites_of(blob.payload)["entry"] == "pair"


def test_execute_on_riscv_refuses_what_does_not_compile() -> None:
    async def scenario(rt: Any) -> Any:
        with pytest.raises(CompileUnsupported, match="the builtin sha256 does not compile"):
            await rt.execute("text", [1], engine="riscv", memo=False)
        return True
    assert _sim(scenario)


def test_stele_compile_writes_a_runnable_elf(tmp_path: Path) -> None:
    tel = tmp_path / "f.tel"
    tel.write_text(SRC)
    store = str(tmp_path / "s.db")
    exe = [sys.executable, "-m", "stele.cli"]
    subprocess.run(exe + ["store", str(tel), "--store", store], check=True, capture_output=True)
    out = tmp_path / "fib.elf"
    r = subprocess.run(exe + ["compile", "fib", "-o", str(out), "--store", store],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"wrote {out}: ")
    elf = out.read_bytes()
    note = sites_of(elf)
    assert note is not None and note["entry"] == "fib"
    bad = subprocess.run(exe + ["compile", "text", "-o", str(tmp_path / "t.elf"), "--store", store],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "does not compile to RISC-V" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = subprocess.run(exe + ["compile", "nope", "-o", str(tmp_path / "t.elf"), "--store", store],
                             capture_output=True, text=True)
    assert missing.returncode == 5
    # `stele run --engine riscv`: the value on stdout; a refusal is one typed line, exit 2
    ok = subprocess.run(exe + ["run", "fib", "12", "--engine", "riscv", "--store", store],
                        capture_output=True, text=True)
    lines = ok.stdout.splitlines()
    assert ok.returncode == 0 and lines[0] == "144" and lines[1].startswith("cost=4645 (cycles=")
    refused = subprocess.run(exe + ["run", "text", "3", "--engine", "riscv", "--store", store],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == ("stele run: error: CompileUnsupported: the builtin sha256 "
                                      "does not compile to RISC-V yet (it runs on --engine tel)")


def _examples() -> list[tuple[str, str]]:
    out = []
    for f in sorted((ROOT / "examples").glob("*.tel")):
        src = f.read_text()
        for name in check_module(parse_module(src, f.name), src).defs:
            out.append((f.name, name))
    return out


ARGS: dict[str, list[Any]] = {
    "Int": [0, 1, 7, 15, -3], "Bool": [True, False], "Unit": [()], "String": ["", "ab", "é😀"],
    "Bytes": [b"", b"\x00\xff"], "List[Int]": [(), (1, 2, 3), (-5,)],
    "List[String]": [(), ("a", "bc")], "List[Bytes]": [(), (b"a", b"bc", b"\x00")],
}


def test_every_example_runs_on_both_engines_or_is_refused_by_name() -> None:
    compiled: list[str] = []
    for file, name in _examples():
        src = (ROOT / "examples" / file).read_text()
        checked = check_module(parse_module(src, file), src)
        try:
            c = compile_program(checked, name)
        except CompileUnsupported as exc:
            assert "compile" in str(exc)
            continue
        compiled.append(f"{file}:{name}")
        ref = Program(checked, jit_after=None)
        d = checked.defs[name]
        from stele.tel._printer import print_type
        values = [ARGS[print_type(p.type)] for p in d.params]
        for args in ([v[i % len(v)] for v in values] for i in range(5)):
            for fuel in (10**6, 37):
                lim = Limits(fuel=fuel)
                try:
                    want: Any = ("ok", ref.call(name, args, limits=lim).value)
                except TelError as exc:
                    want = (type(exc).__name__, str(exc), exc.cost)
                try:
                    r = run_compiled(c, args, lim)
                    got: Any = ("ok", r.value)
                except TelError as exc:
                    got = (type(exc).__name__, str(exc), exc.cost)
                assert want == got, (file, name, args, fuel)
    # what compiles today (docs/tel-compiler.md says the same)
    assert compiled == ["fib.tel:fib", "fib.tel:fib_fast", "nested.tel:square", "parity.tel:is_even",
                        "parity.tel:is_odd", "sum_squares.tel:sum_squares", "sum_squares.tel:sum_squares_to"]
