"""The per-cycle constraint system ("AIR") of provable mode: columns, constraints, lookups.

One row per cycle, ``N = 2^n`` rows; row ``t`` is *active* for the
execution's cycles and a zero *padding* row after the exit (at least one).
Every word is two 16-bit limbs ``_lo``/``_hi``.

Columns (all base field, committed before any challenge)
--------------------------------------------------------
* ``active``, ``active_next``; ``npc_lo/hi`` (the next cycle's pc);
* the bytecode fields of :data:`~._bytecode.FIELDS` (``pc``, ``ret``, ``tgt``,
  ``st``, ``rd rs1 rs2 imm wr`` and the class flags), tied to the ELF by
  the bytecode lookup;
* register values: ``v1`` (x[rs1]), ``v2`` (x[rs2]), ``rd`` (written value),
  ``prev`` (x[rd] before), read timestamps ``ts1..3`` and their range limbs
  ``dl1..3``/``dh1..3``;
* ALU helpers: sum ``s`` = a + b with carries ``c0 c1``; difference
  ``d`` = a - b with borrows ``k0 k1``; sign bits ``sa sb``; signed
  less-than ``lt``; ``inv`` (the inverse of ``d_lo + d_hi`` when nonzero);
  ``taken``; the un-gated result ``res``.  Operands: ``a = v1``,
  ``b = imm + v2`` (the table puts ``rs2 = 0`` in immediate forms and
  ``imm = 0`` otherwise, and x0 reads 0).

Public columns, which the verifier evaluates itself: ``idx`` (the row
number), ``is_first``, ``is_last``.

Claims
------
* **Constraints** (:func:`constraints`), degree <= 3, zero on every row.
* **pc continuity**, a cyclic shift: ``npc(t) = pc(t+1)`` and
  ``active_next(t) = active(t+1)`` for every row (row ``N-1`` wraps to row
  0, which is why the last row must be padding).
* **Lookups** (LogUp, one extension helper column per fraction or pair of
  fractions, committed after the challenges ``alpha``, ``gamma``):
  - bytecode: each active row's fields are a table row;
  - registers (offline memory checking): per active row three operations,
    rs1 at time ``3t+1``, rs2 at ``3t+2``, rd at ``3t+3``, each reading
    ``(reg, value, ts)`` with ``ts`` < now and writing ``(reg, value', now)``;
    the multiset of initial state + writes equals reads + final state;
  - range: 12 values per row in [0, 2^16) (sum and difference limbs, the
    sign decompositions, the timestamp gaps).
"""

from __future__ import annotations

from dataclasses import dataclass

from stele.actors.prover import Ext, ext_mul

from ._bytecode import FIELDS
from ._expr import Poly, col, const

__all__ = ["TRACE_COLUMNS", "PUBLIC_COLUMNS", "HELPERS", "SHIFTS", "EXT_BASIS", "AIR_VERSION", "Fraction",
           "constraints", "fractions", "helper_poly", "helper_columns", "fingerprint_powers", "RANGE_BITS",
           "TS_SHIFT", "EXIT_SYSCALLS"]

AIR_VERSION = "stele.vm-air/1"
RANGE_BITS = 16
#: the timestamp gap is ``dl + TS_SHIFT * dh`` with both limbs in [0, 2^16): it is below 2^30 + 2^16,
#: far below ``p - 3N`` for N <= 2^20, so ``now - ts - 1`` cannot wrap around the field.
TS_SHIFT = 1 << 14
EXIT_SYSCALLS = (93, 94)

_VALUE_COLUMNS = ("v1_lo", "v1_hi", "v2_lo", "v2_hi", "rd_lo", "rd_hi", "prev_lo", "prev_hi",
                  "ts1", "ts2", "ts3", "dl1", "dh1", "dl2", "dh2", "dl3", "dh3")
_ALU_COLUMNS = ("s_lo", "s_hi", "c0", "c1", "d_lo", "d_hi", "k0", "k1", "sa", "sb", "lt", "inv", "taken",
                "res_lo", "res_hi")
TRACE_COLUMNS: tuple[str, ...] = ("active", "active_next", "npc_lo", "npc_hi") + FIELDS + _VALUE_COLUMNS \
    + _ALU_COLUMNS
PUBLIC_COLUMNS: tuple[str, ...] = ("idx", "is_first", "is_last")
HELPERS: tuple[str, ...] = ("h_bc", "h_r1", "h_r2", "h_r3", "h_g0", "h_g1", "h_g2", "h_g3", "h_g4", "h_g5")
#: (next column, current column): next(t) = current(t + 1 mod N).
SHIFTS: tuple[tuple[str, str], ...] = (("npc_lo", "pc_lo"), ("npc_hi", "pc_hi"), ("active_next", "active"))
EXT_BASIS: tuple[Ext, ...] = ((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1))
_L = 1 << 16


def helper_columns(name: str) -> tuple[str, ...]:
    """The four base columns holding extension helper ``name``'s coordinates."""
    return tuple(f"{name}.{i}" for i in range(4))


def helper_poly(name: str) -> Poly:
    """Helper ``name`` as an extension-valued polynomial of its four base columns."""
    out = Poly()
    for e, c in zip(EXT_BASIS, helper_columns(name)):
        out = out + col(c) * e
    return out


def _c(name: str) -> Poly:
    return col(name)


def constraints(entry: int, exit_code: int) -> list[tuple[str, Poly]]:
    """The base constraints, each zero on every row of a valid trace (names say what they enforce)."""
    a, an = _c("active"), _c("active_next")
    first, last = _c("is_first"), _c("is_last")
    f = {n: _c(n) for n in FIELDS}
    v1l, v1h, v2l, v2h = _c("v1_lo"), _c("v1_hi"), _c("v2_lo"), _c("v2_hi")
    bl, bh = f["imm_lo"] + v2l, f["imm_hi"] + v2h
    sl, sh, c0, c1 = _c("s_lo"), _c("s_hi"), _c("c0"), _c("c1")
    dlo, dhi, k0, k1 = _c("d_lo"), _c("d_hi"), _c("k0"), _c("k1")
    sa, sb, lt, inv, taken = _c("sa"), _c("sb"), _c("lt"), _c("inv"), _c("taken")
    rl, rh = _c("res_lo"), _c("res_hi")
    z = dlo + dhi
    zf = 1 - z * inv
    out: list[tuple[str, Poly]] = []
    for b in ("active", "c0", "c1", "k0", "k1", "sa", "sb"):
        out.append((f"bool {b}", _c(b) * (1 - _c(b))))
    out += [
        ("first row active", first * (1 - a)),
        ("first pc = entry (lo)", first * (f["pc_lo"] - (entry & 0xFFFF))),
        ("first pc = entry (hi)", first * (f["pc_hi"] - (entry >> 16))),
        ("last row is padding", last * a),
        ("no restart after exit", (1 - a) * an * (1 - last)),
        ("exit exactly at ecall", a * (1 - an) - a * f["f_ecall"]),
        ("ecall is exit (a7 lo)", f["f_ecall"] * (v1l - EXIT_SYSCALLS[0]) * (v1l - EXIT_SYSCALLS[1])),
        ("ecall is exit (a7 hi)", f["f_ecall"] * v1h),
        ("exit code (lo)", a * f["f_ecall"] * (v2l - (exit_code & 0xFFFF))),
        ("exit code (hi)", a * f["f_ecall"] * (v2h - (exit_code >> 16))),
        ("add lo", v1l + bl - sl - _L * c0),
        ("add hi", v1h + bh + c0 - sh - _L * c1),
        ("sub lo", dlo + bl - v1l - _L * k0),
        ("sub hi", dhi + bh + k0 - v1h - _L * k1),
        ("signed lt", lt - sa * (1 - sb) - (1 - sa - sb + 2 * sa * sb) * k1),
        ("is-zero", z * zf),
        ("taken", taken - f["f_jal"] - f["f_beq"] * zf - f["f_bne"] * (1 - zf) - f["f_blt"] * lt
         - f["f_bge"] * (1 - lt) - f["f_bltu"] * k1 - f["f_bgeu"] * (1 - k1)),
        ("result lo", rl - f["f_add"] * sl - f["f_sub"] * dlo - f["f_slt"] * lt - f["f_sltu"] * k1
         - f["f_st"] * f["st_lo"]),
        ("result hi", rh - f["f_add"] * sh - f["f_sub"] * dhi - f["f_st"] * f["st_hi"]),
        ("rd lo", _c("rd_lo") - f["wr"] * rl),
        ("rd hi", _c("rd_hi") - f["wr"] * rh),
    ]
    seq = 1 - taken - f["f_jalr"] - f["f_ecall"]
    for limb in ("lo", "hi"):
        npc = _c(f"npc_{limb}") - f["f_jalr"] * _c(f"s_{limb}") - taken * f[f"tgt_{limb}"] - seq * f[f"ret_{limb}"]
        out.append((f"next pc ({limb})", a * npc))
    for k in (1, 2, 3):
        gap = 3 * _c("idx") + k - _c(f"ts{k}") - 1 - _c(f"dl{k}") - TS_SHIFT * _c(f"dh{k}")
        out.append((f"timestamp {k} < now", a * gap))
    return out


@dataclass(frozen=True, slots=True)
class Fraction:
    """Helper ``name`` = ``num / prod(den)``; the constraint is ``name * prod(den) - num = 0``."""

    name: str
    num: Poly
    den: tuple[Poly, ...]


def fingerprint_powers(gamma: Ext, count: int) -> list[Ext]:
    """``1, gamma, gamma^2, ...`` (``count`` of them)."""
    out: list[Ext] = [(1, 0, 0, 0)]
    for _ in range(count - 1):
        out.append(ext_mul(out[-1], gamma))
    return out


def _reg_tuple(addr: Poly, lo: Poly, hi: Poly, ts: Poly, g: list[Ext]) -> Poly:
    return addr + lo * g[1] + hi * g[2] + ts * g[3]


def register_ops() -> list[tuple[str, str, str, str, str, str, int]]:
    """Per op: (address column, read lo, read hi, read ts, write lo, write hi, k) with now = 3 idx + k."""
    return [("rs1", "v1_lo", "v1_hi", "ts1", "v1_lo", "v1_hi", 1),
            ("rs2", "v2_lo", "v2_hi", "ts2", "v2_lo", "v2_hi", 2),
            ("rd", "prev_lo", "prev_hi", "ts3", "rd_lo", "rd_hi", 3)]


def range_values() -> list[Poly]:
    """The 12 expressions every row range-checks into [0, 2^16), in helper-pair order."""
    bh = _c("imm_hi") + _c("v2_hi")
    return [_c("s_lo"), _c("s_hi"), _c("d_lo"), _c("d_hi"),
            2 * (_c("v1_hi") - (1 << 15) * _c("sa")), 2 * (bh - (1 << 15) * _c("sb")),
            _c("dl1"), _c("dh1"), _c("dl2"), _c("dh2"), _c("dl3"), _c("dh3")]


def fractions(alpha: Ext, gamma: Ext) -> list[Fraction]:
    """The LogUp helpers, in :data:`HELPERS` order."""
    al = const(alpha)
    g = fingerprint_powers(gamma, max(len(FIELDS), 4))
    fp = Poly()
    for i, name in enumerate(FIELDS):
        fp = fp + _c(name) * g[i]
    out = [Fraction("h_bc", _c("active"), (al - fp,))]
    for i, (addr, rl, rh, ts, wl, wh, k) in enumerate(register_ops()):
        read = _reg_tuple(_c(addr), _c(rl), _c(rh), _c(ts), g)
        write = _reg_tuple(_c(addr), _c(wl), _c(wh), 3 * _c("idx") + k, g)
        out.append(Fraction(f"h_r{i + 1}", _c("active") * (write - read), (al - write, al - read)))
    vals = range_values()
    for i in range(6):
        x, y = vals[2 * i], vals[2 * i + 1]
        out.append(Fraction(f"h_g{i}", (al - x) + (al - y), (al - x, al - y)))
    return out


def bytecode_fingerprint_powers(gamma: Ext) -> list[Ext]:
    """The powers of gamma the bytecode fingerprint uses, one per table field."""
    return fingerprint_powers(gamma, max(len(FIELDS), 4))[: len(FIELDS)]
