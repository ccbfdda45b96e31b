"""In-process properties of the daemon's parts: wire conversions, addresses, jobs and TxKV."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.executor import ExecLimits
from stele.actors.sandbox import EffectDenied, KVStore
from stele.daemon import AddressError, Busy, RemoteFailure, parse_address
from stele.daemon._jobs import JobStore, TxKV
from stele.daemon._messages import Raised
from stele.daemon._wire import exception_of, limits_from_wire, limits_to_wire, raised_of
from stele.protocol import decode_message, encode_message
from stele.store import UnknownTarget


@given(st.integers(0, 2**62), st.integers(0, 2**40), st.integers(0, 10_000),
       st.integers(0, 2**40), st.one_of(st.none(), st.integers(1, 10**6)))
def test_limits_round_trip(fuel: int, memory: int, depth: int, cycles: int,
                           timeout_ms: int | None) -> None:
    limits = ExecLimits(fuel=fuel, memory=memory, depth=depth, cycles=cycles,
                        timeout=None if timeout_ms is None else timeout_ms / 1000)
    back = limits_from_wire(limits_to_wire(limits))
    assert (back.fuel, back.memory, back.depth, back.cycles) == (fuel, memory, depth, cycles)
    assert (back.timeout is None) == (timeout_ms is None)
    if timeout_ms is not None:
        assert back.timeout == pytest.approx(timeout_ms / 1000, rel=1e-9)


def _through_the_wire(exc: BaseException) -> BaseException:
    raised = decode_message(encode_message(raised_of(exc)), Raised)
    return exception_of(raised)


@given(st.text(max_size=40), st.floats(0, 1e6, allow_nan=False))
def test_typed_errors_cross_as_the_same_class(target: str, retry: float) -> None:
    for exc in (UnknownTarget(target), EffectDenied("KV", "put", "p", target), Busy(target, retry)):
        back = _through_the_wire(exc)
        assert type(back) is type(exc) and str(back) == str(exc)
    busy = _through_the_wire(Busy(target, retry))
    assert isinstance(busy, Busy) and busy.retry_after == retry and busy.what == target
    assert _through_the_wire(UnknownTarget(target)).target == target  # type: ignore[attr-defined]


def test_foreign_error_types_are_never_constructed() -> None:
    for kind in ("builtins:SystemExit", "os:system", "stele.daemon._server:Daemon",
                 "stele.nope:X", "stele.protocol:Digest"):
        got = exception_of(Raised(kind, "boom", {"args": [1]}))
        assert type(got) is RemoteFailure and kind in str(got)


@given(st.text(min_size=1, max_size=60).filter(lambda s: "\x00" not in s))
def test_unix_addresses_round_trip(path: str) -> None:
    try:
        addr = parse_address(f"unix:{path}")
    except AddressError:
        assert len(path.encode()) > 107
        return
    assert str(addr) == f"unix:{path}" and parse_address(str(addr)) == addr


@pytest.mark.parametrize("text", ["", "unix:", "tcp:", "tcp:host", "tcp::1", "tcp:h:99999",
                                  "tcp:h:x", "udp:h:1", "h:1"])
def test_bad_addresses_are_named(text: str) -> None:
    with pytest.raises(AddressError, match="address"):
        parse_address(text)


def test_tcp_addresses() -> None:
    assert str(parse_address("tcp:127.0.0.1:0")) == "tcp:127.0.0.1:0"
    a = parse_address("tcp:[::1]:7420")
    assert (a.host, a.port, str(a)) == ("::1", 7420, "tcp:[::1]:7420")


def test_job_kv_commits_with_completion_and_conflicts_rerun(tmp_path: Path) -> None:
    path = str(tmp_path / "store.sqlite")
    jobs, base = JobStore(path), KVStore(path)
    try:
        a, _ = jobs.submit("t", "a", b"req-a")
        b, _ = jobs.submit("t", "b", b"req-b")
        assert jobs.submit("t", "a", b"other") == (a, False)  # idempotency key
        ja, jb = jobs.start(jobs.get(a)), jobs.start(jobs.get(b))  # type: ignore[arg-type]
        assert ja is not None and jb is not None and ja.attempts == 1
        # both read the counter (absent) and write 1: serially only one may commit
        ka, kb = TxKV(base), TxKV(base)
        for kv in (ka, kb):
            assert kv.get("t", "n") is None
            kv.put("t", "n", b"\x01")
            assert kv.get("t", "n") == b"\x01"  # reads see the job's own writes
        assert base.get("t", "n") is None  # nothing is written before completion
        assert jobs.complete(ja, "succeeded", b"r", None, ka) is True
        assert base.get("t", "n") == b"\x01"
        assert jobs.complete(jb, "succeeded", b"r", None, kb) is False  # read went stale
        assert jobs.get(b).state == "running"  # type: ignore[union-attr]
        again = TxKV(base)
        again.put("t", "n", (again.get("t", "n") or b"\x00")[:0] + b"\x02")
        assert jobs.complete(jb, "succeeded", b"r", None, again) is True
        assert base.get("t", "n") == b"\x02"
        # a terminal job is never completed again, and its writes are not applied
        late = TxKV(base)
        late.put("t", "n", b"\x09")
        assert jobs.complete(ja, "succeeded", b"r", None, late) is None
        assert base.get("t", "n") == b"\x02"
        # a failed job's writes are discarded; cancel only acts on live jobs
        c, _ = jobs.submit("t", None, b"req-c")
        jc = jobs.start(jobs.get(c))  # type: ignore[arg-type]
        assert jc is not None
        bad = TxKV(base)
        bad.put("t", "n", b"\x07")
        assert jobs.complete(jc, "failed", None, b"e", bad) is True
        assert base.get("t", "n") == b"\x02"
        assert not jobs.cancel(jobs.get(c))  # type: ignore[arg-type]
        assert [j.seq for j in jobs.live()] == []
        assert jobs.counts() == {"t": {"succeeded": 2, "failed": 1}}
    finally:
        jobs.close()
        base.close()


def test_damaged_job_row_is_a_typed_error(tmp_path: Path) -> None:
    import sqlite3

    from stele.store._errors import StoreError

    path = str(tmp_path / "store.sqlite")
    jobs = JobStore(path)
    try:
        seq, _ = jobs.submit("t", None, b"req")
        db = sqlite3.connect(path)
        db.execute("UPDATE daemon_jobs SET tenant = 'mallory' WHERE seq = ?", (seq,))
        db.commit()
        db.close()
        with pytest.raises(StoreError):
            jobs.get(seq)
    finally:
        jobs.close()


def test_a_receipt_crosses_the_wire_intact_and_bad_bytes_are_refused_typed() -> None:
    from dataclasses import replace

    from stele.actors.allocator import Resources
    from stele.actors.executor import ExecResult
    from stele.actors.receipts import MalformedReceipt, prove_receipt
    from stele.daemon._messages import ExecOutcome
    from stele.daemon._wire import outcome_of, result_of
    from stele.protocol import Digest

    from zkvm._programs import counter

    elf = counter(30)
    receipt = prove_receipt(elf, b"in")
    r = ExecResult("count", Digest.of(elf), "riscv", receipt.exit_code, Resources(cycles=30), 0,
                   {}, Digest.of(b""), 0, exit_code=receipt.exit_code, receipt=receipt)
    wire = decode_message(encode_message(outcome_of(r)), ExecOutcome)
    assert wire.receipt == receipt.encode() and result_of(wire).receipt == receipt
    assert result_of(replace(wire, receipt=None)).receipt is None
    with pytest.raises(MalformedReceipt):  # a daemon cannot hand over a broken receipt
        result_of(replace(wire, receipt=bytes(wire.receipt or b"")[:-5]))


def test_stele_serve_freezes_its_startup_heap() -> None:
    """The daemon owns its process: once listening, start-up objects leave the GC's scans."""
    import gc

    from stele.daemon._cli import _freeze_startup_heap

    assert gc.get_freeze_count() == 0
    try:
        _freeze_startup_heap(None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
