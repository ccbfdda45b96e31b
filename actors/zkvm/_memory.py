"""The RAM table: the words provable mode's memory consists of, with their initial values and kinds.

Provable mode's memory is, word by word (the verifier rebuilds this table
from the ELF, the input and the statement, so they fix the initial image):

* the words of the ELF's loadable segments (``vaddr .. vaddr + memsz``, the
  zero-filled ``.bss`` and a guest's own stack included); words of an
  executable segment are read-only (a store to one is a constraint violation,
  so the fetched instructions are always the ELF's);
* the *heap pages*: zero words of the 4 KiB pages from the program break's
  start up to the co-processor's ``brk_max`` that the run touches, listed in
  the proof (the prover's choice: a page it leaves out cannot be accessed at
  all, so the list can only make a run unprovable, never prove a false
  one).  A heap access is also checked against the heap limit, the first
  word past the pages the break has mapped (``_air``), so a word above the
  break is not readable even though it is in the table;
* the *input region* at ``INPUT_BASE`` (read-only, the input bytes) and the
  *output region* at ``OUTPUT_BASE`` (zero at first; its final contents are
  the public output), both *virtual-only*: only the syscall routine's rows
  may access them (``_syscalls``).

Each word's kind, ``ro + 2 vo + 4 hf`` (read-only, virtual-only, heap), travels
in its RAM tuple, so an access inherits the kind of the word it touches.
Row ``j`` of the trace domain holds word ``j`` (public columns ``maddr_lo/hi``,
``minit_lo/hi``, ``mrow``, ``mkind``, ``mout`` and ``mfin_lo/hi``, the expected
final value of an output word); the prover commits each word's final value
and timestamp.

Memory outside the table (the co-processor's default stack region,
unmapped addresses) cannot be accessed in a proof: the honest prover
refuses such a run with ``Unprovable``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from stele.actors.coprocessor._elf import Program
from stele.actors.coprocessor._machine import MachineConfig
from stele.actors.coprocessor._memory import PAGE_SIZE
from stele.actors.prover import EXT_ONE, Ext, evaluate, ext_mul, ext_sub

from ._errors import Unprovable

__all__ = ["MemoryImage", "memory_image", "MAX_LOG_WORDS", "heap_bounds", "heap_word_range", "heap_page_range",
           "KIND_RO", "KIND_VO", "KIND_HEAP", "PAGE_WORDS"]

#: words per 4 KiB page (the co-processor maps the heap by pages).
PAGE_WORDS = PAGE_SIZE // 4

KIND_RO, KIND_VO, KIND_HEAP = 1, 2, 4

#: at most 2^20 words (4 MiB) of segments are provable.
MAX_LOG_WORDS = 20


@dataclass(frozen=True)
class MemoryImage:
    """The table: sorted word addresses (byte address >> 2), initial values, kinds, expected final outputs.

    ``out`` is 1 on the output region's words and ``fin`` their expected final
    values (the public output, zero-padded); ``heap_limit0`` is the heap limit
    before any ``brk`` (the first word past the last segment's page);
    ``heap_pages`` the heap pages in the table.
    """

    words: NDArray[np.int64]
    init: NDArray[np.int64]
    kind: NDArray[np.int64]
    out: NDArray[np.int64]
    fin: NDArray[np.int64]
    index: dict[int, int]
    heap_limit0: int
    heap_pages: tuple[int, ...] = ()

    @property
    def ro(self) -> NDArray[np.int64]:
        """1 on read-only words (executable segments and the input region)."""
        return self.kind & KIND_RO

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
                "minit_hi": self.init >> 16, "mrow": ones, "mkind": self.kind, "mout": self.out,
                "mfin_lo": self.fin & 0xFFFF, "mfin_hi": self.fin >> 16}


def heap_bounds(program: Program) -> tuple[int, int]:
    """``(brk_start, brk_max)`` of a fresh co-processor with the default configuration (``Machine._brk``)."""
    config = MachineConfig()
    start = program.end
    return start, min(config.stack_top - config.stack_size, start + config.memory_limit)


def _words(data: bytes) -> list[int]:
    padded = bytes(data) + bytes(-len(data) % 4)
    return [int.from_bytes(padded[i:i + 4], "little") for i in range(0, len(padded), 4)]


def heap_word_range(program: Program) -> tuple[int, int]:
    """``[lo, hi)``: the word addresses a heap word of ``program`` may have (past the segments, below
    the first page the break can never map)."""
    from ._syscalls import heap_limit_word

    start, brk_max = heap_bounds(program)
    return (start + 3) >> 2, heap_limit_word(brk_max)


def heap_page_range(program: Program) -> tuple[int, int]:
    """``[first, end)``: the page numbers a heap word of ``program`` may lie in."""
    lo, hi = heap_word_range(program)
    return lo // PAGE_WORDS, hi // PAGE_WORDS


def memory_image(program: Program, input_bytes: bytes = b"", output: bytes = b"",
                 heap_pages: tuple[int, ...] = ()) -> MemoryImage:
    """The RAM table of ``program`` run on ``input_bytes`` with public ``output`` and these heap pages.

    ``heap_pages`` must be strictly increasing page numbers in
    :func:`heap_page_range` (``Unprovable`` otherwise); a page's words below
    the break's start (the last segment's page) are not heap words.
    """
    from ._syscalls import INPUT_BASE, OUTPUT_BASE, heap_limit_word

    data: dict[int, bytearray] = {}
    ro: dict[int, int] = {}
    for seg in program.segments:
        if seg.vaddr + seg.memsz > INPUT_BASE:
            raise Unprovable("segments", f"the segment at {seg.vaddr:#x} reaches provable mode's I/O regions "
                             f"({INPUT_BASE:#x} and up)")
        for w in range(seg.vaddr >> 2, (seg.vaddr + seg.memsz + 3) >> 2):
            data.setdefault(w, bytearray(4))
            ro[w] = ro.get(w, 0) | int(seg.executable)
        for i, b in enumerate(seg.data):
            a = seg.vaddr + i
            data[a >> 2][a & 3] = b
    seg_words = sorted(data)
    inputs, outputs = _words(input_bytes), _words(output)
    fixed = len(seg_words) + len(inputs) + len(outputs)
    if fixed > 1 << MAX_LOG_WORDS:
        raise Unprovable("memory", f"{fixed} words of segments, input and output exceed the limit "
                         f"2^{MAX_LOG_WORDS}")
    start, _ = heap_bounds(program)
    heap_lo, _ = heap_word_range(program)
    first, end = heap_page_range(program)
    if any(not first <= p < end for p in heap_pages) or any(a >= b for a, b in zip(heap_pages, heap_pages[1:])):
        raise Unprovable("memory", f"heap pages must be strictly increasing page numbers in {first:#x}..{end:#x}")
    heap = [np.arange(max(heap_lo, p * PAGE_WORDS), (p + 1) * PAGE_WORDS, dtype=np.int64) for p in heap_pages]
    heap_words = np.concatenate(heap) if heap else np.zeros(0, dtype=np.int64)
    heap_n = int(heap_words.shape[0])
    if fixed + heap_n > 1 << MAX_LOG_WORDS:
        raise Unprovable("memory", f"{fixed + heap_n} words of memory exceed the limit 2^{MAX_LOG_WORDS}")
    words = np.concatenate([np.array(seg_words, dtype=np.int64), heap_words,
                            np.arange(len(inputs), dtype=np.int64) + (INPUT_BASE >> 2),
                            np.arange(len(outputs), dtype=np.int64) + (OUTPUT_BASE >> 2)])
    init = np.concatenate([np.array([int.from_bytes(data[w], "little") for w in seg_words], dtype=np.int64),
                           np.zeros(heap_n, dtype=np.int64), np.array(inputs, dtype=np.int64),
                           np.zeros(len(outputs), dtype=np.int64)])
    kind = np.concatenate([np.array([ro[w] for w in seg_words], dtype=np.int64),
                           np.full(heap_n, KIND_HEAP, dtype=np.int64),
                           np.full(len(inputs), KIND_RO | KIND_VO, dtype=np.int64),
                           np.full(len(outputs), KIND_VO, dtype=np.int64)])
    out = np.zeros(words.shape[0], dtype=np.int64)
    fin = np.zeros(words.shape[0], dtype=np.int64)
    if outputs:
        out[-len(outputs):] = 1
        fin[-len(outputs):] = outputs
    index = {int(w): j for j, w in enumerate(words.tolist())}
    return MemoryImage(words, init, kind, out, fin, index, heap_limit_word(start), tuple(heap_pages))
