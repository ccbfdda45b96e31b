"""Parameters of the Ligero-style commitment and their soundness.

Shape
-----
A multilinear polynomial with ``2**n`` evaluations is laid out as a matrix of
``rows = 2**log_rows`` rows and ``cols = 2**(n - log_rows)`` columns (row-major:
evaluation ``i`` sits at row ``i >> log_cols``, column ``i & (cols - 1)``).
Each row is encoded with the Reed-Solomon code ``RS[L, k]`` over BabyBear,
``k = cols`` message symbols, ``L = k * 2**log_inv_rate`` code symbols
(rate ``rho = k / L``, minimum distance ``d = L - k + 1``).  A Merkle tree is
built over the ``L`` encoded columns, and the verifier opens ``t`` columns
chosen uniformly, independently (with replacement) by Fiat-Shamir.

Soundness (the formulas :func:`soundness_bits` computes)
-------------------------------------------------------
Let ``e = floor((d - 1) / 2)``, the unique-decoding radius in columns, and
``|E| = p**4`` the size of the quartic extension the challenges come from.
Let ``U`` be the committed ``rows x L`` matrix (whatever the prover hashed).

* **U is more than e columns away from every interleaved codeword.**  The
  proximity test draws independent coefficients ``gamma_i`` in ``E`` and the
  prover answers with a message ``w``; the verifier compares ``Enc(w)`` with
  ``sum_i gamma_i * U[i]`` on the opened columns.  By the correlated-agreement
  theorem for Reed-Solomon codes in the unique-decoding regime (Ben-Sasson,
  Carmon, Ishai, Kopparty, Saraf, "Proximity Gaps for Reed-Solomon Codes",
  2020, Thms. 1.2/1.6: ``e / L <= (1 - rho) / 2`` gives
  ``epsilon_pg = L / |E|``), the combination is still more than ``e`` away from
  the code except with probability ``epsilon_pg``; then ``Enc(w)`` disagrees
  with it on at least ``e + 1`` columns, and each query misses them with
  probability at most ``q_far = 1 - (e + 1) / L``.
* **U is within e columns of a codeword Enc(M).**  ``M`` is unique, and it is
  the matrix the commitment binds.  If the prover's evaluation row ``u``
  differs from ``sum_i eq(r_row)_i * M[i]``, then ``Enc(u)`` and
  ``sum_i eq(r_row)_i * Enc(M)[i]`` are distinct codewords, agreeing on at
  most ``k - 1`` positions; the opened columns agree with ``Enc(M)`` except on
  ``e`` positions, so a query passes with probability at most
  ``q_close = (e + k - 1) / L``.

**Batches.**  A commitment to ``m`` polynomials stacks their matrices into
one of ``m * rows`` rows (see ``_commit.py``); the argument above applies to
the stacked matrix unchanged.  The evaluation test then checks
``u = sum_k alpha_k u_k`` for ``alpha`` drawn after the claimed values
``v_k``: if some ``v_k`` is wrong, ``sum_k alpha_k (v_k - f_k(r))`` is a
nonzero linear form in ``alpha`` and vanishes with probability ``1 / |E|``.

Hence a cheating prover is accepted with probability at most

    epsilon = L / |E| + [m > 1] / |E| + max(q_far, q_close) ** t

and ``soundness_bits = -log2(epsilon)``.  With ``e ~ (L - k) / 2`` both
``q_far`` and ``q_close`` are about ``(1 + rho) / 2``: at rate 1/4 each query
gives ``-log2(5/8) ~ 0.678`` bits, so 100 bits need about 148 queries.  The
bound is for the interactive protocol; under Fiat-Shamir an attacker who makes
``2**c`` hash queries can gain up to ``c`` bits by grinding, as usual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ._errors import InvalidParameters

__all__ = [
    "BABYBEAR_P",
    "EXTENSION_BITS",
    "TWO_ADICITY",
    "CommitParams",
    "choose_params",
    "soundness_bits",
    "soundness_error",
]

BABYBEAR_P = 15 * 2**27 + 1
#: log2 of the size of the quartic extension field the challenges live in.
EXTENSION_BITS = 4 * math.log2(BABYBEAR_P)
#: BabyBear's multiplicative group has a subgroup of order 2**27.
TWO_ADICITY = 27
MAX_QUERIES = 4096
MAX_NUM_VARS = 30


def soundness_error(
    log_cols: int, log_inv_rate: int, num_queries: int, *, num_polys: int = 1
) -> Fraction:
    """The exact bound ``L/|E| + [m > 1]/|E| + max(q_far, q_close)**t`` of the module docstring."""
    k = 1 << log_cols
    length = k << log_inv_rate
    d = length - k + 1
    e = (d - 1) // 2
    q_far = Fraction(length - e - 1, length)
    q_close = Fraction(e + k - 1, length)
    q = max(q_far, q_close)
    batch = Fraction(1 if num_polys > 1 else 0, BABYBEAR_P**4)
    return Fraction(length, BABYBEAR_P**4) + batch + q**num_queries


def soundness_bits(
    log_cols: int, log_inv_rate: int, num_queries: int, *, num_polys: int = 1
) -> float:
    """``-log2`` of :func:`soundness_error`: the commitment's bits of security."""
    err = soundness_error(log_cols, log_inv_rate, num_queries, num_polys=num_polys)
    # Fraction -> float loses nothing that matters at these magnitudes, but
    # take logs of numerator and denominator separately to avoid underflow.
    return math.log2(err.denominator) - math.log2(err.numerator)


@dataclass(frozen=True, slots=True)
class CommitParams:
    """The shape and query count of one commitment (see the module docstring).

    Both prover and verifier must agree on these; the verifier takes them from
    its own configuration or checks them against a security floor, never
    trusting a proof to choose them.
    """

    num_vars: int
    log_rows: int
    log_inv_rate: int
    num_queries: int

    def __post_init__(self) -> None:
        for name in ("num_vars", "log_rows", "log_inv_rate", "num_queries"):
            value = getattr(self, name)
            if type(value) is not int:
                raise InvalidParameters(name, value, "a Python int")
        if not 0 <= self.num_vars <= MAX_NUM_VARS:
            raise InvalidParameters("num_vars", self.num_vars, f"must be in [0, {MAX_NUM_VARS}]")
        if not 0 <= self.log_rows <= self.num_vars:
            raise InvalidParameters(
                "log_rows", self.log_rows, f"must be in [0, num_vars={self.num_vars}]"
            )
        if not 1 <= self.log_inv_rate <= 8:
            raise InvalidParameters("log_inv_rate", self.log_inv_rate, "must be in [1, 8]")
        if self.log_cols + self.log_inv_rate > TWO_ADICITY:
            raise InvalidParameters(
                "log_cols + log_inv_rate",
                self.log_cols + self.log_inv_rate,
                f"the code length must divide 2**{TWO_ADICITY}",
            )
        if not 1 <= self.num_queries <= MAX_QUERIES:
            raise InvalidParameters(
                "num_queries", self.num_queries, f"must be in [1, {MAX_QUERIES}]"
            )

    @property
    def log_cols(self) -> int:
        """log2 of the message length ``k`` (columns before encoding)."""
        return self.num_vars - self.log_rows

    @property
    def rows(self) -> int:
        """Number of matrix rows."""
        return 1 << self.log_rows

    @property
    def cols(self) -> int:
        """Number of matrix columns before encoding (the code's ``k``)."""
        return 1 << self.log_cols

    @property
    def log_encoded_cols(self) -> int:
        """log2 of the code length ``L``: also the Merkle tree's depth."""
        return self.log_cols + self.log_inv_rate

    @property
    def encoded_cols(self) -> int:
        """The code length ``L``: the number of Merkle leaves."""
        return 1 << self.log_encoded_cols

    @property
    def security_bits(self) -> float:
        """Bits of soundness by the module docstring's formula."""
        return soundness_bits(self.log_cols, self.log_inv_rate, self.num_queries)

    def estimated_proof_bytes(self, num_polys: int = 1) -> int:
        """Rough opening-proof size: two extension rows plus ``t`` stacked columns with paths."""
        per_query = 4 * num_polys * self.rows + 32 * self.log_encoded_cols
        return 2 * 16 * self.cols + self.num_queries * per_query

    def to_cbor(self) -> list[int]:
        """The canonical wire form ``[num_vars, log_rows, log_inv_rate, num_queries]``."""
        return [self.num_vars, self.log_rows, self.log_inv_rate, self.num_queries]


def min_queries(log_cols: int, log_inv_rate: int, security_bits: float, *, num_polys: int = 1) -> int:
    """The fewest queries reaching ``security_bits`` for this code shape."""
    if security_bits <= 0:
        return 1
    k = 1 << log_cols
    length = k << log_inv_rate
    floor_bits = math.log2(BABYBEAR_P**4) - math.log2(length + (1 if num_polys > 1 else 0))
    if floor_bits <= security_bits:
        raise InvalidParameters(
            "security_bits",
            security_bits,
            f"the extension term alone limits this code length to {floor_bits:.1f} bits",
        )
    lo, hi = 1, MAX_QUERIES
    if soundness_bits(log_cols, log_inv_rate, hi, num_polys=num_polys) < security_bits:
        raise InvalidParameters(
            "security_bits", security_bits, f"unreachable with {MAX_QUERIES} queries"
        )
    while lo < hi:
        mid = (lo + hi) // 2
        if soundness_bits(log_cols, log_inv_rate, mid, num_polys=num_polys) >= security_bits:
            hi = mid
        else:
            lo = mid + 1
    return lo


def choose_params(
    num_vars: int, *, security_bits: float = 100.0, log_inv_rate: int = 2, num_polys: int = 1
) -> CommitParams:
    """Parameters reaching ``security_bits`` with the smallest estimated proof
    (for a batch of ``num_polys`` polynomials committed together).

    Tries every row/column split, takes the fewest queries that meet the
    bound for it, and keeps the split with the smallest
    :meth:`CommitParams.estimated_proof_bytes` (ties: fewer rows, which
    favours the O(sqrt N) streaming space bound's smaller columns).
    """
    if not 0 <= num_vars <= MAX_NUM_VARS:
        raise InvalidParameters("num_vars", num_vars, f"must be in [0, {MAX_NUM_VARS}]")
    best: CommitParams | None = None
    for log_rows in range(num_vars + 1):
        log_cols = num_vars - log_rows
        if log_cols + log_inv_rate > TWO_ADICITY:
            continue
        try:
            t = min_queries(log_cols, log_inv_rate, security_bits, num_polys=num_polys)
        except InvalidParameters:
            continue  # this code length cannot reach the target at all
        cand = CommitParams(num_vars, log_rows, log_inv_rate, t)
        if best is None or cand.estimated_proof_bytes(num_polys) < best.estimated_proof_bytes(num_polys):
            best = cand
    if best is None:
        raise InvalidParameters(
            "security_bits", security_bits, f"no row/column split of 2**{num_vars} reaches it"
        )
    return best
