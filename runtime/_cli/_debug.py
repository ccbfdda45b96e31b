"""``stele debug``: a time-travel debugger over a recorded TEL execution (docs/debugger.md).

::

    stele debug fib 10                          # record fib(10), then debug it
    stele debug demo --allow KV --allow Log     # effects are performed once, when recorded
    stele debug --durable order-1234            # a stored durable execution (post-mortem)
    stele debug fib 10 --commands script.txt    # scripted: one command a line, for CI
    stele debug sort "200 7" --commands cmds.txt   # a RISC-V guest: cycles (_debug_guest)

``stele debug TARGET ARGS`` first runs the target as a durable execution
(``docs/durable.md``), so every effect is performed once and journaled; the
id is derived from the code's digest, the arguments, the grants and the
limits, and an execution already recorded under it is opened without running
anything.  ``--durable ID`` names the execution to record, or (without a
TARGET) the stored one to open -- finished, failed or interrupted.

The debugger then replays the execution from its journal, never performing
an effect: every position is reached by deterministic replay, from the
nearest checkpoint (a forked copy of the replay paused every
``--checkpoint-every N`` events) or from the start.  Commands come
from ``--commands FILE``, from standard input when it is not a terminal
(each command is echoed after the prompt, so the transcript reads like a
session), or from a readline prompt.  A bad command is one line ``error:
...``; in a script it stops the session with exit 2.  Ctrl-D or the end of
the script leaves (exit 0); Ctrl-C leaves with exit 130, except during a
command at the prompt, where it abandons that command.

A RISC-V guest (a stored ``riscv.elf`` blob or an ELF file) is debugged by
:mod:`._debug_guest` through the same command loop: its positions are
cycles, reached from co-processor checkpoints.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from ._common import USAGE, CliParser, UsageError, count_arg
from ._connect import add_connect_args
from ._debug_guest import GUEST_CHECKPOINT_EVERY

__all__ = ["main", "default_ident", "open_replay", "run_script", "drive"]

PROMPT = "(stele debug) "
#: events between two checkpoints (forked copies of the replay paused at an event)
CHECKPOINT_EVERY = 10_000
_EFFECTS = ("Log", "Clock", "Rand", "KV", "Exec")


def _parser() -> CliParser:
    from ..actors.executor import ExecLimits

    d = ExecLimits()
    p = CliParser(prog="stele debug",
                  description="Debug a TEL execution by deterministic replay of its journal, "
                              "or a RISC-V guest's run from checkpoints: step, reverse-step, "
                              "breakpoints, watches.")
    p.add_argument("target", nargs="?", default=None,
                   help="a stored name, digest or prefix, or a RISC-V ELF file (omit with "
                        "--durable ID to open a stored execution)")
    p.add_argument("args", nargs="*", help="TEL literals, as for `stele run` (or a guest's "
                                           "input as one ARG)")
    p.add_argument("--durable", metavar="ID", default=None,
                   help="record under this id, or (no TARGET) open this stored execution")
    p.add_argument("--commands", type=Path, default=None, metavar="FILE",
                   help="run the commands in FILE (one a line, # comments) and leave")
    p.add_argument("--allow", action="append", default=[], metavar="EFFECT",
                   help="grant an effect for the recording (Log, Clock, Rand, KV, Exec)")
    p.add_argument("--checkpoint-every", type=count_arg, default=None, metavar="N",
                   help="keep a checkpoint every N events (TEL, default "
                        f"{CHECKPOINT_EVERY}) or N cycles (a guest, default "
                        f"{GUEST_CHECKPOINT_EVERY}), so a move replays from the nearest one "
                        "(0: replay from the start)")
    p.add_argument("--fuel", type=count_arg, default=d.fuel, help="TEL cost limit")
    p.add_argument("--memory", type=count_arg, default=d.memory, help="memory limit in bytes")
    p.add_argument("--depth", type=count_arg, default=d.depth, help="TEL call depth limit")
    p.add_argument("--cycles", type=count_arg, default=d.cycles, help="guest cycle limit")
    p.add_argument("--input", type=Path, default=None, help="a guest's input file (fd 0)")
    p.add_argument("--store", metavar="PATH", default=None,
                   help="the store file (default: $STELE_STORE or ./.stele/store.sqlite)")
    add_connect_args(p)
    return p


def default_ident(digest: str, args: list[Any], policy: Any, limits: Any) -> str:
    """The recording's durable id: the same code, arguments, grants and limits, the same id."""
    from ..actors.executor._durable import _limits
    from ..actors.sandbox._values import value_to_cbor
    from ..protocol import encode

    blob = encode([digest, [value_to_cbor(a) for a in args], policy.to_cbor_obj(),
                   _limits(limits)])
    return f"debug/{digest.rpartition(':')[2][:12]}/{hashlib.sha256(blob).hexdigest()[:16]}"


async def _record(path: str, ns: Any, out: TextIO) -> str:
    """Record ``ns.target(ns.args)`` as a durable execution (unless it is); its id."""
    import stele
    from ..actors.executor import ExecLimits
    from ..actors.sandbox import DENY_ALL, Policy
    from ..actors.sandbox._durable import UnknownExecution
    from .._errors import SteleError
    from ..tel._errors import TelError
    from ._run import parse_tel_arg

    for effect in ns.allow:
        if effect not in _EFFECTS:
            raise UsageError(f"--allow {effect!r}: not an effect (one of {', '.join(_EFFECTS)})")
    args = [parse_tel_arg(a) for a in ns.args]
    limits = ExecLimits(fuel=ns.fuel, memory=ns.memory, depth=ns.depth)
    policy = Policy.allow("cli", *ns.allow) if ns.allow else DENY_ALL
    async with stele.open_runtime(path) as rt:
        digest = await rt.resolve(ns.target)
        ident = ns.durable or default_ident(str(digest), args, policy, limits)
        try:
            await rt.durable_journal(ident)
            print(f"opening the recorded execution {ident} (nothing runs again)", file=out)
            return ident
        except UnknownExecution:
            pass
        try:
            await rt.execute(ns.target, args, limits=limits, policy=policy, engine="tel",
                             memo=False, durable=ident)
            print(f"recorded {ident}", file=out)
        except TelError as exc:
            if type(exc) is TelError:  # the entry's arity or argument types
                raise UsageError(str(exc)) from None
            print(f"recorded {ident}; the run stopped: {type(exc).__name__}: {exc}", file=out)
        except SteleError as exc:
            print(f"recorded {ident}; the run stopped: {type(exc).__name__}: {exc}", file=out)
    return ident


def open_replay(path: str, ident: str, checkpoint_every: int | None = None) -> Any:
    """A :class:`~stele._debugger.TelReplay` of the stored durable execution ``ident``."""
    import anyio

    import stele
    from .. import RealEnv
    from .._debugger import TelReplay
    from ..actors.sandbox._durable import DurableMismatch
    from ..actors.sandbox._values import value_from_cbor
    from ..store import Repository
    from ..tel import COST_TABLE
    from ..tel._cost import Limits

    async def fetch() -> tuple[Any, list[bytes], tuple[int, int]]:
        async with stele.open_runtime(path) as rt:
            stored, entries = await rt.durable_journal(ident)
            return stored, entries, await _children_usage(rt, ident, entries)

    stored, entries, (kids_fuel, kids_memory) = anyio.run(fetch, backend="trio")
    head = stored.header
    if head.get("engine") != "tel":
        raise UsageError(f"{ident!r} is a {head.get('engine')} execution: the debugger "
                         "replays TEL executions only (guests are not supported yet)")
    if head.get("cost_table") != COST_TABLE.version:
        raise DurableMismatch(ident, "cost_table", head.get("cost_table"), COST_TABLE.version)
    with Repository(path, clock=RealEnv(seed=0).wall_ns) as repo:
        loaded = repo.load(head["digest"])
    lim = head["limits"]
    # the executor runs a TEL program with what its children (Exec.call) left of the limits
    limits = Limits(fuel=max(0, lim["fuel"] - kids_fuel),
                    memory=max(0, lim["memory"] - kids_memory), depth=lim["depth"])
    args = [value_from_cbor(a) for a in head["args"]]
    return TelReplay(loaded.check(), loaded.entry, args, limits, entries, ident,
                     checkpoint_every=checkpoint_every or None)


async def _children_usage(rt: Any, ident: str, entries: list[bytes]) -> tuple[int, int]:
    """Fuel and memory used by the execution's journaled ``Exec.call`` children.

    A child is the durable execution ``IDENT/SEQ`` of the call's journal
    position; one that never finished counts nothing.
    """
    from ..actors.sandbox._durable import UnknownExecution
    from ..protocol import decode

    fuel = memory = 0
    for seq, entry in enumerate(entries):
        obj = decode(entry)
        if not (isinstance(obj, list) and obj[:2] == ["Exec", "call"]):
            continue
        try:
            child, _journal = await rt.durable_journal(f"{ident}/{seq}")
        except UnknownExecution:
            continue
        if child.state == "done" and isinstance(child.result, dict):
            fuel += int(child.result.get("cost", 0))
            memory += int(child.result.get("usage", [0, 0])[1])
    return fuel, memory


def _lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\n")


def run_script(session: Any, lines: Iterator[str], out: TextIO, err: TextIO) -> int:
    """Run scripted commands, echoing each after the prompt; exit 2 at the first bad one."""
    from .._debugger import BadCommand, parse

    for line in lines:
        print(PROMPT + line, file=out)
        try:
            command = parse(line)
            if command is None:
                continue
            reply = session.execute(command)
        except BadCommand as exc:
            out.flush()
            print(f"stele debug: error: {exc}", file=err)
            return USAGE
        if reply.lines:
            print(reply.text, file=out)
        out.flush()  # a script piped in reads each answer before it sends the next command
        if reply.quit:
            break
    return 0


def run_prompt(session: Any, read: Callable[[str], str], out: TextIO) -> int:
    """The interactive loop: a bad command is reported and the session goes on.

    Ctrl-C during a command abandons it (the position does not change);
    Ctrl-C at the prompt leaves (exit 130, by the dispatcher), Ctrl-D with 0.
    """
    while True:
        try:
            line = read(PROMPT)
        except EOFError:
            print(file=out)
            return 0
        try:
            reply = session.handle(line)
        except KeyboardInterrupt:  # Ctrl-C during a long move: back to the prompt, unmoved
            print("interrupted; still at " + session.describe(), file=out)
            continue
        if reply.lines:
            print(reply.text, file=out)
        if reply.quit:
            return 0


def main(argv: list[str]) -> int:
    """Entry point of ``stele debug``."""
    import anyio

    from ._run import store_path

    from ..daemon._fetch import store_or_fetched

    ns = _parser().parse_args(argv)
    script = _script(ns.commands)
    if ns.target is not None and Path(ns.target).is_file():  # an ELF file: no store is involved
        from ._debug_guest import debug_guest, guest_image

        local = guest_image(ns.target, None)
        assert local is not None
        return debug_guest(ns, local[0], local[1], script, drive)
    # --connect TARGET: record and replay here, on the daemon's code (docs/daemon.md)
    store = store_or_fetched(ns, [ns.target] if ns.target else [], refuse=(
        "--durable ID without a TARGET opens a stored execution, and a daemon's journals "
        "stay in the daemon: give a TARGET to record one here from the daemon's code"))
    if ns.target is not None:
        from ._debug_guest import debug_guest, guest_image

        guest = guest_image(ns.target, store)
        if guest is not None:
            return debug_guest(ns, guest[0], guest[1], script, drive)
    if ns.input is not None:
        raise UsageError("--input is for RISC-V guests; a TEL entry takes ARGS")
    path = store_path(store)
    if ns.target is None:
        if ns.durable is None:
            raise UsageError("give a TARGET to record, or --durable ID to open a stored "
                             "execution (see 'stele debug --help')")
        if ns.allow:
            raise UsageError("--allow applies to a recording; the stored execution keeps its "
                             "own grants")
        ident = ns.durable
    else:
        ident = anyio.run(_record, path, ns, sys.stdout, backend="trio")
    every = CHECKPOINT_EVERY if ns.checkpoint_every is None else ns.checkpoint_every
    replay = open_replay(path, ident, every)
    try:
        return _session(replay, script)
    finally:
        replay.close()


def _script(commands: Path | None) -> TextIO | None:
    """The ``--commands`` file, opened (a file that cannot be read is a usage error)."""
    if commands is None:
        return None
    try:
        return commands.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--commands {str(commands)!r}: {exc.strerror or exc}") from None


def _session(replay: Any, script: TextIO | None) -> int:
    from .._debugger import DebugSession

    session = DebugSession(replay)
    out = replay.outcome
    ending = {"value": "returned", "error": "stopped with", "pending": "is unfinished:"}
    print(f"{replay.ident}: {replay.length} events; the run {ending.get(out.kind, out.kind)} "
          f"{out.text} (cost {out.cost}); 'help' for commands")
    print(session.describe(), flush=True)
    return drive(session, script)


def drive(session: Any, script: TextIO | None) -> int:
    """Run ``session`` from the script, from piped standard input, or at a readline prompt."""
    if script is not None:
        with script:
            return run_script(session, _lines(script), sys.stdout, sys.stderr)
    if not sys.stdin.isatty():
        return run_script(session, _lines(sys.stdin), sys.stdout, sys.stderr)
    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:
        pass
    return run_prompt(session, input, sys.stdout)
