"""Embedding Stele in a trio program: store code, run it by name, read the result."""

import trio

import stele
from stele.actors.executor import ExecLimits
from stele.actors.sandbox import Policy

SOURCE = """
def triangle(n: Int) -> Int = if n <= 0 then 0 else n + triangle(n - 1)
def noisy(n: Int) -> Int ! {Log} = perform Log.emit("n is " ++ int_to_string(n)); n * 2
"""


async def main() -> None:
    async with stele.open_runtime() as rt:  # in-memory store; pass a path to keep it
        names = await rt.store(SOURCE)
        result = await rt.execute("triangle", [100], limits=ExecLimits(fuel=100_000))
        print("triangle(100) =", result.value, "cost", result.cost)
        again = await rt.execute(str(names["triangle"]), [100])
        print("memo hit:", again.memo_hit, again.value)
        logged = await rt.execute("noisy", [21], policy=Policy.allow("app", "Log"))
        print("noisy(21) =", logged.value, "logs", list(logged.logs))


if __name__ == "__main__":
    trio.run(main)
