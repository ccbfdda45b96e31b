"""The effect guests' committed ELFs are what their sources build to (when the compiler exists)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None,
                    reason="no RISC-V cross compiler")
def test_effect_guests_rebuild_byte_identical(tmp_path: Path) -> None:
    src, common = ROOT / "examples" / "effect_guest", ROOT / "examples" / "guests"
    (tmp_path / "guests").mkdir()
    for name in ("crt0.S", "sys_rv32.c", "lib.c", "sys.h", "link.ld"):
        shutil.copy(common / name, tmp_path / "guests" / name)
    work = tmp_path / "effect_guest"
    work.mkdir()
    for name in ("effects.c", "nested.c", "Makefile"):
        shutil.copy(src / name, work / name)
    subprocess.run(["make", "-s"], cwd=work, check=True, capture_output=True, timeout=120)
    for elf in ("effects.elf", "nested.elf"):
        assert (work / elf).read_bytes() == (src / elf).read_bytes(), elf
