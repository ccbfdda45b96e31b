"""The mixed load of issue 10 item 8: requests of each kind, each with its right outcome.

Shared by ``tests/bench/load.py`` (RealEnv, timed) and
``tests/adversarial/test_load.py`` (SimEnv, deterministic).  ``check(rt, i)``
runs one execution and returns None when the outcome is right, else what
was wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

from stele.actors.executor import ExecLimits, ExecutionTimeout
from stele.actors.sandbox import EffectDenied, Policy
from stele.store import UnknownTarget
from stele.tel import CostLimitExceeded, DivisionByZero, TelError

ROOT = Path(__file__).resolve().parents[2]
SOURCE = """
effect Exec { call(target: String, arg: Int) -> Int }
def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)
def div(a: Int, b: Int) -> Int = a / b
def total(n: Int) -> Int = fold(range(0, n), 0, fn (a: Int, x: Int) => a + x)
def hello(n: Int) -> Int ! {Log} = perform Log.emit("hello"); n
def nap(ms: Int) -> Int ! {Clock} = perform Clock.sleep(ms); ms
def kv(n: Int) -> Int ! {KV} = let k = "k" ++ int_to_string(n) in perform KV.put(k, string_to_bytes(int_to_string(n))); match perform KV.get(k) { Some(b) => size(b), None => 0 - 1 }
def twice(n: Int) -> Int ! {Exec} = perform Exec.call("fib", n) + perform Exec.call("fib", n)
"""
FIB = {10: 55, 12: 144, 15: 610}
ALL = Policy.allow("load", "Log", "Clock", "KV", "Exec")
Check = Callable[[Any, int], Awaitable["str | None"]]


async def _err(call: Awaitable[Any], kind: type[BaseException]) -> str | None:
    try:
        r = await call
    except kind:
        return None
    except Exception as exc:
        return f"expected {kind.__name__}, got {type(exc).__name__}: {exc}"
    return f"expected {kind.__name__}, got the value {r.value!r}"


async def fib_plain(rt: Any, i: int) -> str | None:
    n = (10, 12, 15)[i % 3]
    r = await rt.execute("fib", [n], memo=False)
    return None if r.value == FIB[n] else f"fib({n}) = {r.value}"


async def fib_memo(rt: Any, i: int) -> str | None:
    r = await rt.execute("fib", [15])
    return None if r.value == 610 else f"memo fib(15) = {r.value}"


async def div_zero(rt: Any, i: int) -> str | None:
    return await _err(rt.execute("div", [i, 0], memo=False), DivisionByZero)


async def low_fuel(rt: Any, i: int) -> str | None:
    return await _err(rt.execute("fib", [15], limits=ExecLimits(fuel=100), memo=False),
                      CostLimitExceeded)


async def denied(rt: Any, i: int) -> str | None:
    return await _err(rt.execute("hello", [i], memo=False), EffectDenied)


async def kv(rt: Any, i: int) -> str | None:
    """KV.put then KV.get of a key named by ``n``: executions of one tenant run at once, and
    every writer of a key writes the same value, so the right answer holds in any order."""
    n = 10 ** (i % 5)
    r = await rt.execute("kv", [n], policy=ALL, tenant=f"t{i % 7}", memo=False)
    return None if r.value == len(str(n)) else f"kv({n}) = {r.value}"


async def log(rt: Any, i: int) -> str | None:
    r = await rt.execute("hello", [i], policy=ALL, memo=False)
    return None if (r.value, r.logs) == (i, ("hello",)) else f"hello: {r.value} {r.logs}"


async def nested(rt: Any, i: int) -> str | None:
    r = await rt.execute("twice", [12], policy=ALL, memo=False)
    return None if (r.value, r.children) == (288, 2) else f"twice(12) = {r.value}"


async def sleep_timeout(rt: Any, i: int) -> str | None:
    return await _err(rt.execute("nap", [10_000], policy=ALL, limits=ExecLimits(timeout=0.05),
                                 memo=False), ExecutionTimeout)


async def cpu_timeout(rt: Any, i: int) -> str | None:
    """A CPU-bound run (a 3M-step fold) stopped by its timeout.

    The timeout is 0.05 s: a warm worker on a quiet machine folds 3M steps in
    about 0.2 s, so a longer timeout would let the value come back first.
    """
    limits = ExecLimits(fuel=10**9, memory=1 << 34, timeout=0.05)
    return await _err(rt.execute("total", [3_000_000], limits=limits, memo=False),
                      ExecutionTimeout)


async def cpu_heavy(rt: Any, i: int) -> str | None:
    """A CPU-bound run (about 1M fuel) that finishes."""
    r = await rt.execute("total", [200_000], limits=ExecLimits(memory=1 << 30), memo=False)
    return None if r.value == 199_999 * 100_000 else f"total = {r.value}"


async def cancelled(rt: Any, i: int) -> str | None:
    with anyio.move_on_after(0.02) as scope:
        await rt.execute("nap", [10_000], policy=ALL, memo=False)
    return None if scope.cancelled_caught else "the execution was not cancelled"


async def bad_argument(rt: Any, i: int) -> str | None:
    return await _err(rt.execute("fib", ["x"], memo=False), TelError)


async def unknown(rt: Any, i: int) -> str | None:
    return await _err(rt.execute(f"no.such.target{i}", [1]), UnknownTarget)


async def guest(rt: Any, i: int) -> str | None:
    r = await rt.execute("load.sha", b"abc%d" % i, engine="riscv", memo=False)
    return None if r.exit_code == 0 and r.stdout else f"guest exit {r.exit_code}"


#: (kind, weight per 1,000, check)
MIX: list[tuple[str, int, Check]] = [
    ("fib", 200, fib_plain), ("fib_memo", 150, fib_memo), ("div_zero", 60, div_zero),
    ("low_fuel", 60, low_fuel), ("denied", 60, denied), ("kv", 100, kv), ("log", 80, log),
    ("nested", 60, nested), ("sleep_timeout", 40, sleep_timeout), ("cpu_timeout", 3, cpu_timeout),
    ("cpu_heavy", 12, cpu_heavy), ("cancelled", 40, cancelled), ("bad_argument", 50, bad_argument),
    ("unknown", 75, unknown), ("guest", 10, guest),
]


def schedule(n: int) -> list[tuple[str, Check]]:
    """``n`` requests in the mix's proportions, interleaved (deterministic)."""
    total = sum(w for _, w, _ in MIX)
    credit = {k: 0.0 for k, _, _ in MIX}
    checks = {k: c for k, _, c in MIX}
    out: list[tuple[str, Check]] = []
    for _ in range(n):
        for k, w, _ in MIX:
            credit[k] += w / total
        k = max(credit, key=lambda name: credit[name])
        credit[k] -= 1
        out.append((k, checks[k]))
    return out


async def setup(rt: Any) -> None:
    """Store the mix's programs and its guest."""
    await rt.store(SOURCE)
    sha = (ROOT / "examples" / "guests" / "bin" / "sha256.elf").read_bytes()
    await rt.store_blob(sha, name="load.sha")


async def quiesce(rt: Any, sleep: Callable[[float], Awaitable[None]]) -> tuple[int, int]:
    """Wait until nothing runs; then (live grants, waiting requests) at the allocator."""
    for _ in range(4000):
        if (await rt.stats()).executor.running == 0:
            break
        await sleep(0.005)
    status = (await rt.stats()).allocator
    return status.live_grants, status.waiting
