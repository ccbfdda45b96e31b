"""The guest debugger (GuestReplay + GuestSession), checked against a reference interpreter run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from coprocessor._elfgen import DATA, TEXT, li, make_elf, syscall
from hypothesis import given, settings
from hypothesis import strategies as st

from stele._debugger import BadCommand, GuestReplay, GuestSession
from stele._debugger import _guest as guest_module
from stele._debugger._guest_scan import word_changes
from stele._debugger._rv import disassemble, register_number, show_word
from stele.actors.coprocessor import SYS_EFFECT, Machine, decode, encode
from stele.protocol import encode as cbor

from ._guest import BUF, COUNTER, FLAGS, guest, reference, symbols

INPUT = b"abcd"
SYMS = symbols()


def _replay(n: int = 3, *, every: int = 5, keep: int = 64, **kw: object) -> GuestReplay:
    return GuestReplay(guest(n), INPUT, max_cycles=100_000, checkpoint_every=every,
                       max_checkpoints=keep, **kw)  # type: ignore[arg-type]


def _state(m: Machine) -> tuple[object, ...]:
    words = tuple(m.memory.peek(a, 4) for a in (COUNTER, FLAGS, BUF))
    return m.cycle, m.pc, tuple(m.regs), words, bytes(m.stdout), m.halted


def _positions(image: bytes, last: int) -> list[Machine]:
    """Snapshots-as-machines of every position 0..last of a reference run (small guests)."""
    out = []
    for c in range(last + 1):
        out.append(reference(image, INPUT, c))
    return out


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches read 7 rows at a time, so every scan crosses pieces (and checkpoints)."""
    monkeypatch.setattr(guest_module, "SCAN", 7)


# -- recording -----------------------------------------------------------------
def test_records_the_run_with_thinned_checkpoints() -> None:
    r = _replay(20, every=5, keep=4)
    ref = reference(guest(20), INPUT, 10**6)
    assert r.outcome.kind == "exit" and r.outcome.exit_code == 20
    assert r.last == ref.cycle and r.outcome.text == "exited with 20"
    assert len(r.checkpoints) <= 4 and r.checkpoints[0] == 0
    assert all(c % r.every == 0 for c in r.checkpoints) and r.every > 5


def test_seek_never_replays_from_zero_past_the_first_checkpoint() -> None:
    r = _replay(20, every=16)
    restored: list[int] = []
    real = r.machine.restore

    def spy(snap: object) -> None:
        restored.append(snap.cycle)  # type: ignore[attr-defined]
        real(snap)  # type: ignore[arg-type]

    r.machine.restore = spy  # type: ignore[method-assign]
    r.seek(200)
    r.seek(199)
    r.seek(203)  # on the way from 199: no restore
    assert restored == [192, 192]  # the nearest checkpoint each time, never cycle 0
    assert _state(r.seek(199)) == _state(reference(guest(20), INPUT, 199))


# -- reverse execution lands exactly where forward execution was ----------------
_OPS = st.lists(st.one_of(
    st.tuples(st.just("step"), st.integers(1, 40)),
    st.tuples(st.just("rstep"), st.integers(1, 40)),
    st.tuples(st.just("goto"), st.integers(0, 400))), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(ops=_OPS, every=st.sampled_from([0, 1, 3, 8, 50]), keep=st.sampled_from([2, 5, 64]))
def test_random_moves_match_a_fresh_forward_run(ops: list[tuple[str, int]], every: int,
                                                keep: int) -> None:
    image = guest(20)
    r = GuestReplay(image, INPUT, max_cycles=100_000, checkpoint_every=every,
                    max_checkpoints=keep)
    s = GuestSession(r)
    for word, n in ops:
        s.handle(f"{word} {min(n, r.last) if word == 'goto' else n}")
        assert _state(s.replay.seek(s.position)) == _state(reference(image, INPUT, s.position))


def test_rstep_retraces_forward_steps_exactly() -> None:
    s = GuestSession(_replay(5, every=4))
    forward = [s.handle("step").text for _ in range(60)]
    backward = [s.handle("rstep").text for _ in range(60)]
    assert backward[:-1] == forward[-2::-1]
    assert s.position == 0


# -- breakpoints and watches fire where the reference run says ------------------
def _hits_reference(image: bytes, points: list[str]) -> list[int]:
    """Every position a continue from 0 should stop at, from a one-step-at-a-time run."""
    ms = _positions(image, reference(image, INPUT, 10**6).cycle)
    out: set[int] = set()
    for spec in points:
        if spec in SYMS and spec not in ("counter", "flags", "buf") or spec.startswith("0x1"):
            addr = SYMS.get(spec) or int(spec, 16)
            out |= {q for q in range(1, len(ms)) if ms[q].pc == addr}
        else:
            def value(m: Machine) -> int:
                reg = register_number(spec)
                if spec == "pc":
                    return m.pc
                if reg is not None:
                    return m.regs[reg]
                return m.memory.peek(SYMS.get(spec) or int(spec, 16), 4)
            out |= {q for q in range(1, len(ms)) if value(ms[q]) != value(ms[q - 1])}
    return sorted(out)


def _continue_all(s: GuestSession, word: str) -> Iterator[int]:
    while True:
        reply = s.handle(word)
        if "no breakpoint hit" in reply.text or "already at" in reply.text:
            return
        yield s.position


@pytest.mark.parametrize("points", [
    ["bump"], ["inc", "0x1003c"], ["a0"], ["x9"], ["sp"], ["counter"], ["flags"], ["buf"],
    ["0x20000", "inc"], ["pc"], ["ra", "flags", "loop"],
])
def test_continue_and_rcontinue_stop_at_every_hit(points: list[str]) -> None:
    image = guest(4)
    expected = _hits_reference(image, points)
    s = GuestSession(GuestReplay(image, INPUT, max_cycles=10_000, checkpoint_every=6))
    for spec in points:
        is_code = spec in ("bump", "inc", "loop") or spec.startswith("0x1")
        assert s.handle(f"{'break' if is_code else 'watch'} {spec}").lines[0].startswith(
            "breakpoint ")
    forward = list(_continue_all(s, "continue"))
    assert forward == [q for q in expected if q < s.last] or forward == expected
    assert s.position == s.last
    backward = list(_continue_all(s, "rcontinue"))
    assert backward == [q for q in reversed(expected) if q < s.last]


def test_watch_notes_old_and_new_values() -> None:
    s = GuestSession(_replay(3))
    s.handle("watch counter")
    reply = s.handle("continue")
    assert reply.lines[0] == "watch 1: changes of counter [0x00020000]: 0x00000000 -> 0x00000001"
    assert s.handle("print counter").text == "counter [0x00020000] = 0x00000001 (1)"
    s.handle("goto 0")
    s.handle("watch buf")  # written by the read syscall: not a store in the witness
    assert s.handle("continue").lines[0].endswith("0x00000000 -> 0x64636261")


def test_word_changes_splices_byte_stores() -> None:
    import numpy as np
    from stele.actors.coprocessor import COLUMNS
    rows = np.zeros((2, len(COLUMNS)), dtype=np.uint32)
    col = COLUMNS.index
    rows[0, col("instr")] = encode("sb", rs1=9, rs2=10, imm=5)
    rows[0, col("mem_addr")], rows[0, col("mem_write")] = 0x1005, 0x7F
    rows[1, col("instr")] = encode("sh", rs1=9, rs2=10, imm=2)
    rows[1, col("mem_addr")], rows[1, col("mem_write")] = 0x1002, 0xBEEF
    assert word_changes(rows, 0x1004, 0x11223344, lambda j: 0) == ([0], [0x11223344],
                                                                    [0x11227F44])
    assert word_changes(rows, 0x1000, 0, lambda j: 0) == ([1], [0], [0xBEEF0000])


# -- next, finish and their reverses --------------------------------------------
def test_next_steps_over_calls_and_finish_returns() -> None:
    s = GuestSession(_replay(3))
    s.handle("break loop")
    s.handle("continue")  # at the jal ra, bump
    at = s.position
    assert "jal ra" in s.describe()
    s.handle("next")
    m = s.replay.seek(s.position)
    assert m.pc == SYMS["loop"] + 4 and s.position == at + 12  # bump (9) and inc (2) ran inside
    s.handle("rnext")
    assert s.position == at
    s.handle("step")  # into bump
    assert s.replay.seek(s.position).pc == SYMS["bump"]
    s.handle("step 4")  # into inc
    assert s.replay.seek(s.position).pc == SYMS["inc"]
    s.handle("finish")  # back in bump, after the jal to inc
    assert s.replay.seek(s.position).pc == SYMS["bump"] + 16
    s.handle("rfinish")  # the jal ra, bump in loop: the call of the current function
    assert s.position == at
    assert s.handle("rfinish").lines[0] == "rfinish: no such cycle; at the first cycle"


# -- the view ------------------------------------------------------------------
def test_position_line_where_and_registers() -> None:
    s = GuestSession(_replay(3))
    assert s.describe() == "#0/59 0x00010000 _start: lui s1, 0x20"
    s.handle("break inc")
    s.handle("continue")
    assert s.handle("where").lines == (
        "pc 0x00010074 in inc, cycle 18 of 59",
        "ra 0x00010060 in bump+0x10 (the return address, if a call made it)")
    regs = s.handle("locals").lines
    assert len(regs) == 9 and "a0/x10 0x00000000" in regs[2] and regs[-1].endswith("0x00010074")
    assert s.handle("print a0").text == "a0 = 0x00000000 (0)"
    assert s.handle("print x2").text == "x2 (sp) = 0x7ffeffe0 (2147418080)"
    assert s.handle("print $cycle").text == "$cycle = 18"
    s.handle("goto 59")
    assert s.describe().endswith("[end: exited with 3]")
    assert s.handle("print $exit").text == "$exit = 3"
    info = s.handle("info").lines
    assert info[0] == "guest: cycles 0..59, at cycle 59; the run exited with 3 (59 cycles)"
    assert info[2] == "1: 0x00010074 inc"


def test_disassembly_and_words() -> None:
    assert disassemble(decode(encode("jal", 1, imm=8)), 0x100) == "jal ra, 0x00000108"
    assert disassemble(decode(encode("lw", 10, 2, imm=-4)), 0) == "lw a0, -4(sp)"
    assert disassemble(decode(encode("sw", rs1=2, rs2=1, imm=12)), 0) == "sw ra, 12(sp)"
    assert disassemble(decode(encode("beq", rs1=5, rs2=0, imm=-8)), 0x20) == \
        "beq t0, zero, 0x00000018"
    assert disassemble(decode(encode("csrrs", 5, 0, imm=0x300)), 0) == "csrrs t0, 0x300, zero"
    assert disassemble(decode(0xFFFFFFFF), 0) == "illegal 0xffffffff"
    assert show_word(0xFFFFFFFE) == "0xfffffffe (-2)"
    assert register_number("fp") == 8 and register_number("X31") == 31
    assert register_number("x32") is None


# -- bad input: one clear line, never a traceback ------------------------------
@pytest.mark.parametrize("line, message", [
    ("break nothing", "break nothing: no function symbol 'nothing' in the ELF (give a hex "
                      "address or one of: _start, bump, inc, loop)"),
    ("break 0x10002", "break 0x10002: not 4-byte aligned"),
    ("break 0xzz", "break 0xzz: not a hex address"),
    ("break 0x20000", "break 0x20000: 0x00020000 is not in the program's code "
                      "(0x00010000..0x0001007c)"),
    ("break 0x100000000", "break 0x100000000: past the 32-bit address space"),
    ("goto 60", "goto 60: the run has cycles 0..59"),
    ("watch q9", "watch q9: not a register (x0..x31, a0, sp, pc...), a hex address or a "
                 "symbol of the ELF"),
    ("watch 0x90000000", "watch 0x90000000: 0x90000000 is not mapped at cycle 0"),
    ("print 0x20001", "print 0x20001: not 4-byte aligned"),
    ("delete 4", "delete 4: no breakpoint 4 (see 'info')"),
    ("frobnicate", "unknown command 'frobnicate' (type 'help' for the commands)"),
])
def test_bad_input_is_one_clear_error(line: str, message: str) -> None:
    s = GuestSession(_replay(3))
    assert s.handle(line).lines == (f"error: {message}",)
    with pytest.raises(BadCommand):
        from stele._debugger import parse
        command = parse(line)
        assert command is not None
        s.execute(command)


def test_edges_of_the_run() -> None:
    s = GuestSession(_replay(3))
    assert s.handle("rstep").lines[0] == "already at the first cycle"
    assert s.handle("rcontinue").lines[0] == "already at the first cycle"
    assert s.handle("rnext").lines[0] == "rnext: already at the first cycle"
    s.handle("goto 59")
    assert s.handle("step").lines[0] == "already at the last cycle"
    assert s.handle("continue").lines[0] == "already at the last cycle"
    assert s.handle("next").lines[0] == "next: already at the last cycle"
    assert s.handle("quit").quit


# -- runs that end early: a post-mortem at the last position --------------------
def test_a_fault_ends_the_run_before_the_faulting_instruction() -> None:
    image = make_elf(li(10, 7) + [0xFFFFFFFF], symbols={"_start": TEXT})
    s = GuestSession(GuestReplay(image, max_cycles=1000))
    assert s.last == 2 and s.replay.outcome.kind == "error"
    assert s.replay.outcome.text.startswith("IllegalInstruction: guest trap: illegal instruction")
    s.handle("break 0x10008")
    assert s.handle("continue").lines == (
        "breakpoint 1: 0x00010008 _start+0x8",
        "#2/2 0x00010008 _start+0x8: illegal 0xffffffff  [end: "
        + s.replay.outcome.text + "]")


def test_an_effect_call_ends_the_run_at_the_ecall() -> None:
    req = cbor(["Log", "emit", "hi"])
    image = make_elf(syscall(SYS_EFFECT, DATA, len(req), DATA + 64, 64), req + bytes(64),
                     symbols={"_start": TEXT})
    r = GuestReplay(image, max_cycles=1000)
    assert r.outcome.text == ("the guest asked for Log.emit: stele debug serves no effects "
                              "to a guest")
    assert "ecall" in GuestSession(r).handle("goto " + str(r.last)).text


def test_the_cycle_limit_ends_the_run() -> None:
    r = GuestReplay(guest(50), INPUT, max_cycles=100, checkpoint_every=7)
    assert r.last == 100 and r.outcome.text.startswith("CycleLimitExceeded: cycle limit")
    assert _state(r.seek(100)) == _state(reference(guest(50), INPUT, 100))


@pytest.mark.parametrize("engine", ["jit", "interp"])
def test_other_engines_give_the_same_states(engine: str) -> None:
    r = _replay(6, every=9, engine=engine)
    for c in (0, 50, 17, 80, 3):
        assert _state(r.seek(c)) == _state(reference(guest(6), INPUT, c))
