"""``stele serve``, ``stele tenant`` and ``stele status``.

::

    stele tenant add alice --quota slots=4,queue=100      # prints alice's token, once
    stele serve --root /var/lib/stele --listen tcp:127.0.0.1:7420
    STELE_TOKEN=stl_... stele status --connect unix:/var/lib/stele/stele.sock

``stele serve`` reads ``--config FILE.toml`` first, then applies the flags
given on the command line over it (see :mod:`stele.daemon._config`).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from functools import partial
from typing import Any

from .._cli._common import CliParser, UsageError, count_arg, emit_json
from .._cli._connect import refuse_connect
from ._config import SOCKET_NAME, DaemonConfig, load_config
from ._errors import AddressError, ConfigError, TenantError

__all__ = ["serve_main", "tenant_main", "status_main", "default_address", "store_file"]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _serve_parser() -> CliParser:
    p = CliParser(prog="stele serve", description="Run the execution daemon.")
    p.add_argument("--root", metavar="DIR", default=None,
                   help="store directory (default: $STELE_ROOT or ./.stele)")
    p.add_argument("--listen", metavar="ADDRESS", action="append", default=None,
                   help="unix:PATH or tcp:HOST:PORT; repeat for several "
                        f"(default: unix:ROOT/{SOCKET_NAME})")
    p.add_argument("--config", metavar="FILE.toml", default=None, help="configuration file")
    p.add_argument("--json-logs", action="store_true", default=None, help="JSON log lines")
    p.add_argument("--grace", type=_positive_float, default=None, metavar="SECONDS",
                   help="graceful-shutdown period (default 30)")
    p.add_argument("--workers", type=count_arg, default=None, help="job workers (default 4)")
    p.add_argument("--max-connections", type=count_arg, default=None)
    p.add_argument("--max-inflight", type=count_arg, default=None,
                   help="requests in flight per connection")
    p.add_argument("--max-frame-size", type=count_arg, default=None, help="bytes")
    p.add_argument("--max-queue", type=count_arg, default=None,
                   help="jobs queued or running, all tenants")
    p.add_argument("--metrics", metavar="tcp:HOST:PORT", default=None,
                   help="serve Prometheus metrics at http://HOST:PORT/metrics (default: off)")
    p.add_argument("--trace", metavar="FILE", default=None,
                   help="record every execution's context tree; written to FILE as "
                        "Perfetto / Chrome trace JSON at shutdown (default: off)")
    return p


def serve_main(argv: list[str]) -> int:
    """Entry point of ``stele serve``."""
    import anyio

    from ._server import serve

    ns = _serve_parser().parse_args(argv)
    try:
        config = load_config(ns.config) if ns.config else DaemonConfig(
            root=os.environ.get("STELE_ROOT", ".stele"))
        config = config.with_flags(
            root=ns.root, listen=tuple(ns.listen) if ns.listen else None,
            json_logs=ns.json_logs, grace_seconds=ns.grace, workers=ns.workers,
            max_connections=ns.max_connections, max_inflight=ns.max_inflight,
            max_frame_size=ns.max_frame_size, max_queue=ns.max_queue, metrics=ns.metrics,
            trace=ns.trace)
    except (ConfigError, AddressError) as exc:
        raise UsageError(str(exc)) from None
    config = config.with_flags(root=os.path.abspath(config.root))
    code: int = anyio.run(partial(serve, config, on_ready=_freeze_startup_heap), backend="trio")
    return code


def _freeze_startup_heap(_daemon: object) -> None:
    """Move everything alive once the daemon listens to the GC's permanent generation.

    ``stele serve`` owns its process, so it may do what an embedded runtime must
    not: the startup heap (modules, the runtime's actors, caches) is never
    garbage, yet every full collection would scan it again -- on the event loop,
    a pause for every connection.  Frozen, a full collection scans only what
    requests allocated since (in the embedded load bench, freezing after
    start-up cut the worst event-loop step from 81 ms to 37 ms).
    """
    import gc

    gc.collect()
    gc.freeze()


def store_file(root: str | None) -> str:
    """The store file of a daemon root (``ROOT/store.sqlite``), creating ROOT if needed."""
    root = root or os.environ.get("STELE_ROOT", ".stele")
    os.makedirs(root, exist_ok=True)
    return os.path.join(root, "store.sqlite")


def default_address(root: str | None = None) -> str:
    """``$STELE_CONNECT``, else the default socket of ROOT."""
    given = os.environ.get("STELE_CONNECT")
    if given:
        return given
    root = root or os.environ.get("STELE_ROOT", ".stele")
    return f"unix:{os.path.join(os.path.abspath(root), SOCKET_NAME)}"


def tenant_main(argv: list[str]) -> int:
    """Entry point of ``stele tenant add|list|remove``."""
    p = CliParser(prog="stele tenant", description="Manage the daemon's tenants.")
    sub = p.add_subparsers(dest="action", required=True, parser_class=CliParser)
    add = sub.add_parser("add", help="create a tenant and print its token (once)")
    add.add_argument("name")
    add.add_argument("--quota", action="append", default=[], metavar="KEY=N[,KEY=N]",
                     help="slots, queue, fuel, inflight (0 = the daemon's default)")
    add.add_argument("--admin", action="store_true", help="may see every tenant's usage")
    lst = sub.add_parser("list", help="list tenants and their quotas")
    rm = sub.add_parser("remove", help="remove a tenant (its token stops working)")
    rm.add_argument("name")
    for cmd in (add, lst, rm):
        cmd.add_argument("--root", metavar="DIR", default=None,
                       help="store directory (default: $STELE_ROOT or ./.stele)")
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.add_argument("--connect", metavar="ADDRESS", default=None, help=argparse.SUPPRESS)
    ns = p.parse_args(argv)
    try:
        return _tenant(ns)
    except sqlite3.Error as exc:  # a failing disk or a damaged store file: typed, one line
        from ..store import StoreUnavailable

        raise StoreUnavailable(f"the tenants table in {store_file(ns.root)}: {exc}") from None


def _tenant(ns: Any) -> int:
    """``stele tenant ACTION`` on the parsed flags (see :func:`tenant_main`)."""
    from .._core._realenv import RealEnv
    from ._tenants import TenantStore, parse_quota

    refuse_connect(ns, "stele tenant", "tenants are kept in the daemon's store file, and a "
                   "token is shown only where it is made: run it on the daemon's host with "
                   "--root DIR (a running daemon sees new tenants at once)")
    try:
        tenants = TenantStore(store_file(ns.root))
    except OSError as exc:
        raise UsageError(f"cannot open the store under {ns.root!r}: {exc}") from None
    try:
        if ns.action == "add":
            try:
                quota = parse_quota(ns.quota)
                token = tenants.add(RealEnv(), ns.name, quota, admin=ns.admin)
            except TenantError as exc:
                raise UsageError(str(exc)) from None
            if ns.json:
                emit_json({"ok": True, "tenant": ns.name, "token": token,
                           "quota": quota.to_obj(), "admin": ns.admin})
            else:
                print(token)
                print(f"stele tenant: added {ns.name!r}; its token is shown only this once "
                      "(the store keeps a hash)", file=sys.stderr)
        elif ns.action == "list":
            rows = tenants.all()
            if ns.json:
                emit_json({"ok": True, "tenants": [
                    {"name": t.name, "admin": t.admin, "quota": t.quota.to_obj()}
                    for t in rows]})
            else:
                for t in rows:
                    q = " ".join(f"{k}={v}" for k, v in t.quota.to_obj().items())
                    print(f"{t.name}{' (admin)' if t.admin else ''} {q}")
        else:
            try:
                tenants.remove(ns.name)
            except TenantError as exc:
                from .._cli._common import NOT_FOUND, CliError

                raise CliError(str(exc), NOT_FOUND) from None
            if ns.json:
                emit_json({"ok": True, "removed": ns.name})
            else:
                print(f"removed {ns.name}")
    finally:
        tenants.close()
    return 0


def status_main(argv: list[str]) -> int:
    """Entry point of ``stele status``."""
    import anyio

    p = CliParser(prog="stele status", description="Show a running daemon's status.")
    p.add_argument("--connect", metavar="ADDRESS", default=None,
                   help="the daemon (default: $STELE_CONNECT or unix:ROOT/stele.sock)")
    p.add_argument("--root", metavar="DIR", default=None, help="the daemon's store directory")
    p.add_argument("--token", default=None, help="tenant token (default: $STELE_TOKEN)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    ns = p.parse_args(argv)
    address = ns.connect or default_address(ns.root)
    status = anyio.run(_status, address, ns.token, backend="trio")
    record = status_record(status)
    if ns.json:
        emit_json(record)
        return 0
    print(f"daemon      stele {record['version']} at {' '.join(record['addresses'])} "
          f"(uptime {record['uptime_s']:.1f} s)")
    print(f"store       {record['store']} ({record['store_bytes']} bytes)")
    print(f"connections {record['connections']}   queue depth {record['queue_depth']}")
    print(f"executions  running {record['running']}   queued {record['queued']}   "
          f"succeeded {record['succeeded']}   failed {record['failed']}")
    for name, u in record["tenants"].items():
        print(f"tenant {name}: " + " ".join(f"{k}={v}" for k, v in u.items()))
    return 0


async def _status(address: str, token: str | None) -> Any:
    from ._client import connect

    async with connect(address, token=token) as rt:
        return await rt.server_status()


def status_record(s: Any) -> dict[str, Any]:
    """The ``--json`` record of a :class:`ServerStatus`."""
    return {
        "ok": True, "version": s.version, "uptime_s": s.uptime_ns / 1e9,
        "addresses": list(s.addresses), "connections": s.connections,
        "queue_depth": s.queue_depth, "running": s.running, "queued": s.queued,
        "succeeded": s.succeeded, "failed": s.failed, "store": s.store,
        "store_bytes": s.store_bytes,
        "tenants": {name: {"requests": u.requests, "executions": u.executions,
                           "running": u.running, "queued": u.queued,
                           "succeeded": u.succeeded, "failed": u.failed, "fuel": u.fuel,
                           "connections": u.connections, "grant_slots": u.grant_slots}
                    for name, u in sorted(s.tenants.items())},
    }


def run_remote(ns: Any, address: str) -> int:
    """``stele run --connect ADDRESS``: the same command, executed by a daemon."""
    import anyio

    from .._cli._run import _print, parse_tel_arg, result_record, write_receipt

    if ns.store is not None:
        raise UsageError("give --store (a local store) or --connect (a daemon), not both")
    known = ("Log", "Clock", "Rand", "KV", "Exec")
    for effect in ns.allow:
        if effect not in known:
            raise UsageError(f"--allow {effect!r}: not an effect (one of {', '.join(known)})")
    if ns.input is not None:
        if ns.args:
            raise UsageError("give a guest's input as --input FILE or as one ARG, not both")
        engine, args = "riscv", ns.input.read_bytes()
    elif ns.prove:  # only a guest can be proven: its one ARG is its input
        if len(ns.args) > 1:
            raise UsageError(f"a guest takes one input, got {len(ns.args)} arguments")
        engine, args = "riscv", ns.args[0].encode() if ns.args else b""
    else:
        engine, args = "tel", [parse_tel_arg(a) for a in ns.args]
    try:
        result = anyio.run(_run_remote, address, ns, engine, args, backend="trio")
    except _IsGuest:
        if len(ns.args) > 1:
            raise UsageError(f"a guest takes one input, got {len(ns.args)} arguments") from None
        result = anyio.run(_run_remote, address, ns, "riscv",
                           ns.args[0].encode() if ns.args else b"", backend="trio")
    write_receipt(ns, result)
    if ns.json:
        emit_json(result_record(result))
    else:
        _print(result)
    return int(result.exit_code or 0) & 0xFF if result.engine == "riscv" else 0


class _IsGuest(Exception):
    """The target is a RISC-V guest: run it on the co-processor instead."""


async def _run_remote(address: str, ns: Any, engine: str, args: Any) -> Any:
    from ..actors.executor import ExecLimits
    from ..actors.sandbox import DENY_ALL, Policy
    from ..store import ELF_KIND, WrongKind
    from ..tel._errors import TelError
    from ._client import connect

    limits = ExecLimits(fuel=ns.fuel, memory=ns.memory, depth=ns.depth, cycles=ns.cycles,
                        timeout=ns.timeout)
    policy = Policy.allow("cli", *ns.allow) if ns.allow else DENY_ALL
    async with connect(address, token=ns.token) as rt:
        if ns.prove:  # as embedded: only a stored guest is proven (docs/receipts.md)
            _digest, kind = await rt.resolve_kind(ns.target)
            if kind != ELF_KIND:
                raise UsageError(f"--prove: {ns.target!r} is TEL code; only RISC-V guests "
                                 "can be proven yet")
        try:
            return await rt.execute(ns.target, args, limits=limits, policy=policy,
                                    engine=engine, memo=not ns.no_memo, prove=ns.prove,
                                    durable=ns.durable)
        except WrongKind:
            if engine == "tel":
                raise _IsGuest() from None
            raise
        except TelError as exc:
            if type(exc) is TelError:
                raise UsageError(str(exc)) from None
            raise


def store_remote(args: Any, data: bytes, address: str) -> int:
    """``stele store FILE --connect ADDRESS``: store on a daemon, print ``name -> digest``."""
    import anyio

    from ._client import connect

    if args.blob and args.kind != "riscv.elf":
        raise UsageError("a daemon stores only RISC-V guest blobs (--kind riscv.elf)")
    if not args.blob:
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{args.file} is not UTF-8 text (byte {exc.start}); "
                             "use --blob for binaries") from None

    async def store() -> list[tuple[str, Any]]:
        async with connect(address, token=args.token) as rt:
            if args.blob:
                return [(args.name or "(unnamed)", await rt.store_blob(data, name=args.name))]
            names = await rt.store(source, filename=args.file, namespace=args.namespace)
            return list(names.items())

    for name, digest in anyio.run(store, backend="trio"):
        print(f"{name} -> {digest}")
    return 0
