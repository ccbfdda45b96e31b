"""Build tiny RV32 ELF executables in tests (no cross compiler needed)."""

from __future__ import annotations

import struct

from stele.actors.coprocessor import encode

TEXT = 0x10000
DATA = 0x20000


def words(ws: list[int]) -> bytes:
    return b"".join(struct.pack("<I", w & 0xFFFFFFFF) for w in ws)


def li(rd: int, value: int) -> list[int]:
    value &= 0xFFFFFFFF
    hi = ((value + 0x800) >> 12) & 0xFFFFF
    lo = ((value - (hi << 12) + 0x800) & 0xFFF) - 0x800
    return [encode("lui", rd, imm=hi << 12), encode("addi", rd, rd, imm=lo)]


def syscall(num: int, *args: int) -> list[int]:
    out: list[int] = []
    for i, a in enumerate(args):
        out += li(10 + i, a)
    return out + li(17, num) + [encode("ecall")]


def make_elf(text: list[int] | bytes, data: bytes = b"", *, bss: int = 0,
             symbols: dict[str, int] | None = None, entry: int | None = None,
             machine: int = 243, elf_class: int = 1, e_type: int = 2) -> bytes:
    """An ET_EXEC with a text segment at TEXT, a data segment at DATA and a .symtab."""
    text_bytes = words(text) if isinstance(text, list) else text
    segs = [(TEXT, text_bytes, len(text_bytes), 5)]
    if data or bss:
        segs.append((DATA, data, len(data) + bss, 6))
    phoff = 52
    body_off = phoff + 32 * len(segs)
    blobs = b""
    phdrs = b""
    for vaddr, blob, memsz, flags in segs:
        # file offsets congruent to vaddr mod 4096, so Linux/qemu can mmap them
        blobs += b"\0" * ((vaddr - body_off - len(blobs)) % 4096)
        off = body_off + len(blobs)
        phdrs += struct.pack("<IIIIIIII", 1, off, vaddr, vaddr, len(blob), memsz, flags, 4096)
        blobs += blob + b"\0" * (-len(blob) % 4)
    # .symtab + .strtab
    strtab = b"\0"
    symtab = b"\0" * 16
    for name, value in (symbols or {}).items():
        symtab += struct.pack("<IIIBBH", len(strtab), value, 0, 0x10, 0, 1)
        strtab += name.encode() + b"\0"
    sym_off = body_off + len(blobs)
    str_off = sym_off + len(symtab)
    shoff = str_off + len(strtab)
    shoff += -shoff % 4
    pad = shoff - (str_off + len(strtab))
    shdrs = b"\0" * 40
    shdrs += struct.pack("<IIIIIIIIII", 0, 2, 0, 0, sym_off, len(symtab), 2, 1, 4, 16)
    shdrs += struct.pack("<IIIIIIIIII", 0, 3, 0, 0, str_off, len(strtab), 0, 0, 1, 0)
    header = b"\x7fELF" + bytes([elf_class, 1, 1]) + b"\0" * 9
    header += struct.pack("<HHIIIIIHHHHHH", e_type, machine, 1,
                          TEXT if entry is None else entry, phoff, shoff, 0, 52, 32, len(segs),
                          40, 3, 0)
    return header + phdrs + blobs + symtab + strtab + b"\0" * pad + shdrs
