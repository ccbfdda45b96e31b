"""Typed errors of the co-processor.

Every error the engine raises on purpose derives from :class:`CoprocessorError`
(itself a :class:`stele.SteleError`) and names the field, the value and the
limit that were wrong, so a bad guest program ends with one clear line rather
than a traceback.  Errors raised while the guest runs also carry the program
counter and the cycle count at which the run stopped; the machine's state is
left exactly as it was before the failing instruction.
"""

from __future__ import annotations

from stele._errors import SteleError

__all__ = [
    "CoprocessorError",
    "ElfError",
    "GuestError",
    "GuestFault",
    "IllegalInstruction",
    "MisalignedAccess",
    "AccessFault",
    "Breakpoint",
    "UnknownSyscall",
    "CycleLimitExceeded",
    "MemoryLimitExceeded",
    "SnapshotError",
    "TRAP_CAUSES",
]

#: mcause values of the synchronous exceptions the machine raises.
TRAP_CAUSES: dict[int, str] = {
    0: "instruction address misaligned",
    1: "instruction access fault",
    2: "illegal instruction",
    3: "breakpoint",
    4: "load address misaligned",
    5: "load access fault",
    6: "store address misaligned",
    7: "store access fault",
    11: "environment call from M-mode",
}


def _rebuild(cls: type[CoprocessorError], args: tuple[object, ...],
             state: dict[str, object]) -> CoprocessorError:
    """Unpickle a :class:`CoprocessorError` without calling its ``__init__``."""
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class CoprocessorError(SteleError):
    """Root of every co-processor error (loading, running, snapshots).

    Picklable, with its type, message and fields (``pc``, ``cycle``, ``cause``,
    ``limit``, ...), whatever the subclass's ``__init__`` takes: an error raised
    in a worker process comes back to the parent as itself.
    """

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class ElfError(CoprocessorError):
    """The program image is not a loadable RV32 ELF (or raw image).

    ``field`` names the header field or segment that was wrong.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"bad ELF: {field}: {message}")
        self.field = field


class GuestError(CoprocessorError):
    """An error that stopped a running guest at ``pc`` after ``cycle`` cycles."""

    def __init__(self, message: str, *, pc: int, cycle: int) -> None:
        super().__init__(f"{message} (pc=0x{pc:08x}, cycle={cycle})")
        self.pc = pc
        self.cycle = cycle
        #: witness rows completed before the error, when raised by ``Machine.trace``.
        self.rows: object = None


class GuestFault(GuestError):
    """A RISC-V synchronous exception the guest did not handle.

    The guest handles traps itself once it has set ``mtvec`` to a nonzero
    address; until then a trap ends the run with this error.  ``cause`` is
    the ``mcause`` code and ``tval`` the ``mtval`` value of the trap.
    """

    def __init__(self, cause: int, tval: int, *, pc: int, cycle: int, detail: str = "") -> None:
        name = TRAP_CAUSES.get(cause, f"cause {cause}")
        extra = f": {detail}" if detail else ""
        super().__init__(f"guest trap: {name} (mcause={cause}, mtval=0x{tval:08x}){extra}",
                         pc=pc, cycle=cycle)
        self.cause = cause
        self.tval = tval


class IllegalInstruction(GuestFault):
    """The word at ``pc`` is not an RV32IM/Zicsr instruction this machine implements."""


class MisalignedAccess(GuestFault):
    """A load, store or jump target was not aligned to its access width."""


class AccessFault(GuestFault):
    """A fetch, load or store touched an address outside every mapped region."""


class Breakpoint(GuestFault):
    """The guest executed ``ebreak`` without a trap handler."""


class UnknownSyscall(GuestError):
    """``ecall`` with a syscall number (a7) the co-processor does not implement."""

    def __init__(self, number: int, *, pc: int, cycle: int) -> None:
        super().__init__(f"unknown syscall: a7={number} (implemented: exit 93, exit_group 94, "
                         f"read 63, write 64, brk 214, effect 0x5e1e)", pc=pc, cycle=cycle)
        self.number = number


class CycleLimitExceeded(GuestError):
    """The guest ran ``limit`` cycles without stopping."""

    def __init__(self, limit: int, *, pc: int, cycle: int) -> None:
        super().__init__(f"cycle limit exceeded: max_cycles={limit}", pc=pc, cycle=cycle)
        self.limit = limit


class GuestOutputLimit(GuestError):
    """A ``write`` would take the guest's output (stdout + stderr + public) past ``limit`` bytes.

    Checked at each ``write`` syscall, before its bytes are read from guest
    memory: ``needed`` is the total the write would have reached.  The
    executor reports it as the sandbox's ``OutputLimitExceeded``.
    """

    def __init__(self, needed: int, limit: int, *, pc: int, cycle: int) -> None:
        super().__init__(f"output limit exceeded: a write would make the guest's output "
                         f"{needed} bytes, limit {limit}", pc=pc, cycle=cycle)
        self.needed = needed
        self.limit = limit


class MemoryLimitExceeded(CoprocessorError):
    """Allocating guest memory would pass ``memory_limit`` bytes."""

    def __init__(self, needed: int, limit: int, what: str) -> None:
        super().__init__(f"memory limit exceeded: {what} needs {needed} bytes, "
                         f"memory_limit={limit}")
        self.needed = needed
        self.limit = limit
        #: where the guest was when an instruction needed the page (None at load time).
        self.pc: int | None = None
        self.cycle: int | None = None


class WorkerLost(CoprocessorError):
    """The worker process running a guest step died, or hung past its deadline and was killed.

    The co-processor is unaffected: the next step gets a fresh worker.
    """


class SnapshotError(CoprocessorError):
    """A serialized machine snapshot is malformed or does not match its digest."""
