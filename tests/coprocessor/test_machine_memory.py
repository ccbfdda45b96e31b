"""A finished machine is freed: no engine keeps it (or its native tables) alive.

The interpreter and the block JIT signal "leave the fast path" by raising one
shared exception instance each (``_ops.SYNC``, ``_jit._EXIT``).  Re-raising an
instance chains the new frames onto its old ``__traceback__``, so before the
fix every raise kept its frames -- and through them every machine and its
native engine's tables -- alive for the life of the process: ``pytest
tests/coprocessor`` grew past 7 GB RSS.  These tests drop a machine after
runs that raise those signals many times and check it is collected.
"""

from __future__ import annotations

import gc
import importlib.util
import weakref

import pytest

from stele.actors.coprocessor import Machine, GuestFault, encode, load_elf
from stele.actors.coprocessor._jit import _EXIT
from stele.actors.coprocessor._ops import SYNC

from ._elfgen import DATA, TEXT, li, make_elf, syscall

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
ENGINES = ["interp", "jit"] + (["native"] if HAVE_NUMBA else [])


def _writes(n: int) -> bytes:
    """``n`` ``write(1, DATA, 1)`` syscalls (each one a SYSTEM instruction), then exit."""
    return make_elf(syscall(64, 1, DATA, 1) * n + syscall(93, 0), b"x")


def _collected(build: weakref.ref[Machine]) -> bool:
    gc.collect()
    return build() is None


@pytest.mark.parametrize("engine", ENGINES)
def test_machine_is_freed_after_many_syscalls(engine: str) -> None:
    m = Machine(load_elf(_writes(50)))
    m.run(10_000, engine=engine)
    assert m.exit_code == 0 and m.stdout == b"x" * 50
    ref = weakref.ref(m)
    del m
    assert _collected(ref), f"{engine}: a finished machine is still referenced"
    # the shared signal instances hold no frames that could reach a machine
    assert SYNC.__traceback__ is None


@pytest.mark.parametrize("engine", ENGINES)
def test_machine_is_freed_after_a_fault(engine: str) -> None:
    # a jump to a misaligned target faults: the JIT leaves its block through _EXIT
    prog = make_elf(li(5, TEXT + 2) + [encode("jalr", 0, 5, imm=0)] + syscall(93, 0))
    refs = []
    for _ in range(3):
        m = Machine(load_elf(prog))
        with pytest.raises(GuestFault, match="misaligned"):
            m.run(1_000, engine=engine)
        refs.append(weakref.ref(m))
        del m
    gc.collect()
    assert [r() for r in refs] == [None, None, None]
    tb = _EXIT.__traceback__
    depth = 0
    while tb is not None:               # at most the frames of the last raise
        depth += 1
        tb = tb.tb_next
    assert depth < 10
