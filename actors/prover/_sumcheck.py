"""Sum-check for g = Σ_j c_j · Π_k f_{j,k} (optionally times eq(e, x)): provers and verifier.

The claim is ``Σ_{x ∈ {0,1}^n} g(x) = claimed_sum``.  In round ``i`` the
prover sends the univariate ``s_i(X) = Σ_y g(r_1..r_{i-1}, X, y)`` as its
**evaluations at X = 0, 1, ..., d** (``d`` = the composition's degree, plus
one with an eq factor), the verifier checks ``s_i(0) + s_i(1)`` against the
running claim and draws ``r_i`` (an extension element) from the transcript.
Variables are bound in order x_1, x_2, ... (x_1 = the index's lowest bit,
see :mod:`stele.actors.prover._mle`).  At the end the proof carries the
claimed evaluations ``f_k(r)`` of every polynomial used (in
``composition.polys`` order); the verifier checks ``g`` of them against the
last claim and returns the point, and **the caller must check those
evaluations** against commitments (or, in tests, against the tables).

Transcript schedule (both sides, in this order)::

    absorb_bytes("sumcheck.statement", num_vars, degree, has_eq, composition)
    absorb_ext("sumcheck.eq_point", e)            # only with an eq factor
    absorb_ext("sumcheck.claim", claimed_sum)
    for each round: absorb_ext("sumcheck.round", s_i(0..d)); r_i = challenge_ext("sumcheck.r")
    absorb_ext("sumcheck.final", final_evals)

Two provers produce the same proof, value for value (so byte-identical once
encoded): :func:`prove_sumcheck` (dense, linear time, holds the tables) and
:func:`prove_sumcheck_streaming` (reads through a
:class:`~stele.actors.prover.PolynomialOracle`).  Both compute each round's
``s_i(X)`` exactly; the evaluation at 1 is derived from the running claim
(``claim - s_i(0)``) after the first round in both.

The streaming prover (after Nair–Thaler–Zhu, "Proving CPU Executions in Small
Space", and Jolt): for the first ``k`` rounds it makes one pass over the
oracle per round, reading chunks of ``C`` entries (``C`` a multiple of
``2^i``), folding each chunk by the challenges already drawn and adding the
chunk's contribution to ``s_i``.  ``k`` is the first round after which the
folded tables fit the memory budget; one more pass then materialises them and
the dense algorithm finishes.  Memory: O(C + 2^(n-k)) field elements,
time O(k·N + N).  Passes are counted in the :class:`StreamingReport`.

With an eq factor both provers split ``eq(e, (r_<j, X, y)) = pre·eq(e_j, X)·eq(e_>j, y)``
and compute ``q(X) = Σ_y eq(e_>j, y)·C(r_<j, X, y)`` (degree of C) instead of
the degree-(d+1) products: one evaluation fewer per round and no eq table
to fold (Gruen's trick, as in Jolt's split-eq sum-check).  The messages are
still the evaluations of ``s_i = pre·eq(e_j, X)·q`` at 0..d+1.

Zero-check (``Σ_x eq(e, x)·C(x) = 0`` for ``e`` drawn from the transcript,
which shows ``C`` vanishes on the hypercube w.h.p.) is :func:`prove_zerocheck`
/ :func:`verify_zerocheck`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._errors import InvalidParameters, MalformedProof, VerificationFailed
from ._field import (
    EXT_ONE,
    EXT_ZERO,
    P,
    U64,
    Ext,
    ext_add,
    ext_inv,
    ext_mul,
    ext_scale,
    ext_sub,
    inv,
    vadd,
    vmul,
    vsub,
)
from ._mle import Composition, eq_eval, eq_table, num_vars_of
from ._oracle import PolynomialOracle
from ._soa import soa_add, soa_first, soa_fold, soa_from_aos, soa_mul, soa_sum
from ._transcript import Transcript

__all__ = [
    "SumcheckProof",
    "SumcheckResult",
    "StreamingReport",
    "prove_sumcheck",
    "prove_sumcheck_streaming",
    "verify_sumcheck",
    "prove_zerocheck",
    "prove_zerocheck_streaming",
    "verify_zerocheck",
    "interpolate_at",
    "DEFAULT_MEMORY_BUDGET",
    "DEFAULT_CHUNK",
]

DEFAULT_MEMORY_BUDGET = 64 * 2**20
"""Default working-memory budget of the streaming prover, in bytes."""
DEFAULT_CHUNK = 2**14
"""Default number of entries per polynomial read from the oracle at a time."""


@dataclass(frozen=True, slots=True)
class SumcheckProof:
    """A sum-check proof: plain data, ready for canonical CBOR via :meth:`to_obj`.

    Every extension value is a 4-tuple of ints in [0, P) (coefficients of
    1, X, X^2, X^3 in F_p[X]/(X^4 - 11)).  ``round_polys[i]`` holds
    ``s_i(0), ..., s_i(d)``; ``final_evals`` holds ``f_k(r)`` for ``k`` in
    ``composition.polys`` order.
    """

    claimed_sum: Ext
    round_polys: tuple[tuple[Ext, ...], ...]
    final_evals: tuple[Ext, ...]

    def to_obj(self) -> list[object]:
        """``[claimed_sum, [[s_i(0..d)]...], final_evals]`` with extension elements as 4-int lists."""
        return [
            list(self.claimed_sum),
            [[list(e) for e in rnd] for rnd in self.round_polys],
            [list(e) for e in self.final_evals],
        ]

    @classmethod
    def from_obj(cls, obj: object) -> SumcheckProof:
        """Parse :meth:`to_obj` output strictly; :class:`MalformedProof` names the bad field."""
        if not isinstance(obj, (list, tuple)) or len(obj) != 3:
            raise MalformedProof("sumcheck", "expected a 3-element list")
        claimed = _parse_ext(obj[0], "sumcheck.claimed_sum")
        rounds_obj = obj[1]
        if not isinstance(rounds_obj, (list, tuple)):
            raise MalformedProof("sumcheck.round_polys", "expected a list")
        rounds: list[tuple[Ext, ...]] = []
        for i, rnd in enumerate(rounds_obj):
            if not isinstance(rnd, (list, tuple)):
                raise MalformedProof(f"sumcheck.round_polys[{i}]", "expected a list")
            rounds.append(tuple(_parse_ext(e, f"sumcheck.round_polys[{i}][{j}]") for j, e in enumerate(rnd)))
        finals_obj = obj[2]
        if not isinstance(finals_obj, (list, tuple)):
            raise MalformedProof("sumcheck.final_evals", "expected a list")
        finals = tuple(_parse_ext(e, f"sumcheck.final_evals[{i}]") for i, e in enumerate(finals_obj))
        return cls(claimed, tuple(rounds), finals)


def _parse_ext(obj: object, field: str) -> Ext:
    if not isinstance(obj, (list, tuple)) or len(obj) != 4:
        raise MalformedProof(field, "expected 4 coefficients")
    out: list[int] = []
    for i, c in enumerate(obj):
        if type(c) is not int:
            raise MalformedProof(f"{field}[{i}]", f"expected int, got {type(c).__name__}")
        if not 0 <= c < P:
            raise MalformedProof(f"{field}[{i}]", f"value {c} not in [0, {P})")
        out.append(c)
    return (out[0], out[1], out[2], out[3])


@dataclass(frozen=True, slots=True)
class SumcheckResult:
    """What a successful verification establishes, reduced to one point.

    The proof is valid iff additionally every ``final_evals[i]`` is the true
    value of polynomial ``composition.polys[i]`` at ``point`` (the caller
    checks that against commitments or tables).
    """

    point: tuple[Ext, ...]
    final_evals: tuple[Ext, ...]
    claimed_sum: Ext


@dataclass(frozen=True, slots=True)
class StreamingReport:
    """How the streaming prover ran: passes over the oracle and memory shape."""

    passes: int
    streamed_rounds: int
    chunk_size: int
    dense_table_bytes: int
    entries_read: int


# --------------------------------------------------------------------------- interpolation


def interpolate_at(evals: Sequence[Ext], r: Ext) -> Ext:
    """s(r) for the polynomial of degree < len(evals) with s(i) = evals[i], i = 0..d."""
    d = len(evals) - 1
    acc = EXT_ZERO
    for i in range(d + 1):
        num = EXT_ONE
        den = 1
        for j in range(d + 1):
            if j != i:
                num = ext_mul(num, ext_sub(r, (j, 0, 0, 0)))
                den = den * (i - j) % P
        acc = ext_add(acc, ext_scale(ext_mul(evals[i], num), inv(den)))
    return acc


# --------------------------------------------------------------------------- round kernel


def _round_partial(
    los: dict[int, U64],
    his: dict[int, U64],
    weight: U64 | None,
    comp: Composition,
    skip_one: bool,
    diffs: dict[int, U64] | None = None,
) -> list[Ext]:
    """Σ_i weight[i]·C(lo_i + X·(hi_i - lo_i)) for X = 0..deg C (X = 1 left zero if skip_one).

    ``weight`` (extension, one entry per pair) is the eq factor of the
    not-yet-bound variables, or None for a plain sum.  ``diffs`` (if given)
    receives hi - lo per polynomial, so binding the variable afterwards need
    not recompute them.
    """
    if diffs is None:
        diffs = {}
    cur = dict(los)
    out: list[Ext] = []
    for x in range(comp.degree + 1):
        if x == 1:
            cur = dict(his)
        elif x >= 2:
            for k in cur:
                if k not in diffs:
                    diffs[k] = vsub(his[k], los[k])
                cur[k] = vadd(cur[k], diffs[k])
        if x == 1 and skip_one:
            out.append(EXT_ZERO)
            continue
        comb: U64 | None = None
        total = EXT_ZERO
        for c, factors in comp.terms:
            prod = cur[factors[0]]
            for f in factors[1:]:
                prod = soa_mul(prod, cur[f])
            if weight is None:
                total = ext_add(total, ext_scale(soa_sum(prod), c))
            else:
                if c != 1:
                    prod = vmul(prod, np.uint64(c))  # type: ignore[arg-type]
                comb = prod if comb is None else soa_add(comb, prod)
        if weight is not None and comb is not None:
            total = soa_sum(soa_mul(comb, weight))
        out.append(total)
    return out


def _eq1(e: Ext, x: int | Ext) -> Ext:
    """eq(e, x) for one variable: e·x + (1 - e)(1 - x)."""
    return eq_eval([e], [x])


class _EqRound:
    """The eq factor of one round, split as eq(e, (r_<j, X, y)) = pre · eq(e_j, X) · eq(e_>j, y).

    The round polynomial is then s(X) = pre · eq(e_j, X) · q(X), where q has
    the composition's degree and the weights eq(e_>j, y) are a table of the
    unbound variables only (Gruen's trick: one evaluation fewer per round and
    no eq table to fold).  Given the running claim, q(1) follows from
    claim = pre·((1 - e_j)·q(0) + e_j·q(1)) unless pre or e_j is zero.
    """

    def __init__(self, pre: Ext, e_j: Ext) -> None:
        self.pre = pre
        self.e_j = e_j

    def can_skip_one(self, claim: Ext | None) -> bool:
        return claim is not None and self.pre != EXT_ZERO and self.e_j != EXT_ZERO

    def finish(self, q: list[Ext], claim: Ext | None) -> tuple[Ext, ...]:
        q = list(q)
        if self.can_skip_one(claim):
            assert claim is not None
            scaled = ext_mul(claim, ext_inv(self.pre))
            rest = ext_sub(scaled, ext_mul(ext_sub(EXT_ONE, self.e_j), q[0]))
            q[1] = ext_mul(rest, ext_inv(self.e_j))
        q.append(interpolate_at(q, (len(q), 0, 0, 0)))
        return tuple(ext_mul(ext_mul(self.pre, _eq1(self.e_j, x)), qx) for x, qx in enumerate(q))


def _finish(partial: list[Ext], claim: Ext | None) -> tuple[Ext, ...]:
    if claim is not None:
        partial = list(partial)
        partial[1] = ext_sub(claim, partial[0])
    return tuple(partial)


class _DenseState:
    """Tables in memory, bound one variable per round.

    With an eq factor it keeps ``j`` (variables already bound), the product
    ``pre`` of eq(e_i, r_i) over them, and the weight table eq(e_>j, ·) of
    the variables after the current one.
    """

    def __init__(
        self,
        tables: dict[int, U64],
        comp: Composition,
        eq_point: Sequence[Ext] | None = None,
        bound: int = 0,
        pre: Ext = EXT_ONE,
    ) -> None:
        self.tables = tables  # base (n,) or extension transposed to (4, n): see _soa
        self.comp = comp
        self.diffs: dict[int, U64] = {}
        self.eq_point = None if eq_point is None else list(eq_point)
        self.j = bound
        self.pre = pre
        self.weights = None if self.eq_point is None else soa_from_aos(eq_table(self.eq_point[bound + 1 :]))

    def round(self, claim: Ext | None) -> tuple[Ext, ...]:
        los = {k: t[..., 0::2] for k, t in self.tables.items()}
        his = {k: t[..., 1::2] for k, t in self.tables.items()}
        self.diffs = {}
        if self.eq_point is None:
            partial = _round_partial(los, his, None, self.comp, claim is not None, self.diffs)
            return _finish(partial, claim)
        eq = _EqRound(self.pre, self.eq_point[self.j])
        q = _round_partial(los, his, self.weights, self.comp, eq.can_skip_one(claim), self.diffs)
        return eq.finish(q, claim)

    def bind(self, r: Ext) -> None:
        diffs, self.diffs = self.diffs, {}
        self.tables = {k: soa_fold(t, r, diffs.get(k)) for k, t in self.tables.items()}
        if self.eq_point is not None and self.weights is not None:
            self.pre = ext_mul(self.pre, _eq1(self.eq_point[self.j], r))
            self.j += 1
            # eq(e_i, 0) + eq(e_i, 1) = 1, so summing pairs drops the lowest variable.
            if self.weights.shape[-1] > 1:
                self.weights = vadd(self.weights[..., 0::2], self.weights[..., 1::2])

    def finals(self) -> tuple[Ext, ...]:
        return tuple(soa_first(self.tables[k]) for k in self.comp.polys)


def _degree(comp: Composition, eq_point: Sequence[Ext] | None) -> int:
    return comp.degree + (1 if eq_point is not None else 0)


def _bind_statement(
    t: Transcript, comp: Composition, n: int, eq_point: Sequence[Ext] | None, claimed: Ext
) -> None:
    head = n.to_bytes(4, "little") + _degree(comp, eq_point).to_bytes(4, "little")
    head += b"\x01" if eq_point is not None else b"\x00"
    t.absorb_bytes("sumcheck.statement", head + comp.to_bytes())
    if eq_point is not None:
        t.absorb_ext("sumcheck.eq_point", list(eq_point))
    t.absorb_ext("sumcheck.claim", claimed)


def _drive(
    state: _DenseState | _StreamingState,
    n: int,
    comp: Composition,
    transcript: Transcript,
    eq_point: Sequence[Ext] | None,
) -> SumcheckProof:
    first = state.round(None)
    claim = ext_add(first[0], first[1])
    claimed_sum = claim
    _bind_statement(transcript, comp, n, eq_point, claimed_sum)
    rounds: list[tuple[Ext, ...]] = []
    evals = first
    for i in range(n):
        if i > 0:
            evals = state.round(claim)
        transcript.absorb_ext("sumcheck.round", list(evals))
        r = transcript.challenge_ext("sumcheck.r")
        rounds.append(evals)
        claim = interpolate_at(evals, r)
        state.bind(r)
    finals = state.finals()
    transcript.absorb_ext("sumcheck.final", list(finals))
    return SumcheckProof(claimed_sum, tuple(rounds), finals)


def _check_eq_point(eq_point: Sequence[Ext] | None, n: int) -> None:
    if eq_point is not None and len(eq_point) != n:
        raise InvalidParameters("len(eq_point)", len(eq_point), f"= num_vars = {n}")


def prove_sumcheck(
    tables: Sequence[U64],
    composition: Composition,
    transcript: Transcript,
    *,
    eq_point: Sequence[Ext] | None = None,
) -> SumcheckProof:
    """Dense linear-time prover for Σ_x g(x) (times eq(eq_point, x) if given).

    ``tables[i]`` is polynomial ``i`` of the composition (base or extension,
    all of 2^n entries, n >= 1).  The claimed sum is computed, not supplied.
    """
    if not tables:
        raise InvalidParameters("tables", 0, "at least one table")
    n = num_vars_of(tables[0])
    if n < 1:
        raise InvalidParameters("num_vars", n, ">= 1")
    for k in composition.polys:
        if k >= len(tables):
            raise InvalidParameters("composition poly index", k, f"< {len(tables)} tables")
        if num_vars_of(tables[k]) != n:
            raise InvalidParameters(f"tables[{k}] num_vars", num_vars_of(tables[k]), f"= {n}")
    _check_eq_point(eq_point, n)
    soa = {k: soa_from_aos(tables[k]) if tables[k].ndim == 2 else tables[k] for k in composition.polys}
    state = _DenseState(soa, composition, eq_point)
    return _drive(state, n, composition, transcript, eq_point)


def verify_sumcheck(
    proof: SumcheckProof,
    composition: Composition,
    num_vars: int,
    transcript: Transcript,
    *,
    eq_point: Sequence[Ext] | None = None,
) -> SumcheckResult:
    """Check a proof; returns the point and the evaluations the caller must still check.

    Raises :class:`MalformedProof` for a wrong shape and
    :class:`VerificationFailed` for a failed round or final check.
    """
    if num_vars < 1:
        raise InvalidParameters("num_vars", num_vars, ">= 1")
    d = _degree(composition, eq_point)
    _check_eq_point(eq_point, num_vars)
    if not isinstance(proof, SumcheckProof):
        raise MalformedProof("sumcheck", f"expected SumcheckProof, got {type(proof).__name__}")
    try:
        obj = proof.to_obj()
    except (TypeError, ValueError) as exc:
        raise MalformedProof("sumcheck", f"not a well-formed proof object ({exc})") from None
    proof = SumcheckProof.from_obj(obj)  # revalidates every value and shape
    if len(proof.round_polys) != num_vars:
        raise MalformedProof("sumcheck.round_polys", f"{len(proof.round_polys)} rounds, expected {num_vars}")
    for i, rnd in enumerate(proof.round_polys):
        if len(rnd) != d + 1:
            raise MalformedProof(f"sumcheck.round_polys[{i}]", f"{len(rnd)} evaluations, expected {d + 1}")
    if len(proof.final_evals) != len(composition.polys):
        raise MalformedProof(
            "sumcheck.final_evals", f"{len(proof.final_evals)} values, expected {len(composition.polys)}"
        )
    _bind_statement(transcript, composition, num_vars, eq_point, proof.claimed_sum)
    claim = proof.claimed_sum
    point: list[Ext] = []
    for i, evals in enumerate(proof.round_polys):
        if ext_add(evals[0], evals[1]) != claim:
            raise VerificationFailed("round sum", f"round {i}: s(0) + s(1) != running claim")
        transcript.absorb_ext("sumcheck.round", list(evals))
        r = transcript.challenge_ext("sumcheck.r")
        point.append(r)
        claim = interpolate_at(evals, r)
    transcript.absorb_ext("sumcheck.final", list(proof.final_evals))
    expected = composition.evaluate(dict(zip(composition.polys, proof.final_evals)))
    if eq_point is not None:
        expected = ext_mul(expected, eq_eval(list(eq_point), point))
    if expected != claim:
        raise VerificationFailed("final evaluation", "g(final_evals) != last round's claim")
    return SumcheckResult(tuple(point), proof.final_evals, proof.claimed_sum)


# --------------------------------------------------------------------------- streaming


class _StreamingState:
    """Streams the first rounds over an oracle, then hands over to a _DenseState."""

    def __init__(
        self,
        oracle: PolynomialOracle,
        comp: Composition,
        eq_point: Sequence[Ext] | None,
        memory_budget: int,
        chunk_size: int,
    ) -> None:
        self.oracle = oracle
        self.comp = comp
        self.polys = comp.polys
        self.eq_point = None if eq_point is None else list(eq_point)
        self.n = oracle.num_vars
        self.chunk = chunk_size
        self.rs: list[Ext] = []
        self.passes = 0
        self.entries_read = 0
        self.dense: _DenseState | None = None
        self.k = self._switch_round(memory_budget)
        self.dense_bytes = self._dense_bytes(self.k)
        if self.k == 0:
            self._materialize()

    def _dense_bytes(self, k: int) -> int:
        size = 1 << (self.n - k)
        per = 8 if k == 0 else 32
        return len(self.polys) * size * per + (size * 32 if self.eq_point is not None else 0)

    def _dense_peak(self, k: int) -> int:
        """Estimated peak bytes of the dense phase after ``k`` streamed rounds.

        Measured with tracemalloc: an extension table plus its round
        temporaries and folded copy stay under 3x its size; base tables
        (k = 0) are first folded into extension tables of half the length,
        about 48 bytes per base entry in all.
        """
        size = 1 << (self.n - k)
        per_entry = 48 if k == 0 else 96
        eq = 96 * size if self.eq_point is not None else 0
        return len(self.polys) * size * per_entry + eq

    def _switch_round(self, budget: int) -> int:
        for k in range(self.n + 1):
            if self._dense_peak(k) <= budget:
                return k
        return self.n

    def _chunk_for(self, bound: int) -> int:
        """Entries per read: the configured chunk, at least 2^bound, at most 2^n."""
        return min(1 << self.n, max(self.chunk, 1 << bound))

    def _read(self, start: int, length: int) -> U64:
        raw = np.asarray(self.oracle.read(list(self.polys), start, length))
        if raw.shape != (len(self.polys), length):
            raise InvalidParameters("oracle.read shape", tuple(raw.shape), f"= ({len(self.polys)}, {length})")
        if raw.dtype != np.uint64:
            raise InvalidParameters("oracle.read dtype", str(raw.dtype), "uint64")
        if raw.size and int(raw.max()) >= P:
            raise InvalidParameters(f"oracle.read[{start}:{start + length}]", int(raw.max()), f"canonical, < {P}")
        self.entries_read += raw.size
        return raw

    def _eq_prefix(self, j: int) -> Ext:
        assert self.eq_point is not None
        acc = EXT_ONE
        for e, r in zip(self.eq_point[:j], self.rs[:j]):
            acc = ext_mul(acc, eq_eval([e], [r]))
        return acc

    def _eq_high(self, start: int, log_c: int) -> Ext:
        assert self.eq_point is not None
        acc = EXT_ONE
        for i in range(log_c, self.n):
            bit = (start >> i) & 1
            e = self.eq_point[i]
            acc = ext_mul(acc, e if bit else ext_sub(EXT_ONE, e))
        return acc

    def _fold_all(self, row: U64) -> U64:
        cur = row
        for r in self.rs:
            cur = soa_fold(cur, r)
        return cur

    def round(self, claim: Ext | None) -> tuple[Ext, ...]:
        if self.dense is not None:
            return self.dense.round(claim)
        j = len(self.rs)
        size = 1 << self.n
        c = self._chunk_for(j + 1)
        log_c = c.bit_length() - 1
        acc = [EXT_ZERO] * (self.comp.degree + 1)
        weights = None
        eq = None
        skip_one = claim is not None
        if self.eq_point is not None:
            weights = soa_from_aos(eq_table(self.eq_point[j + 1 : log_c]))
            eq = _EqRound(self._eq_prefix(j), self.eq_point[j])
            skip_one = eq.can_skip_one(claim)
        for start in range(0, size, c):
            raw = self._read(start, c)
            folded = {k: self._fold_all(raw[i]) for i, k in enumerate(self.polys)}
            los = {k: t[..., 0::2] for k, t in folded.items()}
            his = {k: t[..., 1::2] for k, t in folded.items()}
            part = _round_partial(los, his, weights, self.comp, skip_one)
            if eq is not None:
                high = self._eq_high(start, log_c)
                part = [ext_mul(v, high) for v in part]
            acc = [ext_add(a, b) for a, b in zip(acc, part)]
        self.passes += 1
        if eq is not None:
            return eq.finish(acc, claim)
        return _finish(acc, claim)

    def _materialize(self) -> None:
        k = len(self.rs)
        size = 1 << self.n
        c = self._chunk_for(k)
        out_len = size >> k
        tables: dict[int, U64] = {}
        for key in self.polys:
            tables[key] = np.zeros(out_len, dtype=np.uint64) if k == 0 else np.zeros((4, out_len), dtype=np.uint64)
        for start in range(0, size, c):
            raw = self._read(start, c)
            for i, key in enumerate(self.polys):
                tables[key][..., start >> k : (start + c) >> k] = self._fold_all(raw[i])
        self.passes += 1
        pre = self._eq_prefix(k) if self.eq_point is not None else EXT_ONE
        self.dense = _DenseState(tables, self.comp, self.eq_point, k, pre)

    def bind(self, r: Ext) -> None:
        if self.dense is not None:
            self.dense.bind(r)
            return
        self.rs.append(r)
        if len(self.rs) == self.k:
            self._materialize()

    def finals(self) -> tuple[Ext, ...]:
        assert self.dense is not None
        return self.dense.finals()


def prove_sumcheck_streaming(
    oracle: PolynomialOracle,
    composition: Composition,
    transcript: Transcript,
    *,
    eq_point: Sequence[Ext] | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[SumcheckProof, StreamingReport]:
    """Small-space prover reading ``oracle`` in chunks; same proof as :func:`prove_sumcheck`.

    ``composition`` indices are the oracle's polynomial numbers.
    ``memory_budget`` (bytes) bounds the dense phase's tables and their
    temporaries (an estimate calibrated with tracemalloc, see
    ``_dense_peak``); the streaming rounds add about ``100·chunk_size`` bytes
    per polynomial on top, so the budget should exceed that.  ``chunk_size``
    (entries per polynomial, a power of two) bounds each read.  Returns the proof and a
    :class:`StreamingReport` with the number of passes over the oracle.
    """
    n = oracle.num_vars
    if n < 1:
        raise InvalidParameters("oracle.num_vars", n, ">= 1")
    if chunk_size < 2 or chunk_size & (chunk_size - 1):
        raise InvalidParameters("chunk_size", chunk_size, "a power of two >= 2")
    if memory_budget < 1:
        raise InvalidParameters("memory_budget", memory_budget, ">= 1 byte")
    for k in composition.polys:
        if k >= oracle.num_polys:
            raise InvalidParameters("composition poly index", k, f"< oracle.num_polys = {oracle.num_polys}")
    _check_eq_point(eq_point, n)
    state = _StreamingState(oracle, composition, eq_point, memory_budget, chunk_size)
    proof = _drive(state, n, composition, transcript, eq_point)
    report = StreamingReport(
        passes=state.passes,
        streamed_rounds=state.k,
        chunk_size=state._chunk_for(state.k),
        dense_table_bytes=state.dense_bytes,
        entries_read=state.entries_read,
    )
    return proof, report


# --------------------------------------------------------------------------- zero-check


def _zerocheck_point(transcript: Transcript, comp: Composition, n: int) -> list[Ext]:
    transcript.absorb_bytes("zerocheck.statement", n.to_bytes(4, "little") + comp.to_bytes())
    return transcript.challenge_exts("zerocheck.point", n)


def prove_zerocheck(tables: Sequence[U64], composition: Composition, transcript: Transcript) -> SumcheckProof:
    """Prove C(x) = 0 on the whole hypercube: sum-check of eq(e, x)·C(x) with e from the transcript."""
    if not tables:
        raise InvalidParameters("tables", 0, "at least one table")
    n = num_vars_of(tables[0])
    e = _zerocheck_point(transcript, composition, n)
    return prove_sumcheck(tables, composition, transcript, eq_point=e)


def prove_zerocheck_streaming(
    oracle: PolynomialOracle,
    composition: Composition,
    transcript: Transcript,
    *,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[SumcheckProof, StreamingReport]:
    """Streaming :func:`prove_zerocheck` over an oracle (same proof as the dense one)."""
    e = _zerocheck_point(transcript, composition, oracle.num_vars)
    return prove_sumcheck_streaming(
        oracle, composition, transcript, eq_point=e, memory_budget=memory_budget, chunk_size=chunk_size
    )


def verify_zerocheck(
    proof: SumcheckProof, composition: Composition, num_vars: int, transcript: Transcript
) -> SumcheckResult:
    """Verify a zero-check; the caller must still check ``final_evals`` at ``point``."""
    if num_vars < 1:
        raise InvalidParameters("num_vars", num_vars, ">= 1")
    e = _zerocheck_point(transcript, composition, num_vars)
    if not isinstance(proof, SumcheckProof):
        raise MalformedProof("zerocheck", f"expected SumcheckProof, got {type(proof).__name__}")
    if proof.claimed_sum != EXT_ZERO:
        raise VerificationFailed("zero-check claim", "claimed sum is not zero")
    return verify_sumcheck(proof, composition, num_vars, transcript, eq_point=e)
