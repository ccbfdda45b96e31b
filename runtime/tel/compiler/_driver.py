"""Compile a TEL definition to an RV32IM ELF, run it on the co-processor, map the outcome back.

`compile_program` lowers the definition and everything it calls (`_lower`),
allocates registers (`_regalloc`), generates code (`_codegen`) with the
runtime (`_runtime`) and writes the ELF (`_elfw`). `run_compiled` runs the
ELF on the co-processor's `Machine` and turns its output into the value,
cost and memory of the run -- or into the same typed `TelError`, with the
same message and cost, that the interpreter raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .._ast import TList, TName, TOption, TTuple, Type
from .._cost import COST_TABLE, CostTable, Limits
from .._errors import (
    CostLimitExceeded, DepthLimitExceeded, DivisionByZero, IntegerOverflow, MemoryLimitExceeded, TelError,
    TelRuntimeError,
)
from .._types import CheckedModule
from .._values import Some, Value, check_value
from ._asm import Asm, AsmError, FarNeeded
from ._codegen import (
    ERR_DEPTH, ERR_DIVZERO, ERR_FUEL, ERR_HOST_MEMORY, ERR_INPUT, ERR_MEMORY, ERR_OVERFLOW, gen_function,
)
from ._elfw import TEXT_BASE, read_note, write_elf
from ._codegen import ERR_INTERNAL
from ._lower import CompileUnsupported, IrModule, Site, lower_module
from ._rttyped import ERR_TOO_LARGE, ERR_VDEPTH, MAX_VALUE_DEPTH
from ._runtime import DATA, DATA_SIZE, emit_decoders, emit_encoders, emit_runtime, emit_start

__all__ = ["COMPILER_VERSION", "Compiled", "GuestRun", "compile_program", "compiled_from_elf", "run_compiled",
           "guest_input", "decode_output", "GuestFailed"]

#: bump whenever generated code or the guest ABI changes (it keys the compiled-ELF cache)
COMPILER_VERSION = "tel-rv32-2"
#: the largest frame of a runtime routine that calls a function value (map, filter, fold, ...)
RT_FRAME = 96
#: cycles allowed per byte of the guest's input (argument decoding is not charged fuel)
CYCLES_PER_INPUT_BYTE = 64
#: cycles allowed per unit of fuel (the slowest unit, a 64-bit division, takes ~1,300)
CYCLES_PER_FUEL = 2_000


class GuestFailed(TelError):
    """The compiled guest ended in a way no TEL program can cause (a compiler or host bug)."""


@dataclass(frozen=True)
class Compiled:
    """A compiled TEL entry: the ELF, its site table and the entry's signature."""

    elf: bytes
    sites: tuple[Site, ...]
    entry: str
    params: tuple[Type, ...]
    ret: Type
    text_bytes: int
    version: str = COMPILER_VERSION


@dataclass(frozen=True)
class GuestRun:
    """A successful compiled run: value, cost (fuel spent), memory accounted, guest cycles."""

    value: Value
    cost: int
    memory: int
    cycles: int


def compile_program(checked: CheckedModule, entry: str, table: CostTable = COST_TABLE) -> Compiled:
    """Compile definition `entry` of `checked` (and what it calls) to an RV32IM ELF."""
    ir = lower_module(checked, entry, table)
    for far in (False, True):
        try:
            text, frame = _assemble(ir, far)
            break
        except FarNeeded:
            continue
        except AsmError as exc:  # an operand past an encoding's range: refuse, naming it
            raise CompileUnsupported(f"{entry}: the program needs an instruction the compiler cannot "
                                     f"encode yet ({exc})") from None
    else:  # pragma: no cover - the far form reaches +-1 MiB
        raise CompileUnsupported(f"{entry}: the program is too large to compile")
    note = _note(ir, len(text))
    elf = write_elf(text, TEXT_BASE, DATA, DATA_SIZE, note)
    return Compiled(elf, tuple(ir.sites), entry, ir.param_types, ir.ret_type, len(text))


def compiled_from_elf(elf: bytes, checked: CheckedModule, entry: str) -> Compiled | None:
    """A `Compiled` rebuilt from an ELF this compiler version wrote for `entry` (else None).

    The site table and text size come from the ELF's ``.stele.tel`` note, the
    entry's signature from the checked program (the ELF is looked up by that
    program's digest).
    """
    from .._errors import Loc
    note = sites_of(elf)
    d = checked.defs.get(entry)
    if note is None or d is None or note.get("version") != COMPILER_VERSION or note.get("entry") != entry:
        return None
    try:
        sites = tuple(Site(k, Loc(f, line, col), c) for k, f, line, col, c in note["sites"])
        text_bytes = int(note["text_bytes"])
    except (KeyError, TypeError, ValueError):
        return None
    return Compiled(elf, sites, entry, tuple(p.type for p in d.params), d.ret, text_bytes)


def _assemble(ir: IrModule, far: bool) -> tuple[bytes, int]:
    a = Asm(TEXT_BASE, far=far)
    labels = {name: f"fn_{i}" for i, name in enumerate(ir.funcs)}
    # the stack: the deepest call chain the depth limit allows, at the largest frame
    from ._codegen import _Func
    frames = [_Func(Asm(0), f, labels).frame for f in ir.funcs.values()]
    # (a call of a function value from a builtin's loop adds that loop's frame, at most RT_FRAME)
    stack = (Limits.MAX_DEPTH + 8) * (max(frames + [16]) + RT_FRAME) + 65536
    stack = (stack + 4095) & ~4095
    emit_start(a, labels[ir.entry], ir.param_types, ir.ret_type, stack)
    emit_runtime(a, ir.mem_base)
    emit_encoders(a, ir.ret_type)
    emit_decoders(a, ir.param_types)
    frame = 0
    for f in ir.funcs.values():
        frame = max(frame, gen_function(a, f, labels))
    if ir.typed is not None:
        ir.typed.emit(a)
    for label, (length, data) in ir.lits.items():
        # a String / Bytes literal: length (code points / bytes), byte length, the bytes
        a.label(label)
        a.items.append(length)
        a.items.append(len(data))
        padded = data + b"\0" * (-len(data) % 4)
        for i in range(0, len(padded), 4):
            a.items.append(int.from_bytes(padded[i:i + 4], "little"))
    return a.assemble(), frame





def _note(ir: IrModule, text_bytes: int) -> bytes:
    from stele.protocol import encode
    return encode({"version": COMPILER_VERSION, "entry": ir.entry, "text_bytes": text_bytes,
                   "sites": [[s.kind, s.loc.file, s.loc.line, s.loc.col, s.cost] for s in ir.sites]})


def guest_input(compiled: Compiled, args: Sequence[Value], limits: Limits) -> bytes:
    """The guest's fd-0 input: canonical CBOR ``[fuel, memory, depth, [args...]]``."""
    from stele.protocol import encode
    if len(args) != len(compiled.params):
        raise TelError(f"{compiled.entry} takes {len(compiled.params)} argument(s), got {len(args)}")
    for t, v in zip(compiled.params, args):
        if not check_value(t, v):
            raise TelError(f"argument {v!r} of {compiled.entry} is not a TEL value of its type")
    return encode([limits.fuel, limits.memory, limits.depth, [_to_cbor(t, v) for t, v in zip(compiled.params, args)]])


def _to_cbor(t: Type, v: Value) -> Any:
    """A checked TEL value as the guest reads it: Unit [], None null, Some(v) {"s": v}, sequences arrays."""
    if isinstance(t, TName):
        return [] if t.name == "Unit" else v
    if isinstance(t, TOption):
        return None if v is None else {"s": _to_cbor(t.elem, v.value)}
    if isinstance(t, TTuple):
        return [_to_cbor(i, x) for i, x in zip(t.items, v)]
    assert isinstance(t, TList)
    return [_to_cbor(t.elem, x) for x in v]


def _from_cbor(t: Type, v: Any) -> Value:
    if isinstance(t, TName) and t.name == "Unit":
        if v != []:
            raise GuestFailed(f"guest returned {v!r} for a Unit")
        return ()
    if isinstance(t, TOption):
        if v is None:
            return None
        if not (isinstance(v, dict) and list(v) == ["s"]):
            raise GuestFailed(f"guest returned {v!r} for an Option")
        return Some(_from_cbor(t.elem, v["s"]))
    if isinstance(t, TTuple):
        if not (isinstance(v, list) and len(v) == len(t.items)):
            raise GuestFailed(f"guest returned {v!r} for a tuple")
        return tuple(_from_cbor(i, x) for i, x in zip(t.items, v))
    if isinstance(t, TList):
        if not isinstance(v, list):
            raise GuestFailed(f"guest returned {v!r} for a list")
        return tuple(_from_cbor(t.elem, x) for x in v)
    if not check_value(t, v):
        raise GuestFailed(f"guest returned {v!r}, not a value of type {t}")
    return v


def decode_output(compiled: Compiled, exit_code: int, public_output: bytes, cycles: int,
                  limits: Limits) -> GuestRun:
    """The run's result from the guest's exit code and fd-3 output; a TEL error raises as such."""
    from stele.protocol import ProtocolError, decode
    try:
        out = decode(public_output)
    except ProtocolError as exc:
        raise GuestFailed(f"guest output is not canonical CBOR ({exc}); exit code {exit_code}") from None
    if not (isinstance(out, list) and len(out) == 5 and out[0] == exit_code
            and all(type(x) is int for x in (out[0], out[2], out[3], out[4]))):
        raise GuestFailed(f"guest output {out!r} (exit code {exit_code}) is not a TEL result")
    code, item, fuel_left, mem_left, extra = out
    spent = limits.fuel - fuel_left
    if code == 0:
        return GuestRun(_from_cbor(compiled.ret, item), spent, limits.memory - mem_left, cycles)
    if code == ERR_INPUT:
        raise GuestFailed("the compiled guest rejected its input")
    if code == ERR_HOST_MEMORY:
        raise GuestFailed("the compiled guest's heap could not grow (the co-processor's memory limit)")
    if code == ERR_TOO_LARGE:
        raise GuestFailed("a value passed the compiled guest's 2^31-unit size walk (run it on the tel engine)")
    if code == ERR_INTERNAL:
        raise GuestFailed("the compiled guest reached code for a type the checker left open (a compiler bug)")
    if type(item) is not int or not 0 <= item < len(compiled.sites):
        raise GuestFailed(f"guest reported error {code} at unknown site {item!r}")
    site = compiled.sites[item]
    loc = site.loc
    err: TelRuntimeError
    if code == ERR_FUEL:
        err = CostLimitExceeded("fuel", spent + extra, limits.fuel, loc)
    elif code == ERR_DEPTH:
        err = DepthLimitExceeded("depth", limits.depth + 1, limits.depth, loc)
    elif code == ERR_VDEPTH:
        err = DepthLimitExceeded("value depth", MAX_VALUE_DEPTH + 1, MAX_VALUE_DEPTH, loc)
    elif code == ERR_OVERFLOW:
        err = IntegerOverflow("Int overflow (signed 64-bit)", loc)
    elif code == ERR_DIVZERO:
        err = DivisionByZero("division by zero", loc)
    elif code == ERR_MEMORY:
        err = MemoryLimitExceeded("memory", limits.memory - mem_left + extra, limits.memory, loc)
    else:
        raise GuestFailed(f"guest exited with unknown code {code}")
    err.cost = spent
    raise err


def max_cycles_for(limits: Limits, input_bytes: int = 0) -> int:
    """The cycle budget a run with fuel `limits.fuel` and `input_bytes` of input can need.

    Decoding the arguments (which the interpreter receives built, uncharged)
    takes cycles per input byte; everything else is paid in fuel. A run past
    the budget is a compiler bug, or a `slice` of a non-ASCII string, whose
    code-point scan is charged by the result's length, not the string's.
    """
    return CYCLES_PER_FUEL * (limits.fuel + 1) + CYCLES_PER_INPUT_BYTE * input_bytes + 2_000_000


def run_compiled(compiled: Compiled, args: Sequence[Value] = (), limits: Limits = Limits(), *,
                 engine: str | None = None) -> GuestRun:
    """Run a compiled program on the co-processor's `Machine` (in this thread).

    `engine`: one of the co-processor's engines; by default the fastest here
    (native with numba, else the Python block JIT).
    """
    from stele.actors.coprocessor import CoprocessorError, Machine, MachineConfig, load_elf
    from stele.actors.coprocessor._machine import default_engine
    engine = engine or default_engine()
    data = guest_input(compiled, args, limits)
    m = Machine(load_elf(compiled.elf), input=data, config=MachineConfig(memory_limit=1 << 30))
    try:
        res = m.run(max_cycles_for(limits, len(data)), engine=engine)
    except CoprocessorError as exc:
        raise GuestFailed(f"the compiled guest faulted: {exc}") from None
    return decode_output(compiled, res.exit_code, res.public_output, res.cycles, limits)


def sites_of(elf: bytes) -> dict[str, Any] | None:
    """The site table a compiled ELF carries (None for an ELF not written by this compiler)."""
    from stele.protocol import ProtocolError, decode
    note = read_note(elf)
    if note is None:
        return None
    try:
        got = decode(note)
    except ProtocolError:
        return None
    return got if isinstance(got, dict) else None
