"""Proven system calls: read (the input), write (the public output, stdout), brk (the heap), and the attacks.

Completeness: small programs that exercise each call's cases (short reads,
EOF, bad fds, brk growth, failure and page crossing) prove and verify with
the co-processor's own output and exit code, and so do the example C guests
(sha256, sort, matmul: the slow suite runs all three, the default one
matmul; bf needs 2^19 rows for its start-up alone).  Soundness: a prover that lies about an input byte, a read count,
the public output (its bytes or its length), the heap limit, or that lets the
guest read the input region directly or touch the heap above the break, is
rejected, and the independent reference checker finds the same witness
invalid.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import numpy as np
import pytest

from stele.actors.coprocessor import Machine, encode, load_elf
from stele.actors.coprocessor._guests import guest_elf
from stele.actors.prover import P
from stele.actors.zkvm import ProofRejected, Statement, Unprovable, prove, verify
from stele.actors.zkvm._air import TRACE_COLUMNS
from stele.actors.zkvm._memory import memory_image
from stele.actors.zkvm._prove import prove_trace, statement_of
from stele.actors.zkvm._syscalls import INPUT_BASE, NUM, OUTPUT_BASE, PAGE
from stele.actors.zkvm._trace import Trace, build_trace

from coprocessor._elfgen import DATA, li, make_elf, syscall
from ._reference import violations

A0, A1, A2, A7 = 10, 11, 12, 17


def _call(num: int, a0: int | None = None, a1: int | None = None, a2_reg: int | None = None,
          a2: int | None = None) -> list[int]:
    """An ecall with a7 = num; a0/a1/a2 as constants, a2 optionally from a register."""
    out: list[int] = []
    if a0 is not None:
        out += li(A0, a0)
    if a1 is not None:
        out += li(A1, a1)
    if a2_reg is not None:
        out.append(encode("addi", A2, a2_reg, imm=0))
    elif a2 is not None:
        out += li(A2, a2)
    return out + li(A7, num) + [encode("ecall")]


def _exit_reg(reg: int) -> list[int]:
    return [encode("addi", A0, reg, imm=0)] + li(A7, 93) + [encode("ecall")]


def echo() -> bytes:
    """read(0, DATA, 16) -> n; write(3, DATA, n); write(1, DATA, n); exit(n)."""
    body = _call(63, 0, DATA, a2=16) + [encode("addi", 20, A0, imm=0)]
    body += _call(64, 3, DATA, a2_reg=20) + _call(64, 1, DATA, a2_reg=20)
    return make_elf(body + _exit_reg(20), bytes(16))


def reads() -> bytes:
    """Reads of 2, 2, 16 and 4 bytes (short read, then EOF) into consecutive bytes; publishes the buffer."""
    body: list[int] = [encode("addi", 21, 0, imm=0)]
    for n, off in ((2, 0), (2, 2), (16, 4), (4, 9)):
        body += _call(63, 0, DATA + off, a2=n) + [encode("add", 21, 21, A0), encode("slli", 21, 21, imm=3)]
    body += _call(64, 3, DATA, a2=12)
    return make_elf(body + _exit_reg(21), bytes(32))


def bad_fds() -> bytes:
    """read(5) and write(7) give -EBADF; stderr is accepted; the exit code mixes the results."""
    body = _call(63, 5, DATA, a2=4) + [encode("addi", 20, A0, imm=0)]
    body += _call(64, 7, DATA, a2=4) + [encode("add", 20, 20, A0)]
    body += _call(64, 2, DATA, a2=3) + [encode("add", 20, 20, A0)]
    return make_elf(body + _exit_reg(20), b"abcd")


def heap() -> bytes:
    """brk(0) -> start; grow by 100, store/load; grow across pages, store at the top; a failing brk."""
    body = _call(214, 0) + [encode("addi", 20, A0, imm=0)]                     # x20 = start
    body += [encode("addi", A0, 20, imm=100)] + li(A7, 214) + [encode("ecall"), encode("addi", 21, A0, imm=0)]
    body += li(6, 0x1234ABCD) + [encode("sw", 0, 20, 6, imm=96), encode("lw", 7, 20, imm=96)]
    body += li(8, 2 * PAGE) + [encode("add", A0, 20, 8)] + li(A7, 214) + [encode("ecall")]
    body += [encode("add", 9, 20, 8), encode("sw", 0, 9, 7, imm=-4), encode("lw", 22, 9, imm=-4)]
    body += _call(214, 0x100) + [encode("sub", 23, A0, 20)]                      # below start: the break stays
    body += [encode("sub", 24, 21, 20), encode("add", 24, 24, 23), encode("xor", 24, 24, 22)]
    return make_elf(body + _exit_reg(24), bytes(8))


def _machine(elf: bytes, inp: bytes) -> tuple[bytes, int]:
    m = Machine(load_elf(elf), input=inp)
    r = m.run(10 ** 7)
    return bytes(r.public_output), r.exit_code & 0xFFFFFFFF


def _proves(elf: bytes, inp: bytes) -> Statement:
    st, pr = prove(elf, inp)
    out, code = _machine(elf, inp)
    assert (st.output, st.exit_code) == (out, code)
    verify(st, pr, elf=elf, input_bytes=inp, output=out)
    return st


# ---------------------------------------------------------------- completeness


def test_read_write_echo_proves_with_the_public_output() -> None:
    st = _proves(echo(), b"hello")
    assert st.output == b"hello" and st.exit_code == 5


def test_short_reads_and_eof_prove() -> None:
    st = _proves(reads(), b"abcdefgh")
    assert st.output[:8] == b"abcdefgh"


def test_bad_fds_and_stderr_prove_with_ebadf() -> None:
    st = _proves(bad_fds(), b"")
    assert st.exit_code == (-9 - 9 + 3) & 0xFFFFFFFF


def test_brk_grows_fails_and_maps_whole_pages() -> None:
    st = _proves(heap(), b"")
    assert st.exit_code == (100 + 2 * PAGE) ^ 0x1234ABCD


def test_empty_input_verifies_without_input_bytes() -> None:
    elf = echo()
    st, pr = prove(elf, b"")
    verify(st, pr, elf=elf)
    assert st.output == b""


def test_non_empty_input_needs_its_bytes_to_verify() -> None:
    elf = echo()
    st, pr = prove(elf, b"hi")
    with pytest.raises(ProofRejected, match="input") as info:
        verify(st, pr, elf=elf)
    assert info.value.claim == "statement"
    with pytest.raises(ProofRejected, match="input"):
        verify(st, pr, elf=elf, input_bytes=b"ho")


def test_matmul_guest_proves() -> None:
    """An example C guest end to end: read its input, compute, write stdout and the public output."""
    _proves(guest_elf("matmul").read_bytes(), b"3 5")


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("name, inp", [("sha256", b"abc"), ("sort", b"20 7")])
def test_example_guests_prove(name: str, inp: bytes) -> None:
    """bf is left out: its start-up (crt0 zeroing its static buffers, then reading them) takes ~360,000
    cycles whatever the program, 2^19 rows, beyond what this machine proves in memory."""
    st = _proves(guest_elf(name).read_bytes(), inp)
    if name == "sha256":
        assert st.output.hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# ---------------------------------------------------------------- refusals


def test_lowering_the_break_is_refused() -> None:
    body = _call(214, 0) + [encode("addi", 20, A0, imm=0), encode("addi", A0, 20, imm=64)] + li(A7, 214)
    body += [encode("ecall"), encode("addi", A0, 20, imm=0)] + li(A7, 214) + [encode("ecall")]
    with pytest.raises(Unprovable, match="lowering the break") as info:
        prove(make_elf(body + _exit_reg(0)))
    assert info.value.what == "syscall"


def test_an_uncovered_syscall_is_refused() -> None:
    with pytest.raises(Unprovable, match="outside provable mode") as info:
        prove(make_elf(syscall(0x5E1E, 0, 0, 0, 0) + _exit_reg(0)))  # an effect, with no handler
    assert info.value.what == "syscall"


# ---------------------------------------------------------------- cheating provers


def _rows(trace: Trace, **want: int) -> list[int]:
    mask = np.ones(1 << trace.log_rows, dtype=bool)
    for name, v in want.items():
        mask &= trace.columns[name] == v
    return [int(t) for t in np.nonzero(mask)[0]]


def _lying(elf: bytes, inp: bytes, lie: Callable[[int, str, int], int],
           forge: bool = False) -> tuple[str, list[str]]:
    """Prove with ``lie``; the claim the verifier rejects and what the reference checker finds."""
    trace = build_trace(elf, inp, _lie=lie)
    st = statement_of(trace, elf, inp)
    pr = prove_trace(trace, st, _forge=forge)
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=elf, input_bytes=inp)
    return info.value.claim, violations(trace, st)


def _at(row: int, what: str, change: Callable[[int], int]) -> Callable[[int, str, int], int]:
    return lambda t, w, v: change(v) if (t, w) == (row, what) else v


@pytest.mark.parametrize("forge", [False, True])
def test_a_lie_about_an_input_byte_is_rejected(forge: bool) -> None:
    honest = build_trace(echo(), b"hello")
    row = _rows(honest, f_lbu=1, f_virt=1, vo=1, ro=1)[1]  # the second input byte read
    claim, broken = _lying(echo(), b"hello", _at(row, "old", lambda v: v ^ 0x0100), forge)
    assert claim in ("ram memory check", "constraints", "trace sum-check") and broken


def test_a_lie_about_the_read_count_is_rejected() -> None:
    honest = build_trace(echo(), b"hello")
    row = _rows(honest, f_add=1, f_virt=1, rd=A0, rs1=NUM)[0]
    claim, broken = _lying(echo(), b"hello", _at(row, "value", lambda v: v + 1))
    assert claim == "constraints" and "constraint rd lo" in broken


def _edit(elf: bytes, inp: bytes, cheat: Callable[[Trace], None]) -> tuple[str, list[str]]:
    trace = build_trace(elf, inp)
    cheat(trace)
    st = statement_of(trace, elf, inp)
    pr = prove_trace(trace, st)
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=elf, input_bytes=inp)
    return info.value.claim, violations(trace, st)


def _claim(tr: Trace, output: bytes) -> None:
    """Make the trace claim ``output`` (the prover's public columns follow the claim)."""
    tr.output = output
    tr.image = memory_image(tr.program, b"hello", output, tr.image.heap_pages)


def test_a_claimed_output_the_run_did_not_write_is_rejected() -> None:
    def other_bytes(tr: Trace) -> None:
        _claim(tr, b"jello")
    claim, broken = _edit(echo(), b"hello", other_bytes)
    assert claim == "constraints" and "constraint public output (lo)" in broken

    def and_the_memory(tr: Trace) -> None:  # the final output words rewritten to match: memory checking fails
        _claim(tr, b"jello")
        j = tr.image.index[OUTPUT_BASE >> 2]
        tr.columns["fin_lo"][j] = int.from_bytes(b"je", "little")
    claim, broken = _edit(echo(), b"hello", and_the_memory)
    assert claim == "ram memory check" and broken == ["ram multisets"]


@pytest.mark.parametrize("output", [b"hello\0", b"hell"])
def test_a_claimed_output_of_another_length_is_rejected(output: bytes) -> None:
    """A trailing zero leaves every output word equal: only the final output cursor tells."""
    def cheat(tr: Trace) -> None:
        _claim(tr, output)
    trace = build_trace(echo(), b"hello")
    cheat(trace)
    st = statement_of(trace, echo(), b"hello")
    pr = prove_trace(trace, st)
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=echo(), input_bytes=b"hello")
    assert info.value.claim in ("public output", "constraints")


def test_a_proof_with_the_output_swapped_in_the_statement_is_rejected() -> None:
    elf = echo()
    st, pr = prove(elf, b"hello")
    other = dataclasses.replace(st, output=b"jello")
    with pytest.raises(ProofRejected) as info:
        verify(other, dataclasses.replace(pr, statement=other), elf=elf, input_bytes=b"hello")
    assert info.value.claim not in ("statement",)
    with pytest.raises(ProofRejected, match="output"):
        verify(st, pr, elf=elf, input_bytes=b"hello", output=b"jello")


@pytest.mark.parametrize("forge", [False, True])
def test_a_guest_reading_the_input_region_is_rejected(forge: bool) -> None:
    """The co-processor traps on the input region's address; a lying prover still cannot prove the load."""
    elf = make_elf(li(5, INPUT_BASE) + [encode("lw", 20, 5, imm=0)] + _exit_reg(20))
    claim, broken = _lying(elf, b"\x2a\0\0\0", lambda t, w, v: v, forge)
    assert claim in ("constraints", "trace sum-check")
    assert "constraint I/O regions are the routine's" in broken


def test_a_heap_access_above_the_break_is_rejected() -> None:
    """Heap words past the mapped pages are in the table, but the heap limit check refuses them."""
    body = _call(214, 0) + [encode("addi", 20, A0, imm=0)] + li(8, 2 * PAGE) + [encode("add", 9, 20, 8)]
    body += li(6, 7) + [encode("sw", 0, 9, 6, imm=0), encode("lw", 21, 9, imm=0)]
    elf = make_elf(body + _exit_reg(21), bytes(8))
    with pytest.raises(Unprovable):
        prove(elf)  # the co-processor traps
    claim, broken = _lying(elf, b"", lambda t, w, v: v)
    assert claim == "range lookup" and "range value" in broken


def test_a_lie_about_the_heap_limit_is_rejected() -> None:
    honest = build_trace(heap(), b"")
    row = _rows(honest, f_brk=1)[0]
    claim, broken = _lying(heap(), b"", _at(row, "v1", lambda v: v + 4096))
    assert claim in ("register memory check", "constraints") and broken


def test_sampled_mutations_of_the_syscall_rows() -> None:
    """Cells of the routine's rows and the heap columns changed one at a time: rejected iff invalid."""
    elf, inp = echo(), b"hello"
    base = build_trace(elf, inp)
    virt = _rows(base, f_virt=1, f_lbu=1) + _rows(base, f_virt=1, f_sb=1)
    rng = random.Random(11)
    names = ["vo", "hf", "hl", "nhl", "hgl", "hgh"]
    rejected = 0
    for name in names:
        row = rng.choice(virt)
        trace = build_trace(elf, inp)
        trace.columns[name][row] = (int(trace.columns[name][row]) + 1) % P
        st = statement_of(trace, elf, inp)
        pr = prove_trace(trace, st)
        broken = violations(trace, st)
        try:
            verify(st, pr, elf=elf, input_bytes=inp)
            accepted = True
        except ProofRejected:
            accepted = False
            rejected += 1
        assert accepted == (not broken), (name, row, broken)
    assert rejected == len(names)
    assert set(names) <= set(TRACE_COLUMNS)


def test_honest_syscall_traces_satisfy_the_reference_checker() -> None:
    for elf, inp in ((echo(), b"hello"), (reads(), b"abcdefgh"), (bad_fds(), b""), (heap(), b"")):
        trace = build_trace(elf, inp)
        assert violations(trace, statement_of(trace, elf, inp)) == []


def test_a_touched_heap_page_left_out_of_the_table_is_rejected() -> None:
    """The heap pages are the prover's list; leaving a touched one out leaves its access unmatched."""
    def drop_last_page(tr: Trace) -> None:
        tr.image = memory_image(tr.program, b"", b"", tr.image.heap_pages[:-1])
        tr.columns["fin_lo"][:] = 0  # the table's final side follows the smaller table
        tr.columns["fin_hi"][:] = 0
        tr.columns["fin_ts"][:] = 0
        for j, w in enumerate(tr.image.words.tolist()):
            tr.columns["fin_lo"][j] = int(tr.image.init[j]) & 0xFFFF
            tr.columns["fin_hi"][j] = int(tr.image.init[j]) >> 16
    claim, broken = _edit(heap(), b"", drop_last_page)
    assert claim == "ram memory check" and "ram multisets" in broken


def test_heap_pages_out_of_range_or_unordered_are_refused() -> None:
    elf = heap()
    st, pr = prove(elf)
    assert len(pr.heap_pages) >= 2
    for pages in (pr.heap_pages[::-1], (pr.heap_pages[0],) * 2, (0,), (1 << 19,)):
        with pytest.raises(ProofRejected) as info:
            verify(st, dataclasses.replace(pr, heap_pages=pages), elf=elf)
        assert info.value.claim == "memory"
    with pytest.raises(ProofRejected):  # an extra page: the transcript and the table differ
        verify(st, dataclasses.replace(pr, heap_pages=pr.heap_pages + (pr.heap_pages[-1] + 1,)), elf=elf)
    from stele.actors.zkvm import MalformedVmProof, decode_proof, encode_proof
    from stele.actors.prover._proof import decode_cbor
    from stele.protocol import encode as cbor

    obj = decode_cbor(encode_proof(pr), max_size=1 << 26)
    for bad in (list(pr.heap_pages)[::-1], [-1], ["x"], [1 << 20]):
        with pytest.raises(MalformedVmProof) as bad_info:
            decode_proof(cbor({**obj, "heap_pages": bad}))
        assert bad_info.value.field.startswith("heap_pages")


# ---------------------------------------------------------------- the exact cycle count


def test_the_exact_cycle_count_is_proven() -> None:
    elf, inp = echo(), b"hello"
    st, pr = prove(elf, inp)
    assert pr.cycles == Machine(load_elf(elf), input=inp).run(10 ** 6).cycles
    verify(st, pr, elf=elf, input_bytes=inp, cycles=pr.cycles)
    with pytest.raises(ProofRejected) as info:
        verify(st, pr, elf=elf, input_bytes=inp, cycles=pr.cycles + 1)
    assert info.value.claim == "cycles"
    with pytest.raises(ProofRejected):  # the count swapped in the proof object: the transcript differs
        verify(st, dataclasses.replace(pr, cycles=pr.cycles - 1), elf=elf, input_bytes=inp)


def test_a_prover_claiming_fewer_cycles_is_rejected() -> None:
    """A lie about the count alone fails the sum-check; hiding a guest row fails its constraint."""
    def fewer(tr: Trace) -> None:
        tr.cycles -= 1
    claim, broken = _edit(echo(), b"hello", fewer)
    assert claim == "trace sum-check" and broken == ["cycle count"]  # the witness is valid, the claimed sum false

    def and_a_row(tr: Trace) -> None:
        tr.cycles -= 1
        tr.columns["guest"][3] = 0
    claim, broken = _edit(echo(), b"hello", and_a_row)
    assert claim == "constraints" and "constraint guest row" in broken
