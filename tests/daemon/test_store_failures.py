"""A store that cannot be opened is a typed error and one line, never a raw sqlite3 error:
``stele serve`` when the daemon's own tables fail, ``stele tenant`` on a failing store."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from stele.daemon import DaemonConfig, serve
from stele.daemon import _server
from stele.daemon._log import EventLog
from stele.store import StoreUnavailable

from ._inproc import cli


def _failing(*_args: Any, **_kwargs: Any) -> Any:
    raise sqlite3.OperationalError("disk I/O error")


async def test_serve_reports_failing_daemon_tables_typed_and_closes_what_it_opened(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    closed: list[str] = []
    real = _server.TenantStore

    class Tracked(real):  # type: ignore[misc, valid-type]
        def close(self) -> None:
            closed.append("tenants")
            super().close()

    monkeypatch.setattr(_server, "TenantStore", Tracked)
    monkeypatch.setattr(_server, "JobStore", _failing)
    cfg = DaemonConfig(root=str(tmp_path), listen=(f"unix:{tmp_path / 'd.sock'}",))
    with pytest.raises(StoreUnavailable, match="daemon's tables.*disk I/O error"):
        await serve(cfg, log=EventLog(stream=io.StringIO()))
    assert closed == ["tenants"]
    capsys.readouterr()
    assert await cli("serve", "--root", str(tmp_path / "r")) == 6
    err = capsys.readouterr().err
    assert err.startswith("stele serve: error: StoreUnavailable: ") and err.count("\n") == 1
    assert "disk I/O error" in err and "Traceback" not in err


@pytest.mark.parametrize("damage", ["directory", "garbage"])
async def test_tenant_commands_on_a_failing_store_exit_6_in_one_line(
        tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store.sqlite"
    if damage == "directory":
        store.mkdir()  # the store file cannot be opened at all
    else:
        store.write_bytes(b"\x13not a database" * 512)
    for argv in (("add", "dora"), ("list",), ("remove", "dora")):
        capsys.readouterr()
        assert await cli("tenant", *argv, "--root", str(tmp_path)) == 6, argv
        err = capsys.readouterr().err
        assert err.startswith("stele tenant: error: StoreUnavailable: ") and err.count("\n") == 1
        assert "Traceback" not in err and "OperationalError" not in err
