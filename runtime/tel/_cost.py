"""The versioned cost table: what every evaluation step costs, frozen under one version string.

Costs are charged *before* the step they pay for, and a step whose charge
would take the total past the limit is not taken (`CostLimitExceeded`), so a
program whose successful run costs c succeeds with limit c and fails with
c - 1. Changing any number here must change `version`: cost is part of the
meaning of stored code (memo keys include the version).

Charges, in order of evaluation:
  * each expression node: `node[kind]` (binary operators: `binary[op]` instead);
  * each collection element a step touches: `per_element` (list items; for
    String and Bytes one element is 8 code points/bytes, rounded up); `==` and
    `!=` pay per element of the left value's *unfolded* size (a list that
    shares one sub-list n times pays for n copies: that is what the host's
    comparison walks), measured sharing-aware before the comparison;
  * each builtin call: `builtin[name]` on top of its Call node;
  * each 64-byte block (rounded up, at least one) hashed: `per_hash_block`;
  * each effect performed: `per_effect` on top of its Perform node, plus
    `per_element` per unfolded element of each list/tuple/option argument
    (it crosses to the host unfolded), charged before the handler runs.
Host work on a value is never done before it is paid for; a value nested
deeper than `MAX_VALUE_DEPTH` (1,000) levels is refused by `==`/`!=` and by
`perform` with a `DepthLimitExceeded` ("value depth").
Value sizes for the memory limit (an allocation budget, never refunded):
`mem_base` per constructed list/tuple/string/bytes/Some/closure, plus
`mem_per_item` per list or tuple item or captured variable, plus one per
byte / code point.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Mapping

from ._ast import EXPR_KINDS
from ._builtins import BUILTINS
from ._errors import TelError

__all__ = ["CostTable", "COST_TABLE", "Limits"]


def _frozen(d: dict[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class CostTable:
    """One frozen, versioned table of step costs (see the module docstring for the rules)."""

    version: str
    node: Mapping[str, int]
    binary: Mapping[str, int]
    builtin: Mapping[str, int]
    per_element: int
    per_hash_block: int
    per_effect: int
    mem_base: int = 16
    mem_per_item: int = 8

    def as_dict(self) -> dict[str, object]:
        """A plain (CBOR-encodable) form, e.g. for memo keys."""
        return {
            "version": self.version, "node": dict(sorted(self.node.items())),
            "binary": dict(sorted(self.binary.items())), "builtin": dict(sorted(self.builtin.items())),
            "per_element": self.per_element, "per_hash_block": self.per_hash_block,
            "per_effect": self.per_effect, "mem_base": self.mem_base, "mem_per_item": self.mem_per_item,
        }


_NODE = {k: 1 for k in EXPR_KINDS} | {
    "ListLit": 2, "TupleLit": 2, "Lambda": 2, "Call": 2, "Perform": 5,
}
_BINARY = {
    "+": 1, "-": 1, "*": 2, "/": 3, "%": 3, "==": 1, "!=": 1, "<": 1, "<=": 1, ">": 1, ">=": 1,
    "&&": 1, "||": 1, "++": 2,
}
_BUILTIN = {name: 2 for name in BUILTINS} | {"blake2b256": 10, "sha256": 10}

#: the cost table in force
COST_TABLE = CostTable(
    version="tel-cost-2",
    node=_frozen(_NODE),
    binary=_frozen(_BINARY),
    builtin=_frozen(_BUILTIN),
    per_element=1,
    per_hash_block=8,
    per_effect=20,
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one evaluation: fuel (cost units), memory (bytes), call depth."""

    fuel: int = 10_000_000
    memory: int = 64 * 1024 * 1024
    depth: int = 400

    #: the largest call-depth limit (keeps the host's own stack within bounds)
    MAX_DEPTH: ClassVar[int] = 10_000

    def __post_init__(self) -> None:
        for name in ("fuel", "memory", "depth"):
            if getattr(self, name) < 0:
                raise TelError(f"Limits.{name} must be >= 0, got {getattr(self, name)}")
        if self.depth > self.MAX_DEPTH:
            raise TelError(f"Limits.depth must be <= {self.MAX_DEPTH}, got {self.depth}")
