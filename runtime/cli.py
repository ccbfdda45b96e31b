"""The ``stele`` command: a thin dispatcher to each subsystem's own CLI.

Each subcommand lives beside the code it drives and exposes
a function ``(argv: list[str]) -> int``; this module only routes, so that starting
``stele vm`` never imports the prover, and subsystems stay independent.
Output lines named in the issues (``trace_hash=``, ``SEED=`` ...) are
contracts: extend, never rename.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["main", "COMMANDS"]

#: subcommand -> ("module:function", one-line help).  The function takes the
#: arguments after the subcommand name and returns the exit status.
COMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("stele.sim._cli:main", "run the deterministic simulator"),
    "vm": ("stele.actors.coprocessor._cli:main", "run RISC-V guests on the co-processor"),
    "store": ("stele.store._cli:store_main", "store TEL definitions in the repository"),
    "show": ("stele.store._cli:show_main", "show a stored definition and its dependencies"),
    "names": ("stele.store._cli:names_main", "list names in the repository"),
    "history": ("stele.store._cli:history_main", "show the history of a name"),
    "eval": ("stele.tel._cli:main", "evaluate a TEL expression"),
    "demo": ("stele._demo:main", "store and run the examples on the embedded runtime"),
}


def _usage() -> str:
    lines = ["usage: stele COMMAND [ARGS...]", "", "commands:"]
    for name, (_module, help_) in COMMANDS.items():
        lines.append(f"  {name:<9} {help_}")
    lines.append("")
    lines.append("Run 'stele COMMAND --help' for a command's options.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stele`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"stele: unknown command {name!r}\n", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        return 2
    module_name, _, function_name = COMMANDS[name][0].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            print(f"stele: command {name!r} is not available in this build", file=sys.stderr)
            return 2
        raise
    command_main = getattr(module, function_name)
    code: int = command_main(rest)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
