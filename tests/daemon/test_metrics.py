"""``--metrics``: Prometheus text exposition at /metrics, scraped from a real daemon in-process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import trio

import stele
from stele.actors.sandbox import EffectDenied
from stele.daemon import ConfigError, DaemonConfig
from stele.daemon._metrics import MAX_HEAD

from ._harness import FIB, add_tenant
from ._inproc import in_process

# One sample line of the text format: name, optional labels, a number.
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?'
                    r' (-?[0-9.e+]+)$')
NOISY = FIB + 'def noisy(n: Int) -> Int ! {Log} = perform Log.emit("hi"); n\n'


async def _http(address: str, request: bytes) -> bytes:
    host, _, port = address[4:].rpartition(":")
    stream = await trio.open_tcp_stream(host, int(port))
    got = bytearray()
    with trio.fail_after(60):
        async with stream:
            try:
                await stream.send_all(request)
                while chunk := await stream.receive_some(65536):
                    got += chunk
            except trio.BrokenResourceError:  # dropped by the server (a reset)
                pass
    return bytes(got)


async def scrape(address: str) -> dict[str, float]:
    """GET /metrics: ``{'name{labels}': value}``, checking every line's syntax."""
    raw = await _http(address, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK"), head
    assert b"text/plain; version=0.0.4" in head
    assert int(re.search(rb"Content-Length: (\d+)", head).group(1)) == len(body)  # type: ignore[union-attr]
    out: dict[str, float] = {}
    types: dict[str, str] = {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge") and name not in types
            types[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        m = SAMPLE.match(line)
        assert m, line
        assert m.group(1) in types, line  # every sample belongs to a declared family
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


async def test_metrics_count_requests_outcomes_queue_and_tenants(tmp_path: Path) -> None:
    alice, bob = add_tenant(tmp_path, "alice"), add_tenant(tmp_path, "bob")
    async with in_process(tmp_path, metrics="tcp:127.0.0.1:0", workers=0) as d:
        address = d.daemon.metrics_address
        assert address is not None and address.startswith("tcp:127.0.0.1:")
        assert f"metrics={address}" in d.log.getvalue()
        before = await scrape(address)
        assert before["stele_daemon_queue_depth"] == 0
        async with stele.connect(d.address, token=alice) as a, \
                stele.connect(d.address, token=bob) as b:
            await a.store(NOISY)
            await b.store(NOISY)
            for n in range(3):
                await a.execute("fib", [10 + n], memo=False)
            with pytest.raises(EffectDenied):
                await a.execute("noisy", [1])
            await b.execute("fib", [5])
            # no workers: submitted jobs stay queued
            for n in range(2):
                await b.submit("fib", [n])
            m = await scrape(address)
            assert m['stele_daemon_executions_total{tenant="alice",outcome="succeeded"}'] == 3
            assert m['stele_daemon_executions_total{tenant="alice",outcome="failed"}'] == 1
            assert m['stele_daemon_executions_total{tenant="bob",outcome="succeeded"}'] == 1
            assert m['stele_daemon_requests_total{type="ExecuteRequest"}'] == 5
            assert m['stele_daemon_requests_total{type="SubmitRequest"}'] == 2
            assert m['stele_daemon_requests_total{type="Hello"}'] == 2
            assert m["stele_daemon_queue_depth"] == 2
            assert m['stele_daemon_tenant_queued{tenant="bob"}'] == 2
            assert m['stele_daemon_tenant_queued{tenant="alice"}'] == 0
            assert m['stele_daemon_tenant_executions_total{tenant="alice"}'] == 4
            assert m['stele_daemon_tenant_fuel_total{tenant="alice"}'] > m[
                'stele_daemon_tenant_fuel_total{tenant="bob"}'] > 0
            assert m['stele_daemon_tenant_connections{tenant="alice"}'] == 1
            assert m['stele_daemon_tenant_grant_slots{tenant="alice"}'] == 16
            assert m['stele_daemon_slots{state="available"}'] == 64 - 32
            assert m["stele_daemon_connections"] == 2
            assert m["stele_daemon_job_conflicts_total"] == 0
            assert m["stele_daemon_uptime_seconds"] >= before["stele_daemon_uptime_seconds"]


async def test_metrics_endpoint_refuses_everything_else_and_keeps_serving(tmp_path: Path) -> None:
    add_tenant(tmp_path, "alice")
    async with in_process(tmp_path, metrics="tcp:127.0.0.1:0") as d:
        address = d.daemon.metrics_address
        assert address is not None
        for request, status in [(b"GET / HTTP/1.1\r\n\r\n", b"404"),
                                (b"POST /metrics HTTP/1.1\r\n\r\n", b"405"),
                                (b"\x00\xff garbage\r\n\r\n", b"400")]:
            assert (await _http(address, request)).startswith(b"HTTP/1.1 " + status)
        # an endless head is dropped unanswered, not buffered
        assert await _http(address, b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * MAX_HEAD) == b""
        head = await _http(address, b"HEAD /metrics HTTP/1.1\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
        assert "stele_daemon_info" in str(await scrape(address))


def test_metrics_address_is_checked() -> None:
    with pytest.raises(ConfigError, match="tcp:HOST:PORT"):
        DaemonConfig(metrics="unix:/tmp/m.sock")
    with pytest.raises(ConfigError, match="metrics"):
        DaemonConfig(metrics="nonsense")
