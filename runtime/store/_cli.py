"""``stele store | show | names | history``: the repository from the command line.

Every command takes ``--store PATH``; the default is ``$STELE_STORE`` if set,
else ``./.stele/store.sqlite`` (``stele store`` creates the parent
directories; the read-only commands refuse a store that does not exist
rather than creating an empty one).  ``--connect ADDRESS`` (or
``$STELE_CONNECT``) runs them on a daemon's store instead, as the token's
tenant, printing the same lines (``stele._cli._connect``, ``docs/daemon.md``).

* ``stele store FILE.tel [--namespace NS] [--author A]`` prints one
  ``name -> digest`` line per definition;
  ``stele store --blob FILE --name NAME [--kind riscv.elf]`` stores raw bytes.
* ``stele show NAME|DIGEST|PREFIX [--closure]`` prints the definition (rebuilt
  from its stored canonical form) and its direct dependencies (with
  ``--closure``, every transitive one too).
* ``stele names [NAMESPACE]`` prints ``name -> digest`` lines (the namespace
  and everything under it).
* ``stele history NAME`` prints every change of a name, oldest first.

Exit status follows the one table of ``stele --help`` (``docs/cli.md``): 0
success, 1 a program error, 2 bad usage, unreadable input or bad TEL, 5 not
found (unknown name, digest or prefix, ambiguous prefix, no store), 6 a
damaged or unusable store.  Errors are one line on stderr, never a traceback.

``stele show --json`` prints one object ``{"ok", "digest", "kind", "names",
"text", "dependencies": [{"identifier", "digest", "kind", "names"}]}`` (and
``"closure": [{"digest", "kind", "names"}]`` with ``--closure``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._cli._common import (NOT_FOUND, STORE, USAGE, CliError, CliParser, emit_json, exit_code_for)
from .._cli._connect import add_connect_args, remote_address
from .._errors import SteleError
from ..protocol import Digest
from ._repository import ELF_KIND, Repository

__all__ = ["store_main", "check_main", "show_main", "names_main", "history_main", "default_store_path"]

DEFAULT_STORE = os.path.join(".stele", "store.sqlite")


def default_store_path() -> str:
    """``$STELE_STORE`` if set and non-empty, else ``./.stele/store.sqlite``."""
    return os.environ.get("STELE_STORE") or DEFAULT_STORE


class _Usage(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class _Parser(CliParser):
    """The shared one-line-error parser, returning instead of exiting (``--help`` returns 0)."""

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            sys.stderr.write(message)
        raise _Usage(status)


def _parser(prog: str, description: str, *, remote: bool = True) -> _Parser:
    """A store command's parser: ``--store``, and ``--connect``/``--token`` if ``remote``."""
    ap = _Parser(prog=f"stele {prog}", description=description)
    ap.add_argument("--store", metavar="PATH", default=None,
                    help="the store file (default: $STELE_STORE or ./.stele/store.sqlite)")
    if remote:
        add_connect_args(ap)
    return ap


def _open(path: str | None, *, create: bool) -> Repository:
    from .. import RealEnv

    target = path or default_store_path()
    if not create and not os.path.exists(target):
        raise _Fail(f"no store at {target!r}: store something first ('stele store FILE.tel') "
                    "or pass --store PATH / set STELE_STORE", NOT_FOUND)
    if create:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    return Repository(target, clock=RealEnv(seed=0).wall_ns)


class _Fail(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _run(prog: str, body: Callable[[], int]) -> int:
    try:
        return body()
    except _Usage as u:
        return u.code
    except _Fail as f:
        print(f"stele {prog}: error: {f}", file=sys.stderr)
        return f.code
    except CliError as exc:  # a usage mistake: one line, exit 2
        print(f"stele {prog}: error: {exc}", file=sys.stderr)
        return exc.code
    except SteleError as exc:  # classified by the shared table (unknown name -> 5, ...)
        print(f"stele {prog}: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except sqlite3.Error as exc:
        print(f"stele {prog}: error: the store could not be used: {exc}", file=sys.stderr)
        return STORE


def check_main(argv: list[str]) -> int:
    """``stele store check [PATH] [--json]``: scan a store, report every damaged row.

    Exit 0 when the store is clean, 6 when damage is found, 5 when the store
    is missing, 2 on bad usage.  ``--json`` prints one object
    ``{"store", "rows_scanned", "damaged", "rows": [{"table", "row", "reason"}]}``.
    """
    import json

    from ._integrity import check_store

    ap = _Parser(prog="stele store check",
                 description="Scan a store and report every damaged row (digest, checksum, "
                             "UTF-8 and SQLite structure checks).")
    ap.add_argument("path", nargs="?", default=None,
                    help="the store file or directory (default: $STELE_STORE or "
                         "./.stele/store.sqlite)")
    ap.add_argument("--store", metavar="PATH", default=None, help="same as PATH")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")

    def body() -> int:
        args = ap.parse_args(argv)
        target = args.path or args.store or default_store_path()
        if os.path.isdir(target):
            target = os.path.join(target, "store.sqlite")
        if not os.path.exists(target):
            raise _Fail(f"no store at {target!r}", NOT_FOUND)
        try:
            scanned, damage = check_store(target)
        except sqlite3.DatabaseError as exc:
            scanned, damage = 0, []
            from ._integrity import Damage
            damage.append(Damage("sqlite", "-", f"the file is not a usable store: {exc}"))
        if args.json:
            print(json.dumps({"store": target, "rows_scanned": scanned,
                              "damaged": len(damage),
                              "rows": [d.as_dict() for d in damage]}, sort_keys=True))
        else:
            for d in damage:
                print(f"damaged: {d.table} {d.row}: {d.reason}")
            print(f"{target}: {scanned} rows scanned, {len(damage)} damaged")
        return STORE if damage else 0

    return _run("store check", body)


def store_main(argv: list[str]) -> int:
    """``stele store FILE.tel`` (or ``--blob FILE``): store and print name -> digest.

    ``stele store check [PATH]`` scans a store for damage (:func:`check_main`).
    """
    if argv and argv[0] == "check":
        return check_main(argv[1:])
    ap = _parser("store", "Store the TEL definitions of a file (or a binary blob).", remote=False)
    ap.epilog = ("Names the file uses but does not define are looked up in the store "
                 "(NAMESPACE.name, then name); '#use alias = NAME|DIGEST|PREFIX' lines import "
                 "other namespaces or pin a version. Stored references never change meaning.")
    ap.add_argument("file", help="a TEL source file (or with --blob, any file)")
    ap.add_argument("--namespace", "-n", default="", help="bind names as NAMESPACE.name")
    ap.add_argument("--author", default=os.environ.get("USER", ""),
                    help="recorded in the names' history (default: $USER)")
    ap.add_argument("--blob", action="store_true", help="store the file's raw bytes")
    ap.add_argument("--kind", default=ELF_KIND, help="kind of a --blob (default %(default)s)")
    ap.add_argument("--name", default=None, help="name of a --blob")
    ap.add_argument("--connect", metavar="ADDRESS", default=None,
                    help="store on a daemon (default: $STELE_CONNECT); token: --token/$STELE_TOKEN")
    ap.add_argument("--token", default=None, help=argparse.SUPPRESS)

    def body() -> int:
        args = ap.parse_args(argv)
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise _Fail(f"cannot read {args.file}: {exc.strerror or exc}", USAGE) from None
        connect = remote_address(args)  # an explicit --store beats $STELE_CONNECT
        if connect:  # see stele.daemon._cli.store_remote
            from ..daemon._cli import store_remote
            return store_remote(args, data, connect)
        with _open(args.store, create=True) as repo:
            if args.blob:
                if args.kind == ELF_KIND:  # a blob kind is a claim: an ELF must parse
                    from ..actors.coprocessor import ElfError, load_elf
                    try:
                        load_elf(data)
                    except ElfError as exc:
                        raise _Fail(f"{args.file} is not a RISC-V ELF ({exc}); "
                                    "pass --kind KIND for other blobs", USAGE) from None
                digest = repo.put_blob(data, kind=args.kind, name=args.name, author=args.author)
                print(f"{args.name or '(unnamed)'} -> {digest}")
                return 0
            try:
                source = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _Fail(f"{args.file} is not UTF-8 text (byte {exc.start}); "
                            "use --blob for binaries", USAGE) from None
            for name, digest in repo.store(source, filename=args.file, author=args.author,
                                           namespace=args.namespace).items():
                print(f"{name} -> {digest}")
        return 0

    return _run("store", body)


def show_main(argv: list[str]) -> int:
    """``stele show NAME|DIGEST|PREFIX``: the definition pretty-printed, with its dependencies."""
    ap = _parser("show", "Show a stored definition and its dependencies.")
    ap.add_argument("target", help="a name, a digest or a unique digest prefix")
    ap.add_argument("--closure", action="store_true",
                    help="also list every transitive dependency (fails listing any missing)")

    ap.add_argument("--json", action="store_true", help="print one JSON object (schema in docs/cli.md)")

    def body() -> int:
        args = ap.parse_args(argv)
        address = remote_address(args)
        if address is not None:
            from ..daemon._remote_cli import remote_show

            shown, closure = remote_show(args, address)
        else:
            with _open(args.store, create=False) as repo:
                shown = repo.show(args.target)
                objects = repo.objects.closure([shown.digest]) if args.closure else []
                named = repo.objects.names_of_many([o.digest for o in objects]) if objects else {}
                closure = [(o.digest, o.kind, named.get(o.digest, [])) for o in objects]
        if args.json:
            record: dict[str, object] = {
                "ok": True, "digest": str(shown.digest), "kind": shown.kind,
                "names": list(shown.names), "text": shown.text,
                "dependencies": [{"identifier": d.identifier, "digest": str(d.digest),
                                  "kind": d.kind, "names": list(d.names)}
                                 for d in shown.dependencies]}
            if args.closure:
                record["closure"] = [{"digest": str(d), "kind": kind, "names": list(names)}
                                     for d, kind, names in closure]
            emit_json(record)
            return 0
        print(f"# {', '.join(shown.names) or '(no name)'}")
        print(f"# {shown.digest}  {shown.kind}")
        print(shown.text)
        if shown.dependencies:
            print(f"\n# dependencies ({len(shown.dependencies)}):")
            for d in shown.dependencies:
                names = f"  ({', '.join(d.names)})" if d.names else ""
                print(f"#   {d.identifier} -> {d.digest}{names}")
        else:
            print("\n# no dependencies")
        if args.closure:
            print(f"\n# closure ({len(closure)} objects, dependencies first):")
            for digest, kind, names_of in closure:
                names = f"  ({', '.join(names_of)})" if names_of else ""
                print(f"#   {digest}  {kind}{names}")
        return 0

    return _run("show", body)


def names_main(argv: list[str]) -> int:
    """``stele names [NAMESPACE]``: bound names with their digests."""
    ap = _parser("names", "List the names in the repository.")
    ap.add_argument("namespace", nargs="?", default=None,
                    help="only names in this namespace (and below)")

    def body() -> int:
        args = ap.parse_args(argv)
        address = remote_address(args)
        if address is not None:
            from ..daemon._remote_cli import on_daemon

            names = on_daemon(args, address, lambda rt: rt.names(args.namespace))
        else:
            with _open(args.store, create=False) as repo:
                names = repo.names(args.namespace)
        for name, digest in names:
            print(f"{name} -> {digest}")
        return 0

    return _run("names", body)


def history_main(argv: list[str]) -> int:
    """``stele history NAME``: every change of a name (time, author, previous -> new)."""
    ap = _parser("history", "Show the history of a name.")
    ap.add_argument("name")

    def body() -> int:
        args = ap.parse_args(argv)
        address = remote_address(args)
        events: list[Any]
        if address is not None:
            from ..daemon._remote_cli import on_daemon

            events = on_daemon(args, address, lambda rt: rt.history(args.name))
        else:
            with _open(args.store, create=False) as repo:
                events = list(repo.history(args.name))
        for e in events:
            print(f"{_time(e.time_ns)}  {e.author or '-'}  "
                  f"{_short(e.previous)} -> {_short(e.digest)}")
        return 0

    return _run("history", body)


def _short(d: Digest | None) -> str:
    return "(none)" if d is None else str(d)


def _time(ns: int) -> str:
    t = datetime.datetime.fromtimestamp(ns / 1e9, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
