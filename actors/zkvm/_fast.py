"""The trace sum-check and expression evaluation on the numba backend (``_fast_jit``).

An :class:`~._expr.Expr` is flattened once into a :class:`Program` of index
and coefficient arrays, which the kernels interpret row by row.  Tables are
fed to them in row chunks of :data:`CHUNK` rows, stacked ``(rows, C, L)``
(``L = 1`` base, ``4`` extension), so no copy of every column is made at
once.  The numpy code (``_batched.prove_batched``, ``Expr.eval_vec``) is the
reference: results are the same field values, so the transcript and proof
bytes are the same.  Nothing here imports numba until a kernel runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

from stele.actors.prover import Ext, Transcript
from stele.actors.prover._field import U64

from ._expr import Expr, Poly

__all__ = ["CHUNK", "Program", "compile_expr", "eval_rows", "prove_rounds"]

#: rows per stacked chunk of base columns.
CHUNK = 1 << 12
I64 = NDArray[np.int64]


def _jit() -> ModuleType:
    from . import _fast_jit

    return _fast_jit


@dataclass(frozen=True, slots=True)
class Program:
    """An expression as arrays: ``columns[j]`` is column ``j``; see ``_fast_jit`` for the rest."""

    columns: tuple[str, ...]
    mono_coef: U64
    mono_off: I64
    mono_fac: I64
    poly_off: I64
    term_coef: U64
    term_off: I64
    term_poly: I64

    def arrays(self) -> tuple[U64, I64, I64, I64, U64, I64, I64]:
        """The kernels' program arguments, in order."""
        return (self.mono_coef, self.mono_off, self.mono_fac, self.poly_off, self.term_coef, self.term_off,
                self.term_poly)


def compile_expr(z: Expr) -> Program:
    """Flatten ``z`` (each distinct Poly object once; monomials with their coefficients)."""
    columns = tuple(sorted(z.columns))
    index = {c: j for j, c in enumerate(columns)}
    polys: list[Poly] = []
    seen: dict[int, int] = {}
    term_coef: list[Ext] = []
    term_off = [0]
    term_poly: list[int] = []
    for c, fs in z.terms:
        for f in fs:
            if id(f) not in seen:
                seen[id(f)] = len(polys)
                polys.append(f)
            term_poly.append(seen[id(f)])
        term_coef.append(c)
        term_off.append(len(term_poly))
    mono_coef: list[Ext] = []
    mono_off = [0]
    mono_fac: list[int] = []
    poly_off = [0]
    for f in polys:
        for m, c in f.terms.items():
            mono_fac.extend(index[name] for name in m)
            mono_coef.append(c)
            mono_off.append(len(mono_fac))
        poly_off.append(len(mono_coef))

    def ext_arr(xs: list[Ext]) -> U64:
        return np.array(xs, dtype=np.uint64).reshape(-1, 4)

    def idx(xs: list[int]) -> I64:
        return np.array(xs, dtype=np.int64)

    return Program(columns, ext_arr(mono_coef), idx(mono_off), idx(mono_fac), idx(poly_off), ext_arr(term_coef),
                   idx(term_off), idx(term_poly))


def _stack(tables: Sequence[U64], start: int, stop: int, ext: bool) -> U64:
    """Rows ``[start, stop)`` of ``tables`` as ``(rows, C, L)``; base tables lifted if ``ext``."""
    rows = stop - start
    out = np.zeros((rows, len(tables), 4 if ext else 1), dtype=np.uint64)
    for j, t in enumerate(tables):
        if t.ndim == 1:
            out[:, j, 0] = t[start:stop]
        else:
            out[:, j, :] = t[start:stop]
    return out


def eval_rows(z: Expr, tables: Mapping[str, U64], length: int) -> U64:
    """:meth:`Expr.eval_vec` on the numba backend: ``z`` on every row, ``(length, 4)``."""
    prog = compile_expr(z)
    tabs = [np.asarray(tables[c], dtype=np.uint64) for c in prog.columns]
    ext = any(t.ndim == 2 for t in tabs)
    cols = np.arange(len(tabs), dtype=np.int64)
    out = np.empty((length, 4), dtype=np.uint64)
    k = _jit()
    for s in range(0, length, CHUNK):
        e = min(length, s + CHUNK)
        k.expr_rows(_stack(tabs, s, e, ext), cols, *prog.arrays(), out[s:e])
    return out


def prove_rounds(cols: Mapping[str, U64], z: Expr, aux: U64, keep: Sequence[str], transcript: Transcript,
                 n: int, d: int) -> tuple[list[tuple[Ext, ...]], list[Ext], dict[str, Ext]]:
    """``_batched.prove_batched``'s rounds (after its header) on the numba backend; ``n >= 1``.

    ``aux`` is ``(2^n, 4, 4)``: eq, w, y, h.  Round 0 reads the base columns
    chunk by chunk; its fold makes the ``(2^(n-1), C, 4)`` table that later
    rounds read and fold.
    """
    prog = compile_expr(z)
    names = sorted(set(prog.columns) | set(keep))
    where = {c: j for j, c in enumerate(names)}
    zidx = np.array([where[c] for c in prog.columns], dtype=np.int64)
    base = [np.asarray(cols[c], dtype=np.uint64) for c in names]
    ext0 = any(t.ndim == 2 for t in base)
    k = _jit()
    size = 1 << n
    tab: U64 | None = None
    rounds: list[tuple[Ext, ...]] = []
    point: list[Ext] = []
    for _ in range(n):
        acc = np.zeros((d + 1, 4), dtype=np.uint64)
        if tab is None:
            for s in range(0, size, CHUNK):
                e = min(size, s + CHUNK)
                k.round_evals(_stack(base, s, e, ext0), aux[s:e], zidx, d + 1, *prog.arrays(), acc)
        else:
            k.round_evals(tab, aux, zidx, d + 1, *prog.arrays(), acc)
        evals = [(int(a[0]), int(a[1]), int(a[2]), int(a[3])) for a in acc.tolist()]
        transcript.absorb_ext("vm.round", evals)
        r = transcript.challenge_ext("vm.r")
        rounds.append(tuple(evals))
        point.append(r)
        ru = [np.uint64(x) for x in r]
        if tab is None:
            new = np.empty((size // 2, len(names), 4), dtype=np.uint64)
            for s in range(0, size, CHUNK):
                e = min(size, s + CHUNK)
                k.fold_rows(_stack(base, s, e, ext0), *ru, new[s // 2: e // 2])
            tab = new
        else:
            new = np.empty((tab.shape[0] // 2, len(names), 4), dtype=np.uint64)
            k.fold_rows(tab, *ru, new)
            tab = new
        fa = np.empty((aux.shape[0] // 2, 4, 4), dtype=np.uint64)
        k.fold_rows(aux, *ru, fa)
        aux = fa
    assert tab is not None and tab.shape[0] == 1  # n >= 1 rounds halve 2^n rows to one
    finals = {c: (int(tab[0, where[c], 0]), int(tab[0, where[c], 1]), int(tab[0, where[c], 2]),
                  int(tab[0, where[c], 3])) for c in keep}
    transcript.absorb_ext("vm.final", [finals[c] for c in keep])
    return rounds, point, finals
