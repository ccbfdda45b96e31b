"""RISC-V profiles: exact cycle totals, call stacks from jal/jalr, sampling, ELF symbols."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import stele
from stele._profiler._guest import (Symbols, elf_symbols, profile_exact, profile_sampled,
                                    run_plain)
from stele.actors.coprocessor import CycleLimitExceeded, load_elf

from .conftest import GUESTS

SHA = (GUESTS / "sha256.elf").read_bytes()
SORT = (GUESTS / "sort.elf").read_bytes()


def test_exact_total_is_the_cycles_of_an_unprofiled_run() -> None:
    for image, data in ((SHA, b"hello world" * 20), (SORT, b"300 7")):
        plain = run_plain(image, data, 10**8, engine="jit")
        prof = profile_exact(image, data, 10**8)
        assert prof.total_cycles == plain.cycle == prof.cycles.total() == sum(prof.pcs.values())
        assert prof.exit_code == plain.exit_code and prof.stdout == bytes(plain.stdout)


def test_exact_total_is_what_the_runtime_reports(store: str) -> None:
    async def go() -> Any:
        async with stele.open_runtime(store) as rt:
            return await rt.execute("sort", [b"200 3"], engine="riscv", memo=False)
    r = anyio.run(go, backend="trio")
    prof = profile_exact(SORT, b"200 3", 10**8)
    assert prof.cycles.total() == r.usage.cycles == r.breakdown["cycles"]


def test_call_stacks_follow_jal_and_ret() -> None:
    prof = profile_exact(SHA, b"abc" * 100, 10**8)
    stacks = [s for s in prof.cycles.weights if s[-1] == "block"]
    assert stacks and all("main" in s for s in stacks)  # block is only called from main
    rows = {r.name: r for r in prof.cycles.functions()}
    assert rows["block"].calls >= 1 and rows["main"].calls == 1
    assert rows["main"].total_weight > rows["block"].total_weight > 0
    # every call has its return: B/E events balance and never go below zero
    depth = 0
    for _cycle, ph, _fn in prof.events:
        depth += 1 if ph == "B" else -1
        assert depth >= 0
    assert depth == 0


def test_sampling_totals_are_exact_and_find_the_hot_function() -> None:
    exact = profile_exact(SHA, b"x" * 4000, 10**8)
    for every in (1, 7, 1000):
        s = profile_sampled(SHA, b"x" * 4000, 10**8, every, engine="jit")
        assert s.cycles.total() == exact.total_cycles == s.total_cycles
        assert s.cycles.functions()[0].name == exact.cycles.functions()[0].name == "block"
    one = profile_sampled(SHA, b"x" * 4000, 10**8, 1, engine="interp")  # every cycle: exact
    flat_exact: dict[str, int] = {}
    for r in exact.cycles.functions():
        flat_exact[r.name] = r.self_weight
    assert {r.name: r.self_weight for r in one.cycles.functions() if r.self_weight} == \
        {k: v for k, v in flat_exact.items() if v}


def test_cycle_limit_is_exact_in_both_modes() -> None:
    with pytest.raises(CycleLimitExceeded):
        profile_exact(SHA, b"x" * 4000, 1000)
    with pytest.raises(CycleLimitExceeded):
        profile_sampled(SHA, b"x" * 4000, 1000, 100, engine="jit")


def test_symbols_come_from_the_symtab() -> None:
    syms = elf_symbols(SHA)
    names = {n for _a, _s, n in syms}
    assert {"main", "block", "memcpy", "_start"} <= names
    table = Symbols(syms, load_elf(SHA))
    addr = next(a for a, _s, n in syms if n == "block")
    assert table.name(addr) == table.name(addr + 4) == "block"
    assert table.name(0x7FFF_0000) == "0x7fff0000"  # outside every symbol: its address


def test_a_stripped_or_hostile_symbol_table_does_not_crash() -> None:
    data = bytearray(SHA)
    data[32:36] = (0).to_bytes(4, "little")  # no section headers: no symbols
    assert elf_symbols(bytes(data)) == []
    data = bytearray(SHA)
    data[32:36] = (len(SHA) - 8).to_bytes(4, "little")  # headers past the end
    assert elf_symbols(bytes(data)) == []
    assert elf_symbols(b"not an elf") == []
