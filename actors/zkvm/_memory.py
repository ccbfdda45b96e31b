"""The RAM table: every word of the ELF's loadable segments, with its initial value.

Provable mode's memory is exactly the words of the loadable segments
(``vaddr .. vaddr + memsz``, the zero-filled ``.bss`` and a guest's own
stack included); the verifier rebuilds this table from the ELF bytes, so the
statement's ELF digest fixes the initial memory image.  Row ``j`` of the
trace domain holds word ``j`` (public columns ``maddr_lo/hi``, ``minit_lo/hi``,
``mrow``, ``mro``); the prover commits each word's final value and timestamp.
A word of an executable segment is read-only (``mro``): a store to it is a
constraint violation, so the fetched instructions are always the ELF's.

Memory outside the segments (the co-processor's default stack region, the
``brk`` heap, unmapped addresses) is not in the table, so no access to it
can be proven: the honest prover refuses such a run with ``Unprovable``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from stele.actors.coprocessor._elf import Program
from stele.actors.prover import EXT_ONE, Ext, evaluate, ext_mul, ext_sub

from ._errors import Unprovable

__all__ = ["MemoryImage", "memory_image", "MAX_LOG_WORDS"]

#: at most 2^20 words (4 MiB) of segments are provable.
MAX_LOG_WORDS = 20


@dataclass(frozen=True)
class MemoryImage:
    """The table: sorted word addresses (byte address >> 2), initial values, read-only flags."""

    words: NDArray[np.int64]
    init: NDArray[np.int64]
    ro: NDArray[np.int64]
    index: dict[int, int]

    @property
    def size(self) -> int:
        """Number of words."""
        return int(self.words.shape[0])

    @property
    def log_size(self) -> int:
        """log2 of the table padded to a power of two."""
        return max(0, (self.size - 1).bit_length())

    def public_tables(self, n: int) -> dict[str, NDArray[np.uint64]]:
        """The public columns over ``2^n`` rows (zero past the table)."""
        size = 1 << n
        out: dict[str, NDArray[np.uint64]] = {}
        for name, values in self._columns().items():
            col = np.zeros(size, dtype=np.uint64)
            col[: self.size] = values.astype(np.uint64)
            out[name] = col
        return out

    def public_eval(self, point: list[Ext]) -> dict[str, Ext]:
        """The public columns' multilinear extensions at ``point`` (``len(point) >= log_size``), in O(D).

        Each column is zero beyond the first ``2^k`` rows, so its extension is
        the ``k``-variable extension at the low coordinates times
        ``prod (1 - r_i)`` over the high ones.
        """
        k = self.log_size
        scale = EXT_ONE
        for r in point[k:]:
            scale = ext_mul(scale, ext_sub(EXT_ONE, r))
        out: dict[str, Ext] = {}
        for name, values in self._columns().items():
            tab = np.zeros(1 << k, dtype=np.uint64)
            tab[: self.size] = values.astype(np.uint64)
            low = evaluate(tab, point[:k]) if k else (int(tab[0]), 0, 0, 0)
            out[name] = ext_mul(low, scale)
        return out

    def _columns(self) -> dict[str, NDArray[np.int64]]:
        ones = np.ones(self.size, dtype=np.int64)
        return {"maddr_lo": self.words & 0x3FFF, "maddr_hi": self.words >> 14, "minit_lo": self.init & 0xFFFF,
                "minit_hi": self.init >> 16, "mrow": ones, "mro": self.ro}


def memory_image(program: Program) -> MemoryImage:
    """The RAM table of ``program`` (see the module docstring)."""
    data: dict[int, bytearray] = {}
    ro: dict[int, int] = {}
    for seg in program.segments:
        for w in range(seg.vaddr >> 2, (seg.vaddr + seg.memsz + 3) >> 2):
            data.setdefault(w, bytearray(4))
            ro[w] = ro.get(w, 0) | int(seg.executable)
        for i, b in enumerate(seg.data):
            a = seg.vaddr + i
            data[a >> 2][a & 3] = b
    if len(data) > 1 << MAX_LOG_WORDS:
        raise Unprovable("memory", f"{len(data)} words of segments exceed the limit 2^{MAX_LOG_WORDS}")
    words = sorted(data)
    init = [int.from_bytes(data[w], "little") for w in words]
    return MemoryImage(np.array(words, dtype=np.int64), np.array(init, dtype=np.int64),
                       np.array([ro[w] for w in words], dtype=np.int64), {w: j for j, w in enumerate(words)})
