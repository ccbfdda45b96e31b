"""The daemon's commands as a user runs them: tenant, serve (config + flags), status, run/store --connect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import stele
from stele.daemon import ConfigError, TenantStore, load_config

from ._harness import Serve

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def stele_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "stele.cli", *args], capture_output=True,
                          text=True, env=full, timeout=600)


def test_tenant_add_prints_the_token_once_and_stores_a_hash(root: Path) -> None:
    out = stele_cli("tenant", "add", "dora", "--root", str(root), "--quota", "slots=2,queue=5")
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert token.startswith("stl_") and len(token) == 68
    assert "shown only this once" in out.stderr
    raw = (root / "store.sqlite").read_bytes()
    assert token.encode() not in raw and token[4:].encode() not in raw
    store = TenantStore(str(root / "store.sqlite"))
    try:
        t = store.authenticate(token)
        assert t is not None and t.name == "dora" and (t.quota.slots, t.quota.queue) == (2, 5)
        assert store.authenticate(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    finally:
        store.close()
    again = stele_cli("tenant", "add", "dora", "--root", str(root))
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = stele_cli("tenant", "add", "Dora!", "--root", str(root))
    assert bad.returncode == 2 and "must match" in bad.stderr
    quota = stele_cli("tenant", "add", "eve", "--root", str(root), "--quota", "speed=3")
    assert quota.returncode == 2 and "--quota" in quota.stderr
    listed = stele_cli("tenant", "list", "--root", str(root), "--json")
    assert [t["name"] for t in json.loads(listed.stdout)["tenants"]] == ["dora"]


def test_config_file_and_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "stele.toml"
    cfg.write_text('root = "data"\nlisten = ["tcp:127.0.0.1:0"]\nworkers = 2\n'
                   '[limits]\nmax_inflight = 8\n[tenant_defaults]\nqueue = 3\n')
    c = load_config(str(cfg))
    assert (c.root, c.listen, c.workers, c.max_inflight, c.tenant_queue) == (
        str(tmp_path / "data"), ("tcp:127.0.0.1:0",), 2, 8, 3)
    assert c.with_flags(workers=5, max_inflight=None).workers == 5
    for text, what in [("wrkers = 2\n", "unknown key 'wrkers'"),
                       ("[limits]\nmax_inflight = 'x'\n", "limits.max_inflight"),
                       ("listen = ['udp:1']\n", "unix:PATH or tcp:HOST:PORT"),
                       ("[oops]\n", "unknown section"), ("= 1", "not valid TOML")]:
        cfg.write_text(text)
        with pytest.raises(ConfigError, match=what):
            load_config(str(cfg))
    out = stele_cli("serve", "--config", str(cfg))
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    out = stele_cli("serve", "--root", str(tmp_path), "--listen", "tcp:nohost")
    assert out.returncode == 2 and "tcp:HOST:PORT" in out.stderr


async def test_status_run_store_connect_and_sigint(root: Path) -> None:
    admin = stele_cli("tenant", "add", "ops", "--admin", "--root", str(root)).stdout.strip()
    user = stele_cli("tenant", "add", "app", "--root", str(root)).stdout.strip()
    cfg = root / "d.toml"
    cfg.write_text(f'listen = ["unix:{root}/cfg.sock"]\njson_logs = false\n')
    serve = Serve(root, "--config", str(cfg), "--json-logs", listen=(f"unix:{root}/s.sock",))
    # the flags override the file: the socket and JSON logs come from the command line
    async def start_json() -> None:
        import re
        import trio
        serve.root.mkdir(parents=True, exist_ok=True)
        log = open(serve.log, "ab")
        serve._log = log
        serve.proc = subprocess.Popen(serve.command(), stdout=subprocess.DEVNULL, stderr=log)
        with trio.fail_after(300):
            while not re.search(r'"event": "listening"', serve.text()):
                assert serve.proc.poll() is None, serve.text()
                await trio.sleep(0.02)
        first = json.loads(serve.text().splitlines()[0])
        assert first["address"] == [f"unix:{root}/s.sock"]
        assert first["version"] == stele.__version__ and first["store"].endswith("store.sqlite")
        serve.addresses = first["address"]

    await start_json()
    try:
        env = {"STELE_CONNECT": serve.address(), "STELE_TOKEN": user}
        stored = stele_cli("store", str(EXAMPLES / "fib.tel"), env=env)
        assert stored.returncode == 0 and "fib -> b2:" in stored.stdout, stored.stderr
        ran = stele_cli("run", "fib", "15", "--json", env=env)
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout)["value"] == 610
        missing = stele_cli("run", "nope", env=env)
        assert missing.returncode == 5 and missing.stderr.count("\n") == 1
        denied = stele_cli("run", "fib", "3", env={**env, "STELE_TOKEN": "stl_wrong"})
        assert denied.returncode == 4 and "AuthError" in denied.stderr
        status = stele_cli("status", "--json", env={**env, "STELE_TOKEN": admin})
        assert status.returncode == 0, status.stderr
        record = json.loads(status.stdout)
        for key in ("uptime_s", "connections", "queue_depth", "running", "queued", "succeeded",
                    "failed", "tenants", "store_bytes"):
            assert key in record
        assert record["tenants"]["app"]["executions"] >= 1 and record["store_bytes"] > 0
        text = stele_cli("status", env={**env, "STELE_TOKEN": admin})
        assert "uptime" in text.stdout and "tenant app:" in text.stdout
    finally:
        serve.signal(signal.SIGINT)
        code = await serve.wait()
    assert code == 0
    assert '"event": "stopped"' in serve.text()
    gone = stele_cli("status", "--connect", f"unix:{root}/s.sock", env={"STELE_TOKEN": admin})
    assert gone.returncode == 1 and "cannot connect" in gone.stderr
