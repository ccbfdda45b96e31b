"""Guest programs for the zkVM tests: unit programs per covered instruction and an all-classes loop.

Built with the test ELF writer (no cross compiler).  Every program exits
through ``ecall`` 93 with a known code, and uses only what provable mode
covers.
"""

from __future__ import annotations

from coprocessor._elfgen import TEXT, li, make_elf, syscall

from stele.actors.coprocessor import encode

EDGE = [0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1234567]


def program(body: list[int], exit_code: int = 0) -> bytes:
    """``body`` then exit(exit_code)."""
    return make_elf(body + syscall(93, exit_code))


def exit_with_register(body: list[int], reg: int) -> bytes:
    """``body`` then exit(x[reg])."""
    return make_elf(body + [encode("addi", 10, reg, imm=0)] + li(17, 93) + [encode("ecall")])


def unit_programs() -> dict[str, bytes]:
    """One program per covered instruction, over edge-case operands."""
    out: dict[str, bytes] = {}
    pairs = [(a, b) for a in EDGE[:6] for b in (EDGE[6], EDGE[8], 0x8000)]
    for op in ("add", "sub", "slt", "sltu"):
        body: list[int] = []
        for a, b in pairs:
            body += li(5, a) + li(6, b) + [encode(op, 7, 5, 6), encode(op, 8, 6, 5), encode(op, 9, 5, 5)]
        out[op] = exit_with_register(body, 7)
    for op in ("addi", "slti", "sltiu"):
        body = []
        for a in EDGE:
            for imm in (0, 1, -1, 2047, -2048):
                body += li(5, a) + [encode(op, 7, 5, imm=imm)]
        out[op] = exit_with_register(body, 7)
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


def all_classes(iterations: int = 6) -> bytes:
    """A loop whose body runs every covered instruction class; about 25 cycles per iteration."""
    body = [
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
        encode("addi", 5, 5, imm=-1),                  # 88
        encode("bne", 0, 5, 0, imm=-92),               # 92 -> back to 0 while x5 != 0
    ]
    prologue = li(5, iterations)
    # the loop starts after the prologue (2 words); branch offsets above are relative
    tail = [encode("auipc", 6, imm=0), encode("jalr", 0, 6, imm=12), encode("addi", 28, 0, imm=0)]
    return exit_with_register(prologue + body + tail, 28)


def counter(cycles: int) -> bytes:
    """A tight loop of about ``cycles`` cycles (3 per iteration), for the benchmark."""
    n = max(1, (cycles - 8) // 3)
    return exit_with_register(li(5, n) + [encode("add", 6, 6, 5), encode("addi", 5, 5, imm=-1),
                                          encode("bne", 0, 5, 0, imm=-8)], 6)
