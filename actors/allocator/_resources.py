"""The resource vector that every allocator hands out.

A :class:`Resources` value is an immutable vector of non-negative integer
amounts, one per kind of resource an execution can consume.  Vectors add and
subtract component-wise; ``a <= b`` means *every* component of ``a`` fits in
``b`` (a partial order, not a total one), which is the only comparison an
allocator needs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from ...protocol import Message, message

__all__ = ["Resources", "RESOURCE_KINDS"]


@message(500)
@dataclass(frozen=True, slots=True)
class Resources(Message):
    """An amount of each resource kind.

    ``fuel`` is TEL cost units, ``memory`` bytes of live values, ``wall_ns``
    wall-clock nanoseconds (on the Env clock), ``cycles`` co-processor cycles,
    ``slots`` concurrently running executions, ``storage`` bytes written to
    durable storage, ``output`` bytes of output held for an execution (effect
    journal and log lines, guest stdout/stderr; reported in usage and bounded
    by ``ExecLimits.max_output_bytes``, not granted by allocators).  Components are plain ints; a vector with a negative
    component can exist as the result of a subtraction (so callers can see
    *by how much* something does not fit) but is never stored in a grant.
    It is a protocol message (tag 500), so it travels inside other messages.
    """

    fuel: int = 0
    memory: int = 0
    wall_ns: int = 0
    cycles: int = 0
    slots: int = 0
    storage: int = 0
    output: int = 0

    ZERO: ClassVar[Resources]

    def as_tuple(self) -> tuple[int, int, int, int, int, int, int]:
        """The components in :data:`RESOURCE_KINDS` order."""
        return (self.fuel, self.memory, self.wall_ns, self.cycles, self.slots, self.storage,
                self.output)

    @classmethod
    def from_tuple(cls, values: tuple[int, ...]) -> Resources:
        """Inverse of :meth:`as_tuple`."""
        if len(values) != len(RESOURCE_KINDS):
            raise ValueError(f"expected {len(RESOURCE_KINDS)} components, got {len(values)}")
        return cls(*values)

    def __add__(self, other: Resources) -> Resources:
        return Resources(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple())))

    def __sub__(self, other: Resources) -> Resources:
        return Resources(*(a - b for a, b in zip(self.as_tuple(), other.as_tuple())))

    def __le__(self, other: Resources) -> bool:
        """True when every component fits in ``other``."""
        return all(a <= b for a, b in zip(self.as_tuple(), other.as_tuple()))

    def __ge__(self, other: Resources) -> bool:
        return other <= self

    def is_nonnegative(self) -> bool:
        """True when no component is negative."""
        return all(v >= 0 for v in self.as_tuple())

    def is_zero(self) -> bool:
        """True when every component is zero."""
        return not any(self.as_tuple())

    def scale(self, numerator: int, denominator: int) -> Resources:
        """Every component times ``numerator / denominator``, rounded down."""
        if denominator <= 0:
            raise ValueError("denominator must be positive")
        return Resources(*(v * numerator // denominator for v in self.as_tuple()))

    def componentwise_min(self, other: Resources) -> Resources:
        """The component-wise minimum."""
        return Resources(*(min(a, b) for a, b in zip(self.as_tuple(), other.as_tuple())))

    def shortfall(self, available: Resources) -> dict[str, tuple[int, int]]:
        """Kinds where ``self`` exceeds ``available``: kind -> (wanted, available)."""
        return {
            kind: (want, have)
            for kind, want, have in zip(RESOURCE_KINDS, self.as_tuple(), available.as_tuple())
            if want > have
        }

    def describe(self) -> str:
        """A compact human-readable form listing the non-zero components."""
        parts = [f"{k}={v}" for k, v in zip(RESOURCE_KINDS, self.as_tuple()) if v]
        return "{" + ", ".join(parts) + "}" if parts else "{}"


RESOURCE_KINDS: tuple[str, ...] = tuple(f.name for f in fields(Resources))
Resources.ZERO = Resources()
