"""The native engine's parts that do not need numba, and its on-disk cache.

``decode_page`` (the vectorised predecoder the compiled loop executes from)
must agree with the one ISA decoder on every word: the operation, and the
witness operands (rd, rs1, rs2, imm) the loop writes straight from the
decoded entry.  The cache must refuse damaged files before LLVM sees them.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor import Machine, load_elf
from stele.actors.coprocessor._isa import decode
from stele.actors.coprocessor._native import read_cache, write_cache
from stele.actors.coprocessor._native_kernel import OP_SLOW, decode_page, mnemonic

from ._elfgen import syscall, make_elf

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
_NOT_PLAIN = {"illegal", "ecall", "ebreak", "mret", "wfi", "fence", "fence.i"}
_JUMPS = {"beq", "bne", "blt", "bge", "bltu", "bgeu", "jal"}
_OPCODES = [0x13, 0x33, 0x03, 0x23, 0x63, 0x37, 0x17, 0x6F, 0x67, 0x73, 0x0F]


def _check(words: list[int]) -> None:
    entries = decode_page(np.array(words, np.uint32)).tolist()
    for w, e in zip(words, entries):
        ins = decode(w)
        name = mnemonic(w, e)
        if name == "slow":
            assert e == OP_SLOW
            # only non-plain words, or a jump whose offset traps when taken
            assert ins.op in _NOT_PLAIN or ins.op.startswith("csr") or (
                ins.op in _JUMPS and ins.imm & 2), (hex(w), ins)
            continue
        assert (name, (e >> 6) & 31, (e >> 11) & 31, (e >> 16) & 31, (e >> 32) & 0xFFFFFFFF) \
            == (ins.op, ins.rd, ins.rs1, ins.rs2, ins.imm & 0xFFFFFFFF), hex(w)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 0xFFFFFFFF), min_size=1, max_size=1024))
def test_decode_page_matches_the_isa_decoder_on_any_word(words: list[int]) -> None:
    _check(words)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_OPCODES), st.integers(0, (1 << 18) - 1),
                          st.sampled_from([0, 1, 0x20, 0x7F])), min_size=1, max_size=512))
def test_decode_page_matches_on_every_opcode_and_funct7(fields: list[tuple[int, int, int]]) -> None:
    _check([opc | (mid << 7) | (f7 << 25) for opc, mid, f7 in fields])


def test_decode_page_of_zeros_is_all_slow() -> None:
    assert (decode_page(np.zeros(1024, np.uint32)) == OP_SLOW).all()


def test_cache_round_trip_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "kernel.o"
    write_cache(path, "entry_sym", b"\x7fELF object bytes")
    assert read_cache(path) == ("entry_sym", b"\x7fELF object bytes")
    blob = path.read_bytes()
    for damaged in (blob[:-1], blob[:5], blob + b"x", blob.replace(b"object", b"OBJECT"), b""):
        path.write_bytes(damaged)
        assert read_cache(path) is None
    assert read_cache(tmp_path / "missing.o") is None


def test_an_unwritable_cache_only_costs_the_compile(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    write_cache(blocker / "kernel.o", "x", b"y")       # parent is a file: no error
    assert read_cache(blocker / "kernel.o") is None


_CHILD = (
    "import sys; from stele.actors.coprocessor import Machine, load_elf;"
    "from stele.actors.coprocessor import _native as n;"
    "m = Machine(load_elf(open(sys.argv[1], 'rb').read()));"
    "r = m.run(10**6, engine='native'); print(n.compile_source(), r.exit_code, r.cycles)"
)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the fast extra) not installed")
def test_a_second_process_loads_the_kernel_from_the_cache(tmp_path: Path) -> None:
    """This process's kernel is in the cache; a fresh process loads it without compiling."""
    from stele.actors.coprocessor._native import cache_path

    elf = tmp_path / "exit7.elf"
    elf.write_bytes(make_elf(syscall(93, 7)))
    m = Machine(load_elf(elf.read_bytes()))
    assert m.run(10**6, engine="native").exit_code == 7      # compiled or loaded here
    assert read_cache(cache_path()) is not None
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", _CHILD, str(elf)], env=env, check=True,
                         capture_output=True, text=True, timeout=300).stdout.split()
    assert out == ["cache", "7", str(m.cycle)]
