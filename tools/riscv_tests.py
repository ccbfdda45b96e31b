"""Build the official rv32ui/rv32um ``-p-`` tests and run them on every engine; prints JSON.

Needs a riscv-tests checkout with its ``env`` submodule (riscv-test-env) and
``riscv64-unknown-elf-gcc``.  Each test runs bare-metal (``ecall`` traps,
HTIF ``tohost`` ends the run); it passes when it writes ``tohost = 1``.
``rv32ui-p-ma_data`` expects misaligned accesses to succeed in hardware;
Stele traps them, as the privileged spec allows, so it fails on every engine,
and the report says exactly how: its first misaligned load (test 1,
``lh t2, 1(s0)``) raises a load-address-misaligned exception (``mcause`` 4,
``mtval`` = the data address + 1), the ``-p-`` environment has no handler for
it, and its trap vector writes ``tohost`` = 1 | 1337.

    python tools/riscv_tests.py PATH/TO/riscv-tests [--engines interp,jit,native]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from stele.actors.coprocessor import CoprocessorError, Machine, MachineConfig, load_elf
from stele.actors.coprocessor._machine import CSR

CC = "riscv64-unknown-elf-gcc"
FLAGS = ["-march=rv32im_zicsr_zifencei", "-mabi=ilp32", "-static", "-mcmodel=medany",
         "-fvisibility=hidden", "-nostdlib", "-nostartfiles"]


def build(src: Path, out: Path) -> list[Path]:
    """Compile every rv32ui/rv32um test source into ``out``."""
    env = src / "env"
    built = []
    for suite in ("rv32ui", "rv32um"):
        for s in sorted((src / "isa" / suite).glob("*.S")):
            elf = out / f"{suite}-p-{s.stem}"
            subprocess.run([CC, *FLAGS, f"-I{env / 'p'}", f"-I{src / 'isa' / 'macros' / 'scalar'}",
                            f"-T{env / 'p' / 'link.ld'}", str(s), "-o", str(elf)], check=True)
            built.append(elf)
    return built


def run(elf: Path, engine: str) -> dict[str, object] | None:
    """None if the test at ``elf`` passes on ``engine``, else why it failed.

    A failing ``-p-`` test writes ``tohost = TESTNUM << 1 | 1``; its env's
    trap vector ORs 1337 into TESTNUM for an exception it cannot handle, so
    the detail gives ``tohost`` (TESTNUM, with 1337 ORed in after an
    unhandled exception: ``unhandled_exception``), and
    the last trap's ``mcause``/``mepc``/``mtval`` say which instruction
    trapped and why.
    """
    m = Machine(load_elf(elf.read_bytes()), config=MachineConfig(host_syscalls=False))
    try:
        r = m.run(10_000_000, engine=engine)
    except CoprocessorError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    if r.halt_reason == "tohost" and r.exit_code == 0:
        return None
    tohost = None if r.exit_code is None else r.exit_code << 1 | 1
    return {"halt": r.halt_reason, "tohost": tohost,
            "unhandled_exception": tohost is not None and tohost & 1337 == 1337,
            "mcause": m.csrs[CSR.MCAUSE], "mepc": hex(m.csrs[CSR.MEPC]),
            "mtval": hex(m.csrs[CSR.MTVAL])}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="a riscv-tests checkout (with env/)")
    parser.add_argument("--engines", default="interp,jit,native")
    args = parser.parse_args(argv)
    if shutil.which(CC) is None:
        print(f"riscv_tests: {CC} not found", file=sys.stderr)
        return 2
    if not (args.src / "env" / "p" / "link.ld").is_file():
        print(f"riscv_tests: {args.src} has no env/p/link.ld (the riscv-test-env submodule)",
              file=sys.stderr)
        return 2
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        elfs = build(args.src, Path(tmp))
        for engine in args.engines.split(","):
            why = {e.name: run(e, engine) for e in elfs}
            failed = {name: detail for name, detail in why.items() if detail is not None}
            report[engine] = {"passed": len(elfs) - len(failed), "total": len(elfs),
                              "failed": sorted(failed), "why": failed}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
