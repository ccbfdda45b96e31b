"""Deny-by-default policies: grants, operation subsets, constraints, call caps, CBOR form."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.sandbox import (
    DENY_ALL,
    STANDARD_SIGNATURES,
    EffectDenied,
    Grant,
    IntRange,
    KeyPrefix,
    MaxBytes,
    Policy,
    PolicyError,
)
from stele.protocol import decode, encode

STANDARD_CALLS = [
    ("Log", "emit", ("hi",)),
    ("Clock", "now", ()),
    ("Clock", "sleep", (5,)),
    ("Rand", "int", (0, 10)),
    ("KV", "get", ("k",)),
    ("KV", "put", ("k", b"v")),
    ("Exec", "call", ("fib", [3])),
]


@pytest.mark.parametrize("effect, op, args", STANDARD_CALLS)
def test_every_standard_effect_is_denied_by_default(effect: str, op: str, args: tuple[object, ...]) -> None:
    with pytest.raises(EffectDenied) as info:
        DENY_ALL.check(effect, op, args)
    err = info.value
    assert (err.effect, err.op, err.policy) == (effect, op, "deny-all")
    assert "deny by default" in str(err) and f"{effect}.{op}" in str(err)


@pytest.mark.parametrize("effect, op, args", STANDARD_CALLS)
def test_every_standard_effect_works_when_granted(effect: str, op: str, args: tuple[object, ...]) -> None:
    Policy.allow("p", effect).check(effect, op, args)


def test_operation_subset() -> None:
    policy = Policy("read-only", (Grant("KV", frozenset({"get"})),))
    policy.check("KV", "get", ("a",))
    with pytest.raises(EffectDenied, match=r"only KV\.\{get\} are granted"):
        policy.check("KV", "put", ("a", b""))


@given(key=st.text(max_size=12), prefix=st.text(max_size=4))
def test_kv_prefix_constraint_is_enforced(key: str, prefix: str) -> None:
    policy = Policy("tenant", (Grant("KV", constraints=(KeyPrefix("key", prefix),)),))
    for op, args in (("get", (key,)), ("put", (key, b"x")), ("delete", (key,))):
        if key.startswith(prefix):
            policy.check("KV", op, args)
        else:
            with pytest.raises(EffectDenied, match="not under prefix"):
                policy.check("KV", op, args)


def test_range_bytes_and_call_cap() -> None:
    policy = Policy("p", (
        Grant("Clock", frozenset({"sleep"}), (IntRange("ms", 0, 100),)),
        Grant("Log", constraints=(MaxBytes("msg", 4),), max_calls=2),
    ))
    policy.check("Clock", "sleep", (100,))
    with pytest.raises(EffectDenied, match=r"ms=101 is outside \[0, 100\]"):
        policy.check("Clock", "sleep", (101,))
    policy.check("Log", "emit", ("abcd",), calls_so_far=1)
    with pytest.raises(EffectDenied, match="5 bytes, limit 4"):
        policy.check("Log", "emit", ("abcde",))
    with pytest.raises(EffectDenied, match="call limit reached"):
        policy.check("Log", "emit", ("a",), calls_so_far=2)


def test_custom_effect_constraints_use_given_parameter_names() -> None:
    policy = Policy("p", (Grant("Http", constraints=(KeyPrefix("url", "https://ok/"),)),))
    policy.check("Http", "get", ("https://ok/x",), param_names=("url",))
    with pytest.raises(EffectDenied):
        policy.check("Http", "get", ("https://evil/",), param_names=("url",))


def test_duplicate_grant_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="grants KV twice"):
        Policy.allow("p", "KV", "KV")


def _valid_grant(g: Grant) -> bool:
    """Whether ``g`` names only operations and parameters its effect has (else PolicyError)."""
    try:
        Policy("probe", (g,))
    except PolicyError:
        return False
    return True


policies = st.builds(
    lambda name, grants: Policy(name, tuple({g.effect: g for g in grants if _valid_grant(g)
                                             }.values())),
    st.text(max_size=8),
    st.lists(st.builds(
        Grant,
        st.sampled_from(sorted(STANDARD_SIGNATURES)),
        st.frozensets(st.sampled_from(["get", "put", "emit", "now"]), max_size=2),
        st.lists(st.one_of(
            st.builds(KeyPrefix, st.just("key"), st.text(max_size=3)),
            st.builds(IntRange, st.just("ms"), st.integers(-5, 5), st.integers(-5, 5)),
            st.builds(MaxBytes, st.just("msg"), st.integers(0, 9)),
        ), max_size=2).map(tuple),
        st.one_of(st.none(), st.integers(0, 5)),
    ), max_size=4),
)


@given(policies)
def test_policy_round_trips_through_canonical_cbor(policy: Policy) -> None:
    data = encode(policy.to_cbor_obj())
    again = Policy.from_cbor_obj(decode(data))
    assert again == policy
    assert encode(again.to_cbor_obj()) == data


@pytest.mark.parametrize("bad", [
    {}, {"name": 1, "grants": []}, {"name": "p", "grants": [{"effect": "KV"}]},
    {"name": "p", "grants": [{"effect": "KV", "ops": [], "constraints": [["nope", "k"]],
                              "max_calls": None}]},
])
def test_malformed_policy_is_a_typed_error(bad: object) -> None:
    with pytest.raises(PolicyError):
        Policy.from_cbor_obj(bad)


@pytest.mark.parametrize("grant, where", [
    (Grant("Exec", constraints=(IntRange("args", 0, 9),)), "IntRange('args') on Exec"),
    (Grant("KV", constraints=(KeyPrefix("keys", "a/"),)), "KeyPrefix('keys') on KV"),
    (Grant("Log", frozenset({"emit"}), (IntRange("ms", 0, 1),)), "IntRange('ms') on Log"),
    (Grant("KV", frozenset({"emit"})), "KV has no operation 'emit'"),
])
def test_a_constraint_on_a_missing_parameter_is_refused_when_built(grant: Grant, where: str
                                                                   ) -> None:
    with pytest.raises(PolicyError, match=re.escape(where)):
        Policy("p", (grant,))
    with pytest.raises(PolicyError):  # and when decoded
        Policy.from_cbor_obj({"name": "p", "grants": [grant.to_cbor_obj()]})


def test_intrange_on_exec_arg_is_enforced() -> None:
    p = Policy("p", (Grant("Exec", constraints=(IntRange("arg", 0, 9),)),))
    p.check("Exec", "call", ("f", 9))
    with pytest.raises(EffectDenied, match="arg=10 is outside"):
        p.check("Exec", "call", ("f", 10))


def test_constraints_on_an_effect_with_unknown_parameter_names_fail_closed() -> None:
    """A non-standard effect's constraints need its parameter names; without them, deny."""
    policy = Policy("p", (Grant("Http", constraints=(KeyPrefix("url", "https://ok/"),)),))
    policy.check("Http", "get", ("https://ok/x",), param_names=("url",))
    with pytest.raises(EffectDenied, match="parameter names are unknown"):
        policy.check("Http", "get", ("https://evil/",))
    with pytest.raises(EffectDenied, match="parameter names are unknown"):
        policy.check("Http", "get", ("https://ok/x",))
    Policy.allow("q", "Http").check("Http", "get", ("https://evil/",))  # unconstrained: granted
