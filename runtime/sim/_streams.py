"""Simulated byte streams: what ``connect_tcp``/``listen_unix`` give under SimEnv.

A stream is two one-way pipes.  Every ``send`` becomes an arrival in the
SimEnv event queue after a delay drawn from the env's ``streams`` stream;
arrivals on one pipe never overtake each other (TCP keeps order), so a
stream is reliable and ordered but its timing -- and therefore the
interleaving with everything else -- is the seed's.  Listeners are keyed by
``("tcp", host:port)`` or ``("unix", path)`` inside one SimEnv.

Faults, injected by a workload (none happen on their own, so a run that
does not ask for them is unchanged): :meth:`StreamHub.reset` breaks one
connection as a TCP reset does (both ends' sends and receives raise
``BrokenResourceError``, unread data is lost); :meth:`StreamHub.kill`
is what the OS does when the process behind a listener dies (the listener
goes away and every connection it accepted is reset); :meth:`StreamHub.stall`
holds every byte sent in the next ``ns`` until that window ends (a
partition that TCP's retransmissions outlast: late, never lost).
"""

from __future__ import annotations

import errno
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import trio

from .._core._random import SeededRandom

if TYPE_CHECKING:
    from ._simenv import SimEnv

__all__ = ["SimByteStream", "SimListener", "StreamHub"]

_DELAY_MIN_NS = 50_000
_DELAY_JITTER_NS = 200_000


class _Pipe:
    __slots__ = ("buffer", "eof", "broken", "lot", "last_arrival")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.eof = False
        self.broken = False
        self.lot = trio.lowlevel.ParkingLot()
        self.last_arrival = 0


class SimByteStream(anyio.abc.ByteStream):
    """One end of a simulated, reliable, ordered byte stream."""

    def __init__(self, hub: StreamHub, name: str, outgoing: _Pipe, incoming: _Pipe) -> None:
        self._hub = hub
        self.name = name
        self._out = outgoing
        self._in = incoming
        self._closed = False
        self._eof_sent = False

    async def send(self, item: bytes) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        if self._eof_sent or self._out.broken:
            raise anyio.BrokenResourceError
        data = bytes(item)
        await trio.lowlevel.checkpoint()
        if data:
            self._hub._transmit(self.name, self._out, data)

    async def send_eof(self) -> None:
        if not self._eof_sent and not self._closed:
            self._eof_sent = True
            self._hub._transmit(self.name, self._out, None)
        await trio.lowlevel.checkpoint()

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
        pipe = self._in
        if pipe.buffer:
            await trio.lowlevel.checkpoint()
        while not pipe.buffer or pipe.broken:
            if self._closed:
                raise anyio.ClosedResourceError
            if pipe.broken:
                raise anyio.BrokenResourceError
            if pipe.eof:
                raise anyio.EndOfStream
            await pipe.lot.park()
        if self._closed:
            raise anyio.ClosedResourceError
        chunk = bytes(pipe.buffer[:max_bytes])
        del pipe.buffer[:max_bytes]
        return chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            if not self._eof_sent:
                self._eof_sent = True
                self._hub._transmit(self.name, self._out, None)
            self._in.lot.unpark_all()
        await trio.lowlevel.checkpoint()


class SimListener(anyio.abc.Listener[anyio.abc.ByteStream]):
    """Accepts simulated connections for one address."""

    def __init__(self, hub: StreamHub, key: tuple[str, str], port: int | None) -> None:
        self._hub = hub
        self.key = key
        self.port = port
        self._pending: deque[SimByteStream] = deque()
        self._lot = trio.lowlevel.ParkingLot()
        self._closed = False

    def _offer(self, stream: SimByteStream) -> None:
        self._pending.append(stream)
        self._lot.unpark()

    async def accept(self) -> SimByteStream:
        """The next incoming connection."""
        if self._pending:
            await trio.lowlevel.checkpoint()
        while not self._pending:
            if self._closed:
                raise anyio.ClosedResourceError
            await self._lot.park()
        return self._pending.popleft()

    async def serve(
        self,
        handler: Callable[[anyio.abc.ByteStream], Any],
        task_group: anyio.abc.TaskGroup | None = None,
    ) -> None:
        async with anyio.create_task_group() as tg:
            group = task_group if task_group is not None else tg
            while True:
                stream = await self.accept()
                group.start_soon(handler, stream)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._hub._listeners.pop(self.key, None)
            self._lot.unpark_all()
        await trio.lowlevel.checkpoint()


class StreamHub:
    """The addresses and connections of one SimEnv."""

    def __init__(self, env: SimEnv, rng: SeededRandom) -> None:
        self._env = env
        self._rng = rng
        self._listeners: dict[tuple[str, str], SimListener] = {}
        self._next_port = 49152
        self._connections = 0
        #: Open connections by number: (client end, server end, the listener's key).
        self._live: dict[int, tuple[SimByteStream, SimByteStream, tuple[str, str]]] = {}
        self._stall_until_ns = 0
        #: Connections reset by :meth:`reset` or :meth:`kill`.
        self.resets = 0
        #: Stream faults so far: resets, kills and stalls.
        self.faults_injected = 0

    def _delay(self) -> int:
        return _DELAY_MIN_NS + self._rng.randbelow(_DELAY_JITTER_NS + 1)

    def _transmit(self, name: str, pipe: _Pipe, data: bytes | None) -> None:
        env = self._env
        arrival = max(env.now_ns() + self._delay(), pipe.last_arrival, self._stall_until_ns)
        pipe.last_arrival = arrival
        env.trace.record("stream.send", name, -1 if data is None else len(data))
        env.call_later(arrival - env.now_ns(), _arrive, pipe, data)

    def listen(self, kind: str, address: str, port: int | None) -> SimListener:
        """Bind a listener (``OSError(EADDRINUSE)`` if the address is taken)."""
        if kind == "tcp" and port == 0:
            while ("tcp", f"{address}:{self._next_port}") in self._listeners:
                self._next_port += 1
            port = self._next_port
            self._next_port += 1
        key = (kind, f"{address}:{port}" if kind == "tcp" else address)
        if key in self._listeners:
            raise OSError(errno.EADDRINUSE, "address already in use (simulated)", key[1])
        listener = self._listeners[key] = SimListener(self, key, port)
        self._env.trace.record("stream.listen", kind, key[1])
        return listener

    async def connect(self, kind: str, address: str) -> SimByteStream:
        """Connect to a listener after a handshake delay (refused if none)."""
        await self._env.sleep_ns(self._delay())
        listener = self._listeners.get((kind, address))
        if listener is None:
            self._env.trace.record("stream.refused", kind, address)
            raise ConnectionRefusedError(errno.ECONNREFUSED, "connection refused (simulated)", address)
        self._connections += 1
        name = f"{kind}:{address}#{self._connections}"
        up, down = _Pipe(), _Pipe()
        client = SimByteStream(self, name + "/c", up, down)
        server = SimByteStream(self, name + "/s", down, up)
        self._env.trace.record("stream.connect", name)
        self._live[self._connections] = (client, server, listener.key)
        listener._offer(server)
        return client

    def live(self) -> list[int]:
        """Numbers of the connections neither end has closed, oldest first."""
        for n in [n for n, (c, s, _) in self._live.items() if c._closed and s._closed]:
            del self._live[n]
        return sorted(self._live)

    def reset(self, n: int) -> None:
        """Fault: connection ``n`` is reset (both ends fail, unread bytes are lost)."""
        entry = self._live.pop(n, None)
        if entry is None:
            return
        client, server, _ = entry
        self.resets += 1
        self.faults_injected += 1
        self._env.trace.record("fault.stream.reset", client.name)
        for pipe in (client._out, client._in):
            pipe.broken = True
            pipe.buffer.clear()
            pipe.lot.unpark_all()

    def kill(self, kind: str, address: str) -> None:
        """Fault: the process listening at ``address`` died (the OS closes its sockets)."""
        self._env.trace.record("fault.stream.kill", kind, address)
        self.faults_injected += 1
        listener = self._listeners.pop((kind, address), None)
        if listener is not None:
            listener._closed = True
            listener._lot.unpark_all()
        for n in self.live():
            if self._live[n][2] == (kind, address):
                self.reset(n)

    def stall(self, ns: int) -> None:
        """Fault: bytes sent during the next ``ns`` arrive only once it has passed."""
        until = self._env.now_ns() + ns
        if until > self._stall_until_ns:
            self._stall_until_ns = until
            self.faults_injected += 1
            self._env.trace.record("fault.stream.stall", ns)

    def heal(self) -> None:
        """End a stall now (bytes already in flight keep their arrival times)."""
        self._stall_until_ns = 0


def _arrive(pipe: _Pipe, data: bytes | None) -> None:
    if pipe.broken:  # reset while in flight: lost
        return
    if data is None:
        pipe.eof = True
    else:
        pipe.buffer += data
    pipe.lot.unpark_all()
