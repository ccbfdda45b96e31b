"""Trace files: a run's full event list as Chrome trace-event / Perfetto JSON.

``stele sim --seed N --trace out.json`` writes one; open it in
ui.perfetto.dev or chrome://tracing.  Layout:

- one track (``tid``) per actor or network node, named by a ``thread_name``
  metadata event; events that belong to no actor go on the ``sim`` track;
- every event is an instant (``"ph": "i"``) at its virtual time (``ts`` in
  microseconds, as the format wants; ``args.t_ns`` keeps the exact ns);
- a network message is a flow (``"s"`` at ``net.send`` on the sender's track,
  ``"f"`` at ``net.deliver`` on the receiver's);
- ``args.fields`` holds every field in its canonical form (dataclass messages
  as ``{"type": ..., field: value}``), ``args.seq`` the event's index.

The file is a pure function of the run (no wall-clock stamps), so two runs of
one seed write byte-identical files.  :func:`diff_traces` finds the first
event where two files differ.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable

from ._errors import SimError
from ._trace import TraceEvent

__all__ = ["to_jsonable", "chrome_trace", "write_chrome_trace", "load_events", "diff_traces"]

_PID = 1


def to_jsonable(obj: object) -> object:
    """A JSON form of one trace field, with every canonical field kept."""
    if obj is None or isinstance(obj, (bool, int, str)):
        if isinstance(obj, int) and not isinstance(obj, bool) and type(obj) is not int:
            return int(obj)
        if isinstance(obj, str) and type(obj) is not str:
            return str(obj)
        return obj
    if isinstance(obj, bytes):
        return {"bytes": obj.hex()}
    if isinstance(obj, (tuple, list)):
        return [to_jsonable(x) for x in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, object] = {"type": type(obj).__qualname__}
        for f in dataclasses.fields(obj):
            out[f.name] = to_jsonable(getattr(obj, f.name))
        return out
    if isinstance(obj, enum.Enum):
        return f"{type(obj).__qualname__}.{obj.name}"
    if isinstance(obj, BaseException):
        return {"exception": type(obj).__qualname__,
                "args": [to_jsonable(a) if _plain(a) else type(a).__qualname__
                         for a in obj.args]}
    return {"unencodable": type(obj).__qualname__}


def _plain(obj: object) -> bool:
    return obj is None or type(obj) in (int, str, bytes, bool)


def _track(kind: str, fields: tuple[object, ...], net_dst: dict[object, str]) -> str:
    if kind.startswith("actor.") or kind == "fault.crash":
        return f"actor {fields[0]}" if fields else "sim"
    if kind == "net.send" and len(fields) >= 3:
        net_dst[fields[0]] = str(fields[2])
        return f"node {fields[1]}"
    if kind == "net.deliver" and fields:
        return f"node {net_dst.get(fields[0], '?')}"
    return "sim"


def chrome_trace(events: Iterable[TraceEvent], *, meta: dict[str, object]) -> dict[str, object]:
    """The Chrome trace-event document for ``events`` (see the module doc)."""
    tids: dict[str, int] = {}
    net_dst: dict[object, str] = {}
    body: list[dict[str, object]] = []
    for seq, (t_ns, kind, fields) in enumerate(events):
        track = _track(kind, fields, net_dst)
        tid = tids.setdefault(track, len(tids) + 1)
        ts = t_ns / 1000
        args = {"seq": seq, "t_ns": t_ns, "fields": to_jsonable(fields)}
        body.append({"name": kind, "cat": kind.split(".")[0], "ph": "i", "s": "t",
                     "ts": ts, "pid": _PID, "tid": tid, "args": args})
        if kind in ("net.send", "net.deliver") and fields:
            body.append({"name": "message", "cat": "net", "ph": "s" if kind == "net.send"
                         else "f", "bp": "e", "id": str(fields[0]), "ts": ts,
                         "pid": _PID, "tid": tid})
    names = [{"name": "thread_name", "ph": "M", "pid": _PID, "tid": tid,
              "args": {"name": track}} for track, tid in tids.items()]
    names.append({"name": "process_name", "ph": "M", "pid": _PID, "tid": 0,
                  "args": {"name": "stele sim"}})
    return {"traceEvents": names + body, "displayTimeUnit": "ns", "otherData": meta}


def write_chrome_trace(path: str, events: Iterable[TraceEvent], *, meta: dict[str, object]) -> int:
    """Write the trace file; return the number of events written."""
    doc = chrome_trace(events, meta=meta)
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, separators=(",", ":"), sort_keys=True)
            fh.write("\n")
    except OSError as exc:
        raise SimError(f"--trace {path!r} could not be written: {exc.strerror}") from None
    written: list[dict[str, object]] = doc["traceEvents"]  # type: ignore[assignment]
    return sum(1 for e in written if e.get("ph") == "i")


def load_events(path: str) -> list[tuple[int, str, object, str]]:
    """The events of a trace file as (t_ns, kind, fields, track), in order."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise SimError(f"trace file {path!r} could not be read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise SimError(f"trace file {path!r} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        raise SimError(f"trace file {path!r} has no traceEvents list")
    tracks: dict[object, str] = {}
    out: list[tuple[int, str, object, str]] = []
    for e in doc["traceEvents"]:
        if not isinstance(e, dict):
            raise SimError(f"trace file {path!r} has a non-object event")
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            tracks[e.get("tid")] = str(e.get("args", {}).get("name"))
        elif e.get("ph") == "i":
            args = e.get("args", {})
            if not isinstance(args, dict) or "t_ns" not in args:
                raise SimError(f"trace file {path!r} is not a stele sim trace (no args.t_ns)")
            out.append((int(args["t_ns"]), str(e.get("name")), args.get("fields"),
                        tracks.get(e.get("tid"), "?")))
    return out


def diff_traces(a_path: str, b_path: str) -> list[str]:
    """Lines describing the first divergence of two trace files (empty: same)."""
    a, b = load_events(a_path), load_events(b_path)
    for i, (ea, eb) in enumerate(zip(a, b)):
        if ea != eb:
            lines = [f"first divergence at event {i} (t={ea[0]}ns / t={eb[0]}ns):"]
            for j in range(max(0, i - 3), i):
                lines.append(f"  same  #{j} t={a[j][0]}ns [{a[j][3]}] {a[j][1]} "
                             f"{json.dumps(a[j][2])}")
            lines.append(f"  a     #{i} t={ea[0]}ns [{ea[3]}] {ea[1]} {json.dumps(ea[2])}")
            lines.append(f"  b     #{i} t={eb[0]}ns [{eb[3]}] {eb[1]} {json.dumps(eb[2])}")
            return lines
    if len(a) != len(b):
        shorter, n = ("a", len(a)) if len(a) < len(b) else ("b", len(b))
        longer = b if shorter == "a" else a
        extra = longer[n]
        return [f"first divergence at event {n}: {shorter} ends after {n} events; the other "
                f"continues with t={extra[0]}ns [{extra[3]}] {extra[1]} {json.dumps(extra[2])}"]
    return []
