"""Recording a TEL run's journal in memory (what a durable execution stores), for the tests."""

from __future__ import annotations

from typing import Any

from stele.actors.sandbox._handlers import Journal
from stele.tel._cost import Limits
from stele.tel._handlers import MemoryHandler
from stele.tel._interp import Program
from stele.tel._parser import parse_module
from stele.tel._types import CheckedModule, check_module
from stele.tel._values import Value


class Recorder:
    """A `MemoryHandler` that also journals each effect as the durable journal does."""

    def __init__(self, seed: int = 7) -> None:
        self.inner = MemoryHandler(seed=seed)
        self.entries: list[bytes] = []
        self.performed = 0

    def __call__(self, effect: str, op: str, args: tuple[Value, ...]) -> Value:
        reply = self.inner(effect, op, args)
        self.performed += 1
        self.entries.append(Journal.entry(effect, op, args, reply))
        return reply


def checked(source: str) -> CheckedModule:
    return check_module(parse_module(source, "<test>"), source)


def record(module: CheckedModule, entry: str, args: list[Any], limits: Limits = Limits(),
           seed: int = 7) -> tuple[list[bytes], Any]:
    """Run once with effects performed (in memory); the journal and the result (or error)."""
    rec = Recorder(seed)
    try:
        out: Any = Program(module).call(entry, args, limits=limits, handler=rec)
    except Exception as exc:  # a TEL error: the journal up to it is what was stored
        out = exc
    return rec.entries, out
