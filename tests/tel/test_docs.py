"""docs/tel.md documents every builtin, prelude operation, node cost and the cost-table version."""

from __future__ import annotations

import re
from pathlib import Path

from stele.tel import BUILTINS, COST_TABLE, PRELUDE

DOC = (Path(__file__).resolve().parents[2] / "docs" / "tel.md").read_text()


def test_every_builtin_and_prelude_operation_is_documented() -> None:
    for name in BUILTINS:
        assert f"`{name}`" in DOC, name
    for effect, decl in PRELUDE.items():
        for op in decl.ops:
            assert re.search(rf"effect {effect}\b.*\b{op.name}\(", DOC), f"{effect}.{op.name}"


def test_documented_costs_match_the_table() -> None:
    assert f"`{COST_TABLE.version}`" in DOC
    assert f"plus {COST_TABLE.per_effect} per effect" in DOC
    assert f"| {COST_TABLE.per_hash_block} |" in DOC
    row = next(ln for ln in DOC.splitlines() if ln.startswith("| each node:"))
    assert row.endswith("| 1 |")
    literal_like = {"IntLit", "BoolLit", "StrLit", "BytesLit", "UnitLit", "Var"}  # "literals, variables"
    for kind, cost in COST_TABLE.node.items():
        if cost == 1 and kind not in literal_like | {"Binary"}:  # Binary: per operator
            assert f"`{kind}`" in row, kind
    twos = [k for k, v in COST_TABLE.node.items() if v == 2]
    assert set(twos) == {"ListLit", "TupleLit", "Lambda", "Call"}
    assert COST_TABLE.node["Perform"] == 5
    assert {op for op, c in COST_TABLE.binary.items() if c == 3} == {"/", "%"}
    assert {op for op, c in COST_TABLE.binary.items() if c == 2} == {"*", "++"}
