"""The public API surface is pinned: additions and removals are deliberate.

If this fails after an intended change, run ``python tests/_surface.py --write``
and review the diff of ``tests/api_surface.txt`` in the commit.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _surface import SURFACE_FILE, public_packages, surface  # noqa: E402


def test_surface_matches_pinned_file() -> None:
    pinned = SURFACE_FILE.read_text().splitlines()
    current = surface()
    added = sorted(set(current) - set(pinned))
    removed = sorted(set(pinned) - set(current))
    assert not added and not removed, (
        f"public API changed: added={added} removed={removed}; "
        "run `python tests/_surface.py --write` if intended"
    )


def test_all_lists_exactly_the_public_names() -> None:
    for name in public_packages():
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            continue
        for item in exported:
            assert not item.startswith("_"), f"{name}.__all__ leaks private {item!r}"
            assert hasattr(module, item), f"{name}.__all__ names missing {item!r}"


def test_public_objects_are_documented_and_not_private() -> None:
    for line in surface():
        module_name, _, attr = line.rpartition(".")
        obj = getattr(importlib.import_module(module_name), attr)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, f"{line} has no docstring"
            origin = getattr(obj, "__module__", "") or ""
            assert origin.startswith("stele"), f"{line} re-exports foreign {origin}"
        assert not isinstance(obj, types.ModuleType)
