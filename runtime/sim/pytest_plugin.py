"""A pytest plugin: run async tests under the deterministic simulator, once per seed.

Installed with Stele and registered through the ``pytest11`` entry point, so
it is active in any project that has Stele installed.  The entry point is the
small module ``pytest_stele``, which adds ``--stele-seed`` and registers this
module from ``pytest_configure``: nothing of Stele is imported before
pytest-cov starts measuring.  Example::

    import pytest
    from stele import ActorSystem

    @pytest.mark.stele_sim(seeds=100, faults="swarm")
    async def test_my_actor(stele_env):
        async with ActorSystem(stele_env) as system:
            ...                       # virtual time; disk faults and BUGGIFY per seed

The marked test runs once per seed, each time inside a fresh
:class:`stele.sim.SimEnv` (``stele_env``), in its own trio run on virtual
time.  ``faults="swarm"`` draws the disk faults (``stele_env.disk``) and
BUGGIFY from each seed, as ``stele sim`` does; ``faults="none"`` runs
fault-free.  A failing seed stops the test with the seed and the line that
replays it::

    stele_sim: seed 17 of 100 failed: AssertionError: ...
    reproduce with: pytest 'tests/test_x.py::test_my_actor' --stele-seed 17

``--stele-seed N`` runs only seed ``N`` of every marked test.  The marker's
arguments: ``seeds`` (how many, from ``first``, default 0), ``faults``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import pytest

__all__ = ["pytest_collection_modifyitems", "pytest_pyfunc_call", "stele_env"]

_FAULTS = ("swarm", "none")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A ``stele_sim`` test is run by this plugin, not by pytest-trio's ``trio_mode``."""
    for item in items:
        if item.get_closest_marker("stele_sim") is not None:
            item.own_markers[:] = [m for m in item.own_markers if m.name != "trio"]


@pytest.fixture
def stele_env() -> Any:
    """The :class:`stele.sim.SimEnv` of the seed being run (a fresh one per seed).

    Outside a ``stele_sim``-marked test it is a fault-free ``SimEnv(0)``.
    """
    from . import SimEnv

    return SimEnv(0)


def _env_for(seed: int, faults: str) -> Any:
    from .._core._random import SeededRandom
    from . import SimEnv
    from ._faults import draw_faults

    if faults == "none":
        return SimEnv(seed)
    rng = SeededRandom(seed)
    drawn = draw_faults(rng.fork("swarm"))
    return SimEnv(seed, disk_faults=drawn.disk,
                  buggify=rng.fork("swarm.buggify").chance(1, 2))


def _marker_args(marker: pytest.Mark) -> tuple[int, int, str]:
    seeds = marker.kwargs.get("seeds", marker.args[0] if marker.args else 100)
    first = marker.kwargs.get("first", 0)
    faults = marker.kwargs.get("faults", "swarm")
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise pytest.UsageError(f"stele_sim: seeds must be an int >= 1, got {seeds!r}")
    if not isinstance(first, int) or isinstance(first, bool) or first < 0:
        raise pytest.UsageError(f"stele_sim: first must be an int >= 0, got {first!r}")
    if faults not in _FAULTS:
        raise pytest.UsageError(f"stele_sim: faults must be one of {_FAULTS}, got {faults!r}")
    return seeds, first, faults


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a ``stele_sim``-marked async test once per seed under a SimEnv."""
    marker = pyfuncitem.get_closest_marker("stele_sim")
    if marker is None:
        return None
    original: Callable[..., Any] = pyfuncitem.obj
    if not inspect.iscoroutinefunction(original):
        raise pytest.UsageError(f"stele_sim: {pyfuncitem.nodeid} must be an async def test")
    seeds, first, faults = _marker_args(marker)
    chosen = pyfuncitem.config.getoption("--stele-seed")
    order = [chosen] if chosen is not None else list(range(first, first + seeds))
    names = pyfuncitem._fixtureinfo.argnames
    base = {name: pyfuncitem.funcargs[name] for name in names}
    for seed in order:
        env = _env_for(seed, faults)
        kwargs = dict(base)
        if "stele_env" in kwargs:
            kwargs["stele_env"] = env
        try:
            env.run(functools.partial(original, **kwargs))
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            where = f"seed {seed}" if chosen is not None else f"seed {seed} of {len(order)}"
            pytest.fail(
                f"stele_sim: {where} failed: {type(exc).__name__}: {exc}\n"
                f"reproduce with: pytest '{pyfuncitem.nodeid}' --stele-seed {seed}",
                pytrace=False)
    return True
