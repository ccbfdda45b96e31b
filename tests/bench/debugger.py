"""The time-travel debugger: reverse-step latency against the position in a long run.

Run: .venv/bin/python tests/bench/debugger.py [--quick]  -> one JSON object.

The program folds over ``range(0, n)``; each step calls a function that
performs ``Rand.int`` (five debugger events a step: the lambda's call and
return, ``tick``'s call and return, the effect).  It is recorded once with
its effects performed in memory (the journal a durable execution stores),
then :class:`stele._debugger.TelReplay` is built on that journal (the index
run) and asked for the state one event before position P -- a reverse step
from P -- for P across the run.  Without checkpoints, TEL reverse execution is
replay from the start, so the latency is linear in P; ``us_per_event`` is
that slope.

* ``plain_run_s``: the same run without the debugger's instrumentation and
  with its effects answered by a plain list (the interpreter alone);
* ``index_run_s``: the debugger's first replay (all events, recording the index);
* ``reverse_step_s``: P -> seconds (median of three) for a reverse step at P;
* ``forward_step_s``: the same for one step forwards at P (also one replay);
* ``reverse_step_checkpoints_s``: a reverse step at P with checkpoints every
  ``checkpoint_every`` events (``stele debug``'s default): the nearest
  checkpoint before the target forks a worker that runs on to it, so the
  latency is a fork plus at most ``checkpoint_every`` events, wherever P is;
  ``index_run_checkpoints_s`` is the first replay, which makes the checkpoints.

Timings are wall-clock on a shared machine: noisy; read the ratios.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

from stele._debugger import DebugSession, TelReplay
from stele._debugger._session import Step
from stele.actors.sandbox._handlers import Journal
from stele.tel._cost import Limits
from stele.tel._handlers import MemoryHandler
from stele.tel._interp import Program
from stele.tel._parser import parse_module
from stele.tel._types import check_module

SRC = """
def tick(i: Int) -> Int ! {Rand} = perform Rand.int(0, 9) + i
def run(n: Int) -> Int ! {Rand} = fold(range(0, n), 0, fn (acc: Int, i: Int) => acc + tick(i))
"""
EVENTS_PER_STEP = 5
EVERY = 10_000  # stele debug's default --checkpoint-every
LIMITS = Limits(fuel=10**12, memory=1 << 34)


def _record(module: Any, n: int) -> tuple[list[bytes], list[Any]]:
    inner = MemoryHandler(seed=1)
    entries: list[bytes] = []
    replies: list[Any] = []

    def handler(effect: str, op: str, args: tuple[Any, ...]) -> Any:
        reply = inner(effect, op, args)
        entries.append(Journal.entry(effect, op, args, reply))
        replies.append(reply)
        return reply

    Program(module, jit_after=None).call("run", [n], limits=LIMITS, handler=handler)
    return entries, replies


def _median(f: Any, reps: int = 3) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _timed_move(session: DebugSession, start: int, move: Step, reps: int = 3) -> float:
    """Median seconds of ``move`` made from event ``start`` (placing there is not timed)."""
    times = []
    for _ in range(reps):
        session.state = session.replayer.state_at(start)
        t0 = time.perf_counter()
        session.execute(move)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    quick = "--quick" in sys.argv
    positions = [1_000, 10_000, 100_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
    n = positions[-1] // EVENTS_PER_STEP + 1
    module = check_module(parse_module(SRC, "<bench>"), SRC)
    entries, replies = _record(module, n)

    plain = Program(module, jit_after=None)
    it = iter(range(len(replies)))

    def plain_run() -> None:
        nonlocal it
        it = iter(range(len(replies)))
        plain.call("run", [n], limits=LIMITS, handler=lambda e, o, a: replies[next(it)])

    plain_s = _median(plain_run, 1 if not quick else 3)
    t0 = time.perf_counter()
    replay = TelReplay(module, "run", [n], LIMITS, entries, "bench")
    index_s = time.perf_counter() - t0
    session = DebugSession(replay)
    reverse: dict[str, float] = {}
    forward: dict[str, float] = {}
    for p in positions:
        p = min(p, replay.length - 1)
        reverse[str(p)] = _timed_move(session, p, Step(reverse=True))
        forward[str(p)] = _timed_move(session, p - 1, Step())
        assert session.position == p
    replay.close()
    # the same with checkpoints (forked copies paused every EVERY events)
    t0 = time.perf_counter()
    fast = TelReplay(module, "run", [n], LIMITS, entries, "bench", checkpoint_every=EVERY)
    index_cp_s = time.perf_counter() - t0
    fast_session = DebugSession(fast)
    reverse_cp: dict[str, float] = {}
    for p in positions:
        p = min(p, fast.length - 1)
        reverse_cp[str(p)] = _timed_move(fast_session, p, Step(reverse=True))
        assert fast_session.state == replay.state_at(p - 1)
    checkpoints = len(fast.checkpoints)
    fast.close()
    top = str(positions[-1])
    slope = reverse[top] / int(top)
    print(json.dumps({
        "bench": "debugger", "quick": quick, "events": replay.length,
        "effects": len(entries), "plain_run_s": round(plain_s, 4),
        "index_run_s": round(index_s, 4),
        "instrumented_over_plain": round(index_s / plain_s, 2),
        "reverse_step_s": {k: round(v, 5) for k, v in reverse.items()},
        "forward_step_s": {k: round(v, 5) for k, v in forward.items()},
        "us_per_event": round(slope * 1e6, 3),
        "ratio_100k_10k": round(reverse["100000"] / reverse["10000"], 2),
        "checkpoint_every": EVERY, "checkpoints": checkpoints,
        "index_run_checkpoints_s": round(index_cp_s, 4),
        "reverse_step_checkpoints_s": {k: round(v, 5) for k, v in reverse_cp.items()},
    }, sort_keys=True))


if __name__ == "__main__":
    main()
