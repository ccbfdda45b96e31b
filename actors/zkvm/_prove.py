"""Prove and verify a co-processor execution: the protocol driver.

Transcript schedule (prover and verifier, in this order)::

    statement.absorb(T); absorb AIR version and n
    absorb root of C1 (the trace columns, one batched Ligero commitment)
    absorb root of CM (range and bytecode multiplicities, 2 x 2^16)
    absorb the final register file (32 x (lo, hi, ts))
    alpha, gamma                            LogUp / fingerprint challenges
    absorb root of C2 (the LogUp helper columns, 4 base columns each)
    absorb the helper sums S_k
    e (n values), beta, mu                  zero-check point, constraint and shift batching
    absorb constraint_sum, shift_sum        (both must be 0)
    rho                                     claim batching
    batched trace sum-check (``_batched``)  -> point r
    absorb the table sums T_range, T_bytecode
    rho2; table sum-check over 2^16         -> point r2
    openings of C1 and C2 at r, of CM at r2

Every challenge is drawn from the quartic extension (about 2^124).  The
verifier takes nothing structural from the proof: the number of rows is the
statement's ``log_cycles``, the commitment parameters are recomputed from it,
the bytecode table from the ELF, the initial registers from the ELF's layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stele.actors.coprocessor._elf import load_elf
from stele.actors.prover import (
    EXT_ZERO,
    P,
    CommitParams,
    Commitment,
    Composition,
    Ext,
    MalformedProof,
    SumcheckProof,
    Transcript,
    VerificationFailed,
    choose_params,
    commit_table,
    eq_table,
    evaluate,
    ext_add,
    ext_inv,
    ext_mul,
    ext_sub,
    prove_evaluations,
    prove_sumcheck,
    verify_evaluations,
    verify_sumcheck,
)
from stele.actors.prover._commit import EvalProof, statement_header
from stele.actors.prover._field import U64, vext_inv, vext_mul, vext_sum

from ._air import AIR_VERSION, HELPERS, LIMB_HELPERS, RANGE_HELPERS, SHIFTS, TRACE_COLUMNS, constraints
from ._air import fingerprint_powers, fractions
from ._air import helper_columns, helper_poly
from ._batched import prove_batched, verify_batched
from ._bytecode import FIELDS, LOG_TABLE, Bytecode, build_table
from ._errors import ProofRejected
from ._expr import Expr, Poly, col
from ._statement import Statement, SegmentLayout, digest
from ._memory import MemoryImage, memory_image
from ._syscalls import NREGS, OUTCUR, OUTPUT_BASE
from ._trace import DEFAULT_MAX_CYCLES, MAX_LOG_ROWS, MIN_LOG_ROWS, Trace, build_trace, initial_registers

__all__ = ["VmProof", "prove", "prove_run", "prove_trace", "verify", "HELPER_COLUMNS", "PROTOCOL", "ROUND_DEGREE", "KEEP",
           "OUTDATED_PROTOCOLS"]

PROTOCOL = "stele.vm-proof/3"
#: earlier proof formats and the constraint system each was made for (decoded only to say so, see _wire).
OUTDATED_PROTOCOLS: dict[str, str] = {"stele.vm-proof/1": "stele.vm-air/2", "stele.vm-proof/2": "stele.vm-air/3"}
HELPER_COLUMNS: tuple[str, ...] = tuple(c for h in HELPERS for c in helper_columns(h))
KEEP: tuple[str, ...] = TRACE_COLUMNS + HELPER_COLUMNS
_P64 = np.uint64(P)
#: evaluations per trace sum-check round minus one: eq(e, x) times degree-3 constraints.
ROUND_DEGREE = 4
_TABLE_COMP = Composition(((1, (0, 1)), (1, (2, 3)), (1, (4, 5)), (1, (6, 7)), (1, (8, 9))))
_MULTS = 5


@dataclass(frozen=True, slots=True)
class VmProof:
    """A proof of one execution; ``statement`` says of what (see the module docstring for the rest)."""

    statement: Statement
    root_trace: bytes
    root_mult: bytes
    root_helpers: bytes
    final_regs: tuple[tuple[int, int, int], ...]
    helper_sums: tuple[Ext, ...]
    constraint_sum: Ext
    shift_sum: Ext
    rounds: tuple[tuple[Ext, ...], ...]
    values: tuple[Ext, ...]
    table_sums: tuple[Ext, Ext, Ext, Ext, Ext]
    table_sumcheck: SumcheckProof
    open_trace: EvalProof
    open_helpers: EvalProof
    open_mult: EvalProof
    #: the heap pages in the RAM table (the prover's choice, absorbed before any challenge; see ``_memory``).
    heap_pages: tuple[int, ...] = ()
    #: the exact cycle count (guest instructions run, the exit's ecall included): proven, as the sum of
    #: the ``guest`` column inside the batched trace sum-check.
    cycles: int = 0


def _params(n: int) -> tuple[CommitParams, CommitParams, CommitParams]:
    """Commitment parameters of the trace, helper and multiplicity batches (>= 100 bits each)."""
    return (choose_params(n, num_polys=len(TRACE_COLUMNS)), choose_params(n, num_polys=len(HELPER_COLUMNS)),
            choose_params(LOG_TABLE, num_polys=_MULTS))


def _powers(x: Ext, count: int) -> list[Ext]:
    return fingerprint_powers(x, count)


def _batch(entry: int, exit_code: int, heap_limit0: int, alpha: Ext, gamma: Ext, beta: Ext,
           mu: Ext) -> tuple[Expr, Poly, Poly]:
    """(Zc, Lnext, Lcur): the batched constraints and the two sides of the shift."""
    cons = [p for _, p in constraints(entry, exit_code, heap_limit0)]
    fracs = fractions(alpha, gamma)
    powers = _powers(beta, len(cons) + len(fracs))
    merged = Poly()
    for bj, c in zip(powers, cons):
        merged = merged + c * bj
    zc = Expr.of(merged)
    for bj, fr in zip(powers[len(cons):], fracs):
        zc = zc + Expr([(bj, (helper_poly(fr.name),) + fr.den), (ext_sub(EXT_ZERO, bj), (fr.num,))])
    lnext, lcur = Poly(), Poly()
    for mi, (nxt, cur) in zip(_powers(mu, len(SHIFTS)), SHIFTS):
        lnext = lnext + col(nxt) * mi
        lcur = lcur + col(cur) * mi
    return zc, lnext, lcur


def _helper_weights(rho: Ext) -> tuple[Poly, list[Ext]]:
    """H = sum_k rho^(k+2) helper_k + rho^(K+2) guest, and those weights (the last one the cycle count's).

    ``guest`` is 1 on the rows of guest instructions (not the syscall
    routine's), so its sum is the run's exact cycle count.
    """
    w = _powers(rho, len(HELPERS) + 3)[2:]
    h = Poly()
    for wk, name in zip(w, HELPERS):
        h = h + helper_poly(name) * wk
    h = h + col("guest") * w[-1]
    return h, w


def _public_tables(n: int, image: MemoryImage) -> dict[str, U64]:
    size = 1 << n
    first = np.zeros(size, dtype=np.uint64)
    first[0] = 1
    last = np.zeros(size, dtype=np.uint64)
    last[-1] = 1
    out = {"idx": np.arange(size, dtype=np.uint64), "is_first": first, "is_last": last}
    out.update(image.public_tables(n))
    return out


def _bytecode_inverses(table: Bytecode, alpha: Ext, gamma: Ext, scale: Ext) -> U64:
    """``scale / (alpha - fp_b)`` for every real table row, 0 on the padding (an (2^16, 4) table)."""
    out = np.zeros((1 << LOG_TABLE, 4), dtype=np.uint64)
    if table.size == 0:
        return out
    g = np.array(fingerprint_powers(gamma, max(len(FIELDS), 4))[: len(FIELDS)], dtype=np.uint64)  # (F, 4)
    rows = (table.rows % P).astype(np.uint64)  # (R, F), limbs and flags < 2^16
    fp = np.zeros((table.size, 4), dtype=np.uint64)
    for i in range(len(FIELDS)):
        fp = (fp + rows[:, i:i + 1] * g[i][None, :]) % _P64
    den = (np.array(alpha, dtype=np.uint64)[None, :] + _P64 - fp) % _P64
    inv = vext_inv(den)
    out[: table.size] = (inv * np.uint64(1)) % _P64 if scale == (1, 0, 0, 0) else _scale(inv, scale)
    return out


def _scale(tab: U64, s: Ext) -> U64:
    return vext_mul(tab, np.broadcast_to(np.array(s, dtype=np.uint64), tab.shape).copy())


def _range_inverses(alpha: Ext) -> U64:
    v = np.arange(1 << 16, dtype=np.uint64)
    den = np.zeros((1 << 16, 4), dtype=np.uint64)
    den[:] = np.array(alpha, dtype=np.uint64)
    den[:, 0] = (den[:, 0] + _P64 - v) % _P64
    return vext_inv(den)


def _limb_inverses(alpha: Ext, gamma: Ext) -> U64:
    """``1 / (alpha - fp(v, v & 255, v >> 8, bit 7, bit 15))`` for every 16-bit ``v``: the limb table."""
    v = np.arange(1 << 16, dtype=np.uint64)
    g = fingerprint_powers(gamma, 5)
    den = np.zeros((1 << 16, 4), dtype=np.uint64)
    den[:] = np.array(alpha, dtype=np.uint64)
    fp = np.zeros((1 << 16, 4), dtype=np.uint64)
    fp[:, 0] = v
    for gi, part in zip(g[1:], (v & np.uint64(255), v >> np.uint64(8), (v >> np.uint64(7)) & np.uint64(1),
                                v >> np.uint64(15))):
        fp = (fp + part[:, None] * np.array(gi, dtype=np.uint64)[None, :]) % _P64
    return vext_inv((den + _P64 - fp) % _P64)


def _and_inverses(alpha: Ext, gamma: Ext) -> U64:
    """``1 / (alpha - fp(x, y, x & y))`` for row ``x + 256 y``: the AND table over byte pairs."""
    i = np.arange(1 << 16, dtype=np.uint64)
    x: U64 = i & np.uint64(255)
    y: U64 = i >> np.uint64(8)
    g = fingerprint_powers(gamma, 3)
    fp = np.zeros((1 << 16, 4), dtype=np.uint64)
    fp[:, 0] = x
    parts: tuple[U64, U64] = (y, x & y)
    for gi, part in zip(g[1:], parts):
        fp = (fp + part[:, None] * np.array(gi, dtype=np.uint64)[None, :]) % _P64
    den = np.zeros((1 << 16, 4), dtype=np.uint64)
    den[:] = np.array(alpha, dtype=np.uint64)
    return vext_inv((den + _P64 - fp) % _P64)


def pow_table() -> list[list[int]]:
    """The 256 pow-table rows: ``y``, the bytes of 2^s and 2^(32-s), the sra mask's limbs (s = y & 31)."""
    rows = []
    for y in range(256):
        sh = y & 31
        p, q = 1 << sh, 1 << (32 - sh)
        mk = (0xFFFFFFFF << (32 - sh)) & 0xFFFFFFFF if sh else 0
        rows.append([y] + [(p >> 8 * j) & 0xFF for j in range(4)] + [(q >> 8 * j) & 0xFF for j in range(5)]
                    + [mk & 0xFFFF, mk >> 16])
    return rows


def _pow_inverses(alpha: Ext, gamma: Ext, scale: Ext) -> U64:
    """``scale / (alpha - fp(row))`` for the 256 pow-table rows, 0 on the rest of the 2^16 domain."""
    rows = np.array(pow_table(), dtype=np.uint64)  # (256, 12), every field < 2^16
    g = np.array(fingerprint_powers(gamma, rows.shape[1]), dtype=np.uint64)
    fp = np.zeros((rows.shape[0], 4), dtype=np.uint64)
    for i in range(rows.shape[1]):
        fp = (fp + rows[:, i:i + 1] * g[i][None, :]) % _P64
    den = (np.array(alpha, dtype=np.uint64)[None, :] + _P64 - fp) % _P64
    out = np.zeros((1 << LOG_TABLE, 4), dtype=np.uint64)
    out[: rows.shape[0]] = _scale(vext_inv(den), scale)
    return out


def _register_side(alpha: Ext, gamma: Ext, init: list[int], finals: tuple[tuple[int, int, int], ...]) -> Ext:
    """sum_r 1/(alpha - F_r) - 1/(alpha - I_r): what the register helpers must sum to."""
    g = fingerprint_powers(gamma, 4)
    acc = EXT_ZERO

    def fp(r: int, lo: int, hi: int, ts: int) -> Ext:
        out: Ext = (r, 0, 0, 0)
        for gi, v in zip(g[1:], (lo, hi, ts)):
            out = ext_add(out, ext_mul(gi, (v % P, 0, 0, 0)))
        return out

    for r in range(NREGS):
        lo, hi, ts = finals[r]
        acc = ext_add(acc, ext_inv(ext_sub(alpha, fp(r, lo, hi, ts))))
        acc = ext_sub(acc, ext_inv(ext_sub(alpha, fp(r, init[r] & 0xFFFF, init[r] >> 16, 0))))
    return acc


def _head(t: Transcript, st: Statement, heap_pages: tuple[int, ...], cycles: int) -> None:
    st.absorb(t)
    t.absorb_bytes("vm.air", AIR_VERSION.encode() + bytes([st.log_cycles]))
    t.absorb_bytes("vm.heap_pages", b"".join(p.to_bytes(4, "little") for p in heap_pages)
                   + len(heap_pages).to_bytes(4, "little"))
    t.absorb_bytes("vm.cycles", cycles.to_bytes(8, "little"))


def _root(t: Transcript, label: str, c: Commitment) -> None:
    t.absorb_bytes(label, statement_header(c))


def _absorb_finals(t: Transcript, finals: tuple[tuple[int, int, int], ...]) -> None:
    t.absorb_base("vm.final_regs", np.array([v for f in finals for v in f], dtype=np.uint64) % _P64)


def statement_of(trace: Trace, elf: bytes, input_bytes: bytes) -> Statement:
    """The statement a trace proves: its ELF, input, public output (fd 3), exit code and padded rows."""
    prog = trace.program
    layout = tuple(SegmentLayout(s.vaddr, len(s.data), s.memsz, s.executable) for s in prog.segments)
    return Statement(digest(elf), prog.entry, layout, digest(input_bytes), trace.output,
                     trace.exit_code & 0xFFFFFFFF, trace.log_rows)


def prove(elf: bytes, input_bytes: bytes = b"", *, max_cycles: int = DEFAULT_MAX_CYCLES,
          _cheat: Callable[[Trace], None] | None = None, _forge: bool = False,
          _lie: Callable[[int, str, int], int] | None = None) -> tuple[Statement, VmProof]:
    """Run ``elf`` on ``input_bytes`` in provable mode and prove the run: ``(statement, proof)``.

    Raises :class:`~._errors.Unprovable` if the run uses anything provable mode
    does not cover.  ``_cheat`` and ``_forge`` exist for the soundness tests
    only: ``_lie`` makes the trace builder lie consistently (see
    :func:`~._trace.build_trace`), ``_cheat`` edits the finished trace (a
    lying witness cell, multiplicity, final register or exit code) before
    anything is committed, ``_forge`` makes the prover claim the constraint and
    shift sums are zero whatever they are.
    """
    st, proof, _ = prove_run(elf, input_bytes, max_cycles=max_cycles, _cheat=_cheat, _forge=_forge, _lie=_lie)
    return st, proof


def prove_run(elf: bytes, input_bytes: bytes = b"", *, max_cycles: int = DEFAULT_MAX_CYCLES,
              _cheat: Callable[[Trace], None] | None = None, _forge: bool = False,
              _lie: Callable[[int, str, int], int] | None = None) -> tuple[Statement, VmProof, int]:
    """:func:`prove`, also returning the run's exact cycle count (the statement has it padded)."""
    trace = build_trace(elf, input_bytes, max_cycles=max_cycles, _lie=_lie)
    if _cheat is not None:
        _cheat(trace)
    st = statement_of(trace, elf, input_bytes)
    return st, prove_trace(trace, st, _forge=_forge), trace.cycles


def prove_trace(trace: Trace, st: Statement, *, _forge: bool = False) -> VmProof:
    """Prove ``trace`` under statement ``st`` (the prover half of the module docstring's schedule)."""
    n = trace.log_rows
    size = 1 << n
    p1, p2, pm = _params(n)
    t = Transcript(PROTOCOL)
    _head(t, st, trace.image.heap_pages, trace.cycles)
    cols: dict[str, U64] = dict(trace.columns)
    cols.update(_public_tables(n, trace.image))
    c1 = commit_table(np.stack([cols[c] for c in TRACE_COLUMNS]), p1)
    _root(t, "vm.trace", c1.commitment)
    cm = commit_table(np.stack([trace.range_mult % _P64, trace.bytecode_mult % _P64, trace.limb_mult % _P64,
                                 trace.and_mult % _P64, trace.pow_mult % _P64]), pm)
    _root(t, "vm.mult", cm.commitment)
    finals = tuple(trace.final_regs)
    _absorb_finals(t, finals)
    alpha, gamma = t.challenge_ext("vm.alpha"), t.challenge_ext("vm.gamma")
    helpers: dict[str, U64] = {}
    for fr in fractions(alpha, gamma):
        num = fr.num.eval_vec(cols, size)
        den = fr.den[0].eval_vec(cols, size)
        for factor in fr.den[1:]:
            den = vext_mul(den, factor.eval_vec(cols, size))
        helpers[fr.name] = vext_mul(num, vext_inv(den))
        for i, name in enumerate(helper_columns(fr.name)):
            cols[name] = np.ascontiguousarray(helpers[fr.name][:, i])
    c2 = commit_table(np.stack([cols[c] for c in HELPER_COLUMNS]), p2)
    _root(t, "vm.helpers", c2.commitment)
    sums = tuple(vext_sum(helpers[h]) for h in HELPERS)
    t.absorb_ext("vm.helper_sums", list(sums))
    e = t.challenge_exts("vm.e", n)
    beta, mu = t.challenge_ext("vm.beta"), t.challenge_ext("vm.mu")
    zc, lnext, lcur = _batch(st.entry, st.exit_code, trace.image.heap_limit0, alpha, gamma, beta, mu)
    eqt = eq_table(e)
    wt = np.roll(eqt, 1, axis=0)
    next_tab, cur_tab = lnext.eval_vec(cols, size), lcur.eval_vec(cols, size)
    constraint_sum = vext_sum(vext_mul(eqt, zc.eval_vec(cols, size)))
    shift_sum = ext_sub(vext_sum(vext_mul(eqt, next_tab)), vext_sum(vext_mul(wt, cur_tab)))
    if _forge:
        constraint_sum = shift_sum = EXT_ZERO
    t.absorb_ext("vm.claims", [constraint_sum, shift_sum])
    rho = t.challenge_ext("vm.rho")
    z = zc + Expr.of(lnext * rho)
    y_tab = _scale(cur_tab, ext_sub(EXT_ZERO, rho))
    hpoly, _ = _helper_weights(rho)
    h_tab = hpoly.eval_vec(cols, size)
    rounds, point, fin = prove_batched(cols, z, eqt, wt, y_tab, h_tab, KEEP, t, n)
    range_inv = _range_inverses(alpha)
    t_range = vext_sum(_scale_base(range_inv, trace.range_mult))
    bc_inv = _bytecode_inverses(trace.table, alpha, gamma, (1, 0, 0, 0))
    t_bc = vext_sum(_scale_base(bc_inv, trace.bytecode_mult))
    limb_inv = _limb_inverses(alpha, gamma)
    t_limb = vext_sum(_scale_base(limb_inv, trace.limb_mult))
    and_inv = _and_inverses(alpha, gamma)
    t_and = vext_sum(_scale_base(and_inv, trace.and_mult))
    pow_inv = _pow_inverses(alpha, gamma, (1, 0, 0, 0))
    t_pow = vext_sum(_scale_base(pow_inv, trace.pow_mult))
    t.absorb_ext("vm.table_sums", [t_range, t_bc, t_limb, t_and, t_pow])
    rho2 = t.challenge_ext("vm.rho2")
    r2sq = ext_mul(rho2, rho2)
    r2_4 = ext_mul(r2sq, r2sq)
    tables = [trace.range_mult % _P64, range_inv, trace.bytecode_mult % _P64, _scale(bc_inv, rho2),
              trace.limb_mult % _P64, _scale(limb_inv, r2sq), trace.and_mult % _P64,
              _scale(and_inv, ext_mul(r2sq, rho2)), trace.pow_mult % _P64, _scale(pow_inv, r2_4)]
    shadow = t.copy()
    table_proof = prove_sumcheck(tables, _TABLE_COMP, t)
    r2 = list(verify_sumcheck(table_proof, _TABLE_COMP, LOG_TABLE, shadow).point)
    pt = np.array(point, dtype=np.uint64).reshape(-1, 4)
    _, open_trace = prove_evaluations(c1, pt, t)
    _, open_helpers = prove_evaluations(c2, pt, t)
    _, open_mult = prove_evaluations(cm, np.array(r2, dtype=np.uint64).reshape(-1, 4), t)
    return VmProof(st, c1.commitment.root, cm.commitment.root, c2.commitment.root, finals, sums, constraint_sum,
                   shift_sum, tuple(rounds), tuple(fin[k] for k in KEEP), (t_range, t_bc, t_limb, t_and, t_pow), table_proof,
                   open_trace, open_helpers, open_mult, trace.image.heap_pages, trace.cycles)


def _scale_ext(a: Ext, b: Ext) -> Ext:
    return ext_mul(a, b)


def _scale_base(tab: U64, s: U64) -> U64:
    return (tab * (np.asarray(s, dtype=np.uint64) % _P64)[:, None]) % _P64


def _reject(claim: str, detail: str) -> ProofRejected:
    return ProofRejected(claim, detail)


def verify(statement: Statement, proof: VmProof, *, elf: bytes, input_bytes: bytes | None = None,
           output: bytes | None = None, cycles: int | None = None) -> None:
    """Accept ``proof`` as a proof of ``statement`` about ``elf``, or raise :class:`ProofRejected`.

    ``statement`` is what the caller expects; the proof must be about exactly
    it.  The input is part of provable mode's initial memory, so the verifier
    needs ``input_bytes`` unless the input is empty (``None`` means empty);
    they must match the statement's digest.  With ``output`` the statement's
    public output must match it; with ``cycles``, the proven exact cycle
    count (``proof.cycles``) must be it.  The failing claim is named in the error.
    """
    if not isinstance(proof, VmProof):
        raise _reject("proof", f"expected a VmProof, got {type(proof).__name__}")
    if proof.statement != statement:
        try:
            proof.statement.require_equal(statement)
        except Exception as exc:  # StatementMismatch names the field
            raise _reject("statement", str(exc)) from None
    st = statement
    if digest(elf) != st.elf_digest:
        raise _reject("statement", "the ELF's digest is not the statement's")
    if input_bytes is None and st.input_digest != digest(b""):
        raise _reject("statement", "the statement's input is not empty: pass its bytes (the verifier rebuilds "
                      "the initial memory, which holds the input)")
    input_bytes = b"" if input_bytes is None else input_bytes
    if digest(input_bytes) != st.input_digest:
        raise _reject("statement", "the input's digest is not the statement's")
    if output is not None and output != st.output:
        raise _reject("statement", "the public output is not the statement's")
    if cycles is not None and cycles != proof.cycles:
        raise _reject("cycles", f"the proof is of {proof.cycles} cycles, not {cycles}")
    n = st.log_cycles
    if not MIN_LOG_ROWS <= n <= MAX_LOG_ROWS:
        raise _reject("statement", f"log_cycles {n} is outside {MIN_LOG_ROWS}..{MAX_LOG_ROWS}")
    try:
        program = load_elf(elf)
        table = build_table(program)
    except Exception as exc:  # ElfError / Unprovable: the ELF itself is unusable
        raise _reject("elf", str(exc)) from None
    layout = tuple(SegmentLayout(s.vaddr, len(s.data), s.memsz, s.executable) for s in program.segments)
    if program.entry != st.entry or layout != st.segments:
        raise _reject("statement", "entry point or memory layout differs from the ELF's")
    try:
        image = memory_image(program, input_bytes, st.output, tuple(proof.heap_pages))
    except Exception as exc:  # Unprovable: segments, input and heap pages too large, or pages out of range
        raise _reject("memory", str(exc)) from None
    if image.log_size > n:
        raise _reject("statement", f"log_cycles {n} is below the RAM table's 2^{image.log_size} words")
    try:
        _verify(st, proof, table, initial_registers(program, len(input_bytes)), image)
    except (VerificationFailed, MalformedProof) as exc:
        raise _reject("opening", str(exc)) from None


def _verify(st: Statement, pr: VmProof, table: Bytecode, init: list[int], image: MemoryImage) -> None:
    n = st.log_cycles
    p1, p2, pm = _params(n)
    c1 = Commitment(p1, pr.root_trace, len(TRACE_COLUMNS))
    cm = Commitment(pm, pr.root_mult, _MULTS)
    c2 = Commitment(p2, pr.root_helpers, len(HELPER_COLUMNS))
    t = Transcript(PROTOCOL)
    _head(t, st, image.heap_pages, pr.cycles)
    _root(t, "vm.trace", c1)
    _root(t, "vm.mult", cm)
    if len(pr.final_regs) != NREGS:
        raise _reject("register memory check", f"the final register file must have {NREGS} entries")
    out_end = OUTPUT_BASE + len(st.output)
    if pr.final_regs[OUTCUR][:2] != (out_end & 0xFFFF, out_end >> 16):
        raise _reject("public output", "the run wrote another number of bytes to the public output than the "
                      "statement claims")
    _absorb_finals(t, pr.final_regs)
    alpha, gamma = t.challenge_ext("vm.alpha"), t.challenge_ext("vm.gamma")
    _root(t, "vm.helpers", c2)
    if len(pr.helper_sums) != len(HELPERS):
        raise _reject("lookup sums", f"expected {len(HELPERS)} helper sums")
    t.absorb_ext("vm.helper_sums", list(pr.helper_sums))
    e = t.challenge_exts("vm.e", n)
    beta, mu = t.challenge_ext("vm.beta"), t.challenge_ext("vm.mu")
    t.absorb_ext("vm.claims", [pr.constraint_sum, pr.shift_sum])
    if pr.constraint_sum != EXT_ZERO:
        raise _reject("constraints", "the batched constraint zero-check sum is not zero")
    if pr.shift_sum != EXT_ZERO:
        raise _reject("pc continuity", "the shift sum (next row = row + 1) is not zero")
    rho = t.challenge_ext("vm.rho")
    zc, lnext, lcur = _batch(st.entry, st.exit_code, image.heap_limit0, alpha, gamma, beta, mu)
    z = zc + Expr.of(lnext * rho)
    y = lcur * ext_sub(EXT_ZERO, rho)
    hpoly, weights = _helper_weights(rho)
    if not 0 < pr.cycles < 1 << n:
        raise _reject("cycles", f"{pr.cycles} cycles do not fit 2^{n} rows")
    claimed = ext_mul(weights[-1], (pr.cycles, 0, 0, 0))
    for wk, sk in zip(weights, pr.helper_sums):
        claimed = ext_add(claimed, ext_mul(wk, sk))
    if len(pr.values) != len(KEEP):
        raise _reject("trace sum-check", f"expected {len(KEEP)} final values")
    finals = dict(zip(KEEP, pr.values))
    point = verify_batched(pr.rounds, finals, claimed, z, y, hpoly, e, KEEP, t, n, image.public_eval)
    reg_side = _register_side(alpha, gamma, init, pr.final_regs)
    s = dict(zip(HELPERS, pr.helper_sums))
    if ext_add(ext_add(s["h_r1"], s["h_r2"]), s["h_r3"]) != reg_side:
        raise _reject("register memory check", "reads + final state != initial state + writes")
    if s["h_m"] != s["h_t"]:
        raise _reject("ram memory check", "initial memory + writes != reads + final memory")
    t_range, t_bc, t_limb, t_and, t_pow = pr.table_sums
    range_sum = EXT_ZERO
    for name in RANGE_HELPERS:
        range_sum = ext_add(range_sum, s[name])
    if range_sum != t_range:
        raise _reject("range lookup", "the trace's range lookups do not match the table's multiplicities")
    if s["h_bc"] != t_bc:
        raise _reject("bytecode lookup", "the trace's (pc, instruction) rows do not match the ELF's text")
    limb_sum = EXT_ZERO
    for name in LIMB_HELPERS:
        limb_sum = ext_add(limb_sum, s[name])
    if limb_sum != t_limb:
        raise _reject("limb lookup", "the trace's byte decompositions do not match the limb table's multiplicities")
    if ext_add(s["h_a0"], s["h_a1"]) != t_and:
        raise _reject("and lookup", "the trace's operand bytes and ANDs do not match the AND table's multiplicities")
    if s["h_p"] != t_pow:
        raise _reject("pow lookup", "the trace's shift constants do not match the pow table's multiplicities")
    t.absorb_ext("vm.table_sums", [t_range, t_bc, t_limb, t_and, t_pow])
    rho2 = t.challenge_ext("vm.rho2")
    r2sq = ext_mul(rho2, rho2)
    r2_4 = ext_mul(r2sq, r2sq)
    try:
        res = verify_sumcheck(pr.table_sumcheck, _TABLE_COMP, LOG_TABLE, t)
    except (VerificationFailed, MalformedProof) as exc:
        raise _reject("lookup multiplicities", str(exc)) from None
    want = ext_add(ext_add(t_range, ext_mul(rho2, t_bc)), ext_add(ext_mul(r2sq, t_limb),
                                                                   ext_mul(ext_mul(r2sq, rho2), t_and)))
    want = ext_add(want, ext_mul(r2_4, t_pow))
    if res.claimed_sum != want:
        raise _reject("lookup multiplicities", "the table sum-check proves another sum")
    r2 = list(res.point)
    m_r, c_r, m_bc, c_bc, m_l, c_l, m_a, c_a, m_p, c_p = res.final_evals
    if c_r != evaluate(_range_inverses(alpha), r2):
        raise _reject("range lookup", "the range table's inverse column is wrong")
    if c_bc != evaluate(_bytecode_inverses(table, alpha, gamma, rho2), r2):
        raise _reject("bytecode lookup", "the bytecode table's inverse column is wrong")
    if c_l != _scale_ext(evaluate(_limb_inverses(alpha, gamma), r2), r2sq):
        raise _reject("limb lookup", "the limb table's inverse column is wrong")
    if c_a != _scale_ext(evaluate(_and_inverses(alpha, gamma), r2), ext_mul(r2sq, rho2)):
        raise _reject("and lookup", "the AND table's inverse column is wrong")
    if c_p != evaluate(_pow_inverses(alpha, gamma, r2_4), r2):
        raise _reject("pow lookup", "the pow table's inverse column is wrong")
    pt = np.array(point, dtype=np.uint64).reshape(-1, 4)
    _open(c1, pt, tuple(finals[k] for k in TRACE_COLUMNS), pr.open_trace, t, "trace columns")
    _open(c2, pt, tuple(finals[k] for k in HELPER_COLUMNS), pr.open_helpers, t, "lookup helper columns")
    _open(cm, np.array(r2, dtype=np.uint64).reshape(-1, 4), (m_r, m_bc, m_l, m_a, m_p), pr.open_mult, t, "multiplicities")


def _open(c: Commitment, pt: U64, values: tuple[Ext, ...], proof: EvalProof, t: Transcript, what: str) -> None:
    try:
        verify_evaluations(c, pt, values, proof, t)
    except (VerificationFailed, MalformedProof) as exc:
        raise _reject(f"opening of the {what}", str(exc)) from None
