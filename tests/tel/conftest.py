"""The `tel_engine` fixture: run a test module once interpreted and once JIT-compiled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import stele.tel._interp as interp


@pytest.fixture(params=["interpreter", "jit"])
def tel_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every `Program` built in the test uses this engine from its first call."""
    old = interp.JIT_AFTER
    interp.JIT_AFTER = None if request.param == "interpreter" else 1
    try:
        yield str(request.param)
    finally:
        interp.JIT_AFTER = old
