"""SimEnv: the runtime on virtual time, in one trio run, driven by one seed.

How time works
--------------
There is one event queue, a heap keyed by ``(virtual time ns, sequence
number)``.  Simulated deliveries, disk completions, faults and
:meth:`SimEnv.sleep` timers are entries in it.  trio's own deadlines (cancel
scopes from ``fail_after``/``move_on_after``, anyio timeouts inside the
kernel) stay in trio's deadline heap, but run on the same virtual clock:
:class:`_SimClock` is the run's ``trio.abc.Clock``, and trio asks it for a
sleep time *only* when no task is runnable.  At that moment the clock takes the
earliest of (head of the event queue, trio's next deadline), jumps virtual time
there, fires the due events in sequence order and returns 0; ties go to the
event queue.  Time never passes while a task can run, and nothing ever waits
on real time.

Where nondeterminism hides, and what removes it
-----------------------------------------------
* trio shuffles each batch of runnable tasks with its module-level
  ``random.Random`` ``_r``.  :meth:`SimEnv.run` turns on
  ``_ALLOW_DETERMINISTIC_SCHEDULING`` (the batch is first sorted by the task's
  spawn counter, then shuffled) and seeds ``_r`` from the run's seed, then
  restores both.  The shuffle still explores interleavings: a different seed
  gives a different, equally reproducible, order.
* trio breaks deadline ties by ``id(cancel_scope)``.  All scopes whose
  deadline has passed are cancelled in the same ``expire`` call and the woken
  tasks are re-sorted by spawn counter before the seeded shuffle, so the
  id-order only affects the order of abort callbacks, which only remove the
  task from wait queues (order-independent).
* Virtual deadlines are floats (trio's API); converting them to integer ns
  rounds up, and all our own decisions use integer ns and exact ratios.
* ``run_in_worker``/``run_blocking`` run inline; ``connect_tcp`` and friends
  give simulated streams (:mod:`stele.sim._streams`), never real sockets.
"""

from __future__ import annotations

import contextvars
import heapq
import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio.abc
import trio
import trio._core._run as _trio_run

from .._core._env import Env, seconds_to_ns
from .._core._random import SeededRandom
from ._disk import SimDisk
from ._faults import DiskFaults
from ._errors import SimDeadlock, SimError
from ._streams import SimListener, StreamHub
from ._trace import TraceRecorder

__all__ = ["SimEnv", "TimerHandle"]

T = TypeVar("T")

#: 2026-01-01T00:00:00Z: the virtual wall clock's epoch (wall_ns at time 0).
DEFAULT_WALL_EPOCH_NS = 1_767_225_600 * 1_000_000_000
_MAX_IDLE_SPINS = 10_000
_DEADLOCK_SPINS = 50

#: The simulated node the running task belongs to ("" = the default node).
#: Tasks inherit it from the task that started them (trio copies the context).
_NODE: contextvars.ContextVar[str] = contextvars.ContextVar("stele_sim_node", default="")


class _WallClock:
    """One node's wall clock: the shared virtual time, plus a step offset and a drift rate.

    ``wall = epoch + now + skew + now * drift_ppm // 10**6``; a rate change
    adjusts ``skew`` so that the clock does not jump, a step adds to it.
    Integer arithmetic only, so every reading replays exactly.
    """

    __slots__ = ("skew", "drift_ppm")

    def __init__(self) -> None:
        self.skew = 0
        self.drift_ppm = 0

    def read(self, epoch: int, now: int) -> int:
        return epoch + now + self.skew + now * self.drift_ppm // 1_000_000

    def set_drift(self, now: int, ppm: int) -> None:
        self.skew += now * self.drift_ppm // 1_000_000 - now * ppm // 1_000_000
        self.drift_ppm = ppm


def _ceil_ns(deadline: float) -> int:
    ns = math.ceil(deadline * 1e9)
    while ns / 1e9 < deadline:
        ns += 1
    return ns


class TimerHandle:
    """An entry of the event queue; :meth:`cancel` stops it from firing."""

    __slots__ = ("time_ns", "seq", "fn", "args")

    def __init__(self, time_ns: int, seq: int, fn: Callable[..., None], args: tuple[Any, ...]):
        self.time_ns = time_ns
        self.seq = seq
        self.fn: Callable[..., None] | None = fn
        self.args = args

    def cancel(self) -> None:
        """Do not fire (idempotent)."""
        self.fn = None
        self.args = ()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called (or the entry already fired)."""
        return self.fn is None


class _SimClock(trio.abc.Clock):
    """trio's clock for a simulated run: virtual, jumps when everything idles."""

    def __init__(self, env: SimEnv) -> None:
        self._env = env

    def start_clock(self) -> None:
        pass

    def current_time(self) -> float:
        return self._env._now / 1e9

    def deadline_to_sleep_time(self, deadline: float) -> float:
        # trio calls this only when no task is runnable.
        return self._env._on_idle(deadline)


class SimEnv(Env):
    """A simulated :class:`stele.Env`: virtual time, seeded choices, fake I/O.

    Run code under it with :meth:`run` (it owns the trio run, so it cannot be
    entered from inside another one).  Components draw their randomness from
    ``env.rng.fork(label)``; every event they want in the trace goes through
    :attr:`trace`.  ``disk_faults`` configures :attr:`disk` (default: none).
    """

    def __init__(
        self,
        seed: int,
        *,
        disk_faults: DiskFaults | None = None,
        wall_epoch_ns: int = DEFAULT_WALL_EPOCH_NS,
        trace_keep: int = 64,
        trace_all: bool = False,
        buggify: bool = False,
    ) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise SimError(f"seed must be an int >= 0, got {seed!r}")
        self.seed = seed
        self._now = 0
        self._seq = 0
        self._queue: list[tuple[int, int, TimerHandle]] = []
        self._wall_epoch = wall_epoch_ns
        self._clock = _WallClock()  # the default node's
        self._clocks: dict[str, _WallClock] = {"": self._clock}
        #: Called with a node's name when :meth:`node` first enters it (the
        #: runner starts that node's clock faults from here).
        self.on_new_node: list[Callable[[str], None]] = []
        #: ``wall_ns()`` readings per node (which clocks the code under test used).
        self.wall_reads: dict[str, int] = {}
        self._rng = SeededRandom(seed)
        self.trace = TraceRecorder(self.now_ns, keep=trace_keep, keep_all=trace_all)
        #: BUGGIFY on: each fault point is enabled or not per seed (see buggify).
        self.buggify_enabled = buggify
        self._buggify: dict[str, SeededRandom | None] = {}
        #: Fault points that fired, by name.
        self.buggify_fired: dict[str, int] = {}
        self._disk = SimDisk(self, self._rng.fork("disk"), disk_faults or DiskFaults())
        self._streams = StreamHub(self, self._rng.fork("streams"))
        self._root_scope: trio.CancelScope | None = None
        self._failure: BaseException | None = None
        self._deadlocked = False
        self._idle_spins = 0
        self._main_done = False
        self.events_fired = 0
        self._running = False
        self._used = False

    # -- identity / time ------------------------------------------------------
    @property
    def simulated(self) -> bool:
        return True

    def now_ns(self) -> int:
        return self._now

    def wall_ns(self) -> int:
        """The wall clock of the running task's node (see :meth:`node`)."""
        name = _NODE.get()
        clock = self._clocks.get(name)
        if clock is None:  # a node of another SimEnv: this one's default clock
            name, clock = "", self._clock
        self.wall_reads[name] = self.wall_reads.get(name, 0) + 1
        return clock.read(self._wall_epoch, self._now)

    # -- nodes: one wall clock each -----------------------------------------------
    @contextmanager
    def node(self, name: str) -> Iterator[None]:
        """Run the body, and every task it starts, on simulated node ``name``.

        A node is a machine of the simulated system: it has its own wall
        clock (its own drift and steps, see :meth:`set_wall_drift` and
        :meth:`jump_wall_clock`); monotonic time (:meth:`now_ns`, timers,
        deadlines) is the simulator's and is the same on every node.  Code
        outside any node runs on the default node ``""``.  The first entry
        of a name creates the node (traced as ``clock.node``) and calls
        :attr:`on_new_node`; nodes may be nested (the innermost wins).
        """
        if not isinstance(name, str) or not name:
            raise SimError(f"node name must be a non-empty str, got {name!r}")
        if name not in self._clocks:
            self._clocks[name] = _WallClock()
            self.trace.record("clock.node", name)
            for hook in self.on_new_node:
                hook(name)
        token = _NODE.set(name)
        try:
            yield
        finally:
            _NODE.reset(token)

    @property
    def nodes(self) -> tuple[str, ...]:
        """The named nodes, in the order they were first entered."""
        return tuple(n for n in self._clocks if n)

    @property
    def current_node(self) -> str:
        """The running task's node (``""``: the default node)."""
        name = _NODE.get()
        return name if name in self._clocks else ""

    def node_wall_ns(self, node: str = "") -> int:
        """Node ``node``'s wall clock now (not counted as a reading of the code under test)."""
        return self._node_clock(node).read(self._wall_epoch, self._now)

    def _node_clock(self, node: str) -> _WallClock:
        clock = self._clocks.get(node)
        if clock is None:
            raise SimError(f"no simulated node {node!r}; nodes: {list(self.nodes)}")
        return clock

    def buggify(self, name: str) -> bool:
        """BUGGIFY: whether fault point ``name`` fires now.

        Off unless the run enabled BUGGIFY.  Each point is then enabled for
        the whole run with probability 1/2, decided from (seed, name) alone,
        so the choice does not depend on call order; an enabled point fires
        on a quarter of its calls.  Firing is traced as ``buggify``.
        """
        if not self.buggify_enabled:
            return False
        if name not in self._buggify:
            rng = self._rng.fork("buggify." + name)
            self._buggify[name] = rng if rng.chance(1, 2) else None
        point = self._buggify[name]
        if point is None or not point.chance(1, 4):
            return False
        self.buggify_fired[name] = self.buggify_fired.get(name, 0) + 1
        self.trace.record("buggify", name)
        return True

    def jump_wall_clock(self, delta_ns: int, node: str = "") -> None:
        """Fault: node ``node``'s wall clock steps by ``delta_ns`` (monotonic time does not).

        Traced as ``clock.jump`` with the delta (and the node's name, for a named node).
        """
        self._node_clock(node).skew += delta_ns
        if node:
            self.trace.record("clock.jump", delta_ns, node)
        else:
            self.trace.record("clock.jump", delta_ns)

    def set_wall_drift(self, ppm: int, node: str = "") -> None:
        """Fault: from now on node ``node``'s wall clock runs ``ppm`` parts per million fast (or slow).

        The change is continuous (the wall clock does not jump when the rate
        changes); monotonic time is the simulator's own and never drifts.
        Integer arithmetic only, so a drifted run replays exactly.  Traced as
        ``clock.drift`` with the rate (and the node's name, for a named node).
        """
        if (not isinstance(ppm, int) or isinstance(ppm, bool)
                or not -1_000_000 < ppm <= 1_000_000):
            raise SimError(f"clock drift must be an int in (-1000000, 1000000] ppm, got {ppm!r}")
        self._node_clock(node).set_drift(self._now, ppm)
        if node:
            self.trace.record("clock.drift", ppm, node)
        else:
            self.trace.record("clock.drift", ppm)

    @property
    def wall_drift_ppm(self) -> int:
        """The running task's node's wall-clock drift rate, in parts per million."""
        return self._node_clock(self.current_node).drift_ppm

    async def sleep(self, seconds: float) -> None:
        await self.sleep_ns(seconds_to_ns(seconds))

    async def sleep_ns(self, ns: int) -> None:
        """Sleep exactly ``ns`` virtual nanoseconds (an event-queue timer).

        The task parks itself and the timer reschedules it directly: the same
        wake-up an ``Event`` gives (one ``reschedule`` when the timer fires),
        without an Event and its parking lot per sleep.
        """
        if ns <= 0:
            await trio.lowlevel.checkpoint()
            return
        handle = self.call_later(ns, self._timer_fired, trio.lowlevel.current_task())

        def abort(_: object) -> trio.lowlevel.Abort:  # cancelled before the timer fired
            handle.cancel()
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    def _timer_fired(self, task: trio.lowlevel.Task) -> None:
        self.trace.record("timer")
        trio.lowlevel.reschedule(task)

    # -- the event queue ------------------------------------------------------
    def call_later(self, delay_ns: int, fn: Callable[..., None], *args: Any) -> TimerHandle:
        """Queue ``fn(*args)`` to run ``delay_ns`` from now, after earlier entries.

        ``fn`` runs outside any task, while trio is idle: it must not await,
        only do synchronous work such as setting an event.
        """
        if delay_ns < 0:
            raise SimError(f"delay_ns must be >= 0, got {delay_ns}")
        self._seq += 1
        handle = TimerHandle(self._now + delay_ns, self._seq, fn, args)
        heapq.heappush(self._queue, (handle.time_ns, self._seq, handle))
        return handle

    @property
    def pending_events(self) -> int:
        """Entries in the event queue (including cancelled ones not yet popped)."""
        return len(self._queue)

    def _on_idle(self, deadline: float) -> float:
        waiting = _trio_run.GLOBAL_RUN_CONTEXT.runner.waiting_for_idle
        if waiting:
            # wait_all_tasks_blocked() callers go first, before time moves:
            # a timeout above their cushion lets trio wake them (MockClock's rule).
            cushion: float = waiting.keys()[0][0]
            return cushion + 1e-6
        queue = self._queue
        while queue and queue[0][2].fn is None:
            heapq.heappop(queue)
        trio_ns = -1 if deadline == math.inf else _ceil_ns(deadline)
        # Once main has returned the run is over: events still queued (a clock-drift
        # redraw, a progress report) must not fire during trio's shutdown, or the
        # trace would depend on which of them happened to be pending.
        if queue and not self._main_done and (trio_ns < 0 or queue[0][0] <= trio_ns):
            head = queue[0][0]
            if head > self._now:
                self._now = head
            self._fire_due()
            self._idle_spins = 0
            return 0.0
        if trio_ns >= 0:
            if trio_ns > self._now:
                self._now = trio_ns
            self._idle_spins = 0
            return 0.0
        # Nothing runnable, no timer, no event.  trio's own shutdown wakes
        # tasks through its wakeup socket (real I/O, no deadline), so allow a
        # few zero-timeout polls before calling it a deadlock.
        self._idle_spins += 1
        if self._main_done or self._idle_spins < _DEADLOCK_SPINS:
            if self._idle_spins > _MAX_IDLE_SPINS:
                raise SimDeadlock("trio did not shut down: tasks stay blocked")
            return 0.0
        if not self._deadlocked:
            self._deadlocked = True
            self.trace.record("deadlock")
            if self._root_scope is not None:
                self._root_scope.cancel()
        if self._idle_spins > _MAX_IDLE_SPINS:
            raise SimDeadlock("tasks stay blocked after the run was cancelled")
        return 0.0

    def _fire_due(self) -> None:
        queue = self._queue
        now = self._now
        last_seq = self._seq
        while queue and queue[0][0] <= now and queue[0][1] <= last_seq:
            handle = heapq.heappop(queue)[2]
            fn = handle.fn
            if fn is None:
                continue
            args = handle.args
            handle.cancel()
            self.events_fired += 1
            try:
                fn(*args)
            except Exception as exc:  # a bug in a simulated component
                self.fail(exc)

    def fail(self, exc: BaseException) -> None:
        """Stop the run: it will raise ``exc`` from :meth:`run`."""
        if self._failure is None:
            self._failure = exc
            if self._root_scope is not None:
                self._root_scope.cancel()

    # -- running --------------------------------------------------------------
    def run(self, async_fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``async_fn(*args)`` to completion under simulation; return its result.

        Raises the first failure reported through :meth:`fail`, or
        :class:`SimDeadlock` if every task blocked with nothing pending.
        """
        if self._running or self._used:
            raise SimError("a SimEnv runs once; make a new one (same seed) to replay")
        self._running = self._used = True
        saved_flag = _trio_run._ALLOW_DETERMINISTIC_SCHEDULING
        saved_state = _trio_run._r.getstate()
        setattr(_trio_run, "_ALLOW_DETERMINISTIC_SCHEDULING", True)
        _trio_run._r.seed(int.from_bytes(self._rng.fork("trio.scheduler").bytes(16), "big"))
        box: list[T] = []

        async def main() -> None:
            with trio.CancelScope() as scope:
                self._root_scope = scope
                box.append(await async_fn(*args))
            self._main_done = True

        try:
            trio.run(main, clock=_SimClock(self), strict_exception_groups=True)
        except BaseException as exc:
            if self._failure is not None and not isinstance(exc, KeyboardInterrupt):
                raise self._failure from exc
            raise
        finally:
            setattr(_trio_run, "_ALLOW_DETERMINISTIC_SCHEDULING", saved_flag)
            _trio_run._r.setstate(saved_state)
            self._root_scope = None
            self._running = False
            self._main_done = True
        if self._failure is not None:
            raise self._failure
        if not box:
            raise SimDeadlock(
                f"simulation deadlocked at t={self._now}ns: every task blocked, nothing pending"
            )
        return box[0]

    # -- randomness -----------------------------------------------------------
    @property
    def rng(self) -> SeededRandom:
        return self._rng

    # -- network: simulated, reliable, ordered streams -------------------------
    @property
    def streams(self) -> StreamHub:
        """The simulated streams' hub (listeners, connections, stream faults)."""
        return self._streams

    async def connect_tcp(self, host: str, port: int) -> anyio.abc.ByteStream:
        return await self._streams.connect("tcp", f"{host}:{port}")

    async def listen_tcp(self, host: str, port: int) -> SimListener:
        return self._streams.listen("tcp", host, port)

    async def connect_unix(self, path: str) -> anyio.abc.ByteStream:
        return await self._streams.connect("unix", path)

    async def listen_unix(self, path: str) -> SimListener:
        return self._streams.listen("unix", path, None)

    # -- disk and work --------------------------------------------------------
    @property
    def disk(self) -> SimDisk:
        return self._disk

    async def run_in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        await trio.lowlevel.checkpoint()
        try:
            return fn(*args)
        finally:
            await self._pay_disk_latency()

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` inline, then sleep for the disk latency its range I/O owed."""
        await trio.lowlevel.checkpoint()
        try:
            return fn(*args)
        finally:
            await self._pay_disk_latency()

    async def _pay_disk_latency(self) -> None:
        owed = self._disk.take_owed_ns()
        if owed:
            with trio.CancelScope(shield=True):
                await self.sleep_ns(owed)
