"""The sandbox through the executor: deny by default, grants, constraints, guests."""

from __future__ import annotations

from typing import Any

import pytest

from stele.actors.allocator import Resources
from stele.actors.executor import ExecLimits
from stele.actors.sandbox import EffectDenied, Grant, KeyPrefix, Policy
from stele.tel import CostLimitExceeded

from ._support import ROOT, run

KINDS = ["sim", "real"]
EFFECT_CASES = [("use_log", "Log", 3, 3), ("use_clock", "Clock", 250, 250),
                ("use_kv", "KV", 77, 77), ("use_exec", "Exec", 21, 42)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("entry,effect,arg,expected", EFFECT_CASES)
def test_each_effect_denied_by_default_and_works_when_granted(
        kind: str, entry: str, effect: str, arg: int, expected: int) -> None:
    real_clock = kind == "real" and effect == "Clock"
    if real_clock:
        arg = 0  # no real sleeping in tests; the virtual clock case checks the duration

    async def scenario(rt: Any) -> None:
        with pytest.raises(EffectDenied) as info:
            await rt.execute(entry, [arg])
        err = info.value
        assert (err.effect, err.policy) == (effect, "deny-all")
        assert "not granted" in err.reason and effect in str(err)
        r = await rt.execute(entry, [arg], policy=Policy.allow("p", effect))
        if real_clock:
            # Two readings of the real wall clock, in ms: only their order is
            # certain (an upper bound would make the test depend on load).
            assert isinstance(r.value, int) and r.value >= 0
        else:
            assert r.value == expected
        assert r.effects >= 1 and not r.memo_hit

    run(kind, scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_rand_denied_by_default_and_seeded_per_execution(kind: str) -> None:
    async def scenario(rt: Any) -> list[int]:
        with pytest.raises(EffectDenied):
            await rt.execute("use_rand", [6])
        p = Policy.allow("dice", "Rand")
        rolls = [(await rt.execute("use_rand", [1000], policy=p)).value for _ in range(3)]
        assert all(1 <= v <= 1000 for v in rolls)
        assert len(set(rolls)) == 1  # same code, args and tenant: same seed
        other = await rt.execute("use_rand", [1000], policy=p, tenant="other")
        assert 1 <= other.value <= 1000
        return rolls

    assert run(kind, scenario) == run(kind, scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_kv_prefix_constraint_and_tenant_scope(kind: str) -> None:
    async def scenario(rt: Any) -> None:
        inside = Policy.allow("app", Grant("KV", constraints=(KeyPrefix("key", "app/"),)))
        outside = Policy.allow("other", Grant("KV", constraints=(KeyPrefix("key", "other/"),)))
        assert (await rt.execute("use_kv", [5], policy=inside, tenant="t1")).value == 5
        with pytest.raises(EffectDenied) as info:
            await rt.execute("use_kv", [6], policy=outside, tenant="t1")
        assert "not under prefix 'other/'" in info.value.reason
        assert info.value.policy == "other"
        # the denied run wrote nothing: tenant t1 still reads 5 through a read-only program
        src = 'def peek(k: String) -> Int ! {KV} = match perform KV.get(k) { Some(b) => ' \
              'get_or_else(bytes_to_int(b), 0), None => -1 }'
        await rt.store(src)
        assert (await rt.execute("peek", ["app/k"], policy=inside, tenant="t1")).value == 5
        assert (await rt.execute("peek", ["app/k"], policy=inside, tenant="t2")).value == -1

    run(kind, scenario)


def test_kv_is_durable_across_runtimes(tmp_path: Any) -> None:
    path = str(tmp_path / "store")
    policy = Policy.allow("app", "KV")

    async def write(rt: Any) -> None:
        assert (await rt.execute("use_kv", [9], policy=policy)).value == 9

    async def read(rt: Any) -> int:
        await rt.store('def peek(k: String) -> Int ! {KV} = match perform KV.get(k) '
                       '{ Some(b) => get_or_else(bytes_to_int(b), 0), None => -1 }')
        r = await rt.execute("peek", ["app/k"], policy=policy)
        return int(r.value)

    run("real", write, path=path)
    assert run("real", read, path=path) == 9


def test_max_calls_is_enforced() -> None:
    async def scenario(rt: Any) -> None:
        p = Policy(name="one-exec", grants=(Grant("Exec", max_calls=1),))
        with pytest.raises(EffectDenied) as info:
            await rt.execute("nested", [3], policy=p)
        assert "call limit" in info.value.reason

    run("sim", scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_guest_denied_effect_ends_run_cleanly_runtime_stays_healthy(kind: str) -> None:
    elf = (ROOT / "examples" / "effect_guest" / "effects.elf").read_bytes()
    sha = (ROOT / "examples" / "guests" / "bin" / "sha256.elf").read_bytes()

    async def scenario(rt: Any) -> None:
        await rt.store_blob(elf, name="g/effects")
        await rt.store_blob(sha, name="g/sha")
        with pytest.raises(EffectDenied) as info:
            await rt.execute("g/effects", [b"x"], engine="riscv")
        assert info.value.effect == "Log" and info.value.policy == "deny-all"
        with pytest.raises(EffectDenied) as info:
            await rt.execute("g/effects", [b"x"], engine="riscv", policy=Policy.allow("l", "Log"))
        assert info.value.effect == "KV"
        ok = await rt.execute("g/effects", [b"abc"], engine="riscv",
                              policy=Policy.allow("all", "Log", "KV", "Rand"))
        assert ok.exit_code == 0 and ok.logs == ("abc",) and ok.effects == 3
        h = await rt.execute("g/sha", [b"abc"], engine="riscv")
        assert h.stdout.startswith(b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        assert h.usage.cycles > 0

    run(kind, scenario)


def test_guest_cycle_limit() -> None:
    from stele.actors.coprocessor import CycleLimitExceeded
    sha = (ROOT / "examples" / "guests" / "bin" / "sha256.elf").read_bytes()

    async def scenario(rt: Any) -> None:
        await rt.store_blob(sha, name="g/sha")
        with pytest.raises(CycleLimitExceeded):
            await rt.execute("g/sha", [b"abc"], engine="riscv", limits=ExecLimits(cycles=500))

    run("sim", scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_nested_exec_cannot_exceed_parent_remaining_grant(kind: str) -> None:
    async def scenario(rt: Any) -> None:
        p = Policy.allow("exec", "Exec")
        full = await rt.execute("nested", [50], policy=p)
        assert full.value == 100 and full.children == 2
        assert full.breakdown["exec"] > 0 and full.cost > full.breakdown["exec"]
        # any fuel below the total: the run stops, and no level ever spends past its limit
        for fuel in [*range(1, full.cost, max(1, full.cost // 40)), full.cost - 1]:
            with pytest.raises(CostLimitExceeded) as info:
                await rt.execute("nested", [50], policy=p, limits=ExecLimits(fuel=fuel))
            assert info.value.limit <= fuel
        ok = await rt.execute("nested", [50], policy=p, limits=ExecLimits(fuel=full.cost))
        assert ok.value == 100 and ok.cost == full.cost

    run(kind, scenario)


def test_child_grant_is_carved_from_parent() -> None:
    """While a child runs, the allocator holds exactly two grants: parent and child."""
    seen: list[Any] = []

    async def scenario(rt: Any) -> None:
        import anyio

        async def probe() -> None:
            await anyio.sleep(1.0)
            seen.append((await rt.stats()).allocator)

        async with anyio.create_task_group() as tg:
            tg.start_soon(probe)
            await rt.execute("nested_nap", [5000], policy=Policy.allow("p", "Exec", "Clock"),
                             limits=ExecLimits(fuel=10_000))
        status = seen[0]
        assert status.live_grants == 2
        taken = status.capacity - status.available
        assert taken.slots == 1 and taken.fuel == 10_000  # the child sits inside the parent

    run("sim", scenario)
    assert isinstance(seen[0].capacity, Resources)


def test_guest_memo_hit_equals_reexecution() -> None:
    sha = (ROOT / "examples" / "guests" / "bin" / "sha256.elf").read_bytes()

    async def scenario(rt: Any) -> None:
        await rt.store_blob(sha, name="g/sha")
        first = await rt.execute("g/sha", [b"memo"], engine="riscv")
        hit = await rt.execute("g/sha", [b"memo"], engine="riscv")
        fresh = await rt.execute("g/sha", [b"memo"], engine="riscv", memo=False)
        assert hit.memo_hit and not first.memo_hit and not fresh.memo_hit
        for r in (first, hit):
            assert (r.exit_code, r.stdout, r.public_output, r.usage.cycles) == \
                (fresh.exit_code, fresh.stdout, fresh.public_output, fresh.usage.cycles)
        with pytest.raises(Exception) as info:  # fewer cycles than recorded: not served
            await rt.execute("g/sha", [b"memo"], engine="riscv",
                             limits=ExecLimits(cycles=fresh.usage.cycles - 1))
        assert type(info.value).__name__ == "CycleLimitExceeded"

    run("sim", scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_guest_waiting_effects_suspend_and_resume(kind: str) -> None:
    elf = (ROOT / "examples" / "effect_guest" / "nested.elf").read_bytes()

    async def scenario(rt: Any) -> None:
        await rt.store("def square(n: Int) -> Int = n * n")
        await rt.store_blob(elf, name="g/nested")
        with pytest.raises(EffectDenied) as info:
            await rt.execute("g/nested", [b""], engine="riscv", policy=Policy.allow("c", "Clock"))
        assert info.value.effect == "Exec"
        r = await rt.execute("g/nested", [b""], engine="riscv",
                             policy=Policy.allow("both", "Exec", "Clock"))
        assert r.exit_code == 49 and r.children == 1 and r.effects == 2
        assert r.stdout == b"Exec.call: 2 1831\nClock.sleep: 1 f6\n"
        assert r.cost == r.breakdown["exec"] > 0
        from stele.actors.coprocessor import Machine, load_elf
        direct = Machine(load_elf(elf), effect_handler=lambda req: 49 if req[0] == "Exec"
                         else None).run(10**6)  # the same guest, never suspended
        assert (direct.cycles, direct.stdout, direct.exit_code) == \
            (r.usage.cycles, r.stdout, r.exit_code)
        again = await rt.execute("g/nested", [b""], engine="riscv",
                                 policy=Policy.allow("both", "Exec", "Clock"))
        assert (again.usage.cycles, again.journal_digest) == (r.usage.cycles, r.journal_digest)
        with pytest.raises(CostLimitExceeded):  # the child gets the guest's fuel, no more
            await rt.execute("g/nested", [b""], engine="riscv", limits=ExecLimits(fuel=2),
                             policy=Policy.allow("both", "Exec", "Clock"))

    run(kind, scenario)


@pytest.mark.parametrize("entry", ["use_kv", "kv_child"])
def test_storage_limit_counts_kv_writes_including_children(entry: str) -> None:
    from stele.actors.sandbox import StorageLimitExceeded

    async def scenario(rt: Any) -> None:
        p = Policy.allow("kv", "KV", "Exec")
        with pytest.raises(StorageLimitExceeded) as info:  # "app/k" + 8 bytes = 13
            await rt.execute(entry, [1], policy=p, limits=ExecLimits(storage=12))
        assert (info.value.needed, info.value.limit) == (13, 12)
        ok = await rt.execute(entry, [1], policy=p, limits=ExecLimits(storage=13))
        assert ok.value == 1 and ok.usage.storage == 13

    run("sim", scenario)


def test_guest_timeout_stops_a_cpu_bound_guest() -> None:
    """Under RealEnv a CPU-bound guest step is stopped by its timeout (its worker is killed).

    The guest needs ~40M cycles (seconds of work) against a 0.05 s timeout, so
    the outcome does not depend on machine speed within any plausible range.
    """
    from stele.actors.executor import ExecutionTimeout
    sha = (ROOT / "examples" / "guests" / "bin" / "sha256.elf").read_bytes()

    async def scenario(rt: Any) -> None:
        await rt.store_blob(sha, name="g/sha")
        with pytest.raises(ExecutionTimeout):  # ~40M cycles of work; stopped after ~0.05 s
            await rt.execute("g/sha", bytes(500_000), engine="riscv",
                             limits=ExecLimits(timeout=0.05, cycles=10**9, memory=256 << 20))
        ok = await rt.execute("g/sha", b"abc", engine="riscv")
        assert ok.exit_code == 0

    run("real", scenario)
