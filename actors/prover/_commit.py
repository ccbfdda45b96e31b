"""A Ligero-style multilinear polynomial commitment over BabyBear, batched.

Layout and code
---------------
The ``2**n`` evaluations of a multilinear polynomial form a ``rows x cols``
matrix ``M`` (row-major; see :class:`~._params.CommitParams`).  A commitment
covers ``m >= 1`` polynomials of the same shape at once: their matrices are
interleaved row by row into the *stacked* matrix ``S`` of ``m * rows`` rows,
``S[i * m + k] = M_k[i]``.  Each row of ``S`` is Reed-Solomon encoded with the
NTT (``rs_encode``: the row as coefficients, evaluated on the subgroup of
order ``L = cols * 2**log_inv_rate``), and a Merkle tree is built over the
``L`` *columns* of the encoded stacked matrix: leaf ``j`` is
``H_leaf(Enc(S)[0, j] || ... || Enc(S)[m * rows - 1, j])``, each entry 4 bytes
little-endian.  The commitment is the root (with the parameters and ``m``).

Variable order: ``_mle.py``'s convention, the first variable is the *lowest*
bit of the evaluation index.  Entry ``i = row * cols + col`` has the column in
the low bits, so the point ``r = (r_1, ..., r_n)`` splits as
``r_col = r[:log_cols]`` and ``r_row = r[log_cols:]``, and
``f(r) = sum_{i,j} eq(r_row, i) eq(r_col, j) M[i, j]``.

Opening all ``m`` polynomials at one point (Fiat-Shamir)
--------------------------------------------------------
1. Absorb the parameters, ``m``, the root and the point.
2. Squeeze ``m * rows`` independent extension coefficients ``gamma``.
3. In one pass over the rows the prover computes ``w = sum_s gamma_s S[s]``
   (proximity test) and ``u_k = sum_i eq(r_row, i) M_k[i]``; the values
   ``v_k = <u_k, eq(r_col)>`` are absorbed.
4. Squeeze ``m`` coefficients ``alpha`` (``alpha = (1)`` when ``m = 1``);
   the prover sends ``w`` and ``u = sum_k alpha_k u_k`` (length-``cols``
   extension vectors), which are absorbed.  (``gamma`` need not depend on the
   values: they are checked through ``u``, absorbed before the queries.)
5. Squeeze ``t`` column indices in ``[0, L)``, uniform, with replacement.
6. The prover opens each distinct index (ascending): the stacked column and
   its Merkle path.

The verifier checks the Merkle paths, that ``Enc(w)[j] = sum_s gamma_s
U[s, j]`` and ``Enc(u)[j] = sum_{i,k} eq(r_row, i) alpha_k U[i m + k, j]`` at
every opened column ``j`` (``Enc`` is linear, so it acts on the four
coordinates of an extension vector separately), and that ``<u, eq(r_col)> =
sum_k alpha_k v_k``.  The soundness of this test, and the query count, are in
``_params.py`` (batching adds the ``1/|E|`` chance that ``alpha`` hides a
wrong value).

Streaming and space
-------------------
The Merkle tree is over columns but rows arrive one block at a time (a block
is ``b`` rows of all ``m`` polynomials), so the
committer keeps one running BLAKE2b state per encoded column (``L`` of them,
see :func:`~._merkle.leaf_hasher`) and feeds each block's slice of every
column into it; after the last block the states are finalised into the
leaves.  The leaf is therefore exactly the hash of the whole column whatever
the block size.  Working space while committing is
``O(L * (hash state + block_rows))`` words plus the tree, ``2 * L * 32``
bytes: with ``cols ~ sqrt(N)`` that is ``O(sqrt(N))`` for constant
``block_rows`` and rate.  The constants are real: a BLAKE2b state is about
456 bytes, and the NTT of a block makes a few copies of it.  Measured with
tracemalloc at ``N = 2**20`` (``tests/bench/prover.py``): a square split
(1024 x 1024, 4-row blocks) peaks at 2.8 MB against 33.5 MB for the encoded
matrix; the default split, which minimises the proof (256 x 4096, so
``L = 16384`` hash states), peaks at 11-20 MB.  Openings re-read the rows (a
:data:`RowSource` must be re-iterable): one pass for ``w`` and ``u``
(``O(cols)`` space) and one pass that evaluates each row block only at the
``t`` queried points of the domain (``M_block @ V`` with
``V[c, j] = w**(q_j * c)``: ``O(cols * t + t * m * rows)`` space, float64 BLAS on
16-bit limbs, exact).  ``keep_encoding=True`` trades this second pass for
keeping the whole encoded matrix (``4 * m * rows * L`` bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ._blas import single_threaded_blas
from ._errors import InvalidParameters, MalformedProof, VerificationFailed
from ._field import P, U64, Ext, vext_mul, vext_sum, vext_to_list
from ._mle import eq_table
from ._merkle import DIGEST_SIZE, MerkleTree, hash_leaf, leaf_hasher, merkle_root_from_path
from ._ntt import root_of_unity, rs_encode
from ._params import CommitParams, soundness_bits
from ._transcript import Transcript

__all__ = [
    "RowSource",
    "Commitment",
    "EvalProof",
    "CommittedPolynomial",
    "commit",
    "commit_table",
    "commit_oracle",
    "rows_from_table",
    "rows_from_oracle",
    "prove_evaluation",
    "prove_evaluations",
    "verify_evaluation",
    "verify_evaluations",
    "DEFAULT_MIN_SECURITY_BITS",
]

DEFAULT_MIN_SECURITY_BITS = 100.0
_P64 = np.uint64(P)
_LIMB = np.uint64(16)
_LOW16 = np.uint64(0xFFFF)
#: Terms per exact float64 limb product: 2**20 products < 2**32 sum below 2**52.
_MAX_LIMB_SUM = 1 << 20

RowSource = Callable[[], Iterable[U64]]
"""A re-iterable source of matrix rows: each call yields, in order, ``(b, m, cols)``
blocks (row ``i`` of every polynomial), or ``(b, cols)`` blocks when ``m = 1``."""
MAX_BATCH = 1024


class _Oracle(Protocol):
    """The slice of ``PolynomialOracle`` the commitment reads (structural)."""

    @property
    def num_vars(self) -> int: ...

    @property
    def num_polys(self) -> int: ...

    def read(self, polys: Sequence[int], start: int, length: int) -> U64: ...


@dataclass(frozen=True, slots=True)
class Commitment:
    """What a verifier keeps: the parameters, the number of polynomials, the Merkle root."""

    params: CommitParams
    root: bytes
    num_polys: int = 1


@dataclass(frozen=True, slots=True)
class EvalProof:
    """An evaluation proof (see the module docstring, steps 3, 4 and 6).

    ``proximity_row`` is ``w`` and ``evaluation_row`` is ``u``, both
    ``(cols, 4)``; ``columns`` is ``(k, m * rows)`` (stacked columns) for the
    ``k`` distinct queried indices in ascending order, and ``paths`` their
    packed Merkle paths (``k * depth * 32`` bytes).
    """

    proximity_row: U64
    evaluation_row: U64
    columns: U64
    paths: bytes


@dataclass(slots=True)
class CommittedPolynomial:
    """The prover's side of a commitment: the tree, and how to re-read the rows.

    ``encoding``, when kept, is the encoded stacked matrix ``(m * rows, L)``.
    """

    commitment: Commitment
    tree: MerkleTree
    source: RowSource
    encoding: NDArray[np.uint32] | None = None


# --------------------------------------------------------------------------- helpers


def _eq(point: U64) -> U64:
    """``eq(point, x)`` over the hypercube as a ``(2**m, 4)`` table (``_mle`` layout)."""
    return eq_table(vext_to_list(point)) if point.shape[0] else eq_table([])


def _matmul_mod(a: U64, b: U64) -> U64:
    """``a @ b mod P`` for canonical ``(m, k)`` and ``(k, n)`` matrices, exactly.

    Both sides are split into 16-bit limbs (``x = x1 * 2**16 + x0``), so every
    limb product is below 2**32 and a sum of up to 2**20 of them stays below
    2**52: float64 BLAS products of the limbs are then exact integers.  Four
    limb products are recombined mod P.  This is ~25x faster than numpy's
    integer matmul, which does not use BLAS.
    """
    with single_threaded_blas():
        return _matmul_mod_blocks(a, b)


def _matmul_mod_blocks(a: U64, b: U64) -> U64:
    m, k = a.shape
    n = b.shape[1]
    out = np.zeros((m, n), dtype=np.uint64)
    for s in range(0, k, _MAX_LIMB_SUM):
        ak, bk = a[:, s : s + _MAX_LIMB_SUM], b[s : s + _MAX_LIMB_SUM]
        a0, a1 = (ak & _LOW16).astype(np.float64), (ak >> _LIMB).astype(np.float64)
        b0, b1 = (bk & _LOW16).astype(np.float64), (bk >> _LIMB).astype(np.float64)
        lo = (a0 @ b0).astype(np.uint64) % _P64
        mid = ((a0 @ b1).astype(np.uint64) + (a1 @ b0).astype(np.uint64)) % _P64
        hi = (a1 @ b1).astype(np.uint64) % _P64
        hi = (((hi << _LIMB) % _P64) << _LIMB) % _P64  # * 2**32
        out = (out + lo + ((mid << _LIMB) % _P64) + hi) % _P64
    return out


def _combine(coeffs: U64, matrix: U64) -> U64:
    """``sum_i coeffs[i] * matrix[i, :]`` for ``(b, c)`` coefficients (``c = 4``: one
    extension element per row; ``c = 8``: two) and a ``(b, m)`` base matrix, as
    an ``(m, c)`` array (extension coordinates are independent base products).
    """
    return np.ascontiguousarray(_matmul_mod(np.ascontiguousarray(coeffs.T), matrix).T)


def _domain_powers(params: CommitParams, queries: list[int]) -> U64:
    """``V[c, j] = w**(queries[j] * c)``: row-coefficients-to-codeword-entry matrix.

    ``Enc(row)[q] = sum_c row[c] * w**(q * c)`` with ``w`` the generator of the
    order-``L`` subgroup (``rs_encode``'s evaluation domain), so the queried
    columns of the encoded matrix are ``M @ V``.
    """
    w = root_of_unity(params.log_encoded_cols)
    bases = np.array([pow(w, q, P) for q in queries], dtype=np.uint64)
    out = np.empty((params.cols, len(queries)), dtype=np.uint64)
    out[0] = 1
    m = 1
    step = bases
    while m < params.cols:
        out[m : 2 * m] = (out[:m] * step) % _P64  # rows [m, 2m) = rows [0, m) * b**m
        step = (step * step) % _P64
        m *= 2
    return out


def _encode_ext(vec: U64, blowup: int) -> U64:
    """Reed-Solomon encode an ``(k, 4)`` extension vector coordinate-wise -> ``(L, 4)``."""
    return np.ascontiguousarray(rs_encode(np.ascontiguousarray(vec.T), blowup).T)


def _split_point(point: U64, params: CommitParams) -> tuple[U64, U64]:
    """``(r_row, r_col)``: columns are the low index bits, i.e. the first variables."""
    return point[params.log_cols :], point[: params.log_cols]


def _point_array(point: U64 | Sequence[Ext], num_vars: int) -> U64:
    if isinstance(point, np.ndarray):
        arr = point
    else:
        arr = np.array([list(x) for x in point], dtype=object).reshape(-1, 4)
    if arr.ndim != 2 or arr.shape != (num_vars, 4):
        raise InvalidParameters("point.shape", tuple(arr.shape), f"({num_vars}, 4)")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= P):
        raise InvalidParameters("point", "out of range", f"coefficients in [0, {P})")
    return arr.astype(np.uint64)


def statement_header(commitment: Commitment) -> bytes:
    """The bytes that bind a commitment's parameters, batch size and root."""
    p = commitment.params
    return (
        b"stele.pcs.ligero.v2"
        + bytes([p.num_vars, p.log_rows, p.log_inv_rate])
        + p.num_queries.to_bytes(4, "little")
        + commitment.num_polys.to_bytes(4, "little")
        + commitment.root
    )


def _bind_statement(transcript: Transcript, commitment: Commitment, point: U64) -> None:
    header = statement_header(commitment)
    transcript.absorb_bytes("ligero.statement", header)
    transcript.absorb_ext("ligero.point", point)


def _alphas(transcript: Transcript, m: int) -> U64:
    if m == 1:
        return np.array([[1, 0, 0, 0]], dtype=np.uint64)
    return np.array(transcript.challenge_exts("ligero.alpha", m), dtype=np.uint64)


def _query_set(transcript: Transcript, params: CommitParams) -> list[int]:
    picks = transcript.challenge_indices("ligero.queries", params.num_queries, params.encoded_cols)
    return sorted(set(picks))


# --------------------------------------------------------------------------- row sources


def rows_from_table(table: U64, params: CommitParams, *, block_rows: int = 64) -> RowSource:
    """A :data:`RowSource` over in-memory tables: ``(2**n,)`` for one polynomial,
    ``(m, 2**n)`` for ``m``."""
    arr = np.asarray(table, dtype=np.uint64)
    arr = arr.reshape(1, -1) if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != 1 << params.num_vars:
        raise InvalidParameters("table length", arr.shape[-1], f"2**{params.num_vars}")
    if not 1 <= arr.shape[0] <= MAX_BATCH:
        raise InvalidParameters("number of tables", arr.shape[0], f"in [1, {MAX_BATCH}]")
    stacked = arr.reshape(arr.shape[0], params.rows, params.cols).transpose(1, 0, 2)
    step = max(1, block_rows)

    def blocks() -> Iterable[U64]:
        for i in range(0, params.rows, step):
            yield stacked[i : i + step]

    return blocks


def rows_from_oracle(
    oracle: _Oracle, polys: int | Sequence[int], params: CommitParams, *, block_rows: int = 64
) -> RowSource:
    """A :data:`RowSource` reading polynomial(s) ``polys`` of a ``PolynomialOracle`` in blocks."""
    chosen = [polys] if isinstance(polys, int) else list(polys)
    if oracle.num_vars != params.num_vars:
        raise InvalidParameters("oracle.num_vars", oracle.num_vars, f"params.num_vars={params.num_vars}")
    if not 1 <= len(chosen) <= MAX_BATCH:
        raise InvalidParameters("number of polys", len(chosen), f"in [1, {MAX_BATCH}]")
    for poly in chosen:
        if not 0 <= poly < oracle.num_polys:
            raise InvalidParameters("poly", poly, f"in [0, {oracle.num_polys})")
    step = max(1, block_rows)
    m = len(chosen)

    def blocks() -> Iterable[U64]:
        for i in range(0, params.rows, step):
            b = min(step, params.rows - i)
            data = np.asarray(oracle.read(chosen, i * params.cols, b * params.cols), dtype=np.uint64)
            yield data.reshape(m, b, params.cols).transpose(1, 0, 2)

    return blocks


def _stacked_block(block: U64, params: CommitParams, m: int, seen: int) -> U64:
    """Check a source block and return it as ``(b * m, cols)`` stacked rows."""
    blk = np.asarray(block, dtype=np.uint64)
    if blk.ndim == 2 and m == 1:
        blk = blk[:, None, :]
    if blk.ndim != 3 or blk.shape[1:] != (m, params.cols) or seen + blk.shape[0] > params.rows:
        raise InvalidParameters(
            "row block", tuple(blk.shape), f"(b, {m}, {params.cols}) with {params.rows} rows in all"
        )
    if blk.size and int(blk.max()) >= P:
        raise InvalidParameters("row value", int(blk.max()), f"canonical, below {P}")
    return blk.reshape(blk.shape[0] * m, params.cols)


# --------------------------------------------------------------------------- committing


def commit(
    source: RowSource, params: CommitParams, *, num_polys: int = 1, keep_encoding: bool = False
) -> CommittedPolynomial:
    """Commit to the ``num_polys`` matrices the row source yields, streaming block by block.

    Rows are encoded block by block and each encoded column's bytes are fed
    into that column's running leaf hash, so the whole encoded matrix is never
    held unless ``keep_encoding`` asks for it (then openings skip a pass).
    """
    if not 1 <= num_polys <= MAX_BATCH:
        raise InvalidParameters("num_polys", num_polys, f"in [1, {MAX_BATCH}]")
    blowup = 1 << params.log_inv_rate
    length = params.encoded_cols
    hashers = [leaf_hasher() for _ in range(length)]
    kept: list[NDArray[np.uint32]] = []
    seen = 0
    for block in source():
        stacked = _stacked_block(block, params, num_polys, seen)
        enc = rs_encode(stacked, blowup).astype("<u4")  # (b * m, L)
        if keep_encoding:
            kept.append(enc)
        raw = memoryview(np.ascontiguousarray(enc.T).tobytes())
        stride = 4 * stacked.shape[0]
        for j in range(length):
            hashers[j].update(raw[j * stride : (j + 1) * stride])
        seen += stacked.shape[0] // num_polys
    if seen != params.rows:
        raise InvalidParameters("rows read", seen, f"exactly {params.rows}")
    tree = MerkleTree(b"".join(h.digest() for h in hashers))
    encoding = np.concatenate(kept) if keep_encoding else None
    return CommittedPolynomial(Commitment(params, tree.root, num_polys), tree, source, encoding)


def commit_table(
    table: U64, params: CommitParams, *, block_rows: int = 64, keep_encoding: bool = False
) -> CommittedPolynomial:
    """Commit to in-memory evaluation tables: ``(2**n,)`` for one, ``(m, 2**n)`` for ``m``."""
    arr = np.asarray(table, dtype=np.uint64)
    m = 1 if arr.ndim == 1 else int(arr.shape[0])
    return commit(
        rows_from_table(arr, params, block_rows=block_rows), params, num_polys=m, keep_encoding=keep_encoding
    )


def commit_oracle(
    oracle: _Oracle, polys: int | Sequence[int], params: CommitParams, *, block_rows: int = 64
) -> CommittedPolynomial:
    """Commit to one or several polynomials of a ``PolynomialOracle``, in row blocks."""
    m = 1 if isinstance(polys, int) else len(polys)
    return commit(rows_from_oracle(oracle, polys, params, block_rows=block_rows), params, num_polys=m)


# --------------------------------------------------------------------------- opening


def _queried_columns(committed: CommittedPolynomial, queries: list[int]) -> U64:
    """The queried stacked columns of the encoded matrix, ``(len(queries), m * rows)``."""
    params = committed.commitment.params
    m = committed.commitment.num_polys
    idx = np.array(queries, dtype=np.intp)
    if committed.encoding is not None:
        return np.ascontiguousarray(committed.encoding[:, idx].T.astype(np.uint64))
    # Evaluate each row only at the queried points: S @ V, block by block, in
    # O(cols * t) extra space -- much cheaper than re-encoding every row.
    powers = _domain_powers(params, queries)
    parts = []
    seen = 0
    for block in committed.source():
        stacked = _stacked_block(block, params, m, seen)
        seen += stacked.shape[0] // m
        parts.append(_matmul_mod(stacked, powers))
    return np.ascontiguousarray(np.concatenate(parts).T)


def _eval_coefficients(eq_row: U64, alphas: U64) -> U64:
    """``c[i * m + k] = eq_row[i] * alpha_k``: the evaluation test's row weights."""
    m = alphas.shape[0]
    return vext_mul(np.repeat(eq_row, m, axis=0), np.tile(alphas, (eq_row.shape[0], 1)))


def prove_evaluations(
    committed: CommittedPolynomial, point: U64 | Sequence[Ext], transcript: Transcript
) -> tuple[tuple[Ext, ...], EvalProof]:
    """Evaluate every committed polynomial at ``point`` and prove it: ``(values, proof)``.

    ``transcript`` must be in the same state as the verifier's will be; it is
    advanced past the opening.
    """
    params = committed.commitment.params
    m = committed.commitment.num_polys
    pt = _point_array(point, params.num_vars)
    r_row, r_col = _split_point(pt, params)
    eq_row, eq_col = _eq(r_row), _eq(r_col)
    _bind_statement(transcript, committed.commitment, pt)
    gammas = np.array(transcript.challenge_exts("ligero.gamma", m * params.rows), dtype=np.uint64)
    # One pass: w and every u_k.  Row s = i * m + k of a stacked block gets
    # weight gamma_s for w and eq_row[i] for u_k; u_k's product touches only
    # its own rows, so all of them are one (4, b) @ (b, m * cols) product.
    w = np.zeros((params.cols, 4), dtype=np.uint64)
    us = np.zeros((params.cols, 4 * m), dtype=np.uint64)
    start = 0
    for block in committed.source():
        stacked = _stacked_block(block, params, m, start)
        b = stacked.shape[0] // m
        w = (w + _combine(gammas[start * m : (start + b) * m], stacked)) % _P64
        eq_t = np.ascontiguousarray(eq_row[start : start + b].T)
        prod = _matmul_mod(eq_t, stacked.reshape(b, m * params.cols))  # [j, k * cols + c]
        us = (us + prod.reshape(4, m, params.cols).transpose(2, 1, 0).reshape(params.cols, 4 * m)) % _P64
        start += b
    u_k = us.reshape(params.cols, m, 4).transpose(1, 0, 2)  # (m, cols, 4)
    values = tuple(vext_sum(vext_mul(u_k[k], eq_col)) for k in range(m))
    transcript.absorb_ext("ligero.value", list(values))
    alphas = _alphas(transcript, m)
    u = np.zeros((params.cols, 4), dtype=np.uint64)
    for k in range(m):
        u = (u + vext_mul(u_k[k], alphas[k])) % _P64
    transcript.absorb_ext("ligero.w", w)
    transcript.absorb_ext("ligero.u", u)
    queries = _query_set(transcript, params)
    columns = _queried_columns(committed, queries)
    paths = b"".join(committed.tree.path(j) for j in queries)
    return values, EvalProof(w, u, columns, paths)


def prove_evaluation(
    committed: CommittedPolynomial, point: U64 | Sequence[Ext], transcript: Transcript
) -> tuple[Ext, EvalProof]:
    """:func:`prove_evaluations` for a commitment to one polynomial: ``(value, proof)``."""
    if committed.commitment.num_polys != 1:
        raise InvalidParameters(
            "num_polys", committed.commitment.num_polys, "1 (use prove_evaluations for batches)"
        )
    values, proof = prove_evaluations(committed, point, transcript)
    return values[0], proof


# --------------------------------------------------------------------------- verifying


def _check_shapes(proof: EvalProof, params: CommitParams, m: int, opened: int) -> None:
    """Malformed parts raise :class:`MalformedProof`; a well-formed proof opening the
    wrong number of columns for this transcript fails the ``"openings"`` check."""
    cols = proof.columns
    height = m * params.rows
    if not isinstance(cols, np.ndarray) or cols.dtype != np.uint64 or cols.ndim != 2 or cols.shape[1] != height:
        got = getattr(cols, "shape", type(cols).__name__)
        raise MalformedProof("columns", f"shape {got}, expected (k, {height}) uint64")
    if cols.size and int(cols.max()) >= P:
        raise MalformedProof("columns", f"value {int(cols.max())} is not below {P}")
    step = params.log_encoded_cols * DIGEST_SIZE
    if not isinstance(proof.paths, bytes) or len(proof.paths) != cols.shape[0] * step:
        got_len = len(proof.paths) if isinstance(proof.paths, bytes) else type(proof.paths).__name__
        raise MalformedProof("paths", f"length {got_len}, expected {cols.shape[0] * step} bytes")
    if cols.shape[0] != opened:
        raise VerificationFailed(
            "openings", f"{cols.shape[0]} columns opened, the transcript queries {opened} distinct ones"
        )


def _check_ext(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 4
        and all(type(c) is int and 0 <= c < P for c in value)
    )


def verify_evaluations(
    commitment: Commitment,
    point: U64 | Sequence[Ext],
    values: Sequence[Ext],
    proof: EvalProof,
    transcript: Transcript,
    *,
    min_security_bits: float = DEFAULT_MIN_SECURITY_BITS,
) -> None:
    """Check that the committed polynomials take ``values`` at ``point``.

    Returns nothing on success; raises :class:`VerificationFailed` naming the
    failed check, :class:`MalformedProof` for a proof of the wrong shape;
    parameters giving fewer than ``min_security_bits`` bits fail the
    ``"parameters"`` check.  ``transcript`` is advanced exactly as
    :func:`prove_evaluations` advanced the prover's.
    """
    params = commitment.params
    m = commitment.num_polys
    if type(m) is not int or not 1 <= m <= MAX_BATCH:
        raise MalformedProof("commitment.num_polys", f"{m!r} is not in [1, {MAX_BATCH}]")
    bits = soundness_bits(params.log_cols, params.log_inv_rate, params.num_queries, num_polys=m)
    if bits < min_security_bits:
        raise VerificationFailed("parameters", f"{bits:.1f} bits of soundness < floor {min_security_bits}")
    try:
        pt = _point_array(point, params.num_vars)
    except InvalidParameters as exc:
        raise MalformedProof("point", str(exc)) from None
    if not isinstance(values, (tuple, list)) or len(values) != m:
        raise MalformedProof("values", f"expected {m} extension elements")
    for i, value in enumerate(values):
        if not _check_ext(value):
            raise MalformedProof(f"values[{i}]", f"{value!r} is not 4 coefficients in [0, {P})")
    if not isinstance(commitment.root, bytes) or len(commitment.root) != DIGEST_SIZE:
        raise MalformedProof("commitment.root", f"expected {DIGEST_SIZE} bytes")
    _bind_statement(transcript, commitment, pt)
    gammas = np.array(transcript.challenge_exts("ligero.gamma", m * params.rows), dtype=np.uint64)
    # Shapes of the rows must be right before they are absorbed.
    for name in ("proximity_row", "evaluation_row"):
        arr = getattr(proof, name)
        if not isinstance(arr, np.ndarray) or arr.shape != (params.cols, 4) or arr.dtype != np.uint64:
            raise MalformedProof(name, f"expected ({params.cols}, 4) uint64")
        if arr.size and int(arr.max()) >= P:
            raise MalformedProof(name, f"value {int(arr.max())} is not below {P}")
    transcript.absorb_ext("ligero.value", list(values))
    alphas = _alphas(transcript, m)
    transcript.absorb_ext("ligero.w", proof.proximity_row)
    transcript.absorb_ext("ligero.u", proof.evaluation_row)
    queries = _query_set(transcript, params)
    _check_shapes(proof, params, m, len(queries))

    r_row, r_col = _split_point(pt, params)
    claimed = vext_sum(vext_mul(np.array(values, dtype=np.uint64).reshape(m, 4), alphas))
    if vext_sum(vext_mul(proof.evaluation_row, _eq(r_col))) != claimed:
        raise VerificationFailed("evaluation", "<u, eq(r_col)> differs from the claimed value(s)")

    depth = params.log_encoded_cols
    step = depth * DIGEST_SIZE
    col_bytes = proof.columns.astype("<u4")
    for k, j in enumerate(queries):
        leaf = hash_leaf(col_bytes[k].tobytes())
        if merkle_root_from_path(leaf, j, proof.paths[k * step : (k + 1) * step]) != commitment.root:
            raise VerificationFailed("merkle path", f"column {j} (opening {k})")

    blowup = 1 << params.log_inv_rate
    idx = np.array(queries, dtype=np.intp)
    cols_t = np.ascontiguousarray(proof.columns.T)  # (m * rows, k)
    enc_w = _encode_ext(proof.proximity_row, blowup)[idx]
    bad = np.flatnonzero((enc_w != _combine(gammas, cols_t)).any(axis=1))
    if bad.size:
        raise VerificationFailed("proximity", f"column {queries[int(bad[0])]}")
    enc_u = _encode_ext(proof.evaluation_row, blowup)[idx]
    got_u = _combine(_eval_coefficients(_eq(r_row), alphas), cols_t)
    bad = np.flatnonzero((enc_u != got_u).any(axis=1))
    if bad.size:
        raise VerificationFailed("evaluation row", f"column {queries[int(bad[0])]}")


def verify_evaluation(
    commitment: Commitment,
    point: U64 | Sequence[Ext],
    value: Ext,
    proof: EvalProof,
    transcript: Transcript,
    *,
    min_security_bits: float = DEFAULT_MIN_SECURITY_BITS,
) -> None:
    """:func:`verify_evaluations` for a commitment to one polynomial."""
    if commitment.num_polys != 1:
        raise VerificationFailed("num_polys", f"{commitment.num_polys} polynomials, one value given")
    if not _check_ext(value):
        raise MalformedProof("value", f"{value!r} is not 4 coefficients in [0, {P})")
    verify_evaluations(
        commitment, point, (value,), proof, transcript, min_security_bits=min_security_bits
    )
