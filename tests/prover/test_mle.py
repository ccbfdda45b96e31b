"""Multilinear tables: the variable-order convention, folding, evaluation, eq, virtual polys."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.prover import (
    EXT_ONE,
    EXT_ZERO,
    P,
    Composition,
    InvalidParameters,
    VirtualPolynomial,
    as_base,
    as_ext,
    eq_eval,
    eq_table,
    evaluate,
    evaluate_reference,
    ext_add,
    ext_mul,
    ext_scale,
    fold,
    num_vars_of,
    vext_to_list,
)

felt = st.integers(min_value=0, max_value=P - 1)
ext_el = st.tuples(felt, felt, felt, felt)


@st.composite
def table_and_point(draw: st.DrawFn, max_vars: int = 5) -> tuple[list[int], list[tuple[int, int, int, int]]]:
    n = draw(st.integers(min_value=0, max_value=max_vars))
    values = draw(st.lists(felt, min_size=1 << n, max_size=1 << n))
    point = draw(st.lists(ext_el, min_size=n, max_size=n))
    return values, point


def test_variable_order_convention() -> None:
    # f(x1, x2) = x1 + 10·x2 has table [f(0,0), f(1,0), f(0,1), f(1,1)]: x1 is the low bit.
    table = as_base([0, 1, 10, 11])
    assert evaluate(table, [1, 0]) == (1, 0, 0, 0)
    assert evaluate(table, [0, 1]) == (10, 0, 0, 0)
    # Binding the first variable pairs adjacent entries.
    assert fold(table, 1).tolist() == [1, 11]
    assert fold(table, 0).tolist() == [0, 10]
    assert fold(table, 5).tolist() == [5, 15]


@given(table_and_point())
def test_evaluate_matches_reference(tp: tuple[list[int], list[tuple[int, int, int, int]]]) -> None:
    values, point = tp
    assert evaluate(as_base(values), point) == evaluate_reference(values, point)


@given(table_and_point(4))
def test_evaluate_on_hypercube_reads_the_table(tp: tuple[list[int], list[tuple[int, int, int, int]]]) -> None:
    values, _ = tp
    n = len(values).bit_length() - 1
    t = as_base(values)
    for idx in range(len(values)):
        bits = [(idx >> k) & 1 for k in range(n)]
        assert evaluate(t, bits) == (values[idx], 0, 0, 0)


@given(table_and_point(4), ext_el)
def test_fold_is_partial_evaluation(tp: tuple[list[int], list[tuple[int, int, int, int]]], r: tuple[int, int, int, int]) -> None:
    values, point = tp
    if not point:
        return
    t = as_base(values)
    folded = fold(t, point[0])
    assert folded.shape == (len(values) // 2, 4)
    assert evaluate(folded, point[1:]) == evaluate(t, point)
    # Folding an extension table agrees too.
    et = fold(t, r) if len(values) >= 4 else None
    if et is not None:
        assert evaluate(fold(et, point[1]), point[2:]) == evaluate(t, [r, *point[1:]])


@given(st.lists(ext_el, min_size=0, max_size=5))
def test_eq_table(point: list[tuple[int, int, int, int]]) -> None:
    n = len(point)
    table = eq_table(point)
    assert table.shape == (1 << n, 4)
    rows = vext_to_list(table)
    for idx in range(1 << n):
        bits = [(idx >> k) & 1 for k in range(n)]
        assert rows[idx] == eq_eval(point, bits)
    # Σ_x eq(r, x) = 1, and eq(r, ·) is the multilinear extension of the indicator.
    acc = EXT_ZERO
    for row in rows:
        acc = ext_add(acc, row)
    assert acc == EXT_ONE
    if n:
        assert evaluate(table, point) == eq_eval(point, point)


def test_eq_on_booleans_is_indicator() -> None:
    assert eq_eval([0, 1, 1], [0, 1, 1]) == EXT_ONE
    assert eq_eval([0, 1, 1], [0, 1, 0]) == EXT_ZERO


@given(st.integers(min_value=1, max_value=4), st.data())
def test_virtual_polynomial(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=1, max_value=3))
    tables = [as_base(data.draw(st.lists(felt, min_size=1 << n, max_size=1 << n))) for _ in range(k)]
    terms = data.draw(
        st.lists(
            st.tuples(felt, st.lists(st.integers(0, k - 1), min_size=0, max_size=3).map(tuple)),
            min_size=1,
            max_size=3,
        ).filter(lambda ts: any(f for _, f in ts))
    )
    comp = Composition(tuple(terms))
    vp = VirtualPolynomial(comp, tuple(tables))
    assert vp.degree == max(len(f) for _, f in terms) <= 3
    # Sum over the hypercube by pointwise evaluation.
    total = EXT_ZERO
    for idx in range(1 << n):
        bits = [(idx >> b) & 1 for b in range(n)]
        total = ext_add(total, vp.evaluate(bits))
    assert vp.hypercube_sum() == total
    point = data.draw(st.lists(ext_el, min_size=n, max_size=n))
    expect = EXT_ZERO
    for c, factors in terms:
        prod = EXT_ONE
        for f in factors:
            prod = ext_mul(prod, evaluate(tables[f], point))
        expect = ext_add(expect, ext_scale(prod, c))
    assert vp.evaluate(point) == expect


def test_bad_shapes() -> None:
    with pytest.raises(InvalidParameters):
        num_vars_of(as_base([1, 2, 3]))
    with pytest.raises(InvalidParameters):
        evaluate(as_base([1, 2]), [])
    with pytest.raises(InvalidParameters):
        fold(as_base([1]), 3)
    with pytest.raises(InvalidParameters):
        Composition(())
    with pytest.raises(InvalidParameters):
        Composition(((P, (0,)),))
    with pytest.raises(InvalidParameters):
        Composition(((1, ()),))
    with pytest.raises(InvalidParameters):
        VirtualPolynomial(Composition.product(0, 1), (as_base([1, 2]),))
    with pytest.raises(InvalidParameters):
        VirtualPolynomial(Composition.product(0, 1), (as_base([1, 2]), as_base([1, 2, 3, 4])))
    assert num_vars_of(as_ext([(1, 2, 3, 4)] * 8)) == 3
    assert np.array_equal(fold(as_ext([(1, 0, 0, 0), (3, 0, 0, 0)]), (1, 0, 0, 0)), as_ext([(3, 0, 0, 0)]))


@given(st.integers(min_value=1, max_value=5), st.data())
def test_transposed_tables_agree_with_the_public_layout(n: int, data: st.DataObject) -> None:
    """The provers' private (4, n) layout computes the same field values as (n, 4)."""
    from stele.actors.prover import vext_mul
    from stele.actors.prover._soa import soa_first, soa_fold, soa_from_aos, soa_mul, soa_sum

    size = 1 << n
    a = as_ext(data.draw(st.lists(ext_el, min_size=size, max_size=size)))
    b = as_ext(data.draw(st.lists(ext_el, min_size=size, max_size=size)))
    base = as_base(data.draw(st.lists(felt, min_size=size, max_size=size)))
    r = data.draw(ext_el)
    sa, sb = soa_from_aos(a), soa_from_aos(b)
    assert np.array_equal(soa_mul(sa, sb).T, vext_mul(a, b))
    assert np.array_equal(soa_mul(base, sa).T, soa_mul(sa, base).T)
    assert np.array_equal(soa_fold(sa, r).T, fold(a, r))
    assert np.array_equal(soa_fold(base, r).T, fold(base, r))
    total = EXT_ZERO
    for row in vext_to_list(a):
        total = ext_add(total, row)
    assert soa_sum(sa) == total
    assert soa_first(sa) == vext_to_list(a)[0]
