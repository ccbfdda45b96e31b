"""Durable executions: replay time as effects grow, and the journaling cost per effect.

Run: .venv/bin/python tests/bench/durable.py [--quick]  -> one JSON object.

* ``replay``: a TEL program performs N ``Rand.int`` reads and one
  ``Log.emit``; the process "crashes" (an injected exception) right after the
  Log line's journal commit, so the store holds a running execution with
  N + 1 journaled effects.  A fresh runtime on the same store then resumes
  it: every effect is answered from the journal.  Resume time for N = 100,
  1,000, 10,000; linear replay means ``ratio_10k_1k`` and ``ratio_1k_100``
  near 10 (a quadratic replay would give ~100).
* ``journal_per_effect_us``: a durable run against the same run without a
  durable id (the strongest simple baseline: the same runtime, no journal),
  per effect, for reads (Rand: rows committed with the next write) and for
  writes (Log: one SQLite commit, WAL + ``synchronous=FULL``, per effect).
* ``reverse_step_10m_guest_s``: the guest debugger's reverse step at cycle
  ~10,000,000 of a ~10.6M-cycle guest, from its nearest co-processor
  checkpoint (target <= 0.5 s), with the replay-from-cycle-0 baseline and a
  worst-case reverse continue beside it (``_guest_debug.py``).  The same
  10M-cycle figure in ``--quick`` (fewer repetitions): recording the guest
  takes well under a second on the native engine.  The profiler's overhead
  is ``tests/bench/profile.py``.

Timings are wall-clock on a shared machine: noisy; read the ratios.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

import stele
from stele.actors.sandbox import Policy
from stele.actors.sandbox import _durable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _guest_debug import reverse_step_figures  # noqa: E402

SRC = """
def reads(n: Int) -> Int ! {Rand, Log} =
  let s = fold(range(0, n), 0, fn (acc: Int, i: Int) => acc + perform Rand.int(0, 9)) in
  perform Log.emit("done");
  s
def writes(n: Int) -> Int ! {Log} =
  fold(range(0, n), 0, fn (acc: Int, i: Int) => (perform Log.emit("x"); acc + 1))
"""
POLICY = Policy.allow("bench", "Rand", "Log")


class _Crash(BaseException):
    pass


def _crashed_store(n: int) -> str:
    store = tempfile.mkdtemp(prefix="stele-durable-bench-")

    def hook(ident: str, seq: int) -> None:
        if seq == n:  # the Log line: the reads before it commit with it
            raise _Crash()

    async def main() -> None:
        async with stele.open_runtime(store) as rt:
            await rt.store(SRC)
            _durable.AFTER_COMMIT = hook
            try:
                await rt.execute("reads", [n], policy=POLICY, durable="bench")
            finally:
                _durable.AFTER_COMMIT = None

    try:
        trio.run(main)
    except BaseException as exc:  # the injected crash, possibly wrapped by task groups
        if not isinstance(exc, (_Crash, BaseExceptionGroup)):
            raise
    return store


def _resume_s(store: str, n: int) -> float:
    async def main() -> float:
        async with stele.open_runtime(store) as rt:
            t = time.perf_counter()
            r = await rt.resume("bench")
            dt = time.perf_counter() - t
            assert r.effects == n + 1
            return dt
    return trio.run(main)


def _run_s(target: str, n: int, durable: bool, reps: int) -> float:
    async def main() -> float:
        best = float("inf")
        async with stele.open_runtime(tempfile.mkdtemp(prefix="stele-durable-bench-")) as rt:
            await rt.store(SRC)
            for i in range(reps):
                t = time.perf_counter()
                r = await rt.execute(target, [n], policy=POLICY, memo=False,
                                     durable=f"run{i}" if durable else None)
                best = min(best, time.perf_counter() - t)
                assert r.effects >= n
        return best
    return trio.run(main)


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = (100, 1_000, 10_000)
    replay: dict[str, Any] = {}
    for n in sizes:
        store = _crashed_store(n)
        replay[str(n)] = round(min(_resume_s(store, n) for _ in range(1)), 4)
    replay["ratio_1k_100"] = round(replay["1000"] / replay["100"], 2)
    replay["ratio_10k_1k"] = round(replay["10000"] / replay["1000"], 2)
    n, reps = (100, 3) if quick else (300, 5)
    per: dict[str, Any] = {}
    for target in ("reads", "writes"):
        plain = _run_s(target, n, False, reps)
        durable = _run_s(target, n, True, reps)
        per[target] = {"plain_s": round(plain, 4), "durable_s": round(durable, 4),
                       "per_effect_us": round((durable - plain) / n * 1e6, 1)}
    print(json.dumps({"bench": "durable", "quick": quick, "replay_resume_s": replay,
                      "journal_per_effect_us": per, "effects_per_run": n,
                      **reverse_step_figures(quick),
                      "note": "wall-clock on a shared 2-core machine: noisy"}, indent=1))


if __name__ == "__main__":
    main()
