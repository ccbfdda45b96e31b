"""``stele serve --trace FILE``: the daemon's execution-context tree, written at shutdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import stele
from stele.actors.sandbox import Policy
from stele.daemon import ConfigError, DaemonConfig, load_config

from ._harness import FIB, add_tenant
from ._inproc import in_process

SOURCE = FIB + """effect Exec { call(target: String, arg: Int) -> Int }
def both(n: Int) -> Int ! {Exec} = perform Exec.call("fib", n) + perform Exec.call("fib", n + 1)
"""


async def test_serve_trace_records_every_tenants_executions_and_nesting(tmp_path: Path) -> None:
    out = tmp_path / "trace.json"
    alice, bob = add_tenant(tmp_path, "alice"), add_tenant(tmp_path, "bob")
    async with in_process(tmp_path, trace=str(out)) as d:
        async with stele.connect(d.address, token=alice) as a, \
                stele.connect(d.address, token=bob) as b:
            await a.store(SOURCE)
            await b.store(SOURCE)
            for n in range(3):
                await a.execute("fib", [10 + n], memo=False)
            await b.execute("both", [6], memo=False, policy=Policy.allow("t", "Exec"))
        assert not out.exists()  # written at shutdown
    log = d.log.getvalue()
    assert "trace_written" in log and f"path={out}" in log and "executions=6" in log
    doc = json.loads(out.read_text())
    starts = [e for e in doc["traceEvents"] if e["ph"] == "B" and e["name"].startswith("exec ")]
    # the daemon runs digests it resolved in the tenant's namespace; Exec.call children by name
    assert len(starts) == 6
    assert sum(e["name"] == "exec tenant.bob.fib" for e in starts) == 2
    assert all(e["name"].startswith("exec b2:") for e in starts
               if e["name"] != "exec tenant.bob.fib")
    tracks = {e["tid"] for e in starts}
    assert len(tracks) == 4  # three fib runs and one tree: both + its two children
    assert doc["metadata"]["executions"] == 6


def test_a_trace_file_in_a_missing_folder_is_refused_up_front(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="trace = .*does not exist"):
        DaemonConfig(root=str(tmp_path), trace=str(tmp_path / "nope" / "t.json"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'root = "{tmp_path}"\ntrace = "{tmp_path / "t.json"}"\n')
    assert load_config(str(cfg)).trace == str(tmp_path / "t.json")


async def test_an_unwritable_trace_is_logged_and_the_daemon_still_stops_cleanly(
        tmp_path: Path) -> None:
    out = tmp_path / "sub" / "trace.json"
    out.parent.mkdir()
    add_tenant(tmp_path, "alice")
    async with in_process(tmp_path, trace=str(out)) as d:
        out.parent.rmdir()  # the folder is gone by shutdown
    assert "trace_error" in d.log.getvalue()
    assert d.code == [0]
