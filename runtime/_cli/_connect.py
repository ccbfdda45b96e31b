"""``--connect ADDRESS`` / ``--token T`` for the store commands (``docs/daemon.md``).

A store command given ``--connect`` (or run with ``$STELE_CONNECT`` set)
acts on a daemon's store, as the token's tenant, instead of a local one;
``--token`` defaults to ``$STELE_TOKEN``.  An explicit ``--store`` together
with ``--connect`` is a usage error (which store was meant?); an explicit
``--store`` with only ``$STELE_CONNECT`` set uses the local store.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ._common import UsageError

__all__ = ["add_connect_args", "remote_address", "refuse_connect"]


def add_connect_args(p: argparse.ArgumentParser) -> None:
    """Add ``--connect`` and ``--token`` to a store command's parser."""
    p.add_argument("--connect", metavar="ADDRESS", default=None,
                   help="act on a daemon's store instead (default: $STELE_CONNECT); "
                        "token: --token or $STELE_TOKEN")
    p.add_argument("--token", default=None, help=argparse.SUPPRESS)


def remote_address(ns: Any) -> str | None:
    """The daemon to reach (``--connect``, else ``$STELE_CONNECT``), or ``None`` for local."""
    store = getattr(ns, "store", None)
    if ns.connect and store is not None:
        raise UsageError("give --store (a local store) or --connect (a daemon), not both")
    if store is not None:  # an explicit local store wins over the environment
        return None
    address: str | None = ns.connect or os.environ.get("STELE_CONNECT") or None
    return address


def refuse_connect(ns: Any, prog: str, why: str) -> None:
    """A local-only command given ``--connect``: exit 2 saying why (``$STELE_CONNECT`` alone
    does not refuse: the environment is set for the commands that can use it)."""
    if getattr(ns, "connect", None):
        raise UsageError(f"{prog} does not take --connect: {why}")
