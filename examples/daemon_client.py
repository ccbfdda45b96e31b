"""A client of `stele serve`: the embedded API's calls, made against a daemon.

    stele tenant add app --root .stele          # prints the token once
    stele serve --root .stele &                 # listens on unix:.stele/stele.sock
    STELE_TOKEN=stl_... python examples/daemon_client.py [ADDRESS]

The same code runs embedded by replacing `stele.connect(...)` with
`stele.open_runtime(...)` (minus the job calls, which only a daemon has).
"""

from __future__ import annotations

import os
import sys

import anyio

import stele
from stele.actors.executor import ExecLimits
from stele.actors.sandbox import EffectDenied, Policy

SOURCE = """
def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)

def visit(who: String) -> Int ! {KV} =
  let n = match perform KV.get("visits/" ++ who) {
    Some(b) => get_or_else(bytes_to_int(b), 0),
    None => 0
  } in
  perform KV.put("visits/" ++ who, int_to_bytes(n + 1));
  n + 1
"""


async def main(address: str) -> None:
    async with stele.connect(address, token=os.environ.get("STELE_TOKEN")) as rt:
        print("connected as tenant", rt.tenant)
        names = await rt.store(SOURCE)
        print({name: digest.short() for name, digest in names.items()})
        r = await rt.execute("fib", [20], limits=ExecLimits(fuel=10**6))
        print("fib(20) =", r.value, "cost", r.cost, "memo_hit", r.memo_hit)
        try:
            await rt.execute("visit", ["ada"])          # KV is not granted
        except EffectDenied as exc:                      # the same class as embedded
            print("denied:", exc)
        # A durable job: acknowledged once it is in the store; a retry with the
        # same idempotency key returns the same job, even across daemon restarts.
        kv = Policy.allow("visits", "KV")
        job = await rt.submit("visit", ["ada"], policy=kv, idempotency_key="visit-ada-1")
        print(job, "->", (await rt.wait(job)).value, (await rt.status(job)).state)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else
              os.environ.get("STELE_CONNECT", "unix:.stele/stele.sock"))
