"""A naive RV32IM decode-execute loop: the baseline of the co-processor bench.

Every cycle fetches the word from a dict of pages, decodes it with the
co-processor's decoder (no caching) and dispatches on the mnemonic string.
It implements what the example guests need (RV32IM, ecall read/write/exit/
brk) and nothing else -- no CSRs, no traps -- and exists only to give the
fast path and the witness generator a same-run speed reference.
(The core machine has no naive loop of its own; if it grows one, prefer it.)
"""

from __future__ import annotations

from stele.actors.coprocessor import decode, load_program

M = 0xFFFFFFFF


def _s(x: int) -> int:
    return x - (1 << 32) if x & 0x80000000 else x


class NaiveMachine:
    def __init__(self, image: bytes, input: bytes = b"") -> None:
        prog = load_program(image)
        self.mem: dict[int, bytearray] = {}
        for seg in prog.segments:
            for i, b in enumerate(seg.data):
                self._page(seg.vaddr + i)[(seg.vaddr + i) & 4095] = b
        self.brk = prog.end
        self.pc = prog.entry
        self.x = [0] * 32
        self.x[2] = 0x7FFF0000 - 16
        self.input = input
        self.pos = 0
        self.stdout = bytearray()
        self.public = bytearray()
        self.exit_code: int | None = None
        self.cycles = 0

    def _page(self, addr: int) -> bytearray:
        pn = addr >> 12
        pg = self.mem.get(pn)
        if pg is None:
            pg = self.mem[pn] = bytearray(4096)
        return pg

    def load(self, addr: int, n: int) -> int:
        return int.from_bytes(bytes(self._page(addr + i)[(addr + i) & 4095] for i in range(n)),
                              "little")

    def store(self, addr: int, n: int, v: int) -> None:
        for i in range(n):
            self._page(addr + i)[(addr + i) & 4095] = (v >> (8 * i)) & 0xFF

    def run(self, max_cycles: int) -> int:
        x = self.x
        while self.exit_code is None and self.cycles < max_cycles:
            ins = decode(self.load(self.pc, 4))
            op, rd, a, b, imm = ins.op, ins.rd, x[ins.rs1], x[ins.rs2], ins.imm
            npc = (self.pc + 4) & M
            v: int | None = None
            if op == "lui":
                v = imm & M
            elif op == "auipc":
                v = (self.pc + imm) & M
            elif op == "jal":
                v, npc = npc, (self.pc + imm) & M
            elif op == "jalr":
                v, npc = npc, (a + imm) & M & ~1
            elif op in ("beq", "bne", "blt", "bge", "bltu", "bgeu"):
                taken = {"beq": a == b, "bne": a != b, "blt": _s(a) < _s(b),
                         "bge": _s(a) >= _s(b), "bltu": a < b, "bgeu": a >= b}[op]
                if taken:
                    npc = (self.pc + imm) & M
            elif op in ("lb", "lh", "lw", "lbu", "lhu"):
                n = {"lb": 1, "lh": 2, "lw": 4, "lbu": 1, "lhu": 2}[op]
                v = self.load((a + imm) & M, n)
                if op in ("lb", "lh") and v >> (8 * n - 1):
                    v = (v - (1 << (8 * n))) & M
            elif op in ("sb", "sh", "sw"):
                self.store((a + imm) & M, {"sb": 1, "sh": 2, "sw": 4}[op], b)
            elif op == "ecall":
                self._ecall()
            elif op in ("fence", "fence.i"):
                pass
            else:
                if op in ("addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli", "srai"):
                    b = imm & M
                    op = {"addi": "add", "slti": "slt", "sltiu": "sltu", "xori": "xor",
                          "ori": "or", "andi": "and", "slli": "sll", "srli": "srl",
                          "srai": "sra"}[op]
                v = self._alu(op, a, b)
            if v is not None and rd:
                x[rd] = v & M
            self.pc = npc
            self.cycles += 1
        return self.cycles

    @staticmethod
    def _alu(op: str, a: int, b: int) -> int:
        sa, sb = _s(a), _s(b)
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "sll":
            return a << (b & 31)
        if op == "slt":
            return int(sa < sb)
        if op == "sltu":
            return int(a < b)
        if op == "xor":
            return a ^ b
        if op == "srl":
            return a >> (b & 31)
        if op == "sra":
            return sa >> (b & 31)
        if op == "or":
            return a | b
        if op == "and":
            return a & b
        if op == "mul":
            return a * b
        if op == "mulh":
            return (sa * sb) >> 32
        if op == "mulhsu":
            return (sa * b) >> 32
        if op == "mulhu":
            return (a * b) >> 32
        if op in ("div", "rem"):
            if b == 0:
                return M if op == "div" else a
            if sa == -(1 << 31) and sb == -1:
                return a if op == "div" else 0
            q = abs(sa) // abs(sb) * (1 if (sa < 0) == (sb < 0) else -1)
            return q if op == "div" else sa - q * sb
        if op == "divu":
            return M if b == 0 else a // b
        if op == "remu":
            return a if b == 0 else a % b
        raise ValueError(f"naive loop cannot execute {op}")

    def _ecall(self) -> None:
        x = self.x
        n, a0, a1, a2 = x[17], x[10], x[11], x[12]
        if n in (93, 94):
            self.exit_code = a0
            return
        if n == 63:
            chunk = self.input[self.pos:self.pos + a2]
            self.pos += len(chunk)
            for i, byte in enumerate(chunk):
                self.store(a1 + i, 1, byte)
            x[10] = len(chunk)
        elif n == 64:
            data = bytes(self.load(a1 + i, 1) for i in range(a2))
            (self.stdout if a0 == 1 else self.public).extend(data)
            x[10] = a2
        elif n == 214:
            if a0 >= self.brk:
                self.brk = a0
            x[10] = self.brk
        else:
            raise ValueError(f"naive loop: unknown syscall {n}")
