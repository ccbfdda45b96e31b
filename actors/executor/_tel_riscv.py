"""``engine="riscv"`` for a stored TEL definition: compile it (memoized), run the guest, map back.

The definition and everything it depends on compile to an RV32IM ELF
(`stele.tel.compiler`), kept in memory (`CompiledCache`) and in the store
as a content-addressed blob named by the TEL digest and `COMPILER_VERSION`
(`compiled_name`), so a definition compiles once per compiler version. The guest runs on the co-processor actor (a worker
process under RealEnv, inline under SimEnv) like any other guest, and its
output becomes the TEL value, cost and memory -- or the typed TEL error the
interpreter raises, with the same message and cost. A definition the
compiler does not translate fails with `CompileUnsupported` naming the
construct (the ``"tel"`` engine still runs it).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

from ...protocol import Digest
from ...tel import Limits
from ...tel.compiler import (
    COMPILER_VERSION, Compiled, compile_program, compiled_from_elf, decode_output, guest_input, max_cycles_for,
)
from ..repository._messages import PutBlob
from ..allocator import Resources
from ..coprocessor import CycleLimitExceeded, GuestOutputLimit, RunLimits
from ..coprocessor._messages import GuestFinished, GuestStopped, RunGuest
from ._guest import guest_failure, output_limit, wait_for_deadline
from ._types import ExecResult

__all__ = ["CompiledCache", "COMPILED", "COMPILED_KIND", "compiled_name", "run_tel_on_riscv", "tel_guest"]


class CompiledCache:
    """Compiled programs by (TEL digest, compiler version): a bounded, least-recently-used map."""

    def __init__(self, capacity: int = 128) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[bytes, str], Compiled] = OrderedDict()
        self.hits = self.misses = 0

    def key(self, digest: Digest) -> tuple[bytes, str]:
        return (digest.binary, COMPILER_VERSION)

    def get(self, digest: Digest) -> Compiled | None:
        got = self._items.get(self.key(digest))
        if got is not None:
            self._items.move_to_end(self.key(digest))
            self.hits += 1
        return got

    def put(self, digest: Digest, compiled: Compiled) -> None:
        self.misses += 1
        self._items[self.key(digest)] = compiled
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)


#: the process's compiled programs (the executor and `stele compile` share it)
COMPILED = CompiledCache()


#: the kind of a compiled TEL ELF in the store (not "riscv.elf": it speaks the TEL guest ABI)
COMPILED_KIND = "tel-rv32.elf"


def compiled_name(digest: Digest) -> str:
    """The store name under which the ELF compiled from TEL `digest` by this compiler is kept."""
    return f"stele.compiled.{COMPILER_VERSION}.{digest.binary.hex()}"


async def compiled_for(executor: Any, digest: Digest) -> Compiled:
    """The compiled program of TEL target `digest`: from memory, else from the store, else compiled.

    A compilation (off the event loop) is stored as a content-addressed blob
    of kind `COMPILED_KIND`, bound to `compiled_name(digest)`, so a definition
    compiles once per compiler version across processes, not once per process.
    """
    got = COMPILED.get(digest)
    if got is None:
        pool = await executor._program(digest)
        checked = pool.free[0].checked if pool.free else pool.loaded.program().checked
        got = await _stored(executor, digest, checked, pool.entry)
        if got is None:
            got = await executor.env.run_blocking(compile_program, checked, pool.entry)
            await executor._ask_repo(PutBlob(got.elf, kind=COMPILED_KIND, name=compiled_name(digest)))
            STORE_WRITES[0] += 1
        COMPILED.put(digest, got)
    return got


#: compilations written to a store by this process (a test's probe)
STORE_WRITES = [0]


async def _stored(executor: Any, digest: Digest, checked: Any, entry: str) -> Compiled | None:
    from ...store import NameNotFound, UnknownTarget
    from ..repository._messages import GetObject, ObjectRecord
    try:
        reply = await executor._ask_repo(GetObject(compiled_name(digest)))
    except (NameNotFound, UnknownTarget):
        return None
    if not isinstance(reply, ObjectRecord) or reply.kind != COMPILED_KIND:
        return None
    return compiled_from_elf(reply.payload, checked, entry)


async def tel_guest(executor: Any, request: Any, digest: Digest, limits: Any) -> tuple[bytes, bytes]:
    """(compiled ELF, guest input) of a run of TEL target `digest`: what its proof is about."""
    compiled = await compiled_for(executor, digest)
    tel_limits = Limits(fuel=limits.fuel, memory=limits.memory, depth=limits.depth)
    return compiled.elf, guest_input(compiled, list(request.args), tel_limits)


async def run_tel_on_riscv(executor: Any, request: Any, digest: Digest, limits: Any, session: Any,
                           ctx: Any) -> ExecResult:
    """Run TEL target `digest` as a compiled guest (see the module docstring)."""
    compiled = await compiled_for(executor, digest)
    tel_limits = Limits(fuel=limits.fuel, memory=limits.memory, depth=limits.depth)
    data = guest_input(compiled, list(request.args), tel_limits)
    run = RunLimits(max_cycles=min(limits.cycles, max_cycles_for(tel_limits, len(data)), 1 << 48),
                    memory_limit=1 << 30)
    step = RunGuest(compiled.elf, data, run, ctx.deadline_ns, output_limit(session, 0))
    try:
        out = await executor.coprocessor.ask(step, timeout=math.inf)
    except Exception as exc:
        cause = getattr(exc, "cause", exc)
        if isinstance(cause, (CycleLimitExceeded, GuestOutputLimit)):
            ctx.add_usage(Resources(cycles=cause.cycle))
        raise guest_failure(cause, request.target, session, 0) from None
    if isinstance(out, GuestStopped):
        ctx.add_usage(Resources(cycles=out.cycles))
        await wait_for_deadline(executor.env, ctx.deadline_ns, request.target)
    if not isinstance(out, GuestFinished):
        raise TypeError(f"compiled TEL guest ended with {type(out).__name__}")
    try:
        res = decode_output(compiled, out.exit_code, out.public_output, out.cycles, tel_limits)
    except Exception as exc:
        spent = getattr(exc, "cost", None)
        ctx.add_usage(Resources(fuel=spent if isinstance(spent, int) else 0, cycles=out.cycles))
        raise
    usage = Resources(fuel=res.cost, memory=res.memory, cycles=out.cycles)
    ctx.add_usage(usage)
    return ExecResult(request.target, digest, "riscv", res.value, usage, res.cost,
                      {"cycles": out.cycles}, session.journal.digest(), len(session.journal),
                      exit_code=out.exit_code, public_output=out.public_output,
                      events=tuple(f"{e.kind} {e.detail}" for e in ctx.events))


async def is_tel_target(executor: Any, digest: Digest) -> bool:
    """Whether stored object `digest` is TEL code (anything but a guest ELF blob)."""
    from ...store import ELF_KIND
    from ..repository._messages import GetObject, ObjectRecord
    if digest in executor._guests:
        return False
    if COMPILED.get(digest) is not None:
        return True
    reply = await executor._ask_repo(GetObject(str(digest)))
    assert isinstance(reply, ObjectRecord)
    return bool(reply.kind != ELF_KIND)
