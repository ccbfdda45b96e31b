"""Embedding Stele in an asyncio program (Stele uses anyio, so either event loop works)."""

import asyncio

import stele
from stele.actors.sandbox import EffectDenied

SOURCE = """
def square(n: Int) -> Int = n * n
def peek(k: String) -> Bool ! {KV} = match perform KV.get(k) { Some(b) => true, None => false }
"""


async def main() -> None:
    async with stele.open_runtime() as rt:
        await rt.store(SOURCE)
        results = await asyncio.gather(*(rt.execute("square", [n]) for n in range(5)))
        print("squares:", [r.value for r in results])
        try:
            await rt.execute("peek", ["secret"])
        except EffectDenied as exc:
            print("denied:", exc)


if __name__ == "__main__":
    asyncio.run(main())
