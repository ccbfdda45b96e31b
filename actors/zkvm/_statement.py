"""The public statement a zkVM proof is about, and its canonical, hardened CBOR form.

A statement names everything a verifier must fix before any challenge is
drawn: the ELF image (by digest), its entry point and memory layout (the
loadable segments), the input bytes (by digest), the public output bytes, the
exit code and the cycle count padded to ``2**log_cycles``.  :meth:`Statement.absorb`
feeds the canonical encoding into a Fiat--Shamir transcript, so every later
challenge depends on every field: a proof made for one statement draws
different challenges under any other.

The encoding is a CBOR array with a version tag, ``stele.vm-statement/1``.
The decoder is hardened like the protocol's: bounded size, exact types and
lengths, ranges checked, and the bytes must be the canonical re-encoding of
what they decode to (so one statement has exactly one encoding).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import cbor2

from stele.actors.coprocessor._elf import load_elf
from stele.actors.prover import Transcript

from ._errors import MalformedStatement, StatementMismatch

__all__ = ["STATEMENT_VERSION", "MAX_STATEMENT_BYTES", "MAX_OUTPUT_BYTES", "MAX_LOG_CYCLES", "SegmentLayout",
           "Statement", "digest", "statement_for", "run_statement", "encode_statement", "decode_statement"]

STATEMENT_VERSION = "stele.vm-statement/1"
MAX_OUTPUT_BYTES = 1 << 20
MAX_SEGMENTS = 64
MAX_LOG_CYCLES = 30
MAX_STATEMENT_BYTES = MAX_OUTPUT_BYTES + 64 * MAX_SEGMENTS + 256
_U32 = 0xFFFFFFFF
_FIELDS = ("version", "elf_digest", "entry", "segments", "input_digest", "output", "exit_code", "log_cycles")


def digest(data: bytes) -> bytes:
    """The 32-byte BLAKE2b digest used for the ELF image and the input."""
    return hashlib.blake2b(data, digest_size=32).digest()


@dataclass(frozen=True, slots=True)
class SegmentLayout:
    """One loadable segment of the memory layout: ``filesz`` bytes of image at ``vaddr``, zero-filled to ``memsz``."""

    vaddr: int
    filesz: int
    memsz: int
    executable: bool


@dataclass(frozen=True, slots=True)
class Statement:
    """The public statement of one execution (see the module docstring)."""

    elf_digest: bytes
    entry: int
    segments: tuple[SegmentLayout, ...]
    input_digest: bytes
    output: bytes
    exit_code: int
    log_cycles: int

    def __post_init__(self) -> None:
        _check(self)

    def absorb(self, transcript: Transcript) -> None:
        """Bind ``transcript`` to this statement; call it before drawing any challenge."""
        transcript.absorb_bytes("stele.vm.statement", encode_statement(self))

    def require_equal(self, expected: Statement) -> None:
        """Raise :class:`StatementMismatch` naming the first field where ``self`` differs from ``expected``."""
        for name in _FIELDS[1:]:
            if getattr(self, name) != getattr(expected, name):
                raise StatementMismatch(name)


def statement_for(elf: bytes, input_bytes: bytes, output: bytes, exit_code: int, cycles: int) -> Statement:
    """The statement of running ``elf`` on ``input_bytes`` for ``cycles`` cycles, ending with ``output``/``exit_code``.

    The cycle count is padded up to the next power of two (at least 1).
    Raises :class:`stele.actors.coprocessor.ElfError` for a bad ELF and
    :class:`MalformedStatement` for out-of-range values.
    """
    program = load_elf(elf)
    if not 0 <= cycles <= 1 << MAX_LOG_CYCLES:
        raise MalformedStatement("log_cycles", f"{cycles} cycles is outside 0..2^{MAX_LOG_CYCLES}")
    log_cycles = max(0, (cycles - 1).bit_length())
    layout = tuple(SegmentLayout(s.vaddr, len(s.data), s.memsz, s.executable) for s in program.segments)
    return Statement(digest(elf), program.entry, layout, digest(input_bytes), bytes(output), exit_code, log_cycles)


def _check(st: Statement) -> None:
    for name in ("elf_digest", "input_digest"):
        value = getattr(st, name)
        if not isinstance(value, bytes) or len(value) != 32:
            raise MalformedStatement(name, "must be 32 bytes")
    if not isinstance(st.output, bytes) or len(st.output) > MAX_OUTPUT_BYTES:
        raise MalformedStatement("output", f"must be bytes of at most {MAX_OUTPUT_BYTES}")
    for name, bound in (("entry", _U32), ("exit_code", _U32), ("log_cycles", MAX_LOG_CYCLES)):
        value = getattr(st, name)
        if type(value) is not int or not 0 <= value <= bound:
            raise MalformedStatement(name, f"must be an integer in 0..{bound}")
    if not isinstance(st.segments, tuple) or not 1 <= len(st.segments) <= MAX_SEGMENTS:
        raise MalformedStatement("segments", f"must be 1..{MAX_SEGMENTS} segments")
    for i, seg in enumerate(st.segments):
        if not isinstance(seg, SegmentLayout):
            raise MalformedStatement(f"segments[{i}]", "not a segment")
        for name in ("vaddr", "filesz", "memsz"):
            value = getattr(seg, name)
            if type(value) is not int or not 0 <= value <= _U32:
                raise MalformedStatement(f"segments[{i}].{name}", "must be a u32")
        if seg.filesz > seg.memsz or seg.vaddr + seg.memsz > _U32 + 1:
            raise MalformedStatement(f"segments[{i}]", "filesz > memsz or past the address space")
        if type(seg.executable) is not bool:
            raise MalformedStatement(f"segments[{i}].executable", "must be a bool")


def encode_statement(st: Statement) -> bytes:
    """The canonical CBOR encoding of ``st`` (an array led by the version tag)."""
    segs = [[s.vaddr, s.filesz, s.memsz, s.executable] for s in st.segments]
    body = [STATEMENT_VERSION, st.elf_digest, st.entry, segs, st.input_digest, st.output, st.exit_code,
            st.log_cycles]
    return cbor2.dumps(body, canonical=True)


def decode_statement(data: bytes) -> Statement:
    """Decode a statement, rejecting anything but a canonical, in-range ``stele.vm-statement/1``."""
    if not isinstance(data, bytes | bytearray) or len(data) > MAX_STATEMENT_BYTES:
        raise MalformedStatement("bytes", f"must be at most {MAX_STATEMENT_BYTES} bytes")
    try:
        body: Any = cbor2.loads(bytes(data))
    except Exception as exc:  # cbor2 raises several types on hostile input
        raise MalformedStatement("cbor", f"not valid CBOR ({type(exc).__name__})") from None
    if not isinstance(body, list) or len(body) != len(_FIELDS):
        raise MalformedStatement("array", f"must be an array of {len(_FIELDS)} fields")
    version, elf_digest, entry, segs, input_digest, output, exit_code, log_cycles = body
    if version != STATEMENT_VERSION:
        raise MalformedStatement("version", f"expected {STATEMENT_VERSION!r}")
    if not isinstance(segs, list) or not all(isinstance(s, list) and len(s) == 4 for s in segs):
        raise MalformedStatement("segments", "must be an array of [vaddr, filesz, memsz, executable]")
    layout = tuple(SegmentLayout(*s) for s in segs)
    st = Statement(elf_digest, entry, layout, input_digest, output, exit_code, log_cycles)
    if encode_statement(st) != bytes(data):
        raise MalformedStatement("bytes", "not the canonical encoding")
    return st


def run_statement(elf: bytes, input_bytes: bytes = b"", *, max_cycles: int = 1 << 24) -> Statement:
    """Run ``elf`` on ``input_bytes`` in the co-processor and return the statement of that run.

    The output is the guest's public output (its ``commit``-style output
    channel), the exit code is taken as an unsigned 32-bit value.  This is
    *re-execution*, not a proof: it is what a verifier without a proof
    would compute, and what a prover's statement must equal.  Raises the
    co-processor's typed errors (:class:`~stele.actors.coprocessor.ElfError`,
    :class:`~stele.actors.coprocessor.CycleLimitExceeded`, ...).
    """
    from stele.actors.coprocessor._machine import Machine

    result = Machine(load_elf(elf), input=input_bytes).run(max_cycles)
    return statement_for(elf, input_bytes, result.public_output, result.exit_code & _U32, result.cycles)
