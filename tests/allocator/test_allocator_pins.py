"""Pins for allocator behaviour found unpinned by mutation testing (issue 19).

Negative usage and non-positive weights are typed ``InvalidRequest`` errors;
a released grant cannot be looked up, used or subdivided (``GrantReleased``),
and the capacity it gave back is available to its parent again.
"""

from __future__ import annotations

import pytest

from stele.actors.allocator import Allocator, GrantReleased, InvalidRequest, Resources

CAP = Resources(fuel=100, memory=1000)


def _alloc() -> Allocator:
    return Allocator(CAP, clock=lambda: 0)


def test_negative_usage_is_refused_and_changes_nothing() -> None:
    a = _alloc()
    g = a.allocate(Resources(fuel=10))
    with pytest.raises(InvalidRequest):
        a.record_usage(g, Resources(fuel=-1))
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
