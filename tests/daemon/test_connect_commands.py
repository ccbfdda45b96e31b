"""Every store command with ``--connect``: the same output lines as on a local store, one
tenant's names and objects invisible to another, typed errors with the local exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ._harness import add_tenant
from ._inproc import cli, in_process

SOURCE = """def sq(n: Int) -> Int = n * n

def sumsq(n: Int) -> Int = if n <= 0 then 0 else sq(n) + sumsq(n - 1)

def is_even(n: Int) -> Bool = if n == 0 then true else is_odd(n - 1)

def is_odd(n: Int) -> Bool = if n == 0 then false else is_even(sq(1) * (n - 1))
"""
SQ2 = "def sq(n: Int) -> Int = n * n * 1\n"
#: bob stores alice's sq too (one shared object) and builds on it under his own names
BOB = "def sq(n: Int) -> Int = n * n\n\ndef bobs_secret(n: Int) -> Int = sq(n) + 7\n"


async def _both(capsys: pytest.CaptureFixture[str], local: list[str], remote: list[str],
                *argv: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """``stele ARGV`` on the local store and on the daemon: (code, stdout, stderr) each."""
    capsys.readouterr()
    lc = await cli(*argv, *local)
    lo = capsys.readouterr()
    rc = await cli(*argv, *remote)
    ro = capsys.readouterr()
    return (lc, lo.out, lo.err), (rc, ro.out, ro.err)


def _history(out: str) -> list[str]:
    """History lines without their time and author (which differ between the two stores)."""
    return [line.split("  ", 2)[2] for line in out.splitlines()]


def _setup(tmp_path: Path) -> tuple[Path, str, Path, list[str]]:
    """A daemon root with tenant alice (her token), SOURCE in a file, and a local store's flag."""
    root = tmp_path / "d"
    alice = add_tenant(root, "alice")
    src = tmp_path / "m.tel"
    src.write_text(SOURCE)
    return root, alice, src, ["--store", str(tmp_path / "local" / "store.sqlite")]


async def test_store_commands_print_the_same_lines_locally_and_on_a_daemon(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, alice, src, local = _setup(tmp_path)
    v2 = tmp_path / "v2.tel"
    v2.write_text(SQ2)
    async with in_process(root) as d:
        remote = ["--connect", d.address, "--token", alice]
        for argv in ((str(src),), (str(v2),), (str(v2), "--namespace", "lib")):
            lo, re_ = await _both(capsys, local, remote, "store", *argv)
            assert lo == re_ and lo[0] == 0, (lo, re_)
        same = [
            ("show", "sq"), ("show", "sumsq", "--closure"), ("show", "is_odd", "--closure"),
            ("show", "is_even", "--json", "--closure"), ("names",), ("names", "lib"),
            ("show", "lib.sq"),
            ("dependents", "sumsq"), ("dependents", "is_even", "--all"),
            ("dependents", "sumsq", "--all", "--json"),
            ("diff", "sq@1", "sq@2"), ("diff", "sq@2", "sq"), ("diff", "sumsq", "is_odd"),
            ("eval", "sumsq(4) + 1"), ("eval", "is_even(6)", "--json"),
        ]
        for argv in same:
            lo, re_ = await _both(capsys, local, remote, *argv)
            assert lo == re_ and lo[0] == 0, (argv, lo, re_)
        lo, re_ = await _both(capsys, local, remote, "history", "sq")
        assert lo[0] == re_[0] == 0 and _history(lo[1]) == _history(re_[1]) and lo[1]
        # compile: the same ELF, the same line (but for the path)
        lo, re_ = await _both(capsys, ["-o", str(tmp_path / "l.elf"), *local],
                              ["-o", str(tmp_path / "r.elf"), *remote], "compile", "sumsq")
        assert lo[0] == re_[0] == 0, (lo, re_)
        assert lo[1].replace("l.elf", "r.elf") == re_[1]
        assert (tmp_path / "l.elf").read_bytes() == (tmp_path / "r.elf").read_bytes()
        # profile: the same value and cost (wall time and file names differ)
        lo, re_ = await _both(capsys, ["-o", str(tmp_path / "lp"), *local],
                              ["-o", str(tmp_path / "rp"), *remote], "profile", "sumsq", "5")
        assert lo[0] == re_[0] == 0, (lo, re_)
        assert lo[1].split(" wall_ms")[0] == re_[1].split(" wall_ms")[0]
        # debug: record and replay here, from the daemon's code
        script = tmp_path / "dbg.txt"
        script.write_text("step\nstep\nrstep\n")
        lo, re_ = await _both(capsys, local, remote, "debug", "sumsq", "2",
                              "--commands", str(script))
        assert lo == re_ and lo[0] == 0, (lo, re_)
        # resume: a durable execution of the daemon's, finished by the daemon
        for where in (local, remote):
            assert await cli("run", "sumsq", "3", "--durable", "r1", *where) == 0
        lo, re_ = await _both(capsys, local, remote, "resume", "r1")
        assert lo == re_ and lo[0] == 0, (lo, re_)
        # rename and delete, then the names agree again
        for argv in (("rename", "sq", "square"), ("rename", "sumsq", "square"),
                     ("rename", "sumsq", "square", "--force"), ("delete", "is_odd"),
                     ("names",)):
            lo, re_ = await _both(capsys, local, remote, *argv)
            assert lo == re_, (argv, lo, re_)
        assert "square ->" in lo[1] and "is_odd" not in lo[1] and "sumsq" not in lo[1]
        lo, re_ = await _both(capsys, local, remote, "history", "sumsq")
        assert _history(lo[1]) == _history(re_[1]) and _history(re_[1])[-1].endswith("(none)")


async def test_unknown_names_and_bad_digests_exit_as_locally(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, alice, src, local = _setup(tmp_path)
    async with in_process(root) as d:
        remote = ["--connect", d.address, "--token", alice]
        for where in (local, remote):
            assert await cli("store", str(src), *where) == 0
        bad = [("show", "nope"), ("show", "b2:zz"), ("show", "b2:" + "0" * 64),
               ("dependents", "nope"), ("history", "nope"), ("diff", "sq@9", "sq"),
               ("diff", "sq@x", "sq"), ("diff", "nope@1", "sq"), ("rename", "nope", "x"),
               ("rename", "sq", "sq"), ("rename", "sq", "sumsq"), ("rename", "sq", "a b"),
               ("rename", "sq", "a..b"), ("delete", "nope"),
               ("eval", "nope(1)"), ("compile", "nope", "-o", str(tmp_path / "x.elf")),
               ("resume", "no-such-run")]
        for argv in bad:
            lo, re_ = await _both(capsys, local, remote, *argv)
            assert lo[0] == re_[0] and lo[0] in (2, 5), (argv, lo, re_)
            assert re_[1] == "" and re_[2].count("\n") == 1, (argv, re_)
            assert "Traceback" not in re_[2]
            if argv[0] not in ("eval", "compile", "resume"):  # those name the store file
                assert lo[2] == re_[2], (argv, lo, re_)
        capsys.readouterr()
        gone = ["--connect", f"unix:{tmp_path}/nothing.sock", "--token", alice]
        for argv in (("names",), ("show", "sq"), ("eval", "sq(2)"), ("rename", "a", "b")):
            assert await cli(*argv, *gone) == 1
            err = capsys.readouterr().err
            assert "cannot connect" in err and err.count("\n") == 1, err


async def test_a_tenant_cannot_see_rename_or_delete_another_tenants_names(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "d"
    alice, bob = add_tenant(root, "alice"), add_tenant(root, "bob")
    src, other = tmp_path / "m.tel", tmp_path / "b.tel"
    src.write_text(SOURCE)
    other.write_text(BOB)
    async with in_process(root) as d:
        a = ["--connect", d.address, "--token", alice]
        b = ["--connect", d.address, "--token", bob]
        assert await cli("store", str(src), *a) == 0
        capsys.readouterr()
        assert await cli("names", *b) == 0
        assert capsys.readouterr().out == ""
        assert await cli("show", "sumsq", "--json", *a) == 0
        digest = json.loads(capsys.readouterr().out)["digest"]
        for argv in (("show", "sumsq"), ("show", digest), ("show", digest[:12]),
                     ("history", "sumsq"), ("dependents", digest), ("rename", "sumsq", "x"),
                     ("delete", "sumsq"), ("eval", "sumsq(2)"), ("diff", "sumsq@1", "sumsq"),
                     ("compile", digest, "-o", str(tmp_path / "x.elf"))):
            # eval, as on a store without the name: the type checker names it (exit 2)
            assert await cli(*argv, *b) == (2 if argv[0] == "eval" else 5), argv
            err = capsys.readouterr().err
            assert "tenant" not in err and "alice" not in err, err
        assert await cli("names", *a) == 0
        assert capsys.readouterr().out.count("\n") == 4  # alice's names are all still there
        # durable ids are per tenant: bob cannot finish (or learn of) alice's execution
        assert await cli("run", "sumsq", "2", "--durable", "r9", *a) == 0
        capsys.readouterr()
        assert await cli("resume", "r9", *b) == 5
        err = capsys.readouterr().err
        assert "'r9'" in err and "tenant" not in err and err.count("\n") == 1, err
        assert await cli("resume", "r9", *a) == 0
        assert capsys.readouterr().out.startswith("5\n")
        # bob shares alice's sq object (same code) and builds on it: alice never sees that
        assert await cli("store", str(other), *b) == 0
        capsys.readouterr()
        assert await cli("dependents", "sq", "--all", "--json", *a) == 0
        rows = json.loads(capsys.readouterr().out)["dependents"]
        names = {n for r in rows for n in r["names"]}
        assert "bobs_secret" not in names and {"sumsq", "is_odd"} <= names
        assert await cli("show", "sq", "--closure", *a) == 0
        assert await cli("show", "sumsq", *a) == 0
        shown = capsys.readouterr().out
        assert "bobs_secret" not in shown and "bob" not in shown
        assert await cli("dependents", "sq", "--json", *b) == 0
        rows = json.loads(capsys.readouterr().out)["dependents"]
        assert [r["names"] for r in rows] == [["bobs_secret"]]
        # bob's names as alice sees them: none; her rename does not touch his sq
        assert await cli("rename", "sq", "alices_sq", *a) == 0
        capsys.readouterr()
        assert await cli("names", *b) == 0
        assert re.findall(r"^(\S+) ->", capsys.readouterr().out, re.M) == ["bobs_secret", "sq"]


async def test_local_only_commands_refuse_connect_saying_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = ["--connect", "unix:/nowhere.sock"]
    for argv, why in ((("repl",), "stele eval"), (("tenant", "list"), "--root"),
                      (("debug", "--durable", "x"), "journals stay in the daemon"),
                      (("names", "--store", str(tmp_path / "s.sqlite")), "not both")):
        capsys.readouterr()
        assert await cli(*argv, *conn) == 2, argv
        err = capsys.readouterr().err
        assert why in err and err.count("\n") == 1, err


async def test_guests_by_name_and_receipts_come_from_the_daemon(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from zkvm._programs import counter

    root = tmp_path / "d"
    alice, bob = add_tenant(root, "alice"), add_tenant(root, "bob")
    elf = tmp_path / "c.elf"
    elf.write_bytes(counter(30))
    (tmp_path / "in").write_bytes(b"in")
    local = ["--store", str(tmp_path / "local" / "store.sqlite")]
    async with in_process(root) as d:
        remote = ["--connect", d.address, "--token", alice]
        for where in (local, remote):
            assert await cli("store", "--blob", str(elf), "--name", "count", *where) == 0
        lo, re_ = await _both(capsys, local, remote, "vm", "run", "count", "--input",
                              str(tmp_path / "in"), "--json")
        assert lo == re_, (lo, re_)
        lo, re_ = await _both(capsys, local, remote, "show", "count")
        assert lo == re_ and lo[0] == 0, (lo, re_)
        capsys.readouterr()
        code = await cli("run", "count", "in", "--prove", "--receipt",
                         str(tmp_path / "r1.receipt"), "--json", *remote)
        record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert record["ok"] and code == record["exit_code"]
        digest = str(record["receipt"])
        out = tmp_path / "r2.receipt"
        assert await cli("receipt", "get", digest, "-o", str(out), *remote) == 0
        assert capsys.readouterr().out == f"{digest} -> {out}\n"
        assert out.read_bytes() == (tmp_path / "r1.receipt").read_bytes()
        # another tenant cannot fetch alice's receipt or run her guest by name
        bconn = ["--connect", d.address, "--token", bob]
        assert await cli("receipt", "get", digest, "-o", str(tmp_path / "b"), *bconn) == 5
        assert await cli("vm", "run", "count", *bconn) == 5
        assert not (tmp_path / "b").exists()


async def test_imports_resolve_among_the_tenants_own_names_and_objects(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, alice, src, local = _setup(tmp_path)
    bob = add_tenant(root, "bob")
    async with in_process(root) as d:
        a = ["--connect", d.address, "--token", alice]
        b = ["--connect", d.address, "--token", bob]
        for where in (local, a):
            assert await cli("store", str(src), *where) == 0
        capsys.readouterr()
        assert await cli("show", "sumsq", "--json", *a) == 0
        digest = json.loads(capsys.readouterr().out)["digest"]
        # the tenant's own imports, by name and by digest prefix: as on a local store
        user = tmp_path / "u.tel"
        user.write_text(f"#use s = sumsq\n#use p = {digest[:16]}\n"
                        "def both(n: Int) -> Int = s(n) + p(n)\n")
        lo, re_ = await _both(capsys, local, a, "store", str(user))
        assert lo == re_ and lo[0] == 0, (lo, re_)
        lo, re_ = await _both(capsys, local, a, "show", "both")
        assert lo == re_ and lo[0] == 0, (lo, re_)
        # another tenant's code is not importable, by her digest nor by her namespaced name
        for target in (digest[:16], digest, "tenant.alice.sumsq", "sumsq"):
            thief = tmp_path / "t.tel"
            thief.write_text(f"#use s = {target}\ndef g(n: Int) -> Int = s(n)\n")
            lo, re_ = await _both(capsys, ["--store", str(tmp_path / "empty.sqlite")], b,
                                  "store", str(thief))
            assert re_[0] == lo[0] != 0 and re_[2] == lo[2], (target, lo, re_)
            assert "cannot resolve" in re_[2] and "alice" not in re_[2].replace(target, "")
        capsys.readouterr()
        assert await cli("names", *b) == 0
        assert capsys.readouterr().out == ""


async def test_stele_connect_in_the_environment_and_an_explicit_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root, alice, src, local = _setup(tmp_path)
    assert await cli("store", str(src), *local) == 0
    monkeypatch.setenv("STELE_TOKEN", alice)
    async with in_process(root) as d:
        monkeypatch.setenv("STELE_CONNECT", d.address)
        assert await cli("store", str(src)) == 0  # the daemon's, from the environment
        capsys.readouterr()
        for argv in (("names",), ("run", "sumsq", "3"), ("show", "sq")):
            lo, re_ = await _both(capsys, local, [], *argv)  # the same lines from both
            assert lo == re_ and lo[0] == 0, (argv, lo, re_)
        assert await cli("delete", "sq") == 0  # on the daemon only
        capsys.readouterr()
        assert await cli("names", *local) == 0  # an explicit --store beats $STELE_CONNECT
        assert "sq ->" in capsys.readouterr().out
        assert await cli("names") == 0
        assert "\nsq ->" not in "\n" + capsys.readouterr().out
