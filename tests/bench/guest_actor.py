"""Per-guest overhead of running guests on the CoprocessorActor (suspend/resume at effects).

Run: ``.venv/bin/python tests/bench/guest_actor.py``.  Prints one JSON object.

For an effect-free guest (sha256 of 4 KiB) and an effect-heavy one (a loop
of ``N`` ``Log.emit`` ecalls), it times, in the same run:

* ``direct``: the engine alone, ``Machine.run`` with the effects answered
  inside the ecall (the inline lower bound: no sandbox, no actors);
* ``sim``: ``Runtime.execute`` under SimEnv (the actor steps the guest inline);
* ``real``: ``Runtime.execute`` under RealEnv (every step in a worker process).

Figures are median wall milliseconds per execution (``time.perf_counter``:
this is a benchmark, not runtime code); per-effect overhead is
``(sim - direct) / N``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

import stele
from stele.actors.coprocessor import SYS_EFFECT, Machine, load_elf
from stele.actors.coprocessor._isa import encode as asm
from stele.actors.sandbox import Policy
from stele.protocol import encode
from stele.sim import SimEnv

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "coprocessor"))
from _elfgen import make_elf  # noqa: E402
SHA = (ROOT / "examples" / "guests" / "bin" / "sha256.elf").read_bytes()
REPEATS = 5
_HI = (SYS_EFFECT + 0x800) & ~0xFFF  # lui part (addi sign-extends its 12 bits)


def effect_loop(n: int) -> bytes:
    """An ELF guest that makes ``n`` ``Log.emit("x")`` effect ecalls, then exits 0."""
    req = encode(["Log", "emit", ["x"]])
    code = [
        asm("addi", 8, 0, imm=n),           # s0 = n
        # loop:
        asm("auipc", 10, imm=0),            # a0 = pc
        asm("addi", 10, 10, imm=0),         # a0 += offset of the request (patched below)
        asm("addi", 11, 0, imm=len(req)),   # a1 = request length
        asm("addi", 12, 2, imm=-64),        # a2 = sp - 64 (reply buffer)
        asm("addi", 13, 0, imm=64),         # a3 = capacity
        asm("lui", 17, imm=_HI),
        asm("addi", 17, 17, imm=SYS_EFFECT - _HI),
        0x00000073,                         # ecall
        asm("addi", 8, 8, imm=-1),
        asm("bne", 0, 8, 0, imm=-36),       # back to loop while s0 != 0
        asm("addi", 10, 0, imm=0),
        asm("addi", 17, 0, imm=93),
        0x00000073,                         # exit(0)
    ]
    offset = len(code) * 4 - 4               # from the auipc (at byte 4) to the request
    code[2] = asm("addi", 10, 10, imm=offset)
    return make_elf(b"".join(w.to_bytes(4, "little") for w in code) + req)


def _direct(image: bytes, data: bytes) -> float:
    prog = load_elf(image)
    t = time.perf_counter()
    res = Machine(prog, input=data, effect_handler=lambda req: None).run(10**9)
    assert res.exit_code == 0
    return time.perf_counter() - t


async def _timed(env: stele.Env, image: bytes, data: bytes, out: list[float],
                 effects: int) -> None:
    async with stele.open_runtime(None, env=env) as rt:
        await rt.store_blob(image, name="g")
        for _ in range(REPEATS + 1):
            t = time.perf_counter()
            r = await rt.execute("g", data, engine="riscv", memo=False,
                                 policy=Policy.allow("log", "Log"))
            out.append(time.perf_counter() - t)
            assert r.exit_code == 0 and r.effects == effects, r
    del out[0]  # warm-up (worker start, compiled blocks)


def _run(kind: str, image: bytes, data: bytes, effects: int) -> float:
    out: list[float] = []
    main: Callable[..., Awaitable[Any]] = _timed
    if kind == "sim":
        env = SimEnv(seed=1)
        env.run(main, env, image, data, out, effects)
    else:
        trio.run(main, stele.RealEnv(), image, data, out, effects)
    return statistics.median(out) * 1000


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    loop = effect_loop(n)
    sha_in = bytes(range(256)) * 16
    report: dict[str, Any] = {"repeats": REPEATS, "effects": n}
    for name, image, data, effects in (("effect_free_sha256_4k", SHA, sha_in, 0),
                                       ("effect_loop", loop, b"", n)):
        direct = statistics.median(_direct(image, data) for _ in range(REPEATS)) * 1000
        sim = _run("sim", image, data, effects)
        real = _run("real", image, data, effects)
        row = {"direct_ms": round(direct, 3), "sim_ms": round(sim, 3),
               "real_ms": round(real, 3), "sim_over_direct": round(sim / direct, 2),
               "real_over_direct": round(real / direct, 2)}
        if effects:
            row["sim_overhead_per_effect_ms"] = round((sim - direct) / effects, 4)
            row["real_overhead_per_effect_ms"] = round((real - direct) / effects, 4)
        report[name] = row
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
