"""Durability of `Repository.store`: SIGKILL mid-store loses no acknowledged file, halves none.

A child stores TEL files (each K definitions calling the previous file's
last one, so files depend on each other), printing ``ack N`` after each
`store` returns; the parent kills it with SIGKILL after a hypothesis-chosen
number of acks, reopens the store and checks: SQLite integrity, every
acknowledged file's names, objects and annotations present and loadable
(closure complete), and the file in flight all there or not at all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from stele.store import Repository

K = 40

WRITER = f"""
import sys
from stele.store import Repository

repo = Repository(sys.argv[1], clock=lambda: 0)
n = 0
while True:
    src = "".join(
        f"def f{{i}}(x: Int) -> Int = x + {{n * 1000 + i}}"
        + (f" + f{{i - 1}}(x)" if i else (" + prev(x)" if n else "")) + "\\n"
        for i in range({K}))
    if n:
        src = f"#use prev = b{{n - 1}}.f{K - 1}\\n" + src
    repo.store(src, namespace=f"b{{n}}", author="writer")
    print(f"ack {{n}}", flush=True)
    n += 1
"""


@settings(max_examples=4, deadline=None)
@given(acks=st.integers(1, 8))
def test_sigkill_mid_store_keeps_every_acknowledged_file(tmp_path_factory: object, acks: int) -> None:
    tmp = Path(str(tmp_path_factory.mktemp("rdur")))  # type: ignore[attr-defined]
    path = str(tmp / "repo.sqlite")
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

    with Repository(path, clock=lambda: 0) as repo:
        assert repo.objects.integrity_check() == "ok"
        for n in range(acked + 1):
            names = [name for name, _ in repo.names(f"b{n}")]
            assert names == sorted(f"b{n}.f{i}" for i in range(K))
            loaded = repo.load(f"b{n}.f{K - 1}")  # the closure spans every earlier file
            assert len(loaded.objects) == K * (n + 1)
            assert repo.local_names(repo.lookup(f"b{n}.f0")) == ["x"]
        in_flight = len(repo.names(f"b{acked + 1}"))
        assert in_flight in (0, K)
