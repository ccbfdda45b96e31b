"""The streaming sum-check state: early rounds read an oracle in chunks (private).

See :mod:`stele.actors.prover._sumcheck` for the algorithm and its memory
bound; this module holds the per-round pass over the
:class:`~stele.actors.prover.PolynomialOracle` and the hand-over to the
dense rounds once the folded tables fit the budget.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._errors import InvalidParameters
from ._field import EXT_ONE, EXT_ZERO, P, U64, Ext, ext_add, ext_mul, ext_sub
from ._mle import Composition, eq_eval, eq_table
from ._oracle import PolynomialOracle
from ._rounds import DenseState, EqRound, finish_plain, round_partial
from ._soa import soa_fold, soa_from_aos

__all__ = ["StreamingState"]


class StreamingState:
    """Streams the first rounds over an oracle, then hands over to a DenseState."""

    def __init__(
        self,
        oracle: PolynomialOracle,
        comp: Composition,
        eq_point: Sequence[Ext] | None,
        memory_budget: int,
        chunk_size: int,
    ) -> None:
        self.oracle = oracle
        self.comp = comp
        self.polys = comp.polys
        self.eq_point = None if eq_point is None else list(eq_point)
        self.n = oracle.num_vars
        self.chunk = chunk_size
        self.rs: list[Ext] = []
        self.passes = 0
        self.entries_read = 0
        self.dense: DenseState | None = None
        # Folded chunks of the last streamed round, kept so that binding its
        # challenge builds the dense tables without another pass.
        self.kept: dict[int, list[U64]] = {}
        self.k = self._switch_round(memory_budget)
        self.dense_bytes = self._dense_bytes(self.k)
        if self.k == 0:
            self._materialize()

    def _dense_bytes(self, k: int) -> int:
        size = 1 << (self.n - k)
        per = 8 if k == 0 else 32
        return len(self.polys) * size * per + (size * 32 if self.eq_point is not None else 0)

    def _dense_peak(self, k: int) -> int:
        """Estimated peak bytes of the dense phase after ``k`` streamed rounds.

        Measured with tracemalloc: an extension table plus its round
        temporaries and folded copy stay under 3x its size; base tables
        (k = 0) are first folded into extension tables of half the length,
        about 48 bytes per base entry in all.
        """
        size = 1 << (self.n - k)
        per_entry = 48 if k == 0 else 96
        eq = 96 * size if self.eq_point is not None else 0
        return len(self.polys) * size * per_entry + eq

    def _switch_round(self, budget: int) -> int:
        for k in range(self.n + 1):
            if self._dense_peak(k) <= budget:
                return k
        return self.n

    def chunk_for(self, bound: int) -> int:
        """Entries per read: the configured chunk, at least 2^bound, at most 2^n."""
        return min(1 << self.n, max(self.chunk, 1 << bound))

    def _read(self, start: int, length: int) -> U64:
        raw = np.asarray(self.oracle.read(list(self.polys), start, length))
        if raw.shape != (len(self.polys), length):
            raise InvalidParameters("oracle.read shape", tuple(raw.shape), f"= ({len(self.polys)}, {length})")
        if raw.dtype != np.uint64:
            raise InvalidParameters("oracle.read dtype", str(raw.dtype), "uint64")
        if raw.size and int(raw.max()) >= P:
            raise InvalidParameters(f"oracle.read[{start}:{start + length}]", int(raw.max()), f"canonical, < {P}")
        self.entries_read += raw.size
        return raw

    def _eq_prefix(self, j: int) -> Ext:
        assert self.eq_point is not None
        acc = EXT_ONE
        for e, r in zip(self.eq_point[:j], self.rs[:j]):
            acc = ext_mul(acc, eq_eval([e], [r]))
        return acc

    def _eq_high(self, start: int, log_c: int) -> Ext:
        assert self.eq_point is not None
        acc = EXT_ONE
        for i in range(log_c, self.n):
            bit = (start >> i) & 1
            e = self.eq_point[i]
            acc = ext_mul(acc, e if bit else ext_sub(EXT_ONE, e))
        return acc

    def _fold_all(self, row: U64) -> U64:
        cur = row
        for r in self.rs:
            cur = soa_fold(cur, r)
        return cur

    def round(self, claim: Ext | None) -> tuple[Ext, ...]:
        """This round's evaluations s(0..d) (the first round, claim None, computes all)."""
        if self.dense is not None:
            return self.dense.round(claim)
        j = len(self.rs)
        size = 1 << self.n
        c = self.chunk_for(j + 1)
        log_c = c.bit_length() - 1
        acc = [EXT_ZERO] * (self.comp.degree + 1)
        weights = None
        eq = None
        skip_one = claim is not None
        if self.eq_point is not None:
            weights = soa_from_aos(eq_table(self.eq_point[j + 1 : log_c]))
            eq = EqRound(self._eq_prefix(j), self.eq_point[j])
            skip_one = eq.can_skip_one(claim)
        keep = j == self.k - 1
        self.kept = {k: [] for k in self.polys} if keep else {}
        for start in range(0, size, c):
            raw = self._read(start, c)
            folded = {k: self._fold_all(raw[i]) for i, k in enumerate(self.polys)}
            if keep:
                for k, t in folded.items():
                    self.kept[k].append(t)
            los = {k: t[..., 0::2] for k, t in folded.items()}
            his = {k: t[..., 1::2] for k, t in folded.items()}
            part = round_partial(los, his, weights, self.comp, skip_one)
            if eq is not None:
                high = self._eq_high(start, log_c)
                part = [ext_mul(v, high) for v in part]
            acc = [ext_add(a, b) for a, b in zip(acc, part)]
        self.passes += 1
        if eq is not None:
            return eq.finish(acc, claim)
        return finish_plain(acc, claim)

    def _materialize(self) -> None:
        """One pass reading the tables folded by the challenges so far (used when k = 0)."""
        k = len(self.rs)
        size = 1 << self.n
        c = self.chunk_for(k)
        out_len = size >> k
        tables: dict[int, U64] = {}
        for key in self.polys:
            tables[key] = np.zeros(out_len, dtype=np.uint64) if k == 0 else np.zeros((4, out_len), dtype=np.uint64)
        for start in range(0, size, c):
            raw = self._read(start, c)
            for i, key in enumerate(self.polys):
                tables[key][..., start >> k : (start + c) >> k] = self._fold_all(raw[i])
        self.passes += 1
        pre = self._eq_prefix(k) if self.eq_point is not None else EXT_ONE
        self.dense = DenseState(tables, self.comp, self.eq_point, k, pre)

    def bind(self, r: Ext) -> None:
        """Bind the current variable to the challenge ``r``."""
        if self.dense is not None:
            self.dense.bind(r)
            return
        self.rs.append(r)
        if len(self.rs) == self.k:
            self._fold_kept(r)

    def _fold_kept(self, r: Ext) -> None:
        """Dense tables from the last streamed round's kept chunks, folded by its challenge.

        Each kept piece is folded and released in turn, so the peak is the
        kept pieces (twice the dense tables) plus the tables being filled.
        """
        k = len(self.rs)
        out_len = 1 << (self.n - k)
        tables: dict[int, U64] = {}
        for key in self.polys:
            table = np.zeros((4, out_len), dtype=np.uint64)
            pieces = self.kept.pop(key)
            offset = 0
            while pieces:
                folded = soa_fold(pieces.pop(0), r)
                width = folded.shape[-1]
                table[..., offset : offset + width] = folded
                offset += width
            tables[key] = table
        self.kept = {}
        pre = self._eq_prefix(k) if self.eq_point is not None else EXT_ONE
        self.dense = DenseState(tables, self.comp, self.eq_point, k, pre)

    def finals(self) -> tuple[Ext, ...]:
        """f_k(r) for every polynomial of the composition, once all variables are bound."""
        assert self.dense is not None
        return self.dense.finals()
