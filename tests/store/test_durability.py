"""Durability: a writer killed with SIGKILL mid-batch loses no acknowledged write.

A child process stores batches of objects and names, printing ``ack N``
after each batch call returns.  The parent kills it with SIGKILL after a
number of acks that hypothesis picks (the child is then in the middle of the
next batch), reopens the store, and checks that it is consistent, that every
acknowledged batch is present, and that no batch is half there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from stele.protocol import Digest, encode
from stele.store import NewObject, ObjectStore

BATCH = 50

WRITER = f"""
import sys
from stele.protocol import encode
from stele.store import NewObject, ObjectStore

store = ObjectStore(sys.argv[1], clock=lambda: 0)
n = 0
while True:
    objs = [NewObject("blob", encode([n, i, b"x" * 200])) for i in range({BATCH})]
    digests = store.put_many(objs)
    store.set_names([(f"batch.b{{n}}", digests[-1])], author="writer")
    print(f"ack {{n}}", flush=True)
    n += 1
"""


def expected_batch(n: int) -> list[NewObject]:
    return [NewObject("blob", encode([n, i, b"x" * 200])) for i in range(BATCH)]


@settings(max_examples=5, deadline=None)
@given(acks=st.integers(1, 12))
def test_sigkill_mid_batch_keeps_every_acknowledged_write(tmp_path_factory: object, acks: int) -> None:
    tmp = Path(str(tmp_path_factory.mktemp("dur")))  # type: ignore[attr-defined]
    path = str(tmp / "store.sqlite")
    child = subprocess.Popen([sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert child.stdout is not None
    acked = -1
    for line in child.stdout:
        acked = int(line.split()[1])
        if acked + 1 >= acks:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()

    store = ObjectStore(path, clock=lambda: 0)
    assert store.integrity_check() == "ok"
    for n in range(acked + 1):
        assert all(store.has(store_digest(o)) for o in expected_batch(n))
        assert store.lookup(f"batch.b{n}") == store_digest(expected_batch(n)[-1])
    # The batch in flight is all or nothing.
    in_flight = [store.has(store_digest(o)) for o in expected_batch(acked + 1)]
    assert all(in_flight) or not any(in_flight)
    store.close()


def store_digest(o: NewObject) -> Digest:
    return Digest.of(o.payload)
