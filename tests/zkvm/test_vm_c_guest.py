"""A C guest built with gcc (rv32i, -O1) proves and verifies; a lie about one of its loads is rejected.

``tests/zkvm/guest/guest.c`` sorts a static table through pointers, copies it
byte by byte and mixes the bytes: word and byte loads and stores, bitwise
ops, compares and branches only, so gcc emits nothing outside provable mode.
It links with the example guests' linker script and a crt0 with a 1 KiB stack.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from stele.actors.zkvm import ProofRejected, prove, run_statement, verify
from stele.actors.zkvm._trace import build_trace

CC = shutil.which("riscv64-unknown-elf-gcc")
HERE = Path(__file__).resolve().parent
LINK = HERE.parents[1] / "examples" / "guests" / "link.ld"

pytestmark = pytest.mark.skipif(CC is None, reason="riscv64-unknown-elf-gcc not installed")


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("guest") / "guest.elf"
    assert CC is not None
    subprocess.run([CC, "-march=rv32i", "-mabi=ilp32", "-O1", "-ffreestanding", "-fno-builtin", "-fno-pic",
                    "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-mno-relax", "-nostdlib",
                    "-nostartfiles", "-static", "-Wl,--build-id=none", f"-Wl,-T,{LINK}", "-Wl,--no-relax",
                    "-o", str(out), str(HERE / "guest" / "crt0.S"), str(HERE / "guest" / "guest.c")],
                   check=True, capture_output=True, timeout=120)
    return out.read_bytes()


def test_c_guest_proves_and_verifies(elf: bytes) -> None:
    st, pr = prove(elf)
    verify(st, pr, elf=elf, input_bytes=b"", output=b"")
    assert st.exit_code == run_statement(elf).exit_code
    trace = build_trace(elf)
    used = {f for f in ("f_lw", "f_sw", "f_lb", "f_lbu", "f_sb", "f_xor", "f_and") if trace.columns[f].any()}
    assert used == {"f_lw", "f_sw", "f_lb", "f_lbu", "f_sb", "f_xor", "f_and"}


def test_c_guest_with_one_lying_load_is_rejected(elf: bytes) -> None:
    trace = build_trace(elf)
    t = [t for t in range(trace.cycles) if trace.columns["f_lb"][t]][5]

    def lie(c: int, what: str, v: int) -> int:
        return v ^ 0x80 if (c == t and what == "old") else v
    st, pr = prove(elf, _lie=lie)
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=elf)
    assert info.value.claim == "ram memory check"
