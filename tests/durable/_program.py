"""The effectful program of the durable-execution tests, and a driver run as a child process.

``python -m tests.durable._program STORE run|resume [KILL_ID KILL_SEQ]`` runs
(or resumes) the durable execution ``job`` of :data:`SOURCE` on the store
``STORE``; with ``KILL_ID KILL_SEQ`` the process SIGKILLs itself right after
journal entry ``KILL_SEQ`` of execution ``KILL_ID`` is committed.  Log lines
are appended (and fsynced) to ``STORE/sink.txt`` as the sink sees them; the
result is printed as one JSON line.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import trio

import stele
from stele.actors.sandbox import Policy
from stele.actors.sandbox import _durable

SOURCE = """
effect Exec { call(target: String, arg: Int) -> Int }
def bump(key: String) -> Int ! {KV} =
  let n = match perform KV.get(key) { Some(b) => get_or_else(bytes_to_int(b), 0), None => 0 } in
  perform KV.put(key, int_to_bytes(n + 1));
  n + 1
def child(x: Int) -> Int ! {KV, Log} =
  perform Log.emit("child " ++ int_to_string(x));
  let c = bump("count") in
  perform KV.put("child", int_to_bytes(x));
  x * 10 + c
def main(n: Int) -> Int ! {KV, Log, Exec, Rand, Clock} =
  perform Log.emit("start");
  let a = bump("count") in
  let r = perform Rand.int(1, 1000) in
  perform Clock.sleep(1);
  let c = perform Exec.call("child", n) in
  perform Log.emit("after child");
  let b = bump("count") in
  perform Log.emit("end");
  a * 1000000 + b * 100000 + c * 100 + r % 100
"""

POLICY = Policy.allow("durable-test", "KV", "Log", "Exec", "Rand", "Clock")


async def drive(store: str, mode: str) -> dict[str, object]:
    sink_path = os.path.join(store, "sink.txt")

    def sink(label: str, msg: str) -> None:
        with open(sink_path, "a") as f:
            f.write(msg + "\n")
            f.flush()
            os.fsync(f.fileno())

    async with stele.open_runtime(store, log_sink=sink) as rt:
        if mode == "run":
            await rt.store(SOURCE)
            r = await rt.execute("main", [7], policy=POLICY, durable="job")
        else:
            r = await rt.resume("job")
        kv = rt._kv
        return {"value": r.value, "cost": r.cost, "journal": str(r.journal_digest),
                "effects": r.effects, "logs": list(r.logs),
                "count": int.from_bytes(kv.get("default", "count") or b"", "big"),
                "entries": len(rt.durable_store().entries("job"))}


def main() -> None:
    store, mode = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        kill_id, kill_seq = sys.argv[3], int(sys.argv[4])

        def hook(ident: str, seq: int) -> None:
            if ident == kill_id and seq == kill_seq:
                os.kill(os.getpid(), signal.SIGKILL)

        _durable.AFTER_COMMIT = hook
    print(json.dumps(trio.run(drive, store, mode)))


if __name__ == "__main__":
    main()
