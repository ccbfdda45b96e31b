"""The RV32IM machine: state, interpreter loop, CSRs and traps, HTIF, syscalls.

Usage (the API the checkpoint/streaming layer and the actor build on)::

    m = Machine(load_elf(data), input=b"...", config=MachineConfig(memory_limit=64 << 20))
    m.advance(n)        # interpreter: up to n cycles, stops early at halt; returns cycles run
    m.advance_fast(n)   # same contract, compiled basic blocks (no witness)
    m.trace(n)          # same contract, returns the witness rows, shape (cycles, K)
    result = m.run(max_cycles)   # to completion; CycleLimitExceeded past max_cycles
    snap = m.snapshot(); m.restore(snap)   # copy-on-write, cheap

State: ``regs`` (32 unsigned ints, ``regs[0] == 0``), ``pc``, ``cycle`` (cycles
executed so far), ``csrs``, ``memory`` (:class:`Memory`), I/O (``stdout``,
``stderr``, ``public_output`` bytearrays, ``input_pos`` into ``input``), the
program break, and the halt state (``halted``, ``exit_code``, ``halt_reason``
``"exit"`` or ``"tohost"``).

A cycle is one retired instruction.  An instruction that traps into a guest
handler (``mtvec`` != 0) retires as one cycle whose next pc is ``mtvec``; a trap
with ``mtvec == 0`` ends the run with a typed :class:`GuestFault` and the state
left just before the faulting instruction.  The halting ``ecall``/``tohost``
store counts as a cycle.  All advance methods are exact: they never run more
than the cycles asked for, so a cycle limit is exact.

Syscalls (``ecall``, number in a7, arguments a0..a3, result in a0, Linux
numbering so static guests also run under ``qemu-riscv32``): exit 93 and
exit_group 94 (status a0), read 63 (fd 0 reads the execution's input), write 64
(fd 1 stdout, fd 2 stderr, fd 3 public output), brk 214 (Linux semantics:
returns the new break, the old one on failure), and the Stele **effect call**
:data:`SYS_EFFECT` = 0x5E1E (24094, far above Linux's numbers): a0/a1 = request
pointer/length (canonical CBOR), a2/a3 = reply buffer pointer/capacity; the
host's ``effect_handler`` gets the decoded request and its reply is encoded
and written back if it fits; a0 = the reply's length (larger than the
capacity means nothing was written: retry with a bigger buffer), -ENOSYS when
no handler is installed, -EINVAL for a non-canonical request, -EFAULT for a bad
buffer.  Any other number raises :class:`UnknownSyscall`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ._elf import Program
from ._errors import (
    AccessFault,
    Breakpoint,
    CoprocessorError,
    CycleLimitExceeded,
    GuestError,
    GuestFault,
    GuestOutputLimit,
    IllegalInstruction,
    MemoryLimitExceeded,
    MisalignedAccess,
    UnknownSyscall,
)
from ._isa import Instr, decode
from ._memory import PAGE_SIZE, U32, Memory, Trap
from ._ops import Sync, make_op

if TYPE_CHECKING:
    from ._jit import Jit
    from ._native import NativeEngine
    from ._snapshot import Snapshot

__all__ = ["Machine", "MachineConfig", "RunResult", "EffectHandler", "SYS_EFFECT", "CSR",
           "ENGINES", "default_engine"]

#: the engines, slowest first: the reference interpreter, the Python block
#: JIT, and the numba-compiled loop (optional ``fast`` extra).
ENGINES = ("interp", "jit", "native")


def default_engine() -> str:
    """The fastest engine available here: ``"native"`` with numba, else ``"jit"``."""
    from ._native import native_available

    return "native" if native_available() else "jit"


def _resolve(engine: str | None) -> str:
    if engine is None or engine == "auto":
        return default_engine()
    if engine not in ENGINES:
        raise CoprocessorError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine

M = 0xFFFFFFFF
SYS_EFFECT = 0x5E1E
EffectHandler = Callable[[object], object]

_EBADF, _EFAULT, _EINVAL, _ENOSYS, _E2BIG = -9, -14, -22, -38, -7


class CSR:
    """Machine-mode CSR numbers implemented here."""

    MSTATUS = 0x300
    MISA = 0x301
    MEDELEG = 0x302
    MIDELEG = 0x303
    MIE = 0x304
    MTVEC = 0x305
    MCOUNTEREN = 0x306
    MSCRATCH = 0x340
    MEPC = 0x341
    MCAUSE = 0x342
    MTVAL = 0x343
    MIP = 0x344
    MHARTID = 0xF14


#: misa of RV32IM: MXL=1 (32-bit), extensions I and M.
MISA_VALUE = (1 << 30) | (1 << 8) | (1 << 12)
_MSTATUS_MIE = 1 << 3
_MSTATUS_MPIE = 1 << 7
_MSTATUS_MPP = 3 << 11          # only M-mode exists: MPP reads as 3
#: CSRs stored as plain words (writes keep the bits in the mask).
_STORED: dict[int, int] = {
    CSR.MSTATUS: _MSTATUS_MIE | _MSTATUS_MPIE, CSR.MIE: 0x888, CSR.MTVEC: ~3 & M,
    CSR.MSCRATCH: M, CSR.MEPC: ~3 & M, CSR.MCAUSE: M, CSR.MTVAL: M, CSR.MIP: 0,
    CSR.MCOUNTEREN: 0, CSR.MEDELEG: 0, CSR.MIDELEG: 0, CSR.MISA: 0,
    **{0x3A0 + i: M for i in range(4)}, **{0x3B0 + i: M for i in range(16)},
}
#: read-only identification CSRs (all zero except misa, handled above).
_ZERO_RO = (0xF11, 0xF12, 0xF13, CSR.MHARTID, 0xF15)
#: counters: low and high words of mcycle/minstret and their user aliases.
_COUNTERS = {0xB00: 0, 0xB02: 0, 0xC00: 0, 0xC02: 0, 0xB80: 32, 0xB82: 32, 0xC80: 32, 0xC82: 32}


@dataclass(frozen=True)
class MachineConfig:
    """Limits and layout of a machine.

    ``memory_limit``: bytes of guest pages that may be allocated (4 KiB each).
    ``stack_top``/``stack_size``: the mapped stack region below ``stack_top``;
    ``sp`` starts 16 bytes below it (argc = 0, argv = envp = auxv = NULL, as
    Linux would leave them).  ``host_syscalls``: ``ecall`` is a host syscall
    (True) or a guest trap with mcause 11 (False, for bare-metal tests).
    ``jit_threshold``: executions of a block start before it is compiled.
    ``engine``: what :meth:`Machine.trace` (witness generation, checkpoints,
    regeneration) runs on: ``"auto"`` (native if numba is installed, else
    jit), ``"native"``, ``"jit"`` or ``"interp"`` -- see :data:`ENGINES`.
    """

    memory_limit: int = 64 << 20
    stack_top: int = 0x7FFF0000
    stack_size: int = 1 << 20
    host_syscalls: bool = True
    jit_threshold: int = 2
    engine: str = "auto"


@dataclass(frozen=True)
class RunResult:
    """The outcome of :meth:`Machine.run`."""

    exit_code: int
    cycles: int
    stdout: bytes
    public_output: bytes
    stderr: bytes
    halt_reason: str


class Halt(Exception):
    """Internal signal: the guest stopped (exit syscall or tohost) after this instruction."""


class Machine:
    """An RV32IM hart with its memory and host interface (see the module docstring)."""

    def __init__(self, program: Program, *, input: bytes = b"",
                 config: MachineConfig | None = None,
                 effect_handler: EffectHandler | None = None) -> None:
        self.program = program
        self.config = config = config or MachineConfig()
        self.input = bytes(input)
        self.effect_handler = effect_handler
        self.regs: list[int] = [0] * 32
        self.pc = program.entry
        self.cycle = 0
        self.csrs: dict[int, int] = {k: 0 for k in _STORED}
        self.csrs[CSR.MSTATUS] = _MSTATUS_MPP
        self.memory = mem = Memory(config.memory_limit)
        mem.on_code_write = self._invalidate_page
        self.input_pos = 0
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.public_output = bytearray()
        self.halted = False
        self.exit_code: int | None = None
        self.halt_reason = ""
        self.trap_count = 0
        #: bytes stdout + stderr + public output may reach (None: unlimited); checked per write.
        self.output_limit: int | None = None
        #: (request, reply) CBOR bytes of every effect call, in order.
        self.effect_log: list[tuple[bytes, bytes]] = []
        # predecoded instructions: pc -> closure / Instr; page -> pcs decoded in it
        self._ops: dict[int, Callable[[], int]] = {}
        self._instrs: dict[int, Instr] = {}
        self._page_pcs: dict[int, list[int]] = {}
        self._page_hooks: list[Callable[[int], None]] = []
        self._jit: Jit | None = None
        self._native: NativeEngine | None = None
        self.tohost = program.symbols.get("tohost")
        needed = sum(len(_pages_of(s.vaddr, s.memsz)) for s in program.segments) * PAGE_SIZE
        if needed > config.memory_limit:
            raise MemoryLimitExceeded(needed, config.memory_limit, "the program's segments")
        for seg in program.segments:
            mem.map(seg.vaddr, seg.vaddr + seg.memsz)
            mem.write_bytes(seg.vaddr, seg.data)
        mem.map(config.stack_top - config.stack_size, config.stack_top)
        self.brk_start = self.brk = program.end
        self.brk_max = min(config.stack_top - config.stack_size,
                           self.brk_start + config.memory_limit)
        #: the mapped region of the heap (brk_start up to the break), if any.
        self.heap_region: tuple[int, int] | None = None
        if self.tohost is not None:
            mem.watch(self.tohost)
        self.regs[2] = (config.stack_top - 16) & M

    # -- decoding ------------------------------------------------------------
    def instr_at(self, pc: int) -> Instr:
        """The decoded instruction at ``pc`` (raises Trap on a fetch fault)."""
        ins = self._instrs.get(pc)
        if ins is None:
            self._op_at(pc)
            ins = self._instrs[pc]
        return ins

    def _op_at(self, pc: int) -> Callable[[], int]:
        if pc & 3:
            raise Trap(0, pc, f"pc 0x{pc:08x} is not 4-byte aligned")
        pn = pc >> 12
        pg = self.memory.protect(pn, pc)
        ins = decode(U32.unpack_from(pg, pc & 4095)[0])
        op = make_op(ins, pc, self.regs, self.memory, self._store_slow)
        self._ops[pc] = op
        self._instrs[pc] = ins
        self._page_pcs.setdefault(pn, []).append(pc)
        return op

    def _invalidate_page(self, pn: int) -> None:
        for pc in self._page_pcs.pop(pn, ()):
            self._ops.pop(pc, None)
            self._instrs.pop(pc, None)
        for hook in self._page_hooks:
            hook(pn)

    def _store_slow(self, addr: int, width: int, value: int) -> None:
        self.memory.store(addr, width, value)
        if addr == self.tohost and width == 4 and value & M:
            self.exit_code = (value & M) >> 1
            self.halt_reason = "tohost"
            raise Halt

    # -- the interpreter ---------------------------------------------------
    def advance(self, n: int) -> int:
        """Interpret up to ``n`` cycles; stop early when the guest halts.

        Returns the cycles executed.  Raises a :class:`GuestError` subclass (state
        left before the failing instruction) or :class:`MemoryLimitExceeded`.
        """
        if self.halted or n <= 0:
            return 0
        ops = self._ops
        pc = self.pc
        start = self.cycle
        done = 0
        while True:
            try:
                while done < n:
                    pc = ops[pc]()
                    done += 1
                break
            except KeyError:
                if pc in ops:
                    raise
                self.pc = pc
                self.cycle = start + done
                try:
                    self._op_at(pc)
                except Trap as t:
                    pc = self._trap(pc, t)
                    done += 1
                except MemoryLimitExceeded as exc:
                    exc.pc, exc.cycle = pc, self.cycle
                    raise
            except Sync as sync:
                sync.__traceback__ = None        # the shared instance keeps no frames
                self.pc = pc
                self.cycle = start + done
                try:
                    pc = self._system(pc)
                except MemoryLimitExceeded as exc:
                    exc.pc, exc.cycle = pc, self.cycle
                    raise
                done += 1
                if self.stopped():
                    break
            except Trap as t:
                self.cycle = start + done
                pc = self._trap(pc, t)
                done += 1
            except Halt:
                done += 1
                pc = (pc + 4) & M
                self.halted = True
                break
            except CoprocessorError as exc:
                self.pc = pc
                self.cycle = start + done
                if isinstance(exc, MemoryLimitExceeded):
                    exc.pc, exc.cycle = pc, self.cycle
                raise
        self.pc = pc
        self.cycle = start + done
        return done

    def output_bytes(self) -> int:
        """Bytes the guest has written so far (stdout, stderr and public output)."""
        return len(self.stdout) + len(self.stderr) + len(self.public_output)

    def stopped(self) -> bool:
        """True once the guest has halted (exit syscall or tohost)."""
        return self.halted

    def step(self) -> int:
        """Execute one cycle with the interpreter (0 if halted)."""
        return self.advance(1)

    def run(self, max_cycles: int, *, fast: bool = True, engine: str | None = None) -> RunResult:
        """Run until the guest halts; :class:`CycleLimitExceeded` after ``max_cycles`` in all.

        A guest that halts on exactly its ``max_cycles``-th cycle succeeds.
        ``engine`` (one of :data:`ENGINES`) overrides ``fast``: ``fast=True``
        runs on the fastest engine available (:func:`default_engine`),
        ``fast=False`` on the reference interpreter.
        """
        remaining = max_cycles - self.cycle
        if remaining > 0:
            self.advance_with(engine or (None if fast else "interp"), remaining)
        if not self.halted:
            raise CycleLimitExceeded(max_cycles, pc=self.pc, cycle=self.cycle)
        return self.result()

    def result(self) -> RunResult:
        """The current outcome (exit code -1 while the guest has not halted)."""
        return RunResult(self.exit_code if self.exit_code is not None else -1, self.cycle,
                         bytes(self.stdout), bytes(self.public_output), bytes(self.stderr),
                         self.halt_reason)

    def _compiler(self) -> Jit:
        from ._jit import Jit

        if self._jit is None:
            self._jit = Jit(self)
        return self._jit

    def advance_with(self, engine: str | None, n: int) -> int:
        """:meth:`advance` on the named engine (None/"auto": the fastest available).

        Same contract on every engine: at most ``n`` cycles, exact, stops at halt.
        """
        name = _resolve(engine)
        if name == "native":
            return self.advance_native(n)
        return self.advance_fast(n) if name == "jit" else self.advance(n)

    def run_chunks(self, max_cycles: int, *, chunk: int = 1 << 20,
                   engine: str | None = None) -> Iterator[int]:
        """Run towards ``max_cycles`` in pieces of at most ``chunk`` cycles.

        Yields the machine's cycle count after each piece, so the caller can
        check a deadline (or cancel) between pieces by not resuming; ends when
        the guest halts or ``max_cycles`` is reached (then :meth:`run` or
        :meth:`result` tells the outcome).
        """
        if chunk <= 0:
            raise CoprocessorError(f"chunk must be positive, got {chunk}")
        while not self.halted and self.cycle < max_cycles:
            self.advance_with(engine, min(chunk, max_cycles - self.cycle))
            yield self.cycle

    def native_engine(self) -> NativeEngine:
        """This machine's native (numba) engine; :class:`NativeUnavailable` without numba."""
        from ._native import NativeEngine

        if self._native is None:
            self._native = NativeEngine(self)
        return self._native

    def advance_native(self, n: int) -> int:
        """Like :meth:`advance` on the numba-compiled engine (the ``fast`` extra)."""
        return self.native_engine().advance(n)

    def advance_fast(self, n: int) -> int:
        """Like :meth:`advance` (same results, same exact limit) using compiled blocks."""
        return self._compiler().advance(n)

    def trace(self, n: int) -> NDArray[np.uint32]:
        """Run up to ``n`` cycles and return their witness rows, shape (cycles, K).

        Uses witness-generating compiled blocks; equal to
        :func:`~stele.actors.coprocessor._witness.trace_reference` row for row.
        If the run stops with a :class:`GuestError`, the rows of the cycles that
        did complete are attached to it as ``exc.rows``.  The engine is
        ``config.engine``; every engine gives the same rows.
        """
        return self.trace_with(self.config.engine, n)

    def trace_with(self, engine: str | None, n: int) -> NDArray[np.uint32]:
        """:meth:`trace` on the named engine (None/"auto": the fastest available)."""
        name = _resolve(engine)
        if name == "native":
            return self.native_engine().trace(n)
        if name == "jit":
            return self._compiler().trace(n)
        from ._witness import rows_array, trace_reference

        flat: list[int] = []
        try:
            trace_reference(self, n, flat)
        except GuestError as exc:
            exc.rows = rows_array(flat)
            raise
        return rows_array(flat)

    # -- traps ---------------------------------------------------------------
    def _trap(self, pc: int, t: Trap) -> int:
        """Take trap ``t`` raised by the instruction at ``pc``: vector or raise."""
        self.pc = pc
        mtvec = self.csrs[CSR.MTVEC]
        if mtvec == 0:
            cls: type[GuestFault] = {0: MisalignedAccess, 4: MisalignedAccess,
                                     6: MisalignedAccess, 1: AccessFault, 5: AccessFault,
                                     7: AccessFault, 2: IllegalInstruction,
                                     3: Breakpoint}.get(t.cause, GuestFault)
            raise cls(t.cause, t.tval, pc=pc, cycle=self.cycle, detail=t.detail)
        c = self.csrs
        c[CSR.MEPC] = pc
        c[CSR.MCAUSE] = t.cause
        c[CSR.MTVAL] = t.tval & M
        st = c[CSR.MSTATUS]
        mie = st & _MSTATUS_MIE
        c[CSR.MSTATUS] = (st & ~(_MSTATUS_MIE | _MSTATUS_MPIE)) | (mie << 4) | _MSTATUS_MPP
        self.trap_count += 1
        return mtvec

    def _system(self, pc: int) -> int:
        """Execute a SYSTEM instruction (or illegal word) with synchronized state.

        Returns the next pc; sets ``halted`` when the guest exits.
        """
        ins = self._instrs[pc]
        try:
            op = ins.op
            if op == "ecall":
                if not self.config.host_syscalls:
                    raise Trap(11, 0)
                return self._syscall(pc)
            if op == "ebreak":
                raise Trap(3, pc)
            if op == "mret":
                c = self.csrs
                st = c[CSR.MSTATUS]
                mpie = (st >> 7) & 1
                c[CSR.MSTATUS] = (st & ~_MSTATUS_MIE) | (mpie << 3) | _MSTATUS_MPIE | _MSTATUS_MPP
                return c[CSR.MEPC]
            if op == "illegal":
                raise Trap(2, ins.word, f"word 0x{ins.word:08x} is not an RV32IM instruction")
            self._csr(ins)
            return (pc + 4) & M
        except Trap as t:
            return self._trap(pc, t)

    def _csr(self, ins: Instr) -> None:
        op, rd, src, csr = ins.op, ins.rd, ins.rs1, ins.imm
        imm_form = op.endswith("i")
        operand = src if imm_form else self.regs[src]
        writes = op in ("csrrw", "csrrwi") or src != 0
        if csr in _STORED:
            old = MISA_VALUE if csr == CSR.MISA else self.csrs[csr]
        elif csr in _ZERO_RO:
            old = 0
        elif csr in _COUNTERS:
            old = (self.cycle >> _COUNTERS[csr]) & M
        else:
            raise Trap(2, ins.word, f"CSR 0x{csr:03x} is not implemented")
        if writes:
            if csr >> 10 == 3:
                raise Trap(2, ins.word, f"CSR 0x{csr:03x} is read-only")
            if op.startswith("csrrw"):
                new = operand
            elif op.startswith("csrrs"):
                new = old | operand
            else:
                new = old & ~operand & M
            if csr in _STORED:
                mask = _STORED[csr]
                fixed = _MSTATUS_MPP if csr == CSR.MSTATUS else 0
                self.csrs[csr] = (new & mask) | fixed
        if rd:
            self.regs[rd] = old

    # -- syscalls ------------------------------------------------------------
    def _syscall(self, pc: int) -> int:
        r = self.regs
        num, a0, a1, a2, a3 = r[17], r[10], r[11], r[12], r[13]
        mem = self.memory
        if num in (93, 94):
            self.exit_code = a0 - ((a0 & 0x80000000) << 1)
            self.halt_reason = "exit"
            self.halted = True
            return (pc + 4) & M
        if num == 63:
            if a0 != 0:
                res = _EBADF
            else:
                data = self.input[self.input_pos:self.input_pos + a2]
                try:
                    mem.write_bytes(a1, data)
                    self.input_pos += len(data)
                    res = len(data)
                except Trap:
                    res = _EFAULT
        elif num == 64:
            sink = {1: self.stdout, 2: self.stderr, 3: self.public_output}.get(a0)
            if sink is None:
                res = _EBADF
            else:
                limit = self.output_limit
                if limit is not None and self.output_bytes() + a2 > limit:
                    raise GuestOutputLimit(self.output_bytes() + a2, limit, pc=pc,
                                           cycle=self.cycle)
                try:
                    sink += mem.read_bytes(a1, a2)
                    res = a2
                except Trap:
                    res = _EFAULT
        elif num == 214:
            res = self._brk(a0)
        elif num == SYS_EFFECT:
            res = self._effect(a0, a1, a2, a3)
        else:
            raise UnknownSyscall(num, pc=pc, cycle=self.cycle)
        r[10] = res & M
        return (pc + 4) & M

    def _brk(self, addr: int) -> int:
        """Linux brk: move the break to ``addr`` if it lies in [brk_start, brk_max].

        The heap region is remapped to end at the new break; lowering it
        frees the pages wholly above it (touching them faults; growing the
        break again gives zeroed pages), as on Linux.
        """
        if addr < self.brk_start or addr > self.brk_max:
            return self.brk
        mem = self.memory
        if self.heap_region is not None:
            mem.unmap(self.heap_region)
        mem.discard(addr, self.brk)
        self.brk = addr
        self.heap_region = mem.map(self.brk_start, addr)
        return addr

    def _effect(self, req: int, req_len: int, reply: int, cap: int) -> int:
        from stele.protocol import ProtocolError, decode, encode

        if self.effect_handler is None:
            return _ENOSYS
        if req_len > 16 << 20:
            return _E2BIG
        try:
            data = self.memory.read_bytes(req, req_len)
        except Trap:
            return _EFAULT
        try:
            request = decode(data)
        except ProtocolError:
            return _EINVAL
        out = encode(self.effect_handler(request))
        self.effect_log.append((data, out))
        if len(out) <= cap:
            try:
                self.memory.write_bytes(reply, out)
            except Trap:
                return _EFAULT
        return len(out)

    # -- signature, snapshots --------------------------------------------------
    def signature(self) -> list[int]:
        """The words between ``begin_signature`` and ``end_signature`` (architecture tests)."""
        sym = self.program.symbols
        begin, end = sym.get("begin_signature"), sym.get("end_signature")
        if begin is None or end is None:
            raise CoprocessorError("the program has no begin_signature/end_signature symbols")
        return [self.memory.peek(a, 4) for a in range(begin, end, 4)]

    def signature_text(self) -> str:
        """The signature dump: one ``%08x`` word per line."""
        return "".join(f"{w:08x}\n" for w in self.signature())

    def snapshot(self) -> Snapshot:
        """Capture the full state in O(pages) time; pages are shared copy-on-write."""
        from ._snapshot import take_snapshot

        return take_snapshot(self)

    def restore(self, snap: Snapshot) -> None:
        """Return to ``snap``'s state (decoded code whose page is unchanged is kept)."""
        from ._snapshot import restore_snapshot

        restore_snapshot(self, snap)

    @classmethod
    def from_snapshot(cls, snap: Snapshot, program: Program, *, input: bytes = b"",
                      config: MachineConfig | None = None,
                      effect_handler: EffectHandler | None = None) -> Machine:
        """A new machine resumed at ``snap`` (``program`` supplies the symbols)."""
        m = cls(program, input=input, config=config, effect_handler=effect_handler)
        m.restore(snap)
        return m


def _pages_of(start: int, size: int) -> range:
    return range(start >> 12, (start + size + PAGE_SIZE - 1) >> 12)
