"""``stele vm``: run RISC-V guests on the co-processor from the command line.

    stele vm prove FILE.elf [--input FILE] -o PROOF          (see stele.actors.zkvm._cli)
    stele vm verify PROOF --elf FILE.elf [--input F] [--output F] [--exit-code N]
    stele vm run FILE.elf|NAME [--input FILE] [--max-cycles N] [--signature FILE]
                          [--public FILE] [--memory-limit BYTES] [--raw BASE]
                          [--engine {interp,jit,native}] [--interp] [--ecall-traps] [--stats]
                          [--allow EFFECT...] [--json]

The guest's stdout and stderr go to ours; its public output (fd 3) to
``--public FILE`` if given.  The exit status is the guest's (its low 8 bits,
as a process would have).  If the run fails -- a bad ELF, a guest fault, the
cycle or memory limit -- one line names the error on stderr and the status is
that of the exit-code table (``stele --help``; 2 bad ELF or unreadable file,
3 cycle or memory limit, 1 guest fault, 4 an effect that was not granted).
``--stats`` prints cycles, seconds and MIPS to stderr; that is the only
wall-clock read in the co-processor, isolated in :func:`_wall_seconds`
(allow-listed for the determinism check).

FILE may also be the name, digest or prefix of a stored ``riscv.elf`` blob.
Effect calls (``0x5E1E``) are denied unless granted: ``--allow Log --allow KV``
runs the guest through the embedded runtime's sandbox (see
:mod:`stele._cli._vm`); ``--json`` prints one JSON record on stdout.
``--engine`` picks the engine: ``interp`` (the reference interpreter), ``jit``
(Python compiled blocks) or ``native`` (numba, the ``fast`` extra); the default
is the fastest one installed, and ``--interp`` is short for ``--engine interp``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._elf import load_elf, load_raw
from ._errors import CoprocessorError
from ._machine import ENGINES, Machine, MachineConfig, default_engine

__all__ = ["main", "FAILURE_STATUS"]

#: The status every failure had before the shared exit-code table; kept for
#: importers, no longer returned (failures use the table's codes).
FAILURE_STATUS = 125


def _wall_seconds() -> float:
    """Monotonic wall-clock seconds, for ``--stats`` only (not part of any result)."""
    import time

    return time.perf_counter()


def _address(text: str) -> int:
    """``--raw BASE``: an integer in any Python base notation (0x..., 0o..., decimal)."""
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address: {text!r} (e.g. 0x10000)") from None



def _parser() -> argparse.ArgumentParser:
    from ..._cli._common import CliParser, count_arg

    p = CliParser(prog="stele vm", description="Run RV32IM guests.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an ELF (or raw image) to completion")
    run.add_argument("file", type=Path,
                     help="RV32IM ELF executable (or raw image with --raw), or a stored blob's name")
    run.add_argument("--raw", type=_address, metavar="BASE",
                     help="load FILE as a raw image at address BASE (entry = BASE)")
    run.add_argument("--input", type=Path, help="file read by the guest on fd 0")
    run.add_argument("--max-cycles", type=count_arg, default=1_000_000_000,
                     help="cycle limit (default 10^9); exceeding it is an error")
    run.add_argument("--signature", type=Path,
                     help="write the begin/end_signature words here, one %%08x per line")
    run.add_argument("--public", type=Path, help="write the guest's public output (fd 3) here")
    run.add_argument("--memory-limit", type=count_arg, default=MachineConfig.memory_limit,
                     help="bytes of guest memory (default 64 MiB)")
    run.add_argument("--engine", choices=ENGINES, default=None,
                     help="execution engine (default: the fastest installed, "
                     "native with numba, else jit)")
    run.add_argument("--interp", action="store_true",
                     help="same as --engine interp")
    run.add_argument("--ecall-traps", action="store_true",
                     help="ecall traps to mtvec instead of being a host syscall")
    run.add_argument("--stats", action="store_true", help="print cycles, time and MIPS to stderr")
    run.add_argument("--allow", action="append", default=[], metavar="EFFECT",
                     help="grant an effect to the guest (Log, Clock, Rand, KV, Exec); repeatable")
    run.add_argument("--store", metavar="PATH", default=None,
                     help="the store holding named guests (default: $STELE_STORE or "
                          "./.stele/store.sqlite)")
    run.add_argument("--json", action="store_true", help="print one JSON record on stdout")
    from ..._cli._connect import add_connect_args

    add_connect_args(run)
    from ..zkvm._cli import add_commands  # prove / verify (the prover loads only when they run)

    add_commands(sub)
    return p


def main(argv: list[str]) -> int:
    """Entry point of ``stele vm``; returns the guest's exit status."""
    from ..._cli import _vm
    from ..._cli._common import USAGE, exit_code_for

    args = _parser().parse_args(argv)
    if args.command in ("prove", "verify"):
        from ..zkvm import _cli as zk

        return zk.run_prove(args) if args.command == "prove" else zk.run_verify(args)
    try:
        data = _vm.guest_bytes(args.file, _vm.guest_store(args))
        stdin = args.input.read_bytes() if args.input else b""
    except OSError as exc:
        print(f"stele vm: error: {exc}", file=sys.stderr)
        return USAGE
    if args.allow:
        return _vm.run_granted(args, data, stdin)
    config = MachineConfig(memory_limit=args.memory_limit,
                           host_syscalls=not args.ecall_traps)
    if args.interp and args.engine not in (None, "interp"):
        print(f"stele vm: --interp contradicts --engine {args.engine}", file=sys.stderr)
        return 2
    engine = "interp" if args.interp else (args.engine or default_engine())
    started = _wall_seconds()
    machine: Machine | None = None
    try:
        program = load_elf(data) if args.raw is None else load_raw(data, args.raw)
        machine = Machine(program, input=stdin, config=config, effect_handler=_vm.no_grant)
        result = machine.run(args.max_cycles, engine=engine)
    except (CoprocessorError, _vm.NotGranted) as exc:
        if machine is not None:
            _flush(machine, args.json)
        if args.json:
            _vm.emit_failure(exc, machine)
        print(f"stele vm: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    finally:
        if args.stats and machine is not None:
            seconds = _wall_seconds() - started
            mips = machine.cycle / seconds / 1e6 if seconds > 0 else 0.0
            print(f"engine={engine} cycles={machine.cycle} time={seconds:.3f}s mips={mips:.2f}",
                  file=sys.stderr)
    _flush(machine, args.json)
    try:
        if args.public:
            args.public.write_bytes(result.public_output)
        if args.signature:
            args.signature.write_text(machine.signature_text())
    except (CoprocessorError, OSError) as exc:
        print(f"stele vm: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    if args.json:
        _vm.emit_success(machine, result)
    return result.exit_code & 0xFF


def _flush(machine: Machine, json: bool = False) -> None:
    if json:  # the JSON record carries stdout; stderr still goes to ours
        sys.stderr.buffer.write(bytes(machine.stderr))
        sys.stderr.buffer.flush()
        return
    sys.stdout.buffer.write(bytes(machine.stdout))
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(bytes(machine.stderr))
    sys.stderr.buffer.flush()
