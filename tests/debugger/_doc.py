"""The session transcripts of docs/debugger.md, for the tests that replay them."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["DOC", "transcript", "commands"]

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "debugger.md").read_text()
PROMPT = "(stele debug) "


def transcript(first: str) -> list[str]:
    """The lines of the fenced block that starts with the shell line ``first`` (after it)."""
    blocks = re.findall(r"```\n(.*?)```", DOC, re.S)
    block = next(b for b in blocks if b.startswith(first))
    return block.splitlines()[1:]


def commands(lines: list[str]) -> str:
    """The commands typed in a transcript, as a script."""
    typed = [line[len(PROMPT):] for line in lines if line.startswith(PROMPT)]
    assert len(typed) > 10
    return "\n".join(typed) + "\n"
