"""An independent, direct checker of a trace: which claims a (possibly mutated) witness violates.

It evaluates every constraint row by row and checks the shift, the lookups
and the register multisets with exact integer counting, no randomness.  The
soundness tests require: the verifier rejects a re-proved mutated witness
if and only if this checker finds a violation.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from stele.actors.prover import P
from stele.actors.zkvm._air import SHIFTS, constraints, limb_tuples, range_values, register_ops
from stele.actors.zkvm._bytecode import MEM_FLAGS
from stele.actors.zkvm._bytecode import FIELDS
from stele.actors.zkvm._prove import _public_tables, pow_table
from stele.actors.zkvm._statement import Statement
from stele.actors.zkvm._trace import Trace


def violations(trace: Trace, st: Statement) -> list[str]:
    """The names of the claims ``trace`` violates under ``st`` (empty: a valid witness)."""
    n = trace.log_rows
    size = 1 << n
    cols = dict(trace.columns)
    cols.update(_public_tables(n, trace.image))
    out: list[str] = []
    for name, poly in constraints(st.entry, st.exit_code, trace.image.heap_limit0):
        vals = poly.eval_vec(cols, size)
        if vals.any():
            out.append(f"constraint {name}")
    for nxt, cur in SHIFTS:
        if not np.array_equal(cols[nxt], np.roll(cols[cur], -1)):
            out.append(f"shift {nxt}")
    active = [t for t in range(size) if int(cols["active"][t]) == 1]
    table_rows = {tuple(int(v) for v in row): i for i, row in enumerate(trace.table.rows.tolist())}
    counts: Counter[int] = Counter()
    for t in active:
        key = tuple(int(cols[f][t]) for f in FIELDS)
        if key not in table_rows:
            out.append(f"bytecode row {t}")
        else:
            counts[table_rows[key]] += 1
    want = Counter({i: int(m) for i, m in enumerate(trace.bytecode_mult.tolist()) if m})
    if counts != want:
        out.append("bytecode multiplicities")
    rcount: Counter[int] = Counter()
    for poly in range_values():
        vals = poly.eval_vec(cols, size)[:, 0]
        if vals.max() >= 1 << 16 or vals[:].any() and (vals >= 1 << 16).any():
            out.append("range value")
        rcount.update(int(v) for v in vals.tolist())
    if rcount != Counter({v: int(m) for v, m in enumerate(trace.range_mult.tolist()) if m}):
        out.append("range multiplicities")
    init = trace.init_regs
    left: Counter[tuple[int, ...]] = Counter((r, init[r] & 0xFFFF, init[r] >> 16, 0) for r in range(len(init)))
    right: Counter[tuple[int, ...]] = Counter((r, lo % P, hi % P, ts % P) for r, (lo, hi, ts) in
                                            enumerate(trace.final_regs))
    for t in active:
        for addr, rl, rh, ts, wl, wh, k in register_ops():
            a = int(cols[addr][t])
            right[(a, int(cols[rl][t]), int(cols[rh][t]), int(cols[ts][t]))] += 1
            left[(a, int(cols[wl][t]), int(cols[wh][t]), (3 * t + k) % P)] += 1
    if left != right:
        out.append("register multisets")
    out += _ram_violations(trace, cols, active)
    if int(cols["guest"].astype(np.int64).sum()) != trace.cycles:
        out.append("cycle count")
    lcount: Counter[tuple[int, ...]] = Counter()
    for t in range(size):
        for names in limb_tuples():
            lcount[tuple(int(cols[c][t]) for c in names)] += 1
        for k in range(4):
            z0, z1 = int(cols[f"Z{2 * k}"][t]), int(cols[f"Z{2 * k + 1}"][t])
            lcount[((z0 + 256 * z1) % P, z0, z1, int(cols[f"zs{2 * k}"][t]), int(cols[f"zs{2 * k + 1}"][t]))] += 1
    want_l = Counter({(v, v & 255, v >> 8, (v >> 7) & 1, v >> 15): int(m)
                      for v, m in enumerate(trace.limb_mult.tolist()) if m})
    if lcount != want_l:
        out.append("limb lookups")
    acount: Counter[tuple[int, ...]] = Counter()
    for t in range(size):
        for i in range(4):
            acount[(int(cols[f"X{i}"][t]), int(cols[f"Y{i}"][t]), int(cols[f"A{i}"][t]))] += 1
    want_a = Counter({(i & 255, i >> 8, (i & 255) & (i >> 8)): int(m) for i, m in enumerate(trace.and_mult.tolist())
                      if m})
    if acount != want_a:
        out.append("and lookups")
    table = [tuple(r) for r in pow_table()]
    pcount: Counter[tuple[int, ...]] = Counter()
    for t in range(size):
        key = tuple(int(cols[n][t]) for n in ["Y0", "P0", "P1", "P2", "P3", "Q0", "Q1", "Q2", "Q3", "Q4", "MK_lo",
                                               "MK_hi"])
        pcount[key] += 1
    want_p = Counter({table[i]: int(m) for i, m in enumerate(trace.pow_mult.tolist()) if m and i < 256})
    if pcount != want_p:
        out.append("pow lookups")
    return out


def _ram_violations(trace: Trace, cols: dict[str, np.ndarray], active: list[int]) -> list[str]:
    """Exact multiset check of RAM: initial image + writes == reads + final table."""
    img = trace.image
    left: Counter[tuple[int, ...]] = Counter()
    right: Counter[tuple[int, ...]] = Counter()
    for j, w in enumerate(img.words.tolist()):
        v, kind = int(img.init[j]), int(img.kind[j])
        left[(w & 0x3FFF, w >> 14, v & 0xFFFF, v >> 16, 0, kind)] += 1
        right[(w & 0x3FFF, w >> 14, int(cols["fin_lo"][j]), int(cols["fin_hi"][j]), int(cols["fin_ts"][j]),
               kind)] += 1
    size = len(cols["idx"])
    for t in range(size):
        mult = sum(int(cols[f][t]) for f in MEM_FLAGS) % P
        if not mult:
            continue
        addr = (int(cols["ma_lo"][t]), int(cols["s_hi"][t]))
        ro = (int(cols["ro"][t]) + 2 * int(cols["vo"][t]) + 4 * int(cols["hf"][t])) % P
        for _ in range(mult if mult < 1 << 20 else 1):
            right[addr + (int(cols["old_lo"][t]), int(cols["old_hi"][t]), int(cols["tsm"][t]), ro)] += 1
            left[addr + (int(cols["new_lo"][t]), int(cols["new_hi"][t]), (t + 1) % P, ro)] += 1
        if mult >= 1 << 20:
            return ["ram multisets"]
    return ["ram multisets"] if left != right else []
