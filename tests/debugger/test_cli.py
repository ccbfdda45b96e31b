"""``stele debug`` end to end: scripted sessions on a real store, post-mortems, exit codes."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stele._cli._debug import PROMPT, run_prompt
from stele._debugger import DebugSession
from stele.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _durable_source() -> str:
    """The effectful program of the durable tests (``tests/durable/_program.py``)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("_durable_program",
                                                  ROOT / "tests" / "durable" / "_program.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source: str = module.SOURCE
    return source


SOURCE = _durable_source()
EXAMPLES = ROOT / "examples"
ALLOW = [a for e in ("KV", "Log", "Exec", "Rand", "Clock") for a in ("--allow", e)]


def _call(capfd: pytest.CaptureFixture[str], *argv: str, stdin: str = "",
          monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    capfd.readouterr()
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capfd.readouterr()
    return code, out, err


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "s.sqlite"
    monkeypatch.setenv("STELE_STORE", str(db))
    src = tmp_path / "p.tel"
    src.write_text(SOURCE)
    for path in (src, EXAMPLES / "fib.tel", EXAMPLES / "ledger.tel"):
        assert main(["store", str(path)]) == 0
    return db


def _script(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "cmds.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _rows(store: Path) -> int:
    """Journal rows in the store (any execution): a performed effect adds one."""
    import sqlite3
    db = sqlite3.connect(store)
    try:
        return int(db.execute("SELECT COUNT(*) FROM durable_journal").fetchone()[0])
    finally:
        db.close()


def _kv_count(store: Path) -> int:
    """The KV key ``count``: every performed ``bump`` of main/child adds one."""
    import sqlite3
    db = sqlite3.connect(store)
    try:
        row = db.execute("SELECT value FROM kv WHERE key = 'count'").fetchone()
        return int.from_bytes(row[0], "big")
    finally:
        db.close()


def test_a_scripted_session_steps_forwards_and_back(
        store: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    cmds = _script(tmp_path, "step 3", "where", "# a comment", "rstep 2", "break fib",
                   "continue", "print n", "finish", "info", "quit", "step")
    code, out, err = _call(capfd, "debug", "fib", "5", "--commands", cmds)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("recorded debug/")
    assert "30 events; the run returned 5 (cost 145)" in lines[1]
    assert lines[2] == "#0/29 call fib(n=5)  [depth 1, cost 0]"
    assert lines[3:9] == [PROMPT + "step 3", "#3/29 call fib(n=2)  [depth 4, cost 30]",
                          PROMPT + "where", "0: fib(n=5)  (called at #0)",
                          "1: fib(n=4)  (called at #1)", "2: fib(n=3)  (called at #2)"]
    assert PROMPT + "rstep 2" in lines and "#1/29 call fib(n=4)  [depth 2, cost 10]" in lines
    assert "breakpoint 1: calls of fib" in lines and "n = 3" in lines
    assert lines[-1] == PROMPT + "quit"  # nothing after quit runs
    assert err == ""


def test_commands_from_a_pipe_and_a_bad_one_stops_the_script(
        store: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _call(capfd, "debug", "fib", "3", stdin="step\nfrobnicate\nstep\n",
                           monkeypatch=monkeypatch)
    assert code == 2
    assert err.strip() == ("stele debug: error: unknown command 'frobnicate' "
                           "(type 'help' for the commands)")
    assert out.splitlines()[-1] == PROMPT + "frobnicate"
    assert out.count(PROMPT + "step") == 1


def test_end_of_input_leaves_cleanly(store: Path, capfd: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _call(capfd, "debug", "fib", "2", stdin="", monkeypatch=monkeypatch)
    assert code == 0 and err == "" and out.splitlines()[-1].startswith("#0/")


def test_the_prompt_reports_bad_commands_and_goes_on(store: Path) -> None:
    from stele._cli._debug import open_replay
    from stele._debugger import TelReplay
    assert TelReplay  # the prompt drives the same session
    code = main(["debug", "fib", "3", "--commands", os.devnull])
    assert code == 0
    import sqlite3
    db = sqlite3.connect(store)
    ident = db.execute("SELECT id FROM durable_exec").fetchone()[0]
    db.close()
    session = DebugSession(open_replay(str(store), ident))
    inputs = iter(["step", "nonsense", "step 2"])
    out = io.StringIO()

    def read(prompt: str) -> str:
        assert prompt == PROMPT
        try:
            return next(inputs)
        except StopIteration:
            raise EOFError from None

    assert run_prompt(session, read, out) == 0
    text = out.getvalue()
    assert "error: unknown command 'nonsense'" in text and "#3/" in text
    assert session.position == 3


def test_debugging_a_durable_execution_performs_no_effect_again(
        store: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = _call(capfd, "run", "main", "7", *ALLOW, "--durable", "job", "--json")
    assert code == 0, err
    rows, count = _rows(store), _kv_count(store)
    assert count == 3  # main bumps twice, the child once
    cmds = _script(tmp_path, "break KV.put", "break Exec", "continue", "where", "continue",
                   "continue", "continue", "print $value", "rcontinue", "rcontinue",
                   "goto 0", "continue", "info")
    for _ in range(2):
        code, out, err = _call(capfd, "debug", "--durable", "job", "--commands", cmds)
        assert code == 0, err
    assert _rows(store) == rows  # no journal row was added: nothing was performed
    assert _kv_count(store) == count  # and no KV write happened again
    assert 'effect Exec.call("child", 7) -> ' in out
    assert 'effect KV.put("count", x"0000000000000001") -> ()' in out


def test_a_nested_execution_is_opened_by_its_own_id(
        store: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["store", str(EXAMPLES / "nested.tel")]) == 0
    code, out, err = _call(capfd, "run", "fib_sum", "3", "--allow", "Exec", "--durable", "p")
    assert code == 0 and "cost=157" in err + out, err
    cmds = _script(tmp_path, "break Exec", "continue", "goto 10")
    code, out, err = _call(capfd, "debug", "--durable", "p", "--commands", cmds)
    assert code == 0, err
    assert '#1/10 effect Exec.call("fib", 2) -> 1  [depth 1, cost 34]' in out
    assert "#10/10 return fib_sum -> 2  [depth 1, cost 122]" in out  # its own cost: no children
    code, out, err = _call(capfd, "debug", "--durable", "p/0", "--commands", os.devnull)
    assert code == 0 and out.splitlines()[1] == "#0/5 call fib(n=2)  [depth 1, cost 0]", out


def test_recording_twice_opens_the_first_recording(
        store: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    cmds = _script(tmp_path, "break KV.put", "continue", "print $value", "info")
    code, first, err = _call(capfd, "debug", "demo", "--allow", "KV", "--allow", "Log",
                             "--commands", cmds)
    assert code == 0, err
    rows = _rows(store)
    code, again, err = _call(capfd, "debug", "demo", "--allow", "KV", "--allow", "Log",
                             "--commands", cmds)
    assert code == 0, err
    assert again.splitlines()[0].startswith("opening the recorded execution debug/")
    assert again.splitlines()[1:] == first.splitlines()[1:]  # the same session, line for line
    assert _rows(store) == rows
    # other grants are another recording (its own id)
    code, other, err = _call(capfd, "debug", "demo", "--allow", "KV", "--allow", "Log",
                             "--fuel", "999999", "--commands", cmds)
    assert code == 0 and other.splitlines()[0].startswith("recorded debug/")


def test_post_mortem_of_a_killed_execution(tmp_path: Path,
                                           capfd: pytest.CaptureFixture[str]) -> None:
    store_dir = tmp_path / "st"
    store_dir.mkdir()
    run = subprocess.run([sys.executable, "-m", "tests.durable._program", str(store_dir),
                          "run", "job", "2"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == -signal.SIGKILL, run.stderr
    cmds = _script(tmp_path, "continue", "where", "info")
    code, out, err = _call(capfd, "debug", "--durable", "job", "--store",
                           str(store_dir / "store.sqlite"), "--commands", cmds)
    assert code == 0, err
    assert "the run is unfinished: not journaled: " in out.splitlines()[0]
    assert "end of journal: not journaled: " in out
    assert "0: main(n=7" in out


@pytest.mark.parametrize("argv, code, message", [
    (["debug"], 2, "give a TARGET to record, or --durable ID"),
    (["debug", "--durable", "nope"], 5, "no durable execution 'nope'"),
    (["debug", "fib", "1", "--commands", "/nonexistent/x"], 2, "--commands"),
    (["debug", "fib", "1", "2"], 2, "fib takes 1 argument"),
    (["debug", "fib", "1", "--allow", "Disk"], 2, "not an effect"),
    (["debug", "--durable", "x", "--allow", "KV"], 2, "--allow applies to a recording"),
])
def test_usage_errors_are_one_line(store: Path, capfd: pytest.CaptureFixture[str],
                                   argv: list[str], code: int, message: str) -> None:
    got, out, err = _call(capfd, *argv)
    assert got == code, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err, err


def test_ctrl_c_leaves_with_130(store: Path) -> None:
    env = dict(os.environ)
    env.pop("STELE_TRACEBACK", None)
    proc = subprocess.Popen([sys.executable, "-m", "stele.cli", "debug", "fib", "4"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None and proc.stdin is not None
    seen = b""
    while b"#0/" not in seen:  # the session is up and waits for a command
        chunk = proc.stdout.readline()
        if not chunk:
            break
        seen += chunk
    proc.stdin.write(b"step\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == (PROMPT + "step\n").encode()
    assert proc.stdout.readline().startswith(b"#1/")
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.decode().strip() == "stele: interrupted"


def test_checkpoints_change_nothing_but_the_time(
        store: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    cmds = _script(tmp_path, "goto 40", "rstep 7", "where", "break fib", "rcontinue",
                   "finish", "goto 3", "continue", "watch n", "continue", "info")
    runs = []
    for every in ("0", "5"):
        code, out, err = _call(capfd, "debug", "fib", "7", "--checkpoint-every", every,
                               "--commands", cmds)
        assert code == 0, err
        runs.append(out.splitlines()[1:])  # the first line says recorded / opening
    marks = [line for line in runs[1] if " checkpoints, every " in line]
    assert marks == ["16 checkpoints, every 5 events"]  # info says so; nothing else differs
    assert runs[0] == [line for line in runs[1] if line not in marks] and len(runs[0]) > 20


def test_post_mortem_of_a_run_that_hit_its_cost_limit(
        store: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    cmds = _script(tmp_path, "goto 588", "where", "rstep", "info")
    code, out, err = _call(capfd, "debug", "fib", "20", "--fuel", "3000", "--commands", cmds)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("the run stopped: CostLimitExceeded: fuel limit exceeded: "
                             "needed 3010, limit 3000")
    assert "589 events; the run stopped with fuel limit exceeded" in lines[1]
    at_error = lines.index(PROMPT + "goto 588") + 1
    assert lines[at_error] == ("#588/588 error CostLimitExceeded: fuel limit exceeded: "
                               "needed 3010, limit 3000  [depth 14, cost 3000]")
    assert lines[at_error + 2] == "0: fib(n=20)  (called at #0)"
    assert lines[at_error + 15] == "13: fib(n=6)  (called at #587)"


def test_the_terminal_prompt_reads_a_tty_and_leaves_on_ctrl_d(store: Path) -> None:
    import pty
    main_fd, tty_fd = pty.openpty()
    env = dict(os.environ)
    env.pop("STELE_TRACEBACK", None)
    proc = subprocess.Popen([sys.executable, "-m", "stele.cli", "debug", "fib", "3"],
                            env=env, stdin=tty_fd, stdout=tty_fd, stderr=tty_fd, cwd=ROOT)
    os.close(tty_fd)
    seen = b""

    def until(marker: bytes) -> None:
        """Read until ``marker`` and then the next prompt: only then is readline reading.

        (Typing ahead is racy: readline may flush pending input when it sets up
        the terminal for the next line, and a lost Ctrl-D leaves the session
        waiting forever.)
        """
        nonlocal seen
        prompt = PROMPT.encode()
        while marker not in seen or prompt not in seen[seen.index(marker) + len(marker):]:
            chunk = os.read(main_fd, 4096)
            assert chunk, seen
            seen += chunk

    try:
        until(b"'help' for commands")
        os.write(main_fd, b"step 2\n")
        until(b"#2/")
        os.write(main_fd, b"bogus\n")
        until(b"error: unknown command 'bogus'")
        os.write(main_fd, b"\x04")  # Ctrl-D
        while True:  # read to the end: a tty's last close waits for its output to drain
            try:
                if not os.read(main_fd, 4096):
                    break
            except OSError:  # EIO: the other side is closed
                break
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main_fd)


def test_a_parent_replays_with_what_its_children_left_of_the_limits(
        store: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """fib_sum 3 costs 122 itself and 35 in its children: with fuel 150 the parent stops."""
    assert main(["store", str(EXAMPLES / "nested.tel")]) == 0
    code, out, err = _call(capfd, "debug", "fib_sum", "3", "--allow", "Exec", "--fuel", "150",
                           "--commands", _script(tmp_path, "goto 6"))
    assert code == 0, err
    recorded = "CostLimitExceeded: fuel limit exceeded: needed 117, limit 115"
    assert out.splitlines()[0].endswith("the run stopped: " + recorded)
    assert "the run stopped with fuel limit exceeded: needed 117, limit 115" in out
    assert "#6/6 error " + recorded in out  # the replay stops where the recording did


def test_ctrl_c_during_a_command_at_the_prompt_keeps_the_session() -> None:
    class Slow:
        def __init__(self) -> None:
            self.calls = 0

        def handle(self, line: str) -> Any:
            self.calls += 1
            if self.calls == 1:
                raise KeyboardInterrupt
            from stele._debugger import Reply
            return Reply((f"did {line}",))

        def describe(self) -> str:
            return "#3/9 call f()"

    lines = iter(["continue", "step"])

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    out = io.StringIO()
    assert run_prompt(Slow(), read, out) == 0  # type: ignore[arg-type]
    assert out.getvalue().splitlines()[:2] == ["interrupted; still at #3/9 call f()", "did step"]
