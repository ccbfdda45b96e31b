"""``stele run TARGET [ARGS...]``: run stored code by name, digest or unique prefix.

::

    stele run fib 20                         # TEL: prints the value, cost, logs, memo hit
    stele run noisy 21 --allow Log           # grant effects (deny by default)
    stele run sha256 --input data.bin        # a stored RISC-V guest (kind riscv.elf)
    stele run fib 30 --fuel 1000 --json      # one JSON object (schema in docs/cli.md)
    stele run counter --prove --receipt c.receipt   # prove a guest's run (docs/receipts.md)
    stele run fib 20 --engine riscv          # TEL compiled to RISC-V, on the co-processor

The target is looked up in the store (``--store PATH``, ``$STELE_STORE`` or
``./.stele/store.sqlite``), or on a daemon with ``--connect ADDRESS`` (or
``$STELE_CONNECT``; the tenant's token in ``--token`` or ``$STELE_TOKEN``);
its kind picks the engine: TEL definitions run on
the interpreter (or, with ``--engine riscv``, compiled to a RISC-V guest on
the co-processor: docs/tel-compiler.md), ``riscv.elf`` blobs on the co-processor.  Each ARG of a TEL
entry is a TEL literal (``10``, ``"text"``, ``[1, 2]``, ``(1, true)``); an
argument that is not a literal is taken as a String, so ``stele run greet
bob`` works.  A guest's input is ``--input FILE``, or its one ARG as UTF-8.

Execution goes through the embedded runtime (:func:`stele.open_runtime`), so
limits, the sandbox, the effect journal and the memo cache are exactly those
of the library.  Errors are typed and one line; the exit code follows the
table in :mod:`stele._cli._common`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ._common import NOT_FOUND, USAGE, CliError, CliParser, UsageError, count_arg, emit_json

__all__ = ["main", "parse_tel_arg", "plain_value", "result_record", "store_path", "write_receipt",
           "guest_input"]


def _parser() -> CliParser:
    from ..actors.executor import ExecLimits

    d = ExecLimits()
    p = CliParser(prog="stele run", description="Run stored code by name, digest or prefix.")
    p.add_argument("target", help="a name, a digest or a unique digest prefix")
    p.add_argument("args", nargs="*", help="arguments: TEL literals (or a guest's input)")
    p.add_argument("--allow", action="append", default=[], metavar="EFFECT",
                   help="grant an effect (Log, Clock, Rand, KV, Exec); repeat for several")
    p.add_argument("--fuel", type=count_arg, default=d.fuel, help="TEL cost limit (default %(default)s)")
    p.add_argument("--memory", type=count_arg, default=d.memory, help="memory limit in bytes")
    p.add_argument("--depth", type=count_arg, default=d.depth, help="TEL call depth limit")
    p.add_argument("--cycles", type=count_arg, default=d.cycles, help="co-processor cycle limit")
    p.add_argument("--timeout", type=float, default=None, help="seconds (default: none)")
    p.add_argument("--input", type=Path, default=None, help="a guest's input file (fd 0)")
    p.add_argument("--engine", choices=("tel", "riscv"), default=None,
                   help="TEL code: the interpreter (tel, the default) or compiled to a RISC-V guest "
                        "on the co-processor (riscv)")
    p.add_argument("--no-memo", action="store_true", help="do not use the memo cache")
    p.add_argument("--prove", action="store_true",
                   help="prove the run and store its receipt: a guest, or TEL with --engine riscv "
                        "(docs/receipts.md)")
    p.add_argument("--receipt", type=Path, default=None, metavar="FILE",
                   help="with --prove: also write the receipt to FILE")
    p.add_argument("--durable", metavar="ID", default=None,
                   help="a durable execution with this id: effects journaled in the store, "
                        "resumable with `stele resume ID` (docs/durable.md)")
    p.add_argument("--store", metavar="PATH", default=None,
                   help="the store file (default: $STELE_STORE or ./.stele/store.sqlite)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--connect", metavar="ADDRESS", default=None,
                   help="run on a daemon (unix:PATH or tcp:HOST:PORT; default: $STELE_CONNECT)")
    p.add_argument("--token", default=None, help="the daemon tenant's token ($STELE_TOKEN)")
    return p



def parse_tel_arg(text: str) -> Any:
    """A command-line argument as a TEL value: a literal if it is one, else a String."""
    from ..tel._cost import Limits
    from ..tel._errors import TelError
    from ..tel._interp import Program
    from ..tel._parser import parse_expr, parse_module
    from ..tel._types import check_expr, check_module

    module = check_module(parse_module("", "<args>"), "")
    try:
        expr = parse_expr(text, "<arg>")
        check_expr(module, expr, source=text)
        return Program(module).evaluate(expr, limits=Limits(fuel=100_000)).value
    except TelError:
        if text[:1] in "\"[(" or text[:1].isdigit() or text[:1] == "-":
            raise UsageError(f"argument {text!r} is not a TEL literal") from None
        return text


def store_path(given: str | None) -> str:
    """The store the repository commands use; a missing one is a NOT_FOUND error."""
    from ..store._cli import default_store_path

    path = given or default_store_path()
    if not os.path.exists(path):
        raise CliError(f"no store at {path!r}: store something first ('stele store FILE.tel') "
                       "or pass --store PATH / set STELE_STORE", NOT_FOUND)
    if os.path.isdir(path):
        raise CliError(f"--store {path!r} is a directory; give the .sqlite file", NOT_FOUND)
    return path


def guest_input(ns: Any) -> bytes:
    """A guest's input: the ``--input`` file, or its one ARG as UTF-8 (else empty)."""
    if ns.input is not None and ns.args:
        raise UsageError("give a guest's input as --input FILE or as one ARG, not both")
    if len(ns.args) > 1:
        raise UsageError(f"a guest takes one input, got {len(ns.args)} arguments")
    data: bytes = ns.input.read_bytes() if ns.input is not None else (
        ns.args[0].encode() if ns.args else b"")
    return data


def _kind(path: str, target: str) -> str:
    from .. import RealEnv
    from ..store import Repository

    with Repository(path, clock=RealEnv(seed=0).wall_ns) as repo:
        return repo.get(target).kind


def plain_value(v: Any) -> Any:
    """A TEL value as JSON: lists and tuples as arrays, Bytes as ``{"bytes": hex}``,
    ``Some(x)`` as ``{"some": x}``, ``None`` (the empty Option) and Unit as null."""
    from ..tel._values import Some

    if isinstance(v, tuple | list):
        return [plain_value(x) for x in v]
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, Some):
        return {"some": plain_value(v.value)}
    return v


def result_record(r: Any) -> dict[str, Any]:
    """The ``--json`` record of an :class:`~stele.actors.executor.ExecResult`."""
    plain = plain_value
    u = r.usage
    return {
        "ok": True, "exit_code": 0 if r.engine == "tel" else (r.exit_code or 0) & 0xFF,
        "target": r.target, "digest": str(r.digest), "engine": r.engine,
        "value": plain(r.value), "cost": r.cost, "breakdown": dict(r.breakdown),
        "usage": {"fuel": u.fuel, "memory": u.memory, "cycles": u.cycles,
                  "storage": u.storage},
        "effects": r.effects, "journal_digest": str(r.journal_digest),
        "memo_hit": r.memo_hit, "logs": list(r.logs),
        "stdout": r.stdout.decode("utf-8", "replace"),
        "public_output": r.public_output.hex(),
        **({"receipt": str(r.receipt.digest())} if getattr(r, "receipt", None) is not None else {}),
    }


def main(argv: list[str]) -> int:
    """Entry point of ``stele run``."""
    import anyio

    from ._connect import remote_address

    ns = _parser().parse_args(argv)
    connect = remote_address(ns)  # an explicit --store beats $STELE_CONNECT
    if ns.receipt is not None and not ns.prove:
        raise UsageError("--receipt FILE needs --prove")
    if connect and ns.engine is not None:
        raise UsageError("--engine runs on the embedded runtime; it is not available with --connect yet")
    if connect:  # the daemon's store, not a local one (stele.daemon._cli.run_remote)
        from ..daemon._cli import run_remote
        return run_remote(ns, connect)
    path = store_path(ns.store)
    kind = _kind(path, ns.target)
    engine = "riscv" if kind == "riscv.elf" else "tel"
    if ns.engine == "tel" and engine == "riscv":
        raise UsageError(f"--engine tel: {ns.target!r} is a RISC-V guest, not TEL code")
    compiled = engine == "tel" and ns.engine == "riscv"  # TEL compiled to a guest
    args: Any
    if engine == "riscv":
        args = guest_input(ns)
    else:
        if ns.prove and ns.engine != "riscv":
            raise UsageError(f"--prove: {ns.target!r} is TEL code, which is proven as its compiled guest: "
                             "add --engine riscv")
        if ns.input is not None:
            raise UsageError("--input is for RISC-V guests; a TEL entry takes ARGS")
        args = [parse_tel_arg(a) for a in ns.args]
    if compiled:
        if ns.durable is not None:
            raise UsageError("--durable runs TEL on the interpreter; drop --engine riscv")
        engine = "riscv"
    result = anyio.run(_execute, path, ns, engine, args, backend="trio")
    write_receipt(ns, result)
    if ns.json:
        emit_json(result_record(result))
    else:
        _print(result, compiled)
    if engine == "riscv" and not compiled:
        return int(result.exit_code or 0) & 0xFF
    return 0


def write_receipt(ns: Any, result: Any) -> None:
    """``--receipt FILE``: write the run's receipt there (``stele receipt verify`` reads it)."""
    if ns.receipt is not None and result.receipt is not None:
        try:
            ns.receipt.write_bytes(result.receipt.encode())
        except OSError as exc:
            raise CliError(f"cannot write the receipt {str(ns.receipt)!r}: {exc.strerror or exc}", 2) from None


async def _execute(path: str, ns: Any, engine: str, args: Any) -> Any:
    import stele
    from ..actors.executor import ExecLimits
    from ..actors.sandbox import DENY_ALL, Policy

    limits = ExecLimits(fuel=ns.fuel, memory=ns.memory, depth=ns.depth, cycles=ns.cycles,
                        timeout=ns.timeout)
    known = ("Log", "Clock", "Rand", "KV", "Exec")
    for effect in ns.allow:
        if effect not in known:
            raise UsageError(f"--allow {effect!r}: not an effect (one of {', '.join(known)})")
    policy = Policy.allow("cli", *ns.allow) if ns.allow else DENY_ALL
    from ..tel._errors import TelError

    async with stele.open_runtime(path) as rt:
        try:
            return await rt.execute(ns.target, args, limits=limits, policy=policy,
                                    engine=engine, memo=not ns.no_memo, prove=ns.prove,
                                    durable=getattr(ns, "durable", None))
        except TelError as exc:
            if type(exc) is TelError:  # the entry's arity or argument types: a usage mistake
                raise UsageError(str(exc)) from None
            from ..tel.compiler import CompileUnsupported
            if isinstance(exc, CompileUnsupported):  # --engine riscv on what does not compile
                raise CliError(f"CompileUnsupported: {exc} (it runs on --engine tel)", USAGE) from None
            raise


def _print(r: Any, compiled: bool = False) -> None:
    """TEL: value, logs, cost and memo hit on stdout.  A guest: its own stdout
    verbatim, and the rest on stderr (so binary output pipes cleanly).  TEL
    compiled to a guest prints as TEL (cost, then the guest's cycles)."""
    from ..tel._values import show_value

    meta = sys.stdout
    if compiled:  # TEL compiled to a guest: as TEL (its breakdown is the guest's cycles)
        print(show_value(r.value))
    elif r.engine == "riscv":
        sys.stdout.buffer.write(r.stdout)
        sys.stdout.flush()
        meta = sys.stderr
        print(f"exit={r.exit_code} cycles={r.usage.cycles}", file=meta)
        if getattr(r, "receipt", None) is not None:
            print(f"receipt={r.receipt.digest()} ({len(r.receipt.proof)} proof bytes)", file=meta)
    else:
        print(show_value(r.value))
    for line in r.logs:
        print(f"log: {line}", file=meta)
    top = ", ".join(f"{k}={v}" for k, v in sorted(r.breakdown.items(), key=lambda kv: -kv[1])[:6])
    print(f"cost={r.cost}" + (f" ({top})" if top else ""), file=meta)
    print(f"memo_hit={'yes' if r.memo_hit else 'no'} digest={r.digest}", file=meta)
    if compiled and getattr(r, "receipt", None) is not None:  # on stderr, as a guest's receipt line
        print(f"receipt={r.receipt.digest()} ({len(r.receipt.proof)} proof bytes)", file=sys.stderr)
