"""A profile: a weight (cost units, cycles, nanoseconds) per call stack, exactly.

``weights[stack]`` is the *self* weight of the innermost frame of ``stack``
(a tuple of frame names, outermost first): what was spent while that frame
itself was running.  Every unit is in exactly one stack, so :meth:`Profile.total`
is the run's total.  Per-function figures (:meth:`Profile.functions`) count a
function's *total* once per stack even when it recurses, so a recursive
function's total never exceeds the profile's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Profile", "FunctionStat"]


@dataclass(frozen=True, slots=True)
class FunctionStat:
    """One row of the per-function table."""

    name: str
    self_weight: int
    total_weight: int
    calls: int


@dataclass
class Profile:
    """Self weights per stack, in ``unit`` (``"cost"``, ``"cycles"``, ``"nanoseconds"``)."""

    name: str
    unit: str
    weights: dict[tuple[str, ...], int] = field(default_factory=dict)
    #: activations per stack (the calls of its innermost frame), when known
    calls: dict[tuple[str, ...], int] = field(default_factory=dict)
    exact: bool = True

    def add(self, stack: tuple[str, ...], weight: int, calls: int = 0) -> None:
        """Add ``weight`` (and ``calls`` activations) to ``stack``."""
        if weight:
            self.weights[stack] = self.weights.get(stack, 0) + weight
        if calls:
            self.calls[stack] = self.calls.get(stack, 0) + calls

    def total(self) -> int:
        """The sum of every self weight: the whole run."""
        return sum(self.weights.values())

    def functions(self) -> list[FunctionStat]:
        """Per function: self, total (recursion counted once) and calls; by self weight."""
        self_w: dict[str, int] = {}
        total_w: dict[str, int] = {}
        calls: dict[str, int] = {}
        for stack, w in self.weights.items():
            if not stack:
                continue
            self_w[stack[-1]] = self_w.get(stack[-1], 0) + w
            for name in set(stack):
                total_w[name] = total_w.get(name, 0) + w
        for stack, n in self.calls.items():
            if stack:
                calls[stack[-1]] = calls.get(stack[-1], 0) + n
        names = set(total_w) | set(calls)
        rows = [FunctionStat(n, self_w.get(n, 0), total_w.get(n, 0), calls.get(n, 0))
                for n in names]
        rows.sort(key=lambda r: (-r.self_weight, -r.total_weight, r.name))
        return rows

    def tree(self) -> dict[str, object]:
        """The call tree as nested ``{"name", "value" (inclusive), "self", "children"}``."""
        root = _Node(self.name)
        for stack, w in self.weights.items():
            node = root
            node.value += w
            for name in stack:
                nxt = node.children.get(name)
                if nxt is None:
                    nxt = node.children[name] = _Node(name)
                node = nxt
                node.value += w
            node.self_value += w
        return root.plain()


class _Node:
    __slots__ = ("name", "value", "self_value", "children")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = 0
        self.self_value = 0
        self.children: dict[str, _Node] = {}

    def plain(self) -> dict[str, object]:
        kids = sorted(self.children.values(), key=lambda k: (-k.value, k.name))
        return {"name": self.name, "value": self.value, "self": self.self_value,
                "children": [k.plain() for k in kids]}
