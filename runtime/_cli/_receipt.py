"""``stele receipt verify|show|get``: check and read receipts without the runtime that made them.

::

    stele run counter --prove --receipt counter.receipt     # make one (docs/receipts.md)
    stele receipt verify counter.receipt --elf counter.elf [--input F] [--output F] [--exit-code N]
    stele receipt show counter.receipt [--json]
    stele receipt get DIGEST -o FILE [--store PATH]         # export a stored receipt

``verify`` needs only the receipt and the ELF: it prints ``verified`` and
exits 0, or names the failed claim on stderr and exits 7 (the exit table's
"a proof or receipt did not verify"; a malformed receipt is 7 as well).  An
unreadable file is 2.  ``show`` decodes (strictly) and prints the statement;
it does not verify.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._common import USAGE, CliError, CliParser, UsageError, emit_json
from ._connect import add_connect_args

__all__ = ["main"]


def _parser() -> CliParser:
    p = CliParser(prog="stele receipt", description="Verify, show or export execution receipts.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    v = sub.add_parser("verify", help="verify a receipt against the guest's ELF")
    v.add_argument("receipt", type=Path, help="the receipt file (stele.receipt/1)")
    v.add_argument("--elf", type=Path, required=True, help="the guest ELF the receipt must be about")
    v.add_argument("--input", type=Path, default=None, help="the input the receipt must be about")
    v.add_argument("--output", type=Path, default=None, help="the public output the receipt must claim")
    v.add_argument("--exit-code", type=int, default=None, help="the exit code the receipt must claim")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    s = sub.add_parser("show", help="print a receipt's statement (does not verify)")
    s.add_argument("receipt", type=Path, help="the receipt file")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    g = sub.add_parser("get", help="export a stored receipt to a file")
    g.add_argument("digest", help="the receipt's digest (or a unique prefix)")
    g.add_argument("-o", "--output", type=Path, required=True, help="where to write the receipt")
    g.add_argument("--store", metavar="PATH", default=None,
                   help="the store file (default: $STELE_STORE or ./.stele/store.sqlite)")
    add_connect_args(g)
    return p


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read the {what} {str(path)!r}: {exc.strerror or exc}", USAGE) from None


def main(argv: list[str]) -> int:
    """Entry point of ``stele receipt``."""
    ns = _parser().parse_args(argv)
    if ns.command is None:
        raise UsageError("give a command: verify, show or get (see 'stele receipt --help')")
    if ns.command == "get":
        return _get(ns)
    from ..actors.receipts import decode_receipt, verify_receipt

    data = _read(ns.receipt, "receipt")
    if ns.command == "show":
        record = decode_receipt(data).describe()
        if ns.json:
            emit_json(record)
        else:
            for key, value in record.items():
                print(f"{key}: {value}")
        return 0
    elf = _read(ns.elf, "ELF")
    kwargs: dict[str, Any] = {"exit_code": ns.exit_code}
    if ns.input is not None:
        kwargs["input_bytes"] = _read(ns.input, "input")
    if ns.output is not None:
        kwargs["output"] = _read(ns.output, "output")
    receipt = verify_receipt(data, elf=elf, **kwargs)  # ReceiptRejected / MalformedReceipt: exit 7
    if ns.json:
        emit_json({"ok": True, "verified": True, **receipt.describe()})
    else:
        print(f"verified: {receipt.code.short()} exit_code={receipt.exit_code} cycles={receipt.cycles}")
    return 0


def _get(ns: Any) -> int:
    from .. import RealEnv
    from ..actors.receipts import RECEIPT_KIND, decode_receipt
    from ..daemon._fetch import store_or_fetched
    from ..store import Repository, WrongKind
    from ._run import store_path

    path = store_path(store_or_fetched(ns, [ns.digest]))  # --connect: the tenant's receipt
    with Repository(path, clock=RealEnv(seed=0).wall_ns) as repo:
        obj = repo.get_blob(ns.digest)
    if obj.kind != RECEIPT_KIND:
        raise WrongKind(obj.digest, obj.kind, f"a {RECEIPT_KIND} blob")
    decode_receipt(obj.payload)  # a damaged stored receipt is reported, never exported
    try:
        ns.output.write_bytes(obj.payload)
    except OSError as exc:
        raise CliError(f"cannot write {str(ns.output)!r}: {exc.strerror or exc}", USAGE) from None
    print(f"{obj.digest} -> {ns.output}")
    return 0
