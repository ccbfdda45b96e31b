"""The fast path: hot superblocks compiled to straight-line Python functions.

A block starts at a pc and runs through ALU, load and store instructions,
through forward conditional branches (a taken one leaves by a *side exit*)
and into ``jal`` targets; it ends at a ``jalr``, a backward branch, a jump
back into itself, an instruction the host must handle (ECALL, EBREAK, MRET,
CSR access, illegal words), a fetch fault, or after :data:`MAX_BLOCK`
instructions.  A block whose last branch returns to its own start is a loop
and iterates inside the function while whole iterations fit the cycle
budget.  Blocks are compiled from generated source with ``compile``/``exec``
once their start has been entered ``jit_threshold`` times; cold code runs in
the interpreter.  With ``witness=True`` the same code also appends each
instruction's *dynamic* witness values (register and memory values, a
branch's next pc) to a flat list, and the run logs (block, cycles) pairs; the
full rows (the columns of :mod:`._witness`) are rebuilt with numpy from each
block's static template row (pc, instr, indices, imm): no per-instruction
14-value tuple.

Generated code keeps the registers it touches in locals and writes them back
at every exit.  Loads index ``pages`` and stores index ``wpages`` directly,
and a misaligned address becomes an out-of-range struct offset, so checks
cost only arithmetic.  Whenever an instruction would need the slow path -- a
page not yet allocated, a copy-on-write or code page, the HTIF page, a
misaligned access or jump target -- its line fails before any side effect,
the block writes back its locals and returns ``-1 - c`` (``c`` completed
cycles; a line map from the traceback's line number gives the instruction).
The runner counts those cycles and lets the interpreter execute that one
instruction, which allocates, copies, invalidates, halts or traps exactly as
it always does.  So results, traps and cycle counts are the interpreter's,
and the cycle limit is exact: a block only starts when its longest path fits
the remaining budget, and a loop only starts another iteration that fits.

Compiled blocks are cached per start pc and dropped when any page they were
compiled from is written (the machine's page-invalidation hook) or replaced
by a restore.  The code objects themselves are also kept process-wide, keyed
by the block's (pc, instruction word) pairs, so the fresh machines that
regenerate a witness from checkpoints do not compile the same blocks again.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING

import array
import re

import numpy as np
from numpy.typing import NDArray

from ._errors import GuestError
from ._isa import BRANCHES, Instr

_BRANCH_NAMES = frozenset(BRANCHES.values())
from ._memory import I16, U16, U32, Trap
from ._ops import ALU, IMM_ALU, SYSTEM_OPS, div, divu, rem, remu
from ._witness import K, operands, trace_reference

if TYPE_CHECKING:
    from ._machine import Machine

__all__ = ["Jit", "MAX_BLOCK", "block_source"]

MAX_BLOCK = 64
M = 0xFFFFFFFF
_FIRST_LINE = 4          # line of a block's first instruction in the generated source
_COND = {
    "beq": "{a} == {b}", "bne": "{a} != {b}",
    "blt": "({a} ^ 2147483648) < ({b} ^ 2147483648)",
    "bge": "({a} ^ 2147483648) >= ({b} ^ 2147483648)",
    "bltu": "{a} < {b}", "bgeu": "{a} >= {b}",
}


class _Exit(Exception):
    """Raised inside a block to hand the current instruction to the interpreter."""


_EXIT = _Exit()


def _x(i: int) -> str:
    return f"x{i}" if i else "0"


_LOAD_RAW = {
    "lw": "U32(pages[a >> 12], (a & 4095) | ((a & 3) << 12))[0]",
    "lh": "U16(pages[a >> 12], (a & 4095) | ((a & 1) << 12))[0]",
    "lhu": "U16(pages[a >> 12], (a & 4095) | ((a & 1) << 12))[0]",
    "lb": "pages[a >> 12][a & 4095]",
    "lbu": "pages[a >> 12][a & 4095]",
}
_LOAD_EXT = {"lh": "((m_ ^ 32768) - 32768) & 4294967295",
             "lb": "((m_ ^ 128) - 128) & 4294967295"}
_STORE = {
    "sw": ("o_ = (a & 4095) | ((a & 3) << 12); p_ = U32(g_, o_)[0]; P32(g_, o_, {v})", "{v}"),
    "sh": ("o_ = (a & 4095) | ((a & 1) << 12); p_ = U16(g_, o_)[0]; P16(g_, o_, {v} & 65535)",
           "{v} & 65535"),
    "sb": ("o_ = a & 4095; p_ = g_[o_]; g_[o_] = {v} & 255", "{v} & 255"),
}


def _instr_line(ins: Instr, pc: int, witness: bool,
                template: list[tuple[int | None, ...]] | None = None) -> tuple[str, bool]:
    """One line of Python for ``ins`` at ``pc``; True if it ends the block.

    Every statement that can fail (a missing page, a misaligned offset, a bad
    jump target) comes before any side effect on the same line, so a failing
    line leaves the block's state exactly as before that instruction.  With
    ``witness`` the line also appends the *dynamic* values of the instruction's
    witness row to ``out`` (columns in order, see :mod:`._witness`) and, if
    ``template`` is given, appends the row's template to it: the static
    values, with None where a value is dynamic.
    """
    op, rd, rs1, rs2, imm, word = ins
    npc = (pc + 4) & M
    stmts: list[str] = []
    v1, v2 = _x(rs1), _x(rs2)
    if witness and rd:
        if rd == rs1:
            stmts.append(f"s1 = x{rs1}")
            v1 = "s1"
        if rd == rs2:
            stmts.append(f"s2 = x{rs2}")
            v2 = "s2"
    rdv = f"x{rd}" if rd else "0"
    nxt: str = str(npc)
    mem = ("0", "0", "0", "0")          # addr, read, write, prev
    ends = False
    if op in ALU or op in IMM_ALU:
        expr = ALU[op] if op in ALU else ALU[IMM_ALU[op]]
        b = v2 if op in ALU else str(imm & M)
        if not rd:
            pass
        elif op == "addi" and (imm == 0 or rs1 == 0):       # mv / li: no arithmetic
            stmts.append(f"x{rd} = {v1 if rs1 else imm & M}")
        else:
            stmts.append(f"x{rd} = " + expr.replace("A", v1).replace("B", b))
    elif op == "lui" or op == "auipc":
        if rd:
            stmts.append(f"x{rd} = {imm & M if op == 'lui' else (pc + imm) & M}")
    elif op in _LOAD_RAW or op in _STORE:
        stmts.append(f"a = ({v1} + {imm}) & 4294967295" if rs1 else f"a = {imm & M}")
        if op in _LOAD_RAW:
            stmts.append(f"m_ = {_LOAD_RAW[op]}")
            if op == "lh" and not witness:
                stmts[-1] = "m_ = I16(pages[a >> 12], (a & 4095) | ((a & 1) << 12))[0]"
                if rd:
                    stmts.append(f"x{rd} = m_ & 4294967295")
            elif rd:
                stmts.append(f"x{rd} = " + _LOAD_EXT.get(op, "m_"))
            mem = ("a", "m_", "0", "0")
        else:
            body, written = _STORE[op]
            stmts.append("g_ = wpages[a >> 12]")
            stmts.append(body.format(v=v2))
            mem = ("a", "0", written.format(v=v2), "p_")
    elif op == "jal":
        target = (pc + imm) & M
        ends = True
        if target & 3:
            return "FAIL()", True
        if rd:
            stmts.append(f"x{rd} = {npc}")
        nxt = str(target)
    elif op == "jalr":
        ends = True
        stmts.append(f"nxt = ({v1} + {imm}) & 4294967294" if rs1 else f"nxt = {imm & 0xFFFFFFFE}")
        stmts.append("nxt & 2 and FAIL()")
        if rd:
            stmts.append(f"x{rd} = {npc}")
        nxt = "nxt"
    elif op in _BRANCH_NAMES:
        ends = True
        target = (pc + imm) & M
        cond = _COND[op].format(a=v1, b=v2)
        if target & 3:
            stmts.append(f"({cond}) and FAIL()")
            stmts.append(f"nxt = {npc}")
        else:
            stmts.append(f"nxt = {target} if {cond} else {npc}")
        nxt = "nxt"
    if ends and nxt != "nxt":
        stmts.append(f"nxt = {nxt}")
    if witness:
        wrd, wrs1, wrs2, wimm = operands(ins)
        cols = (str(pc), nxt, str(word), str(wrd), str(wrs1), str(wrs2), rdv, v1, v2,
                str(wimm), *mem)
        # Only the dynamic values are emitted, in column order; the static
        # ones come from the block's template row (see ``_Mode.template``).
        row = tuple(int(c) if c.isdigit() else None for c in cols)
        dyn = [c for c, v in zip(cols, row) if v is None]
        if len(dyn) == 1:
            stmts.append(f"app({dyn[0]})")
        elif dyn:
            stmts.append(f"out += ({', '.join(dyn)})")
        if template is not None:
            template.append(row)
    return "; ".join(stmts) or "pass", ends


def block_source(instrs: list[tuple[int, Instr]], witness: bool = False,
                 template: list[tuple[int | None, ...]] | None = None,
                 ) -> tuple[str, dict[int, int]]:
    """Python source of ``blk(r, budget, out)`` for (pc, instr) pairs, and its line map.

    A block is a superblock: it runs through forward conditional branches
    (returning at a *side exit* when one is taken) and ends at a jump, a
    backward branch, a host instruction or the page end.  A block whose last
    branch goes back to its own start is a loop, run here while whole
    iterations fit in ``budget`` cycles.

    Returns ``next_pc | cycles << 32``, or ``-1 - c`` after ``c`` completed
    cycles when an instruction needs the interpreter (the line map takes the
    failing line number to the instruction's index in the block).
    """
    n = len(instrs)
    start, last = instrs[0][0], instrs[-1][1]
    # A loop: the last instruction jumps, branches or falls through to the start.
    jumps = last.op in _BRANCH_NAMES or last.op == "jal" or last.op == "jalr"
    falls_back = not jumps and (instrs[-1][0] + 4) & M == start
    loop = falls_back or (jumps and last.op != "jalr" and (instrs[-1][0] + last.imm) & M == start)
    used: set[int] = set()
    written: set[int] = set()
    for _pc, ins in instrs:
        used.update(x for x in (ins.rs1, ins.rs2, ins.rd) if x)
        if ins.rd:
            written.add(ins.rd)
    back = "; ".join(f"r[{i}] = x{i}" for i in sorted(written)) or "pass"
    ind = " " * (12 if loop else 8)
    done = f"it * {n} + " if loop else ""
    # A loop loads every register it uses up front.  A straight superblock
    # loads each register just before its first read and writes back, at
    # each exit, only what it has written so far: early side exits stay cheap.
    load = "; ".join([f"x{i} = r[{i}]" for i in sorted(used)] + ["it = 0"]) if loop else "pass"
    if witness:
        load += "; app = out.append"
    bound: set[int] = set()
    wrote: set[int] = set()
    code: list[tuple[str, int]] = []      # (line, instruction index or -1)
    ended = False
    for k, (pc, ins) in enumerate(instrs):
        line, ended = _instr_line(ins, pc, witness, template)
        if not loop:
            reads = sorted({x for x in (ins.rs1, ins.rs2) if x} - bound)
            bound.update(reads)
            if reads:
                line = "; ".join(f"x{i} = r[{i}]" for i in reads) + "; " + line
        if ins.rd:
            wrote.add(ins.rd)
            bound.add(ins.rd)
        code.append((line, k))
        if ended and k < n - 1 and ins.op != "jal":    # a forward branch: side exit
            wb = back if loop else "; ".join(f"r[{i}] = x{i}" for i in sorted(wrote))
            code.append((f"if nxt != {(pc + 4) & M}: {wb + '; ' if wb else ''}"
                         f"return nxt | ({done}{k + 1}) << 32", -1))
    if falls_back:
        code.append((f"nxt = {start}", -1))
    first = _FIRST_LINE + (1 if loop else 0)
    line_map = {first + i: k for i, (_line, k) in enumerate(code) if k >= 0}
    tail = "nxt" if ended else str((instrs[-1][0] + 4) & M)
    names = ", ".join(f"({i}, 'x{i}')" for i in sorted(written))
    # Helpers are bound as defaults (fast local loads), but only those the
    # block uses: every default costs a copy at each call.
    text = "\n".join(line for line, _k in code)
    helpers = "".join(f", {h}={h}" for h in _HELPERS if re.search(rf"\b{h}\b", text))
    body = [
        f"def blk(r, budget, out{helpers}, LINE=LINE):",
        f"    {load}",
        "    try:",
    ]
    if loop:
        body.append("        while True:")
    body += [ind + line for line, _k in code]
    if loop:
        body += [ind + "it += 1",
                 ind + f"if nxt != {start} or it * {n} + {n} > budget: break"]
    body += ["    except Exception as e:"]
    if loop:
        body.append(f"        {back}")
    else:   # write back every written register bound so far (originals are harmless)
        body += ["        loc = locals()",
                 f"        for i, name in ({names}{',' if names else ''}):",
                 "            if name in loc: r[i] = loc[name]"]
    body += [
        f"        return -1 - ({done}LINE[e.__traceback__.tb_lineno])",
        f"    {back}",
        f"    return nxt | (it * {n}) << 32" if loop else f"    return {tail} | {n << 32}",
    ]
    return "\n".join(body) + "\n", line_map


_HELPERS = ("pages", "wpages", "U32", "U16", "I16", "P32", "P16", "div", "divu", "rem", "remu",
            "FAIL")


def _fail() -> None:
    # with_traceback(None): re-raising the one instance would otherwise chain
    # every raise's frames (and the machines they reference) onto it forever
    raise _EXIT.with_traceback(None)


_Block = tuple[Callable[..., int], int, tuple[int, ...], int]


_Template = tuple[NDArray[np.uint32], NDArray[np.bool_]]


def _template(rows: list[tuple[int | None, ...]]) -> _Template:
    """A block's template rows as arrays: static values, and where values are emitted."""
    return (np.array([[v or 0 for v in r] for r in rows], dtype=np.uint32).reshape(-1, K),
            np.array([[v is None for v in r] for r in rows], dtype=np.bool_).reshape(-1, K))


#: Compiled blocks shared by every machine of the process: (witness, (pc, word)
#: of each instruction) -> (code, line map, template).  Regenerating a witness
#: starts fresh machines from checkpoints; they reuse the code instead of
#: compiling it again.  Cleared when it reaches :data:`CODE_CACHE_SIZE`.
_CODE: dict[tuple[bool, tuple[tuple[int, int], ...]],
            tuple[CodeType, dict[int, int], _Template | None]] = {}
CODE_CACHE_SIZE = 4096


class _Templates:
    """Static witness rows of every compiled witness block, and their assembly.

    Row 0 is the interpreter's: every column dynamic.  A block compiled from
    n instructions owns rows ``base .. base + n - 1``; a run of ``c`` cycles of
    it (``c`` may exceed n for a loop) uses rows ``base + (i % n)`` for
    i < c.  :meth:`assemble` rebuilds full witness rows from the event log
    ``(base, cycles)`` pairs and the flat dynamic values with numpy.
    """

    def __init__(self) -> None:
        self.size = 1
        self._parts: list[_Template] = [_template([(None,) * K])]
        self._static: NDArray[np.uint32] = np.zeros((0, K), dtype=np.uint32)
        self._dynamic: NDArray[np.bool_] = np.zeros((0, K), dtype=np.bool_)
        self._period: NDArray[np.int64] = np.zeros(0, dtype=np.int64)

    def add(self, part: _Template) -> int:
        """Append one block's template (see :func:`_template`); returns its base row."""
        base = self.size
        self._parts.append(part)
        self.size += len(part[0])
        return base

    def _arrays(self) -> tuple[NDArray[np.uint32], NDArray[np.bool_], NDArray[np.int64]]:
        if len(self._static) != self.size:
            self._static = np.concatenate([p[0] for p in self._parts])
            self._dynamic = np.concatenate([p[1] for p in self._parts])
            self._period = np.concatenate([np.full(len(p[0]), len(p[0]), dtype=np.int64)
                                           for p in self._parts])
        return self._static, self._dynamic, self._period

    def assemble(self, events: list[int], values: list[int]) -> NDArray[np.uint32]:
        """Witness rows, shape (cycles, K), from the event log and dynamic values."""
        if not events:
            return np.zeros((0, K), dtype=np.uint32)
        static, dynamic, period = self._arrays()
        dyn = np.frombuffer(array.array("Q", values), dtype=np.uint64)
        ev = np.frombuffer(array.array("q", events), dtype=np.int64).reshape(-1, 2)
        bases, counts = ev[:, 0], ev[:, 1]
        per = period[bases]
        if (counts > per).any():         # loop runs: one event per (partial) iteration
            pieces = (counts + per - 1) // per
            bases = np.repeat(bases, pieces)
            per_rep = np.repeat(per, pieces)
            first = np.cumsum(pieces) - pieces
            within = np.arange(len(bases), dtype=np.int64) - np.repeat(first, pieces)
            counts = np.minimum(per_rep, np.repeat(counts, pieces) - within * per_rep)
        total = int(counts.sum())
        starts = np.cumsum(counts) - counts
        ids = np.arange(total, dtype=np.int64) - np.repeat(starts - bases, counts)
        rows: NDArray[np.uint32] = np.take(static, ids, axis=0)
        mask = np.take(dynamic, ids, axis=0)
        if int(np.count_nonzero(mask)) != dyn.size:      # an internal invariant
            raise AssertionError(f"witness assembly: {dyn.size} dynamic values for "
                                 f"{int(np.count_nonzero(mask))} dynamic cells")
        rows[mask] = dyn
        return rows


class _Mode:
    """The block cache of one compilation mode (fast, or witness-generating)."""

    def __init__(self, witness: bool) -> None:
        self.witness = witness
        #: start pc -> (function, instruction count, pc of each instruction,
        #: first template row of the block (witness mode; 0 in fast mode))
        self.blocks: dict[int, _Block] = {}
        #: pc -> length of the interpreted run starting there (cold code).
        self.sizes: dict[int, int] = {}
        self.heat: dict[int, int] = {}

    def drop(self, pc: int) -> None:
        self.blocks.pop(pc, None)
        self.sizes.pop(pc, None)
        self.heat.pop(pc, None)


class Jit:
    """Compiles and runs blocks for one machine (see the module docstring)."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.fast = _Mode(False)
        self.witness = _Mode(True)
        self.templates = _Templates()
        self.page_starts: dict[int, set[int]] = {}
        self.compiled = 0
        self.threshold = machine.config.jit_threshold
        mem = machine.memory
        self.namespace: dict[str, object] = {
            "pages": mem.pages, "wpages": mem.wpages, "U32": U32.unpack_from,
            "U16": U16.unpack_from, "I16": I16.unpack_from, "P32": U32.pack_into,
            "P16": U16.pack_into, "div": div, "divu": divu, "rem": rem, "remu": remu,
            "FAIL": _fail, "LINE": {},
        }
        machine._page_hooks.append(self._invalidate)

    @property
    def blocks(self) -> dict[int, _Block]:
        """Compiled fast-path blocks by start pc."""
        return self.fast.blocks

    def _invalidate(self, pn: int) -> None:
        for pc in self.page_starts.pop(pn, ()):
            self.fast.drop(pc)
            self.witness.drop(pc)

    def _scan(self, pc: int) -> list[tuple[int, Instr]]:
        """The compilable instructions of the superblock at ``pc`` (may be empty).

        Follows fall-through paths and ``jal`` targets; stops at host
        instructions, ``jalr``, backward branches, a jump back into the block,
        a fetch fault, or :data:`MAX_BLOCK` instructions.
        """
        m = self.machine
        out: list[tuple[int, Instr]] = []
        seen: set[int] = set()
        while len(out) < MAX_BLOCK and pc not in seen:
            try:
                ins = m.instr_at(pc)
            except Trap:
                break
            if ins.op in SYSTEM_OPS:
                break
            out.append((pc, ins))
            seen.add(pc)
            if ins.op == "jal":
                target = (pc + ins.imm) & M
                if target & 3 or target in seen:
                    break
                pc = target
                continue
            if ins.op == "jalr" or (ins.op in _BRANCH_NAMES and ins.imm <= 0):
                break
            pc = (pc + 4) & M
        return out

    def _prepare(self, mode: _Mode, pc: int) -> int:
        """Compile the block at ``pc`` if hot; return the interpreted run length otherwise."""
        instrs = self._scan(pc)
        for page in {p >> 12 for p, _ in instrs} | {pc >> 12}:
            self.page_starts.setdefault(page, set()).add(pc)
        if not instrs:
            mode.sizes[pc] = 1
            return 1
        heat = mode.heat.get(pc, 0) + 1
        mode.heat[pc] = heat
        if heat < self.threshold:
            mode.sizes[pc] = len(instrs)
            return len(instrs)
        key = (mode.witness, tuple((p, ins.word) for p, ins in instrs))
        cached = _CODE.get(key)
        if cached is None:
            rows: list[tuple[int | None, ...]] | None = [] if mode.witness else None
            source, line_map = block_source(instrs, mode.witness, rows)
            code = compile(source, f"<block 0x{pc:08x}>", "exec")
            if len(_CODE) >= CODE_CACHE_SIZE:
                _CODE.clear()
            cached = _CODE[key] = (code, line_map, None if rows is None else _template(rows))
        code, line_map, template = cached
        ns = dict(self.namespace)
        ns["LINE"] = line_map
        exec(code, ns)
        base = self.templates.add(template) if template is not None else 0
        mode.blocks[pc] = (ns["blk"], len(instrs), tuple(p for p, _ in instrs),  # type: ignore[assignment]
                           base)
        mode.sizes.pop(pc, None)
        self.compiled += 1
        return 0

    def advance(self, n: int) -> int:
        """Up to ``n`` cycles, stopping at halt; returns cycles run (see ``Machine.advance``)."""
        return self._run(n, self.fast, None)

    def trace(self, n: int) -> NDArray[np.uint32]:
        """Like :meth:`advance`, returning the witness rows, shape (cycles, K).

        Compiled blocks emit only their dynamic values; the event log of
        (template base, cycles) pairs rebuilds the rows (:class:`_Templates`).
        On a :class:`GuestError` the completed rows are attached as ``exc.rows``.
        """
        out: list[int] = []
        events: list[int] = []
        try:
            self._run_witness(n, out, events)
        except GuestError as exc:
            exc.rows = self.templates.assemble(events, out)
            raise
        return self.templates.assemble(events, out)

    def _run(self, n: int, mode: _Mode, out: list[int] | None) -> int:
        m = self.machine
        if m.halted or n <= 0:
            return 0
        get = mode.blocks.get
        sizes = mode.sizes
        r = m.regs
        pc = m.pc
        start = m.cycle
        left = n
        while left > 0:
            b = get(pc)
            while b is not None and b[1] <= left:       # the hot loop: block to block
                npc = b[0](r, left, out)
                if npc < 0:                             # instruction c needs the interpreter
                    c = -1 - npc
                    left -= c
                    pc = b[2][c % b[1]]
                    size = 1
                    break
                left -= npc >> 32
                pc = npc & 0xFFFFFFFF
                b = get(pc)
            else:
                if left <= 0:
                    break
                size = sizes.get(pc, 0) if b is None else 1
                if size == 0:
                    size = self._prepare(mode, pc)
                    if size == 0:
                        continue
                elif b is None:
                    heat = mode.heat.get(pc)
                    if heat is not None:
                        mode.heat[pc] = heat + 1
                        if heat + 1 >= self.threshold:
                            del sizes[pc]
                            continue
            m.pc = pc
            m.cycle = start + n - left
            if out is None:
                left -= m.advance(min(size, left))
            else:
                trace_reference(m, min(size, left), out)
                left = n - (m.cycle - start)
            pc = m.pc
            if m.stopped():
                break
        m.pc = pc
        m.cycle = start + n - left
        return n - left

    def _run_witness(self, n: int, out: list[int], events: list[int]) -> int:
        """:meth:`_run` in witness mode, also logging (template base, cycles) pairs."""
        mode = self.witness
        m = self.machine
        if m.halted or n <= 0:
            return 0
        get = mode.blocks.get
        sizes = mode.sizes
        r = m.regs
        pc = m.pc
        start = m.cycle
        left = n
        while left > 0:
            b = get(pc)
            while b is not None and b[1] <= left:       # the hot loop: block to block
                npc = b[0](r, left, out)
                if npc < 0:                             # instruction c needs the interpreter
                    c = -1 - npc
                    events += (b[3], c)
                    left -= c
                    pc = b[2][c % b[1]]
                    size = 1
                    break
                c = npc >> 32
                events += (b[3], c)
                left -= c
                pc = npc & 0xFFFFFFFF
                b = get(pc)
            else:
                if left <= 0:
                    break
                size = sizes.get(pc, 0) if b is None else 1
                if size == 0:
                    size = self._prepare(mode, pc)
                    if size == 0:
                        continue
                elif b is None:
                    heat = mode.heat.get(pc)
                    if heat is not None:
                        mode.heat[pc] = heat + 1
                        if heat + 1 >= self.threshold:
                            del sizes[pc]
                            continue
            m.pc = pc
            m.cycle = start + n - left
            before = len(out)
            try:
                trace_reference(m, min(size, left), out)
            finally:
                events += (0, (len(out) - before) // K)
            left = n - (m.cycle - start)
            pc = m.pc
            if m.stopped():
                break
        m.pc = pc
        m.cycle = start + n - left
        return n - left
