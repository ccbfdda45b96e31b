"""``stele profile TARGET [ARGS...] -o OUT``: where a TEL program spends its cost, a guest its cycles.

::

    stele profile fib 20 -o fib                  # fib.speedscope.json, fib.perfetto.json, fib.html
    stele profile fib_sum 8 --allow Exec -o out --format perfetto
    stele profile sha256 hello -o sha            # a stored RISC-V guest, exact
    stele profile examples/guests/bin/sort.elf --sample 1000 -o sort   # an ELF file, sampled

TARGET is a stored name, digest or unique prefix (as for ``stele run``), or
the path of a RISC-V ELF file.  TEL definitions run through the embedded
runtime with the interpreter's instrumentation mode: exact cost units and
wall time per function and per call stack, child executions (``Exec.call``)
nested under their parent.  Guests run on the co-processor's reference
interpreter, exactly (every cycle to its pc and call stack), or with
``--sample N`` on the fast engine with one pc sample every N instructions.

Outputs (``--format``, default ``all``): ``speedscope`` JSON, ``perfetto``
(Chrome trace-event JSON of the execution-context tree, or a guest's calls
on the cycle axis), ``html`` (a self-contained flame graph).  With ``all``,
OUT is a stem and the three files are ``OUT.speedscope.json``,
``OUT.perfetto.json`` and ``OUT.html``; with one format, OUT is the file.
The terminal shows the top ``--top N`` functions.  The profile's total is
checked against the execution's own reported cost (TEL) or the cycles of an
unprofiled run (guest): they are equal, or the command fails (exit 70).
Errors are one line, exit codes as in :mod:`stele._cli._common`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ._common import INTERNAL, CliError, CliParser, UsageError, count_arg, emit_json
from ._connect import add_connect_args

__all__ = ["main", "FORMATS"]

FORMATS = ("speedscope", "perfetto", "html", "all")
_SUFFIX = {"speedscope": ".speedscope.json", "perfetto": ".perfetto.json", "html": ".html"}
_EFFECTS = ("Log", "Clock", "Rand", "KV", "Exec")


def _positive(text: str) -> int:
    value = count_arg(text)
    if value == 0:
        import argparse

        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _parser() -> CliParser:
    from ..actors.executor import ExecLimits

    d = ExecLimits()
    p = CliParser(prog="stele profile",
                  description="Profile stored TEL code or a RISC-V guest; write flame graphs.")
    p.add_argument("target", help="a stored name, digest or prefix, or a RISC-V ELF file")
    p.add_argument("args", nargs="*", help="TEL literals (or a guest's input as one ARG)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file (one format) or file-name stem (--format all)")
    p.add_argument("--format", default="all", metavar="FORMAT",
                   help="speedscope, perfetto, html or all (default)")
    p.add_argument("--top", type=count_arg, default=15, metavar="N",
                   help="functions in the terminal table (0: none; default %(default)s)")
    p.add_argument("--sample", type=_positive, default=None, metavar="N",
                   help="guests: sample the pc every N instructions (default: exact)")
    p.add_argument("--allow", action="append", default=[], metavar="EFFECT",
                   help="grant an effect to a TEL program (Log, Clock, Rand, KV, Exec)")
    p.add_argument("--fuel", type=count_arg, default=d.fuel, help="TEL cost limit")
    p.add_argument("--memory", type=count_arg, default=d.memory, help="memory limit in bytes")
    p.add_argument("--depth", type=count_arg, default=d.depth, help="TEL call depth limit")
    p.add_argument("--cycles", type=count_arg, default=d.cycles, help="guest cycle limit")
    p.add_argument("--input", type=Path, default=None, help="a guest's input file (fd 0)")
    p.add_argument("--store", metavar="PATH", default=None,
                   help="the store file (default: $STELE_STORE or ./.stele/store.sqlite)")
    add_connect_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON summary object")
    return p


def _outputs(out: str, fmt: str) -> dict[str, Path]:
    """The files to write, checked before anything runs (a bad path is a usage error)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: not a format (one of {', '.join(FORMATS)})")
    if not out:
        raise UsageError("-o: give an output file or stem")
    kinds = list(_SUFFIX) if fmt == "all" else [fmt]
    files = {k: Path(out + _SUFFIX[k]) if fmt == "all" else Path(out) for k in kinds}
    for path in files.values():
        parent = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            raise UsageError(f"-o {out!r}: {str(path)!r} is a directory")
        if not parent.is_dir():
            raise UsageError(f"-o {out!r}: directory {str(parent)!r} does not exist")
        if not os.access(parent, os.W_OK):
            raise UsageError(f"-o {out!r}: directory {str(parent)!r} is not writable")
    return files


def main(argv: list[str]) -> int:
    """Entry point of ``stele profile``."""
    ns = _parser().parse_args(argv)
    files = _outputs(ns.output, ns.format)
    target = Path(ns.target)
    if target.is_file():
        return _guest(ns, files, target.read_bytes(), target.name)
    from ..daemon._fetch import store_or_fetched
    from ._run import _kind, store_path

    path = store_path(store_or_fetched(ns, [ns.target]))  # --connect: profile its code here
    if _kind(path, ns.target) == "riscv.elf":
        from ._vm import guest_bytes

        return _guest(ns, files, guest_bytes(Path(ns.target), path), ns.target)
    return _tel(ns, files, path)


def _write(files: dict[str, Path], docs: dict[str, Any]) -> list[str]:
    written = []
    for kind, path in files.items():
        doc = docs[kind]
        text = doc if isinstance(doc, str) else json.dumps(doc, separators=(",", ":"))
        path.write_text(text, encoding="utf-8")
        written.append(str(path))
    return written


def _tel(ns: Any, files: dict[str, Path], path: str) -> int:
    import anyio

    from .. import __version__
    from ..actors.executor import ExecLimits
    from ..actors.sandbox import DENY_ALL, Policy
    from ..tel._errors import TelError
    from .._profiler._flame import flame_html
    from .._profiler._perfetto import exec_tree_trace
    from .._profiler._speedscope import to_speedscope
    from .._profiler._table import top_table
    from .._profiler._tel import profile_tel
    from ._run import parse_tel_arg, plain_value

    if ns.sample is not None:
        raise UsageError("--sample is for RISC-V guests; a TEL profile is always exact")
    if ns.input is not None:
        raise UsageError("--input is for RISC-V guests; a TEL entry takes ARGS")
    for effect in ns.allow:
        if effect not in _EFFECTS:
            raise UsageError(f"--allow {effect!r}: not an effect (one of {', '.join(_EFFECTS)})")
    args = [parse_tel_arg(a) for a in ns.args]
    limits = ExecLimits(fuel=ns.fuel, memory=ns.memory, depth=ns.depth, cycles=ns.cycles)
    policy = Policy.allow("cli", *ns.allow) if ns.allow else DENY_ALL

    async def go() -> Any:
        try:
            return await profile_tel(path, ns.target, args, limits=limits, policy=policy)
        except TelError as exc:
            if type(exc) is TelError:  # the entry's arity or argument types
                raise UsageError(str(exc)) from None
            raise

    got = anyio.run(go, backend="trio")
    r = got.result
    total = got.cost.total()
    name = f"{ns.target}({', '.join(ns.args)})"
    table = top_table(got.cost, ns.top, got.wall) if ns.top else ""
    totals = {}
    for run in got.profiler.final_runs():
        if isinstance(run.scope, str):
            totals[run.scope] = run.cost
    meta = {"tool": f"stele {__version__}", "target": ns.target, "engine": "tel",
            "cost": r.cost, "cost_table": "tel-cost-2", "executions": len(got.tree.order)}
    docs: dict[str, Any] = {
        "speedscope": to_speedscope([got.cost, got.wall], name, f"stele {__version__}"),
        "perfetto": exec_tree_trace(got.tree, meta=meta, totals=totals),
        "html": flame_html([got.cost, got.wall], f"stele profile {name}",
                           f"TEL, exact: total cost {total} units, wall "
                           f"{got.wall.total() / 1e6:.3f} ms, {len(got.tree.order)} "
                           "execution(s)", table)}
    written = _write(files, docs)
    if total != r.cost:
        raise CliError(f"internal: the profile's total cost {total} is not the execution's "
                       f"cost {r.cost}", INTERNAL)
    if ns.json:
        emit_json({"ok": True, "exit_code": 0, "engine": "tel", "target": ns.target, "value": plain_value(r.value),
                   "cost": r.cost, "profile_total": total, "wall_ns": got.wall.total(),
                   "executions": len(got.tree.order), "files": written,
                   "top": [{"function": f.name, "self": f.self_weight, "total": f.total_weight,
                            "calls": f.calls} for f in got.cost.functions()[:ns.top]]})
        return 0
    from ..tel._values import show_value

    print(f"value={show_value(r.value)} cost={r.cost} profile_total={total} "
          f"wall_ms={got.wall.total() / 1e6:.3f} executions={len(got.tree.order)}")
    if table:
        print(table)
    print("wrote " + " ".join(written))
    return 0


def _guest(ns: Any, files: dict[str, Path], image: bytes, label: str) -> int:
    from .. import __version__
    from ..actors.coprocessor import load_elf
    from .._profiler._flame import flame_html
    from .._profiler._guest import profile_exact, profile_sampled, run_plain
    from .._profiler._perfetto import guest_trace
    from .._profiler._speedscope import to_speedscope
    from .._profiler._table import top_table
    from ._run import guest_input
    from ._vm import no_grant

    if ns.allow:
        raise UsageError("--allow: stele profile does not serve guest effects yet "
                         "(a guest's effect ecall stops it, exit 4)")
    data = guest_input(ns)
    load_elf(image)  # a bad file is a typed ElfError (exit 2) before anything runs
    memory = max(1 << 16, min(ns.memory, 1 << 32))
    if ns.sample is None:
        prof = profile_exact(image, data, ns.cycles, memory, no_grant)
        reference = run_plain(image, data, ns.cycles, memory, no_grant, engine="jit").cycle
    else:
        prof = profile_sampled(image, data, ns.cycles, ns.sample, memory, no_grant,
                               engine="jit")
        reference = prof.total_cycles
    total = prof.cycles.total()
    mode = "exact" if ns.sample is None else f"sampled every {ns.sample} instructions"
    table = top_table(prof.cycles, ns.top) if ns.top else ""
    meta = {"tool": f"stele {__version__}", "target": label, "engine": "riscv",
            "cycles": prof.total_cycles, "mode": prof.mode}
    pcs = sorted(prof.pcs.items(), key=lambda kv: -kv[1])
    docs: dict[str, Any] = {
        "speedscope": to_speedscope([prof.cycles], label, f"stele {__version__}"),
        "perfetto": guest_trace(prof, name=label, meta=meta),
        "html": flame_html([prof.cycles], f"stele profile {label}",
                           f"RISC-V guest, {mode}: {prof.total_cycles} cycles, exit "
                           f"{prof.exit_code}, {prof.symbols} symbols", table)}
    written = _write(files, docs)
    if total != reference or total != prof.total_cycles:
        raise CliError(f"internal: the profile's total {total} cycles is not the run's "
                       f"{reference}", INTERNAL)
    if ns.json:
        emit_json({"ok": True, "exit_code": prof.exit_code & 0xFF, "engine": "riscv",
                   "target": label, "mode": prof.mode,
                   "interval": prof.interval,
                   "cycles": prof.total_cycles, "profile_total": total, "files": written,
                   "symbols": prof.symbols,
                   "top": [{"function": f.name, "self": f.self_weight, "total": f.total_weight,
                            "calls": f.calls} for f in prof.cycles.functions()[:ns.top]],
                   "top_pcs": [{"pc": f"0x{pc:08x}", "cycles": n} for pc, n in pcs[:ns.top]]})
        return prof.exit_code & 0xFF
    print(f"exit={prof.exit_code} cycles={prof.total_cycles} profile_total={total} "
          f"mode={prof.mode} symbols={prof.symbols}")
    if table:
        print(table)
        print("hottest pcs: " + ", ".join(f"0x{pc:08x}={n}" for pc, n in pcs[:min(5, ns.top)]))
    print("wrote " + " ".join(written))
    return prof.exit_code & 0xFF
