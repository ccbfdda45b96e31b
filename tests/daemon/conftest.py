"""Fixtures: a shared daemon per module (over Unix and TCP), and fresh roots for tests
that start, kill and restart their own."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from ._harness import Serve, add_tenant


def _tmp() -> Path:
    # A short path: a Unix socket path is at most 107 bytes.
    return Path(tempfile.mkdtemp(prefix="stele-d-"))


def _tenants(root: Path) -> dict[str, str]:
    return {"alice": add_tenant(root, "alice"), "bob": add_tenant(root, "bob"),
            "admin": add_tenant(root, "admin", admin=True)}


@pytest.fixture(scope="module")
def shared_root() -> Iterator[Path]:
    path = _tmp()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_tokens(shared_root: Path) -> dict[str, str]:
    return _tenants(shared_root)


@pytest.fixture(scope="module")
def daemon(shared_root: Path, shared_tokens: dict[str, str]) -> Iterator[Serve]:
    serve = Serve(shared_root, listen=(f"unix:{shared_root / 's.sock'}", "tcp:127.0.0.1:0"))
    trio.run(serve.start)
    try:
        yield serve
    finally:
        serve.stop()


@pytest.fixture
def tokens(shared_tokens: dict[str, str]) -> dict[str, str]:
    """The shared daemon's tenants' tokens."""
    return shared_tokens


@pytest.fixture
def root() -> Iterator[Path]:
    """A fresh root for a test that runs its own daemon (see ``fresh_tokens``)."""
    path = _tmp()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fresh_tokens(root: Path) -> dict[str, str]:
    return _tenants(root)


@pytest.fixture(params=["unix", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)
