"""Signed high products and division (mulh mulhsu div divu rem remu): honest edge cases and cheating provers.

The multiplier takes both operands sign-extended to 64 bits (``xs``/``ys``);
a division row puts the quotient ``q`` in the multiplier's X bytes and checks
``q * d + r = n`` over 64 bits, ``|r| < |d|`` (``u = |d| - |r| - 1`` range
checked), ``r`` has the dividend's sign, ``x / 0`` gives ``q = -1`` (all
ones) and ``r = x``, and ``INT_MIN / -1`` (``ovf``) gives ``q = INT_MIN``,
``r = 0``.  Every cheat below is a *consistent* lie (the trace builder derives
every other column, the register file and the exit code from it), so the
machine-level run looks fine; the tests check that the verifier rejects it,
that the independent reference checker finds exactly the targeted
constraints violated, and that the same cheat is *accepted* once those
constraints are removed from the AIR (so each test depends on its defence).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stele.actors.coprocessor import encode
from stele.actors.zkvm import ProofRejected, Statement, VmProof, prove, verify
from stele.actors.zkvm import _prove as zprove
from stele.actors.zkvm._air import constraints
from stele.actors.zkvm._prove import statement_of
from stele.actors.zkvm._trace import build_trace

from ._programs import exit_with_register, li
from ._reference import violations

M = 0xFFFFFFFF
INT_MIN = 0x80000000


def _small(op: str, a: int, b: int) -> bytes:
    """``x7 = op(a, b)``, then exit with x7."""
    return exit_with_register(li(5, a) + li(6, b) + [encode(op, 7, 5, 6)], 7)


def _op_row(elf: bytes, flag: str) -> int:
    tr = build_trace(elf)
    return [t for t in range(tr.cycles) if tr.columns[flag][t]][0]


def _liar(row: int, lies: dict[str, int]) -> Callable[[int, str, int], int]:
    def lie(c: int, what: str, v: int) -> int:
        return lies[what] if c == row and what in lies else v
    return lie


def _rejected(st: Statement, pr: VmProof, elf: bytes) -> str:
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=elf)
    return info.value.claim


def _signed(v: int) -> int:
    return v - ((v >> 31) << 32)


def _expected(op: str, a: int, b: int) -> int:
    """The RISC-V M result, written out from the spec (independent of the trace builder)."""
    sa, sb = _signed(a), _signed(b)
    if op == "mulh":
        return ((sa * sb) >> 32) & M
    if op == "mulhsu":
        return ((sa * b) >> 32) & M
    if op in ("divu", "remu"):
        if b == 0:
            return M if op == "divu" else a
        return a // b if op == "divu" else a % b
    if b == 0:
        return M if op == "div" else a
    if sa == -(1 << 31) and sb == -1:
        return INT_MIN if op == "div" else 0
    q = abs(sa) // abs(sb) * (1 if (sa < 0) == (sb < 0) else -1)
    return q & M if op == "div" else (sa - q * sb) & M


EDGE_CASES = [
    ("div", INT_MIN, M), ("rem", INT_MIN, M),           # the signed overflow INT_MIN / -1
    ("div", 5, 0), ("divu", 5, 0), ("rem", 0xFFFFFFF9, 0), ("remu", 5, 0),  # division by zero
    ("div", 0xFFFFFFF9, 2), ("rem", 0xFFFFFFF9, 2), ("rem", 7, 0xFFFFFFFE),  # truncation toward zero
    ("divu", M, 1), ("remu", 0x12345678, 0x10000), ("div", INT_MIN, 1),
    ("mulh", INT_MIN, INT_MIN), ("mulh", M, M), ("mulh", 0xFFFFFFFD, 5),
    ("mulhsu", M, M), ("mulhsu", INT_MIN, M), ("mulhsu", 5, 0xFFFFFFFD),
]


@pytest.mark.parametrize("op, a, b", EDGE_CASES)
def test_edge_cases_prove_with_the_spec_result(op: str, a: int, b: int) -> None:
    elf = _small(op, a, b)
    st, pr = prove(elf)
    assert st.exit_code == _expected(op, a, b)
    verify(st, pr, elf=elf)


def test_expected_matches_the_coprocessor_on_the_edge_cases() -> None:
    """The spec table above agrees with the co-processor (which the trace builder is checked against)."""
    for op, a, b in EDGE_CASES:
        tr = build_trace(_small(op, a, b))
        assert tr.exit_code == _expected(op, a, b), (op, a, b)


# ------------------------------------------------------------------------------------------------ cheats
#: (name, op, a, b, lies on the op's row, the constraints the lie violates (all of them), what rejects it)
CHEATS = [
    # q - 1 and r + d: q d + r = n still holds, but r >= d; u (= d - r - 1 < 0) is forged in range
    ("remainder too large (divu)", "divu", 100, 7, {"quotient": 13, "remainder": 9, "u": 0},
     {"remainder bound (lo)", "remainder bound (hi)"}),
    ("remainder too large (div)", "div", 100, 7, {"quotient": 13, "remainder": 9, "u": 0},
     {"remainder bound (lo)", "remainder bound (hi)"}),
    ("remainder too large (rem, negative)", "rem", (-100) & M, 7,
     {"quotient": (-13) & M, "remainder": (-9) & M, "u": 0}, {"remainder bound (lo)", "remainder bound (hi)"}),
    # floor division instead of truncation: -7 / 2 = -4 rem 1 (|r| < |d| and q d + r = n hold)
    ("floor division (div)", "div", (-7) & M, 2, {"quotient": (-4) & M, "remainder": 1},
     {"remainder sign is dividend sign"}),
    ("floor division (rem)", "rem", 7, (-2) & M, {"quotient": (-4) & M, "remainder": (-1) & M},
     {"remainder sign is dividend sign"}),
    # x / 0 must give all ones
    ("quotient of x / 0 (divu)", "divu", 5, 0, {"quotient": 0},
     {"div by zero quotient (lo)", "div by zero quotient (hi)"}),
    ("quotient of x / 0 (div)", "div", 5, 0, {"quotient": 0xFFFF0007},
     {"div by zero quotient (lo)"}),
    # q + 2^31 with d = 2: q d + r = n mod 2^32, not over 64 bits
    ("quotient off by 2^31 (divu)", "divu", 6, 2, {"quotient": 0x80000003}, {"div sum 2"}),
    ("quotient off by 2^31 (div)", "div", 6, 2, {"quotient": 0x80000003}, {"div sum 2", "div sum 3"}),
    # ... hidden behind a false overflow flag (which switches the 64-bit check off)
    ("false overflow flag (div)", "div", 6, 2, {"quotient": 0x80000003, "ovf": 1},
     {"overflow dividend (lo)", "overflow dividend (hi)", "overflow divisor (lo)", "overflow divisor (hi)"}),
    ("false overflow flag (divu)", "divu", INT_MIN, M, {"quotient": 1, "remainder": INT_MIN + 1, "ovf": 1},
     {"overflow is signed"}),
    # signed high products computed as unsigned (or the other way round)
    ("mulh without rs1's sign", "mulh", (-3) & M, 5, {"xs": 0}, {"x sign extension"}),
    ("mulh without rs2's sign", "mulh", 5, (-3) & M, {"ys": 0}, {"multiplier sign extension"}),
    ("mulhsu with rs2 signed", "mulhsu", 5, (-3) & M, {"ys": 1}, {"multiplier sign extension"}),
    ("mulhsu without rs1's sign", "mulhsu", (-3) & M, 5, {"xs": 0}, {"x sign extension"}),
]


def _weakened(monkeypatch: pytest.MonkeyPatch, removed: set[str]) -> None:
    names = {n for n, _ in constraints(0, 0)}
    assert removed <= names, removed - names

    def weak(entry: int, exit_code: int) -> list[tuple[str, object]]:
        return [(n, c) for n, c in constraints(entry, exit_code) if n not in removed]
    monkeypatch.setattr(zprove, "constraints", weak)


@pytest.mark.parametrize("name, op, a, b, lies, targets", CHEATS, ids=[c[0] for c in CHEATS])
def test_cheat_is_rejected_and_needs_its_constraint(name: str, op: str, a: int, b: int, lies: dict[str, int],
                                                    targets: set[str]) -> None:
    elf = _small(op, a, b)
    row = _op_row(elf, f"f_{op}")
    lie = _liar(row, lies)
    tr = build_trace(elf, _lie=lie)
    assert tr.exit_code != _expected(op, a, b) or lies.get("ovf"), "the cheat must claim a wrong result"
    # exactly the targeted constraints fail; every lookup, the registers and RAM balance
    found = set(violations(tr, statement_of(tr, elf, b"")))
    assert found == {f"constraint {t}" for t in targets}, found
    # (so the independent checker finds the witness valid once the targets are removed)
    st, pr = prove(elf, _lie=lie)
    assert _rejected(st, pr, elf) == "constraints"


@pytest.mark.slow
@pytest.mark.parametrize("name, op, a, b, lies, targets", CHEATS, ids=[c[0] for c in CHEATS])
def test_cheat_proves_once_its_constraints_are_removed(monkeypatch: pytest.MonkeyPatch, name: str, op: str, a: int,
                                                       b: int, lies: dict[str, int], targets: set[str]) -> None:
    """End to end: with the targeted constraints dropped from prover and verifier, the cheat is accepted."""
    elf = _small(op, a, b)
    lie = _liar(_op_row(elf, f"f_{op}"), lies)
    _weakened(monkeypatch, targets)
    st, pr = prove(elf, _lie=lie)
    verify(st, pr, elf=elf)
    assert st.exit_code != _expected(op, a, b) or lies.get("ovf")


def test_remainder_too_large_without_a_forged_bound_fails_the_range_lookup() -> None:
    """q - 1, r + d, and u = d - r - 1 left negative: u's limbs are no 16-bit values."""
    elf = _small("divu", 100, 7)
    lie = _liar(_op_row(elf, "f_divu"), {"quotient": 13, "remainder": 9})
    tr = build_trace(elf, _lie=lie)
    assert set(violations(tr, statement_of(tr, elf, b""))) == {"range value", "range multiplicities"}
    st, pr = prove(elf, _lie=lie)
    assert _rejected(st, pr, elf) == "range lookup"


def test_overflow_flag_off_on_int_min_over_minus_one_has_no_valid_witness() -> None:
    """INT_MIN / -1 with ovf = 0: q = INT_MIN fails the 64-bit check (q d = +2^31); nothing else fits."""
    elf = _small("div", INT_MIN, M)
    lie = _liar(_op_row(elf, "f_div"), {"ovf": 0})
    tr = build_trace(elf, _lie=lie)
    assert set(violations(tr, statement_of(tr, elf, b""))) == {"constraint div sum 2", "constraint div sum 3"}
    st, pr = prove(elf, _lie=lie)
    assert _rejected(st, pr, elf) == "constraints"


@pytest.mark.parametrize("op", ["mulh", "mulhsu", "div", "divu", "rem", "remu"])
def test_lying_about_the_result_is_rejected(op: str) -> None:
    elf = _small(op, (-7) & M, 3)
    lie = _liar(_op_row(elf, f"f_{op}"), {"value": _expected(op, (-7) & M, 3) ^ 0x10001})
    st, pr = prove(elf, _lie=lie)
    assert _rejected(st, pr, elf) == "constraints"


# ------------------------------------------------------------------------------ single-cell mutations
def _division_cells() -> list[tuple[str, int]]:
    """(column, row): every signed-product/division column on a row of each of the six ops of all_classes."""
    from stele.actors.zkvm._air import _DIV_COLUMNS

    from ._programs import all_classes

    tr = build_trace(all_classes())
    rows = [[t for t in range(tr.cycles) if tr.columns[f"f_{op}"][t]][-1]
            for op in ("mulh", "mulhsu", "div", "divu", "rem", "remu")]
    return [(name, rows[i % len(rows)]) for i, name in enumerate(_DIV_COLUMNS + ("X0", "X3", "Z4", "Z7", "Y3"))]


def test_sampled_division_cell_mutations() -> None:
    """A few cells of the new columns on mulh/div rows: the verifier rejects iff the reference checker does."""
    from .test_vm_proof import _check_mutation

    cells = _division_cells()
    for name, row in (cells[4], cells[11], cells[14]):  # r_lo, nr, wb
        assert not _check_mutation(name, row, 1), name


@pytest.mark.slow
@pytest.mark.timeout(7200)
def test_every_division_column_mutated_on_a_division_row() -> None:
    from .test_vm_proof import _check_mutation

    for name, row in _division_cells():
        _check_mutation(name, row, 1)
