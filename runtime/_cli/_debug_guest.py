"""``stele debug`` on a RISC-V guest: record its run with checkpoints, then step through cycles.

::

    stele debug sort "200 7"                          # a stored guest, its input as one ARG
    stele debug examples/guests/bin/sort.elf --input in.txt --commands cmds.txt

The target is a stored ``riscv.elf`` blob (a name, digest or prefix) or an
ELF file, with its input as for ``stele run``: ``--input FILE`` or one ARG
as UTF-8.  The guest runs once on the fastest engine, keeping a co-processor
checkpoint every ``--checkpoint-every N`` cycles (:mod:`stele._debugger._guest`);
the session (:mod:`stele._debugger._guest_session`) then moves through the
run's cycles, restoring the nearest checkpoint for each move.  Nothing is
journaled: a guest's run is a function of its image and input.  A guest's
effect ``ecall`` ends the recording there (no effect is served), like a
fault or the cycle limit, and the session opens on what ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from ._common import UsageError

__all__ = ["debug_guest", "GUEST_CHECKPOINT_EVERY"]

#: cycles between two checkpoints of a guest, unless --checkpoint-every says otherwise
GUEST_CHECKPOINT_EVERY = 100_000


def debug_guest(ns: Any, image: bytes, label: str, script: TextIO | None,
                drive: Any) -> int:
    """Record the guest ``image`` under the flags ``ns`` and run the session with ``drive``."""
    from ..actors.coprocessor import load_elf
    from .._debugger import GuestReplay, GuestSession
    from ._run import guest_input

    if ns.allow:
        raise UsageError("--allow: stele debug does not serve guest effects yet (a guest's "
                         "effect ecall ends its recording)")
    if ns.durable is not None:
        raise UsageError("--durable: a guest is not recorded as a durable execution; its run "
                         "is replayed from its image and input")
    data = guest_input(ns)
    load_elf(image)  # a bad file is a typed ElfError (exit 2) before anything runs
    every = GUEST_CHECKPOINT_EVERY if ns.checkpoint_every is None else ns.checkpoint_every
    replay = GuestReplay(image, data, max_cycles=ns.cycles,
                         memory_limit=max(1 << 16, min(ns.memory, 1 << 32)),
                         checkpoint_every=every, label=label)
    try:
        session = GuestSession(replay)
        marks = len(replay.checkpoints)
        print(f"{label}: {replay.last} cycles; the run {replay.outcome.text}; {marks} "
              f"checkpoint(s); 'help' for commands")
        print(session.describe(), flush=True)
        result: int = drive(session, script)
        return result
    finally:
        replay.close()


def guest_image(target: str, store: str | None) -> tuple[bytes, str] | None:
    """The guest to debug: an ELF file, or a stored ``riscv.elf`` blob; None for TEL code."""
    path = Path(target)
    if path.is_file():
        return path.read_bytes(), path.name
    from ._run import _kind, store_path

    where = store_path(store)
    if _kind(where, target) != "riscv.elf":
        return None
    from ._vm import guest_bytes

    return guest_bytes(path, where), target
