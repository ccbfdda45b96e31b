"""Repository benchmark: TEL definitions stored and loaded per second.

``bench_store() -> dict`` is merged into ``tests/bench/tel.py``'s JSON; run
alone: ``.venv/bin/python tests/bench/_store_bench.py [N]``.

* ``stored_defs_per_s``: N definitions in one file through
  `Repository.store` into a file-backed store (parse, type-check, hash,
  encode, ONE durable WAL transaction with names and annotations).
  Target: >= 5000/s.  ``stored_defs_per_cpu_s``: the same per second of
  this process's CPU time (less sensitive to a busy machine).  Split into ``prepare_s`` (TEL work) and ``commit_s``.
* ``tel_parse_s`` / ``tel_check_s`` / ``tel_hash_s``: the TEL engine's share
  of ``prepare_s`` (same source, same run), and ``write_path_defs_per_s``:
  definitions per second through the repository's own write path alone
  (``commit_s``: objects, dependencies, annotations and names, durable).
* Baseline in the same run: the same objects written one durable
  transaction per definition (what an unbatched store pays); the ratio is the
  batching speed-up.
* ``loaded_defs_per_s_cold`` / ``_warm``: `Repository.load` of the top
  definition, whose closure is every definition (a DAG full of diamonds:
  ``d_i`` calls ``d_{i-1}`` and ``d_{i//2}``), on a freshly opened store and
  again with the loader cache warm; figures are closure definitions per second
  (SQL reads, decoding, decompiling, assembling the module).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from typing import Any

from stele import tel
from stele.store import NewObject, ObjectStore, Repository


def _source(n: int) -> str:
    lines = ["def d0(x: Int) -> Int = x\n"]
    for i in range(1, n):
        lines.append(f"def d{i}(x: Int) -> Int = x + {i} + d{i - 1}(x) + d{i // 2}(x)\n")
    return "".join(lines)


def _best(times: list[float]) -> float:
    return min(times)


def bench_store(n: int = 2000, repeat: int = 3) -> dict[str, Any]:
    """Definitions stored / loaded per second (see the module docstring)."""
    source = _source(n)
    store_t, prep_t, commit_t, single_t, cold_t, warm_t = [], [], [], [], [], []
    store_cpu: list[float] = []
    closure = 0
    for r in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/repo.sqlite"
            with Repository(path, clock=lambda: 0) as repo:
                t0, c0 = time.perf_counter(), time.process_time()
                bound = repo.store(source, filename="bench.tel")
                store_t.append(time.perf_counter() - t0)
                store_cpu.append(time.process_time() - c0)
                assert len(bound) == n
            with Repository(f"{tmp}/split.sqlite", clock=lambda: 0) as repo:
                t0 = time.perf_counter()
                objects, bindings, meta = repo.prepare(source, filename="bench.tel")
                t1 = time.perf_counter()
                repo.objects.commit(objects, bindings=bindings, meta=meta)
                t2 = time.perf_counter()
                prep_t.append(t1 - t0)
                commit_t.append(t2 - t1)
            if r == 0:  # the per-definition baseline is slow (one fsync each): once
                base = ObjectStore(f"{tmp}/single.sqlite", clock=lambda: 0)
                t0 = time.perf_counter()
                for o in objects:
                    base.commit([NewObject(o.kind, o.payload, o.deps)])
                single_t.append(time.perf_counter() - t0)
                base.close()
            with Repository(path, clock=lambda: 0, cache_size=4 * n) as repo:
                t0 = time.perf_counter()
                loaded = repo.load(f"d{n - 1}")
                cold_t.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                repo.load(f"d{n - 1}")
                warm_t.append(time.perf_counter() - t0)
                closure = len(loaded.objects)
    parse_t, check_t, hash_t = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        module = tel.parse_module(source, "bench.tel")
        t1 = time.perf_counter()
        tel.check_module(module, source)
        t2 = time.perf_counter()
        tel.hash_module(module)
        t3 = time.perf_counter()
        parse_t.append(t1 - t0)
        check_t.append(t2 - t1)
        hash_t.append(t3 - t2)
    per_def_commit = single_t[0] / n
    batched_commit = _best(commit_t) / n
    return {
        "store_definitions": n,
        "stored_defs_per_s": round(n / _best(store_t)),
        "stored_defs_target": 5000,
        "stored_defs_target_met": n / _best(store_t) >= 5000,
        "stored_defs_per_cpu_s": round(n / _best(store_cpu)),
        "prepare_s": round(_best(prep_t), 4),
        "tel_parse_s": round(_best(parse_t), 4),
        "tel_check_s": round(_best(check_t), 4),
        "tel_hash_s": round(_best(hash_t), 4),
        "commit_s": round(_best(commit_t), 4),
        "write_path_defs_per_s": round(n / _best(commit_t)),
        "commit_one_txn_per_def_s": round(single_t[0], 4),
        "batched_commit_speedup": round(per_def_commit / batched_commit, 1),
        "load_closure_defs": closure,
        "loaded_defs_per_s_cold": round(closure / _best(cold_t)),
        "loaded_defs_per_s_warm": round(closure / _best(warm_t)),
    }


if __name__ == "__main__":
    print(json.dumps({"bench": "store", **bench_store(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)}))
