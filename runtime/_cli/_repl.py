"""``stele repl``: an interactive TEL prompt against the store, in the manner of ``ucm``.

Each line is a TEL expression; names it uses come from the store (as in
``stele eval``) or from definitions typed at the prompt (``def f(...) = ...``
lines, kept for the session).  Commands:

* ``:use NAME [AS ALIAS]`` (or ``:use ALIAS = NAME|DIGEST|PREFIX``): bring a
  stored definition (a pinned version, by digest) in under a name;
* ``:type EXPR``: the expression's type, without running it;
* ``:cost EXPR``: run it and print the cost breakdown;
* ``:names``, ``:help``, ``:quit`` (or end of input).

Input comes from readline when the terminal has it (history, line editing);
the loop itself reads any text stream, so it is tested on plain strings.
Errors are printed as one line and the session goes on; Ctrl-C at the
prompt discards the line, Ctrl-D (end of input) leaves.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from ._common import CliParser
from ._connect import add_connect_args, refuse_connect

__all__ = ["main", "Session"]

HELP = """\
TEL expressions are evaluated against the store.  Commands:
  :use NAME [as ALIAS] | :use ALIAS = NAME|DIGEST|PREFIX   bring a stored definition in
  :type EXPR     show the type only        :cost EXPR   show the cost breakdown
  :names         list stored names         :help        this text      :quit  leave
  def f(x: Int) -> Int = ...               define for this session"""


class Session:
    """The REPL's state: session definitions, ``:use`` aliases and the store path."""

    def __init__(self, store: str | None, fuel: int, out: TextIO) -> None:
        self.store = store
        self.fuel = fuel
        self.out = out
        self.defs: list[str] = []
        self.uses: dict[str, str] = {}

    def source(self) -> str:
        lines = [f"#use {a} = {t}" for a, t in self.uses.items()]
        return "\n".join(lines + self.defs) + "\n"

    def handle(self, line: str) -> bool:
        """Handle one line; False when the session should end."""
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        if text in (":quit", ":q", ":exit"):
            return False
        try:
            self._dispatch(text)
        except Exception as exc:  # one line per mistake; the session goes on
            from ._common import describe
            print(f"error: {describe(exc)}", file=self.out)
        return True

    def _dispatch(self, text: str) -> None:
        if text == ":help":
            print(HELP, file=self.out)
        elif text == ":names":
            self._names()
        elif text.startswith(":use "):
            self._use(text[5:].strip())
        elif text.startswith(":type "):
            ty, _ = self._evaluate(text[6:], run=False)
            print(ty, file=self.out)
        elif text.startswith(":cost "):
            _, result = self._evaluate(text[6:], run=True)
            assert result is not None
            print(f"cost={result.cost}: " + ", ".join(
                f"{k}={v}" for k, v in sorted(result.breakdown.items(), key=lambda kv: -kv[1])),
                file=self.out)
        elif text.startswith(":"):
            print(f"unknown command {text.split()[0]!r} (see :help)", file=self.out)
        elif text.startswith("def ") or text.startswith("effect "):
            candidate = self.defs + [text]
            saved, self.defs = self.defs, candidate
            try:
                self._check()
            except Exception:
                self.defs = saved
                raise
            print(f"defined {text.split()[1].split('(')[0]}", file=self.out)
        else:
            ty, result = self._evaluate(text, run=True)
            assert result is not None
            from ..tel._values import show_value
            print(f"{show_value(result.value)} : {ty}", file=self.out)
            print(f"cost={result.cost}", file=self.out)

    def _names(self) -> None:
        from .. import RealEnv
        from ..store import Repository
        from ._run import store_path

        with Repository(store_path(self.store), clock=RealEnv(seed=0).wall_ns) as repo:
            for name, digest in repo.names():
                print(f"{name} -> {digest.short()}", file=self.out)

    def _use(self, spec: str) -> None:
        from ._common import UsageError

        if "=" in spec:
            alias, _, target = (s.strip() for s in spec.partition("="))
        else:
            parts = spec.split()
            if len(parts) == 3 and parts[1].lower() == "as":
                target, alias = parts[0], parts[2]
            elif len(parts) == 1:
                target = alias = parts[0]
            else:
                raise UsageError(":use NAME [as ALIAS]  or  :use ALIAS = NAME|DIGEST|PREFIX")
        if not alias.isidentifier():
            raise UsageError(f":use: {alias!r} is not a TEL identifier")
        saved = dict(self.uses)
        self.uses[alias] = target
        try:
            self._check(extra=[alias])
        except Exception:
            self.uses = saved
            raise
        print(f"using {alias} = {target}", file=self.out)

    def _module(self, exprs: list[object], extra: list[str]) -> object:
        from ..tel._parser import parse_module
        from ..tel._cli import _with_store

        source = self.source()
        module = parse_module(source, "<repl>")
        if extra:  # make ':use x' resolve now, even before x is used
            from ..tel._parser import parse_expr
            exprs = exprs + [parse_expr(name, "<use>") for name in extra]
        return _with_store(module, exprs, source, "<repl>", self.store)

    def _check(self, extra: list[str] = []) -> None:
        from ..tel._types import check_module

        check_module(self._module([], extra), self.source())  # type: ignore[arg-type]

    def _evaluate(self, text: str, *, run: bool) -> tuple[str, Any]:
        from ..tel._cost import Limits
        from ..tel._handlers import MemoryHandler
        from ..tel._interp import Program
        from ..tel._parser import parse_expr
        from ..tel._types import check_expr, check_module, show_type

        expr = parse_expr(text, "<input>")
        checked = check_module(self._module([expr], []), self.source())  # type: ignore[arg-type]
        ty, _row = check_expr(checked, expr, source=text)
        if not run:
            return show_type(ty), None
        result = Program(checked).evaluate(expr, limits=Limits(fuel=self.fuel),
                                           handler=MemoryHandler())
        return show_type(ty), result


def run_loop(session: Session, read: Callable[[str], str]) -> None:
    """Read lines with ``read(prompt)`` until EOF or ``:quit``; Ctrl-C drops the line."""
    while True:
        try:
            line = read("stele> ")
        except EOFError:
            print(file=session.out)
            return
        except KeyboardInterrupt:
            print("^C", file=session.out)
            continue
        if not session.handle(line):
            return


def main(argv: list[str]) -> int:
    """Entry point of ``stele repl``."""
    p = CliParser(prog="stele repl", description="An interactive TEL prompt against the store.")
    p.add_argument("--store", metavar="PATH", default=None,
                   help="the store (default: $STELE_STORE or ./.stele/store.sqlite)")
    p.add_argument("--fuel", type=int, default=10_000_000, help="cost limit per expression")
    add_connect_args(p)
    ns = p.parse_args(argv)
    refuse_connect(ns, "stele repl", "a session reads the store as you type and keeps "
                   "definitions in memory; use 'stele eval EXPR --connect ADDRESS' for the "
                   "daemon's names")
    session = Session(ns.store, ns.fuel, sys.stdout)
    if sys.stdin.isatty():
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
        print("stele repl -- TEL against the store; :help for commands, Ctrl-D to leave")
        run_loop(session, input)
    else:
        def read(_prompt: str) -> str:
            line = sys.stdin.readline()
            if not line:
                raise EOFError
            return line
        run_loop(session, read)
    return 0


