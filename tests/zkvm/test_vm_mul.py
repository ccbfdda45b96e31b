"""Shifts and the low/high multiply (sll srl sra slli srli srai mul mulhu): the byte multiplier.

rs1's bytes times the multiplier bytes (b for mul/mulhu, 2^s for left
shifts, 2^(32-s) for right shifts) is an 8-byte product, one constraint per
byte column with range-checked carries, product bytes made bytes by the limb
table; the shift constants come from the 256-row pow table keyed by b's low
byte; sra adds the sign fill mask.  A prover that lies about a result, a
carry, a product byte or a shift constant is rejected.
"""

from __future__ import annotations

import pytest

from stele.actors.prover import P
from stele.actors.zkvm import ProofRejected, Statement, VmProof, prove, verify
from stele.actors.zkvm._trace import Trace, build_trace

from ._programs import all_classes, unit_programs

ELF = all_classes()
_TRACE = build_trace(ELF)
#: sra over edge operands, negative ones included (all_classes' sra only sees a non-negative value)
SRA = unit_programs()["sra"]


def _rejected(st: Statement, pr: VmProof, elf: bytes = ELF) -> str:
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=elf)
    return info.value.claim


def _row(tr: Trace, flag: str, extra: str | None = None) -> int:
    return [t for t in range(tr.cycles) if tr.columns[flag][t] and (extra is None or tr.columns[extra][t])][-1]


def test_all_classes_runs_every_multiplier_op() -> None:
    for flag in ("f_sll", "f_srl", "f_sra", "f_mul", "f_mulhu"):
        assert _row(_TRACE, flag) >= 0, flag
    sra = build_trace(SRA)
    assert any(sra.columns["sa"][t] for t in range(sra.cycles) if sra.columns["f_sra"][t])


@pytest.mark.parametrize("flag", ["f_sll", "f_srl", "f_sra", "f_mul", "f_mulhu"])
def test_lying_about_a_result_is_rejected(flag: str) -> None:
    t = _row(_TRACE, flag)

    def lie(c: int, what: str, v: int) -> int:
        return v ^ 0x10001 if (c == t and what == "value") else v
    st, pr = prove(ELF, _lie=lie)
    assert _rejected(st, pr) == "constraints"


@pytest.mark.parametrize("flag", ["f_sll", "f_sra"])
def test_lying_about_the_shift_amount_is_rejected(flag: str) -> None:
    """Shift by s + 1 with every column derived from it: only the pow table knows b's byte means s."""
    t = _row(_TRACE, flag)

    def lie(c: int, what: str, v: int) -> int:
        return v + 1 if (c == t and what == "shamt") else v
    st, pr = prove(ELF, _lie=lie)
    assert _rejected(st, pr) == "pow lookup"


def _product_carry_cheat(tr: Trace, fix_next_byte: bool) -> None:
    """Z0 + 256 and cm0 - 1 keep the byte-0 column equation (Z0 + 256 cm0 is unchanged).

    cm0 is also byte 1's carry in, and Z0 + 256 Z1 is the result's low limb: without
    ``fix_next_byte`` both the "product byte 1" and the "result lo" constraints break (zk3's
    unexplained "constraints" rejection).  With it, Z1 - 1 restores both, every constraint holds,
    and only the limb table (Z0 is no byte: (Z0 + 256 Z1, Z0, Z1) is not a table row) catches it.
    """
    t = _row(tr, "f_mul", "cm0")
    c = tr.columns
    c["Z0"][t] = (int(c["Z0"][t]) + 256) % P
    c["cm0"][t] = (int(c["cm0"][t]) - 1) % P
    tr.range_mult[int(c["cm0"][t]) + 1] -= 1
    tr.range_mult[int(c["cm0"][t])] += 1
    if fix_next_byte:
        assert int(c["Z1"][t]) >= 1, "pick a row whose product byte 1 is nonzero"
        c["Z1"][t] = int(c["Z1"][t]) - 1


def test_lying_about_a_product_carry_breaks_the_next_byte_and_the_result() -> None:
    from ._reference import violations
    from stele.actors.zkvm._prove import statement_of

    tr = build_trace(ELF)
    _product_carry_cheat(tr, fix_next_byte=False)
    found = violations(tr, statement_of(tr, ELF, b""))
    assert "constraint product byte 1" in found and "constraint result lo" in found
    st, pr = prove(ELF, _cheat=lambda tr: _product_carry_cheat(tr, False))
    assert _rejected(st, pr) == "constraints"


def test_lying_about_a_product_carry_is_caught_by_the_limb_table() -> None:
    from ._reference import violations
    from stele.actors.zkvm._prove import statement_of

    tr = build_trace(ELF)
    _product_carry_cheat(tr, fix_next_byte=True)
    found = violations(tr, statement_of(tr, ELF, b""))
    assert found == ["limb lookups"], found
    st, pr = prove(ELF, _cheat=lambda tr: _product_carry_cheat(tr, True))
    assert _rejected(st, pr) == "limb lookup"


def test_lying_about_the_sra_mask_is_rejected() -> None:
    def cheat(tr: Trace) -> None:
        t = _row(tr, "f_sra", "sa")
        c = tr.columns
        c["MK_hi"][t] = (int(c["MK_hi"][t]) + 1) % P  # the result follows, so every constraint holds
        for name in ("res_hi", "rd_hi"):
            c[name][t] = (int(c[name][t]) + 1) % P
    st, pr = prove(SRA, _cheat=cheat)
    assert _rejected(st, pr, SRA) in ("pow lookup", "register memory check")
