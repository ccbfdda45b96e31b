"""Unit and property tests: execution contexts, the journal, the Rand stream, guest replies."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.allocator import Resources
from stele.actors.executor import ExecLimits, ExecutionContext
from stele.actors.sandbox import (
    BadEffectRequest, DeterministicRandom, EffectDenied, EffectSession, Journal, KVStore, Policy,
    value_from_cbor, value_to_cbor,
)
from stele.sim import SimEnv
from stele.tel import Some

values = st.recursive(
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.booleans(), st.text(max_size=8),
              st.binary(max_size=8), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4).map(tuple), inner.map(Some)),
    max_leaves=12)


@given(values)
def test_value_cbor_round_trip(v: Any) -> None:
    assert value_from_cbor(value_to_cbor(v)) == v


@given(st.lists(st.tuples(st.sampled_from(["Log", "KV"]), st.text(max_size=4), values),
                max_size=6))
def test_journal_digest_is_a_function_of_entries(entries: list[tuple[str, str, Any]]) -> None:
    a, b = Journal(), Journal()
    for effect, op, v in entries:
        a.append(effect, op, (v,), v)
        b.append(effect, op, (v,), v)
    assert a.digest() == b.digest() and len(a) == len(entries)
    if entries:
        c = Journal()
        for effect, op, v in entries[:-1]:
            c.append(effect, op, (v,), v)
        assert c.digest() != a.digest()


@given(st.binary(min_size=1, max_size=16), st.integers(-1000, 1000), st.integers(0, 1000))
def test_rand_stream_is_seeded_and_in_range(seed: bytes, lo: int, span: int) -> None:
    r1, r2 = DeterministicRandom(seed), DeterministicRandom(seed)
    draws = [r1.int(lo, lo + span) for _ in range(5)]
    assert draws == [r2.int(lo, lo + span) for _ in range(5)]
    assert all(lo <= d <= lo + span for d in draws)
    assert len(r1.bytes(40)) == 40


def test_context_tree_stack_usage_and_cleanup() -> None:
    root = ExecutionContext("e1", "main", "tel")
    child = root.child("e2", "helper", "tel")
    grandchild = child.child("e3", "leaf", "tel")
    assert grandchild.stack == ["main", "helper", "leaf"] and grandchild.depth == 2
    assert root.children == [child]
    grandchild.add_usage(Resources(fuel=5))
    grandchild.add_usage(Resources(fuel=7))
    assert grandchild.usage == Resources(fuel=12)
    grandchild.close()
    grandchild.close()  # idempotent
    assert child.children == []
    child.close()
    with pytest.raises(RuntimeError):
        child.child("e4", "x", "tel")


def _session(policy: Policy) -> EffectSession:
    return EffectSession(SimEnv(seed=1), policy, label="t", tenant="t", seed=b"s", kv=KVStore())


def test_guest_requests_are_checked_and_answered_in_cbor_form() -> None:
    s = _session(Policy.allow("g", "KV", "Log"))
    assert s.handle_sync(["KV", "get", ["k"]]) == []
    assert s.handle_sync(["KV", "put", ["k", b"v"]]) is None
    assert s.handle_sync(["KV", "get", ["k"]]) == [b"v"]
    assert s.handle_sync(["Log", "emit", ["hello"]]) is None and s.logs == ["hello"]
    assert len(s.journal) == 4
    with pytest.raises(EffectDenied):
        s.handle_sync(["Rand", "int", [1, 6]])
    with pytest.raises(BadEffectRequest):
        s.handle_sync({"not": "a request"})
    with pytest.raises(BadEffectRequest):
        s.handle_sync(["KV", "put", ["k", "not bytes"]])


def test_the_synchronous_guest_handler_refuses_waiting_effects() -> None:
    s = _session(Policy.allow("g", "Clock", "Exec"))
    assert isinstance(s.handle_sync(["Clock", "now", []]), int)
    for req in (["Clock", "sleep", [5]], ["Exec", "call", ["f", 1]]):
        with pytest.raises(EffectDenied) as info:
            s.handle_sync(req)
        assert "this effect waits" in info.value.reason


def test_exec_limits_validate() -> None:
    with pytest.raises(ValueError, match="fuel"):
        ExecLimits(fuel=-1)
    with pytest.raises(ValueError, match="timeout"):
        ExecLimits(timeout=0)
