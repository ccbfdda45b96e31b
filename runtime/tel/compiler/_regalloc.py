"""Linear-scan register allocation (Poletto and Sarkar) of 64-bit virtual registers to register pairs.

A virtual register holds one 64-bit TEL value and gets a *pair* of the
callee-saved registers s0..s11 (six pairs), or a stack slot when none is
free. TEL function bodies have no loops (iteration happens inside builtins
and by recursion), so the IR's control flow only goes forward: the live
interval of a register is [first mention, last mention] in program order,
and that is exact enough to be correct at every join. Because every pair is
callee-saved, values live across calls need no special treatment; the
caller-saved registers (t*, a*) are the code generator's scratch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._asm import REG

__all__ = ["PAIRS", "Allocation", "allocate"]

#: the register pairs a virtual register can live in (lo, hi)
PAIRS: tuple[tuple[int, int], ...] = tuple(
    (REG[f"s{2 * i}"], REG[f"s{2 * i + 1}"]) for i in range(6))


@dataclass(frozen=True)
class Allocation:
    """Where each virtual register lives: a pair, or a spill slot index; the pairs used."""

    pairs: dict[int, tuple[int, int]]
    slots: dict[int, int]
    used: tuple[tuple[int, int], ...]


def intervals(code: list[tuple[object, ...]], operands: list[list[int]]) -> dict[int, tuple[int, int]]:
    """Live interval of each virtual register, from the operand lists of each instruction."""
    out: dict[int, tuple[int, int]] = {}
    for pos, regs in enumerate(operands):
        for v in regs:
            got = out.get(v)
            out[v] = (pos, pos) if got is None else (got[0], pos)
    return out


def allocate(ivs: dict[int, tuple[int, int]], npairs: int = len(PAIRS)) -> Allocation:
    """Linear scan over the intervals: free pairs go to the earliest start; spill the furthest end."""
    order = sorted(ivs, key=lambda v: (ivs[v][0], v))
    free = list(PAIRS[:npairs])[::-1]
    active: list[int] = []  # sorted by end
    pairs: dict[int, tuple[int, int]] = {}
    slots: dict[int, int] = {}
    used: set[tuple[int, int]] = set()
    for v in order:
        start, end = ivs[v]
        while active and ivs[active[0]][1] < start:
            free.append(pairs[active.pop(0)])
        if free:
            pairs[v] = free.pop()
            used.add(pairs[v])
            _insert(active, v, ivs)
            continue
        victim = active[-1]
        if ivs[victim][1] > end:  # the active interval that ends last gives up its pair
            pairs[v] = pairs.pop(victim)
            slots[victim] = len(slots)
            active.pop()
            _insert(active, v, ivs)
        else:
            slots[v] = len(slots)
    return Allocation(pairs, slots, tuple(sorted(used)))


def _insert(active: list[int], v: int, ivs: dict[int, tuple[int, int]]) -> None:
    end = ivs[v][1]
    i = len(active)
    while i > 0 and ivs[active[i - 1]][1] > end:
        i -= 1
    active.insert(i, v)
