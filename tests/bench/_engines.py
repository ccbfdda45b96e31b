"""Engine figures for ``coprocessor.py``: MIPS per engine, witness MIPS, unicorn, compile cost.

The CPU-bound mix is one generated ELF (no syscalls until its final ``ebreak``)
so unicorn runs exactly the same instructions: a sieve over a byte array, an
insertion sort of words, a bitwise CRC-32 and a small bytecode loop (a
dispatch on an opcode table).  Unicorn runs it from the entry to the
``ebreak`` address, in the same process and run.
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
    uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
    for seg in prog.segments:
        start = seg.vaddr & ~0xFFF
        size = ((seg.vaddr + seg.memsz + 0xFFF) & ~0xFFF) - start
        uc.mem_map(start, size)
        uc.mem_write(seg.vaddr, seg.data)
    t0 = time.perf_counter()
    uc.emu_start(entry, end)
    dt = time.perf_counter() - t0
    return {"seconds": round(dt, 4), "mips": round(cycles / dt / 1e6, 2),
            "x11_crc": uc.reg_read(rc.UC_RISCV_REG_X11) & 0xFFFFFFFF}


def _time_engine(prog: Any, engine: str, cap: int, witness: bool) -> tuple[int, float, Machine]:
    m = Machine(prog)
    t0 = time.perf_counter()
    try:
        if witness:
            while not m.halted and m.cycle < cap:
                m.trace_with(engine, min(1 << 16, cap - m.cycle))
        else:
            m.advance_with(engine, cap)
    except Breakpoint:
        pass
    return m.cycle, time.perf_counter() - t0, m


def _compile_cost() -> dict[str, Any]:
    """First-use compile seconds in a fresh process: empty cache, then the warm cache."""
    if not native_available():
        return {"available": False}
    code = ("from stele.actors.coprocessor._native import _compiled, compile_seconds;"
            "_compiled(); print(compile_seconds())")
    out: dict[str, Any] = {"available": True}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold_seconds", "cached_seconds"):
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, timeout=300, check=True)
            out[label] = round(float(res.stdout.strip()), 3)
    return out


def bench_engines(quick: bool) -> dict[str, Any]:
    """The engine section of the report (see the module docstring)."""
    elf = mix_program(2 if quick else 12)
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
        cap = min(total, 1_000_000) if name == "interp" else total
        cycles, dt, m = _time_engine(prog, name, cap, False)
        wcap = min(total, 300_000) if name != "native" else total
        wcycles, wdt, _ = _time_engine(prog, name, wcap, True)
        out["engines"][name] = {
            "mips": round(cycles / dt / 1e6, 2), "cycles": cycles,
            "witness_mips": round(wcycles / wdt / 1e6, 2), "witness_cycles": wcycles,
        }
        if cycles == total:
            assert m.regs == ref.regs, name
    uni = _unicorn(elf, prog.entry, end, total)
    out["unicorn"] = uni
    if uni is not None:
        assert uni["x11_crc"] == ref.regs[11]
        for name, row in out["engines"].items():
            row["vs_unicorn"] = round(row["mips"] / uni["mips"], 3)
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
        t0 = time.perf_counter()
        m.advance_with(name, cap)
        dt = time.perf_counter() - t0
        w = Machine(prog, input=data)
        wcap = min(cycles_cap, 300_000) if name != "native" else cycles_cap
        t1 = time.perf_counter()
        while not w.halted and w.cycle < wcap:
            w.trace_with(name, min(1 << 16, wcap - w.cycle))
        wdt = time.perf_counter() - t1
        out[name] = {"mips": round(m.cycle / dt / 1e6, 2),
                     "witness_mips": round(w.cycle / wdt / 1e6, 2)}
    return out


__all__ = ["bench_engines", "bench_guest_engines", "mix_program", "TEXT"]
