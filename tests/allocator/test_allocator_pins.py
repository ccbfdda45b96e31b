"""Pins for allocator behaviour found unpinned by mutation testing (issue 19).

Negative usage and non-positive weights are typed ``InvalidRequest`` errors;
a released grant cannot be looked up, used or subdivided (``GrantReleased``),
and the capacity it gave back is available to its parent again.
"""

from __future__ import annotations

import pytest

from stele.actors.allocator import (
    Allocator,
    FairSharePolicy,
    GrantReleased,
    InvalidRequest,
    Resources,
)

CAP = Resources(fuel=100, memory=1000)


def _alloc() -> Allocator:
    return Allocator(CAP, clock=lambda: 0)


def test_negative_usage_is_refused_and_changes_nothing() -> None:
    a = _alloc()
    g = a.allocate(Resources(fuel=10))
    with pytest.raises(InvalidRequest, match=r"usage has negative components: fuel=-1$"):
        a.record_usage(g, Resources(fuel=-1, memory=0))
    with pytest.raises(InvalidRequest, match=r"components: fuel=-1, memory=-2$"):
        a.record_usage(g, Resources(fuel=-1, memory=-2))
    assert g.used == Resources.ZERO
    a.record_usage(g, Resources(fuel=10))  # exactly the grant is fine
    assert g.available == Resources(fuel=0)


@pytest.mark.parametrize("weights", [[], [0], [1, 0], [2, -1], [-3]])
def test_subdivide_weighted_refuses_non_positive_or_empty_weights(weights: list[int]) -> None:
    a = _alloc()
    g = a.allocate(Resources(fuel=10))
    with pytest.raises(InvalidRequest, match="weights must be positive"):
        a.subdivide_weighted(g, weights)
    assert g.children == {}


def test_subdivide_weighted_splits_in_proportion() -> None:
    a = _alloc()
    g = a.allocate(Resources(fuel=30))
    parts = a.subdivide_weighted(g, [1, 2])
    assert [p.capacity.fuel for p in parts] == [10, 20]


def test_released_grant_id_lookup_raises() -> None:
    a = _alloc()
    g = a.allocate(Resources(fuel=10))
    assert a.grant(g.id) is g
    a.release(g)
    with pytest.raises(GrantReleased):
        a.grant(g.id)
    with pytest.raises(GrantReleased):
        a.record_usage(g, Resources(fuel=1))
    with pytest.raises(GrantReleased):
        a.allocate(Resources(fuel=1), parent=g)
    assert a.root.available == CAP


def test_zero_weight_allocation_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="weight must be positive"):
        _alloc().allocate(Resources(fuel=1), weight=0)


def test_one_pump_serves_a_fair_share_waiter_once_the_others_are_gone() -> None:
    # A asks for more than its half while B waits: refused at first.  Once B
    # is served nobody else waits, so A is admitted in the same pump.
    a = Allocator(Resources(fuel=10), clock=lambda: 0, policy=FairSharePolicy())
    ta = a.enqueue(Resources(fuel=6), owner="A")
    tb = a.enqueue(Resources(fuel=4), owner="B")
    served = dict(a.pump())
    assert set(served) == {ta, tb}
    assert served[ta].capacity == Resources(fuel=6) and served[ta].owner == "A"
    assert a.pending() == []
    a.check_invariants()


def test_enqueue_on_a_released_parent_is_refused_and_expire_drops_orphans() -> None:
    a = _alloc()
    g = a.allocate(Resources(fuel=10))
    a.allocate(Resources(fuel=10), parent=g)
    ticket = a.enqueue(Resources(fuel=5), parent=g)
    a.release(g)
    with pytest.raises(GrantReleased):
        a.enqueue(Resources(fuel=1), parent=g)
    assert a.pump() == []  # the orphan is not served from anywhere else
    assert [p.seq for p in a.expire(0)] == [ticket]
    assert a.pending() == []


def test_the_root_grant_cannot_be_released() -> None:
    a = _alloc()
    with pytest.raises(InvalidRequest, match="root grant cannot be released"):
        a.release(a.root)
    assert a.grant("root") is a.root and not a.root.released
    assert a.allocate(Resources(fuel=1)).parent is a.root


def test_default_weight_is_one_on_every_path() -> None:
    a = _alloc()
    g = a.try_allocate(Resources(fuel=1))
    assert isinstance(g, type(a.root)) and g.weight == 1
    assert a.allocate(Resources(fuel=1)).weight == 1
    a.enqueue(Resources(fuel=1))
    assert a.pending()[0].weight == 1
