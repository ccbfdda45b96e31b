"""`stele eval FILE.tel 'EXPR' [--fuel N]`: type-check a file, evaluate an expression in it.

Prints the value with its type, then `cost=<total>` and the breakdown by kind.
Effects are answered by the in-memory host (`MemoryHandler`: virtual clock,
seeded Rand, in-memory KV); Log messages go to stderr as `log: <msg>`.
Exit status 0 on success, 1 for a TEL error (syntax, type, runtime, limit), 2 for usage.
"""

from __future__ import annotations

import argparse
import sys

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
    ap = argparse.ArgumentParser(prog="stele eval", description="Evaluate a TEL expression.")
    ap.add_argument("file", help="TEL source file whose definitions are in scope")
    ap.add_argument("expr", help="the expression to evaluate")
    ap.add_argument("--fuel", type=int, default=Limits().fuel, help="cost limit (default %(default)s)")
    ap.add_argument("--memory", type=int, default=Limits().memory, help="memory limit in bytes")
    ap.add_argument("--depth", type=int, default=Limits().depth, help="call depth limit")
    ap.add_argument("--seed", type=int, default=0, help="seed of the in-memory Rand effect")
    args = ap.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as fh:
            source = fh.read()
    except OSError as exc:
        print(f"stele eval: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    handler = _LoggingHandler(seed=args.seed)
    try:
        checked = check_module(parse_module(source, args.file), source)
        expr = parse_expr(args.expr, "<expr>")
        ty, _row = check_expr(checked, expr, source=args.expr)
        result = Program(checked).evaluate(
            expr, limits=Limits(fuel=args.fuel, memory=args.memory, depth=args.depth), handler=handler)
    except TelError as exc:
        cost = getattr(exc, "cost", None)
        print(f"error: {exc}", file=sys.stderr)
        if cost is not None:
            print(f"cost={cost} (spent before the error; fuel limit {args.fuel})", file=sys.stderr)
        return 1
    print(f"{show_value(result.value, ty)} : {show_type_text(ty)}")
    print(f"cost={result.cost} (fuel limit {args.fuel}, cost table {COST_TABLE.version})")
    print("breakdown: " + ", ".join(f"{k}={v}" for k, v in result.breakdown.items()))
    return 0


def show_type_text(t: object) -> str:
    """A type as TEL source."""
    from ._types import show_type
    return show_type(t)


class _LoggingHandler(MemoryHandler):
    def __call__(self, effect: str, op: str, args: tuple[Value, ...]) -> Value:
        if (effect, op) == ("Log", "emit"):
            print(f"log: {args[0]}", file=sys.stderr)
        return super().__call__(effect, op, args)
