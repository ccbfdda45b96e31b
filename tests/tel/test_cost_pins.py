"""Pins for the TEL cost table and `Limits` found unpinned by mutation testing (issue 19).

Behaviours: the hash builtins cost 10 on top of their call, the others 2;
a list/tuple of n items is accounted 16 + 8n bytes, bytes and strings 16 +
their length, `Some` 16 + its value (docs/tel.md); the default limits are
depth 400 and memory 64 MiB; `Limits` refuses a negative limit and a depth
above `Limits.MAX_DEPTH`, naming the field; and the table's content is fixed
for its version (memo keys and receipts name the table by its version).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stele.protocol import Digest, encode
from stele.tel import (
    BUILTINS, COST_TABLE, DepthLimitExceeded, Limits, Program, TelError, check_module, parse_module,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "tel.md").read_text()

SRC = "def down(n: Int) -> Int = if n == 0 then 0 else 1 + down(n - 1)"


@pytest.fixture
def prog(tel_engine: str) -> Program:
    """Each test that uses it runs on the interpreter and on the JIT."""
    return Program(check_module(parse_module(SRC), SRC))


@pytest.mark.parametrize("name", ["blake2b256", "sha256"])
def test_a_hash_builtin_costs_ten_on_top_of_its_call(prog: Program, name: str) -> None:
    r = prog.evaluate(f'{name}(x"00")')
    assert r.breakdown[f"builtin:{name}"] == 10
    assert r.breakdown["Call"] == 2 and r.breakdown["hash_blocks"] == 8
    assert r.cost == 1 + 2 + 10 + 8  # the literal, the call, the builtin, one block


def test_every_other_builtin_costs_two() -> None:
    for name in BUILTINS:
        if name not in ("blake2b256", "sha256"):
            assert COST_TABLE.builtin[name] == 2, name
    assert "| builtin call (on top of its `Call`) | 2; `blake2b256`, `sha256` 10 |" in DOC


def test_memory_of_constructed_values_follows_the_documented_sizes(prog: Program) -> None:
    assert "16 bytes plus 8 per item" in DOC  # the documented sizes this test checks
    for n in (0, 1, 3, 10):
        items = ", ".join(["1"] * n)
        if n:
            assert prog.evaluate(f"[{items}]").memory == 16 + 8 * n
        if n >= 2:
            assert prog.evaluate(f"({items})").memory == 16 + 8 * n
    assert prog.evaluate("Some(1)").memory == 16
    assert prog.evaluate('blake2b256(x"00")').memory == 16 + 32  # a 32-byte digest
    assert prog.evaluate("[[1], [1, 1]]").memory == (16 + 8) + (16 + 16) + (16 + 2 * 8)
    assert prog.evaluate('"ab" ++ "c"').memory == 16 + 3  # literals are not allocations



def test_the_default_depth_limit_is_400_calls(prog: Program) -> None:
    assert "default 400, at most 10,000" in DOC
    assert prog.evaluate("down(399)").value == 399  # 400 calls
    with pytest.raises(DepthLimitExceeded) as info:
        prog.evaluate("down(400)")
    assert (info.value.needed, info.value.limit) == (401, 400)
    assert Limits.MAX_DEPTH == 10_000


def test_the_default_memory_limit_is_64_mib() -> None:
    assert "(default 64 MiB)" in DOC
    assert Limits().memory == 64 * 1024 * 1024


@pytest.mark.parametrize("field", ["fuel", "memory", "depth"])
def test_a_negative_limit_is_refused_naming_the_field(field: str) -> None:
    with pytest.raises(TelError, match=rf"^Limits\.{field} must be >= 0, got -1$"):
        Limits(**{field: -1})
    assert getattr(Limits(**{field: 0}), field) == 0  # zero is a limit, not an error


def test_a_depth_above_the_maximum_is_refused() -> None:
    assert Limits(depth=Limits.MAX_DEPTH).depth == Limits.MAX_DEPTH
    with pytest.raises(TelError, match=r"^Limits\.depth must be <= 10000, got 10001$"):
        Limits(depth=Limits.MAX_DEPTH + 1)


def test_the_cost_table_content_is_fixed_for_its_version() -> None:
    # Memo keys and receipts name the table by its version: a change to any
    # price or size must come with a new version (and a new digest here).
    pinned = {"tel-cost-2": "b2:4c17c8296a4666d01d0c224bd4b8441d04efc80a6cb6233be03bbdedb091ea9e"}
    assert str(Digest.of(encode(COST_TABLE.as_dict()))) == pinned[COST_TABLE.version]
