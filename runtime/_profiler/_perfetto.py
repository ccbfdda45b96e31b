"""Chrome trace-event / Perfetto JSON: the execution-context tree, and a guest's calls.

Open the file at https://ui.perfetto.dev (Open trace file; it is read in the
browser) or in ``chrome://tracing``.

:func:`exec_tree_trace` -- one track per top-level execution; on it, nested
``B``/``E`` slices: the execution (``exec TARGET``), its allocator wait
(``alloc.wait``, from the request to the grant), each effect (``effect
Eff.op``, from the request to the reply) and, inside an ``Exec.call`` effect,
the child execution it ran.  Timestamps are the runtime Env's clock in
microseconds (``ts``) from the first event; ``args`` carries the context id,
the target, its engine, the event's detail and, at an execution's end, its
profile total.  A slice still open when its execution ends (an effect that
was denied) is closed there.

:func:`guest_trace` -- one track for a RISC-V guest's exact profile: a slice
per function call (``jal``/``jalr`` through ``ra``) to its return, with the
*cycle* count as the time axis (1 cycle shown as 1 us).
"""

from __future__ import annotations

from typing import Any

from ._guest import GuestProfile
from ._tel import ExecTree

__all__ = ["exec_tree_trace", "guest_trace"]

_PID = 1


def _meta(tid: int, name: str) -> dict[str, Any]:
    return {"ph": "M", "name": "thread_name", "pid": _PID, "tid": tid, "args": {"name": name}}


def exec_tree_trace(tree: ExecTree, *, meta: dict[str, Any],
                    totals: dict[str, int] | None = None) -> dict[str, Any]:
    """The trace document of a recorded execution tree (see the module docstring)."""
    flat: list[tuple[int, int, str, Any]] = []  # (at_ns, seq, context id, event)
    seq = 0
    for cid in tree.order:
        for ev in tree.contexts[cid].events:
            flat.append((ev.at_ns, seq, cid, ev))
            seq += 1
    flat.sort(key=lambda x: (x[0], x[1]))
    t0 = flat[0][0] if flat else 0
    roots: dict[str, int] = {}
    body: list[dict[str, Any]] = [{"ph": "M", "name": "process_name", "pid": _PID,
                                   "args": {"name": "stele executions"}}]
    open_: dict[int, list[tuple[str, str]]] = {}  # tid -> stack of (context id, slice name)

    def root_of(cid: str) -> str:
        rec = tree.contexts[cid]
        while rec.parent is not None and rec.parent in tree.contexts:
            rec = tree.contexts[rec.parent]
        return rec.id

    for at, _seq, cid, ev in flat:
        rec = tree.contexts[cid]
        root = root_of(cid)
        if root not in roots:
            roots[root] = tid = len(roots) + 1
            body.append(_meta(tid, f"execution {tree.contexts[root].target} ({root})"))
        tid = roots[root]
        stack = open_.setdefault(tid, [])
        ts = (at - t0) / 1000
        args = {"context": cid, "target": rec.target, "engine": rec.engine, "detail": ev.detail}

        def begin(name: str) -> None:
            stack.append((cid, name))
            body.append({"ph": "B", "name": name, "cat": ev.kind.split(".")[0], "pid": _PID,
                         "tid": tid, "ts": ts, "args": args})

        def end_to(name: str, extra: dict[str, Any] | None = None) -> None:
            if not any(c == cid and n == name for c, n in stack):
                return
            while stack:
                c, n = stack.pop()
                e: dict[str, Any] = {"ph": "E", "name": n, "pid": _PID, "tid": tid, "ts": ts}
                if c == cid and n == name:
                    if extra:
                        e["args"] = extra
                    body.append(e)
                    return
                body.append(e)

        kind = ev.kind
        if kind == "start":
            begin(f"exec {rec.target}")
        elif kind == "end":
            extra: dict[str, Any] = {"outcome": ev.detail}
            if totals is not None and cid in totals:
                extra["total"] = totals[cid]
            end_to(f"exec {rec.target}", extra)
        elif kind == "alloc.wait":
            begin("alloc.wait")
        elif kind == "alloc.granted":
            end_to("alloc.wait", {"grant": ev.detail})
        elif kind == "effect":
            begin(f"effect {ev.detail}")
        elif kind == "effect.done":
            end_to(f"effect {ev.detail}")
        else:
            body.append({"ph": "i", "s": "t", "name": kind, "pid": _PID, "tid": tid, "ts": ts,
                         "args": args})
    last = (flat[-1][0] - t0) / 1000 if flat else 0
    for tid, stack in open_.items():  # anything never closed ends with the trace
        while stack:
            _c, n = stack.pop()
            body.append({"ph": "E", "name": n, "pid": _PID, "tid": tid, "ts": last})
    return {"traceEvents": body, "displayTimeUnit": "ns", "metadata": meta}


def guest_trace(prof: GuestProfile, *, name: str, meta: dict[str, Any]) -> dict[str, Any]:
    """A guest's call slices on the cycle axis (exact mode; see the module docstring)."""
    body: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "pid": _PID, "args": {"name": "stele guest"}},
        _meta(1, f"guest {name} (time axis: cycles)"),
        {"ph": "B", "name": f"exec {name}", "cat": "exec", "pid": _PID, "tid": 1, "ts": 0,
         "args": {"cycles": prof.total_cycles, "exit_code": prof.exit_code,
                  "mode": prof.mode}}]
    depth = 0
    for cycle, ph, fn in prof.events:
        if ph == "E":
            if depth == 0:
                continue
            depth -= 1
        else:
            depth += 1
        body.append({"ph": ph, "name": fn, "cat": "call", "pid": _PID, "tid": 1, "ts": cycle})
    for _ in range(depth):
        body.append({"ph": "E", "pid": _PID, "tid": 1, "ts": prof.total_cycles})
    body.append({"ph": "E", "name": f"exec {name}", "pid": _PID, "tid": 1,
                 "ts": prof.total_cycles})
    meta = dict(meta, events_dropped=prof.events_dropped)
    return {"traceEvents": body, "displayTimeUnit": "ns", "metadata": meta}
