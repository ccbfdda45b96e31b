"""The streaming witness generator: the T x K witness on demand, never stored.

A :class:`WitnessStream` answers reads of the witness -- by (cycle, column),
by flat index into the interleaved vector, or as row ranges -- from a
:class:`~._checkpoint.CheckpointSet` and one live machine:

* **Forward streaming.**  Reads at or after the machine's position run it
  forward; only a window of rows is kept, so space is O(K * window +
  checkpoint) however long the run is.
* **Regeneration.**  A read before the machine's position restores the
  nearest earlier checkpoint and re-executes from there (at most
  ``interval - 1`` cycles of catch-up); :attr:`WitnessStream.stats` counts
  regenerations and re-executed cycles.
* **Parallel regeneration.**  :func:`regenerate_ranges` rebuilds several
  ranges, each from its own checkpoint, through a caller-supplied map
  function (sequential by default); :func:`regenerate_ranges_async` does the
  same through ``env.run_in_worker`` (worker processes under RealEnv, inline
  under SimEnv).  Workers receive the program and one serialized checkpoint,
  both picklable.

Interleaving (the seed's "K vectors as one vector"): flat index
``i = cycle * K + column``; :func:`interleave` and :func:`deinterleave`
convert between (T, K) rows and the flat vector.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import numpy as np
from numpy.typing import NDArray

from stele import Env
from stele.protocol import decode, encode

from ._checkpoint import CheckpointSet, TraceMachine, TraceProgram
from ._stream_errors import StreamError

__all__ = [
    "WitnessStream",
    "StreamStats",
    "interleave",
    "deinterleave",
    "regenerate_range",
    "regenerate_ranges",
    "regenerate_ranges_async",
    "digest_range",
    "digest_blocks",
    "digest_blocks_async",
    "digest_ranges_async",
    "rows_hasher",
    "rows_bytes",
    "MapFn",
    "DEFAULT_WINDOW",
]

R = TypeVar("R")

#: Rows kept in the forward window by default.
DEFAULT_WINDOW = 4096

#: ``map_fn(fn, argument_tuples) -> results``: how parallel work is run.
MapFn = Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], Sequence[Any]]


def interleave(rows: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """(T, K) rows -> the flat vector with element ``cycle * K + column``."""
    return np.ascontiguousarray(rows).reshape(-1)


def deinterleave(flat: NDArray[np.uint32], k: int) -> NDArray[np.uint32]:
    """The flat vector -> (T, K) rows (inverse of :func:`interleave`)."""
    if k < 1 or flat.shape[0] % k:
        raise StreamError(f"flat length {flat.shape[0]} is not a multiple of K={k}")
    return flat.reshape(-1, k)


@dataclass(slots=True)
class StreamStats:
    """What a stream has cost so far.

    ``regenerations``: restores from a checkpoint because a read went
    backwards; ``jumps``: restores of a checkpoint ahead of the machine (a
    read far forward skips the cycles in between); ``cycles_executed``: every cycle the stream ran;
    ``cycles_reexecuted``: those cycles that had been generated before.
    """

    regenerations: int = 0
    jumps: int = 0
    cycles_executed: int = 0
    cycles_reexecuted: int = 0


class WitnessStream:
    """Random and streaming access to a recorded run's witness (see module doc)."""

    def __init__(
        self,
        program: TraceProgram,
        checkpoints: CheckpointSet,
        *,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        if window < 1:
            raise StreamError(f"window={window} is below the minimum 1")
        if tuple(checkpoints.columns) != program.columns:
            raise StreamError("checkpoint columns do not match the program's columns")
        self._program = program
        self._cps = checkpoints
        self._window = window
        self._k = len(program.columns)
        self._machine: TraceMachine = program.resume(checkpoints.checkpoints[0].snapshot)
        self._buf = np.zeros((0, self._k), dtype=np.uint32)
        self._buf_start = 0
        # disjoint sorted [start, stop) ranges of cycles executed at least once
        self._done: list[tuple[int, int]] = []
        self.stats = StreamStats()

    # -- shape -----------------------------------------------------------------
    @property
    def total_cycles(self) -> int:
        """T, the number of witness rows."""
        return self._cps.total_cycles

    @property
    def num_columns(self) -> int:
        """K, the width of one witness row."""
        return self._k

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names, in row order."""
        return self._program.columns

    @property
    def checkpoints(self) -> CheckpointSet:
        """The checkpoints the stream regenerates from."""
        return self._cps

    # -- access ----------------------------------------------------------------
    def rows(self, start: int, length: int) -> NDArray[np.uint32]:
        """Rows ``[start, start + length)`` as a (length, K) array (a fresh copy)."""
        stop = start + length
        if length < 0 or start < 0 or stop > self.total_cycles:
            raise StreamError(
                f"rows [{start}, {stop}) are outside the run's [0, {self.total_cycles})"
            )
        out = np.empty((length, self._k), dtype=np.uint32)
        done = 0
        while done < length:
            got = self._window_rows(start + done, stop)
            out[done:done + got.shape[0]] = got
            done += got.shape[0]
        return out

    def value(self, cycle: int, column: int) -> int:
        """The witness value of ``column`` at ``cycle``."""
        if not 0 <= column < self._k:
            raise StreamError(f"column={column} is outside [0, {self._k})")
        return int(self.rows(cycle, 1)[0, column])

    def flat(self, index: int) -> int:
        """Element ``index`` of the interleaved vector (``cycle * K + column``)."""
        if not 0 <= index < self.total_cycles * self._k:
            raise StreamError(
                f"flat index={index} is outside [0, {self.total_cycles * self._k})"
            )
        return self.value(index // self._k, index % self._k)

    def flat_range(self, start: int, length: int) -> NDArray[np.uint32]:
        """Elements ``[start, start + length)`` of the interleaved vector."""
        total = self.total_cycles * self._k
        if start < 0 or length < 0 or start + length > total:
            raise StreamError(f"flat range [{start}, {start + length}) is outside [0, {total})")
        if length == 0:
            return np.zeros(0, dtype=np.uint32)
        first = start // self._k
        last = (start + length - 1) // self._k
        rows = self.rows(first, last - first + 1)
        skip = start - first * self._k
        return interleave(rows)[skip:skip + length].copy()

    def chunks(
        self, start: int = 0, stop: int | None = None, size: int | None = None
    ) -> Iterator[tuple[int, NDArray[np.uint32]]]:
        """Stream ``(first_cycle, rows)`` chunks over [start, stop) in order."""
        stop = self.total_cycles if stop is None else stop
        size = self._window if size is None else size
        if size < 1:
            raise StreamError(f"chunk size={size} is below the minimum 1")
        for s in range(start, stop, size):
            yield s, self.rows(s, min(size, stop - s))

    # -- machinery ---------------------------------------------------------------
    def _window_rows(self, start: int, stop: int) -> NDArray[np.uint32]:
        """Some rows from ``start`` (at least one, at most up to ``stop``)."""
        buf_end = self._buf_start + self._buf.shape[0]
        if not self._buf_start <= start < buf_end:
            self._fill(start)
            buf_end = self._buf_start + self._buf.shape[0]
        lo = start - self._buf_start
        return self._buf[lo:min(stop, buf_end) - self._buf_start]

    def _fill(self, start: int) -> None:
        """Make the window begin at ``start``, regenerating if ``start`` is behind."""
        machine = self._machine
        cp = self._cps.nearest(start)
        if start < machine.cycle:
            machine = self._machine = self._program.resume(cp.snapshot)
            self.stats.regenerations += 1
        elif cp.cycle > machine.cycle:
            # far ahead: jumping to the checkpoint beats running up to it
            machine = self._machine = self._program.resume(cp.snapshot)
            self.stats.jumps += 1
        skip = start - machine.cycle
        if skip:
            machine.advance(skip)
            self._count(start - skip, start)
        n = min(self._window, self.total_cycles - start)
        rows = machine.trace(n)
        if rows.shape[0] != n:
            raise StreamError(
                f"regeneration diverged: expected {n} rows from cycle {start}, "
                f"got {rows.shape[0]}"
            )
        self._count(start, start + n)
        self._buf = rows
        self._buf_start = start

    def _count(self, start: int, stop: int) -> None:
        self.stats.cycles_executed += stop - start
        self.stats.cycles_reexecuted += _cover(self._done, start, stop)


def _cover(done: list[tuple[int, int]], start: int, stop: int) -> int:
    """Add [start, stop) to the disjoint sorted ranges ``done``; return the overlap."""
    overlap = 0
    merged_start, merged_stop = start, stop
    keep: list[tuple[int, int]] = []
    for a, b in done:
        if b < start or a > stop:
            keep.append((a, b))
            continue
        overlap += max(0, min(b, stop) - max(a, start))
        merged_start, merged_stop = min(merged_start, a), max(merged_stop, b)
    keep.append((merged_start, merged_stop))
    keep.sort()
    done[:] = keep
    return overlap


# -- parallel regeneration ------------------------------------------------------
def _snapshot_bytes(program: TraceProgram, snapshot: object) -> bytes:
    state, pages = program.encode_snapshot(snapshot)
    return encode({"state": state, "pages": {n: bytes(p) for n, p in pages.items()}})


def _resume_at(program: TraceProgram, snapshot_data: bytes, start: int) -> TraceMachine:
    """A machine restored from a serialized checkpoint and advanced to ``start``."""
    obj = decode(snapshot_data, max_size=1 << 30)
    if not isinstance(obj, dict) or not isinstance(obj.get("state"), dict):
        raise StreamError("serialized checkpoint must be a map with a 'state' map")
    snapshot = program.decode_snapshot(obj["state"], dict(obj.get("pages", {})))
    machine = program.resume(snapshot)
    if start < machine.cycle:
        raise StreamError(f"range start {start} is before its checkpoint at {machine.cycle}")
    machine.advance(start - machine.cycle)
    return machine


def _trace_exact(machine: TraceMachine, start: int, n: int) -> NDArray[np.uint32]:
    rows = machine.trace(n)
    if rows.shape[0] != n:
        raise StreamError(
            f"regeneration diverged: expected {n} rows from cycle {start}, got {rows.shape[0]}"
        )
    return rows


def regenerate_range(
    program: TraceProgram, snapshot_data: bytes, start: int, stop: int
) -> NDArray[np.uint32]:
    """Rows [start, stop) regenerated from one serialized checkpoint.

    A module-level function so that worker processes can run it; the
    checkpoint travels as canonical CBOR (see :func:`regenerate_ranges`).
    """
    return _trace_exact(_resume_at(program, snapshot_data, start), start, stop - start)


def rows_hasher() -> hashlib.blake2b:
    """The hash :func:`digest_range` uses: BLAKE2b-256 over rows as little-endian uint32."""
    return hashlib.blake2b(digest_size=32)


def rows_bytes(rows: NDArray[np.uint32]) -> bytes:
    """Rows as little-endian uint32 bytes, row-major (what :func:`rows_hasher` hashes)."""
    return np.ascontiguousarray(rows, dtype="<u4").tobytes()


def digest_range(
    program: TraceProgram, snapshot_data: bytes, start: int, stop: int,
    chunk: int = DEFAULT_WINDOW,
) -> bytes:
    """The :func:`rows_hasher` digest of rows [start, stop), regenerated in chunks.

    A worker fingerprints a range of any size in O(K * chunk) memory and
    returns 32 bytes instead of the rows; compare with the same hash of the
    recorded rows.
    """
    if chunk < 1:
        raise StreamError(f"chunk={chunk} is below the minimum 1")
    machine = _resume_at(program, snapshot_data, start)
    hasher = rows_hasher()
    for s in range(start, stop, chunk):
        hasher.update(rows_bytes(_trace_exact(machine, s, min(chunk, stop - s))))
    return hasher.digest()


def digest_blocks(
    program: TraceProgram, snapshot_data: bytes, start: int, stop: int, block: int
) -> list[bytes]:
    """:func:`rows_hasher` digests of rows [start, stop) in ``block``-cycle pieces.

    ``start`` must be a multiple of ``block``; piece i covers
    ``[start + i * block, min(start + (i + 1) * block, stop))``.  Fixed
    pieces make digests comparable however the run is split among workers.
    """
    if block < 1 or start % block:
        raise StreamError(f"start={start} is not a multiple of block={block} >= 1")
    machine = _resume_at(program, snapshot_data, start)
    out = []
    for s in range(start, stop, block):
        hasher = rows_hasher()
        end = min(s + block, stop)
        for c in range(s, end, DEFAULT_WINDOW):
            hasher.update(rows_bytes(_trace_exact(machine, c, min(DEFAULT_WINDOW, end - c))))
        out.append(hasher.digest())
    return out


def _jobs(
    program: TraceProgram, checkpoints: CheckpointSet, ranges: Sequence[tuple[int, int]]
) -> list[tuple[Any, ...]]:
    jobs: list[tuple[Any, ...]] = []
    encoded: dict[int, bytes] = {}
    for start, stop in ranges:
        if not 0 <= start <= stop <= checkpoints.total_cycles:
            raise StreamError(
                f"range [{start}, {stop}) is outside the run's [0, {checkpoints.total_cycles})"
            )
        cp = checkpoints.nearest(start)
        if cp.cycle not in encoded:
            encoded[cp.cycle] = _snapshot_bytes(program, cp.snapshot)
        jobs.append((program, encoded[cp.cycle], start, stop))
    return jobs


def _sequential_map(fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]]) -> list[Any]:
    return [fn(*job) for job in jobs]


def regenerate_ranges(
    program: TraceProgram,
    checkpoints: CheckpointSet,
    ranges: Sequence[tuple[int, int]],
    map_fn: MapFn | None = None,
) -> list[NDArray[np.uint32]]:
    """Regenerate each ``[start, stop)`` range from its nearest checkpoint.

    ``map_fn(fn, jobs)`` runs ``fn(*job)`` for every job and returns the
    results in order; pass one backed by worker processes for parallelism
    (e.g. ``lambda fn, jobs: list(pool.starmap(fn, jobs))``).  The default
    runs the jobs one after another in this process.
    """
    jobs = _jobs(program, checkpoints, ranges)
    results = list((map_fn or _sequential_map)(regenerate_range, jobs))
    if len(results) != len(jobs):
        raise StreamError(f"map_fn returned {len(results)} results for {len(jobs)} jobs")
    return results


async def _run_jobs(
    env: Env, fn: Callable[..., R], jobs: Sequence[tuple[Any, ...]]
) -> list[R]:
    results: list[R | None] = [None] * len(jobs)

    async def one(i: int) -> None:
        results[i] = await env.run_in_worker(fn, *jobs[i])

    async with anyio.create_task_group() as tg:
        for i in range(len(jobs)):
            tg.start_soon(one, i)
    return [r for r in results if r is not None]


async def regenerate_ranges_async(
    env: Env,
    program: TraceProgram,
    checkpoints: CheckpointSet,
    ranges: Sequence[tuple[int, int]],
) -> list[NDArray[np.uint32]]:
    """:func:`regenerate_ranges` with every range in ``env.run_in_worker`` at once.

    Under RealEnv the ranges run in parallel worker processes (as many as
    the Env's pool allows); under SimEnv they run inline, in order.
    """
    return await _run_jobs(env, regenerate_range, _jobs(program, checkpoints, ranges))


async def digest_blocks_async(
    env: Env,
    program: TraceProgram,
    checkpoints: CheckpointSet,
    ranges: Sequence[tuple[int, int]],
    block: int,
) -> list[bytes]:
    """Every range's :func:`digest_blocks` in ``env.run_in_worker``, concatenated in order."""
    jobs = [(*job, block) for job in _jobs(program, checkpoints, ranges)]
    return [d for part in await _run_jobs(env, digest_blocks, jobs) for d in part]


async def digest_ranges_async(
    env: Env,
    program: TraceProgram,
    checkpoints: CheckpointSet,
    ranges: Sequence[tuple[int, int]],
) -> list[bytes]:
    """Like :func:`regenerate_ranges_async`, returning each range's :func:`digest_range`.

    The parallel regeneration of a long run without shipping its rows back:
    each worker holds O(K * window + checkpoint).
    """
    return await _run_jobs(env, digest_range, _jobs(program, checkpoints, ranges))
