"""The prover's kernel backends: selection, and numba kernels equal to their numpy references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.prover import P, InvalidParameters, ext_mul, intt, ntt, rs_encode, vext_mul
from stele.actors.prover import _kernels
from stele.actors.prover._kernels import BACKENDS, ENV_VAR, backend, numba_available, use_backend

needs_numba = pytest.mark.skipif(not numba_available(), reason="numba (the fast extra) not installed")
#: canonical values with the edges (0, 1, P - 1) drawn often.
element = st.one_of(st.sampled_from([0, 1, 2, P - 2, P - 1]), st.integers(0, P - 1))


def test_backend_is_one_of_the_two() -> None:
    assert backend() in BACKENDS


def test_choice_follows_the_environment_value() -> None:
    assert _kernels._choose("numpy") == "numpy"
    assert _kernels._choose(" NumPy ") == "numpy"
    assert _kernels._choose("") == _kernels._choose("auto") == ("numba" if numba_available() else "numpy")
    with pytest.raises(InvalidParameters, match=ENV_VAR):
        _kernels._choose("fortran")


def test_without_numba_auto_is_numpy_and_numba_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_kernels, "numba_available", lambda: False)
    assert _kernels._choose("auto") == "numpy"
    with pytest.raises(InvalidParameters, match="numba installed"):
        _kernels._choose("numba")


def test_use_backend_restores_the_previous_one() -> None:
    before = backend()
    with use_backend("numpy"):
        assert backend() == "numpy"
    assert backend() == before
    with pytest.raises(InvalidParameters):
        with use_backend("nope"):
            pass  # pragma: no cover - the choice fails before the block
    assert backend() == before


@needs_numba
@settings(max_examples=200, deadline=None)
@given(st.lists(element, min_size=8, max_size=8))
def test_emul_is_ext_mul(xs: list[int]) -> None:
    from stele.actors.prover._kernels_jit import emul, emul_w

    a, b = (xs[0], xs[1], xs[2], xs[3]), (xs[4], xs[5], xs[6], xs[7])
    u = [np.uint64(x) for x in xs]
    assert tuple(int(v) for v in emul(*u)) == ext_mul(a, b)
    w = [np.uint64(11 * x % P) for x in xs[5:]]
    assert tuple(int(v) for v in emul_w(*u, *w)) == ext_mul(a, b)


@needs_numba
@settings(max_examples=60, deadline=None)
@given(st.integers(0, 6), st.integers(1, 3), st.data())
def test_numba_ntt_equals_the_numpy_ntt(log_n: int, rows: int, data: st.DataObject) -> None:
    vals = data.draw(st.lists(element, min_size=rows << log_n, max_size=rows << log_n))
    a = np.array(vals, dtype=np.uint64).reshape(rows, 1 << log_n)
    with use_backend("numpy"):
        want, want_inv = ntt(a), intt(a)
    with use_backend("numba"):
        got, got_inv = ntt(a), intt(a)
    assert np.array_equal(got, want) and np.array_equal(got_inv, want_inv)
    assert got.dtype == np.uint64 and got.shape == a.shape


@needs_numba
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 5), st.sampled_from([1, 2, 4]), st.integers(1, 3), st.data())
def test_numba_rs_encode_equals_the_numpy_encoding(log_n: int, blowup: int, rows: int, data: st.DataObject) -> None:
    vals = data.draw(st.lists(element, min_size=rows << log_n, max_size=rows << log_n))
    a = np.array(vals, dtype=np.uint64).reshape(rows, 1 << log_n)
    with use_backend("numpy"):
        want = rs_encode(a, blowup)
    with use_backend("numba"):
        got = rs_encode(a, blowup)
    assert np.array_equal(got, want) and got.shape == (rows, blowup << log_n)


@needs_numba
@settings(max_examples=60, deadline=None)
@given(st.integers(0, 20), st.data())
def test_numba_vext_mul_equals_the_numpy_product(n: int, data: st.DataObject) -> None:
    a, b = (np.array(data.draw(st.lists(element, min_size=4 * n, max_size=4 * n)), dtype=np.uint64).reshape(n, 4)
            for _ in range(2))
    with use_backend("numpy"):
        want = vext_mul(a, b)
    with use_backend("numba"):
        got = vext_mul(a, b)
    assert np.array_equal(got, want) and got.shape == (n, 4)
