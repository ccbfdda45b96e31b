"""TEL's typed errors: one root (`TelError`) and one subclass per phase.

Every error a TEL program can provoke -- bad syntax, ill-typed code, a cost,
depth or memory limit, an integer overflow, a failing effect -- is a
`TelError`; anything else escaping the interpreter is a host bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .._errors import SteleError

__all__ = [
    "Loc",
    "TelError",
    "TelSyntaxError",
    "TelTypeError",
    "TypeDiagnostic",
    "TelRuntimeError",
    "TelLimitError",
    "CostLimitExceeded",
    "DepthLimitExceeded",
    "MemoryLimitExceeded",
    "IntegerOverflow",
    "DivisionByZero",
    "EffectError",
    "TelHashError",
]


class Loc(NamedTuple):
    """A source position (1-based line and column) in a named file (a tuple: cheap to make)."""

    file: str = "<input>"
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NO_LOC = Loc()


def source_excerpt(source: str | None, loc: Loc) -> str:
    """The source line of `loc` with a caret under its column ('' if unknown)."""
    if source is None or loc.line <= 0:
        return ""
    lines = source.splitlines()
    if loc.line > len(lines) + 1:
        return ""
    text = lines[loc.line - 1].replace("\t", " ") if loc.line <= len(lines) else ""
    return f"\n  {text}\n  {' ' * max(loc.col - 1, 0)}^"


class TelError(SteleError):
    """Root of every error raised on purpose by TEL (syntax, types, runtime, hashing)."""


class TelSyntaxError(TelError):
    """The source does not parse: says where, what was expected and what was found."""

    def __init__(self, loc: Loc, expected: str, found: str, source: str | None = None) -> None:
        self.loc = loc
        self.expected = expected
        self.found = found
        super().__init__(f"{loc}: expected {expected}, found {found}{source_excerpt(source, loc)}")


@dataclass(frozen=True, slots=True)
class TypeDiagnostic:
    """One type error: where, what was wrong, and (when it applies) expected vs actual type."""

    loc: Loc
    message: str
    expected: str | None = None
    actual: str | None = None

    def render(self, source: str | None = None) -> str:
        """Human-readable form with the source line and a caret when `source` is given."""
        text = f"{self.loc}: {self.message}"
        if self.expected is not None:
            text += f" (expected {self.expected}, found {self.actual})"
        return text + source_excerpt(source, self.loc)


class TelTypeError(TelError):
    """The program is ill-typed; `diagnostics` lists every error found (at least one)."""

    def __init__(self, diagnostics: list[TypeDiagnostic], source: str | None = None) -> None:
        self.diagnostics = tuple(diagnostics)
        head = f"{len(diagnostics)} type error(s):\n"
        super().__init__(head + "\n".join(d.render(source) for d in diagnostics))


class TelRuntimeError(TelError):
    """Evaluation failed; `loc` is the node being evaluated and `cost` what was spent so far."""

    def __init__(self, message: str, loc: Loc = NO_LOC) -> None:
        self.loc = loc
        self.detail = message
        self.cost = 0
        super().__init__(f"{loc}: {message}" if loc.line else message)


class TelLimitError(TelRuntimeError):
    """A resource limit (cost, depth, memory) would have been passed."""

    def __init__(self, field: str, needed: int, limit: int, loc: Loc = NO_LOC) -> None:
        self.field = field
        self.needed = needed
        self.limit = limit
        super().__init__(f"{field} limit exceeded: needed {needed}, limit {limit}", loc)


class CostLimitExceeded(TelLimitError):
    """The next step would have made the total cost pass the fuel limit; it was not taken."""


class DepthLimitExceeded(TelLimitError):
    """A call would have nested deeper than the recursion-depth limit."""


class MemoryLimitExceeded(TelLimitError):
    """Constructing a value would have passed the memory (allocation) limit."""


class IntegerOverflow(TelRuntimeError):
    """An Int operation left the signed 64-bit range (TEL never wraps around)."""


class DivisionByZero(TelRuntimeError):
    """`/` or `%` with a zero divisor."""


class EffectError(TelRuntimeError):
    """An effect handler failed, is missing, or replied with a value of the wrong type."""


class TelHashError(TelError):
    """A definition group cannot be content-addressed (e.g. unresolved or too symmetric)."""
