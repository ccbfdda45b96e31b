"""Helpers of ``stele vm run`` that touch the store and the sandbox.

* :func:`guest_bytes`: FILE is a path, or else the name, digest or prefix of a
  stored ``riscv.elf`` blob (so ``stele vm run sha256`` works after
  ``stele store --blob sha256.elf --name sha256``); :func:`guest_store` is the
  store it is looked up in (with ``--connect``, fetched from a daemon).
* :func:`no_grant`: the effect handler of a plain ``vm run``: the first
  effect call stops the run with :class:`NotGranted` (exit 4), naming the
  effect and the flag that grants it, instead of the guest seeing ``-ENOSYS``.
* :func:`run_granted`: ``--allow EFFECT...``: the guest runs through the
  embedded runtime (in memory), whose sandbox serves the granted effects
  exactly as ``stele run`` and the library do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ._common import DENIED, CliError, UsageError, emit_json, error_record, exit_code_for

__all__ = ["NotGranted", "guest_bytes", "guest_store", "no_grant", "run_granted",
           "emit_success", "emit_failure"]

_EFFECTS = ("Log", "Clock", "Rand", "KV", "Exec")


class NotGranted(CliError):
    """A guest under ``stele vm run`` asked for an effect that no ``--allow`` granted."""

    def __init__(self, effect: str, op: str) -> None:
        super().__init__(f"the guest asked for effect {effect}.{op}, which is not granted "
                         f"(deny by default): pass --allow {effect}", DENIED)


def guest_bytes(file: Path, store: str | None) -> bytes:
    """The guest image: the file at ``file``, else a stored blob of that name.

    An argument that is spelled as a path (it has a directory part or a file
    suffix) is always read as a file, so a missing file is reported as one,
    whether or not a store exists in the current directory.
    """
    looks_like_path = len(file.parts) > 1 or bool(file.suffix)
    if file.exists() or looks_like_path or store is None and not _default_store_exists():
        return file.read_bytes()  # raises the OSError naming the path
    from .. import RealEnv
    from ..store import Repository, UnknownTarget
    from ._run import store_path

    with Repository(store_path(store), clock=RealEnv(seed=0).wall_ns) as repo:
        try:
            return repo.get_blob(str(file)).payload
        except UnknownTarget:
            raise CliError(f"{str(file)!r} is neither a file nor a stored guest "
                           "(see 'stele names')", 5) from None


def guest_store(ns: Any) -> str | None:
    """``vm run``'s store: ``--store``, or with ``--connect`` a scratch store holding the
    daemon's guest of that name (a FILE spelled as a path is always read as a file)."""
    file = Path(ns.file)
    if file.exists() or len(file.parts) > 1 or file.suffix:
        store: str | None = ns.store
        return store
    from ..daemon._fetch import store_or_fetched

    return store_or_fetched(ns, [str(file)])


def _default_store_exists() -> bool:
    import os

    from ..store._cli import default_store_path
    return os.path.isfile(default_store_path())


def no_grant(request: object) -> object:
    """Effect handler that grants nothing: stop with the effect's name and the fix."""
    if isinstance(request, list) and len(request) >= 2 and all(
            isinstance(x, str) for x in request[:2]):
        raise NotGranted(request[0], request[1])
    raise NotGranted("?", "?")


def run_granted(args: Any, data: bytes, stdin: bytes) -> int:
    """``vm run --allow ...``: run the guest through the runtime's sandbox."""
    import anyio

    for effect in args.allow:
        if effect not in _EFFECTS:
            raise UsageError(f"--allow {effect!r}: not an effect (one of {', '.join(_EFFECTS)})")
    for flag in ("raw", "signature", "stats"):
        if getattr(args, flag):
            raise UsageError(f"--{flag} cannot be combined with --allow (the sandboxed run "
                             "goes through the runtime)")
    from ..actors.coprocessor import load_elf

    load_elf(data)  # a bad ELF is a usage error before any runtime starts
    result = anyio.run(_granted, args, data, stdin, backend="trio")
    if args.json:
        from ._run import result_record
        emit_json(result_record(result))
    else:
        sys.stdout.buffer.write(result.stdout)
        sys.stdout.flush()
        for line in result.logs:
            print(f"log: {line}", file=sys.stderr)
    if args.public:
        args.public.write_bytes(result.public_output)
    return int(result.exit_code or 0) & 0xFF


async def _granted(args: Any, data: bytes, stdin: bytes) -> Any:
    import stele
    from ..actors.executor import ExecLimits
    from ..actors.sandbox import Policy

    limits = ExecLimits(cycles=args.max_cycles, memory=args.memory_limit)
    async with stele.open_runtime() as rt:
        digest = await rt.store_blob(data)
        return await rt.execute(digest, stdin, limits=limits, engine="riscv", memo=False,
                                policy=Policy.allow("cli", *args.allow))


def emit_success(machine: Any, result: Any) -> None:
    """The ``vm run --json`` record of a finished run."""
    emit_json({"ok": True, "exit_code": result.exit_code & 0xFF, "cycles": result.cycles,
               "halt_reason": result.halt_reason,
               "stdout": result.stdout.decode("utf-8", "replace"),
               "public_output": result.public_output.hex()})


def emit_failure(exc: BaseException, machine: Any) -> None:
    """The ``vm run --json`` record of a failed run (cycles reached, when known)."""
    record = error_record(exc, exit_code_for(exc))
    if machine is not None:
        record["cycles"] = machine.cycle
        record["stdout"] = bytes(machine.stdout).decode("utf-8", "replace")
    emit_json(record)
