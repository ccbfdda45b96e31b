"""The zkVM prover's numba backend (``_fast``) against the numpy reference: same values, same proof bytes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.actors.prover import P, Transcript, eq_table, expand_base, expand_ext
from stele.actors.prover._kernels import numba_available, use_backend
from stele.actors.zkvm import encode_proof, verify
from stele.actors.zkvm._batched import prove_batched
from stele.actors.zkvm._expr import Expr, Poly, col
from stele.actors.zkvm._fast import compile_expr
from stele.actors.zkvm._prove import prove_trace, statement_of
from stele.actors.zkvm._trace import build_trace

from ._programs import all_classes

needs_numba = pytest.mark.skipif(not numba_available(), reason="numba (the fast extra) not installed")

NAMES = ("a", "b", "c", "d")
element = st.one_of(st.sampled_from([0, 1, P - 1]), st.integers(0, P - 1))
ext_el = st.tuples(element, element, element, element)
monomial = st.lists(st.sampled_from(NAMES), max_size=3).map(lambda m: tuple(sorted(m)))
poly = st.dictionaries(monomial, ext_el, max_size=5).map(Poly)
expr = st.lists(st.tuples(ext_el, st.lists(poly, min_size=1, max_size=3).map(tuple)), min_size=1,
                max_size=4).map(Expr)


def _tables(seed: int, rows: int, ext: frozenset[str], edges: bool) -> dict[str, np.ndarray]:
    out = {}
    for i, name in enumerate(NAMES):
        if name in ext:
            t = expand_ext(bytes([seed, i]), rows)
        else:
            t = expand_base(bytes([seed, i]), rows)
        if edges:
            t[: min(3, rows)] = np.array([0, 1, P - 1], dtype=np.uint64)[: min(3, rows)].reshape(
                (-1,) + (1,) * (t.ndim - 1))
        out[name] = t
    return out


@needs_numba
@settings(max_examples=40, deadline=None)
@given(expr, st.integers(0, 255), st.integers(1, 40), st.frozensets(st.sampled_from(NAMES)), st.booleans())
def test_expression_rows_equal_the_numpy_evaluation(z: Expr, seed: int, rows: int, ext: frozenset[str],
                                                      edges: bool) -> None:
    tabs = _tables(seed, rows, ext, edges)
    with use_backend("numpy"):
        want = z.eval_vec(tabs, rows)
    with use_backend("numba"):
        got = z.eval_vec(tabs, rows)
        poly_got = z.terms[0][1][0].eval_vec(tabs, rows)
    assert np.array_equal(got, want)
    with use_backend("numpy"):
        assert np.array_equal(poly_got, z.terms[0][1][0].eval_vec(tabs, rows))


@needs_numba
def test_program_shares_a_repeated_polynomial() -> None:
    p = col("a") * col("b") + 3
    prog = compile_expr(Expr([((1, 0, 0, 0), (p, p)), ((2, 0, 0, 0), (p, col("c")))]))
    assert prog.columns == ("a", "b", "c")
    assert prog.poly_off.shape[0] - 1 == 2  # p once, col("c") once
    assert prog.term_poly.tolist() == [0, 0, 0, 1]


@needs_numba
@settings(max_examples=25, deadline=None)
@given(expr, st.integers(0, 255), st.integers(1, 6), st.frozensets(st.sampled_from(NAMES)), st.booleans())
def test_batched_sumcheck_rounds_equal_the_numpy_rounds(z: Expr, seed: int, n: int, ext: frozenset[str],
                                                        edges: bool) -> None:
    rows = 1 << n
    tabs = _tables(seed, rows, ext, edges)
    eqt = eq_table([tuple(int(v) for v in r) for r in expand_ext(bytes([seed, 9]), n)])
    aux = [eqt, np.roll(eqt, 1, axis=0), expand_ext(bytes([seed, 10]), rows), expand_ext(bytes([seed, 11]), rows)]
    keep = ("d", "a")
    results = []
    for name in ("numpy", "numba"):
        t = Transcript("test.fast")
        with use_backend(name):
            got = prove_batched(tabs, z, *aux, keep, t, n)
        results.append((got, t.challenge_ext("after")))
    assert results[0] == results[1]


@needs_numba
def test_a_proof_is_byte_identical_on_both_backends() -> None:
    elf = all_classes()
    trace = build_trace(elf)
    st_ = statement_of(trace, elf, b"")
    proofs = {}
    for name in ("numpy", "numba"):
        with use_backend(name):
            proofs[name] = prove_trace(trace, st_)
    assert encode_proof(proofs["numba"]) == encode_proof(proofs["numpy"])
    with use_backend("numpy"):
        verify(st_, proofs["numba"], elf=elf)


def test_everything_proves_and_verifies_when_numba_cannot_be_imported() -> None:
    """A fresh interpreter in which ``import numba`` fails picks the numpy backend and still proves."""
    code = textwrap.dedent("""
        import sys
        sys.modules["numba"] = None  # import numba now raises ImportError; find_spec says missing
        sys.path.insert(0, "tests")
        from stele.actors.prover._kernels import backend
        from stele.actors.zkvm import prove, verify
        from zkvm._programs import all_classes
        assert backend() == "numpy", backend()
        elf = all_classes()
        st, pr = prove(elf)
        verify(st, pr, elf=elf)
        assert "numba" not in {m.split(".")[0] for m, mod in sys.modules.items() if mod is not None}
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k != "STELE_PROVER_KERNELS"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
