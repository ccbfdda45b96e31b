"""Deep recursion never crashes the process: a typed depth error at every level (item 5)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from stele.actors.executor._limits import MAX_NESTING

SCRIPT = textwrap.dedent("""
    import sys
    import stele
    from stele.sim import SimEnv
    from stele.actors.sandbox import Policy
    SRC = '''
    effect Exec { call(target: String, arg: Int) -> Int }
    def down(n: Int) -> Int ! {Exec} = if n <= 0 then 0 else 1 + perform Exec.call("down", n - 1)
    def loop(n: Int) -> Int = if n <= 0 then 0 else 1 + loop(n - 1)
    '''
    async def main(env):
        async with stele.open_runtime(None, env=env) as rt:
            await rt.store(SRC)
            for target, n in (("down", 5000), ("loop", 10**6)):
                try:
                    await rt.execute(target, [n], policy=Policy.allow("p", "Exec"), memo=False)
                    print("ok")
                except Exception as e:
                    print(type(e).__name__, getattr(e, "depth", getattr(e, "needed", "")))
    env = SimEnv(seed=1)
    env.run(main, env)
""")


def test_exec_call_5000_deep_and_tel_recursion_give_typed_errors_in_a_surviving_process() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])  # no SIGSEGV (-11)
    lines = proc.stdout.split()
    assert lines[:2] == ["NestingLimitExceeded", str(MAX_NESTING + 1)], proc.stdout
    assert lines[2] == "DepthLimitExceeded", proc.stdout
