"""`stele eval [FILE.tel] 'EXPR' [--fuel N] [--json]`: evaluate an expression.

Names that neither the file nor the expression defines are looked up in the
store (``--store PATH``, ``$STELE_STORE`` or ``./.stele/store.sqlite``, if it
exists), through ``#use alias = NAME|DIGEST|PREFIX`` lines or by name; see
`stele._cli._scope`.  Without FILE the expression sees only the store.

Prints the value with its type, then `cost=<total>` and the breakdown by kind.
Effects are answered by the in-memory host (`MemoryHandler`: virtual clock,
seeded Rand, in-memory KV); Log messages go to stderr as `log: <msg>`.
Exit status: the table of `stele._cli._common` (0 ok, 1 runtime error,
2 usage / syntax / type error, 3 limit exceeded, 5 unknown stored name).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ._cost import COST_TABLE, Limits
from ._errors import TelError
from ._handlers import MemoryHandler
from ._interp import Program
from ._parser import parse_expr, parse_module
from ._types import check_expr, check_module
from ._values import Value, show_value

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """Entry point of `stele eval`."""
    from .._cli._common import CliParser, UsageError, emit_json

    ap = CliParser(prog="stele eval", description="Evaluate a TEL expression.")
    ap.add_argument("source", nargs="+", metavar="[FILE] EXPR",
                    help="an optional TEL file whose definitions are in scope, then the expression")
    ap.add_argument("--fuel", type=int, default=Limits().fuel, help="cost limit (default %(default)s)")
    ap.add_argument("--memory", type=int, default=Limits().memory, help="memory limit in bytes")
    ap.add_argument("--depth", type=int, default=Limits().depth, help="call depth limit")
    ap.add_argument("--seed", type=int, default=0, help="seed of the in-memory Rand effect")
    ap.add_argument("--store", metavar="PATH", default=None,
                    help="the store whose names are in scope (default: $STELE_STORE or "
                         "./.stele/store.sqlite)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    from .._cli._connect import add_connect_args

    add_connect_args(ap)
    args = ap.parse_args(argv)
    if len(args.source) > 2:
        raise UsageError(f"expected [FILE] EXPR, got {len(args.source)} arguments "
                         "(quote the expression)")
    file, expr_text = (args.source[0], args.source[1]) if len(args.source) == 2 else (
        None, args.source[0])
    source = ""
    if file is not None:
        with open(file, encoding="utf-8") as fh:
            source = fh.read()
    handler = _LoggingHandler(seed=args.seed, quiet=args.json)
    try:
        module = parse_module(source, file or "<none>")
        expr = parse_expr(expr_text, "<expr>")
        module = _with_store(module, expr, source, file or "<none>", args.store, remote=args)
        checked = check_module(module, source)
        ty, _row = check_expr(checked, expr, source=expr_text)
        result = Program(checked).evaluate(
            expr, limits=Limits(fuel=args.fuel, memory=args.memory, depth=args.depth), handler=handler)
    except TelError as exc:
        cost = getattr(exc, "cost", None)
        if cost is None:
            raise
        from .._cli._common import CliError, exit_code_for, one_line
        raise CliError(f"{type(exc).__name__}: {one_line(str(exc))} (cost={cost} spent before "
                       f"the error; fuel limit {args.fuel})", exit_code_for(exc)) from exc
    if args.json:
        emit_json({"ok": True, "exit_code": 0, "value": _plain(result.value),
                   "shown": show_value(result.value, ty), "type": show_type_text(ty),
                   "cost": result.cost, "breakdown": dict(result.breakdown),
                   "cost_table": COST_TABLE.version, "fuel_limit": args.fuel,
                   "logs": handler.logs})
        return 0
    print(f"{show_value(result.value, ty)} : {show_type_text(ty)}")
    print(f"cost={result.cost} (fuel limit {args.fuel}, cost table {COST_TABLE.version})")
    print("breakdown: " + ", ".join(f"{k}={v}" for k, v in result.breakdown.items()))
    return 0


def show_type_text(t: object) -> str:
    """A type as TEL source."""
    from ._types import show_type
    return show_type(t)


def _with_store(module: Any, expr: Any, source: str, filename: str, store: str | None,
                remote: Any = None) -> Any:
    """`module` with the stored definitions it and `expr` use (when a store exists).

    `remote` (the parsed flags) with `--connect`: the definitions come from
    the daemon, fetched into a scratch store (`stele.daemon._fetch`).
    """
    from .._cli._scope import free_names, link
    from ..store._cli import default_store_path
    from ..store._repository import _uses

    uses = {u.alias: u.target for u in _uses(source, filename)}
    wanted = free_names(module, expr if isinstance(expr, list) else [expr])
    if not wanted:
        return module
    if remote is not None:
        from ..daemon._fetch import store_or_fetched

        store = store_or_fetched(remote, [uses[n] for n in wanted if n in uses],
                                 [n for n in wanted if n not in uses])
    path = store or default_store_path()
    if not os.path.isfile(path):
        if store is not None or uses:
            from .._cli._common import NOT_FOUND, CliError
            raise CliError(f"no store at {path!r} to look up {', '.join(wanted)}", NOT_FOUND)
        return module
    from .. import RealEnv
    from ..store import Repository

    with Repository(path, clock=RealEnv(seed=0).wall_ns) as repo:
        return link(repo, module, wanted, uses)


def _plain(v: Any) -> Any:
    from .._cli._run import plain_value
    return plain_value(v)


class _LoggingHandler(MemoryHandler):
    def __init__(self, *, seed: int, quiet: bool = False) -> None:
        super().__init__(seed=seed)
        self.quiet = quiet
        self.logs: list[str] = []

    def __call__(self, effect: str, op: str, args: tuple[Value, ...]) -> Value:
        if (effect, op) == ("Log", "emit"):
            self.logs.append(str(args[0]))
            if not self.quiet:
                print(f"log: {args[0]}", file=sys.stderr)
        return super().__call__(effect, op, args)
