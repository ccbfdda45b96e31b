"""Shared helpers: run a scenario on a fresh in-memory runtime under SimEnv or RealEnv."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

import stele
from stele.sim import SimEnv

ROOT = Path(__file__).resolve().parents[2]

EFFECTS_TEL = """
effect Exec { call(target: String, arg: Int) -> Int }
def double(x: Int) -> Int = x + x
def use_log(x: Int) -> Int ! {Log} = perform Log.emit("x=" ++ int_to_string(x)); x
def use_clock(x: Int) -> Int ! {Clock} = let t0 = perform Clock.now() in perform Clock.sleep(x); perform Clock.now() - t0
def use_rand(x: Int) -> Int ! {Rand} = perform Rand.int(1, x)
def use_kv(x: Int) -> Int ! {KV} =
  perform KV.put("app/k", int_to_bytes(x));
  match perform KV.get("app/k") { Some(b) => get_or_else(bytes_to_int(b), 0), None => -1 }
def use_exec(x: Int) -> Int ! {Exec} = perform Exec.call("double", x)
def loop(n: Int) -> Int = if n <= 0 then 0 else 1 + loop(n - 1)
def nested(n: Int) -> Int ! {Exec} = perform Exec.call("loop", n) + perform Exec.call("loop", n)
def nap(ms: Int) -> Int ! {Clock} = perform Clock.sleep(ms); ms
def nested_nap(ms: Int) -> Int ! {Exec} = perform Exec.call("nap", ms)
def kv_child(x: Int) -> Int ! {Exec} = perform Exec.call("use_kv", x)
"""

Scenario = Callable[[Any], Awaitable[Any]]


def run(kind: str, scenario: Scenario, *, seed: int = 1, path: str | None = None) -> Any:
    """Run ``scenario(runtime)`` on a fresh runtime (EFFECTS_TEL stored) under ``kind``."""

    async def main(env: stele.Env) -> Any:
        async with stele.open_runtime(path, env=env) as rt:
            await rt.store(EFFECTS_TEL)
            out = await scenario(rt)
            await assert_full_capacity(rt)
            return out

    if kind == "sim":
        env = SimEnv(seed=seed)
        return env.run(main, env)
    return trio.run(main, stele.RealEnv())


async def assert_full_capacity(rt: Any) -> None:
    """Every grant released: the root allocator is back to its full capacity."""
    status = (await rt.stats()).allocator
    assert status.live_grants == 0, status
    assert status.available == status.capacity, status
