"""Fixtures: a tenant-provisioned root and a running daemon over Unix and TCP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
import shutil
import tempfile

import pytest

from ._harness import Serve, add_tenant


@pytest.fixture
def root() -> Iterator[Path]:
    # A short path: a Unix socket path is at most 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="stele-d-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tokens(root: Path) -> dict[str, str]:
    return {"alice": add_tenant(root, "alice"), "bob": add_tenant(root, "bob"),
            "admin": add_tenant(root, "admin", admin=True)}


@pytest.fixture
async def daemon(root: Path, tokens: dict[str, str]) -> AsyncIterator[Serve]:
    serve = Serve(root, listen=(f"unix:{root / 's.sock'}", "tcp:127.0.0.1:0"))
    await serve.start()
    try:
        yield serve
    finally:
        serve.stop()


@pytest.fixture(params=["unix", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)
