"""The example guests: committed, reproducible, and agreeing with reality.

Each guest's output (exit status, stdout, public output on fd 3) under
qemu-riscv32 equals the same C compiled for the host; the committed ELFs are
what the Makefile builds, byte for byte.
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
from pathlib import Path

import pytest

from stele.actors.coprocessor._guests import (
    BENCH_SIZES,
    GUESTS,
    GUESTS_DIR,
    guest_elf,
    guest_input,
)

from ._native import CROSSCC, HOSTCC, MAKE, QEMU, copy_sources, run_with_fd3

# Small inputs: each guest runs in well under a second under qemu.
SMALL: dict[str, tuple[int, ...]] = {
    "sha256": (1, 55, 56, 64, 1000, 4097),
    "sort": (1, 2, 3, 100, 1023),
    "matmul": (1, 2, 7, 16),
    "bf": (1, 3),
}


def test_committed_elfs_are_rv32_executables() -> None:
    for name in GUESTS:
        data = guest_elf(name).read_bytes()
        assert data[:4] == b"\x7fELF", name
        assert data[4] == 1, f"{name}: not ELFCLASS32"
        assert data[5] == 1, f"{name}: not little-endian"
        (e_type, e_machine) = struct.unpack_from("<HH", data, 16)
        assert (e_type, e_machine) == (2, 0xF3), f"{name}: not an EXEC for RISC-V"
        # no build id, no .comment: the reproducibility flags took effect
        assert b".note.gnu.build-id" not in data and b"GCC: (" not in data, name


def test_bench_sizes_cover_every_guest() -> None:
    assert set(BENCH_SIZES) == set(GUESTS)


@pytest.fixture(scope="module")
def host_bins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if HOSTCC is None or MAKE is None:
        pytest.skip("host gcc or make not installed")
    src = copy_sources(tmp_path_factory.mktemp("guests-host"))
    subprocess.run([MAKE, "-s", "-C", str(src), "host", "HOSTOUT=hostbin"], check=True)
    return src / "hostbin"


@pytest.mark.skipif(CROSSCC is None or MAKE is None, reason="riscv64-unknown-elf-gcc not installed")
def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    src = copy_sources(tmp_path / "src")
    subprocess.run([MAKE, "-s", "-C", str(src), "all", "OUT=rebuilt"], check=True)
    for name in GUESTS:
        rebuilt = (src / "rebuilt" / f"{name}.elf").read_bytes()
        assert rebuilt == guest_elf(name).read_bytes(), (
            f"{name}.elf differs from the committed build; run `make -C {GUESTS_DIR}` and commit"
        )


def _expected(name: str, size: int, data: bytes) -> bytes:
    """An independent expectation for the public output, where one is cheap."""
    if name == "sha256":
        return hashlib.sha256(data).digest()
    return b""


def test_host_outputs_are_correct(host_bins: Path, tmp_path: Path) -> None:
    for size in SMALL["sha256"]:
        data = guest_input("sha256", size)
        rc, out, pub = run_with_fd3([str(host_bins / "sha256")], data, tmp_path)
        assert rc == 0
        assert pub == _expected("sha256", size, data)
        assert out == pub.hex().encode() + b"\n"
    rc, out, _ = run_with_fd3([str(host_bins / "bf")], guest_input("bf", 1), tmp_path)
    assert rc == 0 and out.startswith(b"Hello World!\n")
    rc, out, _ = run_with_fd3([str(host_bins / "sort")], b"5 1\n", tmp_path)
    assert rc == 0 and out.startswith(b"n=5 ")


@pytest.mark.skipif(QEMU is None, reason="qemu-riscv32 not installed")
@pytest.mark.parametrize("name", GUESTS)
def test_qemu_agrees_with_native(name: str, host_bins: Path, tmp_path: Path) -> None:
    assert QEMU is not None
    for size in SMALL[name]:
        data = guest_input(name, size)
        native = run_with_fd3([str(host_bins / name)], data, tmp_path)
        emulated = run_with_fd3([QEMU, str(guest_elf(name))], data, tmp_path)
        assert emulated == native, f"{name} size {size}"
        assert native[0] == 0 and native[1], f"{name} size {size} produced no output"


@pytest.mark.skipif(QEMU is None, reason="qemu-riscv32 not installed")
def test_bf_errors_agree(host_bins: Path, tmp_path: Path) -> None:
    assert QEMU is not None
    for program in (b"[", b"]", b"<", b"+[>+]"):
        native = run_with_fd3([str(host_bins / "bf")], program, tmp_path)
        emulated = run_with_fd3([QEMU, str(guest_elf("bf"))], program, tmp_path)
        assert emulated == native
        assert native[0] == 2


@pytest.mark.parametrize("name", GUESTS)
def test_coprocessor_agrees_with_native(name: str, host_bins: Path, tmp_path: Path) -> None:
    from stele.actors.coprocessor._binding import Execution

    image = guest_elf(name).read_bytes()
    for size in SMALL[name]:
        data = guest_input(name, size)
        native = run_with_fd3([str(host_bins / name)], data, tmp_path)
        result = Execution(image, data, max_cycles=50_000_000).run_fast()
        assert (result.exit_code, result.stdout, result.public_output) == native, (
            f"{name} size {size}"
        )


def test_coprocessor_bf_error_exit_matches_native(host_bins: Path, tmp_path: Path) -> None:
    from stele.actors.coprocessor._binding import Execution

    for program in (b"[", b"<", b"+[>+]"):
        native = run_with_fd3([str(host_bins / "bf")], program, tmp_path)
        result = Execution(guest_elf("bf").read_bytes(), program).run_fast()
        assert (result.exit_code, result.stdout, result.public_output) == native


def test_guest_inputs_are_deterministic_and_checked() -> None:
    from stele.actors.coprocessor import StreamError

    for name in GUESTS:
        assert guest_input(name, 3) == guest_input(name, 3)
    assert len(guest_input("sha256", 1000)) == 1000
    assert guest_input("sort", 7) == b"7 12345\n"
    with pytest.raises(StreamError, match="guest name 'nope'"):
        guest_input("nope", 1)
    with pytest.raises(StreamError, match="size 0 is below"):
        guest_input("sort", 0)
    with pytest.raises(StreamError, match="matmul size 513"):
        guest_input("matmul", 513)
