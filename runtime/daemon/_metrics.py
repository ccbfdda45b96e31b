"""The daemon's ``/metrics`` endpoint: Prometheus text exposition (format 0.0.4) over plain HTTP.

::

    stele serve --metrics tcp:127.0.0.1:9464
    curl -s http://127.0.0.1:9464/metrics

:func:`render` turns a :class:`Snapshot` (plain numbers the daemon already
keeps) into the exposition text; :func:`serve_metrics` answers ``GET
/metrics`` on a listener, one request per connection, with bounded reads
(a request head over :data:`MAX_HEAD` bytes, or not complete within
``timeout`` seconds of Env time, is dropped).  Anything but ``GET
/metrics`` is ``404``/``405``/``400``; a misbehaving scraper never
reaches the daemon's own protocol or its state.

Written here rather than with ``prometheus-client``: the daemon's figures
are a handful of counters it keeps anyway, the format is a few lines, and
the endpoint then runs on the daemon's own Env (simulated streams
included) instead of a background thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import anyio
import anyio.abc

from .._core._env import Env

__all__ = ["Snapshot", "TenantFigures", "render", "serve_metrics", "MAX_HEAD", "CONTENT_TYPE"]

#: The longest request head read (bytes); a longer one is dropped unanswered.
MAX_HEAD = 8192
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class TenantFigures:
    """One tenant's figures: counters since start, gauges now."""

    requests: int = 0
    executions: int = 0
    running: int = 0
    queued: int = 0
    fuel: int = 0
    connections: int = 0
    slots: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything ``/metrics`` shows, read from the daemon in one go."""

    version: str
    uptime_s: float
    connections: int
    queue_depth: int
    running: int
    requests: dict[str, int]
    tenants: dict[str, TenantFigures]
    slots_capacity: int
    slots_available: int
    conflicts: int = 0


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str,
               samples: Iterable[tuple[tuple[tuple[str, str], ...], float | int]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{_labels(labels)} {value}")


def render(s: Snapshot) -> str:
    """The exposition text of ``s`` (one family per metric, ``stele_daemon_`` names)."""
    w = _Writer()
    w.family("stele_daemon_info", "gauge", "The daemon's version (always 1).",
             [((("version", s.version),), 1)])
    w.family("stele_daemon_uptime_seconds", "gauge", "Seconds since the daemon started.",
             [((), round(s.uptime_s, 6))])
    w.family("stele_daemon_connections", "gauge", "Open client connections.",
             [((), s.connections)])
    w.family("stele_daemon_queue_depth", "gauge", "Jobs waiting for a worker.",
             [((), s.queue_depth)])
    w.family("stele_daemon_running", "gauge", "Executions running or waiting for a slot.",
             [((), s.running)])
    w.family("stele_daemon_requests_total", "counter", "Requests handled, by message type.",
             [((("type", t),), n) for t, n in sorted(s.requests.items())])
    w.family("stele_daemon_job_conflicts_total", "counter",
             "Job runs discarded because a KV key they read changed before they committed.",
             [((), s.conflicts)])
    w.family("stele_daemon_slots", "gauge", "The root allocator's slots.",
             [((("state", "capacity"),), s.slots_capacity),
              ((("state", "available"),), s.slots_available)])
    names = sorted(s.tenants)
    w.family("stele_daemon_executions_total", "counter",
             "Executions (synchronous and jobs) that ended, by tenant and outcome.",
             [((("tenant", n), ("outcome", o)), c) for n in names
              for o, c in sorted(s.tenants[n].outcomes.items())])
    per = [
        ("stele_daemon_tenant_requests_total", "counter", "Requests of the tenant.", "requests"),
        ("stele_daemon_tenant_executions_total", "counter", "Executions the tenant started.",
         "executions"),
        ("stele_daemon_tenant_fuel_total", "counter", "TEL fuel the tenant's executions spent.",
         "fuel"),
        ("stele_daemon_tenant_running", "gauge",
         "The tenant's executions running or waiting under its grant.", "running"),
        ("stele_daemon_tenant_queued", "gauge", "The tenant's jobs queued.", "queued"),
        ("stele_daemon_tenant_connections", "gauge", "The tenant's open connections.",
         "connections"),
        ("stele_daemon_tenant_grant_slots", "gauge",
         "Slots of the tenant's grant of the root allocator (0: no grant now).", "slots"),
    ]
    for name, kind, text, attr in per:
        w.family(name, kind, text,
                 [((("tenant", n),), getattr(s.tenants[n], attr)) for n in names])
    return "\n".join(w.lines) + "\n"


def _response(status: str, body: bytes, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode("ascii") + body


def answer(head: bytes, snapshot: Callable[[], Snapshot]) -> bytes:
    """The whole HTTP response to one request head (``snapshot`` only read for ``/metrics``)."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return _response("400 Bad Request", b"bad request line\n")
    method, target, _version = parts
    path = target.split("?", 1)[0]
    if path != "/metrics":
        return _response("404 Not Found", b"only /metrics is served here\n")
    if method not in ("GET", "HEAD"):
        return _response("405 Method Not Allowed", b"GET /metrics\n")
    body = render(snapshot()).encode("utf-8")
    response = _response("200 OK", body, CONTENT_TYPE)
    return response[: len(response) - len(body)] if method == "HEAD" else response


async def _one(stream: anyio.abc.ByteStream, env: Env, timeout: float,
               snapshot: Callable[[], Snapshot]) -> None:
    head = b""
    try:
        with env.move_on_after(timeout):
            while b"\r\n\r\n" not in head:
                if len(head) > MAX_HEAD:
                    return
                try:
                    chunk = await stream.receive(4096)
                except anyio.EndOfStream:
                    return
                head += chunk
            await stream.send(answer(head, snapshot))
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        return
    finally:
        with anyio.CancelScope(shield=True):
            await stream.aclose()


async def serve_metrics(listener: anyio.abc.Listener[anyio.abc.ByteStream], env: Env,
                        snapshot: Callable[[], Snapshot], *, timeout: float = 10.0) -> None:
    """Answer scrapes on ``listener`` until it is closed or this is cancelled (each
    connection in its own task; the endpoint keeps answering through a graceful drain)."""
    async def handle(stream: anyio.abc.ByteStream) -> None:
        await _one(stream, env, timeout, snapshot)

    try:
        await listener.serve(handle)
    except* (anyio.ClosedResourceError, anyio.BrokenResourceError):
        pass  # the listener was closed: the daemon is shutting down
