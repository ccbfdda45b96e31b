"""The runtime's garbage-collector policy: full collections at idle moments (stele._collector)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

import stele
from stele import _collector
from stele._collector import DEFERRAL, SPACING, IdleCollector
from stele.sim import SimEnv


class _Clock:
    """A nanosecond clock for the spacing rule that moves 1 us each time it is read."""

    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        self.ns += 1000
        return self.ns


class _Node:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def _thresholds() -> Iterator[tuple[int, int, int]]:
    saved = gc.get_threshold()
    yield saved
    gc.set_threshold(*saved)
    assert not _collector._installed, "a test left a policy installed"


def _young_collections(n: int) -> None:
    """Push generation 2's counter (young collections since the last full one) up by ``n``."""
    for _ in range(n):
        gc.collect(1)


def test_install_defers_full_collections_and_uninstall_restores() -> None:
    t0, t1, t2 = gc.get_threshold()
    policy = IdleCollector(_Clock())
    policy.install()
    assert gc.get_threshold() == (t0, t1, t2 * DEFERRAL)
    policy.uninstall()
    assert gc.get_threshold() == (t0, t1, t2)
    policy.uninstall()  # twice is harmless
    assert gc.get_threshold() == (t0, t1, t2)


def test_nested_policies_share_one_and_the_last_restores() -> None:
    saved = gc.get_threshold()
    a, b = IdleCollector(_Clock()), IdleCollector(_Clock())
    a.install()
    deferred = gc.get_threshold()
    b.install()
    assert gc.get_threshold() == deferred  # not deferred twice
    a.uninstall()
    assert gc.get_threshold() == deferred  # b still open
    b.uninstall()
    assert gc.get_threshold() == saved


def test_thresholds_changed_by_someone_else_are_left_as_they_are() -> None:
    policy = IdleCollector(_Clock())
    policy.install()
    gc.set_threshold(1234, 5, 6)
    policy.uninstall()
    assert gc.get_threshold() == (1234, 5, 6)


def test_due_needs_young_collections_and_spacing() -> None:
    clock = _Clock()
    policy = IdleCollector(clock)
    policy.install()
    try:
        gc.collect()
        assert not policy.due()  # no young collection since the last full one
        _young_collections(gc.get_threshold()[2] // DEFERRAL)
        assert policy.due()
        policy.idle()
        assert policy.collections == 1
        assert policy._last_cost == 1000  # one clock step between its two reads
        _young_collections(gc.get_threshold()[2] // DEFERRAL)
        assert not policy.due()  # the next idle collection waits SPACING x that cost
        clock.ns += SPACING * 1000
        assert policy.due()
    finally:
        policy.uninstall()


def test_a_paused_collector_is_respected() -> None:
    policy = IdleCollector(_Clock())
    policy.install()
    try:
        _young_collections(gc.get_threshold()[2])
        gc.disable()
        try:
            assert not policy.due()
        finally:
            gc.enable()
        assert policy.due()
    finally:
        policy.uninstall()


def test_idle_frees_garbage_cycles() -> None:
    policy = IdleCollector(_Clock())
    policy.install()
    try:
        node = _Node()
        gone = weakref.ref(node)
        del node
        gc.collect(0)  # promote the cycle out of the youngest generation
        _young_collections(gc.get_threshold()[2] // DEFERRAL)
        policy.idle()
        assert gone() is None
        assert policy.collections == 1
    finally:
        policy.uninstall()


async def test_open_runtime_installs_the_policy_and_collects_when_idle() -> None:
    saved = gc.get_threshold()
    async with stele.open_runtime(None) as rt:
        assert gc.get_threshold() == (saved[0], saved[1], saved[2] * DEFERRAL)
        await rt.store("def f(n: Int) -> Int = n + 1\n")
        policy = _collector._installed[-1]
        before = policy.collections
        node = _Node()
        gone = weakref.ref(node)
        del node
        _young_collections(saved[2])
        policy._last_cost = 0
        assert (await rt.execute("f", [1], memo=False)).value == 2
        for _ in range(20):  # the collection runs in its own task, after the reply
            if policy.collections > before:
                break
            await _checkpoint()
        assert policy.collections == before + 1
        assert gone() is None
    assert gc.get_threshold() == saved


async def _checkpoint() -> None:
    import anyio

    await anyio.sleep(0)


async def test_gc_python_leaves_the_collector_alone() -> None:
    saved = gc.get_threshold()
    async with stele.open_runtime(None, gc="python"):
        assert gc.get_threshold() == saved
        assert not _collector._installed


async def test_the_simulator_leaves_the_collector_alone() -> None:
    saved = gc.get_threshold()
    env: Any = SimEnv(seed=1)
    async with stele.open_runtime(None, env=env):
        assert gc.get_threshold() == saved
        assert not _collector._installed


async def test_an_unknown_policy_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"gc='never'.*'idle', 'python'"):
        async with stele.open_runtime(None, gc="never"):
            pass
