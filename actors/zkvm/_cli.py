"""``stele vm prove`` and ``stele vm verify``: proofs of guest runs from the command line.

    stele vm prove FILE.elf [--input F] [--max-cycles N] -o PROOF
    stele vm verify PROOF --elf FILE.elf [--input F] [--output F] [--exit-code N]

``prove`` runs the guest in provable mode, writes the ``stele.vm-proof/3``
bytes to PROOF and prints the cycles, the proof's size and the prove time.
A run outside provable mode's subset is refused (exit 1, the line names what
is not covered).  ``verify`` prints ``verified`` (exit 0) or names the claim
that failed (exit 1); with ``--input``/``--output``/``--exit-code`` the
statement must also be about that input, output and exit code.  Unreadable
files are exit 2.  Only the prove time reads a clock (the co-processor's
allow-listed ``_wall_seconds``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_commands", "run_prove", "run_verify"]


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``prove`` and ``verify`` on ``stele vm``'s subparsers."""
    from ..._cli._common import count_arg

    prove = sub.add_parser("prove", help="prove a run of an ELF (provable mode: an RV32I subset)")
    prove.add_argument("file", type=Path, help="RV32 ELF executable")
    prove.add_argument("--input", type=Path, help="file read by the guest on fd 0 (bound by digest)")
    prove.add_argument("--max-cycles", type=count_arg, default=(1 << 20) - 1,
                       help="cycle limit (default and maximum 2^20 - 1)")
    prove.add_argument("-o", "--output", dest="proof", type=Path, required=True, help="where to write the proof")
    verify = sub.add_parser("verify", help="verify a proof made by 'stele vm prove'")
    verify.add_argument("proof", type=Path, help="the proof file")
    verify.add_argument("--elf", type=Path, required=True, help="the ELF the proof must be about")
    verify.add_argument("--input", type=Path, help="the input the proof must be about")
    verify.add_argument("--output", type=Path, help="the public output the proof must claim")
    verify.add_argument("--exit-code", type=int, default=None, help="the exit code the proof must claim")


def _read(path: Path) -> bytes:
    from ..._cli._common import USAGE, CliError

    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {str(path)!r}: {exc.strerror or exc}", USAGE) from None


def run_prove(args: argparse.Namespace) -> int:
    """``stele vm prove``: returns the exit status."""
    from stele.actors.coprocessor._cli import _wall_seconds
    from stele.actors.coprocessor._errors import CoprocessorError

    from ..._cli._common import USAGE, CliError, exit_code_for
    from . import Unprovable, encode_proof
    from ._prove import prove_run

    elf = _read(args.file)
    stdin = _read(args.input) if args.input else b""
    started = _wall_seconds()
    try:
        st, proof, cycles = prove_run(elf, stdin, max_cycles=max(1, min(args.max_cycles, (1 << 20) - 1)))
    except Unprovable as exc:
        raise CliError(str(exc)) from None
    except CoprocessorError as exc:
        raise CliError(f"{type(exc).__name__}: {exc}", exit_code_for(exc)) from None
    seconds = _wall_seconds() - started
    data = encode_proof(proof)
    try:
        args.proof.write_bytes(data)
    except OSError as exc:
        raise CliError(f"cannot write {str(args.proof)!r}: {exc.strerror or exc}", USAGE) from None
    print(f"cycles: {cycles} (padded to 2^{st.log_cycles} rows), exit code {st.exit_code}")
    print(f"proof: {len(data)} bytes -> {args.proof}")
    print(f"prove time: {seconds:.2f} s")
    print(f"public output: {len(st.output)} bytes")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """``stele vm verify``: prints ``verified`` and returns 0, or names the failed claim and returns 1."""
    from . import MalformedVmProof, ProofRejected, decode_proof, verify

    data = _read(args.proof)
    elf = _read(args.elf)
    stdin = _read(args.input) if args.input is not None else None
    output = _read(args.output) if args.output is not None else None
    try:
        proof = decode_proof(data)
        if args.exit_code is not None and (args.exit_code & 0xFFFFFFFF) != proof.statement.exit_code:
            raise ProofRejected("statement", f"the proof claims exit code {proof.statement.exit_code}, "
                                f"not {args.exit_code}")
        verify(proof.statement, proof, elf=elf, input_bytes=stdin, output=output)
    except (ProofRejected, MalformedVmProof) as exc:
        print(f"stele vm: {exc}", file=sys.stderr)
        return 1
    print("verified")
    print(f"exit code {proof.statement.exit_code}, at most {(1 << proof.statement.log_cycles) - 1} cycles")
    print(f"cycles: {proof.cycles} (proven)")
    print(f"public output: {len(proof.statement.output)} bytes")
    return 0
