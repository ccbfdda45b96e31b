"""A deterministic in-memory host for the prelude effects (tests, examples, `stele eval`).

The real sandbox will implement `EffectHandler` with policies; this one just
answers: Log collects messages, Clock is virtual (starts at `start_ms`,
`sleep` advances it), Rand is a seeded SplitMix64 stream, KV is a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._errors import EffectError
from ._values import Some, Value

__all__ = ["MemoryHandler"]

_MASK = (1 << 64) - 1


@dataclass
class MemoryHandler:
    """An `EffectHandler` for Log, Clock, Rand and KV that keeps everything in memory."""

    seed: int = 0
    start_ms: int = 0
    log: list[str] = field(default_factory=list)
    kv: dict[str, bytes] = field(default_factory=dict)
    calls: list[tuple[str, str, tuple[Value, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.now_ms = self.start_ms
        self._state = self.seed & _MASK

    def _next(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def __call__(self, effect: str, op: str, args: tuple[Value, ...]) -> Value:
        self.calls.append((effect, op, args))
        key = (effect, op)
        if key == ("Log", "emit"):
            self.log.append(args[0])
            return ()
        if key == ("Clock", "now"):
            return self.now_ms
        if key == ("Clock", "sleep"):
            if args[0] < 0:
                raise EffectError(f"Clock.sleep: ms must be >= 0, got {args[0]}")
            self.now_ms = min(self.now_ms + args[0], 2**63 - 1)
            return ()
        if key == ("Rand", "int"):
            lo, hi = args
            if hi < lo:
                raise EffectError(f"Rand.int: hi {hi} < lo {lo}")
            return lo + self._next() % (hi - lo + 1)
        if key == ("Rand", "bytes"):
            n = args[0]
            if not 0 <= n <= 4096:
                raise EffectError(f"Rand.bytes: n must be in [0, 4096], got {n}")
            return bytes(self._next() & 0xFF for _ in range(n))
        if key == ("KV", "get"):
            v = self.kv.get(args[0])
            return None if v is None else Some(v)
        if key == ("KV", "put"):
            self.kv[args[0]] = args[1]
            return ()
        raise EffectError(f"MemoryHandler does not handle {effect}.{op}")
