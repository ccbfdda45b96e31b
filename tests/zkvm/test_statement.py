"""The zkVM statement: canonical encoding, hardened decoder, and transcript binding."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.coprocessor import ElfError
from stele.actors.prover import Transcript
from stele.actors.zkvm import (
    MalformedStatement,
    SegmentLayout,
    Statement,
    StatementMismatch,
    ZkvmError,
    decode_statement,
    digest,
    encode_statement,
    statement_for,
)

GUESTS = Path(__file__).resolve().parents[2] / "examples" / "guests" / "bin"
ELF = (GUESTS / "sort.elf").read_bytes()

_segments = st.lists(
    st.builds(SegmentLayout, st.integers(0, 1 << 20), st.integers(0, 100), st.integers(100, 1000), st.booleans()),
    min_size=1, max_size=4).map(tuple)
statements = st.builds(
    Statement, st.binary(min_size=32, max_size=32), st.integers(0, 0xFFFFFFFF), _segments,
    st.binary(min_size=32, max_size=32), st.binary(max_size=64), st.integers(0, 0xFFFFFFFF), st.integers(0, 30))


def _challenge(s: Statement) -> tuple[int, int, int, int]:
    t = Transcript("stele.vm-proof/1")
    s.absorb(t)
    return t.challenge_ext("alpha")


def test_statement_for_binds_the_elf_layout_and_pads_cycles() -> None:
    s = statement_for(ELF, b"input", b"out", 3, 1000)
    assert s.elf_digest == digest(ELF) and s.input_digest == digest(b"input")
    assert s.log_cycles == 10 and s.exit_code == 3 and s.output == b"out"
    assert s.segments and s.segments[0].vaddr <= s.entry
    assert statement_for(ELF, b"", b"", 0, 1024).log_cycles == 10
    assert statement_for(ELF, b"", b"", 0, 1025).log_cycles == 11
    assert statement_for(ELF, b"", b"", 0, 1).log_cycles == 0


def test_statement_for_rejects_bad_elf_and_bad_values() -> None:
    with pytest.raises(ElfError):
        statement_for(b"\x7fELF" + b"\x00" * 60, b"", b"", 0, 1)
    with pytest.raises(MalformedStatement):
        statement_for(ELF, b"", b"", -1, 1)
    with pytest.raises(MalformedStatement):
        statement_for(ELF, b"", b"", 0, (1 << 30) + 1)
    assert issubclass(MalformedStatement, ZkvmError)


@settings(max_examples=60, deadline=None)
@given(statements)
def test_encoding_round_trips_canonically(s: Statement) -> None:
    data = encode_statement(s)
    assert decode_statement(data) == s
    assert encode_statement(decode_statement(data)) == data


_CHANGES = {
    "elf_digest": digest(b"other elf"),
    "entry": 0x10004,
    "input_digest": digest(b"other input"),
    "output": b"out!",
    "exit_code": 1,
    "log_cycles": 11,
}


@pytest.mark.parametrize("field", [*_CHANGES, "segments"])
def test_every_field_changes_the_transcript_challenges(field: str) -> None:
    """A proof made for one statement draws other challenges under a statement that differs in one field."""
    base = statement_for(ELF, b"input", b"out", 0, 1000)
    if field == "segments":
        seg = base.segments[0]
        other = dataclasses.replace(base, segments=(dataclasses.replace(seg, memsz=seg.memsz + 4), *base.segments[1:]))
    else:
        other = dataclasses.replace(base, **{field: _CHANGES[field]})
    assert encode_statement(other) != encode_statement(base)
    assert _challenge(other) != _challenge(base)
    with pytest.raises(StatementMismatch) as info:
        other.require_equal(base)
    assert info.value.field == field
    base.require_equal(statement_for(ELF, b"input", b"out", 0, 1000))


def test_truncated_or_extended_encodings_are_rejected() -> None:
    data = encode_statement(statement_for(ELF, b"input", b"out", 0, 1000))
    for n in range(len(data)):
        with pytest.raises(MalformedStatement):
            decode_statement(data[:n])
    with pytest.raises(MalformedStatement):
        decode_statement(data + b"\x00")


def test_every_bit_flip_is_rejected_or_decodes_to_another_statement() -> None:
    base = statement_for(ELF, b"input", b"out", 0, 1000)
    data = encode_statement(base)
    for i in range(len(data)):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[i] ^= 1 << bit
            try:
                decoded = decode_statement(bytes(flipped))
            except MalformedStatement:
                continue
            assert decoded != base
            assert _challenge(decoded) != _challenge(base)


@pytest.mark.parametrize("body", [
    ["stele.vm-statement/2", b"\x00" * 32, 0, [[0, 0, 4, True]], b"\x00" * 32, b"", 0, 0],
    ["stele.vm-statement/1", b"\x00" * 31, 0, [[0, 0, 4, True]], b"\x00" * 32, b"", 0, 0],
    ["stele.vm-statement/1", b"\x00" * 32, -1, [[0, 0, 4, True]], b"\x00" * 32, b"", 0, 0],
    ["stele.vm-statement/1", b"\x00" * 32, 0, [], b"\x00" * 32, b"", 0, 0],
    ["stele.vm-statement/1", b"\x00" * 32, 0, [[0, 8, 4, True]], b"\x00" * 32, b"", 0, 0],
    ["stele.vm-statement/1", b"\x00" * 32, 0, [[0, 0, 4, 1]], b"\x00" * 32, b"", 0, 0],
    ["stele.vm-statement/1", b"\x00" * 32, 0, [[0, 0, 4, True]], b"\x00" * 32, "text", 0, 0],
    ["stele.vm-statement/1", b"\x00" * 32, 0, [[0, 0, 4, True]], b"\x00" * 32, b"", 1 << 32, 0],
    ["stele.vm-statement/1", b"\x00" * 32, 0, [[0, 0, 4, True]], b"\x00" * 32, b"", 0, 31],
    ["stele.vm-statement/1", b"\x00" * 32, True, [[0, 0, 4, True]], b"\x00" * 32, b"", 0, 0],
    ["stele.vm-statement/1", b"\x00" * 32, 0, [[0, 0, 4]], b"\x00" * 32, b"", 0, 0],
    {"version": "stele.vm-statement/1"},
])
def test_hostile_bodies_are_typed_errors(body: object) -> None:
    with pytest.raises(MalformedStatement):
        decode_statement(cbor2.dumps(body, canonical=True))


def test_non_canonical_and_garbage_are_rejected() -> None:
    s = statement_for(ELF, b"", b"", 0, 4)
    long_form = bytearray(encode_statement(s))
    long_form[0:1] = b"\x98\x08"  # array(8) with a one-byte length argument: valid CBOR, not canonical
    with pytest.raises(MalformedStatement):
        decode_statement(bytes(long_form))
    for garbage in (b"", b"\xff", b"\x9f" * 10000, b"\x00" * (2 << 20)):
        with pytest.raises(MalformedStatement):
            decode_statement(garbage)


@pytest.mark.parametrize("name", ["sort", "sha256"])
def test_run_statement_re_executes_the_guest(name: str) -> None:
    from stele.actors.coprocessor._guests import guest_input
    from stele.actors.zkvm import run_statement

    elf = (GUESTS / f"{name}.elf").read_bytes()
    s = run_statement(elf, guest_input(name, 64))
    assert s == run_statement(elf, guest_input(name, 64))
    assert s.input_digest == digest(guest_input(name, 64)) and s.output and s.exit_code == 0
    other = run_statement(elf, guest_input(name, 65))
    assert other.input_digest != s.input_digest and _challenge(other) != _challenge(s)
