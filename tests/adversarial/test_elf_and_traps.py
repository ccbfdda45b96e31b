"""Issue 10 items 6 and 7 (moved from tests/coprocessor): crafted ELFs cannot make loading super-linear, and
an access fault reports the faulting address in mtval.

The ELF bound is asserted on work (program headers parsed, overlap
comparisons made), never on time.
"""

from __future__ import annotations

import struct

import pytest

from stele.actors.coprocessor import (
    AccessFault,
    ElfError,
    Machine,
    encode,
    load_elf,
)
from stele.actors.coprocessor import _elf
from stele.actors.coprocessor._elf import MAX_SEGMENTS

from coprocessor._elfgen import DATA, TEXT, li, make_elf, syscall

M = 0xFFFFFFFF


def _many_segments(n: int, *, overlap_last: bool = False) -> bytes:
    """An ELF header followed by ``n`` one-page PT_LOAD headers (no file data)."""
    phoff = 52
    header = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    header += struct.pack("<HHIIIIIHHHHHH", 2, 243, 1, TEXT, phoff, 0, 0, 52, 32, n, 40, 0, 0)
    phdrs = []
    for i in range(n):
        vaddr = TEXT + 4096 * i
        if overlap_last and i == n - 1:
            vaddr = TEXT + 8            # inside segment 0
        phdrs.append(struct.pack("<IIIIIIII", 1, 0, vaddr, vaddr, 0, 4096, 5, 4096))
    return header + b"".join(phdrs)  # joined once: += would copy the headers n times


class _CountingStruct:
    """Stands in for the ``struct`` module inside ``_elf`` and counts header reads."""

    def __init__(self) -> None:
        self.reads = 0

    def unpack_from(self, fmt: str, data: bytes, offset: int = 0) -> tuple[int, ...]:
        self.reads += 1
        return struct.unpack_from(fmt, data, offset)


def test_segment_count_is_capped_with_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _CountingStruct()
    monkeypatch.setattr(_elf, "struct", counter)
    with pytest.raises(ElfError) as info:
        load_elf(_many_segments(65535))
    assert info.value.field == "e_phnum"
    assert str(MAX_SEGMENTS) in str(info.value)
    # the ELF header, then headers up to the first one past the cap: not 65535
    assert counter.reads <= MAX_SEGMENTS + 2


def test_the_cap_itself_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    prog = load_elf(_many_segments(MAX_SEGMENTS))
    assert len(prog.segments) == MAX_SEGMENTS
    with pytest.raises(ElfError):
        load_elf(_many_segments(MAX_SEGMENTS + 1))


class _Counted(int):
    """An address that counts every comparison it takes part in (either side)."""

    count = 0

    def _cmp(op: str):  # type: ignore[no-untyped-def]  # noqa: N805
        def method(self: int, other: object) -> bool:
            _Counted.count += 1
            return getattr(int, op)(self, other)  # type: ignore[no-any-return]
        return method

    __lt__, __le__, __gt__, __ge__ = _cmp("__lt__"), _cmp("__le__"), _cmp("__gt__"), _cmp("__ge__")


class _CountingAddresses(_CountingStruct):
    """Program headers whose p_vaddr is a :class:`_Counted`."""

    def unpack_from(self, fmt: str, data: bytes, offset: int = 0) -> tuple[int, ...]:
        out = struct.unpack_from(fmt, data, offset)
        if fmt == "<IIIIIIII":
            return (*out[:2], _Counted(out[2]), *out[3:])
        return out


@pytest.mark.parametrize("n", [256, 2048])
def test_overlap_validation_is_not_quadratic(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """Address comparisons grow as n log n (with the cap lifted to see it), not n^2."""
    monkeypatch.setattr(_elf, "MAX_SEGMENTS", n)
    monkeypatch.setattr(_elf, "struct", _CountingAddresses())
    _Counted.count = 0
    prog = load_elf(_many_segments(n))
    assert len(prog.segments) == n
    # a pair loop makes n(n-1)/2 (32,640 / 2,096,128); a sort and a neighbour pass ~n log n
    assert _Counted.count <= 4 * n * n.bit_length(), _Counted.count


def test_overlap_is_still_found_and_named() -> None:
    with pytest.raises(ElfError) as info:
        load_elf(_many_segments(MAX_SEGMENTS, overlap_last=True))
    assert info.value.field == f"segment {MAX_SEGMENTS - 1}"
    assert "overlaps" in str(info.value)


UNMAPPED = 0x40000124


def _handler_prog(access: list[int]) -> Machine:
    """Set mtvec, do ``access`` (faults), handler stores mcause/mtval in a1/a2 and exits."""
    handler = TEXT + 4 * 40
    text = li(5, handler) + [encode("csrrw", 0, 5, imm=0x305)] + li(6, UNMAPPED) + access
    text += [0x13] * (40 - len(text))
    text += [encode("csrrs", 11, 0, imm=0x342), encode("csrrs", 12, 0, imm=0x343)] \
        + syscall(93, 0)
    return Machine(load_elf(make_elf(text, bytes(64), bss=4096)))


@pytest.mark.parametrize("access, cause, offset", [
    ([encode("lw", 7, 6, imm=0)], 5, 0),
    ([encode("lbu", 7, 6, imm=3)], 5, 3),
    ([encode("lh", 7, 6, imm=-2)], 5, -2),
    ([encode("sw", 0, 6, 6, imm=8)], 7, 8),
    ([encode("sb", 0, 6, 6, imm=1)], 7, 1),
])
@pytest.mark.parametrize("fast", [False, True])
def test_access_fault_mtval_is_the_faulting_address(access: list[int], cause: int,
                                                    offset: int, fast: bool) -> None:
    m = _handler_prog(access)
    m.run(1000, fast=fast)
    assert m.regs[11] == cause
    assert m.regs[12] == UNMAPPED + offset     # not the page base 0x40000000


def test_unhandled_access_fault_and_fetch_fault_report_the_address() -> None:
    text = li(6, UNMAPPED) + [encode("lw", 7, 6, imm=0x10)]
    m = Machine(load_elf(make_elf(text, bytes(64))))
    with pytest.raises(AccessFault) as info:
        m.run(100)
    assert info.value.cause == 5 and info.value.tval == UNMAPPED + 0x10
    target = 0x40000ab4
    text = li(6, target) + [encode("jalr", 0, 6, imm=0)]
    m = Machine(load_elf(make_elf(text, bytes(64))))
    with pytest.raises(AccessFault) as info:
        m.run(100)
    assert info.value.cause == 1 and info.value.tval == target
    assert DATA  # the data segment exists, so only the probed page is unmapped
