"""``stele demo``: store the examples and run them on the embedded runtime, explaining each step.

It opens the default store (``./.stele/store.sqlite``, or ``--store PATH``),
stores ``examples/*.tel`` and two RISC-V guests, and then shows execution by
name and by digest, a denied effect, a stop at the cost limit, a nested
execution (``Exec.call``), a memo hit and RISC-V guest runs.  Re-running it
is safe: storing is idempotent, the KV ledger's balances persist (they grow
on every run), and results memoized by an earlier run are served as hits.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

__all__ = ["main"]

_ROOT = Path(__file__).resolve().parent.parent
_EXAMPLES = _ROOT / "examples"


def _say(title: str, text: str = "") -> None:
    print(f"\n== {title}")
    for line in text.strip("\n").splitlines():
        print(f"   {line}")


def _show(label: str, value: object) -> None:
    print(f"   {label:<16} {value}")


def _result(r: Any) -> None:
    _show("value", r.value)
    _show("cost", f"{r.cost} fuel" + (f"  (breakdown: {_top(r.breakdown)})" if r.breakdown else ""))
    _show("usage", r.usage.describe())
    _show("effects", f"{r.effects}, journal digest {r.journal_digest.short()}")
    _show("memo hit", r.memo_hit)


def _top(breakdown: dict[str, int]) -> str:
    items = sorted(breakdown.items(), key=lambda kv: -kv[1])[:4]
    return ", ".join(f"{k}={v}" for k, v in items)


async def _demo(store: str) -> int:
    import stele
    from stele.actors.executor import ExecLimits
    from stele.actors.sandbox import Grant, KeyPrefix, Policy

    lines: list[str] = []
    async with stele.open_runtime(store, log_sink=lambda who, msg: lines.append(msg)) as rt:
        _say("1. Store the examples", f"""
Stored code lives in {rt.path} (SQLite, durable). Each definition is
content-addressed: its digest covers its code and everything it calls.""")
        for path in sorted(_EXAMPLES.glob("*.tel")):
            names = await rt.store(path.read_text(), filename=str(path.relative_to(_ROOT)))
            _show(path.name, ", ".join(f"{n} {d.short()}" for n, d in names.items()))

        _say("2. Run by name", "fib(20) under the default limits and the deny-all policy:")
        r = await rt.execute("fib", [20])
        _result(r)
        if r.memo_hit:
            print("   (a memo hit: an earlier `stele demo` already ran this exact execution)")

        digest = await rt.resolve("fib_fast")
        prefix = str(digest)[:14]
        _say("3. Run by digest", f"""
fib_fast(90) by a unique digest prefix {prefix} (names are only a convenience):""")
        _result(await rt.execute(prefix, [90]))

        _say("4. A memo hit", """
fib(20) again, now by its full digest. The execution performed no effect, so
its result was cached under (code digest, args, cost table, engine, limits profile):""")
        r2 = await rt.execute(str(await rt.resolve("fib")), [20])
        _result(r2)
        _show("same value", r2.value == r.value and r2.cost == r.cost)

        _say("5. A stop at the cost limit", """
fib(25) with fuel=50000: the interpreter stops the run when the next step would
not fit. (The cached fib(20) would not be served to it either, were it the same
call: a cached result is served only when its recorded cost fits the limit.)""")
        try:
            await rt.execute("fib", [25], limits=ExecLimits(fuel=50_000))
        except stele.SteleError as exc:
            _show("error", f"{type(exc).__name__}: {exc}")

        _say("6. A denied effect", """
ledger's demo() reads and writes the KV store and logs. Under the default
policy every effect is denied, and the run ends with a typed error:""")
        try:
            await rt.execute("demo", [])
        except stele.SteleError as exc:
            _show("error", f"{type(exc).__name__}: {exc}")
        narrow = Policy.allow("ledger-other", Grant("KV", constraints=(KeyPrefix("key", "other/"),)),
                              "Log")
        print("   With KV granted only under the prefix 'other/':")
        try:
            await rt.execute("demo", [], policy=narrow)
        except stele.SteleError as exc:
            _show("error", f"{type(exc).__name__}: {exc}")
        ledger = Policy.allow("ledger", Grant("KV", constraints=(KeyPrefix("key", "balance/"),)),
                              "Log")
        print("   With KV granted under 'balance/' and Log granted (KV is durable: balances")
        print("   carry over from earlier runs of the demo, so the result changes run to run):")
        lines.clear()
        r = await rt.execute("demo", [], policy=ledger, tenant="demo")
        _result(r)
        for line in lines:
            _show("log", line)

        _say("7. A nested execution", """
fib_sum(12) calls the stored `fib` through the Exec effect, once per term. Each
call runs in a child execution context with a grant carved out of what the
parent has left; the children's cost rolls up into the parent's:""")
        exec_policy = Policy.allow("exec", "Exec")
        r = await rt.execute("fib_sum", [12], policy=exec_policy)
        _result(r)
        _show("children", r.children)
        print("   The same with fuel=30000: the child that needs more than the parent has left")
        print("   is stopped at the parent's remaining grant:")
        try:
            await rt.execute("fib_sum", [20], policy=exec_policy,
                             limits=ExecLimits(fuel=30_000))
        except stele.SteleError as exc:
            _show("error", f"{type(exc).__name__}: {exc}")

        _say("8. Time, on the Env clock", """
timer's run_steps(["fetch", "build", "publish"], 20) sleeps 20 ms between steps
(Clock is Env-backed: virtual and instant under simulation):""")
        lines.clear()
        r = await rt.execute("run_steps", [("fetch", "build", "publish"), 20],
                             policy=Policy.allow("timer", "Clock", "Log"))
        _show("value", r.value)
        for line in lines:
            _show("log", line)

        _say("9. RISC-V guests", """
Guest ELFs are stored as blobs and run on the RV32IM co-processor engine under
the same sandbox. sha256 of b"hello, stele":""")
        await rt.store_blob((_EXAMPLES / "guests" / "bin" / "sha256.elf").read_bytes(),
                            name="guests/sha256")
        r = await rt.execute("guests/sha256", [b"hello, stele"], engine="riscv", memo=False)
        _show("exit code", r.exit_code)
        _show("stdout", r.stdout.decode().strip())
        _show("usage", r.usage.describe())
        eff = await rt.store_blob((_EXAMPLES / "effect_guest" / "effects.elf").read_bytes(),
                                  name="guests/effects")
        print(f"   A guest ({eff.short()}) that logs, writes KV and draws a die roll through the")
        print("   effect ecall, with Log, KV and Rand granted:")
        lines.clear()
        r = await rt.execute("guests/effects", [b"hi from RISC-V"], engine="riscv",
                             policy=Policy.allow("guest", "Log", "KV", "Rand"), tenant="demo")
        _show("exit code", r.exit_code)
        for line in r.stdout.decode().strip().splitlines():
            _show("stdout", line)
        _show("effects", f"{r.effects}, journal digest {r.journal_digest.short()}")
        print("   The same guest with only Log granted: its KV.put ecall is denied, the run")
        print("   ends cleanly, and the runtime carries on:")
        try:
            await rt.execute("guests/effects", [b"hi"], engine="riscv",
                             policy=Policy.allow("guest-log-only", "Log"))
        except stele.SteleError as exc:
            _show("error", f"{type(exc).__name__}: {exc}")

        nested = await rt.store_blob((_EXAMPLES / "effect_guest" / "nested.elf").read_bytes(),
                                     name="guests/nested")
        print(f"   A guest ({nested.short()}) that calls the stored TEL `square` through")
        print("   Exec.call and then sleeps: at each of these ecalls the guest is suspended,")
        print("   the request is served (a child execution; a sleep on the Env clock), and the")
        print("   guest resumes with the reply:")
        r = await rt.execute("guests/nested", [b""], engine="riscv",
                             policy=Policy.allow("guest-nested", "Exec", "Clock"))
        _show("exit code", f"{r.exit_code} (= square(7))")
        for line in r.stdout.decode().strip().splitlines():
            _show("stdout", line)
        _show("usage", f"{r.usage.describe()} (fuel: the child execution)")

        stats = await rt.stats()
        _say("10. Statistics")
        c = stats.cache.stats
        _show("executions", f"{stats.executor.started} started, {stats.executor.succeeded} ok, "
                            f"{stats.executor.failed} failed")
        _show("memo cache", f"{c.hits} hits, {c.misses} misses, {c.stores} stores, "
                            f"{c.refused_over_limit} refused over limit")
        full = stats.allocator.available == stats.allocator.capacity
        _show("allocator", f"{stats.allocator.live_grants} live grants; back to full capacity: "
                           f"{full}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``stele demo [--store PATH]``."""
    ap = argparse.ArgumentParser(prog="stele demo", description=__doc__.splitlines()[0])
    ap.add_argument("--store", default=None,
                    help="the store (a .sqlite file or a directory; default: "
                         "$STELE_STORE or ./.stele/store.sqlite)")
    ns = ap.parse_args(list(argv) if argv is not None else None)
    store = ns.store or os.environ.get("STELE_STORE") or os.path.join(".stele", "store.sqlite")
    try:
        return anyio.run(_demo, store)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a readable line, never a deep traceback
        from ._errors import SteleError
        if not isinstance(exc, SteleError):
            raise
        print(f"stele demo: error: {exc}", file=sys.stderr)
        return 1
