"""Guest programs for the zkVM tests: unit programs per covered instruction and an all-classes loop.

Built with the test ELF writer (no cross compiler).  Every program exits
through ``ecall`` 93 with a known code, and uses only what provable mode
covers.
"""

from __future__ import annotations

from coprocessor._elfgen import DATA, TEXT, li, make_elf, syscall

from stele.actors.coprocessor import encode

EDGE = [0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1234567]


#: operands of the signed products and divisions: zero, +-1, small values of both signs, INT_MIN, INT_MAX
#: (so INT_MIN / -1, x / 0, 0 / x, negative remainders and both sign combinations all occur).
DIV_EDGE = [0, 1, 0xFFFFFFFF, 7, 0xFFFFFFF9, 0x80000000, 0x7FFFFFFF, 0x12345678]


def program(body: list[int], exit_code: int = 0) -> bytes:
    """``body`` then exit(exit_code)."""
    return make_elf(body + syscall(93, exit_code))


def exit_with_register(body: list[int], reg: int, data: bytes = b"", bss: int = 0) -> bytes:
    """``body`` then exit(x[reg]); ``data``/``bss`` make a writable segment at ``DATA``."""
    return make_elf(body + [encode("addi", 10, reg, imm=0)] + li(17, 93) + [encode("ecall")], data, bss=bss)


#: the initial data segment of the memory programs (16 bytes with both sign bits of every byte and half).
DATA_BYTES = bytes([0x01, 0x80, 0x7F, 0xFF, 0xF2, 0x73, 0x00, 0x81, 0x55, 0xAA, 0xFF, 0x7F, 0x00, 0x80, 0x12, 0x34])


def memory_programs() -> dict[str, bytes]:
    """One program per load/store, over every legal offset; x7 accumulates what was loaded."""
    out: dict[str, bytes] = {}
    base = li(5, DATA) + li(6, 0x8081F2F3)
    widths = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4, "sb": 1, "sh": 2, "sw": 4}
    for op, w in widths.items():
        body = list(base)
        for off in range(0, 16, w):
            if op[0] == "l":
                body += [encode(op, 8, 5, imm=off), encode("add", 7, 7, 8)]
            else:  # store, then read the word back and the neighbours
                body += [encode(op, 0, 5, 6, imm=off), encode("lw", 8, 5, imm=off & ~3), encode("add", 7, 7, 8)]
                body += [encode("addi", 6, 6, imm=77)]
        # a negative offset from a base above, and a load from the text (read-only but readable)
        body += li(9, DATA + 8) + [encode(op if op[0] == "l" else "lw", 8, 9, imm=-4), encode("add", 7, 7, 8)]
        body += li(9, TEXT) + [encode("lw", 8, 9, imm=4), encode("add", 7, 7, 8)]
        out[op] = exit_with_register(body, 7, DATA_BYTES, bss=20)
    return out


def unit_programs() -> dict[str, bytes]:
    """One program per covered instruction, over edge-case operands."""
    out: dict[str, bytes] = {}
    pairs = [(a, b) for a in EDGE[:6] for b in (EDGE[6], EDGE[8], 0x8000)]
    for op in ("add", "sub", "slt", "sltu"):
        body: list[int] = []
        for a, b in pairs:
            body += li(5, a) + li(6, b) + [encode(op, 7, 5, 6), encode(op, 8, 6, 5), encode(op, 9, 5, 5)]
        out[op] = exit_with_register(body, 7)
    for op in ("and", "or", "xor"):
        body = []
        for a, b in pairs + [(0xF0F0F0F0, 0x0FF00FF0), (0x12345678, 0xFFFFFFFF)]:
            body += li(5, a) + li(6, b) + [encode(op, 7, 5, 6), encode("add", 28, 28, 7), encode(op, 7, 6, 5),
                                           encode("add", 28, 28, 7), encode(op, 7, 5, 5), encode("add", 28, 28, 7)]
        out[op] = exit_with_register(body, 28)
    for op in ("sll", "srl", "sra", "mul", "mulhu"):
        body = []
        amounts = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 0xFFFFFFE1] if op[0] == "s" else EDGE[4:]
        for a in (EDGE[3:9] if op[0] == "s" else EDGE[2:]):
            for b in amounts:
                body += li(5, a) + li(6, b) + [encode(op, 7, 5, 6), encode("xor", 28, 28, 7),
                                               encode("add", 28, 28, 7)]
        out[op] = exit_with_register(body, 28)
    for op in ("mulh", "mulhsu", "div", "divu", "rem", "remu"):
        body = []
        for a in DIV_EDGE:
            for b in DIV_EDGE:
                body += li(5, a) + li(6, b) + [encode(op, 7, 5, 6), encode("xor", 28, 28, 7),
                                               encode("add", 28, 28, 7)]
        out[op] = exit_with_register(body, 28)
    for op in ("slli", "srli", "srai"):
        body = []
        for a in EDGE:
            for sh in (0, 1, 7, 8, 16, 24, 31):
                body += li(5, a) + [encode(op, 7, 5, imm=sh), encode("xor", 28, 28, 7), encode("add", 28, 28, 7)]
        out[op] = exit_with_register(body, 28)
    for op in ("addi", "slti", "sltiu", "andi", "ori", "xori"):
        body = []
        for a in EDGE:
            for imm in (0, 1, -1, 2047, -2048, 0x555):
                body += li(5, a) + [encode(op, 7, 5, imm=imm), encode("add", 28, 28, 7)]
        out[op] = exit_with_register(body, 28)
    out["lui"] = exit_with_register([encode("lui", 5, imm=v << 12) for v in (0, 1, 0x80000, 0xFFFFF)], 5)
    out["auipc"] = exit_with_register([encode("auipc", 5, imm=v << 12) for v in (0, 1, 0x80000, 0xFFFFF)], 5)
    # jal forward over one instruction; jalr through a register to the next block
    out["jal"] = exit_with_register([encode("jal", 1, imm=8), encode("addi", 5, 0, imm=1),
                                     encode("jal", 0, imm=8), encode("addi", 5, 0, imm=2),
                                     encode("addi", 5, 1, imm=0)], 5)
    jalr_target = TEXT + 4 * 4
    out["jalr"] = exit_with_register(li(6, jalr_target - 8) + [encode("jalr", 1, 6, imm=8),
                                                               encode("addi", 5, 0, imm=9),
                                                               encode("addi", 5, 1, imm=0)], 5)
    for op in ("beq", "bne", "blt", "bge", "bltu", "bgeu"):
        body = []
        for a, b in [(1, 1), (1, 2), (2, 1), (0xFFFFFFFF, 1), (1, 0xFFFFFFFF), (0x80000000, 0x7FFFFFFF)]:
            # x7 counts taken branches: branch over the increment when taken
            body += li(5, a) + li(6, b) + [encode(op, 0, 5, 6, imm=8), encode("addi", 7, 7, imm=1)]
        out[op] = exit_with_register(body, 7)
    out["fence"] = program([encode("fence"), encode("addi", 5, 0, imm=3), encode("fence")], 3)
    out["ecall94"] = make_elf(li(10, 0xFFFFFFFF) + li(17, 94) + [encode("ecall")])
    return out


def all_classes(iterations: int = 4) -> bytes:
    """A loop whose body runs every covered instruction class; about 50 cycles per iteration."""
    mem = [
        encode("sw", 0, 29, 22, imm=0),
        encode("lw", 30, 29, imm=0),
        encode("sb", 0, 29, 23, imm=5),
        encode("lb", 31, 29, imm=5),
        encode("lbu", 31, 29, imm=7),
        encode("sh", 0, 29, 22, imm=10),
        encode("lh", 31, 29, imm=10),
        encode("lhu", 30, 29, imm=2),
        encode("add", 28, 28, 31),
        encode("xor", 31, 22, 23),
        encode("or", 30, 31, 28),
        encode("and", 28, 30, 22),
        encode("xori", 30, 28, imm=-0x123),
        encode("ori", 31, 30, imm=0x7F0),
        encode("andi", 28, 31, imm=-2),
        encode("slli", 30, 22, imm=5),
        encode("srai", 31, 30, imm=3),
        encode("srl", 30, 31, 5),
        encode("sll", 31, 23, 28),
        encode("sra", 30, 23, 31),
        encode("srli", 31, 22, imm=17),
        encode("mul", 30, 22, 23),
        encode("mulhu", 31, 23, 30),
        encode("add", 28, 28, 30),
        encode("xor", 28, 28, 31),
    ]
    # after the branches (so the pcs, and auipc's x21, of everything above stay put)
    muldiv = [
        encode("mulh", 30, 23, 21),
        encode("mulhsu", 31, 21, 23),
        encode("div", 30, 23, 5),
        encode("divu", 31, 22, 24),
        encode("rem", 30, 23, 22),
        encode("remu", 31, 22, 23),
        encode("add", 28, 28, 30),
        encode("xor", 28, 28, 31),
    ]
    body = mem + [
        encode("lui", 20, imm=0x12345000),             # 0
        encode("auipc", 21, imm=0x1000),               # 4
        encode("add", 22, 20, 5),                      # 8
        encode("sub", 23, 22, 21),                     # 12
        encode("slt", 24, 23, 22),                     # 16
        encode("sltu", 25, 23, 22),                    # 20
        encode("slti", 26, 23, imm=-3),                # 24
        encode("sltiu", 27, 23, imm=5),                # 28
        encode("beq", 0, 24, 25, imm=8),               # 32
        encode("addi", 28, 28, imm=1),                 # 36
        encode("bne", 0, 24, 25, imm=8),               # 40
        encode("addi", 28, 28, imm=2),                 # 44
        encode("blt", 0, 23, 22, imm=8),               # 48
        encode("addi", 28, 28, imm=3),                 # 52
        encode("bge", 0, 23, 22, imm=8),               # 56
        encode("addi", 28, 28, imm=4),                 # 60
        encode("bltu", 0, 22, 23, imm=8),              # 64
        encode("addi", 28, 28, imm=5),                 # 68
        encode("bgeu", 0, 22, 23, imm=8),              # 72
        encode("addi", 28, 28, imm=6),                 # 76
        encode("jal", 1, imm=8),                       # 80
        encode("fence"),                               # 84 (skipped)
    ] + muldiv + [
        encode("addi", 5, 5, imm=-1),                  # 88 + 4 len(muldiv)
        encode("bne", 0, 5, 0, imm=-92 - 4 * len(mem) - 4 * len(muldiv)),  # -> back to 0 while x5 != 0
    ]
    prologue = li(5, iterations) + li(29, DATA)
    # the loop starts after the prologue; branch offsets above are relative
    tail = [encode("auipc", 6, imm=0), encode("jalr", 0, 6, imm=12), encode("addi", 28, 0, imm=0)]
    return exit_with_register(prologue + body + tail, 28, DATA_BYTES)


def counter(cycles: int) -> bytes:
    """A tight loop of about ``cycles`` cycles (3 per iteration), for the benchmark."""
    n = max(1, (cycles - 8) // 3)
    return exit_with_register(li(5, n) + [encode("add", 6, 6, 5), encode("addi", 5, 5, imm=-1),
                                          encode("bne", 0, 5, 0, imm=-8)], 6)


def mixed(cycles: int) -> bytes:
    """A loop of about ``cycles`` cycles (9 per iteration) over 64 data words, for the benchmark.

    Each iteration loads a word, adds and xors, stores it back, loads a byte
    and walks the pointer around the buffer: RAM, ALU, bitwise and branches.
    """
    n = max(1, (cycles - 16) // 9)
    loop = [
        encode("lw", 7, 6, imm=0),
        encode("add", 7, 7, 5),
        encode("xor", 28, 28, 7),
        encode("sw", 0, 6, 7, imm=0),
        encode("lbu", 29, 6, imm=1),
        encode("addi", 6, 6, imm=4),
        encode("and", 6, 6, 30),        # wrap the pointer inside the 256-byte buffer
        encode("addi", 5, 5, imm=-1),
        encode("bne", 0, 5, 0, imm=-32),
    ]
    # x6 must stay inside DATA .. DATA + 255: DATA is 256-aligned, so "and" with DATA | 0xFF wraps it
    setup = li(5, n) + li(6, DATA) + li(30, DATA | 0xFF)
    return exit_with_register(setup + loop, 28, bytes(256))
