"""mkdocs hook: give mkdocstrings a source tree shaped like the import package.

The package ``stele`` is ``runtime/`` with ``actors/`` and ``protocol/``
mapped in as ``stele.actors`` and ``stele.protocol`` (see pyproject.toml).
The API reference reads the sources statically, so before the build this
hook lays out ``.docs-src/stele/`` as symbolic links that follow that
mapping.  It is regenerated on every build and ignored by git.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / ".docs-src"


def on_startup(**_kwargs: Any) -> None:
    """Lay out ``.docs-src/stele`` (runtime/ + actors/ + protocol/) as links."""
    if TREE.exists():
        shutil.rmtree(TREE)
    pkg = TREE / "stele"
    pkg.mkdir(parents=True)
    _mirror(ROOT / "runtime", pkg)
    _mirror(ROOT / "actors", pkg / "actors")
    _mirror(ROOT / "protocol", pkg / "protocol")


def _mirror(src: Path, dst: Path) -> None:
    """Link every module of ``src`` into ``dst``; packages without an
    ``__init__.py`` (implicit namespace packages such as ``stele._core``) get
    an empty one, which static analysis needs."""
    dst.mkdir(parents=True, exist_ok=True)
    if not (src / "__init__.py").exists():
        (dst / "__init__.py").write_text("")
    for entry in src.iterdir():
        if entry.name == "__pycache__" or (dst / entry.name).exists():
            continue
        if entry.is_dir():
            if any(entry.glob("*.py")):
                _mirror(entry, dst / entry.name)
        elif entry.suffix in (".py", ".pyi", ".typed"):
            os.symlink(entry, dst / entry.name)
