"""Program images: ELF32 RISC-V executables and raw binaries.

:func:`load_elf` checks everything a malformed or foreign file could get
wrong -- magic, class (ELF32), byte order, machine (RISC-V), type, header
sizes, segment bounds inside the file and inside the 32-bit address space,
overlapping segments, the entry point -- and raises :class:`ElfError` naming
the field.  The memory limit is checked when a :class:`Machine` maps the
program (:class:`MemoryLimitExceeded`).  Symbols (``tohost``, ``fromhost``,
``begin_signature``, ``end_signature``, ``_end`` ...) come from ``.symtab``
when present.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ._errors import ElfError

__all__ = ["Program", "Segment", "load_elf", "load_raw", "load_program", "MAX_SEGMENTS"]

#: the most PT_LOAD segments a program may have (real static guests have 2-4;
#: a crafted file with thousands is refused before any per-segment work).
MAX_SEGMENTS = 64

_EM_RISCV = 243
_PT_LOAD = 1
_SHT_SYMTAB = 2
_PF_X = 1


@dataclass(frozen=True)
class Segment:
    """A loadable segment: ``data`` at ``vaddr``, zero-filled up to ``memsz`` bytes."""

    vaddr: int
    data: bytes
    memsz: int
    executable: bool = True


@dataclass(frozen=True)
class Program:
    """A loaded-but-not-yet-running guest: segments, entry point and symbols."""

    segments: tuple[Segment, ...]
    entry: int
    symbols: dict[str, int] = field(default_factory=dict)

    @property
    def end(self) -> int:
        """The first address past every segment (where the program break starts)."""
        return max((s.vaddr + s.memsz for s in self.segments), default=0)


def load_raw(data: bytes, base: int = 0x10000, entry: int | None = None,
             bss: int = 0) -> Program:
    """A flat binary placed at ``base`` (entry defaults to ``base``), plus ``bss`` zero bytes."""
    if base & 3 or not 0 <= base < 1 << 32:
        raise ElfError("base", f"raw image base 0x{base:x} must be a 4-aligned 32-bit address")
    if base + len(data) + bss > 1 << 32:
        raise ElfError("size", f"raw image of {len(data) + bss} bytes at 0x{base:x} "
                       "passes the 4 GiB address space")
    start = base if entry is None else entry
    return Program((Segment(base, bytes(data), len(data) + bss),), start, {})


def load_program(data: bytes) -> Program:
    """An ELF if ``data`` starts with the ELF magic, otherwise a raw image at 0x10000."""
    return load_elf(data) if data[:4] == b"\x7fELF" else load_raw(data)


def load_elf(data: bytes) -> Program:
    """Parse and validate an ELF32 little-endian RISC-V executable."""
    if len(data) < 52:
        raise ElfError("e_ident", f"file is {len(data)} bytes, shorter than an ELF32 header (52)")
    if data[:4] != b"\x7fELF":
        raise ElfError("e_ident", f"magic {data[:4]!r} is not b'\\x7fELF'")
    if data[4] != 1:
        raise ElfError("EI_CLASS", f"class {data[4]} is not ELFCLASS32 (1); "
                       "this co-processor runs RV32 only")
    if data[5] != 1:
        raise ElfError("EI_DATA", f"byte order {data[5]} is not little-endian (1)")
    (e_type, e_machine, _version, e_entry, e_phoff, e_shoff, _flags, _ehsize, e_phentsize,
     e_phnum, e_shentsize, e_shnum, _shstrndx) = struct.unpack_from("<HHIIIIIHHHHHH", data, 16)
    if e_machine != _EM_RISCV:
        raise ElfError("e_machine", f"machine {e_machine} is not RISC-V ({_EM_RISCV})")
    if e_type != 2:
        raise ElfError("e_type", f"type {e_type} is not ET_EXEC (2); link the guest statically")
    if e_phnum == 0:
        raise ElfError("e_phnum", "no program headers, nothing to load")
    if e_phentsize != 32:
        raise ElfError("e_phentsize", f"{e_phentsize} is not 32")
    if e_phoff + e_phnum * 32 > len(data):
        raise ElfError("e_phoff", f"program headers at {e_phoff} (x{e_phnum}) pass the end "
                       f"of the {len(data)}-byte file")
    segments: list[Segment] = []
    header: list[int] = []          # program-header index of each segment
    loads = 0
    for i in range(e_phnum):
        p_type, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_flags, _align = \
            struct.unpack_from("<IIIIIIII", data, e_phoff + 32 * i)
        if p_type != _PT_LOAD or p_memsz == 0:
            continue
        loads += 1
        if loads > MAX_SEGMENTS:
            raise ElfError("e_phnum", f"more than {MAX_SEGMENTS} PT_LOAD segments "
                           f"({e_phnum} program headers)")
        where = f"segment {i}"
        if p_filesz > p_memsz:
            raise ElfError(where, f"p_filesz {p_filesz} > p_memsz {p_memsz}")
        if p_offset + p_filesz > len(data):
            raise ElfError(where, f"file range [{p_offset}, {p_offset + p_filesz}) passes the "
                           f"end of the {len(data)}-byte file")
        if p_vaddr + p_memsz > 1 << 32:
            raise ElfError(where, f"memory range 0x{p_vaddr:x}+0x{p_memsz:x} passes the "
                           "4 GiB address space")
        segments.append(Segment(p_vaddr, bytes(data[p_offset:p_offset + p_filesz]), p_memsz,
                                bool(p_flags & _PF_X)))
        header.append(i)
    # Overlap check in O(n log n): sorted by start, two segments overlap iff
    # some segment starts before the end of the one sorted just before it.
    ordered = sorted(range(len(segments)), key=lambda k: (segments[k].vaddr, k))
    for prev_k, k in zip(ordered, ordered[1:]):
        if segments[k].vaddr < segments[prev_k].vaddr + segments[prev_k].memsz:
            lo, hi = min(prev_k, k), max(prev_k, k)
            first, second = segments[lo], segments[hi]
            raise ElfError(f"segment {header[hi]}",
                           f"[0x{second.vaddr:x}, 0x{second.vaddr + second.memsz:x}) overlaps "
                           f"loaded segment [0x{first.vaddr:x}, "
                           f"0x{first.vaddr + first.memsz:x})")
    if not segments:
        raise ElfError("e_phnum", "no PT_LOAD segment with a nonzero size")
    if e_entry & 3:
        raise ElfError("e_entry", f"entry 0x{e_entry:x} is not 4-byte aligned")
    if not any(s.vaddr <= e_entry < s.vaddr + s.memsz for s in segments):
        raise ElfError("e_entry", f"entry 0x{e_entry:x} is outside every loaded segment")
    symbols = _symbols(data, e_shoff, e_shnum, e_shentsize)
    return Program(tuple(segments), e_entry, symbols)


def _symbols(data: bytes, shoff: int, shnum: int, shentsize: int) -> dict[str, int]:
    if shoff == 0 or shnum == 0:
        return {}
    if shentsize != 40 or shoff + shnum * 40 > len(data):
        raise ElfError("e_shoff", f"section headers at {shoff} (x{shnum}, {shentsize} bytes) "
                       f"do not fit the {len(data)}-byte file")
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + 40 * i) for i in range(shnum)]
    out: dict[str, int] = {}
    for sh in headers:
        if sh[1] != _SHT_SYMTAB:
            continue
        off, size, link, entsize = sh[4], sh[5], sh[6], sh[9] or 16
        if link >= shnum or off + size > len(data):
            raise ElfError(".symtab", "symbol table or its string table is out of bounds")
        stroff, strsize = headers[link][4], headers[link][5]
        if stroff + strsize > len(data):
            raise ElfError(".strtab", "string table passes the end of the file")
        strtab = data[stroff:stroff + strsize]
        for k in range(size // entsize):
            st_name, st_value = struct.unpack_from("<II", data, off + k * entsize)
            if st_name == 0 or st_name >= len(strtab):
                continue
            end = strtab.find(b"\0", st_name)
            name = strtab[st_name:end if end >= 0 else len(strtab)].decode("utf-8", "replace")
            out.setdefault(name, st_value)
    return out
