"""A minimal ELF32 writer: a static RV32 executable with a text and a data segment.

The text segment (R-X) is loaded at `TEXT_BASE`, the data segment (RW-, all
zero-filled: no file bytes) at the runtime's `DATA`. A final non-loaded
section named ``.stele.tel`` carries the compiled program's site table
(canonical CBOR), so an ELF written by ``stele compile`` explains its own
exit codes; loaders ignore it.
"""

from __future__ import annotations

import struct

__all__ = ["TEXT_BASE", "write_elf", "read_note"]

TEXT_BASE = 0x10000
_NOTE = b".stele.tel"


def write_elf(text: bytes, entry: int, data_addr: int, data_size: int, note: bytes) -> bytes:
    """The ELF bytes: ehdr, two phdrs, the text (page-aligned offset), the note, 3 section headers."""
    phoff, phnum = 52, 2
    text_off = 4096  # congruent to TEXT_BASE mod 4096
    out = bytearray(text_off)
    out[text_off:] = text
    note_off = len(out)
    out += note
    shstr = b"\0" + _NOTE + b"\0" + b".text\0"
    shstr_off = len(out)
    out += shstr
    out += b"\0" * (-len(out) % 4)
    shoff = len(out)
    sh_null = b"\0" * 40
    sh_text = struct.pack("<IIIIIIIIII", 1 + len(_NOTE) + 1, 1, 6, TEXT_BASE, text_off, len(text), 0, 0, 4, 0)
    sh_note = struct.pack("<IIIIIIIIII", 1, 7, 0, 0, note_off, len(note), 0, 0, 1, 0)
    sh_str = struct.pack("<IIIIIIIIII", 0, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    out += sh_null + sh_text + sh_note + sh_str
    ehdr = b"\x7fELF" + bytes([1, 1, 1, 0]) + b"\0" * 8 + struct.pack(
        "<HHIIIIIHHHHHH", 2, 243, 1, entry, phoff, shoff, 0, 52, 32, phnum, 40, 4, 3)
    ph_text = struct.pack("<IIIIIIII", 1, text_off, TEXT_BASE, TEXT_BASE, len(text), len(text), 5, 4096)
    ph_data = struct.pack("<IIIIIIII", 1, 0, data_addr, data_addr, 0, data_size, 6, 4096)
    out[0:52] = ehdr
    out[52:84] = ph_text
    out[84:116] = ph_data
    return bytes(out)


def read_note(elf: bytes) -> bytes | None:
    """The ``.stele.tel`` section of an ELF this module wrote (None if there is none)."""
    try:
        shoff, = struct.unpack_from("<I", elf, 32)
        shnum, shstrndx = struct.unpack_from("<HH", elf, 48)
        headers = [struct.unpack_from("<IIIIIIIIII", elf, shoff + 40 * i) for i in range(shnum)]
        strs = headers[shstrndx]
        table = elf[strs[4]:strs[4] + strs[5]]
        for h in headers:
            name = table[h[0]:table.index(b"\0", h[0])]
            if name == _NOTE:
                return elf[h[4]:h[4] + h[5]]
    except (struct.error, IndexError, ValueError):
        return None
    return None
