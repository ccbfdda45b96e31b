"""The prover: BabyBear fields, multilinear polynomials, sum-check, commitments, and actors.

The math layer (each module's docstring documents its conventions)::

    from stele.actors.prover import (
        Composition, DenseOracle, Transcript, expand_base,
        prove_sumcheck, prove_sumcheck_streaming, verify_sumcheck, evaluate,
    )

    a, b = expand_base(b"a", 1 << 16), expand_base(b"b", 1 << 16)
    g = Composition.product(0, 1)                     # g = f_0 · f_1
    proof = prove_sumcheck([a, b], g, Transcript("my.protocol"))
    same, report = prove_sumcheck_streaming(DenseOracle([a, b]), g, Transcript("my.protocol"))
    assert same == proof                              # streaming == dense, value for value
    result = verify_sumcheck(proof, g, 16, Transcript("my.protocol"))
    assert result.final_evals == (evaluate(a, result.point), evaluate(b, result.point))

* ``_field``: P = 15·2^27 + 1 as ``uint64`` arrays; the quartic extension
  F_p[X]/(X^4 - 11) as ``(n, 4)`` arrays or 4-tuples of ints.
* ``_ntt``: NTT / inverse NTT / cosets / LDE / Reed–Solomon encoding.
* ``_mle``: tables with x_1 = the index's lowest bit; fold, evaluate, eq.
* ``_oracle``: the ``PolynomialOracle`` Protocol the co-processor implements.
* ``_sumcheck``: dense and streaming provers, verifier, zero-check.
* ``_transcript``: Fiat–Shamir over BLAKE2b or SHA-256, unbiased challenges.
* ``_kernels``: numba or numpy for the hot loops (``$STELE_PROVER_KERNELS``);
  ``_kernels_jit`` holds the numba kernels, each tested against its numpy reference.

The commitment layer (a Ligero-style, hash-based multilinear commitment) and
complete arguments over committed polynomials::

    from stele.actors.prover import (
        Composition, DenseOracle, Transcript, choose_params, commit_table, expand_base,
        expand_ext, prove_evaluation, verify_evaluation, prove_sum_argument,
        verify_sum_argument, encode_argument, decode_argument,
    )

    f = expand_base(b"f", 1 << 12)
    params = choose_params(12)                        # >= 100 bits (see _params)
    committed = commit_table(f, params)               # streams row blocks
    point = expand_ext(b"r", 12)
    value, proof = prove_evaluation(committed, point, Transcript("my.pcs"))
    verify_evaluation(committed.commitment, point, value, proof, Transcript("my.pcs"))

    g = expand_base(b"g", 1 << 12)
    argument, report = prove_sum_argument(            # commit f, g; sum-check f·g; open
        DenseOracle([f, g]), Composition.product(0, 1),
        choose_params(12, num_polys=2), Transcript("my.sum"))
    wire = encode_argument(argument)                  # canonical CBOR
    verify_sum_argument(decode_argument(wire), Transcript("my.sum"))

* ``_params``: shape, query count and the soundness formula.
* ``_merkle``: BLAKE2b Merkle tree, leaves and nodes domain-separated.
* ``_commit``: streaming batched commitment, openings, verification.
* ``_argument``: sum-check (or zero-check) argument over committed polynomials.
* ``_proof`` / ``_wire``: canonical CBOR forms; strict, typed decoding.
* ``_actors`` / ``_messages``: ProverActor, VerifierActor, messages 400-410.
"""

from ._errors import InvalidParameters as InvalidParameters
from ._errors import MalformedProof as MalformedProof
from ._errors import ProverError as ProverError
from ._errors import VerificationFailed as VerificationFailed
from ._field import EXT_ONE as EXT_ONE
from ._field import EXT_W as EXT_W
from ._field import EXT_ZERO as EXT_ZERO
from ._field import GENERATOR as GENERATOR
from ._field import P as P
from ._field import TWO_ADICITY as TWO_ADICITY
from ._field import ByteSource as ByteSource
from ._field import Ext as Ext
from ._field import NotInvertible as NotInvertible
from ._field import add as add
from ._field import as_base as as_base
from ._field import as_ext as as_ext
from ._field import expand_base as expand_base
from ._field import expand_ext as expand_ext
from ._field import ext as ext
from ._field import ext_add as ext_add
from ._field import ext_frobenius as ext_frobenius
from ._field import ext_inv as ext_inv
from ._field import ext_mul as ext_mul
from ._field import ext_neg as ext_neg
from ._field import ext_pow as ext_pow
from ._field import ext_scale as ext_scale
from ._field import ext_sub as ext_sub
from ._field import ext_zeros as ext_zeros
from ._field import inv as inv
from ._field import lift as lift
from ._field import mul as mul
from ._field import neg as neg
from ._field import power as power
from ._field import sample_base as sample_base
from ._field import sub as sub
from ._field import vadd as vadd
from ._field import vdot as vdot
from ._field import vext_add as vext_add
from ._field import vext_add_scalar as vext_add_scalar
from ._field import vext_inv as vext_inv
from ._field import vext_mul as vext_mul
from ._field import vext_mul_scalar as vext_mul_scalar
from ._field import vext_neg as vext_neg
from ._field import vext_scale as vext_scale
from ._field import vext_sub as vext_sub
from ._field import vext_sum as vext_sum
from ._field import vext_to_list as vext_to_list
from ._field import vinv as vinv
from ._field import vmul as vmul
from ._field import vneg as vneg
from ._field import vpow as vpow
from ._field import vsub as vsub
from ._field import vsum as vsum
from ._mle import Composition as Composition
from ._mle import Point as Point
from ._mle import VirtualPolynomial as VirtualPolynomial
from ._mle import eq_eval as eq_eval
from ._mle import eq_table as eq_table
from ._mle import evaluate as evaluate
from ._mle import evaluate_reference as evaluate_reference
from ._mle import fold as fold
from ._mle import num_vars_of as num_vars_of
from ._mle import table_mul as table_mul
from ._mle import table_sum as table_sum
from ._oracle import DenseOracle as DenseOracle
from ._oracle import PolynomialOracle as PolynomialOracle
from ._oracle import check_read as check_read
from ._sumcheck import DEFAULT_CHUNK as DEFAULT_CHUNK
from ._sumcheck import DEFAULT_MEMORY_BUDGET as DEFAULT_MEMORY_BUDGET
from ._sumcheck import StreamingReport as StreamingReport
from ._sumcheck import SumcheckProof as SumcheckProof
from ._sumcheck import SumcheckResult as SumcheckResult
from ._sumcheck import interpolate_at as interpolate_at
from ._sumcheck import prove_sumcheck as prove_sumcheck
from ._sumcheck import prove_sumcheck_streaming as prove_sumcheck_streaming
from ._sumcheck import prove_zerocheck as prove_zerocheck
from ._sumcheck import prove_zerocheck_streaming as prove_zerocheck_streaming
from ._sumcheck import verify_sumcheck as verify_sumcheck
from ._sumcheck import verify_zerocheck as verify_zerocheck
from ._ntt import coset_intt as coset_intt
from ._ntt import coset_ntt as coset_ntt
from ._ntt import intt as intt
from ._ntt import lde as lde
from ._ntt import ntt as ntt
from ._ntt import ntt_reference as ntt_reference
from ._ntt import root_of_unity as root_of_unity
from ._ntt import rs_encode as rs_encode
from ._actors import ProverActor as ProverActor
from ._actors import VerifierActor as VerifierActor
from ._messages import Committed as Committed
from ._messages import ExecutionProven as ExecutionProven
from ._messages import ProveExecution as ProveExecution
from ._messages import CommitPolynomial as CommitPolynomial
from ._messages import Loaded as Loaded
from ._messages import LoadPolynomials as LoadPolynomials
from ._messages import Opened as Opened
from ._messages import OpenPolynomial as OpenPolynomial
from ._messages import ProveSum as ProveSum
from ._messages import SumProved as SumProved
from ._messages import Verdict as Verdict
from ._messages import VerifyOpening as VerifyOpening
from ._messages import VerifySum as VerifySum
from ._argument import SumcheckArgument as SumcheckArgument
from ._argument import prove_sum_argument as prove_sum_argument
from ._argument import verify_sum_argument as verify_sum_argument
from ._commit import Commitment as Commitment
from ._commit import CommittedPolynomial as CommittedPolynomial
from ._commit import EvalProof as EvalProof
from ._commit import RowSource as RowSource
from ._commit import commit as commit
from ._commit import commit_oracle as commit_oracle
from ._commit import commit_table as commit_table
from ._commit import prove_evaluation as prove_evaluation
from ._commit import prove_evaluations as prove_evaluations
from ._commit import rows_from_oracle as rows_from_oracle
from ._commit import rows_from_table as rows_from_table
from ._commit import verify_evaluation as verify_evaluation
from ._commit import verify_evaluations as verify_evaluations
from ._merkle import MerkleTree as MerkleTree
from ._params import CommitParams as CommitParams
from ._params import choose_params as choose_params
from ._params import soundness_bits as soundness_bits
from ._params import soundness_error as soundness_error
from ._proof import OpeningProof as OpeningProof
from ._proof import decode_argument as decode_argument
from ._proof import decode_commitment as decode_commitment
from ._proof import decode_opening as decode_opening
from ._proof import decode_sumcheck as decode_sumcheck
from ._proof import encode_argument as encode_argument
from ._proof import encode_commitment as encode_commitment
from ._proof import encode_opening as encode_opening
from ._proof import encode_sumcheck as encode_sumcheck
from ._proof import verify_opening as verify_opening
from ._transcript import HashName as HashName
from ._transcript import Transcript as Transcript

__all__ = [
    "ProverError",
    "MalformedProof",
    "VerificationFailed",
    "InvalidParameters",
    "NotInvertible",
    # field
    "P",
    "TWO_ADICITY",
    "GENERATOR",
    "EXT_W",
    "EXT_ZERO",
    "EXT_ONE",
    "Ext",
    "ByteSource",
    "add",
    "sub",
    "mul",
    "neg",
    "inv",
    "power",
    "as_base",
    "vadd",
    "vsub",
    "vmul",
    "vneg",
    "vinv",
    "vpow",
    "vsum",
    "vdot",
    "sample_base",
    "expand_base",
    "ext",
    "ext_add",
    "ext_sub",
    "ext_mul",
    "ext_neg",
    "ext_inv",
    "ext_pow",
    "ext_scale",
    "ext_frobenius",
    "as_ext",
    "ext_zeros",
    "lift",
    "vext_add",
    "vext_sub",
    "vext_mul",
    "vext_neg",
    "vext_inv",
    "vext_scale",
    "vext_mul_scalar",
    "vext_add_scalar",
    "vext_sum",
    "vext_to_list",
    "expand_ext",
    # ntt
    "root_of_unity",
    "ntt",
    "intt",
    "coset_ntt",
    "coset_intt",
    "lde",
    "rs_encode",
    "ntt_reference",
    # multilinear
    "Point",
    "num_vars_of",
    "fold",
    "evaluate",
    "evaluate_reference",
    "eq_table",
    "eq_eval",
    "Composition",
    "VirtualPolynomial",
    "table_mul",
    "table_sum",
    # oracle
    "PolynomialOracle",
    "DenseOracle",
    "check_read",
    # sum-check
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
    # transcript
    "Transcript",
    "HashName",
    # commitment, proofs, arguments
    "SumcheckArgument",
    "prove_sum_argument",
    "verify_sum_argument",
    "Commitment",
    "CommittedPolynomial",
    "EvalProof",
    "RowSource",
    "commit",
    "commit_oracle",
    "commit_table",
    "prove_evaluation",
    "prove_evaluations",
    "rows_from_oracle",
    "rows_from_table",
    "verify_evaluation",
    "verify_evaluations",
    "MerkleTree",
    "CommitParams",
    "choose_params",
    "soundness_bits",
    "soundness_error",
    "OpeningProof",
    "decode_argument",
    "decode_commitment",
    "decode_opening",
    "encode_argument",
    "encode_commitment",
    "encode_opening",
    "verify_opening",
    "encode_sumcheck",
    "decode_sumcheck",
    # actors and messages
    "ProverActor",
    "VerifierActor",
    "Committed",
    "CommitPolynomial",
    "Loaded",
    "LoadPolynomials",
    "Opened",
    "OpenPolynomial",
    "ProveSum",
    "SumProved",
    "Verdict",
    "VerifyOpening",
    "VerifySum",
    "ProveExecution",
    "ExecutionProven",
]
