"""A real ``stele serve``: auth, the embedded API over the wire, typed errors, tenants."""

from __future__ import annotations

import os
import stat

import pytest

import stele
from stele.actors.executor import ExecLimits
from stele.actors.sandbox import EffectDenied, Policy
from stele.daemon import AuthError, JobNotFound
from stele.store import UnknownTarget
from stele.tel import CostLimitExceeded

from ._harness import FIB, Serve, add_tenant

COUNTER = """
def bump(k: String) -> Int ! {KV} =
  let n = match perform KV.get(k) {
    Some(b) => get_or_else(bytes_to_int(b), 0),
    None => 0
  } in
  perform KV.put(k, int_to_bytes(n + 1));
  n + 1

def peek(k: String) -> Int ! {KV} =
  match perform KV.get(k) {
    Some(b) => get_or_else(bytes_to_int(b), 0),
    None => 0
  }

def secret(x: Int) -> Int = x + 1000
"""

KV = Policy.allow("kv", "KV")


async def test_execute_over_the_wire_matches_embedded(daemon: Serve, tokens: dict[str, str],
                                                      transport: str) -> None:
    async with stele.connect(daemon.address(transport), token=tokens["alice"]) as rt:
        assert rt.tenant == "alice"
        names = await rt.store(FIB)
        assert set(names) == {"fib"}
        r = await rt.execute("fib", [20], limits=ExecLimits(fuel=10**6), memo=False)
        assert await rt.resolve("fib") == names["fib"] == r.digest
        assert await rt.resolve(str(names["fib"])[:12]) == names["fib"]
        stats = await rt.stats()
        assert stats.executor.started >= 1
    async with stele.open_runtime(None) as local:
        await local.store(FIB)
        e = await local.execute("fib", [20], limits=ExecLimits(fuel=10**6), memo=False)
    assert (r.value, r.cost, r.digest, r.breakdown, r.journal_digest) == (
        e.value, e.cost, e.digest, e.breakdown, e.journal_digest)


async def test_remote_errors_are_the_same_classes(daemon: Serve, tokens: dict[str, str]) -> None:
    async with stele.connect(daemon.address(), token=tokens["alice"]) as rt:
        await rt.store(FIB + COUNTER)
        with pytest.raises(UnknownTarget) as unknown:
            await rt.execute("nope", [1])
        assert unknown.value.target == "nope"
        with pytest.raises(CostLimitExceeded):
            await rt.execute("fib", [25], limits=ExecLimits(fuel=1000))
        with pytest.raises(EffectDenied) as denied:
            await rt.execute("bump", ["k"])  # KV not granted
        assert denied.value.effect == "KV"
        with pytest.raises(JobNotFound):
            await rt.status("job-999999")
        # the connection is still good after every error
        assert (await rt.execute("fib", [10])).value == 55


@pytest.mark.parametrize("token", ["", "stl_" + "0" * 64, "nonsense"])
async def test_wrong_or_missing_token_is_refused(daemon: Serve, tokens: dict[str, str],
                                                 transport: str, token: str) -> None:
    with pytest.raises(AuthError):
        async with stele.connect(daemon.address(transport), token=token):
            pass  # pragma: no cover
    # the daemon still serves the right token
    async with stele.connect(daemon.address(transport), token=tokens["bob"]) as rt:
        assert rt.tenant == "bob"


async def test_unix_socket_is_0600(daemon: Serve) -> None:
    path = daemon.address("unix")[5:]
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, oct(mode)


async def test_tenants_are_isolated(daemon: Serve, tokens: dict[str, str],
                                    transport: str) -> None:
    addr = daemon.address(transport)
    # two fresh tenants (added while the daemon runs: tokens are checked at each Hello)
    a, b = f"ia_{transport}", f"ib_{transport}"
    ta, tb = add_tenant(daemon.root, a), add_tenant(daemon.root, b)
    async with stele.connect(addr, token=ta) as alice, stele.connect(addr, token=tb) as bob:
        a_names = await alice.store(COUNTER)
        # bob sees none of alice's names, digests or prefixes
        for target in ("secret", "bump", str(a_names["secret"]), str(a_names["secret"])[:10]):
            with pytest.raises(UnknownTarget):
                await bob.resolve(target)
            with pytest.raises(UnknownTarget):
                await bob.execute(target, [1])
        # the same name means each tenant's own definition
        await bob.store("def secret(x: Int) -> Int = x + 2000\n")
        assert (await alice.execute("secret", [1])).value == 1001
        assert (await bob.execute("secret", [1])).value == 2001
        # KV namespaces: the same key, two counters
        assert (await alice.execute("bump", ["k"], policy=KV)).value == 1
        assert (await alice.execute("bump", ["k"], policy=KV)).value == 2
        await bob.store(COUNTER.replace("x + 1000", "x + 2000"))
        assert (await bob.execute("peek", ["k"], policy=KV)).value == 0
        # jobs: bob cannot see, wait for or cancel alice's
        job = await alice.submit("bump", ["j"], policy=KV)
        for call in (bob.status, bob.wait, bob.cancel):
            with pytest.raises(JobNotFound):
                await call(job)
        assert (await alice.wait(job)).value == 1
        # Exec.call names resolve in the caller's own namespace only
        await bob.store('effect Exec { call(target: String, arg: Int) -> Int }\n'
                        'def call(t: String, x: Int) -> Int ! {Exec} = perform Exec.call(t, x)\n')
        exec_ok = Policy.allow("exec", "Exec")
        assert (await bob.execute("call", ["secret", 1], policy=exec_ok)).value == 2001
        for target in (f"tenant.{a}.secret", str(a_names["secret"])):
            with pytest.raises(UnknownTarget):
                await bob.execute("call", [target, 1], policy=exec_ok)
        # status: a tenant sees only its own usage; an admin sees all
        assert set((await bob.server_status()).tenants) == {b}
    async with stele.connect(addr, token=tokens["admin"]) as admin:
        assert {a, b} <= set((await admin.server_status()).tenants)
