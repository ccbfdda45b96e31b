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


def best_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    number, repeat = (300, 3) if quick else (3000, 7)
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
    out: dict[str, object] = {"bench": "protocol", "unit": "microseconds per call (best of repeats)"}
    for name, value in values.items():
        data = encode(value)
        assert decode(data) == value or name == "message_shape"
        plain = cbor2.dumps(value)
        row = {
            "bytes": len(data),
            "encode_us": best_us(lambda: encode(value), number, repeat),
            "cbor2_dumps_us": best_us(lambda: cbor2.dumps(value), number, repeat),
            "cbor2_dumps_canonical_us": best_us(lambda: cbor2.dumps(value, canonical=True), number, repeat),
            "decode_us": best_us(lambda: decode(data), number, repeat),
            "check_us": best_us(lambda: check_canonical(data), number, repeat),
            "cbor2_loads_us": best_us(lambda: cbor2.loads(plain), number, repeat),
        }
        row["encode_vs_cbor2"] = round(row["encode_us"] / row["cbor2_dumps_us"], 2)
        row["decode_vs_cbor2"] = round(row["decode_us"] / row["cbor2_loads_us"], 2)
        out[name] = {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
    wire = encode_message(put)
    msg_row = {
        "encode_message_us": best_us(lambda: encode_message(put), number, repeat),
        "decode_message_us": best_us(lambda: decode_message(wire), number, repeat),
        "cbor2_loads_us": best_us(lambda: cbor2.loads(wire), number, repeat),
    }
    msg_row["decode_message_vs_cbor2"] = msg_row["decode_message_us"] / msg_row["cbor2_loads_us"]
    out["message"] = {k: round(v, 3) for k, v in msg_row.items()}

    batch = 1000 if not quick else 200
    a, b = Connection(), Connection()

    def round_trips() -> None:
        for i in range(batch):
            rid, req = a.request(put)
            b.receive_data(req)
            event = b.next_event()
            a.receive_data(b.reply(rid, put))
            a.next_event()
            assert event is not None

    per_batch = min(timeit.repeat(round_trips, number=1, repeat=repeat))
    out["connection"] = {
        "request_reply_round_trips_per_s": round(batch / per_batch),
        "note": "in-memory: request encode+frame+decode+validate and the same for the reply",
    }
    print(json.dumps(out, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
