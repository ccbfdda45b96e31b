"""Conventions shared by every ``stele`` subcommand: exit codes, errors, ``--json``, Ctrl-C.

A subcommand is a function ``(argv: list[str]) -> int``.  It may simply
raise: the dispatcher (:func:`stele.cli.main`) turns any exception that
leaves it into **one line** on stderr and the exit code of the table below,
so no user mistake ever shows a traceback (``stele --traceback CMD ...`` or
``STELE_TRACEBACK=1`` shows it, for developers).  Ctrl-C anywhere exits 130
with the single line ``stele: interrupted``.

Use :class:`CliParser` instead of ``argparse.ArgumentParser``: a usage
mistake is one line (``stele sim: error: argument --seed: invalid int value:
'abc' (see 'stele sim --help')``) and exit 2, never a page of usage.

Exit codes (the one table, documented in ``docs/cli.md``):

====  =======================================================================
0     success
1     the program failed (TEL runtime error, guest fault, failed simulation)
2     usage: bad flags or arguments, unreadable input file, malformed input
3     a limit was exceeded (fuel, memory, depth, cycles, time, storage)
4     an effect was denied by the policy
5     not found: unknown name, digest or prefix; ambiguous prefix; no store
6     the store cannot be opened or is damaged (integrity failure)
7     a proof or receipt did not verify
70    internal error (a bug in Stele: please report it with --traceback)
130   interrupted (Ctrl-C / SIGINT)
====  =======================================================================
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

__all__ = [
    "OK", "PROGRAM_ERROR", "USAGE", "LIMIT", "DENIED", "NOT_FOUND", "STORE", "VERIFY",
    "INTERNAL", "INTERRUPTED", "EXIT_CODES", "CliError", "UsageError", "CliParser",
    "exit_code_for", "describe", "one_line", "emit_json", "error_record",
]

OK = 0
PROGRAM_ERROR = 1
USAGE = 2
LIMIT = 3
DENIED = 4
NOT_FOUND = 5
STORE = 6
VERIFY = 7
INTERNAL = 70
INTERRUPTED = 130

#: code -> meaning; the single source of the table in the docs and ``stele --help``.
EXIT_CODES: dict[int, str] = {
    OK: "success",
    PROGRAM_ERROR: "the program failed (TEL runtime error, guest fault, failed simulation)",
    USAGE: "usage: bad flags or arguments, unreadable or malformed input",
    LIMIT: "a limit was exceeded (fuel, memory, depth, cycles, time, storage)",
    DENIED: "an effect was denied by the policy",
    NOT_FOUND: "not found: unknown name, digest or prefix, ambiguous prefix, no store",
    STORE: "the store cannot be opened or is damaged",
    VERIFY: "a proof or receipt did not verify",
    INTERNAL: "internal error (a bug in Stele; rerun with --traceback and report it)",
    INTERRUPTED: "interrupted (Ctrl-C)",
}


class CliError(Exception):
    """A user-facing failure with its exit code; the message is printed as one line."""

    def __init__(self, message: str, code: int = PROGRAM_ERROR) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CliError):
    """Bad flags or arguments (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE)


class CliParser(argparse.ArgumentParser):
    """``argparse`` whose errors are one line and :class:`UsageError` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# (module, class name, exit code), most specific first; modules load only when
# an error is being classified, so the table costs nothing on success.
_CLASSES: tuple[tuple[str, str, int], ...] = (
    ("stele._cli._common", "CliError", -1),
    ("stele.actors.sandbox", "EffectDenied", DENIED),
    ("stele.actors.sandbox", "PolicyError", USAGE),
    ("stele.actors.sandbox", "StorageLimitExceeded", LIMIT),
    ("stele.tel", "TelLimitError", LIMIT),
    ("stele.actors.executor", "ExecutionTimeout", LIMIT),
    ("stele.actors.executor", "BadArguments", USAGE),
    ("stele.actors.executor", "UnknownEngine", USAGE),
    ("stele.actors.allocator", "InsufficientResources", LIMIT),
    ("stele.actors.coprocessor", "CycleLimitExceeded", LIMIT),
    ("stele.actors.coprocessor", "MemoryLimitExceeded", LIMIT),
    ("stele.actors.coprocessor", "ElfError", USAGE),
    ("stele.protocol", "AmbiguousPrefix", NOT_FOUND),
    ("stele.store", "UnknownTarget", NOT_FOUND),
    ("stele.store", "NameNotFound", NOT_FOUND),
    ("stele.store", "ObjectNotFound", NOT_FOUND),
    ("stele.store", "MissingDependencies", NOT_FOUND),
    ("stele.store", "WrongKind", USAGE),
    ("stele.store", "InvalidName", USAGE),
    ("stele.store", "DigestMismatch", STORE),
    ("stele.store", "CorruptObject", STORE),
    ("stele.store", "StoreError", STORE),
    ("stele.actors.cache", "CacheCorrupt", STORE),
    ("stele.actors.prover", "VerificationFailed", VERIFY),
    ("stele.actors.prover", "MalformedProof", VERIFY),
    ("stele.actors.receipts", "ReceiptRejected", VERIFY),
    ("stele.actors.receipts", "MalformedReceipt", VERIFY),
    ("stele.tel", "TelSyntaxError", USAGE),
    ("stele.tel", "TelTypeError", USAGE),
    ("stele.sim", "SimError", USAGE),
    ("stele.protocol", "DigestError", NOT_FOUND),
    ("stele.daemon", "AuthError", DENIED),
    ("stele.daemon", "JobNotFound", NOT_FOUND),
    ("stele.actors.sandbox", "UnknownExecution", NOT_FOUND),
    ("stele.daemon", "ConfigError", USAGE),
    ("stele.daemon", "AddressError", USAGE),
    ("stele.daemon", "TenantError", USAGE),
)


def count_arg(text: str) -> int:
    """argparse ``type=`` for a non-negative integer option (``--fuel``, ``--max-cycles``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _loaded_class(module: str, name: str) -> type[BaseException] | None:
    mod = sys.modules.get(module)
    if mod is None:  # an error of a module that was never imported cannot be raised
        try:
            mod = importlib.import_module(module)
        except ImportError:
            return None
    cls = getattr(mod, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code of an exception leaving a subcommand."""
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    for module, name, code in _CLASSES[1:]:
        cls = _loaded_class(module, name)
        if cls is not None and isinstance(exc, cls):
            return code
    from .._errors import SteleError

    if isinstance(exc, SteleError):
        return PROGRAM_ERROR
    if isinstance(exc, (OSError, UnicodeDecodeError)):
        return USAGE
    return INTERNAL


def describe(exc: BaseException) -> str:
    """The exception as one line: its type (for Stele's own errors) and message."""
    text = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, CliError):
        return text
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename is not None else exc.strerror
    return f"{type(exc).__name__}: {text}"


def one_line(message: str) -> str:
    """A possibly multi-line message as one line: source echoes and caret lines dropped."""
    lines = message.splitlines()
    keep: list[str] = []
    for i, line in enumerate(lines):
        if set(line.strip()) <= {"^", "~"} and line.strip():
            if keep and i > 0 and keep[-1] == lines[i - 1]:
                keep.pop()  # the echoed source line the caret points into
            continue
        keep.append(line)
    return " ".join(" ".join(keep).split())


def error_record(exc: BaseException, code: int) -> dict[str, Any]:
    """The ``--json`` form of a failure: ``{"ok": false, "error": {...}}``."""
    return {"ok": False, "exit_code": code,
            "error": {"type": type(exc).__name__, "message": one_line(str(exc))}}


def emit_json(record: Mapping[str, Any]) -> None:
    """Print one JSON object on one line (sorted keys) on stdout."""
    sys.stdout.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()
