"""Start a real ``stele serve`` subprocess and wait until it serves (no sleeps on real time
for correctness: readiness is its start-up line, polled with an overall timeout)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import trio

import stele
from stele.daemon import TenantStore, parse_quota

READY_TIMEOUT = 300.0  # an upper bound for a loaded machine, never a pacing

FIB = "def fib(n: Int) -> Int = if n < 2 then n else fib(n - 1) + fib(n - 2)\n"


def add_tenant(root: Path, name: str, *quota: str, admin: bool = False) -> str:
    """Create a tenant in ``root``'s store (as ``stele tenant add`` does); its token."""
    root.mkdir(parents=True, exist_ok=True)
    store = TenantStore(str(root / "store.sqlite"))
    try:
        return store.add(stele.RealEnv(), name, parse_quota(list(quota)), admin=admin)
    finally:
        store.close()


class Serve:
    """One ``stele serve`` process (``python -m stele.cli serve ...``)."""

    def __init__(self, root: Path, *args: str, listen: tuple[str, ...] = ()) -> None:
        self.root = root
        self.args = list(args)
        self.listen = listen or (f"unix:{root / 's.sock'}",)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root / f"serve-{os.getpid()}.log"
        self.addresses: list[str] = []

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "stele.cli", "serve", "--root", str(self.root)]
        for a in self.listen:
            cmd += ["--listen", a]
        return cmd + self.args

    async def start(self) -> Serve:
        self.root.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log, "ab")
        start = self._log.tell()
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                     stderr=self._log)
        with trio.fail_after(READY_TIMEOUT):
            while True:
                text = self.log.read_bytes()[start:].decode(errors="replace")
                m = re.search(r"listening address=(\S+)", text)
                if m:
                    self.addresses = m.group(1).split(",")
                    return self
                if self.proc.poll() is not None:
                    raise RuntimeError(f"stele serve exited {self.proc.returncode}: {text}")
                await trio.sleep(0.02)

    def address(self, kind: str = "unix") -> str:
        return next(a for a in self.addresses if a.startswith(kind + ":"))

    def text(self) -> str:
        return self.log.read_bytes().decode(errors="replace")

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = READY_TIMEOUT) -> int:
        assert self.proc is not None
        with trio.fail_after(timeout):
            while self.proc.poll() is None:
                await trio.sleep(0.02)
        self._log.close()
        return self.proc.returncode

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self._log.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self._log.closed:
            self._log.close()
