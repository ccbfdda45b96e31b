"""speedscope's file format (https://www.speedscope.app/file-format-schema.json).

Each :class:`~._model.Profile` becomes one ``"sampled"`` profile: one sample
per distinct call stack, weighted by its self weight (cost units and cycles
have the unit ``"none"``, wall time ``"nanoseconds"``).  Frames are shared
between the profiles of one file.  Open the file at https://www.speedscope.app
(it is parsed in the browser; nothing is uploaded) or with the offline
``speedscope`` command.
"""

from __future__ import annotations

from typing import Any

from ._model import Profile

__all__ = ["SCHEMA_URL", "to_speedscope"]

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
_UNITS = {"nanoseconds": "nanoseconds", "microseconds": "microseconds", "bytes": "bytes"}


def to_speedscope(profiles: list[Profile], name: str, exporter: str) -> dict[str, Any]:
    """The speedscope document for ``profiles`` (the first is the active one)."""
    frames: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for prof in profiles:
        samples: list[list[int]] = []
        weights: list[int] = []
        for stack, w in sorted(prof.weights.items()):
            if w <= 0 or not stack:
                continue
            ids = []
            for frame in stack:
                i = index.get(frame)
                if i is None:
                    i = index[frame] = len(frames)
                    frames.append({"name": frame})
                ids.append(i)
            samples.append(ids)
            weights.append(w)
        out.append({"type": "sampled", "name": f"{name}: {prof.name}",
                    "unit": _UNITS.get(prof.unit, "none"), "startValue": 0,
                    "endValue": sum(weights), "samples": samples, "weights": weights})
    return {"$schema": SCHEMA_URL, "shared": {"frames": frames}, "profiles": out,
            "name": name, "activeProfileIndex": 0, "exporter": exporter}
