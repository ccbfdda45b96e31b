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

RAM columns (``_MEM_COLUMNS``): the address ``s = rs1 + imm`` split into the
word address ``(ma_lo, s_hi)`` and the byte offset ``o0 + 2 o1`` (one-hot
``e0..e3``); the word before (``old``) and after (``new``) the access, its
read timestamp ``tsm`` (gap limbs ``dlm dhm``), the old word's bytes ``B0..B3``
and their sign bits ``s0..s3``, rs2's low limb's bytes ``V0 V1`` (signs
``vs0 vs1``), the loaded value ``ld`` and its sign ``sg``, and ``ro`` (the
word is read-only text).  The RAM table's committed side ``fin_lo fin_hi
fin_ts`` (row ``j`` = word ``j``, see ``_memory``) shares the trace domain.

Public columns, which the verifier evaluates itself: ``idx`` (the row
number), ``is_first``, ``is_last``, and the RAM table's ``maddr_lo/hi``,
``minit_lo/hi``, ``mrow``, ``mro`` (computed from the ELF in O(words)).

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
  - RAM (offline memory checking, word-granular): a load or store on row
    ``t`` reads ``(word, old, tsm, ro)`` with ``tsm < t + 1`` and writes
    ``(word, new, t + 1, ro)``; the multiset of the initial image (the ELF)
    + writes equals reads + the final table (``h_m`` = ``h_t``);
  - range: 15 values per row in [0, 2^16) (sum and difference limbs, the
    sign decompositions, the timestamp gaps, the word address's low part);
  - AND: the four byte pairs of the ALU operands with their AND, in the
    2^16-row table ``(x, y, x & y)`` (which also makes them bytes);
  - pow: b's low byte with the shift constants 2^s, 2^(32-s) and the sra
    mask (s = b & 31), in a 256-row table;
  - limb: seven 16-bit limbs per row (the product's four too) (the old word's, rs2's low limb) with
    their bytes and bits 7 and 15, looked up in the 2^16-row limb table.
"""

from __future__ import annotations

from dataclasses import dataclass

from stele.actors.prover import Ext, ext_mul

from ._bytecode import FIELDS, MEM_FLAGS
from ._expr import Poly, col, const

__all__ = ["TRACE_COLUMNS", "PUBLIC_COLUMNS", "RANGE_HELPERS", "LIMB_HELPERS", "pow_fingerprint", "pow_row",
           "product_limbs", "MEMORY_PUBLIC", "ram_tuple", "limb_tuples", "limb_fingerprint", "and_fingerprint", "HELPERS", "SHIFTS", "EXT_BASIS", "AIR_VERSION", "Fraction",
           "constraints", "fractions", "helper_poly", "helper_columns", "fingerprint_powers", "RANGE_BITS",
           "TS_SHIFT", "EXIT_SYSCALLS"]

AIR_VERSION = "stele.vm-air/2"
RANGE_BITS = 16
#: the timestamp gap is ``dl + TS_SHIFT * dh`` with both limbs in [0, 2^16): it is below 2^30 + 2^16,
#: far below ``p - 3N`` for N <= 2^20, so ``now - ts - 1`` cannot wrap around the field.
TS_SHIFT = 1 << 14
EXIT_SYSCALLS = (93, 94)

_VALUE_COLUMNS = ("v1_lo", "v1_hi", "v2_lo", "v2_hi", "rd_lo", "rd_hi", "prev_lo", "prev_hi",
                  "ts1", "ts2", "ts3", "dl1", "dh1", "dl2", "dh2", "dl3", "dh3")
_ALU_COLUMNS = ("s_lo", "s_hi", "c0", "c1", "d_lo", "d_hi", "k0", "k1", "sa", "sb", "lt", "inv", "taken",
                "res_lo", "res_hi", "b_lo", "b_hi")
#: per-row RAM access: word address (ma_lo, s_hi), byte offset bits o0 o1 and their one-hot e0..e3, the
#: word before/after, the read timestamp and its gap limbs, the old word's bytes B* and sign bits s*,
#: rs2's low limb's bytes V0 V1 and sign bits vs0 vs1, the loaded value's sign sg, the loaded value ld,
#: and ro (the word is in an executable segment: read-only).
_MEM_COLUMNS = ("ma_lo", "o0", "o1", "e0", "e1", "e2", "e3", "old_lo", "old_hi", "new_lo", "new_hi", "tsm",
                "dlm", "dhm", "B0", "B1", "B2", "B3", "s0", "s1", "s2", "s3", "V0", "V1", "vs0", "vs1", "sg",
                "ld_lo", "ld_hi", "ro")
#: bitwise ops: the bytes of the two ALU operands (X* of rs1, Y* of b) and of their AND (A*), tied by
#: the 2^16-row AND table; OR and XOR follow linearly (a | b = a + b - a & b, a ^ b = a + b - 2 (a & b)).
_LOGIC_COLUMNS = ("X0", "X1", "X2", "X3", "Y0", "Y1", "Y2", "Y3", "A0", "A1", "A2", "A3")
#: the byte multiplier (shifts and mul/mulhu): rs1's bytes X* times the multiplier bytes W* (b for mul,
#: 2^s for sll, 2^(32-s) for srl/sra, s = b & 31) is the 8-byte product Z* with carries cm*; the shift
#: constants P* = 2^s, Q* = 2^(32-s) and MK = the sra fill mask come from the pow table (row = b's low
#: byte); zs* are the product limbs' bits 7 and 15 (for their limb lookups, which make Z* bytes).
_MUL_COLUMNS = ("W0", "W1", "W2", "W3", "W4", "Z0", "Z1", "Z2", "Z3", "Z4", "Z5", "Z6", "Z7",
                "cm0", "cm1", "cm2", "cm3", "cm4", "cm5", "cm6", "zs0", "zs1", "zs2", "zs3", "zs4", "zs5", "zs6",
                "zs7", "P0", "P1", "P2", "P3", "Q0", "Q1", "Q2", "Q3", "Q4", "MK_lo", "MK_hi")
#: the RAM table's committed side: each word's final value and final timestamp (row j = word j of the image).
_TABLE_COLUMNS = ("fin_lo", "fin_hi", "fin_ts")
TRACE_COLUMNS: tuple[str, ...] = ("active", "active_next", "npc_lo", "npc_hi") + FIELDS + _VALUE_COLUMNS \
    + _ALU_COLUMNS + _MEM_COLUMNS + _LOGIC_COLUMNS + _MUL_COLUMNS + _TABLE_COLUMNS
#: the RAM table's public side (rows 0..D-1, zero beyond): word address limbs (addr >> 2 = lo + 2^14 hi),
#: initial value limbs, ``mrow`` (1 on a real word) and ``mro`` (1 on a word of an executable segment).
MEMORY_PUBLIC: tuple[str, ...] = ("maddr_lo", "maddr_hi", "minit_lo", "minit_hi", "mrow", "mro")
PUBLIC_COLUMNS: tuple[str, ...] = ("idx", "is_first", "is_last") + MEMORY_PUBLIC
#: the range-check helpers, two values each (22 values per row).
RANGE_HELPERS: tuple[str, ...] = tuple(f"h_g{i}" for i in range(11))
#: the limb-table helpers: (old_lo, old_hi), v2_lo, and the product's four limbs in two pairs.
LIMB_HELPERS: tuple[str, ...] = ("h_l0", "h_l1", "h_l2", "h_l3")
HELPERS: tuple[str, ...] = ("h_bc", "h_r1", "h_r2", "h_r3") + RANGE_HELPERS + ("h_m", "h_t") + LIMB_HELPERS \
    + ("h_a0", "h_a1", "h_p")
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
    bl, bh = _c("b_lo"), _c("b_hi")
    sl, sh, c0, c1 = _c("s_lo"), _c("s_hi"), _c("c0"), _c("c1")
    dlo, dhi, k0, k1 = _c("d_lo"), _c("d_hi"), _c("k0"), _c("k1")
    sa, sb, lt, inv, taken = _c("sa"), _c("sb"), _c("lt"), _c("inv"), _c("taken")
    rl, rh = _c("res_lo"), _c("res_hi")
    m = {n: _c(n) for n in _MEM_COLUMNS}
    o0, o1 = m["o0"], m["o1"]
    e = [m[f"e{i}"] for i in range(4)]
    byte = [m[f"B{i}"] for i in range(4)]
    sign = [m[f"s{i}"] for i in range(4)]
    old_lo, old_hi = m["old_lo"], m["old_hi"]
    store = f["f_sb"] + f["f_sh"] + f["f_sw"]
    load = f["f_lb"] + f["f_lbu"] + f["f_lh"] + f["f_lhu"] + f["f_lw"]
    z = dlo + dhi
    zf = 1 - z * inv
    X, Y, A = ([_c(f"{k}{i}") for i in range(4)] for k in "XYA")
    and_lo, and_hi = A[0] + 256 * A[1], A[2] + 256 * A[3]
    logic_lo = f["f_and"] * and_lo + f["f_or"] * (v1l + bl - and_lo) + f["f_xor"] * (v1l + bl - 2 * and_lo)
    logic_hi = f["f_and"] * and_hi + f["f_or"] * (v1h + bh - and_hi) + f["f_xor"] * (v1h + bh - 2 * and_hi)
    W = [_c(f"W{j}") for j in range(5)]
    Z = [_c(f"Z{k}") for k in range(8)]
    cm = [_c(f"cm{k}") for k in range(7)]
    low_word = f["f_mul"] + f["f_sll"]
    high_word = f["f_mulhu"] + f["f_srl"] + f["f_sra"]
    mul_lo = low_word * (Z[0] + 256 * Z[1]) + high_word * (Z[4] + 256 * Z[5]) + f["f_sra"] * sa * _c("MK_lo")
    mul_hi = low_word * (Z[2] + 256 * Z[3]) + high_word * (Z[6] + 256 * Z[7]) + f["f_sra"] * sa * _c("MK_hi")
    out: list[tuple[str, Poly]] = []
    for j in range(5):
        wj = f["f_sll"] * _c(f"P{j}") if j < 4 else Poly()
        wj = wj + (f["f_srl"] + f["f_sra"]) * _c(f"Q{j}")
        if j < 4:
            wj = wj + (f["f_mul"] + f["f_mulhu"]) * Y[j]
        out.append((f"multiplier byte {j}", W[j] - wj))
    for k in range(8):
        col_k = Poly()
        for i in range(4):
            if 0 <= k - i < 5:
                col_k = col_k + X[i] * W[k - i]
        carry_in = cm[k - 1] if k else Poly()
        carry_out = 256 * cm[k] if k < 7 else Poly()
        out.append((f"product byte {k}", col_k + carry_in - Z[k] - carry_out))
    for b in ("active", "c0", "c1", "k0", "k1", "sa", "sb", "o0", "o1", "ro"):
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
        ("operand b lo", bl - f["imm_lo"] - (1 - store) * v2l),
        ("operand b hi", bh - f["imm_hi"] - (1 - store) * v2h),
        ("add lo", v1l + bl - sl - _L * c0),
        ("add hi", v1h + bh + c0 - sh - _L * c1),
        ("sub lo", dlo + bl - v1l - _L * k0),
        ("sub hi", dhi + bh + k0 - v1h - _L * k1),
        ("signed lt", lt - sa * (1 - sb) - (1 - sa - sb + 2 * sa * sb) * k1),
        ("is-zero", z * zf),
        ("taken", taken - f["f_jal"] - f["f_beq"] * zf - f["f_bne"] * (1 - zf) - f["f_blt"] * lt
         - f["f_bge"] * (1 - lt) - f["f_bltu"] * k1 - f["f_bgeu"] * (1 - k1)),
        ("result lo", rl - f["f_add"] * sl - f["f_sub"] * dlo - f["f_slt"] * lt - f["f_sltu"] * k1
         - f["f_st"] * f["st_lo"] - load * m["ld_lo"] - logic_lo - mul_lo),
        ("result hi", rh - f["f_add"] * sh - f["f_sub"] * dhi - f["f_st"] * f["st_hi"] - load * m["ld_hi"]
         - logic_hi - mul_hi),
        ("rs1 bytes lo", v1l - X[0] - 256 * X[1]),
        ("rs1 bytes hi", v1h - X[2] - 256 * X[3]),
        ("b bytes lo", bl - Y[0] - 256 * Y[1]),
        ("b bytes hi", bh - Y[2] - 256 * Y[3]),
        ("rd lo", _c("rd_lo") - f["wr"] * rl),
        ("rd hi", _c("rd_hi") - f["wr"] * rh),
        # memory: address = s = rs1 + imm; word address (ma_lo + 2^14 s_hi), byte offset o0 + 2 o1
        ("address split", sl - 4 * m["ma_lo"] - o0 - 2 * o1),
        ("offset one-hot 0", e[0] - (1 - o0) * (1 - o1)),
        ("offset one-hot 1", e[1] - o0 * (1 - o1)),
        ("offset one-hot 2", e[2] - (1 - o0) * o1),
        ("offset one-hot 3", e[3] - o0 * o1),
        ("word access aligned", (f["f_lw"] + f["f_sw"]) * (o0 + o1)),
        ("half access aligned", (f["f_lh"] + f["f_lhu"] + f["f_sh"]) * o0),
        ("load sign", m["sg"] - f["f_lb"] * (e[0] * sign[0] + e[1] * sign[1] + e[2] * sign[2] + e[3] * sign[3])
         - f["f_lh"] * ((1 - o1) * sign[1] + o1 * sign[3])),
        ("loaded lo", m["ld_lo"] - f["f_lw"] * old_lo - (f["f_lh"] + f["f_lhu"]) * ((1 - o1) * old_lo + o1 * old_hi)
         - (f["f_lb"] + f["f_lbu"]) * (e[0] * byte[0] + e[1] * byte[1] + e[2] * byte[2] + e[3] * byte[3])
         - 0xFF00 * f["f_lb"] * m["sg"]),
        ("loaded hi", m["ld_hi"] - f["f_lw"] * old_hi - 0xFFFF * m["sg"]),
        ("stored lo", m["new_lo"] - old_lo - f["f_sb"] * (e[0] * (m["V0"] - byte[0]) + 256 * e[1] * (m["V0"] - byte[1]))
         - f["f_sh"] * (1 - o1) * (v2l - old_lo) - f["f_sw"] * (v2l - old_lo)),
        ("stored hi", m["new_hi"] - old_hi - f["f_sb"] * (e[2] * (m["V0"] - byte[2]) + 256 * e[3] * (m["V0"] - byte[3]))
         - f["f_sh"] * o1 * (v2l - old_hi) - f["f_sw"] * (v2h - old_hi)),
        ("no store to text", store * m["ro"]),
        ("memory timestamp < now", (load + store) * (_c("idx") - m["tsm"] - m["dlm"] - TS_SHIFT * m["dhm"])),
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
    """The 22 expressions every row range-checks into [0, 2^16), in helper-pair order."""
    return [_c("s_lo"), _c("s_hi"), _c("d_lo"), _c("d_hi"),
            2 * (_c("v1_hi") - (1 << 15) * _c("sa")), 2 * (_c("b_hi") - (1 << 15) * _c("sb")),
            _c("dl1"), _c("dh1"), _c("dl2"), _c("dh2"), _c("dl3"), _c("dh3"), _c("ma_lo"), _c("dlm"), _c("dhm")] \
        + [_c(f"cm{k}") for k in range(7)]


def ram_tuple(lo_addr: Poly, hi_addr: Poly, lo: Poly, hi: Poly, ts: Poly, ro: Poly, g: list[Ext]) -> Poly:
    """The fingerprint of one RAM access or table entry: (word address limbs, value limbs, ts, read-only)."""
    return lo_addr + hi_addr * g[1] + lo * g[2] + hi * g[3] + ts * g[4] + ro * g[5]


def limb_fingerprint(v: Poly, b0: Poly, b1: Poly, s7: Poly, s15: Poly, g: list[Ext]) -> Poly:
    """The fingerprint of a limb-table row: a 16-bit value, its two bytes and its bits 7 and 15."""
    return v + b0 * g[1] + b1 * g[2] + s7 * g[3] + s15 * g[4]


def limb_tuples() -> list[tuple[str, str, str, str, str]]:
    """The three limbs every row looks up in the limb table: the old word's two limbs and rs2's low limb."""
    return [("old_lo", "B0", "B1", "s0", "s1"), ("old_hi", "B2", "B3", "s2", "s3"),
            ("v2_lo", "V0", "V1", "vs0", "vs1")]


def ram_ops(g: list[Ext]) -> tuple[Poly, Poly, Poly]:
    """(multiplicity, read, write) of the row's RAM access: read at tsm, write at ``idx + 1``."""
    mult = Poly()
    for name in MEM_FLAGS:
        mult = mult + _c(name)
    addr = (_c("ma_lo"), _c("s_hi"))
    read = ram_tuple(*addr, _c("old_lo"), _c("old_hi"), _c("tsm"), _c("ro"), g)
    write = ram_tuple(*addr, _c("new_lo"), _c("new_hi"), _c("idx") + 1, _c("ro"), g)
    return mult, read, write


def table_ops(g: list[Ext]) -> tuple[Poly, Poly]:
    """(initial, final) fingerprints of the RAM table row."""
    addr = (_c("maddr_lo"), _c("maddr_hi"))
    init = ram_tuple(*addr, _c("minit_lo"), _c("minit_hi"), const(0), _c("mro"), g)
    fin = ram_tuple(*addr, _c("fin_lo"), _c("fin_hi"), _c("fin_ts"), _c("mro"), g)
    return init, fin


def fractions(alpha: Ext, gamma: Ext) -> list[Fraction]:
    """The LogUp helpers, in :data:`HELPERS` order."""
    al = const(alpha)
    g = fingerprint_powers(gamma, max(len(FIELDS), 6))
    fp = Poly()
    for i, name in enumerate(FIELDS):
        fp = fp + _c(name) * g[i]
    out = [Fraction("h_bc", _c("active"), (al - fp,))]
    for i, (addr, rl, rh, ts, wl, wh, k) in enumerate(register_ops()):
        read = _reg_tuple(_c(addr), _c(rl), _c(rh), _c(ts), g)
        write = _reg_tuple(_c(addr), _c(wl), _c(wh), 3 * _c("idx") + k, g)
        out.append(Fraction(f"h_r{i + 1}", _c("active") * (write - read), (al - write, al - read)))
    vals = range_values()
    for i, name in enumerate(RANGE_HELPERS):
        x, y = vals[2 * i], vals[2 * i + 1]
        out.append(Fraction(name, (al - x) + (al - y), (al - x, al - y)))
    mult, read, write = ram_ops(g)
    out.append(Fraction("h_m", mult * (write - read), (al - write, al - read)))
    init, fin = table_ops(g)
    out.append(Fraction("h_t", _c("mrow") * (fin - init), (al - fin, al - init)))
    x, y, w = (limb_fingerprint(_c(v), _c(b0), _c(b1), _c(s7), _c(s15), g) for v, b0, b1, s7, s15 in limb_tuples())
    out.append(Fraction("h_l0", (al - x) + (al - y), (al - x, al - y)))
    out.append(Fraction("h_l1", const(1), (al - w,)))
    zl = [limb_fingerprint(*limb, g) for limb in product_limbs()]
    for k in range(2):
        x, y = zl[2 * k], zl[2 * k + 1]
        out.append(Fraction(f"h_l{k + 2}", (al - x) + (al - y), (al - x, al - y)))
    ands = [and_fingerprint(_c(f"X{i}"), _c(f"Y{i}"), _c(f"A{i}"), g) for i in range(4)]
    for k in range(2):
        x, y = ands[2 * k], ands[2 * k + 1]
        out.append(Fraction(f"h_a{k}", (al - x) + (al - y), (al - x, al - y)))
    out.append(Fraction("h_p", const(1), (al - pow_fingerprint(pow_row(), g),)))
    return out


def product_limbs() -> list[tuple[Poly, Poly, Poly, Poly, Poly]]:
    """The product's four 16-bit limbs as limb-table keys (value, bytes, bits 7 and 15)."""
    return [(_c(f"Z{2 * k}") + 256 * _c(f"Z{2 * k + 1}"), _c(f"Z{2 * k}"), _c(f"Z{2 * k + 1}"), _c(f"zs{2 * k}"),
             _c(f"zs{2 * k + 1}")) for k in range(4)]


def pow_row() -> list[Poly]:
    """The row's pow-table key: b's low byte, then P0..P3, Q0..Q4, MK_lo, MK_hi."""
    names = ["Y0"] + [f"P{j}" for j in range(4)] + [f"Q{j}" for j in range(5)] + ["MK_lo", "MK_hi"]
    return [_c(n) for n in names]


def pow_fingerprint(values: list[Poly], g: list[Ext]) -> Poly:
    """The fingerprint of a pow-table row (12 fields)."""
    out = Poly()
    for gi, v in zip(g, values):
        out = out + v * gi
    return out


def and_fingerprint(x: Poly, y: Poly, z: Poly, g: list[Ext]) -> Poly:
    """The fingerprint of an AND-table row ``(x, y, x & y)`` over bytes."""
    return x + y * g[1] + z * g[2]


def bytecode_fingerprint_powers(gamma: Ext) -> list[Ext]:
    """The powers of gamma the bytecode fingerprint uses, one per table field."""
    return fingerprint_powers(gamma, max(len(FIELDS), 6))[: len(FIELDS)]
