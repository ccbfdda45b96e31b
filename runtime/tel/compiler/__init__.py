"""The TEL -> RV32IM compiler: stored TEL code as a freestanding guest for the co-processor.

Typical use::

    from stele import tel
    from stele.tel import compiler
    checked = tel.check_module(tel.parse_module(src))
    c = compiler.compile_program(checked, "fib")     # Compiled: .elf, .sites, ...
    r = compiler.run_compiled(c, [20], tel.Limits(fuel=10**6))
    r.value, r.cost, r.cycles                        # the interpreter's value and cost

Only a subset of TEL compiles (`SUPPORTED`); the rest raises
`CompileUnsupported`. See `docs/tel-compiler.md`.
"""

from ._driver import COMPILER_VERSION as COMPILER_VERSION
from ._driver import Compiled as Compiled
from ._driver import GuestFailed as GuestFailed
from ._driver import GuestRun as GuestRun
from ._driver import compile_program as compile_program
from ._driver import compiled_from_elf as compiled_from_elf
from ._driver import decode_output as decode_output
from ._driver import guest_input as guest_input
from ._driver import max_cycles_for as max_cycles_for
from ._driver import run_compiled as run_compiled
from ._driver import sites_of as sites_of
from ._lower import SUPPORTED as SUPPORTED
from ._lower import CompileUnsupported as CompileUnsupported

__all__ = [
    "COMPILER_VERSION", "Compiled", "CompileUnsupported", "GuestFailed", "GuestRun", "SUPPORTED",
    "compile_program", "compiled_from_elf", "decode_output", "guest_input", "max_cycles_for", "run_compiled", "sites_of",
]
