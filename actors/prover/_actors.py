"""ProverActor and VerifierActor: the prover on the kernel.

The actors own state (registered oracles, commitments' Merkle trees); the
heavy work -- committing, opening, proving, verifying -- runs through
``env.run_in_worker``: in a worker process under :class:`stele.RealEnv` (so the
event loop stays responsive), inline under simulation.  The job functions
below are therefore module-level and take and return only picklable values:
oracles (a :class:`~._oracle.DenseOracle` pickles as its table), parameters,
Merkle trees and bytes.

Bad requests (an unknown oracle, parameters out of range, a malformed point)
are refused with :class:`stele.RejectMessage`, so the actor keeps running and
the asker gets :class:`stele.RemoteError` whose ``cause`` is the typed
:class:`ProverError`.  A proof that does not verify is not an error at all:
the verifier answers with a :class:`Verdict`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from stele import Actor, RejectMessage

from ._argument import prove_sum_argument, verify_sum_argument
from ._commit import Commitment, CommittedPolynomial, commit_oracle, prove_evaluation, rows_from_oracle
from ._errors import InvalidParameters, MalformedProof, ProverError, VerificationFailed
from ._field import P, Ext
from ._merkle import MerkleTree
from ._messages import (
    Committed,
    CommitPolynomial,
    ExecutionProven,
    Loaded,
    LoadPolynomials,
    Opened,
    OpenPolynomial,
    Params,
    ProveExecution,
    ProveSum,
    SumProved,
    Verdict,
    VerifyOpening,
    VerifySum,
)
from ._mle import Composition
from ._oracle import DenseOracle, PolynomialOracle
from ._params import CommitParams, choose_params
from ._proof import (
    OpeningProof,
    decode_argument,
    decode_commitment,
    decode_opening,
    encode_argument,
    encode_commitment,
    encode_opening,
    verify_opening,
)
from ._sumcheck import DEFAULT_CHUNK, DEFAULT_MEMORY_BUDGET
from ._transcript import Transcript
from ._wire import read_ext_vector

__all__ = ["ProverActor", "VerifierActor", "MAX_LOAD_VARS", "MAX_LOAD_POLYS"]

MAX_LOAD_VARS = 24
MAX_LOAD_POLYS = 64


def _params(raw: Params | None, num_vars: int, num_polys: int = 1) -> CommitParams:
    if raw is None:
        return choose_params(num_vars, num_polys=num_polys)
    params = CommitParams(*raw)
    if params.num_vars != num_vars:
        raise InvalidParameters("params.num_vars", params.num_vars, f"= oracle num_vars {num_vars}")
    return params


# --------------------------------------------------------------------------- worker jobs


def commit_job(
    oracle: PolynomialOracle, poly: int, params: CommitParams, block_rows: int
) -> tuple[Commitment, MerkleTree]:
    """Commit to one oracle polynomial; returns the commitment and its Merkle tree."""
    committed = commit_oracle(oracle, poly, params, block_rows=block_rows)
    return committed.commitment, committed.tree


def open_job(
    oracle: PolynomialOracle,
    poly: int,
    commitment: Commitment,
    tree: MerkleTree,
    point: bytes,
    label: str,
    block_rows: int,
) -> tuple[Ext, bytes]:
    """Open a committed oracle polynomial at a packed point; returns value and proof bytes."""
    params = commitment.params
    pt = read_ext_vector(point, params.num_vars, "point")
    source = rows_from_oracle(oracle, poly, params, block_rows=block_rows)
    value, proof = prove_evaluation(CommittedPolynomial(commitment, tree, source), pt, Transcript(label))
    return value, encode_opening(OpeningProof(commitment, pt, (value,), proof))


def prove_sum_job(
    oracle: PolynomialOracle,
    terms: tuple[tuple[int, tuple[int, ...]], ...],
    params: CommitParams,
    zerocheck: bool,
    label: str,
    memory_budget: int,
    chunk_size: int,
) -> tuple[Ext, bytes, int, int]:
    """Prove a sum-check argument; returns (sum, argument bytes, passes, streamed rounds)."""
    argument, report = prove_sum_argument(
        oracle,
        Composition(terms),
        params,
        Transcript(label),
        zerocheck=zerocheck,
        memory_budget=memory_budget,
        chunk_size=chunk_size,
    )
    return argument.claimed_sum, encode_argument(argument), report.passes, report.streamed_rounds


def _verdict_of(exc: ProverError) -> tuple[bool, str, str]:
    if isinstance(exc, MalformedProof):
        return False, f"malformed: {exc.field}", exc.detail
    if isinstance(exc, VerificationFailed):
        return False, exc.check, exc.detail
    return False, "rejected", str(exc)


def verify_opening_job(
    opening: bytes,
    label: str,
    commitment: bytes | None,
    min_security_bits: int,
    point: bytes | None = None,
    values: tuple[Ext, ...] | None = None,
) -> tuple[bool, str, str]:
    """Decode and verify an opening against the pins; ``(ok, check, detail)``, never raises on bad input."""
    try:
        expected = None if commitment is None else decode_commitment(commitment)
        decoded = decode_opening(opening)
        pinned_point = None
        if point is not None:
            pinned_point = read_ext_vector(point, decoded.commitment.params.num_vars, "point")
        verify_opening(
            decoded,
            Transcript(label),
            expected=expected,
            expected_point=pinned_point,
            expected_values=values,
            min_security_bits=min_security_bits,
        )
    except ProverError as exc:
        return _verdict_of(exc)
    return True, "", ""


def verify_sum_job(
    argument: bytes,
    label: str,
    expected_sum: Ext | None,
    min_security_bits: int,
    terms: tuple[tuple[int, tuple[int, ...]], ...] | None = None,
    zerocheck: bool | None = None,
    commitment: bytes | None = None,
) -> tuple[bool, str, str]:
    """Decode and verify a sum-check argument against what the caller pins; ``(ok, check, detail)``."""
    try:
        verify_sum_argument(
            decode_argument(argument),
            Transcript(label),
            expected_sum=expected_sum,
            expected_commitment=None if commitment is None else decode_commitment(commitment),
            expected_composition=None if terms is None else Composition(terms),
            expected_zerocheck=zerocheck,
            min_security_bits=min_security_bits,
        )
    except ProverError as exc:
        return _verdict_of(exc)
    return True, "", ""


def prove_execution_job(elf: bytes, input_bytes: bytes, max_cycles: int, target: str
                        ) -> tuple[str, bytes, str]:
    """Worker job: ``("ok", receipt bytes, "")`` or ``("refused", what, detail)``.

    The refusal travels as plain values, not as an exception, so it crosses a
    process boundary whatever the error's constructor looks like.
    """
    from stele import SteleError
    from stele.actors.receipts import NotProvable, prove_receipt

    try:
        return "ok", prove_receipt(elf, input_bytes, max_cycles=max_cycles, target=target).encode(), ""
    except NotProvable as exc:
        return "refused", exc.what.encode(), exc.detail
    except SteleError as exc:  # a bad ELF, a cycle limit: the co-processor's typed errors
        return "refused", type(exc).__name__.encode(), str(exc)


# --------------------------------------------------------------------------- actors


class ProverActor(Actor):
    """Holds oracles and commitments; proves sums, commits and opens on request.

    ``oracles`` are registered at spawn time (for example the co-processor's
    witness oracle); :class:`LoadPolynomials` adds in-memory ones.  Under
    RealEnv, oracles are pickled to the worker process with each job.
    """

    def __init__(
        self,
        oracles: Mapping[str, PolynomialOracle] | None = None,
        *,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        chunk_size: int = DEFAULT_CHUNK,
        block_rows: int = 64,
    ) -> None:
        self._oracles: dict[str, PolynomialOracle] = dict(oracles or {})
        self._committed: dict[tuple[str, int], tuple[Commitment, MerkleTree]] = {}
        self._memory_budget = memory_budget
        self._chunk_size = chunk_size
        self._block_rows = block_rows

    def _oracle(self, name: str) -> PolynomialOracle:
        try:
            return self._oracles[name]
        except KeyError:
            raise InvalidParameters("oracle", name, f"one of {sorted(self._oracles)}") from None

    async def receive(self, message: object) -> object:
        """Dispatch one request; bad requests are refused, the actor keeps running."""
        try:
            if isinstance(message, ProveExecution):
                return await self._prove_execution(message)
            return await self._handle(message)
        except ProverError as exc:
            raise RejectMessage(exc) from None

    async def _prove_execution(self, message: ProveExecution) -> ExecutionProven:
        """Prove a guest run in a worker; a refusal (not provable, bad ELF) goes back typed."""
        verdict, payload, detail = await self.env.run_in_worker(
            prove_execution_job, message.elf, message.input, message.max_cycles, message.target)
        if verdict == "ok":
            return ExecutionProven(payload)
        from stele.actors.receipts import NotProvable
        raise RejectMessage(NotProvable(message.target, payload.decode(), detail))

    async def _handle(self, message: object) -> object:
        if isinstance(message, LoadPolynomials):
            return self._load(message)
        if isinstance(message, CommitPolynomial):
            oracle = self._oracle(message.oracle)
            params = _params(message.params, oracle.num_vars)
            commitment, tree = await self.env.run_in_worker(
                commit_job, oracle, message.poly, params, self._block_rows
            )
            self._committed[(message.oracle, message.poly)] = (commitment, tree)
            return Committed(message.oracle, message.poly, encode_commitment(commitment))
        if isinstance(message, OpenPolynomial):
            oracle = self._oracle(message.oracle)
            key = (message.oracle, message.poly)
            if key not in self._committed:
                raise InvalidParameters("poly", message.poly, f"commit {message.oracle!r}/{message.poly} first")
            commitment, tree = self._committed[key]
            value, opening = await self.env.run_in_worker(
                open_job, oracle, message.poly, commitment, tree, message.point, message.transcript,
                self._block_rows,
            )
            return Opened(value, opening)
        if isinstance(message, ProveSum):
            oracle = self._oracle(message.oracle)
            composition = Composition(message.terms)  # a typed error here, before the worker
            params = _params(message.params, oracle.num_vars, len(composition.polys))
            total, argument, passes, streamed = await self.env.run_in_worker(
                prove_sum_job, oracle, message.terms, params, message.zerocheck, message.transcript,
                self._memory_budget, self._chunk_size,
            )
            return SumProved(total, argument, passes, streamed)
        raise ProverError(f"ProverActor does not handle {type(message).__name__}")

    def _load(self, message: LoadPolynomials) -> Loaded:
        if not 0 <= message.num_vars <= MAX_LOAD_VARS:
            raise InvalidParameters("num_vars", message.num_vars, f"in [0, {MAX_LOAD_VARS}]")
        if not 1 <= message.num_polys <= MAX_LOAD_POLYS:
            raise InvalidParameters("num_polys", message.num_polys, f"in [1, {MAX_LOAD_POLYS}]")
        size = message.num_polys << message.num_vars
        if len(message.values) != 4 * size:
            raise InvalidParameters("values", f"{len(message.values)} bytes", f"exactly {4 * size}")
        arr = np.frombuffer(message.values, dtype="<u4").astype(np.uint64)
        if arr.size and int(arr.max()) >= P:
            raise InvalidParameters("values", int(arr.max()), f"canonical, below {P}")
        self._oracles[message.name] = DenseOracle(arr.reshape(message.num_polys, -1), message.num_vars)
        self._committed = {k: v for k, v in self._committed.items() if k[0] != message.name}
        return Loaded(message.name, message.num_vars, message.num_polys)


class VerifierActor(Actor):
    """Verifies openings and sum-check arguments; always answers with a :class:`Verdict`.

    It refuses (``check="unpinned"``) to verify against nothing: an opening
    needs a pinned ``commitment``, a sum-check a pinned ``commitment`` and
    either an ``expected_sum`` or ``zerocheck=True``, since a proof about a
    polynomial the prover chose itself says nothing.
    """

    async def receive(self, message: object) -> object:
        """Verify one proof (in a worker under RealEnv); malformed input is a failed verdict."""
        if isinstance(message, VerifyOpening):
            if message.commitment is None:
                return Verdict(False, "unpinned", "an opening verified against no pinned commitment proves nothing")
            ok, check, detail = await self.env.run_in_worker(
                verify_opening_job, message.opening, message.transcript, message.commitment,
                message.min_security_bits, message.point, message.values,
            )
            return Verdict(ok, check, detail)
        if isinstance(message, VerifySum):
            if message.commitment is None or (message.expected_sum is None and message.zerocheck is not True):
                return Verdict(False, "unpinned",
                               "a sum-check verified with no pinned commitment and no pinned sum proves nothing")
            ok, check, detail = await self.env.run_in_worker(
                verify_sum_job, message.argument, message.transcript, message.expected_sum,
                message.min_security_bits, message.terms, message.zerocheck, message.commitment,
            )
            return Verdict(ok, check, detail)
        raise RejectMessage(ProverError(f"VerifierActor does not handle {type(message).__name__}"))
