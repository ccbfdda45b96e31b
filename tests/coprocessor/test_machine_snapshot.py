"""Snapshots: copy-on-write capture, restore and resume, canonical CBOR, digests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor import Breakpoint, Machine, Snapshot, SnapshotError, load_elf
from stele.protocol import Digest, decode
from stele.protocol import encode as cbor

from ._elfgen import DATA, make_elf, syscall
from ._rvgen import case_from_bytes

SHA = "examples/guests/bin/sha256.elf"


def finish(m: Machine, fast: bool) -> bytes:
    try:
        (m.advance_fast if fast else m.advance)(100_000)
    except Breakpoint:
        pass
    return m.snapshot().to_cbor()


@settings(max_examples=150)
@given(st.binary(min_size=50, max_size=500), st.integers(0, 200), st.booleans())
def test_restore_and_resume_gives_the_same_end_state(data: bytes, at: int, fast: bool) -> None:
    case = case_from_bytes(data)
    straight = finish(case.machine(), False)
    m = case.machine()
    try:
        m.advance(at)
    except Breakpoint:
        pass
    snap = m.snapshot()
    first = finish(m, fast)
    assert first == straight
    m.restore(snap)                                   # same machine, back in time
    assert finish(m, fast) == straight
    again = Snapshot.from_cbor(snap.to_cbor(), digest=snap.digest())
    other = Machine.from_snapshot(again, case.machine().program)   # fresh machine
    assert finish(other, not fast) == straight


def test_snapshot_pages_are_copy_on_write() -> None:
    text = syscall(93, 0)
    m = Machine(load_elf(make_elf(text, b"\x01" * 64)))
    snap = m.snapshot()
    page = DATA >> 12
    assert snap.pages[page] is m.memory.pages[page]          # shared, not copied
    m.memory.store(DATA, 4, 0xDEADBEEF)
    assert snap.pages[page][:4] == b"\x01" * 4                 # the snapshot kept its copy
    assert m.memory.pages[page] is not snap.pages[page]
    m.restore(snap)
    assert m.memory.peek(DATA, 4) == 0x01010101


def test_guest_snapshot_round_trip_and_digest() -> None:
    elf = open(SHA, "rb").read()
    m = Machine(load_elf(elf), input=b"abc")
    m.advance_fast(5000)
    snap = m.snapshot()
    data = snap.to_cbor()
    assert cbor(decode(data)) == data                          # canonical
    back = Snapshot.from_cbor(data, digest=Digest.of(data))
    assert back == snap and back.digest() == snap.digest()
    res = Machine.from_snapshot(back, load_elf(elf), input=b"abc").run(10**7)
    assert res.stdout.startswith(b"ba7816bf8f01cfea414140de5dae2223")


def test_tampered_snapshots_are_rejected() -> None:
    m = Machine(load_elf(make_elf(syscall(93, 0))))
    data = m.snapshot().to_cbor()
    with pytest.raises(SnapshotError, match="digest mismatch"):
        Snapshot.from_cbor(data + b"", digest=Digest.of(b"other"))
    with pytest.raises(SnapshotError, match="not canonical CBOR"):
        Snapshot.from_cbor(b"\xff")
    obj = decode(data)
    assert isinstance(obj, dict)
    for field, value, msg in [("regs", [1] * 32, "regs\\[0\\]=1"), ("pc", -1, "pc=-1"),
                              ("pages", {0: b"x"}, "4096 bytes"), ("v", 9, "v=9"),
                              ("halted", 1, "halted must be a bool")]:
        bad = dict(obj)
        bad[field] = value
        with pytest.raises(SnapshotError, match=msg):
            Snapshot.from_cbor(cbor(bad))
    missing = dict(obj)
    del missing["brk"]
    with pytest.raises(SnapshotError, match="fields"):
        Snapshot.from_cbor(cbor(missing))


@pytest.mark.parametrize("engine", ["native", "jit"])
def test_a_snapshot_after_a_syscall_write_keeps_the_engine_mirror_current(engine: str) -> None:
    """A read syscall writes a page from Python; a snapshot right after it used to hide the
    new page from the native engine's mirror, and the next compiled store wrote the stale
    page back (the read bytes were lost)."""
    from stele.actors.coprocessor import encode
    from stele.actors.coprocessor._native import native_available

    if engine == "native" and not native_available():
        pytest.skip("numba is not installed")
    code = syscall(63, 0, DATA + 8, 4) + [encode("lui", 5, imm=DATA),
                                          encode("sw", rs1=5, rs2=5, imm=0)]
    code += syscall(93, 0)
    image = make_elf(code, bytes(16))
    m = Machine(load_elf(image), input=b"abcd")
    while not m.halted:
        m.advance_with(engine, 1)
        m.snapshot()
    assert m.memory.peek(DATA + 8, 4) == int.from_bytes(b"abcd", "little")
    assert m.memory.peek(DATA, 4) == DATA
