"""C guests built with gcc prove and verify; a lie about one of their loads is rejected.

``tests/zkvm/guest/guest.c`` (rv32i, -O1) sorts a static table through
pointers, copies it byte by byte and mixes the bytes: word and byte loads
and stores, bitwise ops, compares and branches.  ``mix.c`` (rv32im, -O2)
sorts by index, mixes bytes and halves and multiplies: gcc emits shifts,
``mul``, half-word loads and stores too.  Both use nothing outside provable
mode.  They link with the example guests' linker script and a crt0 with a
1 KiB stack.
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


_BUILDS = {"guest": ("rv32i", "-O1"), "mix": ("rv32im", "-O2")}


@pytest.fixture(scope="module", params=sorted(_BUILDS))
def elf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    name = request.param
    march, opt = _BUILDS[name]
    out = tmp_path_factory.mktemp("guest") / f"{name}.elf"
    assert CC is not None
    subprocess.run([CC, f"-march={march}", "-mabi=ilp32", opt, "-ffreestanding", "-fno-builtin", "-fno-pic",
                    "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-mno-relax", "-nostdlib",
                    "-nostartfiles", "-static", "-Wl,--build-id=none", f"-Wl,-T,{LINK}", "-Wl,--no-relax",
                    "-o", str(out), str(HERE / "guest" / "crt0.S"), str(HERE / "guest" / f"{name}.c")],
                   check=True, capture_output=True, timeout=120)
    return out.read_bytes()


def test_c_guest_proves_and_verifies(elf: bytes) -> None:
    st, pr = prove(elf)
    verify(st, pr, elf=elf, input_bytes=b"", output=b"")
    assert st.exit_code == run_statement(elf).exit_code
    trace = build_trace(elf)
    used = {f for f in ("f_lw", "f_sw", "f_lb", "f_lhu", "f_sh", "f_xor", "f_sll", "f_sra", "f_srl", "f_mul")
            if trace.columns[f].any()}
    assert used >= {"f_lw", "f_sw", "f_lb", "f_xor"}
    if trace.columns["f_mul"].any():  # mix.c
        assert used >= {"f_lhu", "f_sh", "f_sll", "f_sra", "f_srl", "f_mul"}


def test_c_guest_with_one_lying_load_is_rejected(elf: bytes) -> None:
    trace = build_trace(elf)
    t = [t for t in range(trace.cycles) if trace.columns["f_lb"][t]][5]

    def lie(c: int, what: str, v: int) -> int:
        return v ^ 0x80 if (c == t and what == "old") else v
    st, pr = prove(elf, _lie=lie)
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=elf)
    assert info.value.claim == "ram memory check"
