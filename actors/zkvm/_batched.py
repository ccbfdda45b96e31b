"""One sum-check over the trace domain for every trace claim at once.

The claim is ``sum_x g(x) = S`` with

    g(x) = eq(e, x) * Z(cols(x)) + w(x) * Y(cols(x)) + H(cols(x))

where ``Z`` (degree <= 3) batches the constraints and the "next" side of the
shift, ``Y`` (linear) the "current" side of the shift with its weight
``w(x) = eq(e, x - 1 mod N)``, and ``H`` (linear) the LogUp helper sums.  It
is the existing sum-check protocol (round polynomials as evaluations at
``0..d``, extension challenges, ``s(0) + s(1)`` against the running claim),
with extension coefficients in ``Z``, which ``stele.actors.prover``'s
Composition (base coefficients) does not support.  The verifier evaluates
``eq``, ``w`` and the public columns itself at the final point
(:func:`shift_eval`) and takes the committed columns' values from the proof,
which the caller then checks against the openings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from stele.actors.prover import EXT_ONE, EXT_ZERO, P, Ext, Transcript, ext_add, ext_mul, ext_sub, interpolate_at
from stele.actors.prover import eq_eval, fold
from stele.actors.prover._field import U64, lift, vext_mul, vext_sum
from stele.actors.prover._kernels import backend

from ._errors import ProofRejected
from ._expr import Expr, Poly, table_lerp

__all__ = ["prove_batched", "verify_batched", "shift_eval", "public_eval"]

_ONE = EXT_ONE
_P64 = np.uint64(P)


def _absorb_head(t: Transcript, n: int, d: int) -> None:
    t.absorb_bytes("vm.sumcheck", n.to_bytes(4, "little") + d.to_bytes(4, "little"))


def prove_batched(cols: dict[str, U64], z: Expr, eq_tab: U64, w_tab: U64, y_tab: U64, h_tab: U64,
                  keep: Sequence[str], transcript: Transcript, n: int
                  ) -> tuple[list[tuple[Ext, ...]], list[Ext], dict[str, Ext]]:
    """Run the prover; returns the round polynomials, the point and ``keep``'s columns' values there."""
    d = z.degree + 1
    _absorb_head(transcript, n, d)
    if backend() == "numba" and n >= 1:
        from ._fast import prove_rounds

        aux = np.stack([t if t.ndim == 2 else lift(t) for t in (eq_tab, w_tab, y_tab, h_tab)], axis=1)
        return prove_rounds(cols, z, aux, keep, transcript, n, d)
    zcols = sorted(z.columns)
    tabs = {name: cols[name] for name in set(zcols) | set(keep)}
    eqt, wt, yt, ht = eq_tab, w_tab, y_tab, h_tab
    rounds: list[tuple[Ext, ...]] = []
    point: list[Ext] = []
    for _ in range(n):
        half = eqt.shape[0] // 2
        lo = {k: tabs[k][0::2] for k in zcols}
        diff = {k: (tabs[k][1::2] + _P64 - lo[k]) % _P64 for k in zcols}
        pair = [(t[0::2], (t[1::2] + _P64 - t[0::2]) % _P64) for t in (eqt, wt, yt, ht)]
        evals: list[Ext] = []
        for x in range(d + 1):
            at = {k: table_lerp(lo[k], diff[k], x) for k in zcols}
            zx = z.eval_vec(at, half)
            e_x, w_x, y_x, h_x = (table_lerp(a, b, x) for a, b in pair)
            total = vext_mul(e_x, zx)
            total = (total + vext_mul(w_x, y_x) + h_x) % _P64
            evals.append(vext_sum(total))
        transcript.absorb_ext("vm.round", evals)
        r = transcript.challenge_ext("vm.r")
        rounds.append(tuple(evals))
        point.append(r)
        tabs = {k: fold(v, r) for k, v in tabs.items()}
        eqt, wt, yt, ht = (fold(t, r) for t in (eqt, wt, yt, ht))
    finals: dict[str, Ext] = {}
    for k in keep:
        v = tabs[k]
        finals[k] = (int(v[0]), 0, 0, 0) if v.ndim == 1 else (int(v[0, 0]), int(v[0, 1]), int(v[0, 2]),
                                                               int(v[0, 3]))
    transcript.absorb_ext("vm.final", [finals[k] for k in keep])
    return rounds, point, finals


def shift_eval(e: Sequence[Ext], r: Sequence[Ext]) -> Ext:
    """``sum_t eq(e, t) * eq(r, t + 1 mod N)``: the MLE of the cyclic shift, in O(n).

    ``t + 1`` clears ``t``'s trailing ones (bits below ``k``) and sets bit
    ``k``; bits above ``k`` are equal.  The all-ones ``t`` wraps to 0.
    """
    n = len(e)
    prefix = [_ONE]  # prod_{i<k} e_i (1 - r_i)
    for i in range(n):
        prefix.append(ext_mul(prefix[-1], ext_mul(e[i], ext_sub(_ONE, r[i]))))
    suffix = [_ONE] * (n + 1)  # prod_{i>=k} eq(e_i, r_i)
    for i in range(n - 1, -1, -1):
        eq_i = ext_add(ext_mul(e[i], r[i]), ext_mul(ext_sub(_ONE, e[i]), ext_sub(_ONE, r[i])))
        suffix[i] = ext_mul(suffix[i + 1], eq_i)
    acc = prefix[n]  # the wrap-around term
    for k in range(n):
        mid = ext_mul(ext_sub(_ONE, e[k]), r[k])
        acc = ext_add(acc, ext_mul(ext_mul(prefix[k], mid), suffix[k + 1]))
    return acc


def public_eval(r: Sequence[Ext]) -> dict[str, Ext]:
    """The public columns ``idx``, ``is_first``, ``is_last`` at ``r`` (x_1 = the lowest bit)."""
    idx = EXT_ZERO
    first = _ONE
    last = _ONE
    for i, ri in enumerate(r):
        idx = ext_add(idx, ext_mul(((1 << i), 0, 0, 0), ri))
        first = ext_mul(first, ext_sub(_ONE, ri))
        last = ext_mul(last, ri)
    return {"idx": idx, "is_first": first, "is_last": last}


def verify_batched(rounds: Sequence[Sequence[Ext]], finals: Mapping[str, Ext], claimed: Ext, z: Expr, y: Poly,
                   h: Poly, e: Sequence[Ext], keep: Sequence[str], transcript: Transcript, n: int,
                   public: Callable[[list[Ext]], dict[str, Ext]] | None = None) -> list[Ext]:
    """Check the sum-check; returns the point at which ``finals`` must still be checked (openings).

    ``public(point)`` gives the values of further public columns (the RAM
    table's) that the verifier computes itself.
    """
    d = z.degree + 1
    _absorb_head(transcript, n, d)
    if len(rounds) != n or any(len(rnd) != d + 1 for rnd in rounds):
        raise ProofRejected("trace sum-check", f"expected {n} rounds of {d + 1} evaluations")
    claim = claimed
    point: list[Ext] = []
    for i, evals in enumerate(rounds):
        if ext_add(evals[0], evals[1]) != claim:
            raise ProofRejected("trace sum-check", f"round {i}: s(0) + s(1) != running claim")
        transcript.absorb_ext("vm.round", list(evals))
        r = transcript.challenge_ext("vm.r")
        point.append(r)
        claim = interpolate_at(list(evals), r)
    transcript.absorb_ext("vm.final", [finals[k] for k in keep])
    values = dict(finals)
    values.update(public_eval(point))
    if public is not None:
        values.update(public(point))
    expected = ext_add(ext_add(ext_mul(eq_eval(list(e), point), z.eval_at(values)),
                               ext_mul(shift_eval(e, point), y.eval_at(values))), h.eval_at(values))
    if expected != claim:
        raise ProofRejected("trace sum-check", "g(final values) != last round's claim")
    return point
