"""The ``stele`` command: a thin dispatcher to each subsystem's own CLI.

Each subcommand lives beside the code it drives and exposes a function
``(argv: list[str]) -> int``; this module only routes, so that starting
``stele vm`` never imports the prover, and subsystems stay independent.
Output lines named in the issues (``trace_hash=``, ``SEED=`` ...) are
contracts: extend, never rename.

The dispatcher also applies the conventions of :mod:`stele._cli._common`
to every subcommand: an exception that leaves one becomes a single line on
stderr and the documented exit code (``--json`` adds a JSON error record on
stdout), Ctrl-C exits 130 with ``stele: interrupted``, and ``--traceback``
(anywhere on the line, or ``STELE_TRACEBACK=1``) shows the full traceback.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

from ._cli._common import (EXIT_CODES, INTERNAL, INTERRUPTED, USAGE, describe, emit_json,
                           error_record, exit_code_for)

__all__ = ["main", "COMMANDS"]

#: subcommand -> ("module:function", one-line help).  The function takes the
#: arguments after the subcommand name and returns the exit status.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("stele._cli._run:main", "run stored code (TEL or a RISC-V guest) by name or digest"),
    "resume": ("stele._cli._resume:main", "finish a durable execution from its journal"),
    "debug": ("stele._cli._debug:main",
              "time-travel debugger: replay a TEL execution, step forwards and back"),
    "eval": ("stele.tel._cli:main", "evaluate a TEL expression (sees stored names)"),
    "repl": ("stele._cli._repl:main", "an interactive TEL prompt against the store"),
    "store": ("stele.store._cli:store_main", "store TEL definitions in the repository"),
    "show": ("stele.store._cli:show_main", "show a stored definition and its dependencies"),
    "names": ("stele.store._cli:names_main", "list names in the repository"),
    "history": ("stele.store._cli:history_main", "show the history of a name"),
    "dependents": ("stele._cli._names:dependents_main", "list the stored code that uses a name"),
    "rename": ("stele._cli._names:rename_main", "move a name (objects never change)"),
    "delete": ("stele._cli._names:delete_main", "remove a name (history keeps it)"),
    "diff": ("stele._cli._names:diff_main", "compare two versions: NAME@N NAME@M"),
    "profile": ("stele._cli._profile:main",
                "profile stored TEL code or a RISC-V guest (flame graph, speedscope, Perfetto)"),
    "compile": ("stele.tel.compiler._cli:main", "compile stored TEL code to an RV32IM ELF"),
    "vm": ("stele.actors.coprocessor._cli:main", "run RISC-V guests on the co-processor"),
    "receipt": ("stele._cli._receipt:main", "verify, show or export execution receipts"),
    "sim": ("stele.sim._cli:main", "run the deterministic simulator"),
    "demo": ("stele._demo:main", "store and run the examples on the embedded runtime"),
    "serve": ("stele.daemon._cli:serve_main", "run the execution daemon (docs/daemon.md)"),
    "tenant": ("stele.daemon._cli:tenant_main", "add, list or remove the daemon's tenants"),
    "status": ("stele.daemon._cli:status_main", "show a running daemon's status"),
}


def _version() -> str:
    from . import __version__

    return f"stele {__version__} (Python {sys.version.split()[0]})"


def _usage() -> str:
    lines = ["usage: stele [--version] [--traceback] COMMAND [ARGS...]", "", "commands:"]
    for name, (_module, help_) in COMMANDS.items():
        lines.append(f"  {name:<11} {help_}")
    lines.append("")
    lines.append("exit codes:")
    for code, meaning in EXIT_CODES.items():
        lines.append(f"  {code:<4} {meaning}")
    lines.append("")
    lines.append("Run 'stele COMMAND --help' for a command's options.")
    return "\n".join(lines)


def _interrupt(exc: BaseException) -> bool:
    """True if ``exc`` is (or is a group made only of) KeyboardInterrupt / trio's Cancelled."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_interrupt(e) for e in exc.exceptions)
    return False


def _single(exc: BaseException) -> BaseException:
    """The one error inside nested single-member exception groups (as trio/anyio wrap them)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stele`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    traceback = os.environ.get("STELE_TRACEBACK", "") not in ("", "0")
    head = args[: args.index("--")] if "--" in args else args
    if "--traceback" in head:
        traceback = True
        args.remove("--traceback")
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else USAGE
    if args[0] in ("--version", "-V", "version"):
        print(_version())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"stele: error: unknown command {name!r} (see 'stele --help')", file=sys.stderr)
        return USAGE
    json_mode = "--json" in rest
    try:
        if os.environ.get("STELE_CLI_READY"):  # for tests: says when a command is under way
            print("stele: ready", file=sys.stderr, flush=True)
        return _dispatch(name, rest)
    except SystemExit as exc:  # argparse's --help / exit(); a code, never a traceback
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else USAGE)
    except BaseException as raw:
        if _interrupt(raw):
            _quiet_flush()
            print("stele: interrupted", file=sys.stderr)
            return INTERRUPTED
        if isinstance(raw, BrokenPipeError):  # `stele names | head`: the reader left
            _silence_stdout()
            return 0
        if not isinstance(raw, Exception):
            raise
        lone = _single(raw)
        code = exit_code_for(lone)
        if traceback:
            import traceback as tb

            tb.print_exception(raw)
        _quiet_flush()
        if json_mode:
            emit_json(error_record(lone, code))
        hint = " (a bug: rerun with --traceback and report it)" if code == INTERNAL else ""
        print(f"stele {name}: error: {describe(lone)}{hint}", file=sys.stderr)
        return code


def _dispatch(name: str, rest: list[str]) -> int:
    module_name, _, function_name = COMMANDS[name][0].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            print(f"stele: error: command {name!r} is not available in this build",
                  file=sys.stderr)
            return USAGE
        raise
    command_main = getattr(module, function_name)
    code: int = command_main(rest)
    return code


def _quiet_flush() -> None:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def console() -> None:
    """The console-script wrapper: SIGINT raises KeyboardInterrupt; exit with main's code."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = main()
    except KeyboardInterrupt:  # between two statements of main, outside its handler
        print("stele: interrupted", file=sys.stderr)
        code = INTERRUPTED
    _quiet_flush()
    raise SystemExit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
