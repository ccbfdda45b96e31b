"""Tracing a live runtime: ``Runtime.trace()`` (issue 16, item 4)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import stele
from stele.actors.executor import ExecLimits
from stele.actors.sandbox import Policy

from .test_outputs import _slices

SOURCE = """
effect Exec { call(target: String, arg: Int) -> Int }
def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)
def hello(n: Int) -> Int ! {Log} = perform Log.emit("hi"); n
def twice(n: Int) -> Int ! {Exec} = perform Exec.call("fib", n) + perform Exec.call("hello", n)
"""
ALL = Policy.allow("t", "Log", "Exec")
LIMITS = ExecLimits(fuel=1_000_000)


async def _run(rt: Any, target: str, n: int) -> Any:
    return await rt.execute(target, [n], limits=LIMITS, policy=ALL, memo=False)


async def test_trace_records_nested_executions_and_effects_as_nested_slices(
        tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    async with stele.open_runtime(None) as rt:
        await rt.store(SOURCE)
        await _run(rt, "fib", 3)  # before the trace: not recorded
        with rt.trace(str(out)) as trace:
            assert (await _run(rt, "twice", 5)).value == 10
        await _run(rt, "fib", 4)  # after: not recorded
    assert trace.executions == 3  # twice and its two children
    doc = json.loads(out.read_text())
    assert doc == trace.document()
    slices = _slices(doc)  # B/E pairs nest per track, each closes what it opened
    names = [s[0] for s in slices]
    assert names[0] == "exec twice"
    assert names.count("exec fib") == 1 and names.count("exec hello") == 1
    for name, depth, parent in slices:
        if name in ("exec fib", "exec hello"):  # inside the parent's Exec.call effect
            assert slices[parent][0] == "effect Exec.call" and depth == 2
        if name == "effect Log.emit":  # the child's own effect, inside the child
            assert slices[parent][0] == "exec hello"
    assert names.count("alloc.wait") == 3
    ts = [e["ts"] for e in doc["traceEvents"] if "ts" in e]
    assert ts == sorted(ts)


async def test_a_trace_sees_only_its_own_runtime(tmp_path: Path) -> None:
    async with stele.open_runtime(None) as a, stele.open_runtime(None) as b:
        for rt in (a, b):
            await rt.store(SOURCE)
        with a.trace() as ta, b.trace() as tb, b.trace() as tb2:
            await _run(a, "fib", 5)
            await _run(b, "twice", 3)
            await _run(b, "fib", 2)
    assert ta.executions == 1
    assert tb.executions == tb2.executions == 4  # twice, its two children, fib
    assert [s[0] for s in _slices(ta.document())] == ["exec fib", "alloc.wait"]


async def test_concurrent_executions_get_a_track_each_and_failures_close_their_slices(
        tmp_path: Path) -> None:
    async with stele.open_runtime(None) as rt:
        await rt.store(SOURCE)
        with rt.trace() as trace:
            async with anyio.create_task_group() as tg:
                for n in range(6):
                    tg.start_soon(_run, rt, "fib", n + 3)
            with pytest.raises(stele.SteleError):  # an out-of-fuel run is traced too
                await rt.execute("fib", [25], limits=ExecLimits(fuel=100), memo=False)
    doc = trace.document()
    tracks = {e["tid"] for e in doc["traceEvents"] if e["ph"] == "B"}
    assert len(tracks) == 7
    ends = [e for e in doc["traceEvents"] if e["ph"] == "E" and e.get("args", {}).get("outcome")]
    assert len(ends) == 7
    assert sorted(e["args"]["outcome"] for e in ends) == ["failed"] + ["ok"] * 6
    _slices(doc)


async def test_the_file_is_written_when_the_block_fails(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    async with stele.open_runtime(None) as rt:
        await rt.store(SOURCE)
        with pytest.raises(RuntimeError, match="boom"):
            with rt.trace(str(out)):
                await _run(rt, "fib", 3)
                raise RuntimeError("boom")
    assert json.loads(out.read_text())["metadata"]["executions"] == 1


async def test_an_execution_started_before_the_trace_is_left_out_whole() -> None:
    async with stele.open_runtime(None) as rt:
        await rt.store(SOURCE + 'def nap(ms: Int) -> Int ! {Clock} = perform Clock.sleep(ms); ms\n')
        async with anyio.create_task_group() as tg:
            with rt.trace() as probe:
                tg.start_soon(partial(rt.execute, "nap", [600_000],
                                      policy=Policy.allow("t", "Clock"), memo=False))
                while not any(e.get("name") == "effect Clock.sleep"
                              for e in probe.document()["traceEvents"]):
                    await anyio.lowlevel.checkpoint()  # until nap sleeps in its effect
            with rt.trace() as trace:
                await _run(rt, "fib", 3)
                tg.cancel_scope.cancel()  # nap ends (cancelled) while the trace records
            await anyio.lowlevel.checkpoint()
    assert trace.executions == 1  # fib only: nap's end and its effect are not shown alone
    assert [s[0] for s in _slices(trace.document()) if s[0].startswith("exec")] == ["exec fib"]
