"""RAM in provable mode: loads and stores of every width, proven by offline memory checking.

Completeness: one program per load/store over every legal offset, checked
against the co-processor's own run.  Soundness: a prover that lies about one
loaded word, one stored word, one memory timestamp, the final memory, the
register a store reads, or that stores into the text or touches memory
outside the ELF's segments, is rejected, and the test names the claim.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stele.actors.coprocessor import encode
from stele.actors.prover import P
from stele.actors.zkvm import ProofRejected, Statement, Unprovable, VmProof, prove, run_statement, verify
from stele.actors.zkvm._trace import Trace, build_trace

from coprocessor._elfgen import DATA, TEXT, li
from ._programs import DATA_BYTES, all_classes, exit_with_register, memory_programs, program

ELF = all_classes()
_TRACE = build_trace(ELF)


def _rows(flag: str) -> list[int]:
    return [t for t in range(_TRACE.cycles) if _TRACE.columns[flag][t] == 1]


def _rejected(st: Statement, pr: VmProof, elf: bytes = ELF) -> str:
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=elf)
    return info.value.claim


def _lie(cycle: int, what: str, delta: int) -> Callable[[int, str, int], int]:
    def f(t: int, w: str, v: int) -> int:
        return (v + delta) & 0xFFFFFFFF if (t == cycle and w == what) else v
    return f


# ---------------------------------------------------------------- completeness


@pytest.mark.parametrize("name", sorted(memory_programs()))
def test_memory_program_proves_and_matches_the_machine(name: str) -> None:
    elf = memory_programs()[name]
    st, pr = prove(elf)
    verify(st, pr, elf=elf, input_bytes=b"", output=b"")
    assert st.exit_code == run_statement(elf).exit_code


def test_all_classes_program_loads_and_stores_every_width() -> None:
    for flag in ("f_lb", "f_lbu", "f_lh", "f_lhu", "f_lw", "f_sb", "f_sh", "f_sw"):
        assert _rows(flag), flag
    # the sign bit of a loaded byte and half is exercised both ways
    signs = {int(_TRACE.columns["sg"][t]) for t in _rows("f_lb") + _rows("f_lh")}
    assert signs == {0, 1}
    # the final table holds the machine's final memory
    from stele.actors.coprocessor._elf import load_elf
    from stele.actors.coprocessor._machine import Machine

    m = Machine(load_elf(ELF))
    m.run(10_000)
    img = _TRACE.image
    for j, w in enumerate(img.words.tolist()):
        value = int(_TRACE.columns["fin_lo"][j]) | int(_TRACE.columns["fin_hi"][j]) << 16
        assert value == m.memory.peek(w << 2, 4), hex(w << 2)


def test_bss_reads_zero_and_the_image_is_bound() -> None:
    body = li(5, DATA + len(DATA_BYTES)) + [encode("lw", 7, 5, imm=4), encode("addi", 7, 7, imm=3)]
    elf = exit_with_register(body, 7, DATA_BYTES, bss=16)
    st, pr = prove(elf)
    assert st.exit_code == 3
    verify(st, pr, elf=elf)
    # another initial image (one data byte changed) is another ELF: the proof is not about it
    other = exit_with_register(body, 7, bytes([DATA_BYTES[0] ^ 1]) + DATA_BYTES[1:], bss=16)
    assert _rejected(st, pr, other) == "statement"


# ---------------------------------------------------------------- provable mode refuses


@pytest.mark.parametrize("body, detail", [
    (li(5, DATA + 2) + [encode("lw", 6, 5, imm=0)], "Misaligned"),
    (li(5, DATA + 1) + [encode("sh", 0, 5, 6, imm=0)], "Misaligned"),
    (li(5, 0x7FFE0000) + [encode("sw", 0, 5, 6, imm=0)], "outside provable mode's memory"),
    (li(5, TEXT) + [encode("sw", 0, 5, 6, imm=0)], "read-only word"),
])
def test_uncovered_memory_use_is_a_typed_refusal(body: list[int], detail: str) -> None:
    with pytest.raises(Unprovable, match=detail):
        prove(exit_with_register(body, 0, DATA_BYTES))


# ---------------------------------------------------------------- cheating provers


@pytest.mark.parametrize("what, flag, delta, claim", [
    ("old", "f_lw", 1, "ram memory check"),         # a loaded word (the result follows the lie)
    ("old", "f_lbu", 1 << 24, "ram memory check"),  # a loaded byte, another byte of the word
    ("old", "f_sb", 1 << 8, "ram memory check"),    # the word a store merges into
    ("tsm", "f_lh", -1, "ram memory check"),        # a memory read timestamp
    ("new", "f_sh", 1, "constraints"),              # a stored word that is not the merge
    ("v2", "f_sw", 1, "register memory check"),     # the register a store reads
    ("v1", "f_lw", 4, "register memory check"),     # the address register of a load
])
@pytest.mark.parametrize("forge", [False, True])
def test_consistent_memory_lie_is_rejected(what: str, flag: str, delta: int, claim: str, forge: bool) -> None:
    cycle = _rows(flag)[-1]
    st, pr = prove(ELF, _lie=_lie(cycle, what, delta), _forge=forge)
    assert _rejected(st, pr) == ("trace sum-check" if forge and claim == "constraints" else claim)


def test_a_read_timestamp_from_the_future_is_rejected() -> None:
    """A load that reads its own write (ts = now) balances the multisets; only ts < now catches it.

    The last load of a word reads ``(A, v, ts_prev)`` and writes ``(A, v, now)``;
    the cheat reads ``(A, v, now)`` instead and sets the word's final
    timestamp to ``ts_prev``, so initial + writes = reads + final still holds.
    """
    from stele.actors.zkvm._air import TS_SHIFT

    def cheat(tr: Trace) -> None:
        c = tr.columns
        t = [t for t in range(tr.cycles) if c["f_lhu"][t]][-1]
        j = tr.image.index[int(c["ma_lo"][t]) | int(c["s_hi"][t]) << 14]
        assert int(c["fin_ts"][j]) == t + 1  # the last access to the word
        c["fin_ts"][j] = c["tsm"][t]
        tr.range_mult[int(c["dlm"][t])] -= 1
        tr.range_mult[int(c["dhm"][t])] -= 1
        c["tsm"][t] = t + 1
        c["dlm"][t], c["dhm"][t] = TS_SHIFT - 1, P - 1  # dlm + TS_SHIFT * dhm = -1 = now - ts - 1
        tr.range_mult[TS_SHIFT - 1] += 1
        tr.range_mult[0] += 1  # the best the prover can do for P - 1, which no table row holds
    st, pr = prove(ELF, _cheat=cheat)
    assert _rejected(st, pr) == "range lookup"


def test_lying_about_the_final_memory_is_rejected() -> None:
    def cheat(tr: Trace) -> None:
        j = next(j for j in range(tr.image.size) if tr.columns["fin_ts"][j])  # a word the run touched
        tr.columns["fin_lo"][j] = (int(tr.columns["fin_lo"][j]) + 1) % P
    st, pr = prove(ELF, _cheat=cheat)
    assert _rejected(st, pr) == "ram memory check"


def test_lying_about_a_byte_decomposition_is_rejected() -> None:
    def cheat(tr: Trace) -> None:  # B0 + 1, B1 - 1/256: old_lo unchanged, but not a limb-table row
        t = next(t for t in range(tr.cycles) if tr.columns["f_lbu"][t] and tr.columns["B1"][t])
        tr.columns["B0"][t] = (int(tr.columns["B0"][t]) + 256) % P
        tr.columns["B1"][t] = (int(tr.columns["B1"][t]) - 1) % P
    st, pr = prove(ELF, _cheat=cheat)
    assert _rejected(st, pr) in ("limb lookup", "constraints")


def test_lying_about_a_limb_multiplicity_is_rejected() -> None:
    def cheat(tr: Trace) -> None:
        tr.limb_mult[0] -= 1
        tr.limb_mult[9] += 1
    st, pr = prove(ELF, _cheat=cheat)
    assert _rejected(st, pr) == "limb lookup"


def test_store_into_the_text_is_rejected() -> None:
    """Store a text word's own value back (the machine accepts it): the read-only flag rejects the store."""
    body = li(5, TEXT) + [encode("lw", 6, 5, imm=0), encode("sw", 0, 5, 6, imm=0)]
    elf = exit_with_register(body, 0, DATA_BYTES)
    st, pr = prove(elf, _lie=lambda t, w, v: v)
    assert _rejected(st, pr, elf) == "constraints"


def test_access_outside_the_segments_is_rejected() -> None:
    """The co-processor's own stack is mapped, but it is not provable memory: no table row balances it."""
    body = [encode("sw", 0, 2, 0, imm=0), encode("lw", 7, 2, imm=0)]
    elf = program(body, 0)
    st, pr = prove(elf, _lie=lambda t, w, v: v)
    assert _rejected(st, pr, elf) == "ram memory check"
