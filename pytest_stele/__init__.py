"""The ``pytest11`` entry point of Stele's pytest plugin (``stele_sim``).

pytest imports every ``pytest11`` entry point before any other plugin runs,
pytest-cov included.  This module therefore imports nothing of Stele at
import time: it adds the ``--stele-seed`` option (which must exist before the
command line is parsed) and declares the marker, and only in
``pytest_configure`` -- after pytest-cov has started measuring -- imports and
registers the plugin itself, :mod:`stele.sim.pytest_plugin`.  Importing Stele
any earlier would run the package's module-level code unmeasured.

To load the plugin by hand (with ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``), pass
``-p pytest_stele``.
"""

from __future__ import annotations

import importlib

import pytest

__all__ = ["pytest_addoption", "pytest_configure"]

_IMPL = "stele.sim.pytest_plugin"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--stele-seed N``: run only seed ``N`` of every ``stele_sim`` test."""
    group = parser.getgroup("stele", "Stele deterministic simulation")
    group.addoption("--stele-seed", type=int, default=None, metavar="N",
                    help="run only seed N of every @pytest.mark.stele_sim test")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker, then import and register the plugin's hooks and fixture."""
    config.addinivalue_line(
        "markers", "stele_sim(seeds=100, faults='swarm', first=0): run an async test "
        "under stele.sim.SimEnv once per seed")
    impl = importlib.import_module(_IMPL)
    if not config.pluginmanager.is_registered(impl):
        config.pluginmanager.register(impl, _IMPL)
