"""The public boundary of ``open_runtime``: one error comes out as itself, on trio and asyncio.

Task groups wrap what leaves them in an ``ExceptionGroup``; an embedded
library must not make its users write ``except*``.  A lone error (Stele's
own or the caller's) is re-raised as itself; two at once stay a group.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import stele
from stele.actors.sandbox import EffectDenied

SOURCE = """
def peek(k: String) -> Bool ! {KV} = match perform KV.get(k) { Some(b) => true, None => false }
"""

BACKENDS = ["trio", "asyncio"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_effect_denied_is_caught_outside_the_block(backend: str, tmp_path: Path) -> None:
    async def main() -> str:
        try:
            async with stele.open_runtime(str(tmp_path / "s.sqlite")) as rt:
                await rt.store(SOURCE)
                await rt.execute("peek", ["secret"])  # not granted: raises inside the block
        except EffectDenied as exc:  # a plain except, outside the block, catches it
            return f"caught {type(exc).__name__}"
        return "not raised"

    assert anyio.run(main, backend=backend) == "caught EffectDenied"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_callers_own_error_comes_out_as_itself(backend: str, tmp_path: Path) -> None:
    async def main() -> None:
        async with stele.open_runtime(str(tmp_path / "s.sqlite")) as rt:
            await rt.store(SOURCE)
            raise KeyError("mine")

    with pytest.raises(KeyError, match="mine") as info:
        anyio.run(main, backend=backend)
    assert not isinstance(info.value, BaseExceptionGroup)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_store_mistake_is_typed_and_outside_any_group(backend: str, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    async def main() -> None:
        async with stele.open_runtime(str(blocker / "s.sqlite")):
            pass

    from stele.store import StoreError

    with pytest.raises(StoreError, match="cannot open the store"):
        anyio.run(main, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_errors_at_once_stay_a_group(backend: str, tmp_path: Path) -> None:
    """Unwrapping never hides an error: two concurrent failures keep the group."""
    async def fail(message: str) -> None:
        raise ValueError(message)

    async def main() -> None:
        async with stele.open_runtime(str(tmp_path / "s.sqlite")):
            async with anyio.create_task_group() as tg:
                tg.start_soon(fail, "a")
                tg.start_soon(fail, "b")

    with pytest.raises(BaseExceptionGroup) as info:
        anyio.run(main, backend=backend)
    leaves = []
    stack: list[BaseException] = [info.value]
    while stack:
        e = stack.pop()
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
        else:
            leaves.append(str(e))
    assert sorted(leaves) == ["a", "b"]
