"""Receipts: made by the runtime, checked with only the receipt and the ELF, and every tamper refused."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import trio

import stele
from stele.actors.receipts import (RECEIPT_KIND, RECEIPT_VERSION, MalformedReceipt, NotProvable, OutdatedReceipt,
                                   Receipt, ReceiptRejected, decode_receipt, prove_receipt, verify_receipt)
from stele.actors.zkvm import encode_statement
from stele.protocol import encode
from stele.sim import SimEnv

from stele.actors.coprocessor import encode as encode_insn

from zkvm._programs import counter, program

ROOT = Path(__file__).resolve().parents[2]
ELF = counter(40)
OTHER = counter(60)
#: a CSR read (rdcycle): outside provable mode, and not on the zkVM's roadmap
UNCOVERED = program([encode_insn("csrrs", 5, 0, imm=0xC00)], 1)
EFFECTS = (ROOT / "examples" / "effect_guest" / "effects.elf").read_bytes()


@pytest.fixture(scope="module")
def receipt() -> Receipt:
    return prove_receipt(ELF, b"in")


@pytest.fixture(scope="module")
def other() -> Receipt:
    return prove_receipt(OTHER, b"in")


def _fields(r: Receipt) -> dict[str, Any]:
    return {"version": RECEIPT_VERSION, "statement": encode_statement(r.statement), "cycles": r.cycles,
            "proof": r.proof}


# -- made and verified ---------------------------------------------------------------------------

def test_an_honest_receipt_verifies_and_round_trips(receipt: Receipt) -> None:
    data = receipt.encode()
    assert decode_receipt(data) == receipt
    again = verify_receipt(data, elf=ELF, input_bytes=b"in", output=b"", exit_code=receipt.exit_code)
    assert again == receipt and again.digest() == receipt.digest()
    info = receipt.describe()
    assert info["code"] == str(stele.protocol.Digest.of(ELF)) and info["cycles"] == receipt.cycles
    assert info["receipt"] == str(receipt.digest()) and info["proof_bytes"] == len(receipt.proof)


def test_a_receipt_with_a_proof_of_the_previous_air_is_refused_as_outdated(receipt: Receipt) -> None:
    from stele.actors.prover._proof import decode_cbor

    proof = decode_cbor(receipt.proof, max_size=1 << 26)
    old = Receipt(receipt.statement, receipt.cycles, encode({**proof, "version": "stele.vm-proof/1"}))
    for attempt in (lambda: decode_receipt(encode(_fields(old))), lambda: verify_receipt(old, elf=ELF)):
        with pytest.raises(OutdatedReceipt) as info:
            attempt()
        assert isinstance(info.value, MalformedReceipt) and info.value.field == "proof.version"
        assert (info.value.version, info.value.air) == ("stele.vm-proof/1", "stele.vm-air/2")


def test_the_receipt_is_deterministic() -> None:
    assert prove_receipt(ELF, b"in").encode() == prove_receipt(ELF, b"in").encode()


# -- tampering --------------------------------------------------------------------------------------

def test_wrong_elf_input_output_exit_code_are_named(receipt: Receipt) -> None:
    data = receipt.encode()
    cases = [({"elf": OTHER}, "code"), ({"elf": ELF, "input_bytes": b"xx"}, "input"),
             ({"elf": ELF, "output": b"!"}, "output"), ({"elf": ELF, "exit_code": receipt.exit_code + 1}, "exit_code")]
    for kwargs, claim in cases:
        with pytest.raises(ReceiptRejected) as info:
            verify_receipt(data, **kwargs)
        assert info.value.claim == claim


def test_a_cycle_count_other_than_the_proven_one_is_rejected(receipt: Receipt) -> None:
    """The proof proves the exact cycle count: more, fewer, or more than the rows hold are all refused."""
    for cycles in (receipt.cycles * 4, 1 << receipt.statement.log_cycles, receipt.cycles - 1, receipt.cycles + 1):
        forged = Receipt(receipt.statement, cycles, receipt.proof)
        with pytest.raises((ReceiptRejected, MalformedReceipt)) as info:
            verify_receipt(forged.encode() if cycles < 1 << receipt.statement.log_cycles else forged, elf=ELF,
                           input_bytes=b"in")
        assert getattr(info.value, "claim", getattr(info.value, "field", "")) == "cycles"


def test_a_statement_swapped_under_a_proof_is_refused(receipt: Receipt, other: Receipt) -> None:
    swapped = dict(_fields(receipt), statement=encode_statement(other.statement))
    with pytest.raises(MalformedReceipt) as info:
        decode_receipt(encode(swapped))
    assert info.value.field in ("proof", "cycles")
    # statement and proof of the other program, claimed for this ELF: the code check names it
    with pytest.raises(ReceiptRejected) as rej:
        verify_receipt(other.encode(), elf=ELF)
    assert rej.value.claim == "code"


def test_a_forged_statement_with_its_own_elf_digest_fails_the_proof(receipt: Receipt) -> None:
    """A prover who edits the exit code everywhere (statement and the proof's statement) is caught."""
    import dataclasses

    from stele.actors.zkvm import decode_proof, encode_proof
    lie = dataclasses.replace(receipt.statement, exit_code=receipt.exit_code ^ 1)
    proof = dataclasses.replace(decode_proof(receipt.proof), statement=lie)
    forged = Receipt(lie, receipt.cycles, encode_proof(proof))
    with pytest.raises(ReceiptRejected):
        verify_receipt(forged.encode(), elf=ELF)


def test_bit_flips_never_verify(receipt: Receipt) -> None:
    data = receipt.encode()
    rng = random.Random(15)
    positions = [rng.randrange(len(data)) for _ in range(24)] + list(range(0, 40, 3))
    for pos in positions:
        flipped = bytearray(data)
        flipped[pos] ^= 1 << rng.randrange(8)
        with pytest.raises((MalformedReceipt, ReceiptRejected)):
            verify_receipt(bytes(flipped), elf=ELF)


@pytest.mark.parametrize("edit, field", [
    (lambda f: {**f, "version": "stele.receipt/2"}, "version"),
    (lambda f: {k: v for k, v in f.items() if k != "cycles"}, "map"),
    (lambda f: {**f, "extra": 1}, "map"),
    (lambda f: {**f, "cycles": -1}, "cycles"),
    (lambda f: {**f, "cycles": "96"}, "cycles"),
    (lambda f: {**f, "cycles": 1 << 40}, "cycles"),
    (lambda f: {**f, "proof": "text"}, "proof"),
    (lambda f: {**f, "statement": b"\x00"}, "statement.cbor"),
    (lambda f: {**f, "proof": f["proof"][:-1]}, "proof.cbor"),
])
def test_the_decoder_names_what_is_wrong(receipt: Receipt, edit: Any, field: str) -> None:
    with pytest.raises(MalformedReceipt) as info:
        decode_receipt(encode(edit(_fields(receipt))))
    assert info.value.field.startswith(field.split(".")[0])


def test_garbage_truncation_and_oversize_are_malformed(receipt: Receipt) -> None:
    data = receipt.encode()
    for bad in (b"", b"\xff", data[:100], data + b"\x00", encode([1, 2]), "text"):
        with pytest.raises(MalformedReceipt):
            decode_receipt(bad)  # type: ignore[arg-type]
    from stele.actors.receipts import MAX_RECEIPT_BYTES
    with pytest.raises(MalformedReceipt) as info:
        decode_receipt(b"\x00" * (MAX_RECEIPT_BYTES + 1))
    assert info.value.field == "data"


def test_unprovable_runs_are_refused_with_the_reason() -> None:
    with pytest.raises(NotProvable) as info:
        prove_receipt(UNCOVERED, b"", target="csr")
    assert info.value.target == "csr" and info.value.what == "instruction" and "csrrs" in info.value.detail


# -- the runtime -------------------------------------------------------------------------------------

def _in_runtime(scenario: Any, *, sim: bool, path: str | None = None) -> Any:
    async def main(env: stele.Env) -> Any:
        async with stele.open_runtime(path, env=env) as rt:
            return await scenario(rt)

    if sim:
        env = SimEnv(seed=3)
        return env.run(main, env)
    return trio.run(main, stele.RealEnv())


@pytest.mark.parametrize("sim", [True, False], ids=["sim", "real"])
def test_execute_prove_returns_a_stored_receipt_and_a_memo_hit_returns_it(sim: bool) -> None:
    async def scenario(rt: Any) -> Any:
        await rt.store_blob(ELF, name="count")
        first = await rt.execute("count", b"in", engine="riscv", prove=True)
        hit = await rt.execute("count", b"in", engine="riscv", prove=True)
        plain = await rt.execute("count", b"in", engine="riscv")
        stored = await rt._ask("repository", _get(first.receipt.digest()))
        return first, hit, plain, stored

    first, hit, plain, stored = _in_runtime(scenario, sim=sim)
    assert first.receipt is not None and not first.memo_hit
    assert hit.memo_hit and hit.receipt == first.receipt
    assert plain.receipt is None  # an unproven execution carries no receipt
    assert stored.kind == RECEIPT_KIND and decode_receipt(stored.payload) == first.receipt
    verify_receipt(first.receipt.encode(), elf=ELF, input_bytes=b"in", exit_code=first.exit_code)
    assert first.receipt.cycles == first.usage.cycles


def _get(digest: Any) -> Any:
    from stele.actors.repository._messages import GetObject
    return GetObject(str(digest))


def test_the_same_seed_gives_the_same_receipt_under_simulation() -> None:
    async def scenario(rt: Any) -> bytes:
        await rt.store_blob(ELF, name="count")
        r = await rt.execute("count", b"in", engine="riscv", prove=True)
        return bytes(r.receipt.encode())

    assert _in_runtime(scenario, sim=True) == _in_runtime(scenario, sim=True) == prove_receipt(ELF, b"in").encode()


@pytest.mark.parametrize("case", ["tel", "uncovered", "effects"])
def test_what_cannot_be_proven_fails_typed_and_the_runtime_keeps_working(case: str) -> None:
    from stele.actors.sandbox import Policy

    async def scenario(rt: Any) -> Any:
        await rt.store_blob(ELF, name="count")
        if case == "tel":
            await rt.store("def one() -> Int = 1")
            call = rt.execute("one", [], prove=True)
        elif case == "uncovered":
            await rt.store_blob(UNCOVERED, name="csr")
            call = rt.execute("csr", b"", engine="riscv", prove=True)
        else:
            await rt.store_blob(EFFECTS, name="fx")
            call = rt.execute("fx", b"abc", engine="riscv", prove=True,
                              policy=Policy.allow("all", "Log", "KV", "Rand"))
        with pytest.raises(NotProvable) as info:
            await call
        after = await rt.execute("count", b"in", engine="riscv", prove=True)
        stats = await rt.stats()
        return info.value, after, stats

    err, after, stats = _in_runtime(scenario, sim=True)
    assert err.what == {"tel": "engine", "effects": "effects", "uncovered": "instruction"}[case]
    assert after.receipt is not None
    assert stats.allocator.live_grants == 0


def test_a_damaged_stored_receipt_is_not_served(tmp_path: Path) -> None:
    """Deleting the receipt blob under a memo entry makes the runtime prove again, never hand out None."""
    path = str(tmp_path / "s.sqlite")

    async def first(rt: Any) -> Any:
        await rt.store_blob(ELF, name="count")
        return await rt.execute("count", b"in", engine="riscv", prove=True)

    made = _in_runtime(first, sim=False, path=path)
    import sqlite3
    con = sqlite3.connect(path)
    n = con.execute("DELETE FROM objects WHERE kind = ?", (RECEIPT_KIND,)).rowcount
    con.commit()
    con.close()
    assert n == 1

    async def again(rt: Any) -> Any:
        return await rt.execute("count", b"in", engine="riscv", prove=True)

    redone = _in_runtime(again, sim=False, path=path)
    assert redone.receipt == made.receipt and not redone.memo_hit


def test_program_helper_exit_code_is_in_the_receipt() -> None:
    r = prove_receipt(program([], exit_code=7))
    assert r.exit_code == 7 and r.output == b""


def test_an_in_memory_receipt_with_bad_proof_bytes_is_malformed(receipt: Receipt) -> None:
    with pytest.raises(MalformedReceipt) as info:
        verify_receipt(Receipt(receipt.statement, receipt.cycles, b"\x00"), elf=ELF)
    assert info.value.field.startswith("proof")


def test_a_tel_definition_run_on_riscv_is_proven_as_its_compiled_guest() -> None:
    """prove=True on engine='riscv' proves the compiled guest; a second process verifies it from the ELF."""
    from stele import tel
    from stele.actors.executor import ExecLimits
    from stele.actors.executor._tel_riscv import compiled_name
    from stele.protocol import Digest
    from stele.tel import compiler

    src = "def fib_fast(n: Int) -> Int =\n  fold(range(0, n), (0, 1), fn (p: (Int, Int), i: Int) => (p.1, p.0 + p.1)).0\n"
    limits = ExecLimits(fuel=100_000, memory=1 << 20, depth=64)

    async def scenario(rt: Any) -> Any:
        await rt.store(src)
        proven = await rt.execute("fib_fast", [20], engine="riscv", prove=True, limits=limits)
        hit = await rt.execute("fib_fast", [20], engine="riscv", prove=True, limits=limits)
        plain = await rt.execute("fib_fast", [20], limits=limits)
        stored = await rt._ask("repository", _get(compiled_name(proven.digest)))  # what stele compile emits
        return proven, hit, plain, stored.payload

    proven, hit, plain, elf = _in_runtime(scenario, sim=True)
    assert proven.value == plain.value == 6765 and proven.cost == plain.cost
    assert proven.receipt is not None and hit.memo_hit and hit.receipt == proven.receipt
    compiled = compiler.compiled_from_elf(elf, tel.check_module(tel.parse_module(src)), "fib_fast")
    assert proven.receipt.code == Digest.of(compiled.elf)
    data = compiler.guest_input(compiled, [20], tel.Limits(fuel=100_000, memory=1 << 20, depth=64))
    got = verify_receipt(proven.receipt.encode(), elf=compiled.elf, input_bytes=data, exit_code=0)
    assert got.statement.output == proven.public_output
    with pytest.raises(ReceiptRejected) as info:  # another argument: another input
        verify_receipt(proven.receipt.encode(), elf=compiled.elf,
                       input_bytes=compiler.guest_input(compiled, [21], tel.Limits(fuel=100_000, memory=1 << 20,
                                                                                    depth=64)))
    assert info.value.claim == "input"
