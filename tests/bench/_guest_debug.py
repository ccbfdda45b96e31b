"""The guest debugger's reverse-step latency at cycle ~10,000,000 (``durable.py`` reports it).

The guest is the example merge sort at its benchmark size (40,000 words,
~10.6M cycles).  The debugger records it once on the fastest engine with a
checkpoint every 100,000 cycles, thinned to at most 64 (so ~200,000 apart
at this length).  A reverse step from cycle 10,000,000 + k restores the
nearest checkpoint and runs the rest on that engine.

Without numba the debugger falls back to the Python block JIT: its figures
are reported beside.  The baseline is the same debugger with ``checkpoint_every=0``: every move
replays from cycle 0 (what the issue forbids), on the same fast engine.
``rcontinue`` to a breakpoint whose previous hit is near cycle 0 is the
worst-case search: it reads the witness rows of the whole run, backwards.
Each figure is the median (and the worst) of a few reverse steps to
positions spread over one checkpoint spacing below cycle 10,000,000, the
first one cycle short of a checkpoint (the machine is shared and noisy).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from stele._debugger import GuestReplay, GuestSession
from stele.actors.coprocessor import BENCH_SIZES, guest_elf, guest_input
from stele.actors.coprocessor._native import compile_seconds

__all__ = ["reverse_step_figures"]

TARGET = 10_000_000


def _record(every: int, engine: str | None = None) -> tuple[GuestReplay, float]:
    image = guest_elf("sort").read_bytes()
    data = guest_input("sort", BENCH_SIZES["sort"])
    t = time.perf_counter()
    replay = GuestReplay(image, data, max_cycles=50_000_000, checkpoint_every=every,
                         engine=engine, label="sort")
    return replay, time.perf_counter() - t


def _rsteps(session: GuestSession, reps: int) -> tuple[float, float]:
    """Median and worst reverse step to ``reps`` positions spread over one checkpoint spacing.

    The first is cycle TARGET - 1, one cycle short of a checkpoint: the
    most cycles a step can have to re-run.
    """
    spacing = max(session.replay.every, 1)
    times = []
    for k in range(reps):
        at = TARGET - 1 - k * (spacing // reps)
        session.handle(f"goto {at + 1}")
        t = time.perf_counter()
        session.handle("rstep")
        times.append(time.perf_counter() - t)
        assert session.position == at
    return statistics.median(times), max(times)


def reverse_step_figures(quick: bool) -> dict[str, Any]:
    """Reverse step (and a worst-case reverse continue) at cycle ~10M, with and without checkpoints."""
    reps = 5 if quick else 15
    replay, record_s = _record(100_000)
    assert replay.last > TARGET, replay.last
    session = GuestSession(replay)
    step, worst = _rsteps(session, reps)
    session.handle("break heap_alloc")
    session.handle(f"goto {TARGET}")
    t = time.perf_counter()
    session.handle("rcontinue")
    rcontinue = time.perf_counter() - t
    hit = session.position
    base, base_record_s = _record(0)
    from_start, _ = _rsteps(GuestSession(base), 3)
    jit, jit_record_s = _record(100_000, "jit")  # the engine without numba (no ``fast`` extra)
    jit_step, jit_worst = _rsteps(GuestSession(jit), 3)
    return {
        "reverse_step_10m_guest_s": round(step, 4),
        "reverse_step_10m_guest": {
            "guest": f"sort {BENCH_SIZES['sort']} ({replay.last} cycles)",
            "at_cycle": TARGET, "target_s": 0.5, "median_of": reps,
            "with_checkpoints_s": round(step, 4), "worst_s": round(worst, 4),
            "from_cycle_0_s": round(from_start, 4),
            "ratio_from_0": round(from_start / step, 1),
            "checkpoints": len(replay.checkpoints), "checkpoint_spacing": replay.every,
            "record_s": round(record_s, 3), "record_without_checkpoints_s": round(base_record_s, 3),
            "engine": replay.engine, "native_first_use_s": compile_seconds(),
            "jit_engine": {"with_checkpoints_s": round(jit_step, 4),
                           "worst_s": round(jit_worst, 4),
                           "record_s": round(jit_record_s, 3)},
            "rcontinue_scan_s": round(rcontinue, 3), "rcontinue_rows": TARGET - hit,
        },
    }
