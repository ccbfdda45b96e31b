"""The committed provable example guest is exactly the test build, and its receipt verifies."""

from __future__ import annotations

from pathlib import Path

from stele.actors.receipts import prove_receipt, verify_receipt

from zkvm._programs import counter

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "provable" / "counter.elf"


def test_the_example_is_the_counter_build_and_proves() -> None:
    elf = EXAMPLE.read_bytes()
    assert elf == counter(1000)
    receipt = prove_receipt(elf)
    assert (receipt.exit_code, receipt.cycles) == (54615, 996)
    verify_receipt(receipt.encode(), elf=elf, input_bytes=b"", exit_code=54615)
