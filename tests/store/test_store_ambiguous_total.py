"""An ambiguous prefix with more than ten matches reports the true total
(counted in the store), not just the eleven rows fetched to detect "more"
(issue 19: the branch that counts was never reached)."""

from __future__ import annotations

import re

import pytest

from stele.protocol import AmbiguousPrefix, encode
from stele.store import NewObject, ObjectStore


def _clock() -> int:
    return 1_000


def test_an_ambiguous_prefix_with_many_matches_reports_the_total() -> None:
    s = ObjectStore(None, clock=_clock)
    digests = s.put_many([NewObject("test", encode(["obj", i]), ()) for i in range(400)])
    first = [d.hex[0] for d in digests]
    digit = max(set(first), key=first.count)
    total = first.count(digit)
    assert total > 11                         # 400 objects over 16 digits
    with pytest.raises(AmbiguousPrefix) as info:
        s.resolve(digit)
    assert re.search(rf"matches {total} objects", str(info.value)), str(info.value)
    few = [d for d in digests if d.hex[:2] == digests[0].hex[:2]]
    if 1 < len(few) <= 10:                    # ten or fewer: listed in full, no count query
        with pytest.raises(AmbiguousPrefix, match=rf"matches {len(few)} objects"):
            s.resolve(digests[0].hex[:2])
