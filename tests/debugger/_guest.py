"""A tiny RV32 guest for the guest debugger's tests, and a reference run to check it against.

The guest (assembled here, no cross compiler needed) reads 4 bytes of
input into ``buf`` with a ``read`` syscall, then calls ``bump`` ``n``
times in a loop.  ``bump`` saves ``ra`` on the stack and calls ``inc``
(nested calls, for ``next`` and ``finish``), stores the new count in the
word ``counter`` and its low byte into the word ``flags`` with ``sb``
(a byte store, for word watches).  It exits with the count.
"""

from __future__ import annotations

from coprocessor._elfgen import DATA, TEXT, li, make_elf

from stele.actors.coprocessor import Machine, MachineConfig, encode, load_elf

__all__ = ["COUNTER", "FLAGS", "BUF", "guest", "symbols", "reference"]

COUNTER, FLAGS, BUF = DATA, DATA + 4, DATA + 8
S1, S0, A0, A1, A2, A7, RA, SP = 9, 8, 10, 11, 12, 17, 1, 2


def _program(n: int) -> tuple[list[int], dict[str, int]]:
    code: list[int] = []
    labels: dict[str, int] = {}

    def here() -> int:
        return TEXT + 4 * len(code)

    labels["_start"] = here()
    code += li(S1, DATA)
    code += li(A0, 0) + li(A1, BUF) + li(A2, 4) + li(A7, 63) + [encode("ecall")]
    code += li(S0, n)
    labels["loop"] = here()
    call_at = len(code)
    code += [0]  # jal ra, bump (patched below)
    code += [encode("addi", S0, S0, imm=-1)]
    code += [encode("bne", rs1=S0, rs2=0, imm=labels["loop"] - here())]
    code += [encode("lw", A0, S1, imm=0)] + li(A7, 93) + [encode("ecall")]
    labels["bump"] = here()
    code += [encode("addi", SP, SP, imm=-16), encode("sw", rs1=SP, rs2=RA, imm=12),
             encode("lw", A0, S1, imm=0)]
    inc_call = len(code)
    code += [0]  # jal ra, inc (patched below)
    code += [encode("sw", rs1=S1, rs2=A0, imm=0), encode("sb", rs1=S1, rs2=A0, imm=5),
             encode("lw", RA, SP, imm=12), encode("addi", SP, SP, imm=16),
             encode("jalr", 0, RA, imm=0)]
    labels["inc"] = here()
    code += [encode("addi", A0, A0, imm=1), encode("jalr", 0, RA, imm=0)]
    code[call_at] = encode("jal", RA, imm=labels["bump"] - (TEXT + 4 * call_at))
    code[inc_call] = encode("jal", RA, imm=labels["inc"] - (TEXT + 4 * inc_call))
    return code, labels


def symbols(n: int = 3) -> dict[str, int]:
    """The guest's code labels and data symbols."""
    return {**_program(n)[1], "counter": COUNTER, "flags": FLAGS, "buf": BUF}


def guest(n: int = 3) -> bytes:
    """The ELF of the guest with ``n`` calls of ``bump``."""
    code, _ = _program(n)
    return make_elf(code, bytes(16), symbols=symbols(n))


def reference(image: bytes, input: bytes, cycle: int) -> Machine:
    """A fresh run to ``cycle`` on the reference interpreter, one instruction at a time."""
    m = Machine(load_elf(image), input=input, config=MachineConfig())
    while m.cycle < cycle and not m.halted:
        m.advance(1)
    return m
