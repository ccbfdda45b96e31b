"""``stele compile NAME -o out.elf``: a stored TEL definition as a freestanding RV32IM guest.

The ELF is what ``rt.execute(NAME, args, engine="riscv")`` runs: input on fd
0 (canonical CBOR ``[fuel, memory, depth, [args...]]``), output on fd 3
(``[code, value_or_site, fuel_left, memory_left, extra]``), the exit code, and a
``.stele.tel`` section with the site table that maps error exits back to
TEL's typed errors. Prints one line ``wrote PATH: N bytes (text T bytes,
S sites, compiler V)``; ``--json`` prints ``{"ok", "path", "digest",
"bytes", "text_bytes", "sites", "compiler"}`` instead. A definition using
a construct the compiler does not translate exits 2 naming it.
"""

from __future__ import annotations

import os

from ...store._cli import _Fail, _open, _parser, _run
from .._types import check_module
from ._driver import COMPILER_VERSION, compile_program
from ._lower import CompileUnsupported

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """The ``stele compile`` command (see the module docstring)."""
    ap = _parser("compile", "Compile stored TEL code to an RV32IM ELF for the co-processor.")
    ap.add_argument("target", help="a name, a digest or a unique digest prefix of a TEL definition")
    ap.add_argument("-o", "--output", required=True, metavar="OUT.elf", help="where to write the ELF")
    ap.add_argument("--json", action="store_true", help="print one JSON object")

    def body() -> int:
        from ..._cli._common import USAGE, emit_json
        args = ap.parse_args(argv)
        from ...daemon._fetch import store_or_fetched

        args.store = store_or_fetched(args, [args.target])  # --connect: the daemon's code
        with _open(args.store, create=False) as repo:
            loaded = repo.load(args.target)
            digest = repo.resolve(args.target)
        try:
            compiled = compile_program(check_module(loaded.module), loaded.entry)
        except CompileUnsupported as exc:
            raise _Fail(f"{args.target} does not compile to RISC-V: {exc}", USAGE) from None
        tmp = args.output + ".tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(compiled.elf)
            os.replace(tmp, args.output)
        except OSError as exc:
            raise _Fail(f"cannot write {args.output!r}: {exc.strerror}", USAGE) from None
        if args.json:
            emit_json({"ok": True, "path": args.output, "digest": str(digest), "bytes": len(compiled.elf),
                       "text_bytes": compiled.text_bytes, "sites": len(compiled.sites),
                       "compiler": COMPILER_VERSION})
        else:
            print(f"wrote {args.output}: {len(compiled.elf)} bytes (text {compiled.text_bytes} bytes, "
                  f"{len(compiled.sites)} sites, compiler {COMPILER_VERSION})")
        return 0

    return _run("compile", body)
