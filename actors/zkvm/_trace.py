"""The prover's trace: the co-processor's witness, re-derived into the AIR's columns.

:func:`build_trace` runs the guest on the co-processor (its fast witness
engine), then walks the witness rows with an independent interpreter of the
covered subset that fills every column of :data:`~._air.TRACE_COLUMNS`,
the register timestamps, the final register state and the lookup
multiplicities.  Each row is cross-checked against the witness (pc, next pc,
register values): a trap, an unsupported instruction or syscall, or any
disagreement raises :class:`~._errors.Unprovable` before a proof is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from stele.actors.coprocessor._elf import Program, load_elf
from stele.actors.coprocessor._isa import decode
from stele.actors.coprocessor._errors import GuestError
from stele.actors.coprocessor._machine import Machine
from stele.actors.coprocessor._witness import K
from stele.actors.prover import P

from ._air import _DIV_COLUMNS, EXIT_SYSCALLS, TRACE_COLUMNS, TS_SHIFT, range_values
from ._bytecode import FIELDS, LOG_TABLE, MEM_FLAGS, Bytecode, build_table
from ._errors import Unprovable
from ._memory import (KIND_HEAP, KIND_RO, KIND_VO, PAGE_WORDS, MemoryImage, heap_bounds, heap_word_range,
                      memory_image)
from ._syscalls import NREGS, OUTCUR, OUTPUT_BASE, RET, VBASE, VDEAD, heap_limit_word, virtual_initial

__all__ = ["Trace", "build_trace", "initial_registers", "MIN_LOG_ROWS", "MAX_LOG_ROWS", "DEFAULT_MAX_CYCLES"]

M = 0xFFFFFFFF
MIN_LOG_ROWS = 4
#: 3 * 2^20 timestamps stay far below the field size (see ``_air.TS_SHIFT``).
MAX_LOG_ROWS = 20
DEFAULT_MAX_CYCLES = (1 << MAX_LOG_ROWS) - 1
_F = {name: i for i, name in enumerate(FIELDS)}


RANGE_VALUES = len(range_values())


def _truth(cycle: int, what: str, value: int) -> int:
    return value


def _divide(a: int, b: int, signed: bool) -> tuple[int, int, int]:
    """RISC-V (quotient, remainder, overflow) of ``a / b`` on u32 bit patterns (x / 0 and INT_MIN / -1 too)."""
    if b == 0:
        return M, a, 0
    if not signed:
        return a // b, a % b, 0
    sa, sb = a - ((a >> 31) << 32), b - ((b >> 31) << 32)
    if sa == -(1 << 31) and sb == -1:
        return a, 0, 1
    q = abs(sa) // abs(sb)
    q = -q if (sa < 0) != (sb < 0) else q
    return q & M, (sa - q * sb) & M, 0


def initial_registers(program: Program, input_len: int = 0) -> list[int]:
    """The initial x0..x40: a fresh co-processor's registers (sp set, the rest 0), then the routine's."""
    return list(Machine(program).regs) + virtual_initial(input_len, heap_bounds(program)[0])


@dataclass
class Trace:
    """Everything the prover commits: columns, multiplicities, the final registers and the outcome."""

    program: Program
    table: Bytecode
    log_rows: int
    cycles: int
    exit_code: int
    #: the public output (what the run wrote to fd 3) and the initial x0..x40.
    output: bytes
    init_regs: list[int]
    #: active rows: the cycles plus the syscall routine's rows.
    rows: int
    columns: dict[str, NDArray[np.uint64]]
    range_mult: NDArray[np.uint64]
    bytecode_mult: NDArray[np.uint64]
    final_regs: list[tuple[int, int, int]]
    image: MemoryImage
    limb_mult: NDArray[np.uint64]
    and_mult: NDArray[np.uint64]
    pow_mult: NDArray[np.uint64]


def _run(program: Program, input_bytes: bytes, max_cycles: int, lying: bool) -> tuple[NDArray[np.uint32], Machine]:
    """The co-processor's witness of the run (a lying prover, which ignores it, may prove a trapping run)."""
    m = Machine(program, input=input_bytes)
    try:
        rows = m.trace(max_cycles)
    except GuestError as exc:
        if lying:
            return np.zeros((0, K), dtype=np.uint32), m
        raise Unprovable("execution", f"the guest stopped with {type(exc).__name__}: {exc}") from None
    if not m.halted or m.halt_reason != "exit":
        raise Unprovable("execution", f"no exit within {max_cycles} cycles (provable mode proves complete runs)")
    return rows, m


class _Memory:
    """The builder's RAM: every word provable mode may hold, created on first touch with its kind."""

    def __init__(self, program: Program, input_bytes: bytes) -> None:
        base = memory_image(program, input_bytes)
        self.value = {int(w): int(v) for w, v in zip(base.words.tolist(), base.init.tolist())}
        self.kind = {int(w): int(k) for w, k in zip(base.words.tolist(), base.kind.tolist())}
        self.ts = dict.fromkeys(self.value, 0)
        self.heap = heap_word_range(program)
        self.out = (OUTPUT_BASE >> 2, (OUTPUT_BASE + (1 << 20)) >> 2)
        self.pages: set[int] = set()

    def touch(self, word: int) -> bool:
        """Make ``word`` present if provable mode's memory has it; False if it does not."""
        if word in self.value:
            return True
        if self.heap[0] <= word < self.heap[1]:
            kind = KIND_HEAP
            self.pages.add(word // PAGE_WORDS)
        elif self.out[0] <= word < self.out[1]:
            kind = KIND_VO
        else:
            return False
        self.value[word], self.kind[word], self.ts[word] = 0, kind, 0
        return True


def _grow(cols: dict[str, NDArray[np.int64]]) -> None:
    for name, arr in cols.items():
        cols[name] = np.concatenate([arr, np.zeros_like(arr)])


def build_trace(elf: bytes, input_bytes: bytes = b"", *, max_cycles: int = DEFAULT_MAX_CYCLES,
                _lie: Callable[[int, str, int], int] | None = None) -> Trace:
    """Run ``elf`` and build its trace (see the module docstring).

    ``_lie`` is for the soundness tests only: ``_lie(cycle, what, value)``
    may replace a value the interpreter computed (``"v1"``, ``"v2"``,
    ``"prev"``, ``"ts1"``..``"ts3"``, ``"npc"``, ``"value"``, ``"shamt"`` (the
    shift amount behind the shift constants), ``"xs"``/``"ys"`` (the product's
    sign extensions), on a division row ``"quotient"``, ``"remainder"``,
    ``"ovf"`` (the INT_MIN / -1 flag) and ``"u"`` (the remainder bound's
    ``|d| - |r| - 1``), and for a load or
    store ``"old"`` (the word read), ``"new"`` (the word written), ``"tsm"``
    (its read timestamp)) and everything
    downstream is then derived from the lie, so the lie is locally consistent
    and only a global check (memory, lookups, continuity) can catch it.  With
    ``_lie`` the builder also lets a store hit an executable segment and an
    access leave the ELF's segments (an honest run refuses both), so the tests
    can show the constraints and RAM checking reject them.
    """
    lie = _lie if _lie is not None else _truth
    if not 1 <= max_cycles <= DEFAULT_MAX_CYCLES:
        raise Unprovable("max_cycles", f"{max_cycles} is outside 1..{DEFAULT_MAX_CYCLES}")
    program = load_elf(elf)
    table = build_table(program)
    wit, machine = _run(program, input_bytes, max_cycles, _lie is not None)
    cycles = int(wit.shape[0])
    memory = _Memory(program, input_bytes)
    size = 1 << max(MIN_LOG_ROWS, cycles.bit_length())
    cols = {name: np.zeros(size, dtype=np.int64) for name in TRACE_COLUMNS}
    c = cols
    init_regs = initial_registers(program, len(input_bytes))
    regs = list(init_regs)
    last = [0] * NREGS
    range_mult = np.zeros(1 << 16, dtype=np.int64)
    limb_mult = np.zeros(1 << 16, dtype=np.int64)
    and_mult = np.zeros(1 << 16, dtype=np.int64)
    pow_mult = np.zeros(1 << 16, dtype=np.int64)
    mem, mem_ts, kinds = memory.value, memory.ts, memory.kind
    maddr = wit[:, 10].tolist()
    bc_mult = np.zeros(1 << LOG_TABLE, dtype=np.int64)
    exit_code = 0
    rows = table.rows
    pcs = wit[:, 0].tolist()
    npcs = wit[:, 1].tolist()
    rdv = wit[:, 6].tolist()
    pc = program.entry
    hl0 = hl = heap_limit_word(heap_bounds(program)[0])
    w = 0  # the witness row (the co-processor's cycle) of guest row t; the routine's rows share their ecall's
    limit = (1 << MAX_LOG_ROWS) - 1 if _lie is None else max(4 * cycles, 1 << 12)
    t = -1
    while True:
        t += 1
        if t >= limit:
            raise Unprovable("cycles", f"the run needs more than {limit} rows (cycles plus the syscall routine's "
                             f"rows; at most 2^{MAX_LOG_ROWS} - 1)")
        if t >= size - 1:
            _grow(cols)
            size *= 2
        guest = pc < VBASE
        if _lie is None and guest and pc != pcs[w]:  # pragma: no cover - next pcs were compared one row earlier
            raise Unprovable("execution", f"cycle {w}: pc {pcs[w]:#x} is not {pc:#x}")
        ti = table.index.get(pc)
        if ti is None:
            if pc == VDEAD:
                raise Unprovable("syscall", f"cycle {w}: brk lowering the break is outside provable mode "
                                 "(the break may only grow)")
            op = decode(int(wit[w, 2])).op if w < wit.shape[0] else "?"
            raise Unprovable("instruction", f"cycle {w}: {op} at pc {pc:#x} is outside provable mode "
                             "(it covers add sub addi slt sltu slti sltiu and or xor andi ori xori sll srl sra "
                             "slli srli srai mul mulh mulhsu mulhu div divu rem remu lui auipc jal jalr beq bne blt bge "
                             "bltu bgeu fence lb lbu lh lhu lw sb sh sw, ecall read/write/brk/exit)")
        bc_mult[ti] += 1
        f = rows[ti].tolist()
        for name, v in zip(FIELDS, f):
            c[name][t] = v
        rd, rs1, rs2 = f[_F["rd"]], f[_F["rs1"]], f[_F["rs2"]]
        imm = f[_F["imm_lo"]] | (f[_F["imm_hi"]] << 16)
        a = lie(t, "v1", regs[rs1])
        v2 = lie(t, "v2", regs[rs2])
        mop = next((name[2:] for name in MEM_FLAGS if f[_F[name]]), "")
        b = (imm + (0 if mop in ("sb", "sh", "sw") else v2)) & M
        s = a + b
        d = (a - b) & M
        sa, sb = a >> 31, b >> 31
        k1 = int(a < b)
        lt = int((a - (sa << 32)) < (b - (sb << 32)))
        dz = (d & 0xFFFF) + (d >> 16)
        zf = int(dz == 0)
        flag = {name: f[_F[name]] for name in ("f_add", "f_sub", "f_slt", "f_sltu", "f_st", "f_jal", "f_jalr",
                                               "f_beq", "f_bne", "f_blt", "f_bge", "f_bltu", "f_bgeu", "f_ecall")}
        taken = (flag["f_jal"] | (flag["f_beq"] & zf) | (flag["f_bne"] & (1 - zf)) | (flag["f_blt"] & lt)
                 | (flag["f_bge"] & (1 - lt)) | (flag["f_bltu"] & k1) | (flag["f_bgeu"] & (1 - k1)))
        st = f[_F["st_lo"]] | (f[_F["st_hi"]] << 16)
        res = (flag["f_add"] * (s & M) + flag["f_sub"] * d + flag["f_slt"] * lt + flag["f_sltu"] * k1
               + flag["f_st"] * st + f[_F["f_and"]] * (a & b) + f[_F["f_or"]] * (a | b)
               + f[_F["f_xor"]] * (a ^ b))
        sh_amt = lie(t, "shamt", b & 31) & 31
        pw, qw = 1 << sh_amt, 1 << (32 - sh_amt)
        mk = (M << (32 - sh_amt)) & M if sh_amt else 0
        fsll, fsrl, fsra, fmul, fmulhu = (f[_F[n]] for n in ("f_sll", "f_srl", "f_sra", "f_mul", "f_mulhu"))
        fmulh, fmulhsu, fdiv, fdivu, frem, fremu = (f[_F[n]] for n in ("f_mulh", "f_mulhsu", "f_div", "f_divu",
                                                                       "f_rem", "f_remu"))
        fdq, fsig = fdiv + fdivu + frem + fremu, fdiv + frem
        mult_w = fsll * pw + (fsrl + fsra) * qw + (fmul + fmulhu + fmulh + fmulhsu + fdq) * b
        dv = dict.fromkeys(_DIV_COLUMNS, 0)
        xv = a  # the multiplier's X operand: rs1, or the quotient on a division row
        if fdq:
            q, r, ovf = _divide(a, b, bool(fsig))
            q, r, ovf = lie(t, "quotient", q), lie(t, "remainder", r), lie(t, "ovf", ovf)
            xv = q
            res = q if fdiv + fdivu else r
            dv.update(r_lo=r & 0xFFFF, r_hi=r >> 16, sr=r >> 31, ovf=ovf, zd=int(b == 0))
        xs = lie(t, "xs", (xv >> 31) * (fmulh + fmulhsu + fsig))
        ys = lie(t, "ys", (b >> 31) * (fmulh + fsig))
        wide = (xv - (xs << 32)) * (mult_w - (ys << 32)) % (1 << 64)  # the sign-extended product mod 2^64
        res += fsll * (wide & M) + (fmul * wide & M) + (fmulhu + fmulh + fmulhsu + fsrl + fsra) * (wide >> 32) \
            + fsra * (a >> 31) * mk
        if fdq:
            bz = (b & 0xFFFF) + (b >> 16)
            nd, nr = fsig * (b >> 31), fsig * int(dv["sr"])
            rb, hg = 1 - dv["zd"], 1 - dv["ovf"]
            dv.update(dinv=pow(bz, P - 2, P) if bz else 0, nd=nd, nr=nr, rb=rb, hg=hg)
            if rb:
                r = dv["r_lo"] | dv["r_hi"] << 16
                mag_d, mag_r = ((-b) & M if nd else b), ((-r) & M if nr else r)
                bl_, rl_ = b & 0xFFFF, r & 0xFFFF
                lo = (bl_ + nd * (0xFFFF - 2 * bl_)) + nd - (rl_ + nr * (0xFFFF - 2 * rl_)) - nr - 1
                dv["wb"] = -(lo >> 16)
                u = lie(t, "u", mag_d - mag_r - 1)
                dv["u_lo"], dv["u_hi"] = u & 0xFFFF, (u >> 16) % P  # a lying prover's u < 0 wraps (caught)
            na = fsig * (a >> 31)
            acc = (wide & 0xFFFF) + dv["r_lo"]
            dv["dc0"] = acc >> 16
            acc = ((wide >> 16) & 0xFFFF) + dv["r_hi"] + dv["dc0"]
            dv["dc1"] = acc >> 16
            for i in (2, 3):
                acc = ((wide >> 16 * i) & 0xFFFF) + 0xFFFF * nr + dv[f"dc{i - 1}"] - 0xFFFF * na
                dv[f"dc{i}"] = (acc >> 16) & 1
        dv.update(sx=xv >> 31, xs=xs, ys=ys)
        addr = s & M
        word, off = addr >> 2, addr & 3
        mv = {"ma_lo": (addr & 0xFFFF) >> 2, "o0": off & 1, "o1": off >> 1}
        for i in range(4):
            mv[f"e{i}"] = int(off == i)
        old = new = 0
        kind = 0
        if mop:
            if mop in ("lw", "sw") and off or mop in ("lh", "lhu", "sh") and off & 1:
                raise Unprovable("memory", f"cycle {w}: {mop} at {addr:#x} is misaligned")
            present = memory.touch(word)
            if not present and _lie is None:
                raise Unprovable("memory", f"cycle {w}: {mop} at {addr:#x} is outside provable mode's memory "
                                 "(the ELF's segments, the heap, the I/O regions)")
            if not present:  # a lying prover's access outside the table: only RAM checking can catch it
                mem[word], mem_ts[word], kinds[word] = 0, 0, 0
            kind = kinds[word]
            if _lie is None and guest and addr != maddr[w]:  # pragma: no cover - the adder computes it
                raise Unprovable("execution", f"cycle {w}: address {maddr[w]:#x} is not {addr:#x}")
            if _lie is None and mop[0] == "s" and kind & KIND_RO:
                raise Unprovable("memory", f"cycle {w}: {mop} to {addr:#x} writes a read-only word")
            if _lie is None and guest and kind & KIND_VO:
                raise Unprovable("memory", f"cycle {w}: {mop} at {addr:#x} touches provable mode's I/O regions")
            if _lie is None and kind & KIND_HEAP and word >= hl:  # pragma: no cover - the machine traps first
                raise Unprovable("memory", f"cycle {w}: {mop} at {addr:#x} is above the break")
            old = lie(t, "old", mem[word])
            tsm = lie(t, "tsm", mem_ts[word])
            sh8 = 8 * off
            if mop == "lw":
                res = old
            elif mop in ("lh", "lhu"):
                res = (old >> sh8) & 0xFFFF
                if mop == "lh" and res & 0x8000:
                    res |= 0xFFFF0000
            elif mop in ("lb", "lbu"):
                res = (old >> sh8) & 0xFF
                if mop == "lb" and res & 0x80:
                    res |= 0xFFFFFF00
            width_mask = {"sb": 0xFF, "sh": 0xFFFF, "sw": M}.get(mop, 0)
            new = (old & ~(width_mask << sh8) & M) | ((v2 & width_mask) << sh8)
            new = lie(t, "new", new)
            mem[word] = new
            mem_ts[word] = t + 1
            sg = int(mop == "lb" and bool(res & 0x80) or mop == "lh" and bool(res & 0x8000))
            gap = t - tsm
            mv.update({"old_lo": old & 0xFFFF, "old_hi": old >> 16, "new_lo": new & 0xFFFF, "new_hi": new >> 16,
                       "tsm": tsm, "dlm": gap % TS_SHIFT, "dhm": gap // TS_SHIFT, "sg": sg,
                       "ld_lo": res & 0xFFFF if mop[0] == "l" else 0, "ld_hi": res >> 16 if mop[0] == "l" else 0,
                       "ro": kind & KIND_RO, "vo": int(bool(kind & KIND_VO)), "hf": int(bool(kind & KIND_HEAP))})
            if kind & KIND_HEAP:
                hgap = (hl - word - 1) % P  # a lying prover's access above the break wraps (caught)
                mv["hgl"], mv["hgh"] = hgap % TS_SHIFT, hgap // TS_SHIFT
        for i, limb in enumerate((old & 0xFFFF, old >> 16)):
            mv[f"B{2 * i}"], mv[f"B{2 * i + 1}"] = limb & 0xFF, limb >> 8
            mv[f"s{2 * i}"], mv[f"s{2 * i + 1}"] = (limb >> 7) & 1, limb >> 15
        v2l = v2 & 0xFFFF
        mv.update({"V0": v2l & 0xFF, "V1": v2l >> 8, "vs0": (v2l >> 7) & 1, "vs1": v2l >> 15,
                   "b_lo": b & 0xFFFF, "b_hi": b >> 16})
        for limb in (old & 0xFFFF, old >> 16, v2l):
            limb_mult[limb] += 1
        mv.update(dv)
        xb = [(xv >> 8 * i) & 0xFF for i in range(4)]
        wbytes = [(mult_w >> 8 * j) & 0xFF for j in range(5)]
        for i in range(4):
            x, y = xb[i], (b >> 8 * i) & 0xFF
            mv[f"X{i}"], mv[f"Y{i}"], mv[f"A{i}"] = x, y, x & y
            and_mult[x | y << 8] += 1
        carry = 0
        for k in range(8):
            col_k = sum(xb[i] * wbytes[k - i] for i in range(4) if 0 <= k - i < 5)
            col_k += sum(255 * xs * wbytes[i] + 255 * ys * xb[i] for i in range(k - 3))
            acc = col_k + carry
            mv[f"Z{k}"], carry = acc & 0xFF, acc >> 8
            mv[f"zs{k}"] = (acc >> 7) & 1
            mv[f"cm{k}"] = carry
        for j in range(5):
            mv[f"W{j}"] = (mult_w >> 8 * j) & 0xFF
            mv[f"Q{j}"] = (qw >> 8 * j) & 0xFF
            if j < 4:
                mv[f"P{j}"] = (pw >> 8 * j) & 0xFF
        mv["MK_lo"], mv["MK_hi"] = mk & 0xFFFF, mk >> 16
        pow_mult[b & 0xFF] += 1
        for k in range(4):
            limb_mult[mv[f"Z{2 * k}"] | mv[f"Z{2 * k + 1}"] << 8] += 1
        value = lie(t, "value", res if f[_F["wr"]] else 0)
        exiting = bool(flag["f_ecall"])
        if exiting:
            if a not in EXIT_SYSCALLS and _lie is None:
                raise Unprovable("syscall", f"cycle {w}: ecall {a} is outside provable mode (it covers read 63, "
                                 "write 64, brk 214, exit 93/94)")
            exit_code = v2
            npc = 0  # the first padding row's pc
        elif flag["f_jalr"]:
            npc = s & M
            if npc & 3:
                raise Unprovable("jalr", f"cycle {t}: target {npc:#x} is not 4-aligned")
        elif taken:
            npc = f[_F["tgt_lo"]] | (f[_F["tgt_hi"]] << 16)
        else:
            npc = f[_F["ret_lo"]] | (f[_F["ret_hi"]] << 16)
        npc = lie(t, "npc", npc)
        hl_next = a if f[_F["f_brk"]] else hl
        entering = guest and npc == VBASE and rd == RET
        if _lie is None and guest and not exiting and not entering and npc != npcs[w]:
            raise Unprovable("execution", f"cycle {w}: next pc {npcs[w]:#x} is not {npc:#x} (a trap?)")
        if _lie is None and guest and not entering and rd and value != rdv[w]:
            raise Unprovable("execution", f"cycle {w}: x{rd} = {rdv[w]:#x}, expected {value:#x}")
        ts1 = lie(t, "ts1", last[rs1])
        last[rs1] = 3 * t + 1
        ts2 = lie(t, "ts2", last[rs2])
        last[rs2] = 3 * t + 2
        ts3 = lie(t, "ts3", last[rd])
        prev = lie(t, "prev", regs[rd])
        if rd:
            regs[rd] = value
        last[rd] = 3 * t + 3
        if not guest and npc < VBASE and not exiting:  # the routine returns to the guest: the ecall's a0
            if _lie is None and (npc != npcs[w] or regs[10] != rdv[w]):
                raise Unprovable("execution", f"cycle {w}: the syscall routine returned a0 = {regs[10]:#x} to "
                                 f"{npc:#x}; the co-processor has a0 = {rdv[w]:#x}, next pc {npcs[w]:#x}")
            w += 1
        elif guest and not entering and not exiting:
            w += 1
        vals = {
            "active": 1, "active_next": int(not exiting), "npc_lo": npc & 0xFFFF, "npc_hi": npc >> 16,
            "v1_lo": a & 0xFFFF, "v1_hi": a >> 16, "v2_lo": v2 & 0xFFFF, "v2_hi": v2 >> 16,
            "rd_lo": value & 0xFFFF, "rd_hi": value >> 16, "prev_lo": prev & 0xFFFF, "prev_hi": prev >> 16,
            "ts1": ts1, "ts2": ts2, "ts3": ts3,
            "s_lo": s & 0xFFFF, "s_hi": (s >> 16) & 0xFFFF, "c0": ((a & 0xFFFF) + (b & 0xFFFF)) >> 16,
            "c1": s >> 32, "d_lo": d & 0xFFFF, "d_hi": d >> 16, "k0": ((d & 0xFFFF) + (b & 0xFFFF)) >> 16,
            "k1": k1, "sa": sa, "sb": sb, "lt": lt, "inv": pow(dz, P - 2, P) if dz else 0, "taken": taken,
            "res_lo": res & 0xFFFF, "res_hi": res >> 16, "hl": hl, "nhl": hl_next, "guest": int(not f[_F["f_virt"]]),
        }
        hl = hl_next
        for k, ts in ((1, ts1), (2, ts2), (3, ts3)):
            gap = 3 * t + k - ts - 1
            vals[f"dl{k}"], vals[f"dh{k}"] = gap % TS_SHIFT, gap // TS_SHIFT
        vals.update(mv)
        for name, v in vals.items():
            c[name][t] = v
        for v in (vals["s_lo"], vals["s_hi"], vals["d_lo"], vals["d_hi"], 2 * ((a >> 16) - (sa << 15)),
                  2 * ((b >> 16) - (sb << 15)), vals["dl1"], vals["dh1"], vals["dl2"], vals["dh2"], vals["dl3"],
                  vals["dh3"], vals["ma_lo"], vals.get("dlm", 0), vals.get("dhm", 0),
                  *(vals[f"cm{k}"] for k in range(8)), 2 * ((xv >> 16) - (vals["sx"] << 15)), vals["r_lo"],
                  vals["r_hi"], 2 * (vals["r_hi"] - (vals["sr"] << 15)), vals["u_lo"], vals["u_hi"],
                  vals.get("hgl", 0), vals.get("hgh", 0)):
            if 0 <= v < 1 << 16:  # a lying prover's out-of-range value has no table row (the lookup fails)
                range_mult[v] += 1
        if exiting:
            break
        pc = npc
    if _lie is None and w != cycles - 1:  # pragma: no cover - the machine halts at the exit
        raise Unprovable("execution", "rows after the exit")
    active_rows = t + 1
    out_len = (regs[OUTCUR] - OUTPUT_BASE) & M
    padded = b"".join(mem.get((OUTPUT_BASE >> 2) + k, 0).to_bytes(4, "little") for k in range((out_len + 3) // 4))
    output = padded[:out_len]
    if _lie is None and output != bytes(machine.public_output):  # pragma: no cover - the routine copies it
        raise Unprovable("execution", "the output region differs from the co-processor's public output")
    image = memory_image(program, input_bytes, output, tuple(sorted(memory.pages)))
    n = max(MIN_LOG_ROWS, active_rows.bit_length(), image.log_size)
    if n > MAX_LOG_ROWS:
        raise Unprovable("cycles", f"{active_rows} rows ({cycles} cycles) and {image.size} memory "
                         f"words exceed 2^{MAX_LOG_ROWS} - 1 rows")
    while size < 1 << n:
        _grow(cols)
        size *= 2
    size = 1 << n
    for name in list(cols):
        cols[name] = cols[name][:size]
    c = cols
    cycles = active_rows
    # padding rows are all zero (15 zero range and 3 zero limb lookups each), except the cyclic wrap
    range_mult[0] += RANGE_VALUES * (size - cycles)
    limb_mult[0] += 3 * (size - cycles)
    and_mult[0] += 4 * (size - cycles)
    limb_mult[0] += 4 * (size - cycles)
    pow_mult[0] += size - cycles
    # offset 0 is one-hot e0 on the padding too; b = 0 looks up the pow row 0 (2^0, 2^32)
    c["e0"][cycles:] = c["P0"][cycles:] = c["Q4"][cycles:] = 1
    c["hl"][cycles:] = c["nhl"][cycles:] = hl
    for j, word in enumerate(image.words.tolist()):
        v = mem.get(word, int(image.init[j]))
        c["fin_lo"][j], c["fin_hi"][j], c["fin_ts"][j] = v & 0xFFFF, v >> 16, mem_ts.get(word, 0)
    entry = program.entry
    c["npc_lo"][size - 1], c["npc_hi"][size - 1] = entry & 0xFFFF, entry >> 16
    c["active_next"][size - 1] = 1
    c["nhl"][size - 1] = hl0
    columns = {name: (arr % P).astype(np.uint64) for name, arr in cols.items()}
    finals = [(regs[r] & 0xFFFF, regs[r] >> 16, last[r]) for r in range(NREGS)]
    guest_rows = int(c["guest"].sum())
    if _lie is None and guest_rows != wit.shape[0]:  # pragma: no cover - one guest row per witness row
        raise Unprovable("execution", f"{guest_rows} guest rows for {wit.shape[0]} cycles")
    return Trace(program, table, n, guest_rows, exit_code, output, init_regs, cycles, columns,
                 range_mult.astype(np.uint64),
                 bc_mult.astype(np.uint64), finals, image, limb_mult.astype(np.uint64),
                 and_mult.astype(np.uint64), pow_mult.astype(np.uint64))
