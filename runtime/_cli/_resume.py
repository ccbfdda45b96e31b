"""``stele resume ID``: finish a durable execution from its journal (docs/durable.md).

The execution's journaled effects are answered from the journal, never
performed again; the program continues live from the first unjournaled
effect.  A finished execution prints its stored result.  Output is that of
``stele run`` (``--json``: the same record).  With ``--connect ADDRESS`` the
daemon finishes the tenant's own durable execution (``stele run --durable ID
--connect``).
"""

from __future__ import annotations

from typing import Any

from ._common import CliParser, emit_json
from ._connect import add_connect_args, remote_address
from ._run import _print, result_record, store_path

__all__ = ["main"]


def _parser() -> CliParser:
    p = CliParser(prog="stele resume",
                  description="Finish a durable execution (started with `stele run --durable "
                              "ID`) from its journal in the store.")
    p.add_argument("id", help="the durable execution's id")
    p.add_argument("--store", metavar="PATH", default=None,
                   help="the store (default: $STELE_STORE or ./.stele)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_connect_args(p)
    return p


def main(argv: list[str]) -> int:
    """Entry point of ``stele resume``."""
    import anyio

    ns = _parser().parse_args(argv)
    address = remote_address(ns)
    if address is not None:  # the tenant's durable execution, finished by the daemon
        from ..daemon._remote_cli import on_daemon

        result = on_daemon(ns, address, lambda rt: rt.resume(ns.id))
    else:
        result = anyio.run(_resume, store_path(ns.store), ns.id, backend="trio")
    if ns.json:
        emit_json(result_record(result))
    else:
        _print(result)
    if result.engine == "riscv":
        return int(result.exit_code or 0) & 0xFF
    return 0


async def _resume(path: str, ident: str) -> Any:
    import stele

    async with stele.open_runtime(path) as rt:
        return await rt.resume(ident)
