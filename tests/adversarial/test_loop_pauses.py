"""Heavy load: an execution leaves no reference cycles behind (issue 10, item 8's loop lag).

Under ``tests/bench/load.py`` the longest stall of the event loop was a full
(generation 2) garbage collection: ~100 ms of CPU on the loop, freeing ~30,000
objects that executions had left in reference cycles -- every execution's
session (its ``exec_call`` closure held its children, which held the
session), every typed error (the ``RemoteError`` box and its cause pointed at
each other, the asker's frame held the box, an error raised in a worker
thread held the thread machinery's frames).  Only a full collection frees a
cycle, and its pause grows with the garbage, so the bound asserted here is
the cause: what each kind of execution, right or failing with its typed
error, leaves for the cycle collector is nothing.
"""

from __future__ import annotations

import gc
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import anyio

import stele

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import _loadmix  # noqa: E402

#: the mix's kinds that need neither real time nor a worker process
KINDS = ("fib", "fib_memo", "div_zero", "low_fuel", "denied", "kv", "log", "nested",
         "bad_argument", "unknown")


def test_executions_right_or_failing_leave_no_reference_cycles() -> None:
    checks = {kind: check for kind, _, check in _loadmix.MIX if kind in KINDS}
    out: dict[str, Any] = {}

    async def burst(rt: Any) -> list[str]:
        wrong: list[str] = []

        async def one(i: int, kind: str) -> None:
            problem = await checks[kind](rt, i)
            if problem is not None:
                wrong.append(f"{kind}#{i}: {problem}")

        async with anyio.create_task_group() as tg:
            for i in range(1, 4):
                for kind in checks:
                    tg.start_soon(one, i, kind)
        return wrong

    async def main() -> None:
        async with stele.open_runtime(None) as rt:
            await _loadmix.setup(rt)
            for kind, check in checks.items():  # warm: programs loaded, caches filled
                assert await check(rt, 0) is None, kind
            gc.collect()
            saved = gc.get_debug()
            gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector frees is kept, to be counted
            try:
                out["wrong"] = await burst(rt)
                gc.collect()
                out["garbage"] = Counter(f"{type(o).__module__}.{type(o).__qualname__}"
                                         for o in gc.garbage)
            finally:
                gc.set_debug(saved)
                gc.garbage.clear()

    anyio.run(main, backend="trio")
    assert out["wrong"] == []
    garbage: Counter[str] = out["garbage"]
    ours = {t: n for t, n in garbage.items() if t.startswith("stele.")}
    frames = garbage["builtins.frame"] + garbage["builtins.traceback"]
    assert ours == {} and frames == 0, garbage.most_common(12)
