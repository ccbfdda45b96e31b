"""Searches over a guest's witness rows: breakpoints, watches and call depth, with numpy.

A row describes one cycle (:data:`~stele.actors.coprocessor.COLUMNS`): the
pc it ran, its instruction word, the register it wrote and the value, the
address and value of a store.  Row ``j`` of a run takes position ``j`` (the
state before the cycle) to position ``j + 1``.  So:

* a breakpoint on address A *hits* position ``j`` when row ``j`` has pc A
  (the state where A is about to run, as in gdb);
* a watch *fires* at position ``j + 1`` when row ``j`` changed its value
  (a write of the value already there is no change);
* the call depth moves by +1 at a call (``jal``/``jalr`` writing ``ra``)
  and by -1 at a return (``jalr x0, 0(ra)``): the calling convention the
  profiler uses too.

Every function here looks at one piece of rows and returns indices into
it, so :mod:`._guest_session` can walk a long run piece by piece, forwards
or backwards, without holding all of it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ..actors.coprocessor import COLUMNS

__all__ = ["pc_hits", "depth_deltas", "depth_reaches", "register_changes", "pc_changes",
           "word_changes"]

_PC, _NEXT, _INSTR, _RD, _RS1, _RDV, _IMM, _ADDR, _WRITE = (
    COLUMNS.index(c) for c in ("pc", "next_pc", "instr", "rd", "rs1", "rd_val", "imm",
                               "mem_addr", "mem_write"))
_JAL, _JALR, _STORE = 0x6F, 0x67, 0x23
_ECALL = 0x00000073

Rows = NDArray[np.uint32]
Index = NDArray[np.intp]


def pc_hits(rows: Rows, addresses: list[int]) -> Index:
    """Rows whose pc is one of ``addresses``."""
    return np.flatnonzero(np.isin(rows[:, _PC], np.array(addresses, dtype=np.uint32)))


def depth_deltas(rows: Rows) -> NDArray[np.int64]:
    """+1 for each call row, -1 for each return row, 0 otherwise."""
    op = rows[:, _INSTR] & 0x7F
    rd = rows[:, _RD]
    call = ((op == _JAL) | (op == _JALR)) & (rd == 1)
    ret = (op == _JALR) & (rd == 0) & (rows[:, _RS1] == 1) & (rows[:, _IMM] == 0)
    deltas: NDArray[np.int64] = call.astype(np.int64) - ret.astype(np.int64)
    return deltas


def depth_reaches(deltas: NDArray[np.int64], level: int, target: int,
                  reverse: bool = False) -> tuple[int | None, int]:
    """The first row (the last, if ``reverse``) where the running depth equals ``target``.

    Forwards the depth after row ``j`` is ``level + sum(deltas[:j+1])``;
    backwards it is ``level + sum(deltas[j:])`` (rows read from the end).
    Returns the row or None, and the depth after the whole piece.
    """
    if reverse:
        run = np.cumsum(deltas[::-1])[::-1] + level
        hit = np.flatnonzero(run == target)
        return (int(hit[-1]) if hit.size else None), (int(run[0]) if run.size else level)
    run = np.cumsum(deltas) + level
    hit = np.flatnonzero(run == target)
    return (int(hit[0]) if hit.size else None), (int(run[-1]) if run.size else level)


def register_changes(rows: Rows, reg: int, before: int) -> tuple[Index, list[int], list[int]]:
    """Rows that change register ``reg`` (``before``: its value at the piece's start).

    Returns the rows, the old values and the new ones.
    """
    writes = np.flatnonzero(rows[:, _RD] == reg)
    values = rows[writes, _RDV].astype(np.int64)
    prev = np.concatenate(([before], values[:-1])) if values.size else values
    changed = values != prev
    return writes[changed], prev[changed].tolist(), values[changed].tolist()


def pc_changes(rows: Rows) -> tuple[Index, list[int], list[int]]:
    """Rows after which the pc differs from the one they ran (all but a jump to itself)."""
    moved = np.flatnonzero(rows[:, _NEXT] != rows[:, _PC])
    return moved, rows[moved, _PC].tolist(), rows[moved, _NEXT].tolist()


def word_changes(rows: Rows, addr: int, before: int,
                 after_ecall: Callable[[int], int]) -> tuple[list[int], list[int], list[int]]:
    """Rows that change the word at ``addr`` (4-aligned; ``before``: its value at the start).

    Stores are read from the rows (a byte or half store is spliced into the
    word); an ``ecall`` may write memory that the rows do not show (a read
    syscall), so ``after_ecall(j)`` gives the word after row ``j``.
    """
    instr = rows[:, _INSTR]
    width = np.left_shift(1, (instr >> 12) & 3).astype(np.int64)
    at = rows[:, _ADDR].astype(np.int64)
    store = ((instr & 0x7F) == _STORE) & (at < addr + 4) & (at + width > addr)
    candidates = np.flatnonzero(store | (instr == _ECALL))
    out: tuple[list[int], list[int], list[int]] = ([], [], [])
    value = before
    for j in candidates.tolist():
        if int(instr[j]) == _ECALL:
            new = after_ecall(j)
        else:
            new = _splice(value, addr, int(at[j]), int(width[j]), int(rows[j, _WRITE]))
        if new != value:
            out[0].append(j)
            out[1].append(value)
            out[2].append(new)
            value = new
    return out


def _splice(word: int, addr: int, at: int, width: int, data: int) -> int:
    """``word`` (at ``addr``) with the ``width`` bytes of ``data`` stored at ``at`` written in."""
    raw = bytearray(word.to_bytes(4, "little"))
    for k in range(width):
        off = at + k - addr
        if 0 <= off < 4:
            raw[off] = (data >> (8 * k)) & 0xFF
    return int.from_bytes(raw, "little")
