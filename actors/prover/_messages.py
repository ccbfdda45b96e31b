"""The prover's and verifier's messages (tags 400-419 of the prover's 400-499 range).

Every message is a frozen, slotted dataclass in the protocol's closed
registry, so it round-trips through canonical CBOR and an actor can sit
behind a socket.  Proof objects travel as their canonical CBOR bytes (see
``_proof.py``), field elements as ints, vectors as packed little-endian
``uint32`` bytes.  ``params`` is ``(num_vars, log_rows, log_inv_rate,
num_queries)`` or ``None`` for :func:`~._params.choose_params`' default.
"""

from __future__ import annotations

from dataclasses import dataclass

from stele.protocol import Message, message

__all__ = [
    "Params",
    "Terms",
    "LoadPolynomials",
    "Loaded",
    "CommitPolynomial",
    "Committed",
    "OpenPolynomial",
    "Opened",
    "ProveSum",
    "SumProved",
    "VerifyOpening",
    "VerifySum",
    "Verdict",
    "ProveExecution",
    "ExecutionProven",
]

Params = tuple[int, int, int, int]
Terms = tuple[tuple[int, tuple[int, ...]], ...]


@message(400)
@dataclass(frozen=True, slots=True)
class LoadPolynomials(Message):
    """Register an in-memory oracle: ``values`` packs ``num_polys`` tables of ``2**num_vars``."""

    name: str
    num_vars: int
    num_polys: int
    values: bytes


@message(401)
@dataclass(frozen=True, slots=True)
class Loaded(Message):
    """Reply to :class:`LoadPolynomials`."""

    name: str
    num_vars: int
    num_polys: int


@message(402)
@dataclass(frozen=True, slots=True)
class CommitPolynomial(Message):
    """Commit to polynomial ``poly`` of oracle ``oracle`` (streamed by row blocks)."""

    oracle: str
    poly: int
    params: Params | None = None


@message(403)
@dataclass(frozen=True, slots=True)
class Committed(Message):
    """Reply to :class:`CommitPolynomial`: the encoded commitment."""

    oracle: str
    poly: int
    commitment: bytes


@message(404)
@dataclass(frozen=True, slots=True)
class OpenPolynomial(Message):
    """Open a committed polynomial at ``point`` (packed extension elements).

    ``transcript`` is the Fiat-Shamir protocol label both sides start from.
    """

    oracle: str
    poly: int
    point: bytes
    transcript: str


@message(405)
@dataclass(frozen=True, slots=True)
class Opened(Message):
    """Reply to :class:`OpenPolynomial`: the value and the encoded opening proof."""

    value: tuple[int, int, int, int]
    opening: bytes


@message(406)
@dataclass(frozen=True, slots=True)
class ProveSum(Message):
    """Prove ``sum_x g(x)`` over oracle ``oracle`` (a zero-check when ``zerocheck``).

    ``terms`` is the composition ``((coefficient, (poly, ...)), ...)``.
    """

    oracle: str
    terms: Terms
    transcript: str
    zerocheck: bool = False
    params: Params | None = None


@message(407)
@dataclass(frozen=True, slots=True)
class SumProved(Message):
    """Reply to :class:`ProveSum`: the encoded argument and how the prover streamed."""

    claimed_sum: tuple[int, int, int, int]
    argument: bytes
    passes: int
    streamed_rounds: int


@message(408)
@dataclass(frozen=True, slots=True)
class VerifyOpening(Message):
    """Verify an encoded opening proof.

    The opening carries its statement; pin what you expect with
    ``commitment`` (encoded), ``point`` (packed extension elements) and
    ``values``.  Without a pinned ``commitment`` the verdict is
    ``check="unpinned"``: an opening of a commitment nobody fixed proves nothing.
    """

    opening: bytes
    transcript: str
    commitment: bytes | None = None
    min_security_bits: int = 100
    point: bytes | None = None
    values: tuple[tuple[int, int, int, int], ...] | None = None


@message(409)
@dataclass(frozen=True, slots=True)
class VerifySum(Message):
    """Verify an encoded sum-check argument.

    The argument carries its statement; pin what you expect with
    ``expected_sum``, ``terms`` (the composition), ``zerocheck`` and
    ``commitment`` (encoded).  Without a pinned ``commitment`` and one of
    ``expected_sum`` or ``zerocheck=True`` the verdict is ``check="unpinned"``.
    """

    argument: bytes
    transcript: str
    expected_sum: tuple[int, int, int, int] | None = None
    min_security_bits: int = 100
    terms: Terms | None = None
    zerocheck: bool | None = None
    commitment: bytes | None = None


@message(410)
@dataclass(frozen=True, slots=True)
class Verdict(Message):
    """A verifier's answer: ``ok``, or the failed ``check`` and its ``detail``.

    A malformed proof is ``check="malformed: <field>"``.  Rejection is an
    answer, not an error: the verifier never fails on a bad proof.
    """

    ok: bool
    check: str = ""
    detail: str = ""


@message(411)
@dataclass(frozen=True, slots=True)
class ProveExecution(Message):
    """Prove one run of guest ``elf`` on ``input`` (within ``max_cycles``): a receipt comes back.

    ``target`` is what the execution was asked as (it names the guest in a
    :class:`stele.actors.receipts.NotProvable` refusal).  The proving runs in
    a worker process under RealEnv and inline under simulation.
    """

    elf: bytes
    input: bytes
    max_cycles: int
    target: str = "guest"


@message(412)
@dataclass(frozen=True, slots=True)
class ExecutionProven(Message):
    """Reply to :class:`ProveExecution`: the canonical ``stele.receipt/1`` bytes."""

    receipt: bytes
