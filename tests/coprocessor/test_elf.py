"""ELF loading and validation, raw images, and compiled guests against reality."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from stele.actors.coprocessor import ElfError, Machine, load_elf, load_program, load_raw

from ._elfgen import TEXT, make_elf, syscall, words

GUESTS = Path("examples/guests/bin")


def test_minimal_elf_loads_with_symbols() -> None:
    prog = load_elf(make_elf([0x13], b"abc", symbols={"tohost": 0x20010}))
    assert prog.entry == TEXT and prog.symbols["tohost"] == 0x20010
    assert [s.vaddr for s in prog.segments] == [TEXT, 0x20000]


@pytest.mark.parametrize("mutate,field", [
    (lambda b: b"\x7fELG" + b[4:], "e_ident"),
    (lambda b: b[:4] + b"\x02" + b[5:], "EI_CLASS"),
    (lambda b: b[:5] + b"\x02" + b[6:], "EI_DATA"),
    (lambda b: b[:18] + struct.pack("<H", 62) + b[20:], "e_machine"),
    (lambda b: b[:16] + struct.pack("<H", 3) + b[18:], "e_type"),
    (lambda b: b[:24] + struct.pack("<I", 0x90000) + b[28:], "e_entry"),
    (lambda b: b[:24] + struct.pack("<I", 0x10002) + b[28:], "e_entry"),
    (lambda b: b[:28] + struct.pack("<I", 10**6) + b[32:], "e_phoff"),
    (lambda b: b[:30], "e_ident"),
    (lambda b: b[:52 + 4] + struct.pack("<I", 10**6) + b[60:], "segment 0"),
    (lambda b: b[:52 + 16] + struct.pack("<I", 10**6) + b[72:], "segment 0"),
    (lambda b: b[:52 + 20] + struct.pack("<I", 0xFFFFFFFF) + b[76:], "4 GiB"),
    (lambda b: b[:52 + 32 + 8] + struct.pack("<I", TEXT) + b[52 + 32 + 12:], "segment 1"),
])
def test_bad_elf_files_name_the_field(mutate: object, field: str) -> None:
    good = make_elf([0x13], b"abc")
    with pytest.raises(ElfError, match=field):
        load_elf(mutate(good))  # type: ignore[operator]


def test_elf64_is_refused_clearly() -> None:
    with pytest.raises(ElfError, match="ELFCLASS32"):
        load_elf(make_elf([0x13], elf_class=2))


def test_raw_image() -> None:
    image = words(syscall(93, 42))
    assert Machine(load_raw(image, base=0x8000)).run(100).exit_code == 42
    assert Machine(load_program(image)).run(100).exit_code == 42
    with pytest.raises(ElfError, match="base"):
        load_raw(image, base=3)


GUEST_INPUTS = {
    "sha256.elf": b"The quick brown fox jumps over the lazy dog",
    "sort.elf": b"5 9 1 4 1 3",
    "matmul.elf": b"8",
    "bf.elf": b"",
}


@pytest.mark.parametrize("name", sorted(GUEST_INPUTS))
def test_committed_guests_run_alike_on_both_paths(name: str) -> None:
    elf = (GUESTS / name).read_bytes()
    slow = Machine(load_elf(elf), input=GUEST_INPUTS[name]).run(10**8, fast=False)
    fast_m = Machine(load_elf(elf), input=GUEST_INPUTS[name])
    fast = fast_m.run(10**8, fast=True)
    assert slow == fast and slow.exit_code == 0
    if name == "sha256.elf":
        assert slow.stdout == b"d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592\n"


needs_qemu = pytest.mark.skipif(shutil.which("qemu-riscv32") is None, reason="no qemu-riscv32")
needs_gcc = pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None,
                               reason="no riscv64-unknown-elf-gcc")


@needs_qemu
@pytest.mark.parametrize("name", sorted(GUEST_INPUTS))
def test_committed_guests_agree_with_qemu(name: str) -> None:
    path = GUESTS / name
    q = subprocess.run(["qemu-riscv32", str(path)], input=GUEST_INPUTS[name],
                       capture_output=True, timeout=120, check=False)
    res = Machine(load_elf(path.read_bytes()), input=GUEST_INPUTS[name]).run(10**8)
    assert (res.stdout, res.exit_code) == (q.stdout, q.returncode)


C_SOURCE = r"""
static long sys(long n, long a, long b, long c) {
    register long a0 asm("a0") = a; register long a1 asm("a1") = b;
    register long a2 asm("a2") = c; register long a7 asm("a7") = n;
    asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}
static int divs[8] = {0, 1, -1, 7, -7, 0x7fffffff, (int)0x80000000, 3};
void _start(void) {
    char buf[64]; unsigned h = 2166136261u;
    for (int i = 0; i < 8; i++) for (int j = 0; j < 8; j++) {
        int a = divs[i], b = divs[j];
        unsigned q = b ? (unsigned)(a / (b == -1 && a == (int)0x80000000 ? 1 : b)) : 0u;
        h = (h ^ q ^ (unsigned)(a * b) ^ (b ? (unsigned)a % (unsigned)b : 1u)) * 16777619u;
    }
    for (int k = 0; k < 8; k++) buf[k] = "0123456789abcdef"[(h >> (28 - 4 * k)) & 15];
    buf[8] = '\n';
    sys(64, 1, (long)buf, 9);
    sys(93, (long)(h & 0x7f), 0, 0);
    for (;;) {}
}
"""


@needs_gcc
def test_gcc_compiled_program_matches_qemu(tmp_path: Path) -> None:
    src = tmp_path / "t.c"
    src.write_text(C_SOURCE)
    elf = tmp_path / "t.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", "-march=rv32im", "-mabi=ilp32", "-O2",
                    "-nostdlib", "-static", "-o", str(elf), str(src)], check=True, timeout=120)
    res = Machine(load_elf(elf.read_bytes())).run(10**6)
    assert len(res.stdout) == 9
    if shutil.which("qemu-riscv32"):
        q = subprocess.run(["qemu-riscv32", str(elf)], capture_output=True, timeout=60,
                           check=False)
        assert (res.stdout, res.exit_code) == (q.stdout, q.returncode)
