"""The daemon's log: one line per event on stderr, ``key=value`` text or JSON lines."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

__all__ = ["EventLog"]


class EventLog:
    """Writes ``event key=value ...`` lines (or one JSON object per line with ``json=True``)."""

    def __init__(self, *, json_lines: bool = False, stream: TextIO | None = None,
                 clock: Any = None) -> None:
        self.json = json_lines
        self._stream = stream
        self._clock = clock

    def __call__(self, event: str, **fields: Any) -> None:
        """Log ``event`` with ``fields``."""
        stream = self._stream or sys.stderr
        if self._clock is not None:
            fields = {"ts_ns": self._clock(), **fields}
        if self.json:
            line = json.dumps({"event": event, **fields}, sort_keys=False, default=str)
        else:
            parts = [f"stele serve: {event}"]
            for k, v in fields.items():
                if isinstance(v, (list, tuple)):
                    v = ",".join(str(x) for x in v)
                text = str(v)
                parts.append(f"{k}={json.dumps(text) if (' ' in text or not text) else text}")
            line = " ".join(parts)
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass
