"""The TEL program generator restricted to what the RISC-V compiler translates (tests only).

The same type-directed generator as `stele.tel.testing`, over every data
type the compiler represents (Int, Bool, Unit, String, Bytes, lists,
options and pairs), with the production families the compiler does not
translate (effects, hashes) switched off. Every program it
makes still type-checks; the ones that use a construct the compiler
refuses are counted by the differential tests, which require most
programs to compile.
"""

from __future__ import annotations

from typing import Any

from stele.tel._ast import TList, TName, TOption, TTuple, Type
from stele.tel._gen import GenProgram, Weights, _Gen, splitmix_chooser

INT, BOOL, UNIT, STRING, BYTES = (TName(n) for n in ("Int", "Bool", "Unit", "String", "Bytes"))
WEIGHTS = Weights(collection=3, crypto=0, conversion=1, effect=0)


class CompilableGen(_Gen):
    """`_Gen` over the compiled data types (see the module docstring)."""

    def typ(self, depth: int = 2) -> Type:
        k = self.choose(8 if depth > 0 else 5)
        if k < 5:
            return (INT, BOOL, UNIT, STRING, BYTES)[k]
        if k == 5:
            return TOption(self.typ(depth - 1))
        if k == 6:
            return TList(self.typ(depth - 1))
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
