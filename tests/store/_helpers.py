"""Shared helpers of the repository tests."""

from __future__ import annotations

from pathlib import Path

from stele.store import Repository

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Clock:
    """A deterministic clock for name history (strictly increasing)."""

    def __init__(self) -> None:
        self.t = 1_700_000_000_000_000_000

    def __call__(self) -> int:
        self.t += 1_000
        return self.t


def repo(path: str | None = None, cache_size: int = 1024) -> Repository:
    return Repository(path, clock=Clock(), cache_size=cache_size)


def example(name: str) -> str:
    return (EXAMPLES / f"{name}.tel").read_text()


EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.tel"))
