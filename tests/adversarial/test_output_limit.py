"""Effects cannot amplify memory: an output byte limit covers journal and logs (item 3)."""

from __future__ import annotations

from typing import Any

import pytest

from stele.actors.executor import ExecLimits
from stele.actors.sandbox import OutputLimitExceeded, Policy

from ._limits_support import run_sim

SRC = """
def spam(n: Int) -> Int ! {Log} =
  let s = fold(range(0, 16), "x", fn (acc: String, i: Int) => acc ++ acc) in
  fold(range(0, n), 0, fn (acc: Int, i: Int) => perform Log.emit(s); acc + 1)
"""


def test_one_big_line_emitted_many_times_stops_at_the_limit() -> None:
    seen: list[int] = []

    async def scenario(rt: Any) -> None:
        limit = 1 << 20
        with pytest.raises(OutputLimitExceeded) as info:
            await rt.execute("spam", [1000], policy=Policy.allow("p", "Log"), memo=False,
                             limits=ExecLimits(max_output_bytes=limit, fuel=10**8))
        assert info.value.limit == limit and info.value.needed > limit
        r = await rt.execute("spam", [3], policy=Policy.allow("p", "Log"), memo=False,
                             limits=ExecLimits(max_output_bytes=limit, fuel=10**8))
        assert r.value == 3 and 3 * 65536 < r.usage.output <= limit
        seen.append(r.usage.output)

    run_sim(SRC, scenario)
    assert seen


def test_max_output_bytes_is_validated() -> None:
    with pytest.raises(ValueError, match="max_output_bytes"):
        ExecLimits(max_output_bytes=-1)
