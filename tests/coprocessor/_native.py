"""Run a guest's C source natively (host gcc) or its ELF under qemu-riscv32.

Helpers for the differential tests: each returns (exit status, stdout,
public output written to fd 3).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from stele.actors.coprocessor._guests import GUESTS_DIR

QEMU = shutil.which("qemu-riscv32")
HOSTCC = shutil.which("gcc")
CROSSCC = shutil.which("riscv64-unknown-elf-gcc")
MAKE = shutil.which("make")

GUEST_SOURCES = (
    "Makefile", "crt0.S", "link.ld", "sys.h", "sys_rv32.c", "sys_host.c", "lib.c",
    "sha256.c", "sort.c", "matmul.c", "bf.c",
)


def copy_sources(dest: Path) -> Path:
    """Copy the guest sources (not the built ELFs) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in GUEST_SOURCES:
        shutil.copy2(GUESTS_DIR / name, dest / name)
    return dest


def run_with_fd3(argv: list[str], data: bytes, workdir: Path) -> tuple[int, bytes, bytes]:
    """Run ``argv`` with ``data`` on stdin and fd 3 open on a fresh file."""
    pub = workdir / "fd3.out"
    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" 3>"$PUB"', "sh", *argv],
        input=data,
        stdout=subprocess.PIPE,
        env={"PUB": str(pub), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout, pub.read_bytes()
