"""The fast path: hot basic blocks compiled to straight-line Python functions.

A block starts at a pc, runs through ALU, load and store instructions and
ends with (and includes) the first branch or jump; it stops short of any
instruction the host must handle (ECALL, EBREAK, MRET, CSR access, illegal
words), at the end of its 4 KiB page, or after :data:`MAX_BLOCK` instructions.
It is compiled from generated source with ``compile``/``exec`` once its start
has been entered ``jit_threshold`` times (cold code runs in the interpreter).

Generated code keeps the registers it touches in locals and writes them back
at the end.  Loads index ``pages`` and stores index ``wpages`` directly, and a
misaligned address is turned into an out-of-range struct offset, so the only
cost of the checks is arithmetic.  Whenever anything in a block would need
the slow path -- a page not yet allocated, a copy-on-write or code page, the
HTIF page, a misaligned access, a misaligned jump target -- the block raises
inside its ``try``, writes back its locals, and returns ``-1 - k`` where ``k``
is the index of the instruction that could not run (found from the
traceback's line number: one instruction per line).  The runner then counts
the ``k`` completed cycles and lets the interpreter execute that one
instruction, which allocates, copies, invalidates, halts or traps exactly as
it always does.  So results, traps and cycle counts are the interpreter's;
the cycle limit is exact because a block only runs when it fits entirely in
the remaining budget.

Compiled blocks are cached per start pc and dropped when their page is
written (the machine's page-invalidation hook) or replaced by a restore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ._isa import BRANCHES, Instr

_BRANCH_NAMES = frozenset(BRANCHES.values())
from ._memory import I16, U16, U32, Trap
from ._ops import ALU, IMM_ALU, SYSTEM_OPS, div, divu, rem, remu

if TYPE_CHECKING:
    from ._machine import Machine

__all__ = ["Jit", "MAX_BLOCK", "block_source"]

MAX_BLOCK = 64
M = 0xFFFFFFFF
_FIRST_LINE = 4          # line of a block's first instruction in the generated source
Block = Callable[[list[int]], int]
_COND = {
    "beq": "{a} == {b}", "bne": "{a} != {b}",
    "blt": "({a} ^ 2147483648) < ({b} ^ 2147483648)",
    "bge": "({a} ^ 2147483648) >= ({b} ^ 2147483648)",
    "bltu": "{a} < {b}", "bgeu": "{a} >= {b}",
}


class _Exit(Exception):
    """Raised inside a block to hand the current instruction to the interpreter."""


def _x(i: int) -> str:
    return f"x{i}" if i else "0"


def _instr_line(ins: Instr, pc: int) -> tuple[str, bool]:
    """One line of Python for ``ins`` at ``pc``; True if it ends the block."""
    op, rd, rs1, rs2, imm, _w = ins
    npc = (pc + 4) & M
    dest = f"x{rd}" if rd else "_"
    if op in ALU:
        if not rd:
            return "pass", False
        return f"{dest} = " + ALU[op].replace("A", _x(rs1)).replace("B", _x(rs2)), False
    if op in IMM_ALU:
        if not rd:
            return "pass", False
        return f"{dest} = " + ALU[IMM_ALU[op]].replace("A", _x(rs1)).replace("B", str(imm & M)), \
            False
    if op == "lui":
        return (f"{dest} = {imm & M}" if rd else "pass"), False
    if op == "auipc":
        return (f"{dest} = {(pc + imm) & M}" if rd else "pass"), False
    addr = f"a = ({_x(rs1)} + {imm}) & 4294967295; " if rs1 else f"a = {imm & M}; "
    if op == "lw":
        return addr + f"{dest} = U32(pages[a >> 12], (a & 4095) | ((a & 3) << 12))[0]", False
    if op == "lh":
        return addr + f"{dest} = I16(pages[a >> 12], (a & 4095) | ((a & 1) << 12))[0] " \
            "& 4294967295", False
    if op == "lhu":
        return addr + f"{dest} = U16(pages[a >> 12], (a & 4095) | ((a & 1) << 12))[0]", False
    if op == "lbu":
        return addr + f"{dest} = pages[a >> 12][a & 4095]", False
    if op == "lb":
        return addr + f"{dest} = ((pages[a >> 12][a & 4095] ^ 128) - 128) & 4294967295", False
    if op == "sw":
        return addr + f"P32(wpages[a >> 12], (a & 4095) | ((a & 3) << 12), {_x(rs2)})", False
    if op == "sh":
        return addr + f"P16(wpages[a >> 12], (a & 4095) | ((a & 1) << 12), " \
            f"{_x(rs2)} & 65535)", False
    if op == "sb":
        return addr + f"wpages[a >> 12][a & 4095] = {_x(rs2)} & 255", False
    if op == "jal":
        target = (pc + imm) & M
        if target & 3:
            return "raise EXIT", True
        return (f"{dest} = {npc}; " if rd else "") + f"nxt = {target}", True
    if op == "jalr":
        return (f"nxt = ({_x(rs1)} + {imm}) & 4294967294\n        if nxt & 2: raise EXIT\n"
                f"        " + (f"{dest} = {npc}" if rd else "pass")), True
    if op in _BRANCH_NAMES:
        target = (pc + imm) & M
        cond = _COND[op].format(a=_x(rs1), b=_x(rs2))
        if target & 3:
            return f"if {cond}: raise EXIT\n        nxt = {npc}", True
        return f"nxt = {target} if {cond} else {npc}", True
    return "pass", False          # fence, fence.i, wfi


def block_source(instrs: list[tuple[int, Instr]]) -> str:
    """Python source of the block function ``blk(r)`` for (pc, instr) pairs."""
    lines: list[str] = []
    used: set[int] = set()
    written: set[int] = set()
    ended = False
    for pc, ins in instrs:
        line, ended = _instr_line(ins, pc)
        lines.append(line)
        used.update(x for x in (ins.rs1, ins.rs2, ins.rd) if x)
        if ins.rd and not line.startswith("pass"):
            written.add(ins.rd)
    regs = sorted(used)
    wregs = sorted(written)
    load = "; ".join(f"x{i} = r[{i}]" for i in regs) or "pass"
    back = "; ".join(f"r[{i}] = x{i}" for i in wregs) or "pass"
    tail = "nxt" if ended else str((instrs[-1][0] + 4) & M)
    body = [
        "def blk(r, pages=pages, wpages=wpages, U32=U32, U16=U16, I16=I16, P32=P32, P16=P16,"
        " div=div, divu=divu, rem=rem, remu=remu, EXIT=EXIT):",
        f"    {load}",
        "    try:",
    ]
    # each instruction's code occupies exactly the lines it was given; the
    # jalr/misaligned-branch forms take extra lines, so record a line map
    body += [f"        {line}" for line in lines]
    body += [
        "    except Exception as e:",
        f"        {back}",
        "        return -1 - LINE[e.__traceback__.tb_lineno]",
        f"    {back}",
        f"    return {tail}",
    ]
    return "\n".join(body) + "\n"


def _line_map(instrs: list[tuple[int, Instr]]) -> dict[int, int]:
    out: dict[int, int] = {}
    line = _FIRST_LINE
    for k, (pc, ins) in enumerate(instrs):
        text, _ = _instr_line(ins, pc)
        for _ in range(text.count("\n") + 1):
            out[line] = k
            line += 1
    return out


class Jit:
    """Compiles and runs blocks for one machine (see the module docstring)."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.blocks: dict[int, tuple[Block, int]] = {}
        #: pc -> length of the interpreted run starting there (cold code).
        self.sizes: dict[int, int] = {}
        self.heat: dict[int, int] = {}
        self.page_starts: dict[int, list[int]] = {}
        self.compiled = 0
        self.threshold = machine.config.jit_threshold
        mem = machine.memory
        self.namespace: dict[str, object] = {
            "pages": mem.pages, "wpages": mem.wpages, "U32": U32.unpack_from,
            "U16": U16.unpack_from, "I16": I16.unpack_from, "P32": U32.pack_into,
            "P16": U16.pack_into, "div": div, "divu": divu, "rem": rem, "remu": remu,
            "EXIT": _Exit(),
        }
        machine._page_hooks.append(self._invalidate)

    def _invalidate(self, pn: int) -> None:
        for pc in self.page_starts.pop(pn, ()):
            self.blocks.pop(pc, None)
            self.sizes.pop(pc, None)
            self.heat.pop(pc, None)

    def _scan(self, pc: int) -> list[tuple[int, Instr]]:
        """The compilable instructions of the block at ``pc`` (may be empty)."""
        m = self.machine
        out: list[tuple[int, Instr]] = []
        page = pc >> 12
        while len(out) < MAX_BLOCK and pc >> 12 == page:
            try:
                ins = m.instr_at(pc)
            except Trap:
                break
            if ins.op in SYSTEM_OPS:
                break
            out.append((pc, ins))
            if ins.op in _BRANCH_NAMES or ins.op in ("jal", "jalr"):
                break
            pc = (pc + 4) & M
        return out

    def _prepare(self, pc: int) -> int:
        """Compile the block at ``pc`` if hot; return the interpreted run length otherwise."""
        instrs = self._scan(pc)
        page = pc >> 12
        self.page_starts.setdefault(page, []).append(pc)
        if not instrs:
            self.sizes[pc] = 1
            return 1
        heat = self.heat.get(pc, 0) + 1
        self.heat[pc] = heat
        if heat < self.threshold:
            self.sizes[pc] = len(instrs)
            return len(instrs)
        ns = dict(self.namespace)
        ns["LINE"] = _line_map(instrs)
        exec(compile(block_source(instrs), f"<block 0x{pc:08x}>", "exec"), ns)
        self.blocks[pc] = (ns["blk"], len(instrs))  # type: ignore[assignment]
        self.sizes.pop(pc, None)
        self.compiled += 1
        return 0

    def advance(self, n: int) -> int:
        """Up to ``n`` cycles, stopping at halt; returns cycles run (see ``Machine.advance``)."""
        m = self.machine
        if m.halted or n <= 0:
            return 0
        blocks = self.blocks
        sizes = self.sizes
        r = m.regs
        pc = m.pc
        start = m.cycle
        done = 0
        while done < n:
            b = blocks.get(pc)
            if b is not None and b[1] <= n - done:
                npc = b[0](r)
                if npc >= 0:
                    pc = npc
                    done += b[1]
                    continue
                k = -1 - npc
                done += k
                pc = (pc + 4 * k) & M
                size = 1
            else:
                size = sizes.get(pc, 0) if b is None else 1
                if size == 0:
                    size = self._prepare(pc)
                    if size == 0:
                        continue
                else:
                    heat = self.heat.get(pc)
                    if heat is not None and b is None and size > 0:
                        self.heat[pc] = heat + 1
                        if heat + 1 >= self.threshold:
                            del sizes[pc]
                            continue
            m.pc = pc
            m.cycle = start + done
            done += m.advance(min(size, n - done))
            pc = m.pc
            if m.stopped():
                break
        m.pc = pc
        m.cycle = start + done
        return done
