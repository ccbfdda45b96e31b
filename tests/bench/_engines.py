"""Engine figures for ``coprocessor.py``: MIPS per engine, witness MIPS, unicorn, compile cost.

The CPU-bound mix is one generated ELF (no syscalls until its final ``ebreak``)
so unicorn runs exactly the same instructions: a sieve over a byte array, an
insertion sort of words, a bitwise CRC-32 and a small bytecode loop (a
dispatch on an opcode table).  Unicorn runs it from the entry to the
``ebreak`` address, in the same process and run, with no hooks (its fastest
mode), best of two.  The native engine is also timed best of two; every rate
is given as wall MIPS and CPU MIPS (``process_time``), the latter less
sensitive to a shared, loaded machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stele.actors.coprocessor import Breakpoint, Machine, encode, load_elf
from stele.actors.coprocessor._native import native_available

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from coprocessor._elfgen import DATA, TEXT, li, make_elf  # noqa: E402

E = encode


def _loop(body: list[int], counter: int, n: int) -> list[int]:
    """``counter = n; do body; counter -= 1 while counter``."""
    return li(counter, n) + body + [E("addi", counter, counter, imm=-1),
                                    E("bne", 0, counter, 0, imm=-4 * (len(body) + 1))]


def mix_program(scale: int) -> bytes:
    """The CPU-bound mix (sieve, sort, CRC, bytecode loop), repeated ``scale`` times."""
    n = 4096
    # sieve: for i in 2..n: if !a[i]: for j = 2i; j < n; j += i: a[j] = 1
    sieve = li(5, DATA) + li(6, 2) + li(7, n)
    inner = [E("add", 9, 5, 8), E("sb", 0, 9, 31), E("add", 8, 8, 6), E("blt", 0, 8, 7, imm=-12)]
    sieve += [E("add", 9, 5, 6), E("lbu", 10, 9, imm=0), E("bne", 0, 10, 0, imm=8 + 4 * len(inner)),
              E("add", 8, 6, 6), E("bge", 0, 8, 7, imm=4 + 4 * len(inner))] + inner
    sieve += [E("addi", 6, 6, imm=1), E("blt", 0, 6, 7, imm=-4 * (len(inner) + 7))]
    sieve = [E("addi", 31, 0, imm=1)] + sieve
    # CRC-32 (bitwise) over the sieve bytes
    crc = li(11, 0xFFFFFFFF) + li(12, 0xEDB88320) + li(5, DATA) + li(7, 1024)
    bit = [E("andi", 14, 11, imm=1), E("srli", 11, 11, imm=1), E("sub", 14, 0, 14),
           E("and", 14, 14, 12), E("xor", 11, 11, 14)]
    crc += [E("lbu", 13, 5, imm=0), E("xor", 11, 11, 13)] + _loop(bit, 15, 8)
    crc += [E("addi", 5, 5, imm=1), E("addi", 7, 7, imm=-1),
            E("bne", 0, 7, 0, imm=-4 * (len(bit) + 2 + 2 + 2 + 2))]
    # insertion sort of 256 pseudo-random words at DATA + 0x2000
    base = DATA + 0x2000
    fill = li(5, base) + li(6, 256) + li(16, 12345)
    fill += [E("mul", 16, 16, 16), E("addi", 16, 16, imm=0x35), E("sw", 0, 5, 16),
             E("addi", 5, 5, imm=4), E("addi", 6, 6, imm=-1), E("bne", 0, 6, 0, imm=-20)]
    sort = li(5, base + 4) + li(7, base + 4 * 256)
    sort += [E("lw", 8, 5, imm=0), E("addi", 9, 5, imm=-4),           # key, j
             E("lw", 10, 9, imm=0), E("bgeu", 0, 8, 10, imm=20),       # while a[j] > key
             E("sw", 0, 9, 10, imm=4), E("addi", 9, 9, imm=-4),
             E("li" if False else "sltu", 18, 9, 17), E("beq", 0, 18, 0, imm=-20),
             E("sw", 0, 9, 8, imm=4), E("addi", 5, 5, imm=4), E("blt", 0, 5, 7, imm=-40)]
    sort = li(17, base) + sort
    # bytecode loop: 512 steps over a 4-op program (add, xor, shift, mul) via a jump table
    code = li(20, 0) + li(21, 7) + li(22, 512)
    code += [E("andi", 23, 20, imm=3), E("slli", 23, 23, imm=3), E("auipc", 24, imm=0),
             E("add", 24, 24, 23), E("jalr", 0, 24, imm=16),
             E("add", 21, 21, 20), E("jal", 0, imm=28), E("xor", 21, 21, 22), E("jal", 0, imm=20),
             E("slli", 21, 21, imm=1), E("jal", 0, imm=12), E("mul", 21, 21, 21), E("jal", 0, imm=4),
             E("addi", 20, 20, imm=1), E("bne", 0, 20, 22, imm=-52)]
    one = sieve + crc + fill + sort + code
    text = _loop(one, 30, scale) + [E("ebreak")]
    return make_elf(text, b"", bss=0x4000)


def _unicorn(elf: bytes, entry: int, end: int, cycles: int) -> dict[str, Any] | None:
    try:
        import unicorn
        from unicorn import riscv_const as rc
    except ImportError:
        return None
    prog = load_elf(elf)
    # the strongest simple measurement: no hooks, run from the entry to the
    # final ebreak's address; the best of two runs (the second reuses nothing:
    # a fresh context, so translation is paid each time, as for the engines).
    best = (float("inf"), float("inf"))
    crc = 0
    for _ in range(2):
        uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
        for seg in prog.segments:
            start = seg.vaddr & ~0xFFF
            size = ((seg.vaddr + seg.memsz + 0xFFF) & ~0xFFF) - start
            uc.mem_map(start, size)
            uc.mem_write(seg.vaddr, seg.data)
        t0, c0 = time.perf_counter(), time.process_time()
        uc.emu_start(entry, end)
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
        crc = uc.reg_read(rc.UC_RISCV_REG_X11) & 0xFFFFFFFF
    dt, cpu = best
    return {"seconds": round(dt, 4), "mips": round(cycles / dt / 1e6, 2),
            "cpu_mips": round(cycles / max(cpu, 1e-9) / 1e6, 2), "x11_crc": crc}


def _time_engine(prog: Any, engine: str, cap: int, witness: bool,
                 repeat: int = 1) -> tuple[int, float, float, Machine]:
    """(cycles, wall seconds, CPU seconds, machine): the best of ``repeat`` runs."""
    best: tuple[int, float, float, Machine] | None = None
    for _ in range(repeat):
        m = Machine(prog)
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            if witness:
                while not m.halted and m.cycle < cap:
                    m.trace_with(engine, min(1 << 16, cap - m.cycle))
            else:
                m.advance_with(engine, cap)
        except Breakpoint:
            pass
        row = (m.cycle, time.perf_counter() - t0, time.process_time() - c0, m)
        if best is None or row[1] < best[1]:
            best = row
    assert best is not None
    return best


def _compile_cost() -> dict[str, Any]:
    """First-use compile seconds in a fresh process: empty cache, then the warm cache."""
    if not native_available():
        return {"available": False}
    code = ("import time; c = time.process_time();"
            "from stele.actors.coprocessor._native import _compiled, compile_seconds, "
            "compile_source; c = time.process_time() - c; c0 = time.process_time(); _compiled();"
            "print(compile_seconds(), time.process_time() - c0, compile_source())")
    out: dict[str, Any] = {"available": True,
                           "note": "first use in a fresh process, after `import stele`: "
                                   "numba import + compile (cold) or the object-code load "
                                   "(cached); wall and CPU seconds"}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, STELE_NATIVE_CACHE=cache)
        for label in ("cold", "cached"):
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, timeout=300, check=True)
            wall, cpu, source = res.stdout.split()
            out[f"{label}_seconds"] = round(float(wall), 3)
            out[f"{label}_cpu_seconds"] = round(float(cpu), 3)
            out[f"{label}_source"] = source
    return out


def bench_engines(quick: bool) -> dict[str, Any]:
    """The engine section of the report (see the module docstring)."""
    elf = mix_program(8 if quick else 24)
    prog = load_elf(elf)
    ref = Machine(prog)
    try:
        ref.advance_with("jit", 1 << 40)
    except Breakpoint:
        pass
    total, end = ref.cycle, ref.pc
    engines = ["interp", "jit"] + (["native"] if native_available() else [])
    if "native" in engines:
        Machine(prog).advance_with("native", 1)        # compile outside the timing
    out: dict[str, Any] = {"mix_cycles": total, "engines": {}}
    for name in engines:
        fast = name == "native"
        cap = min(total, 1_000_000) if name == "interp" else total
        cycles, dt, cpu, m = _time_engine(prog, name, cap, False, 2 if fast else 1)
        wcap = total if fast else min(total, 300_000)
        wcycles, wdt, wcpu, _ = _time_engine(prog, name, wcap, True, 2 if fast else 1)
        out["engines"][name] = {
            "mips": round(cycles / dt / 1e6, 2), "cpu_mips": round(cycles / cpu / 1e6, 2),
            "cycles": cycles, "witness_mips": round(wcycles / wdt / 1e6, 2),
            "witness_cpu_mips": round(wcycles / wcpu / 1e6, 2), "witness_cycles": wcycles,
        }
        if fast:
            out["engines"][name]["returns_to_python"] = dict(m.native_engine().exits)
        if cycles == total:
            assert m.regs == ref.regs, name
    uni = _unicorn(elf, prog.entry, end, total)
    out["unicorn"] = uni
    if uni is not None:
        assert uni["x11_crc"] == ref.regs[11]
        for name, row in out["engines"].items():
            row["vs_unicorn"] = round(row["mips"] / uni["mips"], 3)
            row["cpu_vs_unicorn"] = round(row["cpu_mips"] / uni["cpu_mips"], 3)
    out["compile"] = _compile_cost()
    return out


def bench_guest_engines(elf: bytes, data: bytes, cycles_cap: int) -> dict[str, Any]:
    """MIPS of every engine on one example guest (the interpreter on a prefix)."""
    prog = load_elf(elf)
    out: dict[str, Any] = {}
    for name in ["interp", "jit"] + (["native"] if native_available() else []):
        m = Machine(prog, input=data)
        cap = min(cycles_cap, 1_000_000) if name == "interp" else cycles_cap
        if name == "native":
            Machine(prog, input=data).advance_with("native", 1)
        t0, c0 = time.perf_counter(), time.process_time()
        m.advance_with(name, cap)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        w = Machine(prog, input=data)
        wcap = min(cycles_cap, 300_000) if name != "native" else cycles_cap
        t1, c1 = time.perf_counter(), time.process_time()
        while not w.halted and w.cycle < wcap:
            w.trace_with(name, min(1 << 16, wcap - w.cycle))
        wdt, wcpu = time.perf_counter() - t1, time.process_time() - c1
        out[name] = {"mips": round(m.cycle / dt / 1e6, 2),
                     "cpu_mips": round(m.cycle / max(cpu, 1e-9) / 1e6, 2),
                     "witness_mips": round(w.cycle / wdt / 1e6, 2),
                     "witness_cpu_mips": round(w.cycle / max(wcpu, 1e-9) / 1e6, 2)}
        if name == "native":
            out[name]["returns_to_python"] = dict(m.native_engine().exits)
    return out


__all__ = ["bench_engines", "bench_guest_engines", "mix_program", "TEXT"]
