"""Compute Stele's public API surface: every public package and its names.

A package is public when no segment of its dotted name starts with ``_``.
Its public names are the attributes not starting with ``_`` that are not
submodules.  ``python tests/_surface.py --write`` refreshes the pinned file.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import types
from pathlib import Path

SURFACE_FILE = Path(__file__).with_name("api_surface.txt")
IGNORED = {"annotations", "TYPE_CHECKING"}


def public_packages() -> list[str]:
    """Every public package, walking each mapped root (runtime/, actors/, protocol/).

    ``stele.actors`` and ``stele.protocol`` live outside ``stele.__path__``
    (setuptools package-dir mapping), so each is walked from its own path.
    """
    import stele
    import stele.actors
    import stele.protocol

    found = {"stele", "stele.actors", "stele.protocol", "stele.cli"}
    for root in (stele, stele.actors, stele.protocol):
        for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
            parts = info.name.split(".")
            if any(p.startswith("_") for p in parts):
                continue
            if info.ispkg:
                found.add(info.name)
    return sorted(found)


def surface() -> list[str]:
    lines: list[str] = []
    for name in public_packages():
        module = importlib.import_module(name)
        for attr in sorted(vars(module)):
            if attr.startswith("_") or attr in IGNORED:
                continue
            if isinstance(getattr(module, attr), types.ModuleType):
                continue
            lines.append(f"{name}.{attr}")
    return lines


if __name__ == "__main__":
    text = "\n".join(surface()) + "\n"
    if "--write" in sys.argv:
        SURFACE_FILE.write_text(text)
        print(f"wrote {SURFACE_FILE}")
    else:
        sys.stdout.write(text)
