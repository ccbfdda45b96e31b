"""The TEL program generator restricted to what the RISC-V compiler translates (tests only).

The same type-directed generator as `stele.tel.testing`, with its type
choices limited to Int, Bool, Unit, options and pairs of those, and the
production families that need strings, bytes, lists, closures or effects
switched off. Every program it makes still type-checks; the few that use a
construct the compiler refuses (e.g. `==` on an option) are counted by the
differential tests, which require most programs to compile.
"""

from __future__ import annotations

from typing import Any

from stele.tel._ast import TName, TOption, TTuple, Type
from stele.tel._gen import GenProgram, Weights, _Gen, splitmix_chooser

INT, BOOL, UNIT = TName("Int"), TName("Bool"), TName("Unit")
WEIGHTS = Weights(collection=1, crypto=0, conversion=0, effect=0)


class CompilableGen(_Gen):
    """`_Gen` whose types are scalars, options and pairs (see the module docstring)."""

    def typ(self, depth: int = 2) -> Type:
        k = self.choose(5 if depth > 0 else 3)
        if k < 3:
            return (INT, BOOL, UNIT)[k]
        if k == 3:
            return TOption(self.typ(depth - 1))
        return TTuple((self.typ(depth - 1), self.typ(depth - 1)))


def compilable(seed: int, max_depth: int = 4) -> GenProgram:
    """The program of `seed`."""
    return CompilableGen(splitmix_chooser(seed), WEIGHTS, max_depth).program()


def compilable_programs(max_depth: int = 4) -> Any:
    """A hypothesis strategy that shrinks choice by choice (so failures shrink to small programs)."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> GenProgram:
        return CompilableGen(lambda n: draw(st.integers(0, n - 1)) if n > 1 else 0, WEIGHTS,
                             max_depth).program()
    return build()
