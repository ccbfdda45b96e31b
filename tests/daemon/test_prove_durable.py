"""``stele run --connect ADDR --prove`` and ``--durable ID`` through a real daemon in-process,
and the daemon protocol's version check."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import trio

import stele
from stele.actors.receipts import decode_receipt, verify_receipt
from stele.daemon import DAEMON_PROTOCOL, ProtocolVersionError
from stele.daemon._messages import Hello, Raised
from stele.protocol import FrameDecoder, Reply, Request, decode_message, encode_frame, encode_message

from zkvm._programs import counter

from ._harness import add_tenant
from ._inproc import cli, in_process

BUMP = """
def bump(k: Int) -> Int ! {KV, Log} =
  perform Log.emit("bump " ++ int_to_string(k));
  let n = match perform KV.get("count") {
    Some(b) => get_or_else(bytes_to_int(b), 0),
    None => 0
  } in
  perform KV.put("count", int_to_bytes(n + k));
  n + k

def count(u: Int) -> Int ! {KV} =
  match perform KV.get("count") {
    Some(b) => get_or_else(bytes_to_int(b), 0),
    None => 0
  }
"""
ALLOW = ("--allow", "KV", "--allow", "Log")


def _json(out: str) -> dict[str, object]:
    record: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return record


async def test_run_connect_prove_returns_a_receipt_that_verifies_offline(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = add_tenant(tmp_path, "alice")
    elf, other = tmp_path / "c.elf", tmp_path / "o.elf"
    elf.write_bytes(counter(30))
    other.write_bytes(counter(60))
    (tmp_path / "in").write_bytes(b"in")
    receipt = tmp_path / "c.receipt"
    async with in_process(tmp_path) as d:
        conn = ("--connect", d.address, "--token", token)
        assert await cli("store", "--blob", str(elf), "--name", "count", *conn) == 0
        capsys.readouterr()
        code = await cli("run", "count", "in", "--prove", "--receipt", str(receipt), "--json", *conn)
        out = capsys.readouterr()
        record = _json(out.out)  # a guest's exit code is the command's
        assert record["ok"] and code == record["exit_code"], out.err
        got = decode_receipt(receipt.read_bytes())
        assert record["receipt"] == str(got.digest())
        # the same receipt object through the client API, and it is the one the daemon stored
        async with stele.connect(d.address, token=token) as rt:
            r = await rt.execute("count", b"in", engine="riscv", prove=True)
            plain = await rt.execute("count", b"in", engine="riscv")
            digest, kind = await rt.resolve_kind("count")
            assert kind == "riscv.elf" and digest == await rt.resolve("count") == r.digest
        assert r.receipt == got and plain.receipt is None
        verify_receipt(receipt.read_bytes(), elf=elf.read_bytes(), input_bytes=b"in",
                       exit_code=r.exit_code)
        # a TEL target cannot be proven: a usage error, not a traceback
        src = tmp_path / "b.tel"
        src.write_text(BUMP)
        assert await cli("store", str(src), *conn) == 0
        capsys.readouterr()
        assert await cli("run", "count", "0", "--prove", *conn) == 2
        assert "only RISC-V guests" in capsys.readouterr().err
    # verification needs only the receipt and the ELF: no daemon, no store
    capsys.readouterr()
    assert await cli("receipt", "verify", str(receipt), "--elf", str(elf), "--input",
                     str(tmp_path / "in"), "--exit-code", str(r.exit_code)) == 0
    assert capsys.readouterr().out.startswith("verified: ")
    assert await cli("receipt", "verify", str(receipt), "--elf", str(other)) == 7
    assert "receipt rejected: code" in capsys.readouterr().err


async def test_run_connect_durable_replays_instead_of_performing_again(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alice, bob = add_tenant(tmp_path, "alice"), add_tenant(tmp_path, "bob")
    src = tmp_path / "b.tel"
    src.write_text(BUMP)
    async with in_process(tmp_path) as d:
        a = ("--connect", d.address, "--token", alice)
        b = ("--connect", d.address, "--token", bob)
        assert await cli("store", str(src), *a) == 0
        assert await cli("store", str(src), *b) == 0

        async def run(*argv: str) -> dict[str, object]:
            capsys.readouterr()
            code = await cli("run", *argv, "--json")
            out = capsys.readouterr()
            assert code == 0, out.err
            return _json(out.out)

        first = await run("bump", "1", *ALLOW, "--durable", "d1", *a)
        again = await run("bump", "1", *ALLOW, "--durable", "d1", *a)
        assert first["value"] == again["value"] == 1
        for key in ("cost", "journal_digest", "effects", "logs"):
            assert again[key] == first[key], key
        # the KV write was performed once: the second run answered the stored result
        assert (await run("count", "0", "--allow", "KV", *a))["value"] == 1
        # ... where an ordinary run performs it again
        assert (await run("bump", "1", *ALLOW, *a))["value"] == 2
        # another tenant's id "d1" is its own execution (different args: no mismatch)
        assert (await run("bump", "5", *ALLOW, "--durable", "d1", *b))["value"] == 5
        # the same id with other arguments cannot be replayed: a typed one-line error
        capsys.readouterr()
        assert await cli("run", "bump", "3", *ALLOW, "--durable", "d1", *a) != 0
        err = capsys.readouterr().err
        assert "cannot be replayed" in err and "args" in err and "Traceback" not in err
        assert "'d1'" in err and "tenant." not in err  # the tenant's own id, not the store's
        # the client API: the same semantics, and an id is bounded
        async with stele.connect(d.address, token=alice) as rt:
            from stele.actors.sandbox import Policy
            kv = Policy.allow("cli", "KV", "Log")  # the CLI's policy: the same execution
            r = await rt.execute("bump", [1], policy=kv, durable="d1")
            assert r.value == 1 and r.journal_digest == stele.protocol.Digest.parse(
                str(first["journal_digest"]))
            from stele.daemon import BadRequest
            with pytest.raises(BadRequest, match="1 to 256"):
                await rt.execute("bump", [1], policy=kv, durable="x" * 257)


async def _raw(address: str, data: bytes) -> list[object]:
    stream = await trio.open_unix_socket(address[5:])
    received = bytearray()
    with trio.fail_after(300):
        async with stream:
            await stream.send_all(data)
            while chunk := await stream.receive_some(65536):
                received += chunk
    frames = FrameDecoder()
    frames.feed(bytes(received))
    out: list[object] = []
    while (payload := frames.next_frame()) is not None:
        out.append(decode_message(payload))
    return out


async def test_another_protocol_version_is_refused_typed_and_closed(tmp_path: Path) -> None:
    token = add_tenant(tmp_path, "alice")
    async with in_process(tmp_path) as d:
        hello = Hello(token, "old", DAEMON_PROTOCOL - 1)
        out = await _raw(d.address, encode_frame(encode_message(Request(1, hello))))
        assert len(out) == 1 and isinstance(out[0], Reply) and isinstance(out[0].body, Raised)
        from stele.daemon._wire import exception_of
        exc = exception_of(out[0].body)
        assert isinstance(exc, ProtocolVersionError)
        assert (exc.client, exc.server) == (DAEMON_PROTOCOL - 1, DAEMON_PROTOCOL)
        # the right version is served on the same daemon
        async with stele.connect(d.address, token=token) as rt:
            assert rt.tenant == "alice"


DURABLE_JOB = BUMP.replace("def count", "def fib(n: Int) -> Int = if n < 2 then n else "
                           "fib(n - 1) + fib(n - 2)\n\ndef count") + """
def job(n: Int) -> Int ! {KV, Log} =
  let a = bump(1) in
  let spin = fib(n) in
  let b = bump(1) in
  a * 1000 + b + spin - spin
"""


N_SPIN = 24  # long enough (on the loop) to be killed inside, short enough to redo


async def test_durable_execution_survives_a_daemon_kill9(tmp_path: Path) -> None:
    """kill -9 the daemon after the durable execution's first KV write, restart, ask again
    with the same id: the journaled write is replayed, not performed a second time."""
    from stele.actors.executor import ExecLimits
    from stele.actors.sandbox import Policy
    from stele.daemon import DaemonUnavailable

    from ._harness import Serve

    token = add_tenant(tmp_path, "alice")
    kv = Policy.allow("cli", "KV", "Log")
    heavy = ExecLimits(fuel=10**10)
    serve = await Serve(tmp_path).start()
    killed_at = -1
    try:
        async with stele.connect(serve.address(), token=token) as rt:
            await rt.store(DURABLE_JOB)

            async def durable() -> None:
                try:
                    await rt.execute("job", [N_SPIN], policy=kv, durable="j", limits=heavy)
                except DaemonUnavailable:
                    pass

            async with trio.open_nursery() as nursery:
                nursery.start_soon(durable)
                # A durable TEL run holds the daemon's event loop (docs/durable.md), so
                # watch its journal in the store file itself: kill once the first bump's
                # three effects (Log, KV.get, KV.put) are journaled.
                db = sqlite3.connect(f"file:{tmp_path / 'store.sqlite'}?mode=ro", uri=True)
                try:
                    with trio.fail_after(300):
                        while killed_at < 3:
                            await trio.sleep(0.002)
                            try:
                                killed_at = db.execute(
                                    "SELECT count(*) FROM durable_journal WHERE id = ?",
                                    ("tenant.alice/j",)).fetchone()[0]
                            except sqlite3.OperationalError:  # the table is not made yet
                                continue
                    done = db.execute("SELECT count(*) FROM durable_exec WHERE state = 'done'"
                                      ).fetchone()[0]
                finally:
                    db.close()
                serve.kill9()  # the first bump is journaled and applied; fib is running
    finally:
        serve.stop()
    assert killed_at == 3 and done == 0, (killed_at, done)
    serve = await Serve(tmp_path).start()
    try:
        async with stele.connect(serve.address(), token=token) as rt:
            assert (await rt.execute("count", [0], policy=kv)).value == 1  # nothing redone yet
            r = await rt.execute("job", [N_SPIN], policy=kv, durable="j", limits=heavy)
            assert r.value == 1002  # the replayed first bump saw 0, the live second one 1
            assert (await rt.execute("count", [0], policy=kv)).value == 2  # exactly once each
            again = await rt.execute("job", [N_SPIN], policy=kv, durable="j", limits=heavy)
            assert again.value == 1002 and (await rt.execute("count", [0], policy=kv)).value == 2
    finally:
        serve.stop()
