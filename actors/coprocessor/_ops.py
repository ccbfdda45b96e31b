"""Predecoded instructions for the interpreter: one closure per (address, word).

``make_op(ins, pc, regs, mem, store_slow)`` returns a zero-argument function that
executes the instruction and returns the next pc.  Registers live in the
machine's ``regs`` list (unsigned 32-bit ints, ``regs[0]`` always 0); loads
read ``mem.pages`` and stores write ``mem.wpages`` inline, and take the slow
path (allocation, copy-on-write, code invalidation, HTIF, faults) only when
the page is missing.  Instructions that need the machine's synchronized state
(ECALL, EBREAK, MRET, CSR access, illegal words) raise :class:`Sync` and are
executed by :meth:`Machine._system`.

ALU semantics are written once, in :data:`ALU`, as Python expressions over
``A`` (rs1 value) and ``B`` (rs2 value or the unsigned immediate); the block
compiler reuses the same table.
"""

from __future__ import annotations

from collections.abc import Callable

from ._isa import Instr
from ._memory import I16, U16, U32, Memory, Trap

__all__ = ["make_op", "Sync", "ALU", "IMM_ALU", "SYSTEM_OPS", "div", "divu", "rem", "remu"]

M = 0xFFFFFFFF
Op = Callable[[], int]


class Sync(Exception):
    """Internal signal: execute this instruction with the machine's state synchronized."""


#: the one instance raised (no allocation per SYSTEM instruction); raised with
#: ``with_traceback(None)``, so it keeps no frames of earlier raises alive.
SYNC = Sync()


def div(a: int, b: int) -> int:
    """RISC-V DIV on unsigned 32-bit encodings: /0 -> -1, INT_MIN/-1 -> INT_MIN."""
    if b == 0:
        return M
    sa = a - ((a & 0x80000000) << 1)
    sb = b - ((b & 0x80000000) << 1)
    q = abs(sa) // abs(sb)
    return (-q if (sa < 0) != (sb < 0) else q) & M


def divu(a: int, b: int) -> int:
    """RISC-V DIVU: /0 -> 2**32 - 1."""
    return a // b if b else M


def rem(a: int, b: int) -> int:
    """RISC-V REM: x%0 -> x, INT_MIN%-1 -> 0; the sign follows the dividend."""
    if b == 0:
        return a
    sa = a - ((a & 0x80000000) << 1)
    sb = b - ((b & 0x80000000) << 1)
    r = abs(sa) % abs(sb)
    return (-r if sa < 0 else r) & M


def remu(a: int, b: int) -> int:
    """RISC-V REMU: x%0 -> x."""
    return a % b if b else a


_S = "((A ^ 2147483648) - 2147483648)"
#: mnemonic -> expression over A, B (unsigned 32-bit) giving the unsigned result.
ALU: dict[str, str] = {
    "add": "(A + B) & 4294967295",
    "sub": "(A - B) & 4294967295",
    "sll": "(A << (B & 31)) & 4294967295",
    "slt": "1 if (A ^ 2147483648) < (B ^ 2147483648) else 0",
    "sltu": "1 if A < B else 0",
    "xor": "A ^ B",
    "srl": "A >> (B & 31)",
    "sra": f"({_S} >> (B & 31)) & 4294967295",
    "or": "A | B",
    "and": "A & B",
    "mul": "(A * B) & 4294967295",
    "mulh": f"(({_S} * {_S.replace('A', 'B')}) >> 32) & 4294967295",
    "mulhsu": f"(({_S} * B) >> 32) & 4294967295",
    "mulhu": "(A * B) >> 32",
    "div": "div(A, B)",
    "divu": "divu(A, B)",
    "rem": "rem(A, B)",
    "remu": "remu(A, B)",
}
#: immediate mnemonic -> the register mnemonic whose expression it shares.
IMM_ALU: dict[str, str] = {
    "addi": "add", "slti": "slt", "sltiu": "sltu", "xori": "xor", "ori": "or", "andi": "and",
    "slli": "sll", "srli": "srl", "srai": "sra",
}
SYSTEM_OPS = frozenset(("ecall", "ebreak", "mret", "illegal", "csrrw", "csrrs", "csrrc",
                        "csrrwi", "csrrsi", "csrrci"))


def _build_alu_factories() -> dict[str, Callable[..., Op]]:
    src = []
    for name, expr in ALU.items():
        body = expr.replace("A", "r[rs1]").replace("B", "r[rs2]")
        src.append(f"def _r_{name}(r, rd, rs1, rs2, npc):\n"
                   f"    def op():\n        r[rd] = {body}\n        return npc\n    return op\n")
        body = expr.replace("A", "r[rs1]").replace("B", "b")
        src.append(f"def _i_{name}(r, rd, rs1, b, npc):\n"
                   f"    def op():\n        r[rd] = {body}\n        return npc\n    return op\n")
    namespace: dict[str, object] = {"div": div, "divu": divu, "rem": rem, "remu": remu}
    exec(compile("".join(src), "<coprocessor-alu>", "exec"), namespace)
    return {k: v for k, v in namespace.items() if k.startswith(("_r_", "_i_"))}  # type: ignore[misc]


_FACTORIES = _build_alu_factories()
_WIDTH = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4, "sb": 1, "sh": 2, "sw": 4}


def make_op(ins: Instr, pc: int, r: list[int], mem: Memory,
            store_slow: Callable[[int, int, int], None]) -> Op:
    """The interpreter closure for instruction ``ins`` at address ``pc``."""
    op, rd, rs1, rs2, imm, _word = ins
    npc = (pc + 4) & M
    if op in SYSTEM_OPS:
        def system() -> int:
            # a fresh traceback: re-raising one exception object otherwise
            # chains every raise's frames onto it, keeping every machine alive
            raise SYNC.with_traceback(None)
        return system
    if op in ALU:
        if rd == 0:
            return lambda: npc
        return _FACTORIES["_r_" + op](r, rd, rs1, rs2, npc)
    if op in IMM_ALU:
        if rd == 0:
            return lambda: npc
        return _FACTORIES["_i_" + IMM_ALU[op]](r, rd, rs1, imm & M, npc)
    if op == "lui" or op == "auipc":
        value = imm if op == "lui" else (pc + imm) & M
        if rd == 0:
            return lambda: npc

        def upper() -> int:
            r[rd] = value
            return npc
        return upper
    if op == "jal":
        target = (pc + imm) & M
        if target & 3:
            def jal_bad() -> int:
                raise Trap(0, target)
            return jal_bad

        def jal() -> int:
            r[rd] = npc
            return target
        return jal if rd else (lambda: target)
    if op == "jalr":
        def jalr() -> int:
            t = (r[rs1] + imm) & 0xFFFFFFFE
            if t & 2:
                raise Trap(0, t)
            if rd:
                r[rd] = npc
            return t
        return jalr
    if op in ("beq", "bne", "blt", "bge", "bltu", "bgeu"):
        return _branch(op, pc, rs1, rs2, imm, r, npc)
    if op in ("lb", "lbu", "lh", "lhu", "lw"):
        return _load(op, rd, rs1, imm, r, mem, npc)
    if op in ("sb", "sh", "sw"):
        return _store(op, rs1, rs2, imm, r, mem, store_slow, npc)
    return lambda: npc   # fence, fence.i, wfi


def _branch(op: str, pc: int, rs1: int, rs2: int, imm: int, r: list[int], npc: int) -> Op:
    target = (pc + imm) & M
    if target & 3:
        cond = _cond(op)

        def bad() -> int:
            if cond(r[rs1], r[rs2]):
                raise Trap(0, target)
            return npc
        return bad
    if op == "beq":
        return lambda: target if r[rs1] == r[rs2] else npc
    if op == "bne":
        return lambda: target if r[rs1] != r[rs2] else npc
    if op == "blt":
        return lambda: target if (r[rs1] ^ 0x80000000) < (r[rs2] ^ 0x80000000) else npc
    if op == "bge":
        return lambda: target if (r[rs1] ^ 0x80000000) >= (r[rs2] ^ 0x80000000) else npc
    if op == "bltu":
        return lambda: target if r[rs1] < r[rs2] else npc
    return lambda: target if r[rs1] >= r[rs2] else npc


def _cond(op: str) -> Callable[[int, int], bool]:
    s = 0x80000000
    table: dict[str, Callable[[int, int], bool]] = {
        "beq": lambda a, b: a == b, "bne": lambda a, b: a != b,
        "blt": lambda a, b: (a ^ s) < (b ^ s), "bge": lambda a, b: (a ^ s) >= (b ^ s),
        "bltu": lambda a, b: a < b, "bgeu": lambda a, b: a >= b,
    }
    return table[op]


def _load(op: str, rd: int, rs1: int, imm: int, r: list[int], mem: Memory, npc: int) -> Op:
    pages = mem.pages
    load = mem.load
    width = _WIDTH[op]
    if rd == 0:
        def discard() -> int:
            load((r[rs1] + imm) & M, width)
            return npc
        return discard
    if op == "lw":
        u32 = U32.unpack_from

        def lw() -> int:
            a = (r[rs1] + imm) & M
            pg = pages.get(a >> 12)
            r[rd] = load(a, 4) if pg is None or a & 3 else u32(pg, a & 4095)[0]
            return npc
        return lw
    if op == "lbu" or op == "lb":
        sign = 0x80 if op == "lb" else 0

        def lb() -> int:
            a = (r[rs1] + imm) & M
            pg = pages.get(a >> 12)
            v = load(a, 1) if pg is None else pg[a & 4095]
            r[rd] = ((v ^ sign) - sign) & M
            return npc
        return lb
    unpack = (I16 if op == "lh" else U16).unpack_from
    slow_sign = 0x8000 if op == "lh" else 0

    def lh() -> int:
        a = (r[rs1] + imm) & M
        pg = pages.get(a >> 12)
        if pg is None or a & 1:
            v = load(a, 2)
            r[rd] = ((v ^ slow_sign) - slow_sign) & M
        else:
            r[rd] = unpack(pg, a & 4095)[0] & M
        return npc
    return lh


def _store(op: str, rs1: int, rs2: int, imm: int, r: list[int], mem: Memory,
           store_slow: Callable[[int, int, int], None], npc: int) -> Op:
    wpages = mem.wpages
    if op == "sw":
        pack = U32.pack_into

        def sw() -> int:
            a = (r[rs1] + imm) & M
            pg = wpages.get(a >> 12)
            if pg is None or a & 3:
                store_slow(a, 4, r[rs2])
            else:
                pack(pg, a & 4095, r[rs2])
            return npc
        return sw
    if op == "sb":
        def sb() -> int:
            a = (r[rs1] + imm) & M
            pg = wpages.get(a >> 12)
            if pg is None:
                store_slow(a, 1, r[rs2])
            else:
                pg[a & 4095] = r[rs2] & 0xFF
            return npc
        return sb
    pack16 = U16.pack_into

    def sh() -> int:
        a = (r[rs1] + imm) & M
        pg = wpages.get(a >> 12)
        if pg is None or a & 1:
            store_slow(a, 2, r[rs2])
        else:
            pack16(pg, a & 4095, r[rs2] & 0xFFFF)
        return npc
    return sh
