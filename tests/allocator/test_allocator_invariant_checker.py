"""``check_invariants`` is what the state-machine tests rely on to notice a
corrupted tree, so it must actually detect each broken invariant and name it
(issue 19: its negative-balance check was never exercised)."""

from __future__ import annotations

import re

import pytest

from stele.actors.allocator import Allocator, Resources


def test_a_grant_driven_below_zero_is_named_by_the_invariant_check() -> None:
    a = Allocator(Resources(fuel=100, memory=1000), clock=lambda: 0)
    a.allocate(Resources(fuel=10))
    a.check_invariants()                      # a sound tree passes
    # corrupt the root behind the allocator's back: it now spends more than it has
    # (a child is reported by its parent's "uses more than it holds" check first)
    a.root.used = Resources(fuel=91)
    with pytest.raises(AssertionError,
                       match=re.escape(f"grant {a.root.id!r} has a negative balance")):
        a.check_invariants()
