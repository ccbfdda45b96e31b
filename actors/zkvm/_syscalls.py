"""Provable system calls: ``read``, ``write``, ``brk`` and ``exit`` as virtual instruction sequences.

A guest's ``ecall`` is proven as ``jal RET, DISPATCH``: a jump into a fixed
routine of ordinary covered instructions at reserved program counters
(:data:`VBASE` upwards), flagged ``f_virt`` in the bytecode table, which the
verifier rebuilds like the rest of the table.  The routine dispatches on
``a7`` and performs the call with the same constraints as guest code, so no
new instruction semantics are trusted; it then returns to the guest's
``pc + 4`` (``jalr x0, RET``) with ``a0`` set exactly as the co-processor sets
it (``stele.actors.coprocessor.Machine._syscall``):

* ``read(0, buf, len)`` copies ``n = min(len, remaining)`` input bytes from
  the *input region* (:data:`INPUT_BASE`, read-only, its initial contents the
  execution's input) to ``buf`` byte by byte and returns ``n``; another fd
  returns ``-EBADF``;
* ``write(3, buf, len)`` appends ``len`` bytes of ``buf`` to the *output
  region* (:data:`OUTPUT_BASE`), whose final contents are the statement's
  public output; ``write(1 | 2, ...)`` (stdout, stderr: not in the statement)
  reads every byte of ``buf`` (so the buffer must be mapped, as on the
  co-processor) and returns ``len``; another fd returns ``-EBADF``;
* ``brk(addr)`` moves the break to ``addr`` if ``brk_start <= addr <=
  brk_max`` and returns the new break, or returns the old one; it also sets
  the heap limit (``f_brk``), the first word past the mapped heap, which
  every heap access is checked against.  Lowering the break (which the
  co-processor allows, discarding pages) has no continuation: such a run
  cannot be proven;
* ``exit`` / ``exit_group`` (93, 94) end the run at the ``HALT`` row (the
  ``f_ecall`` class: ``a7`` must be 93 or 94, ``a0`` is the exit code); any
  other ``a7`` reaches ``HALT`` too and fails its constraint.

The regions are *virtual-only*: their words carry the ``vo`` flag through
RAM memory checking and only ``f_virt`` rows may access them, so a guest's
own load from :data:`INPUT_BASE` (which would trap on the co-processor) is
never proven.  The routine keeps its state in virtual registers x32..x40,
which take part in register memory checking like x1..x31 and start with
public values (:func:`virtual_initial`).
"""

from __future__ import annotations

from dataclasses import dataclass

from stele.actors.coprocessor._isa import Instr
from stele.actors.coprocessor._memory import PAGE_BITS, PAGE_SIZE

__all__ = ["VBASE", "VDEAD", "INPUT_BASE", "OUTPUT_BASE", "NREGS", "RET", "INCUR", "INEND", "OUTCUR", "BRK",
           "routine", "VirtualInstr", "virtual_initial", "SYSCALLS", "EBADF", "PAGE", "heap_limit_word"]

M = 0xFFFFFFFF
#: the routine's first pc (the dispatcher); no ELF text may lie in [VBASE, VEND).
VBASE = 0xFFFF0000
#: a pc with no bytecode row: the routine jumps here where a run has no provable continuation.
VDEAD = 0xFFFFFFF0
#: the input region's first byte (words of [INPUT_BASE, INPUT_BASE + len(input)) are in the RAM table).
INPUT_BASE = 0xC0000000
#: the output region's first byte (the public output's words).
OUTPUT_BASE = 0xE0000000
#: the syscall numbers the routine handles (exit and exit_group end the run).
SYSCALLS: dict[int, str] = {63: "read", 64: "write", 214: "brk", 93: "exit", 94: "exit_group"}
EBADF = -9
#: the co-processor maps memory by pages of this many bytes.
PAGE = PAGE_SIZE

# virtual registers (x32..x40)
RET, T0, T1, T2, INCUR, INEND, OUTCUR, BRK, NUM = range(32, 41)
NREGS = 41
_A0, _A1, _A2, _A7 = 10, 11, 12, 17


@dataclass(frozen=True, slots=True)
class VirtualInstr:
    """One routine row: its pc and the instruction (branch and jump offsets already resolved)."""

    pc: int
    ins: Instr


def heap_limit_word(brk: int) -> int:
    """The word index of the first unmapped heap page for a break at ``brk`` (pages are mapped whole)."""
    return ((brk + PAGE - 1) // PAGE) * (PAGE // 4)


def virtual_initial(input_len: int, brk_start: int) -> list[int]:
    """Initial values of x32..x40: input cursor and end, output cursor, the break; the rest 0."""
    regs = [0] * (NREGS - 32)
    regs[INCUR - 32] = INPUT_BASE
    regs[INEND - 32] = (INPUT_BASE + input_len) & M
    regs[OUTCUR - 32] = OUTPUT_BASE
    regs[BRK - 32] = brk_start
    return regs


def routine(brk_start: int, brk_max: int) -> list[VirtualInstr]:
    """The syscall routine at :data:`VBASE` for a program whose break starts at ``brk_start``."""
    code: list[tuple[str | None, str, int, int, int, int, str | None]] = []  # label, op, rd, rs1, rs2, imm, target

    def op(name: str, rd: int = 0, rs1: int = 0, rs2: int = 0, imm: int = 0, target: str | None = None,
           label: str | None = None) -> None:
        code.append((label, name, rd, rs1, rs2, imm, target))

    def ret(label: str | None = None) -> None:
        op("jalr", 0, RET, label=label)

    # dispatch on a7
    for num, name in ((63, "READ"), (64, "WRITE"), (214, "BRK")):
        op("lui", T0, imm=num)
        op("beq", 0, _A7, T0, target=name)
    op("ecall", label="HALT")  # exit / exit_group; any other a7 fails the exit constraint here
    # read(fd, buf, len)
    op("bne", 0, _A0, 0, target="EBADF", label="READ")
    op("sub", T0, INEND, INCUR)            # remaining input
    op("sltu", T1, _A2, T0)                # len < remaining
    op("add", NUM, T0, 0)                  # n = remaining
    op("beq", 0, T1, 0, target="R1")
    op("add", NUM, _A2, 0)                 # n = len
    op("add", T2, _A1, 0, label="R1")      # destination
    op("add", T1, NUM, 0)                  # bytes left
    op("beq", 0, T1, 0, target="RDONE", label="RLOOP")
    op("lbu", T0, INCUR)
    op("sb", 0, T2, T0)
    op("addi", INCUR, INCUR, imm=1)
    op("addi", T2, T2, imm=1)
    op("addi", T1, T1, imm=-1)
    op("jal", 0, target="RLOOP")
    op("add", _A0, NUM, 0, label="RDONE")
    ret()
    op("lui", _A0, imm=EBADF & M, label="EBADF")
    ret()
    # write(fd, buf, len)
    op("lui", T0, imm=3, label="WRITE")
    op("beq", 0, _A0, T0, target="WPUB")
    op("lui", T0, imm=1)
    op("beq", 0, _A0, T0, target="WDROP")
    op("lui", T0, imm=2)
    op("beq", 0, _A0, T0, target="WDROP")
    op("jal", 0, target="EBADF")
    op("add", T2, _A1, 0, label="WDROP")
    op("add", T1, _A2, 0)
    op("beq", 0, T1, 0, target="WDONE", label="DLOOP")
    op("lbu", T0, T2)                      # stdout/stderr are not proven, but the buffer must be mapped
    op("addi", T2, T2, imm=1)
    op("addi", T1, T1, imm=-1)
    op("jal", 0, target="DLOOP")
    op("add", T2, _A1, 0, label="WPUB")
    op("add", T1, _A2, 0)
    op("beq", 0, T1, 0, target="WDONE", label="PLOOP")
    op("lbu", T0, T2)
    op("sb", 0, OUTCUR, T0)
    op("addi", OUTCUR, OUTCUR, imm=1)
    op("addi", T2, T2, imm=1)
    op("addi", T1, T1, imm=-1)
    op("jal", 0, target="PLOOP")
    op("add", _A0, _A2, 0, label="WDONE")  # write returns len
    ret()
    # brk(addr)
    op("lui", T0, imm=brk_start, label="BRK")
    op("sltu", T1, _A0, T0)                # addr < brk_start: fail
    op("bne", 0, T1, 0, target="BFAIL")
    op("lui", T0, imm=brk_max)
    op("sltu", T1, T0, _A0)                # brk_max < addr: fail
    op("bne", 0, T1, 0, target="BFAIL")
    op("sltu", T1, _A0, BRK)               # lowering the break: not provable
    op("bne", 0, T1, 0, target="DEAD")
    op("add", BRK, _A0, 0)
    op("addi", T0, _A0, imm=PAGE - 1)      # the heap limit: the first word of the first unmapped page
    op("srli", T0, T0, imm=PAGE_BITS)
    op("slli", T0, T0, imm=PAGE_BITS - 2)
    op("brk", 0, T0)
    ret()
    op("add", _A0, BRK, 0, label="BFAIL")
    ret()
    labels = {lab: VBASE + 4 * i for i, (lab, *_rest) in enumerate(code) if lab}
    labels["DEAD"] = VDEAD
    out: list[VirtualInstr] = []
    for i, (_lab, name, rd, rs1, rs2, imm, target) in enumerate(code):
        pc = VBASE + 4 * i
        if target is not None:
            imm = labels[target] - pc
        out.append(VirtualInstr(pc, Instr(name, rd, rs1, rs2, imm, 0)))
    return out
