"""A tiny deterministic TraceProgram, independent of the RV32IM machine.

It lets the checkpoint and stream tests exercise their own logic quickly;
the same properties are checked on the real machine in the *_machine tests.
State: a cycle counter and a xorshift word; one "page" holds the word, and a
constant page is shared by every snapshot (to exercise page deduplication).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

COLUMNS = ("cycle", "x", "x3", "low")
SHARED_PAGE = bytes(range(256)) * 16


def _step(x: int) -> int:
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return x


class ToyMachine:
    def __init__(self, program: ToyProgram, cycle: int, x: int) -> None:
        self._p = program
        self._cycle = cycle
        self._x = x

    @property
    def cycle(self) -> int:
        return self._cycle

    @property
    def halted(self) -> bool:
        return self._cycle >= self._p.length

    def trace(self, max_cycles: int) -> NDArray[np.uint32]:
        n = max(0, min(max_cycles, self._p.length - self._cycle))
        rows = np.zeros((n, 4), dtype=np.uint32)
        x = self._x
        for i in range(n):
            rows[i] = (self._cycle + i, x, (x * 3) & 0xFFFFFFFF, x & 0xFF)
            x = _step(x)
        self._x = x
        self._cycle += n
        return rows

    def advance(self, cycles: int) -> None:
        self.trace(cycles)

    def skip(self, max_cycles: int) -> int:
        return int(self.trace(max_cycles).shape[0])

    def snapshot(self) -> object:
        return (self._cycle, self._x)


@dataclass(frozen=True)
class ToyProgram:
    length: int
    seed: int = 1

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS

    def start(self) -> ToyMachine:
        return ToyMachine(self, 0, self.seed or 1)

    def resume(self, snapshot: object) -> ToyMachine:
        assert isinstance(snapshot, tuple)
        return ToyMachine(self, snapshot[0], snapshot[1])

    def snapshot_cycle(self, snapshot: object) -> int:
        assert isinstance(snapshot, tuple)
        return int(snapshot[0])

    def encode_snapshot(self, snapshot: object) -> tuple[dict[str, Any], dict[int, bytes]]:
        assert isinstance(snapshot, tuple)
        return {"cycle": snapshot[0]}, {0: snapshot[1].to_bytes(4, "little"), 1: SHARED_PAGE}

    def decode_snapshot(self, state: dict[str, Any], pages: dict[int, bytes]) -> object:
        return (state["cycle"], int.from_bytes(pages[0], "little"))
