"""What every execution of one tree shares: effect call counts and the output byte budget.

A top-level execution and all its nested ``Exec.call`` children form one
tree, and a policy's limits hold for the tree, not for each node: without
this a child would start with fresh counts, and ``max_calls=1`` would allow
one call per level.  Each :class:`~stele.actors.sandbox.EffectSession` of the
tree holds the same :class:`TreeBudget` (the root's session creates it, a
child's is given its parent's), so

* ``calls`` counts each effect's calls across the tree (``Grant.max_calls``);
* ``output_used`` totals the bytes held for the tree's output -- every
  journal entry (canonical CBOR of ``[effect, op, args, reply]``, which
  contains every ``Log.emit`` line) and every byte a guest writes to stdout,
  stderr or its public output -- against ``output_limit``, the root's
  ``ExecLimits.max_output_bytes``.  Bytes are charged *before* they are kept.
"""

from __future__ import annotations

from collections import Counter

from ._errors import OutputLimitExceeded

__all__ = ["TreeBudget", "DEFAULT_OUTPUT_LIMIT"]

#: Default output budget of one execution tree (bytes).
DEFAULT_OUTPUT_LIMIT = 4 << 20


class TreeBudget:
    """Effect call counts and output bytes shared by one execution tree (see the module doc)."""

    __slots__ = ("calls", "output_limit", "output_used")

    def __init__(self, output_limit: int = DEFAULT_OUTPUT_LIMIT) -> None:
        if output_limit < 0:
            raise ValueError(f"output_limit={output_limit} must be >= 0")
        self.calls: Counter[str] = Counter()
        self.output_limit = output_limit
        self.output_used = 0

    @property
    def output_left(self) -> int:
        """Bytes the tree may still output."""
        return max(0, self.output_limit - self.output_used)

    def check_output(self, n: int, what: str) -> None:
        """Raise :class:`OutputLimitExceeded` unless ``n`` more bytes fit (charges nothing)."""
        if self.output_used + n > self.output_limit:
            raise OutputLimitExceeded(self.output_used + n, self.output_limit, what)

    def charge_output(self, n: int, what: str) -> None:
        """Account ``n`` bytes of output, or raise before accounting them if they do not fit."""
        self.check_output(n, what)
        self.output_used += n
