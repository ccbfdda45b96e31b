"""Module-level functions for RealEnv worker tests (must be picklable)."""

from __future__ import annotations


def square(x: int) -> int:
    return x * x


def boom(x: int) -> int:
    raise ValueError(f"boom {x}")
