"""The receipts benchmark: what a receipt costs to make, to keep and to check.

Prints one JSON object.  For a counter guest of about ``2^k`` cycles
(k = 10, 12 with ``--quick``; 14 added without) it measures, in one runtime:

* ``execute_s``: ``rt.execute(..., engine="riscv")`` without a proof (the baseline);
* ``execute_prove_s``: the same with ``prove=True`` (run + prove in the prover
  actor's worker process + store), and ``prove_overhead`` = their ratio;
* ``memo_hit_s``: a repeated ``prove=True`` (a memo hit returning the stored receipt);
* ``receipt_bytes``;
* ``verify_s`` (:func:`verify_receipt` with only the receipt and the ELF)
  against ``rerun_s``, re-executing the guest on the co-processor (what
  checking without a receipt costs): ``verify_vs_rerun``;
* ``verify16_s``: 16 single verifications of distinct receipts (the baseline a
  batch verifier must beat; ``batch16_s`` is null: batch verification is not built).

The issue's segmented-proving figures (peak RSS at 2^18..2^22, 1 vs 2
workers, Ray) are listed under ``not_built``.  Timings come from a shared,
noisy 2-core machine.

Usage: ``python tests/bench/receipts.py [--quick]``.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import trio  # noqa: E402

import stele  # noqa: E402
from stele.actors.coprocessor._elf import load_elf  # noqa: E402
from stele.actors.coprocessor._machine import Machine  # noqa: E402
from stele.actors.receipts import prove_receipt, verify_receipt  # noqa: E402

from zkvm._programs import counter  # noqa: E402


async def _size(rt: Any, k: int) -> dict[str, Any]:
    elf = counter((1 << k) - 16)
    name = f"count{k}"
    await rt.store_blob(elf, name=name)
    t0 = time.perf_counter()
    plain = await rt.execute(name, b"", engine="riscv", memo=False)
    t1 = time.perf_counter()
    proven = await rt.execute(name, b"", engine="riscv", prove=True)
    t2 = time.perf_counter()
    hit = await rt.execute(name, b"", engine="riscv", prove=True)
    t3 = time.perf_counter()
    assert hit.memo_hit and hit.receipt == proven.receipt
    data = proven.receipt.encode()
    t4 = time.perf_counter()
    verify_receipt(data, elf=elf, input_bytes=b"", exit_code=plain.exit_code)
    t5 = time.perf_counter()
    Machine(load_elf(elf)).run(1 << 24)
    t6 = time.perf_counter()
    return {"cycles": plain.usage.cycles, "execute_s": round(t1 - t0, 4), "execute_prove_s": round(t2 - t1, 3),
            "prove_overhead": round((t2 - t1) / max(t1 - t0, 1e-9), 1), "memo_hit_s": round(t3 - t2, 4),
            "receipt_bytes": len(data), "verify_s": round(t5 - t4, 4), "rerun_s": round(t6 - t5, 4),
            "verify_vs_rerun": round((t5 - t4) / max(t6 - t5, 1e-9), 1)}


async def _main(sizes: list[int]) -> dict[str, Any]:
    async with stele.open_runtime(None) as rt:
        await rt.store_blob(counter(100), name="warm")  # engine start-up is not the figure
        await rt.execute("warm", b"", engine="riscv", memo=False)
        out = {f"2^{k}": await _size(rt, k) for k in sizes}
    return out


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    sizes = [10, 12] if quick else [10, 12, 14]
    per_size = trio.run(_main, sizes)
    elfs = [counter(200 + 3 * i) for i in range(16)]
    receipts = [prove_receipt(e).encode() for e in elfs]
    t0 = time.perf_counter()
    for data, elf in zip(receipts, elfs, strict=True):
        verify_receipt(data, elf=elf)
    verify16 = time.perf_counter() - t0
    print(json.dumps({"bench": "receipts", "quick": quick, "sizes": per_size,
                      "verify16_s": round(verify16, 3), "batch16_s": None,
                      "not_built": ["segmented proving (peak RSS at 2^18, 2^20, 2^22)",
                                    "parallel proving with 1 vs 2 workers", "Ray", "batch verification"],
                      "note": "shared 2-core machine: timings are noisy"}, indent=1))


if __name__ == "__main__":
    main()
