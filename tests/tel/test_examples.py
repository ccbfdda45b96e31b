"""The examples in examples/*.tel parse, type-check and run (with the in-memory host)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from stele.tel import (
    Limits, MemoryHandler, Program, check_module, parse_module, print_module,
)

#: every test here runs on the interpreter and on the JIT (tests/tel/conftest.py)
pytestmark = pytest.mark.usefixtures("tel_engine")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> Program:
    src = (EXAMPLES / name).read_text()
    module = parse_module(src, name)
    assert parse_module(print_module(module)) == module
    return Program(check_module(module, src))


def test_the_issue_examples_exist_and_every_example_type_checks() -> None:
    names = {p.name for p in EXAMPLES.glob("*.tel")}
    assert {"fib.tel", "ledger.tel", "merkle.tel", "parity.tel", "sum_squares.tel", "timer.tel"} <= names
    for name in sorted(names):  # including examples other areas add
        load(name)


def test_fib() -> None:
    p = load("fib.tel")
    assert [p.call("fib", [n]).value for n in range(10)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
    assert p.call("fib_fast", [90]).value == 2880067194370816120
    assert p.call("fib_fast", [91]).value == 4660046610375530309
    from stele.tel import IntegerOverflow
    with pytest.raises(IntegerOverflow):  # its last step computes fib(93) > 2**63 - 1
        p.call("fib_fast", [92])


def test_sum_squares() -> None:
    p = load("sum_squares.tel")
    assert p.call("sum_squares", [(1, 2, 3)]).value == 14
    assert p.call("sum_squares_to", [100]).value == sum(i * i for i in range(101))


def _merkle(data: list[bytes]) -> bytes:
    h = lambda b: hashlib.blake2b(b, digest_size=32).digest()  # noqa: E731
    level = [h(b"\x00" + d) for d in data]
    if not level:
        return h(b"")
    while len(level) > 1:
        level = [h(b"\x01" + level[i] + (level[i + 1] if i + 1 < len(level) else level[i]))
                 for i in range(0, len(level), 2)]
    return level[0]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 13])
def test_merkle_root_matches_a_python_reference(n: int) -> None:
    data = [bytes([i]) * (i * 7) for i in range(n)]
    r = load("merkle.tel").call("merkle_root", [tuple(data)])
    assert r.value == _merkle(data)
    assert r.breakdown["hash_blocks"] >= 8 * (2 * n - 1 if n else 1)


def test_ledger_over_the_kv_effect() -> None:
    p = load("ledger.tel")
    h = MemoryHandler()
    assert p.call("demo", [], handler=h).value == (70, 30, True, False, 100)
    assert h.kv["balance/alice"] == (70).to_bytes(8, "big", signed=True)
    assert h.log == ["mint 100 to alice", "transfer 30 alice -> bob", "rejected bob -> carol: 31"]
    assert p.call("transfer", ["bob", "alice", 30], handler=h).value is True
    assert p.call("total", [("alice", "bob")], handler=h).value == 100


def test_timer_workflow_uses_virtual_clock_sleep() -> None:
    p = load("timer.tel")
    h = MemoryHandler(start_ms=10_000)
    assert p.call("workflow", [], handler=h).value == (3, 5000)
    assert h.now_ms == 15_000
    assert h.log == ["t+0 fetch", "t+250 build", "t+500 publish", "done after 5000 ms"]
    sleeps = [a[0] for e, o, a in h.calls if o == "sleep"]
    assert sleeps[:3] == [250, 250, 250] and sleeps[3:] == [100, 200, 400, 800, 1600, 1150]


def test_mutually_recursive_parity() -> None:
    p = load("parity.tel")
    assert [p.call("is_even", [n]).value for n in range(6)] == [True, False] * 3
    assert p.call("is_odd", [301], limits=Limits(depth=301)).value is True
