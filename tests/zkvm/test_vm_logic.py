"""Bitwise ops in provable mode (and or xor andi ori xori): the AND table over byte pairs.

Both ALU operands are split into bytes, each byte pair is looked up with its
AND in the 2^16-row table ``(x, y, x & y)``, and OR / XOR follow linearly.
A prover that lies about an AND byte, a byte split or a result is rejected.
"""

from __future__ import annotations

import pytest

from stele.actors.prover import P
from stele.actors.zkvm import ProofRejected, Statement, VmProof, prove, verify
from stele.actors.zkvm._trace import Trace, build_trace

from ._programs import all_classes

ELF = all_classes()
_TRACE = build_trace(ELF)


def _rejected(st: Statement, pr: VmProof) -> str:
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=ELF)
    return info.value.claim


def _row(tr: Trace, flag: str) -> int:
    return next(t for t in range(tr.cycles) if tr.columns[flag][t] and tr.columns["rd"][t])


def test_all_classes_runs_every_bitwise_op() -> None:
    for flag in ("f_and", "f_or", "f_xor"):
        assert _row(_TRACE, flag) >= 0


@pytest.mark.parametrize("flag", ["f_and", "f_or", "f_xor"])
def test_lying_about_a_result_is_rejected(flag: str) -> None:
    t = _row(_TRACE, flag)

    def lie(c: int, what: str, v: int) -> int:
        return v ^ 0x100 if (c == t and what == "value") else v
    st, pr = prove(ELF, _lie=lie)
    assert _rejected(st, pr) == "constraints"


def test_lying_about_an_and_byte_is_rejected() -> None:
    """A0 off by one and the result made to follow it: no AND-table row (x, y, A0) exists."""
    def cheat(tr: Trace) -> None:
        t = _row(tr, "f_and")
        c = tr.columns
        c["A0"][t] = (int(c["A0"][t]) + 1) % P
        for name in ("res_lo", "rd_lo"):
            c[name][t] = (int(c[name][t]) + 1) % P
    st, pr = prove(ELF, _cheat=cheat)
    assert _rejected(st, pr) in ("and lookup", "register memory check")


def test_lying_about_a_byte_split_is_rejected() -> None:
    """X0 + 256 and X1 - 1 keep rs1 = X0 + 256 X1, but X0 is no byte: the AND table has no such row."""
    def cheat(tr: Trace) -> None:
        t = next(t for t in range(tr.cycles) if tr.columns["X1"][t])
        c = tr.columns
        c["X0"][t] = (int(c["X0"][t]) + 256) % P
        c["X1"][t] = (int(c["X1"][t]) - 1) % P
    st, pr = prove(ELF, _cheat=cheat)
    assert _rejected(st, pr) == "and lookup"


def test_lying_about_an_and_multiplicity_is_rejected() -> None:
    def cheat(tr: Trace) -> None:
        tr.and_mult[0] -= 1
        tr.and_mult[257] += 1
    st, pr = prove(ELF, _cheat=cheat)
    assert _rejected(st, pr) == "and lookup"
