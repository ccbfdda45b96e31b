"""Pins for sandbox policies found unpinned by mutation testing (issue 19).

Behaviours: ``Policy.allows`` answers per effect (deny by default), and every
malformed policy form read from CBOR is a ``PolicyError`` naming the problem,
never a ``TypeError`` or a silently wrong policy.
"""

from __future__ import annotations

from typing import Any

import pytest

from stele.actors.sandbox import DENY_ALL, EffectDenied, Grant, MaxBytes, Policy, PolicyError


def test_allows_is_per_effect_and_deny_by_default() -> None:
    p = Policy.allow("p", "kv", Grant("log", frozenset({"write"})))
    assert p.allows("kv")
    assert p.allows("log")  # some operation of log is granted
    assert not p.allows("clock")
    assert not p.allows("")
    assert not DENY_ALL.allows("kv")


def _grant(**over: Any) -> dict[str, Any]:
    g: dict[str, Any] = {"effect": "kv", "ops": ["get"], "constraints": [], "max_calls": None}
    g.update(over)
    return g


def _policy(*grants: dict[str, Any]) -> dict[str, Any]:
    return {"name": "p", "grants": list(grants)}


def test_well_formed_policy_round_trips() -> None:
    obj = _policy(_grant(constraints=[["prefix", "key", "a/"], ["range", "n", 0, 9],
                                      ["max_bytes", "value", 4]], max_calls=3))
    p = Policy.from_cbor_obj(obj)
    assert p.to_cbor_obj() == obj
    assert p.grant_for("kv") is not None and p.grant_for("kv").max_calls == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("grant", "words"),
    [
        (_grant(effect=7), "effect/ops must be strings"),
        (_grant(ops="get"), "effect/ops must be strings"),
        (_grant(ops=["get", 1]), "effect/ops must be strings"),
        (_grant(max_calls="3"), "max_calls must be an int or null"),
        (_grant(max_calls=True), "max_calls must be an int or null"),
        (_grant(max_calls=1.5), "max_calls must be an int or null"),
        (_grant(max_calls=-1), "max_calls is negative"),
        (_grant(constraints="prefix"), "constraints must be a list"),
        (_grant(constraints=[["prefix"]]), "malformed constraint"),
        (_grant(constraints=[[]]), "malformed constraint"),
        (_grant(constraints=["prefix key a/"]), "malformed constraint"),
        (_grant(constraints=[[1, "key", "a/"]]), "malformed constraint"),
        (_grant(constraints=[["prefix", 2, "a/"]]), "malformed constraint"),
        (_grant(constraints=[["prefix", "key"]]), "unknown or malformed constraint"),
        (_grant(constraints=[["prefix", "key", 5]]), "unknown or malformed constraint"),
        (_grant(constraints=[["range", "n", 0]]), "unknown or malformed constraint"),
        (_grant(constraints=[["range", "n", 0, "9"]]), "unknown or malformed constraint"),
        (_grant(constraints=[["max_bytes", "v", "4"]]), "unknown or malformed constraint"),
        (_grant(constraints=[["regex", "k", ".*"]]), "unknown or malformed constraint"),
        ({"effect": "kv", "ops": []}, "a grant needs effect, ops, constraints, max_calls"),
        ("kv", "a grant needs effect, ops, constraints, max_calls"),
    ],
)
def test_malformed_grant_is_a_policy_error_naming_the_problem(grant: Any, words: str) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_cbor_obj(_policy(grant))
    assert words in str(info.value)
    assert "'p'" in str(info.value)


@pytest.mark.parametrize(
    ("obj", "words"),
    [
        ([], "exactly the keys 'name' and 'grants'"),
        ({"name": "p"}, "exactly the keys 'name' and 'grants'"),
        ({"name": "p", "grants": [], "x": 1}, "exactly the keys 'name' and 'grants'"),
        ({"name": 1, "grants": []}, "'name' must be a string"),
        ({"name": "p", "grants": {}}, "'grants' a list"),
    ],
)
def test_malformed_policy_shape_is_a_policy_error(obj: Any, words: str) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_cbor_obj(obj)
    assert words in str(info.value)


def test_duplicate_grant_is_refused() -> None:
    with pytest.raises(PolicyError, match="grants kv twice"):
        Policy.from_cbor_obj(_policy(_grant(), _grant(ops=["put"])))


def test_zero_max_calls_is_allowed_and_denies_the_first_call() -> None:
    p = Policy.from_cbor_obj(_policy(_grant(max_calls=0)))
    assert p.grant_for("kv").max_calls == 0  # type: ignore[union-attr]
    with pytest.raises(EffectDenied, match="call limit reached"):
        p.check("kv", "get", ["k"], calls_so_far=0)


def test_max_bytes_counts_utf8_bytes_and_defaults_to_empty_only() -> None:
    c = MaxBytes("msg")
    assert c.limit == 0 and c.violation("") is None and c.violation(b"") is None
    assert c.violation("a") == "msg is 1 bytes, limit 0"
    four = MaxBytes("msg", 4)
    assert four.violation("héé") == "msg is 5 bytes, limit 4"   # UTF-8 bytes, not code points
    assert four.violation(b"1234") is None
    assert four.violation(7) == "msg must be a string or bytes, got int"
