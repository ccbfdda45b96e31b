"""Protocol throughput: canonical encode / strict decode / validation vs plain cbor2, same run.

Run: ``.venv/bin/python tests/bench/protocol.py [--quick]``.  Prints one JSON
object.  Each figure is the best of several repeats (robust to a shared,
noisy machine); ``*_vs_cbor2`` are ratios of our time to cbor2's on the same
value (lower is better; cbor2 is a C extension that checks nothing).
"""

from __future__ import annotations

import json
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass

import cbor2

from stele.protocol import (
    Connection,
    Digest,
    Message,
    check_canonical,
    decode,
    decode_message,
    encode,
    encode_message,
    message,
)


@message(65099)
@dataclass(frozen=True, slots=True)
class BenchPut(Message):
    """A typical small request body: a digest, some bytes, names, an optional parent."""

    digest: Digest
    data: bytes
    names: tuple[str, ...]
    size: int
    parent: Digest | None


class Timer:
    """Times many functions round-robin and keeps each one's best repeat.

    Interleaving gives every function the same exposure to load spikes on a
    shared machine, so the ratios between them stay meaningful.
    """

    def __init__(self, number: int, repeat: int) -> None:
        self.number = number
        self.repeat = repeat
        self.fns: dict[str, Callable[[], object]] = {}

    def add(self, name: str, fn: Callable[[], object]) -> None:
        self.fns[name] = fn

    def run(self) -> dict[str, float]:
        best = {name: float("inf") for name in self.fns}
        for _ in range(self.repeat):
            for name, fn in self.fns.items():
                t = timeit.timeit(fn, number=self.number) / self.number * 1e6
                best[name] = min(best[name], t)
        return best


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    number, repeat = (200, 3) if quick else (1000, 15)
    d = Digest.of(b"bench")
    put = BenchPut(d, b"x" * 64, ("main", "v1"), 64, None)
    values: dict[str, object] = {
        "small_array": [90, "alice", -5, True, None],
        "message_shape": [65099, d.binary, b"x" * 64, ["main", "v1"], 64, None],
        "map": {"kind": "req", "id": 123, "args": [1, 2, b"abc", "hello"], "n": None, 1000: True},
        "ints_200": list(range(-100, 100)),
        "bytes_64k": b"\xab" * 65536,
        "nested": [[i, str(i), {"k": [i, b"v"]}] for i in range(20)],
    }
    timer = Timer(number, repeat)
    sizes: dict[str, int] = {}
    for name, value in values.items():
        data = encode(value)
        assert decode(data) == value
        plain = cbor2.dumps(value)
        sizes[name] = len(data)
        timer.add(f"{name}/encode_us", lambda value=value: encode(value))
        timer.add(f"{name}/cbor2_dumps_us", lambda value=value: cbor2.dumps(value))
        timer.add(f"{name}/cbor2_dumps_canonical_us", lambda value=value: cbor2.dumps(value, canonical=True))
        timer.add(f"{name}/decode_us", lambda data=data: decode(data))
        timer.add(f"{name}/check_us", lambda data=data: check_canonical(data))
        timer.add(f"{name}/cbor2_loads_us", lambda plain=plain: cbor2.loads(plain))
    wire = encode_message(put)
    timer.add("message/encode_message_us", lambda: encode_message(put))
    timer.add("message/decode_message_us", lambda: decode_message(wire))
    wire_plain = decode(wire)  # the same value as plain lists/bytes, for cbor2
    timer.add("message/cbor2_dumps_us", lambda: cbor2.dumps(wire_plain))
    timer.add("message/cbor2_loads_us", lambda: cbor2.loads(wire))
    best = timer.run()

    out: dict[str, object] = {
        "bench": "protocol",
        "unit": "microseconds per call, best of interleaved repeats",
        "repeats": repeat,
        "calls_per_repeat": number,
    }
    rows: dict[str, dict[str, float]] = {}
    for key, us in best.items():
        group, _, metric = key.partition("/")
        rows.setdefault(group, {})[metric] = round(us, 3)
    for name, row in rows.items():
        if name in sizes:
            row["bytes"] = sizes[name]
            row["encode_vs_cbor2"] = round(row["encode_us"] / row["cbor2_dumps_us"], 2)
            row["decode_vs_cbor2"] = round(row["decode_us"] / row["cbor2_loads_us"], 2)
        out[name] = row
    msg = rows["message"]
    msg["encode_message_vs_cbor2"] = round(msg["encode_message_us"] / msg["cbor2_dumps_us"], 2)
    msg["decode_message_vs_cbor2"] = round(msg["decode_message_us"] / msg["cbor2_loads_us"], 2)

    batch = 1000 if not quick else 200
    conns = {"checked": (Connection(), Connection()),
             "unchecked": (Connection(check_outgoing=False), Connection(check_outgoing=False))}
    rates: dict[str, object] = {}
    for label, (a, b) in conns.items():

        def round_trips(a: Connection = a, b: Connection = b) -> None:
            for _ in range(batch):
                rid, req = a.request(put)
                b.receive_data(req)
                event = b.next_event()
                a.receive_data(b.reply(rid, put))
                a.next_event()
                assert event is not None

        per_batch = min(timeit.repeat(round_trips, number=1, repeat=max(3, repeat // 3)))
        rates[f"round_trips_per_s_{label}"] = round(batch / per_batch)
    rates["note"] = (
        "in memory, both ends: request encode+frame+strict decode+validate, and the same "
        "for the reply; 'checked' also validates outgoing messages (the default)"
    )
    out["connection"] = rates

    # Linearity of the strict check: time per item should stay flat as inputs grow.
    scaling: dict[str, float] = {}
    for count in (1_000, 10_000, 100_000):
        items = encode([[i, str(i), b"v", {"k": i}] for i in range(count // 6)])
        per = min(timeit.repeat(lambda items=items: check_canonical(items), number=1, repeat=3))
        scaling[f"check_ns_per_byte_{len(items)}B"] = round(per / len(items) * 1e9, 2)
    nested = b"\x81" * 64 + b"\x00"
    scaling["check_deepest_allowed_us"] = round(
        min(timeit.repeat(lambda: check_canonical(nested), number=100, repeat=3)) / 100 * 1e6, 2
    )
    out["scaling"] = scaling
    print(json.dumps(out, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
