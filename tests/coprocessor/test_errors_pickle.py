"""Co-processor errors survive pickling (they cross worker-process boundaries)."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.coprocessor import (
    AccessFault,
    Breakpoint,
    CoprocessorError,
    CycleLimitExceeded,
    ElfError,
    GuestError,
    GuestFault,
    GuestRunFailed,
    IllegalInstruction,
    Machine,
    MemoryLimitExceeded,
    MisalignedAccess,
    SnapshotError,
    UnknownSyscall,
    encode,
    load_raw,
)

u32 = st.integers(0, 2**32 - 1)


def _same(a: BaseException, b: BaseException) -> None:
    assert type(a) is type(b)
    assert str(a) == str(b)
    assert a.args == b.args
    assert vars(a).keys() == vars(b).keys()
    for k, v in vars(a).items():
        w = vars(b)[k]
        if isinstance(v, np.ndarray):
            assert np.array_equal(v, w)
        else:
            assert v == w, k


@given(pc=u32, cycle=st.integers(0, 2**40), cause=st.integers(0, 15), tval=u32,
       detail=st.text(max_size=20), n=u32, limit=st.integers(0, 2**40))
def test_every_error_class_round_trips(pc: int, cycle: int, cause: int, tval: int,
                                       detail: str, n: int, limit: int) -> None:
    errors: list[CoprocessorError] = [
        CoprocessorError("plain"), ElfError("e_machine", detail), SnapshotError(detail),
        GuestError(detail, pc=pc, cycle=cycle),
        GuestFault(cause, tval, pc=pc, cycle=cycle, detail=detail),
        IllegalInstruction(2, tval, pc=pc, cycle=cycle), MisalignedAccess(4, tval, pc=pc, cycle=cycle),
        AccessFault(5, tval, pc=pc, cycle=cycle), Breakpoint(3, pc, pc=pc, cycle=cycle),
        UnknownSyscall(n, pc=pc, cycle=cycle), CycleLimitExceeded(limit, pc=pc, cycle=cycle),
        MemoryLimitExceeded(n, limit, detail), GuestRunFailed("CycleLimitExceeded", detail),
    ]
    for exc in errors:
        _same(exc, pickle.loads(pickle.dumps(exc)))


def test_a_raised_guest_error_keeps_its_witness_rows() -> None:
    words = [encode("addi", 1, 0, imm=5), encode("addi", 2, 1, imm=7), encode("ebreak")]
    prog = load_raw(b"".join(w.to_bytes(4, "little") for w in words), base=0x1000)
    m = Machine(prog)
    try:
        m.trace(10)
    except Breakpoint as exc:
        back = pickle.loads(pickle.dumps(exc))
        _same(exc, back)
        assert isinstance(back, Breakpoint) and back.cycle == exc.cycle == 2
        assert isinstance(back.rows, np.ndarray) and back.rows.shape == (2, 14)
    else:
        raise AssertionError("ebreak did not stop the run")
