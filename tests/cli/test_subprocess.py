"""What needs a real process: SIGINT exits 130 with one line, scripts without a main guard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
STELE = [sys.executable, "-m", "stele.cli"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["STELE_STORE"] = str(tmp_path / "s.sqlite")
    env.pop("STELE_TRACEBACK", None)
    return env


def _interrupt(argv: list[str], env: dict[str, str], ready: bytes) -> tuple[int, str]:
    """Start ``stele ARGV``, wait until it printed ``ready`` on stderr, SIGINT it.

    No sleeping on the clock: the child says when it is busy (``--progress``
    style lines written before the long call), and we wait for that line.
    """
    proc = subprocess.Popen(STELE + argv, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    seen = b""
    while ready not in seen:
        chunk = proc.stderr.readline()
        if not chunk:
            break
        seen += chunk
    proc.send_signal(signal.SIGINT)
    _out, rest = proc.communicate(timeout=120)
    return proc.returncode, (seen + rest).decode()


@pytest.mark.parametrize("argv", [
    ["eval", str(EXAMPLES / "fib.tel"), "fib(60)", "--fuel", str(10**15)],
    ["run", "fib", "60", "--fuel", str(10**15)],
])
def test_ctrl_c_exits_130_with_one_line(tmp_path: Path, argv: list[str]) -> None:
    env = _env(tmp_path)
    subprocess.run(STELE + ["store", str(EXAMPLES / "fib.tel")], env=env, check=True,
                   capture_output=True)
    env["STELE_CLI_READY"] = "1"  # stele.cli prints 'stele: ready' before running a command
    code, err = _interrupt(argv, env, b"stele: ready")
    assert code == 130, err
    lines = [line for line in err.splitlines() if line.strip() and line != "stele: ready"]
    assert lines == ["stele: interrupted"], err


def test_a_guest_runs_from_a_script_without_a_main_guard(tmp_path: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text(textwrap.dedent(f"""
        import anyio
        import stele

        async def main():
            async with stele.open_runtime() as rt:
                d = await rt.store_blob(open({str(EXAMPLES / "guests/bin/sha256.elf")!r},
                                             "rb").read())
                r = await rt.execute(d, b"abc", engine="riscv")
                print(r.stdout.decode().strip())

        anyio.run(main)
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert "Error" not in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_ctrl_c_during_a_guest_and_a_simulation_exits_130(tmp_path: Path) -> None:
    """``stele vm run`` (a long sha256) and one long ``stele sim`` seed: 130, no traceback."""
    env = _env(tmp_path)
    env["STELE_CLI_READY"] = "1"
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(8 << 20))  # 8 MiB: hundreds of millions of cycles
    guest = ["vm", "run", str(EXAMPLES / "guests" / "bin" / "sha256.elf"), "--input", str(big),
             "--max-cycles", str(10**12), "--engine", "interp"]
    code, err = _interrupt(guest, env, b"stele: ready")
    assert code == 130, err
    lines = [line for line in err.splitlines() if line.strip() and line != "stele: ready"]
    assert lines == ["stele: interrupted"], err
    code, err = _interrupt(["sim", "--seed", "1", "--ticks", "100000000", "--quiet"], env,
                           b"stele: ready")
    assert code == 130, err
    assert "Traceback" not in err and "FAIL" not in err
