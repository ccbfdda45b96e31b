"""The ``stele.vm-proof/3`` encoding: canonical CBOR, decoded strictly.

A proof is a map with exactly these keys::

    version        "stele.vm-proof/3" (proofs of the constraint system stele.vm-air/4)
    statement      bytes: the canonical stele.vm-statement/1 encoding
    roots          [trace, multiplicities, helpers]: three 32-byte Merkle roots
    final_regs     123 packed u32: (lo, hi, ts) for x0..x40 (x32..x40: the syscall routine's)
    helper_sums    packed extension elements, one per LogUp helper
    claims         packed [constraint_sum, shift_sum]
    rounds         packed n * (d + 1) extension elements (the trace sum-check)
    values         packed extension elements: every committed column at its point
    table_sums     packed [T_range, T_bytecode, T_limb, T_and, T_pow]
    table_sumcheck the table sum-check ([claimed, rounds, finals], 4-int lists)
    open_trace, open_helpers, open_mult    Ligero openings {w, u, columns, paths}

The decoder is hardened like the protocol's: a size bound, the strict
canonical CBOR decoder, exact key sets, exact lengths computed from the
statement (never from the proof), every field element canonical.  Anything
else is a :class:`~._errors.MalformedVmProof` naming the field.  The format
version changes whenever the constraint system (``_air.AIR_VERSION``) does:
``stele.vm-proof/1`` was ``stele.vm-air/2`` (no mulh/mulhsu/div/divu/rem/remu);
such a proof is refused with :class:`~._errors.OutdatedVmProof` (a
``MalformedVmProof`` whose field is ``"version"``) before anything else is read.
"""

from __future__ import annotations

import numpy as np

from stele.actors.prover import Commitment, MalformedProof, SumcheckProof
from stele.actors.prover._proof import _eval_proof_fields, _eval_proof_from, decode_cbor
from stele.actors.prover._wire import pack_base, pack_ext, read_base_vector, read_bytes, read_ext_vector
from stele.actors.prover._wire import read_list, read_map
from stele.protocol import encode

from ._air import HELPERS, TRACE_COLUMNS
from ._air import AIR_VERSION
from ._syscalls import NREGS
from ._errors import MalformedStatement, MalformedVmProof, OutdatedVmProof
from ._prove import HELPER_COLUMNS, KEEP, OUTDATED_PROTOCOLS, PROTOCOL, ROUND_DEGREE, VmProof, _params
from ._statement import decode_statement, encode_statement
from ._trace import MAX_LOG_ROWS, MIN_LOG_ROWS

__all__ = ["encode_proof", "decode_proof", "MAX_VM_PROOF_BYTES"]

MAX_VM_PROOF_BYTES = 64 * 1024 * 1024
_KEYS = frozenset({"version", "statement", "roots", "final_regs", "helper_sums", "claims", "rounds", "values",
                   "table_sums", "table_sumcheck", "open_trace", "open_helpers", "open_mult", "heap_pages", "cycles"})
#: at most this many heap pages (2^20 words of memory in all).
_MAX_HEAP_PAGES = 1 << 10


def _ext_list(values: object) -> bytes:
    return pack_ext(np.array(values, dtype=np.uint64).reshape(-1, 4))


def encode_proof(proof: VmProof) -> bytes:
    """The canonical CBOR bytes of ``proof``."""
    obj = {
        "version": PROTOCOL,
        "statement": encode_statement(proof.statement),
        "roots": [proof.root_trace, proof.root_mult, proof.root_helpers],
        "final_regs": pack_base(np.array(proof.final_regs, dtype=np.uint64).reshape(-1)),
        "helper_sums": _ext_list(proof.helper_sums),
        "claims": _ext_list([proof.constraint_sum, proof.shift_sum]),
        "rounds": _ext_list([e for rnd in proof.rounds for e in rnd]),
        "values": _ext_list(proof.values),
        "table_sums": _ext_list(proof.table_sums),
        "table_sumcheck": proof.table_sumcheck.to_obj(),
        "open_trace": _eval_proof_fields(proof.open_trace),
        "open_helpers": _eval_proof_fields(proof.open_helpers),
        "open_mult": _eval_proof_fields(proof.open_mult),
        "heap_pages": list(proof.heap_pages),
        "cycles": proof.cycles,
    }
    return encode(obj)


def _cycles(value: object, n: int) -> int:
    if type(value) is not int or not 0 < value < 1 << n:
        raise MalformedVmProof("cycles", f"expected a cycle count in 1..2^{n} - 1")
    return value


def _heap_pages(value: object) -> tuple[int, ...]:
    pages = read_list(value, 0, _MAX_HEAP_PAGES, "heap_pages")
    out: list[int] = []
    for i, p in enumerate(pages):
        if type(p) is not int or not 0 <= p < 1 << 20:
            raise MalformedVmProof(f"heap_pages[{i}]", "expected a page number below 2^20")
        if out and p <= out[-1]:
            raise MalformedVmProof(f"heap_pages[{i}]", "heap pages must be strictly increasing")
        out.append(p)
    return tuple(out)


def _tuples(arr: np.ndarray) -> list[tuple[int, int, int, int]]:
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in arr.tolist()]


def decode_proof(data: bytes) -> VmProof:
    """Parse :func:`encode_proof`'s output; :class:`MalformedVmProof` for anything else."""
    try:
        return _decode(data)
    except MalformedProof as exc:
        raise MalformedVmProof(exc.field, exc.detail) from None
    except MalformedStatement as exc:
        raise MalformedVmProof(f"statement.{exc.field}", exc.detail) from None


def _decode(data: bytes) -> VmProof:
    if not isinstance(data, (bytes, bytearray)):
        raise MalformedVmProof("data", f"expected bytes, got {type(data).__name__}")
    if len(data) > MAX_VM_PROOF_BYTES:
        raise MalformedVmProof("data", f"{len(data)} bytes exceed the limit {MAX_VM_PROOF_BYTES}")
    obj = decode_cbor(bytes(data), max_size=MAX_VM_PROOF_BYTES)
    version = obj.get("version") if isinstance(obj, dict) else None
    if isinstance(version, str) and version in OUTDATED_PROTOCOLS:
        raise OutdatedVmProof(version, OUTDATED_PROTOCOLS[version], PROTOCOL, AIR_VERSION)
    m = read_map(obj, _KEYS, "proof")
    if m["version"] != PROTOCOL:
        raise MalformedVmProof("version", f"expected {PROTOCOL!r}")
    st = decode_statement(read_bytes(m["statement"], None, "statement"))
    n = st.log_cycles
    if not MIN_LOG_ROWS <= n <= MAX_LOG_ROWS:
        raise MalformedVmProof("statement.log_cycles", f"{n} is outside {MIN_LOG_ROWS}..{MAX_LOG_ROWS}")
    roots = read_list(m["roots"], 3, 3, "roots")
    r1, rm, r2 = (read_bytes(r, 32, f"roots[{i}]") for i, r in enumerate(roots))
    regs = read_base_vector(m["final_regs"], 3 * NREGS, "final_regs").reshape(NREGS, 3).tolist()
    finals = tuple((int(a), int(b), int(c)) for a, b, c in regs)
    sums = _tuples(read_ext_vector(m["helper_sums"], len(HELPERS), "helper_sums"))
    claims = _tuples(read_ext_vector(m["claims"], 2, "claims"))
    flat = _tuples(read_ext_vector(m["rounds"], n * (ROUND_DEGREE + 1), "rounds"))
    rounds = tuple(tuple(flat[i * (ROUND_DEGREE + 1):(i + 1) * (ROUND_DEGREE + 1)]) for i in range(n))
    values = tuple(_tuples(read_ext_vector(m["values"], len(KEEP), "values")))
    tsums = _tuples(read_ext_vector(m["table_sums"], 5, "table_sums"))
    table_sc = SumcheckProof.from_obj(m["table_sumcheck"])
    p1, p2, pm = _params(n)
    c1 = Commitment(p1, r1, len(TRACE_COLUMNS))
    c2 = Commitment(p2, r2, len(HELPER_COLUMNS))
    cm = Commitment(pm, rm, 5)
    keys = frozenset({"w", "u", "columns", "paths"})
    openings = [_eval_proof_from(read_map(m[k], keys, k), c, k)
                for k, c in (("open_trace", c1), ("open_helpers", c2), ("open_mult", cm))]
    proof = VmProof(st, r1, rm, r2, finals, tuple(sums), claims[0], claims[1], rounds, values,
                    (tsums[0], tsums[1], tsums[2], tsums[3], tsums[4]), table_sc, openings[0], openings[1], openings[2],
                    _heap_pages(m["heap_pages"]), _cycles(m["cycles"], n))
    if encode_proof(proof) != bytes(data):
        raise MalformedVmProof("bytes", "not the canonical encoding")
    return proof
