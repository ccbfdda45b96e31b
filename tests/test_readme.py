"""The README's Python examples run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


#: What each Python block prints, as its comments say (a regex over the whole stdout).
EXPECTED_OUTPUT = [
    # the embedding tour: value and cost, a memo hit, the denial, the granted run
    r"5050 \d+\nTrue\neffect Log\.emit denied by policy 'deny-all'[^\n]*\n42 \['n is 21'\]\n",
    # the actor kernel: the counter's reply to ask(41) after tell(1)
    r"42\n",
]


def test_python_blocks_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README should carry at least one Python example"
    assert len(blocks) == len(EXPECTED_OUTPUT), "give each README Python block its EXPECTED_OUTPUT"
    for block, expected in zip(blocks, EXPECTED_OUTPUT):
        done = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"README example failed:\n{block}\n{done.stderr}"
        assert re.fullmatch(expected, done.stdout), f"README example printed:\n{done.stdout}"
