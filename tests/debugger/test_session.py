"""The debugger's session and replay engine, tested directly (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stele._debugger import BadCommand, DebugSession, TelReplay, parse
from stele._debugger._session import (Break, Continue, Delete, Finish, Goto, Help, Locals,
                                      Next, Print, Quit, Step, Watch, Where)
from stele.actors.sandbox import ReplayDiverged
from stele.actors.sandbox._handlers import Journal
from stele.tel._cost import Limits
from stele.tel._gen import Weights, seeded_programs

from ._record import checked, record

FIB = checked("def fib(n: Int) -> Int =\n  if n < 2 then n else fib(n - 1) + fib(n - 2)\n")

EFFECTFUL = checked("""
def draw(k: Int) -> Int ! {Rand, Log} =
  let x = perform Rand.int(0, 1000) in
  perform Log.emit(int_to_string(x));
  x + k

def total(n: Int, acc: Int) -> Int ! {Rand, Log, KV} =
  if n == 0 then
    perform KV.put("total", int_to_bytes(acc));
    acc
  else
    let got = draw(n) in
    total(n - 1, acc + got)

def boom(n: Int) -> Int ! {Log} =
  perform Log.emit("before");
  let y = n - n in
  n / y
""")


def replay_of(module: Any, entry: str, args: list[Any]) -> TelReplay:
    entries, _ = record(module, entry, args)
    return TelReplay(module, entry, args, Limits(), entries)


# -- parsing -------------------------------------------------------------------
def test_parse_typed_commands() -> None:
    assert parse("step") == Step(1)
    assert parse("  s 5 ") == Step(5)
    assert parse("rstep 3") == Step(3, reverse=True)
    assert parse("rn") == Next(True)
    assert parse("finish") == Finish()
    assert parse("rc") == Continue(True)
    assert parse("goto 12") == Goto(12)
    assert parse("b KV.put") == Break("KV.put")
    assert parse("watch acc") == Watch("acc")
    assert parse("delete") == Delete(None) and parse("d 2") == Delete(2)
    assert parse("p") == Print(None) and parse("print x") == Print("x")
    assert parse("l") == Locals() and parse("bt") == Where() and parse("?") == Help()
    assert parse("QUIT") == Quit()
    assert parse("") is None and parse("   # a comment") is None


@pytest.mark.parametrize("line, message", [
    ("frob", "unknown command 'frob'"),
    ("step x", "'x' is not a number"),
    ("step -2", "must not be negative"),
    ("goto", "give an event number"),
    ("break", "give a function"),
    ("next 3", "takes no argument"),
    ("print a b", "one argument at most"),
])
def test_bad_commands_say_why(line: str, message: str) -> None:
    with pytest.raises(BadCommand, match=message):
        parse(line)
    session = DebugSession(replay_of(FIB, "fib", [3]))
    reply = session.handle(line)
    assert reply.text.startswith("error: ") and message in reply.text
    assert session.position == 0 and not reply.quit  # the session goes on, unmoved


def test_commands_that_do_not_apply_here() -> None:
    s = DebugSession(replay_of(EFFECTFUL, "total", [2, 0]))
    for line, message in [("break nosuch", "no function or effect of that name"),
                          ("break Exec.call", "no effect 'Exec'"),
                          ("print zz", "no local 'zz' in total"),
                          ("print $value", "only a return or an effect"),
                          ("goto 100000", "the execution has events 0.."),
                          ("delete 9", "no breakpoint 9"),
                          ("watch 1x", "not a local's name"),
                          ("watch zz", "total has no local 'zz' (locals: n, acc, got)")]:
        assert message in s.handle(line).text, line


# -- stepping ------------------------------------------------------------------
def test_fib_events_and_stack() -> None:
    r = replay_of(FIB, "fib", [4])
    assert r.outcome.kind == "value" and r.outcome.text == "3"
    assert r.length == 18  # 9 calls, 9 returns
    s = DebugSession(r)
    assert s.describe() == "#0/17 call fib(n=4)  [depth 1, cost 0]"
    s.execute(Step(3))
    assert [f.locals for f in s.state.stack] == [(("n", "4"),), (("n", "3"),), (("n", "2"),),
                                                 (("n", "1"),)]
    assert s.handle("where").lines == ("0: fib(n=4)  (called at #0)",
                                       "1: fib(n=3)  (called at #1)",
                                       "2: fib(n=2)  (called at #2)",
                                       "3: fib(n=1)  (called at #3)")
    assert s.call_events() == [0, 1, 2, 3]
    s.execute(Step(1))
    assert s.state.kind == "return" and s.handle("print $value").text == "$value = 1"
    assert s.handle("rstep 100").lines[-1].startswith("#0/17")
    assert s.handle("rstep").lines[0] == "already at the first event"
    assert s.handle("goto 17").lines[-1].startswith("#17/17 return fib -> 3")
    assert s.handle("step").lines[0] == "already at the last event"
    assert s.state.cost == r.outcome.cost == 85


def test_next_and_finish_step_over_calls() -> None:
    s = DebugSession(replay_of(FIB, "fib", [4]))
    s.handle("step")  # call fib(3) at depth 2
    s.handle("next")  # over fib(3)'s body: its return
    assert (s.state.kind, s.state.depth, s.state.detail) == ("return", 2, "2")
    s.handle("finish")  # fib(4)'s return
    assert (s.position, s.state.kind, s.state.depth) == (17, "return", 1)
    s.handle("rfinish")  # back to fib(4)'s call
    assert s.position == 0
    s.handle("goto 5")
    inner = s.state.depth
    s.handle("rnext")
    assert s.replayer.depth(s.position) <= inner and s.position < 5


def test_locals_of_lets_appear_once_assigned() -> None:
    s = DebugSession(replay_of(EFFECTFUL, "total", [1, 10]))
    s.handle("break draw")
    s.handle("continue")
    assert s.state.name == "draw" and s.handle("locals").text == "k = 1"  # x not yet bound
    s.handle("step")  # the Rand effect
    assert s.state.kind == "effect" and s.state.detail.startswith("Rand.int(0, 1000) -> ")
    drawn = s.state.detail.rpartition(" ")[2]
    s.handle("step")  # Log.emit: x is bound now
    assert s.handle("print x").text == f"x = {drawn}"
    assert s.state.detail == f'Log.emit("{drawn}") -> ()'


def test_breakpoints_on_functions_effects_and_operations() -> None:
    r = replay_of(EFFECTFUL, "total", [3, 0])
    s = DebugSession(r)
    assert s.handle("break Log").text == "breakpoint 1: effect Log"
    assert "already set" in s.handle("break Log").text
    hits = []
    while True:
        s.handle("continue")
        if s.position == s.last:
            break
        hits.append(s.position)
    logs = [q for q in range(r.length) if r.kind(q) == "effect" and r.name(q) == "Log.emit"]
    assert hits == logs and len(logs) == 3
    s.handle("delete")
    s.handle("break KV.put")
    s.handle("goto 0")
    s.handle("continue")
    assert s.state.name == "KV.put" and s.state.stack[-1].function == "total"
    # backwards: the same positions in reverse
    s.handle("delete")
    s.handle("break draw")
    back = []
    while True:
        s.handle("rcontinue")
        if s.position == 0:
            break
        back.append(s.position)
    calls = [q for q in range(r.length) if r.kind(q) == "call" and r.name(q) == "draw"]
    assert back == calls[::-1]


def test_watch_stops_where_a_local_of_the_activation_changes() -> None:
    s = DebugSession(replay_of(EFFECTFUL, "total", [3, 0]))
    s.handle("break total")
    s.handle("continue")  # total(2, acc)
    assert dict(s.state.stack[-1].locals)["n"] == "2"
    s.handle("delete")
    assert "has no local 'nope'" in s.handle("watch nope").text
    assert s.handle("watch got").text == "breakpoint 2: changes of got in total (the call at #5)"
    first = s.handle("continue")
    # got is bound once draw returns: the next event is the recursive call total(1, acc + got)
    assert s.state.kind == "call" and dict(s.state.stack[-1].locals)["n"] == "1"
    got = int(dict(s.state.stack[-2].locals)["got"])
    assert first.lines[0] == ("watch 2: changes of got in total (the call at #5): "
                              f"unset -> {got}")
    assert int(dict(s.state.stack[-1].locals)["acc"]) == int(
        dict(s.state.stack[-2].locals)["acc"]) + got
    where = s.position
    # the inner activations' got (another binding of the name) does not stop it
    assert s.handle("continue").lines[0] == "no breakpoint hit; at the last event"
    assert s.handle("rcontinue").lines[0].startswith("watch 2:")
    assert s.position == where
    assert s.handle("rcontinue").lines[0] == "no breakpoint hit; at the first event"


def test_error_post_mortem_is_the_last_event() -> None:
    entries, err = record(EFFECTFUL, "boom", [5])
    assert type(err).__name__ == "DivisionByZero" and len(entries) == 1
    r = TelReplay(EFFECTFUL, "boom", [5], Limits(), entries)
    assert r.outcome.kind == "error"
    s = DebugSession(r)
    s.handle("goto " + str(s.last))
    assert s.state.kind == "error" and s.state.name == "DivisionByZero"
    assert s.state.stack[-1].function == "boom"
    assert dict(s.state.stack[-1].locals) == {"n": "5", "y": "0"}


def test_an_unfinished_journal_ends_in_a_pending_event() -> None:
    entries, _ = record(EFFECTFUL, "total", [3, 0])
    short = entries[:3]  # a crash after three effects: the rest was never performed
    r = TelReplay(EFFECTFUL, "total", [3, 0], Limits(), short)
    assert r.outcome.kind == "pending"
    assert r.outcome.text.startswith("not journaled: Log.emit(")
    s = DebugSession(r)
    s.handle("continue")
    assert s.state.kind == "pending" and s.state.stack[-1].function == "draw"
    assert r.effects_answered <= 3 * r.replays  # never past the journal


def test_a_journal_of_another_program_is_a_typed_divergence() -> None:
    other = [Journal.entry("KV", "get", ("x",), None)]
    with pytest.raises(ReplayDiverged, match="diverged at effect #0"):
        TelReplay(EFFECTFUL, "total", [1, 0], Limits(), other)


def test_every_move_is_a_replay_that_performs_nothing() -> None:
    entries, _ = record(EFFECTFUL, "total", [4, 0])
    r = TelReplay(EFFECTFUL, "total", [4, 0], Limits(), entries)
    s = DebugSession(r)
    for line in ["step 5", "rstep 2", "break Rand", "continue", "rcontinue", "goto 3"]:
        s.handle(line)
    assert r.replays == 7  # the index run, the start, then one per move (break is none)
    assert r.effects_answered > len(entries)  # effects were re-answered many times, from the journal


# -- properties ----------------------------------------------------------------
def _states_forward_then_back(r: TelReplay) -> None:
    s = DebugSession(r)
    forward = [s.state]
    while s.position < s.last:
        s.execute(Step())
        forward.append(s.state)
    backward = [s.state]
    while s.position > 0:
        s.execute(Step(reverse=True))
        backward.append(s.state)
    assert backward[::-1] == forward
    assert [st.position for st in forward] == list(range(r.length))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(seeded_programs(Weights(leaf=3, effect=10, call_def=6, binding=5), max_depth=4))
def test_forwards_then_backwards_gives_identical_states(prog: Any) -> None:
    from stele.tel._types import check_module

    module = check_module(prog.module, prog.source)
    entries, out = record(module, prog.entry, [], Limits(fuel=200_000))
    r = TelReplay(module, prog.entry, [], Limits(fuel=200_000), entries)
    if r.length > 400:
        return  # the property is O(length^2) replays; long programs are covered by fib below
    _states_forward_then_back(r)
    # the replay ends as the recording did
    if isinstance(out, Exception):
        assert r.outcome.kind == "error" and r.outcome.text == str(out)
    else:
        assert r.outcome.kind == "value" and r.outcome.cost == out.cost


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 6), st.integers(0, 10), st.lists(st.integers(1, 60), max_size=6))
def test_any_path_of_moves_lands_on_the_state_of_its_position(n: int, seed: int,
                                                               moves: list[int]) -> None:
    entries, _ = record(EFFECTFUL, "total", [n, 0], seed=seed)
    r = TelReplay(EFFECTFUL, "total", [n, 0], Limits(), entries)
    truth = [r.state_at(q) for q in range(r.length)]
    s = DebugSession(r)
    for i, k in enumerate(moves):
        s.execute(Step(k, reverse=i % 2 == 1))
        assert s.state == truth[s.position]
    s.handle("break Rand")
    s.handle("break draw")
    s.handle("goto 0")
    hits = []
    while s.position < s.last:
        s.handle("continue")
        hits.append(s.position)
    again = DebugSession(TelReplay(EFFECTFUL, "total", [n, 0], Limits(), entries))
    again.handle("break Rand")
    again.handle("break draw")
    again_hits = []
    while again.position < again.last:
        again.handle("continue")
        again_hits.append(again.position)
    assert hits == again_hits  # breakpoints hit the same positions on every replay


# -- checkpoints ----------------------------------------------------------------
def _alive(pid: int) -> bool:
    import os
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_checkpoints_give_the_states_of_a_replay_from_the_start() -> None:
    entries, _ = record(EFFECTFUL, "total", [8, 0])
    plain = TelReplay(EFFECTFUL, "total", [8, 0], Limits(), entries)
    fast = TelReplay(EFFECTFUL, "total", [8, 0], Limits(), entries, checkpoint_every=7)
    try:
        assert fast.checkpoints == list(range(7, fast.length, 7))
        assert (fast.length, fast.outcome) == (plain.length, plain.outcome)
        for n in range(plain.length):
            assert fast.state_at(n) == plain.state_at(n), n
        # every state past the first checkpoint came from one, not from the start
        assert fast.checkpoint_hits == plain.length - 8
        assert fast.events_replayed < plain.events_replayed / 4
        _states_forward_then_back(fast)
    finally:
        fast.close()


def test_checkpoints_thin_out_and_end_with_the_session() -> None:
    r = TelReplay(FIB, "fib", [12], Limits(), [], checkpoint_every=10, max_checkpoints=4)
    pids = [c.pid for c in r._checkpoints]
    assert len(r.checkpoints) <= 4 and r.length > 40 * 10
    every = r.checkpoints[0]
    assert every >= 40 and r.checkpoints == list(range(every, every * len(pids) + 1, every))
    assert all(_alive(p) for p in pids)
    assert r.state_at(r.length - 1).kind == "return" and r.checkpoint_hits == 1
    r.close()
    assert r.checkpoints == [] and not any(_alive(p) for p in pids)
    assert r.state_at(r.length - 1).kind == "return"  # without them: from the start


def test_an_interrupted_checkpoint_answer_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from stele._debugger import _replay

    entries, _ = record(EFFECTFUL, "total", [6, 0])
    plain = TelReplay(EFFECTFUL, "total", [6, 0], Limits(), entries)
    r = TelReplay(EFFECTFUL, "total", [6, 0], Limits(), entries, checkpoint_every=10)
    try:
        before = r.checkpoints
        real = _replay._read_exact
        calls = [0]

        def interrupted(fd: int, size: int) -> bytes:
            calls[0] += 1
            if calls[0] == 1:
                raise KeyboardInterrupt
            return real(fd, size)

        monkeypatch.setattr(_replay, "_read_exact", interrupted)
        with pytest.raises(KeyboardInterrupt):
            r.state_at(25)
        assert r.checkpoints == [c for c in before if c != 20]  # its pending answer is dropped
        for n in (25, 21, r.length - 1):
            assert r.state_at(n) == plain.state_at(n)
    finally:
        r.close()
