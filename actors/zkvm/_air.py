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

Signed products and division (``_DIV_COLUMNS``): the multiplier multiplies
X and W sign-extended to 64 bits (``xs``/``ys``, from the sign bits ``sx`` of
X and ``sb`` of b) modulo 2^64 (carry ``cm7`` dropped), which gives
``mulh``/``mulhsu`` as the high word.  On a ``div divu rem remu`` row X holds
the quotient ``q`` instead of rs1, and the constraints check ``q * d + r = n``
over 64 bits (limb carries ``dc0..dc3``; the upper half is off only under
``ovf``, which is allowed only for a signed INT_MIN / -1), ``|r| < |d|`` (``u =
|d| - |r| - 1`` range-checked, borrow ``wb``), the remainder's sign, and
``q = 2^32 - 1`` when the divisor is zero (``zd``, is-zero witness ``dinv``).

Memory kinds and the heap (``_HEAP_COLUMNS``): the accessed word's kind is
``ro + 2 vo + 4 hf`` (read-only, virtual-only I/O region, heap; see
``_memory``) and travels in its RAM tuple; only the syscall routine's rows
(``f_virt``) may touch a ``vo`` word; a heap access must lie below the heap
limit ``hl`` (gap limbs ``hgl hgh``), which is carried row to row (``nhl``,
a shift) and set only by the routine's ``f_brk`` row.

Public columns, which the verifier evaluates itself: ``idx`` (the row
number), ``is_first``, ``is_last``, and the RAM table's ``maddr_lo/hi``,
``minit_lo/hi``, ``mrow``, ``mkind``, ``mout``, ``mfin_lo/hi`` (computed from
the ELF, the input and the statement's output in O(words)).

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
  - range: 31 values per row in [0, 2^16) (sum and difference limbs, the
    sign decompositions, the timestamp gaps, the word address's low part,
    the product carries, the remainder and the remainder bound's limbs, the
    heap bound's limbs);
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

AIR_VERSION = "stele.vm-air/4"
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
#: signed products and division (see :func:`constraints`): ``sx`` the sign bit of X's high limb; ``xs``/``ys``
#: the sign extensions of X and of the multiplier bytes (1 on mulh/mulhsu/div/rem rows with a negative
#: operand); ``cm7`` the product's carry out of byte 7 (dropped: the product is taken mod 2^64); for
#: div/divu/rem/remu, X holds the quotient's bytes, ``r_lo r_hi`` the remainder and ``sr`` its sign, ``zd``
#: "the divisor is 0" with ``dinv`` its is-zero witness, ``ovf`` the signed overflow INT_MIN / -1, ``nd nr``
#: the divisor's and remainder's signs on signed rows, ``rb`` / ``hg`` the gates of the remainder bound and of
#: the high half of ``q*d + r = n``, ``u_lo u_hi`` = |d| - |r| - 1 with limb borrow ``wb`` in {0, 1, 2}, and
#: ``dc0..dc3`` the carries of the 64-bit sum ``q*d + r``.
_DIV_COLUMNS = ("sx", "xs", "ys", "cm7", "r_lo", "r_hi", "sr", "zd", "dinv", "ovf", "nd", "nr", "rb", "hg", "wb",
                "u_lo", "u_hi", "dc0", "dc1", "dc2", "dc3")
#: the RAM table's committed side: each word's final value and final timestamp (row j = word j of the image).
_TABLE_COLUMNS = ("fin_lo", "fin_hi", "fin_ts")
#: memory kinds and the heap: ``vo`` (the accessed word is virtual-only: the I/O regions) and ``hf`` (a heap
#: word), which with ``ro`` make the kind ``ro + 2 vo + 4 hf`` in the RAM tuple; ``hl`` the heap limit (the
#: first word past the mapped heap pages, carried row to row, set by the routine's ``f_brk`` row) and ``nhl``
#: the next row's; ``hgl hgh`` the limbs of ``hl - word - 1`` on a heap access.
_HEAP_COLUMNS = ("vo", "hf", "hl", "nhl", "hgl", "hgh")
#: ``guest``: 1 on an active row of a guest instruction (not the syscall routine's); its sum, proven in the
#: batched sum-check (``_prove``), is the exact cycle count.
_COUNT_COLUMNS = ("guest",)
TRACE_COLUMNS: tuple[str, ...] = ("active", "active_next", "npc_lo", "npc_hi") + FIELDS + _VALUE_COLUMNS \
    + _ALU_COLUMNS + _MEM_COLUMNS + _LOGIC_COLUMNS + _MUL_COLUMNS + _DIV_COLUMNS + _TABLE_COLUMNS + _HEAP_COLUMNS \
    + _COUNT_COLUMNS
#: the RAM table's public side (rows 0..D-1, zero beyond): word address limbs (addr >> 2 = lo + 2^14 hi),
#: initial value limbs, ``mrow`` (1 on a real word), ``mkind`` (ro + 2 vo + 4 hf, see ``_memory``), ``mout``
#: (1 on an output word) and ``mfin_lo/hi`` (an output word's final value: the public output).
MEMORY_PUBLIC: tuple[str, ...] = ("maddr_lo", "maddr_hi", "minit_lo", "minit_hi", "mrow", "mkind", "mout",
                                  "mfin_lo", "mfin_hi")
PUBLIC_COLUMNS: tuple[str, ...] = ("idx", "is_first", "is_last") + MEMORY_PUBLIC
#: the range-check helpers, two values each, the last one value (31 values per row).
RANGE_HELPERS: tuple[str, ...] = tuple(f"h_g{i}" for i in range(16))
#: the limb-table helpers: (old_lo, old_hi), v2_lo, and the product's four limbs in two pairs.
LIMB_HELPERS: tuple[str, ...] = ("h_l0", "h_l1", "h_l2", "h_l3")
HELPERS: tuple[str, ...] = ("h_bc", "h_r1", "h_r2", "h_r3") + RANGE_HELPERS + ("h_m", "h_t") + LIMB_HELPERS \
    + ("h_a0", "h_a1", "h_p")
#: (next column, current column): next(t) = current(t + 1 mod N).
SHIFTS: tuple[tuple[str, str], ...] = (("npc_lo", "pc_lo"), ("npc_hi", "pc_hi"), ("active_next", "active"),
                                       ("nhl", "hl"))
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


def constraints(entry: int, exit_code: int, heap_limit0: int = 0) -> list[tuple[str, Poly]]:
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
    high_word = f["f_mulhu"] + f["f_mulh"] + f["f_mulhsu"] + f["f_srl"] + f["f_sra"]
    quot = f["f_div"] + f["f_divu"]
    remd = f["f_rem"] + f["f_remu"]
    fdq = quot + remd
    fsig = f["f_div"] + f["f_rem"]
    times_b = f["f_mul"] + f["f_mulhu"] + f["f_mulh"] + f["f_mulhsu"] + fdq
    dv = {n: _c(n) for n in _DIV_COLUMNS}
    xs, ys, sx, sr, zd, ovf = dv["xs"], dv["ys"], dv["sx"], dv["sr"], dv["zd"], dv["ovf"]
    r_lo, r_hi, nd, nr, rb, hg, wb = dv["r_lo"], dv["r_hi"], dv["nd"], dv["nr"], dv["rb"], dv["hg"], dv["wb"]
    dc = [dv[f"dc{i}"] for i in range(4)]
    mul_lo = low_word * (Z[0] + 256 * Z[1]) + high_word * (Z[4] + 256 * Z[5]) + f["f_sra"] * sa * _c("MK_lo")
    mul_hi = low_word * (Z[2] + 256 * Z[3]) + high_word * (Z[6] + 256 * Z[7]) + f["f_sra"] * sa * _c("MK_hi")
    out: list[tuple[str, Poly]] = []
    for j in range(5):
        wj = f["f_sll"] * _c(f"P{j}") if j < 4 else Poly()
        wj = wj + (f["f_srl"] + f["f_sra"]) * _c(f"Q{j}")
        if j < 4:
            wj = wj + times_b * Y[j]
        out.append((f"multiplier byte {j}", W[j] - wj))
    # the 8-byte product of X and W sign-extended to 64 bits (bytes 4..7 of each = 255 * its sign), mod 2^64:
    # the cross terms with a sign byte are 255 * xs * (W_0 + .. + W_(k-4)) and 255 * ys * (X_0 + .. + X_(k-4))
    for k in range(8):
        col_k = Poly()
        for i in range(4):
            if 0 <= k - i < 5:
                col_k = col_k + X[i] * W[k - i]
        for i in range(k - 3):
            col_k = col_k + 255 * xs * W[i] + 255 * ys * X[i]
        carry_in = cm[k - 1] if k else Poly()
        carry_out = 256 * (cm[k] if k < 7 else dv["cm7"])
        out.append((f"product byte {k}", col_k + carry_in - Z[k] - carry_out))
    zl = [Z[2 * k] + 256 * Z[2 * k + 1] for k in range(4)]
    bz = bl + bh
    # |x| = x, or ~x + 1 when negative: the limbs of ~x are L - 1 - limb, and the + 1 joins the low limb's sum
    mag_d_lo, mag_d_hi = bl + nd * (_L - 1 - 2 * bl), bh + nd * (_L - 1 - 2 * bh)
    mag_r_lo, mag_r_hi = r_lo + nr * (_L - 1 - 2 * r_lo), r_hi + nr * (_L - 1 - 2 * r_hi)
    out += [
        ("x sign extension", xs - sx * (f["f_mulh"] + f["f_mulhsu"] + fsig)),
        ("multiplier sign extension", ys - sb * (f["f_mulh"] + fsig)),
        # division: X is the quotient q, the divisor d is b (= rs2), n is rs1; q * d + r = n over 64 bits
        ("div sum 0", fdq * (zl[0] + r_lo - v1l - _L * dc[0])),
        ("div sum 1", fdq * (zl[1] + r_hi + dc[0] - v1h - _L * dc[1])),
        ("div sum 2", hg * (zl[2] + 0xFFFF * nr + dc[1] - 0xFFFF * fsig * sa - _L * dc[2])),
        ("div sum 3", hg * (zl[3] + 0xFFFF * nr + dc[2] - 0xFFFF * fsig * sa - _L * dc[3])),
        ("divisor zero", zd * bz),
        ("divisor nonzero", fdq * (1 - zd - bz * _c("dinv"))),
        ("div by zero quotient (lo)", zd * (X[0] + 256 * X[1] - 0xFFFF)),
        ("div by zero quotient (hi)", zd * (X[2] + 256 * X[3] - 0xFFFF)),
        ("overflow is signed", ovf * (1 - fsig)),
        ("overflow dividend (lo)", ovf * v1l),
        ("overflow dividend (hi)", ovf * (v1h - 0x8000)),
        ("overflow divisor (lo)", ovf * (bl - 0xFFFF)),
        ("overflow divisor (hi)", ovf * (bh - 0xFFFF)),
        ("remainder bound gate", rb - fdq * (1 - zd)),
        ("high sum gate", hg - fdq * (1 - ovf)),
        ("divisor sign", nd - fsig * sb),
        ("remainder sign", nr - fsig * sr),
        ("remainder sign is dividend sign", fsig * (sr - sa) * (r_lo + r_hi)),
        # |r| < |d|: u = |d| - |r| - 1 >= 0, limb by limb with borrow wb (the low sum lies in [-L - 1, L))
        ("remainder bound (lo)", rb * (mag_d_lo + nd - mag_r_lo - nr - 1 + _L * wb - _c("u_lo"))),
        ("remainder bound (hi)", rb * (mag_d_hi - mag_r_hi - wb - _c("u_hi"))),
        ("borrow range", wb * (wb - 1) * (wb - 2)),
    ]
    for b in ("active", "c0", "c1", "k0", "k1", "sa", "sb", "o0", "o1", "ro", "sx", "sr", "zd", "ovf", "dc0", "dc1",
              "dc2", "dc3", "vo", "hf"):
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
         - f["f_st"] * f["st_lo"] - load * m["ld_lo"] - logic_lo - mul_lo - quot * (X[0] + 256 * X[1])
         - remd * r_lo),
        ("result hi", rh - f["f_add"] * sh - f["f_sub"] * dhi - f["f_st"] * f["st_hi"] - load * m["ld_hi"]
         - logic_hi - mul_hi - quot * (X[2] + 256 * X[3]) - remd * r_hi),
        ("rs1 bytes lo", (1 - fdq) * (v1l - X[0] - 256 * X[1])),
        ("rs1 bytes hi", (1 - fdq) * (v1h - X[2] - 256 * X[3])),
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
        ("I/O regions are the routine's", (load + store) * _c("vo") * (1 - f["f_virt"])),
        ("heap access below the break", (load + store) * _c("hf") * (_c("hl") - m["ma_lo"] - (1 << 14) * sh - 1
                                                                    - _c("hgl") - TS_SHIFT * _c("hgh"))),
        ("heap limit carried", (1 - last) * (_c("nhl") - _c("hl") - f["f_brk"] * (v1l + _L * v1h - _c("hl")))),
        ("heap limit at start", first * (_c("hl") - heap_limit0)),
        ("guest row", _c("guest") - a * (1 - f["f_virt"])),
        ("public output (lo)", _c("mout") * (_c("fin_lo") - _c("mfin_lo"))),
        ("public output (hi)", _c("mout") * (_c("fin_hi") - _c("mfin_hi"))),
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
    """The 31 expressions every row range-checks into [0, 2^16), in helper-pair order (the last one alone)."""
    return [_c("s_lo"), _c("s_hi"), _c("d_lo"), _c("d_hi"),
            2 * (_c("v1_hi") - (1 << 15) * _c("sa")), 2 * (_c("b_hi") - (1 << 15) * _c("sb")),
            _c("dl1"), _c("dh1"), _c("dl2"), _c("dh2"), _c("dl3"), _c("dh3"), _c("ma_lo"), _c("dlm"), _c("dhm")] \
        + [_c(f"cm{k}") for k in range(8)] \
        + [2 * (_c("X2") + 256 * _c("X3") - (1 << 15) * _c("sx")), _c("r_lo"), _c("r_hi"),
           2 * (_c("r_hi") - (1 << 15) * _c("sr")), _c("u_lo"), _c("u_hi"), _c("hgl"), _c("hgh")]


def ram_tuple(lo_addr: Poly, hi_addr: Poly, lo: Poly, hi: Poly, ts: Poly, kind: Poly, g: list[Ext]) -> Poly:
    """The fingerprint of one RAM access or table entry: (word address limbs, value limbs, ts, kind)."""
    return lo_addr + hi_addr * g[1] + lo * g[2] + hi * g[3] + ts * g[4] + kind * g[5]


def access_kind() -> Poly:
    """The kind of the word a row accesses, ``ro + 2 vo + 4 hf`` (``_memory``)."""
    return _c("ro") + 2 * _c("vo") + 4 * _c("hf")


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
    read = ram_tuple(*addr, _c("old_lo"), _c("old_hi"), _c("tsm"), access_kind(), g)
    write = ram_tuple(*addr, _c("new_lo"), _c("new_hi"), _c("idx") + 1, access_kind(), g)
    return mult, read, write


def table_ops(g: list[Ext]) -> tuple[Poly, Poly]:
    """(initial, final) fingerprints of the RAM table row."""
    addr = (_c("maddr_lo"), _c("maddr_hi"))
    init = ram_tuple(*addr, _c("minit_lo"), _c("minit_hi"), const(0), _c("mkind"), g)
    fin = ram_tuple(*addr, _c("fin_lo"), _c("fin_hi"), _c("fin_ts"), _c("mkind"), g)
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
        if 2 * i + 1 < len(vals):
            x, y = vals[2 * i], vals[2 * i + 1]
            out.append(Fraction(name, (al - x) + (al - y), (al - x, al - y)))
        else:
            out.append(Fraction(name, const(1), (al - vals[2 * i],)))
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
