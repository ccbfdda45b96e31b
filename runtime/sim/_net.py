"""SimNetwork: message passing between named endpoints, with faults.

Every send draws, from the network's own forked stream, whether the message
is lost, duplicated or held back, and each copy's delay; each copy is then an
entry in the SimEnv's event queue, so delivery order is fixed by
``(virtual time, sequence number)``.  Reordering falls out of independent
delays (jitter) and of the explicit hold-back fault.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import trio

from .._core._random import SeededRandom
from ._errors import SimError
from ._faults import NetFaults

if TYPE_CHECKING:
    from ._simenv import SimEnv

__all__ = ["SimNetwork", "Endpoint"]


class Endpoint:
    """One node's view of the network: a name and an inbox."""

    def __init__(self, net: SimNetwork, name: str) -> None:
        self._net = net
        self.name = name
        self._inbox: deque[tuple[str, object]] = deque()
        self._lot = trio.lowlevel.ParkingLot()

    def send(self, dst: str, payload: object) -> None:
        """Send ``payload`` to endpoint ``dst`` (fire and forget, may be lost)."""
        self._net.send(self.name, dst, payload)

    async def receive(self) -> tuple[str, object]:
        """The next delivered ``(source, payload)``; waits for one."""
        if self._inbox:
            await trio.lowlevel.checkpoint()
        while not self._inbox:
            await self._lot.park()
        return self._inbox.popleft()

    def _deliver(self, src: str, payload: object) -> None:
        self._inbox.append((src, payload))
        self._lot.unpark()


class SimNetwork:
    """A lossy, delaying, duplicating, reordering network between endpoints."""

    def __init__(self, env: SimEnv, faults: NetFaults, *, rng: SeededRandom | None = None) -> None:
        self._env = env
        self._rng = rng if rng is not None else env.rng.fork("net")
        self.faults = faults
        self._endpoints: dict[str, Endpoint] = {}
        self._cut: dict[tuple[str, str], int] = {}  # sorted pair -> partitions holding it
        self.sent = 0
        self.delivered = 0
        self.faults_injected = 0

    def endpoint(self, name: str) -> Endpoint:
        """Register (or return) the endpoint called ``name``."""
        ep = self._endpoints.get(name)
        if ep is None:
            ep = self._endpoints[name] = Endpoint(self, name)
        return ep

    def send(self, src: str, dst: str, payload: object) -> None:
        """Send from ``src`` to ``dst`` through the faults."""
        if dst not in self._endpoints:
            raise SimError(f"no endpoint named {dst!r} on the simulated network")
        f = self.faults
        rng = self._rng
        trace = self._env.trace
        self.sent += 1
        msg_id = self.sent
        trace.record("net.send", msg_id, src, dst, payload)
        if self._cut and (min(src, dst), max(src, dst)) in self._cut:
            trace.record("fault.net.partitioned", msg_id)
            return
        if f.loss.hit(rng):
            self.faults_injected += 1
            trace.record("fault.net.loss", msg_id)
            return
        copies = 1
        if f.duplicate.hit(rng):
            self.faults_injected += 1
            trace.record("fault.net.duplicate", msg_id)
            copies = 2
        for _ in range(copies):
            delay = f.delay_min_ns
            if f.delay_jitter_ns:
                delay += rng.randbelow(f.delay_jitter_ns + 1)
            if f.reorder.hit(rng):
                self.faults_injected += 1
                trace.record("fault.net.reorder", msg_id)
                delay += f.reorder_ns
            self._env.call_later(delay, self._arrive, msg_id, src, dst, payload)

    def names(self) -> list[str]:
        """Names of the registered endpoints, sorted."""
        return sorted(self._endpoints)

    def partition(self, a: str, b: str, duration_ns: int) -> None:
        """Drop every message between ``a`` and ``b`` for ``duration_ns``."""
        pair = (min(a, b), max(a, b))
        self._cut[pair] = self._cut.get(pair, 0) + 1
        self.faults_injected += 1
        self._env.trace.record("fault.net.partition", pair[0], pair[1], duration_ns)
        self._env.call_later(duration_ns, self._rejoin, pair)

    def heal_partitions(self) -> None:
        """End every partition now."""
        if self._cut:
            self._cut.clear()
            self._env.trace.record("net.partitions.healed")

    def _rejoin(self, pair: tuple[str, str]) -> None:
        n = self._cut.get(pair, 0)
        if n <= 1:
            if self._cut.pop(pair, None) is not None:
                self._env.trace.record("net.rejoin", pair[0], pair[1])
        else:
            self._cut[pair] = n - 1

    def _arrive(self, msg_id: int, src: str, dst: str, payload: object) -> None:
        self.delivered += 1
        self._env.trace.record("net.deliver", msg_id)
        self._endpoints[dst]._deliver(src, payload)
