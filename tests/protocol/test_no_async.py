"""stele.protocol is sans-I/O: it imports no async library, no threads, no sockets.

Two checks.  The AST check is authoritative: it reads every ``protocol/*.py``
and allows only an explicit set of absolute imports.  The subprocess check
confirms the effect at runtime; it has to load ``stele.protocol`` under a stub
``stele`` package, because the real ``stele/__init__`` imports the kernel and
the Env (anyio) -- that is the runtime's business, not the protocol's, and
the protocol reaches only ``stele._errors`` (the root error class).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PROTOCOL = Path(__file__).resolve().parents[2] / "protocol"
FORBIDDEN = {
    "trio", "anyio", "asyncio", "threading", "_thread", "socket", "selectors", "ssl",
    "concurrent", "multiprocessing", "subprocess", "time", "random", "uuid", "os",
}
ALLOWED = {
    "__future__", "collections", "dataclasses", "enum", "hashlib", "reprlib", "types",
    "typing", "cbor2", "stele._errors",
}


def imports_of(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            found.append((node.lineno, "__import__"))
    return found


def violations(path: Path) -> list[str]:
    bad = []
    for line, name in imports_of(path):
        root = name.split(".")[0]
        allowed = name in ALLOWED or root in ALLOWED - {"stele._errors"}
        if root in FORBIDDEN or not allowed:
            bad.append(f"{path.name}:{line} imports {name}")
    return bad


def test_protocol_sources_import_only_allowed_modules() -> None:
    files = sorted(PROTOCOL.glob("*.py"))
    assert len(files) >= 7
    assert [v for path in files for v in violations(path)] == []


def test_the_checker_catches_forbidden_imports(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "import trio\nfrom anyio import abc\nimport stele\nimport collections.abc\n"
        "from stele._errors import SteleError\nimport threading as t\n__import__('socket')\n"
    )
    assert violations(sample) == [
        "x.py:1 imports trio", "x.py:2 imports anyio", "x.py:3 imports stele",
        "x.py:6 imports threading", "x.py:7 imports __import__",
    ]


PROBE = r"""
import importlib.util, json, sys, types
root = sys.argv[1]
before = set(sys.modules)
stub = types.ModuleType("stele")
stub.__path__ = [root + "/runtime"]
sys.modules["stele"] = stub
spec = importlib.util.spec_from_file_location(
    "stele.protocol", root + "/protocol/__init__.py", submodule_search_locations=[root + "/protocol"])
module = importlib.util.module_from_spec(spec)
sys.modules["stele.protocol"] = module
spec.loader.exec_module(module)
import stele.protocol._connection
conn = module.Connection()
conn.receive_data(conn.send(module.Ping(1)))
assert conn.next_event() == module.Ping(1)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_importing_the_connection_loads_no_async_library() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(PROTOCOL.parent)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    loaded = json.loads(out)
    assert "stele.protocol._connection" in loaded
    assert not [m for m in loaded if m.split(".")[0] in FORBIDDEN], loaded
