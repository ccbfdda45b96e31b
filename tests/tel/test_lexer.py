"""Lexer edge cases: exact tokens and locations at the places a one-pass scanner can get wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.tel import TelSyntaxError
from stele.tel._errors import Loc
from stele.tel._lexer import tokenize


def _toks(src: str) -> list[tuple[str, str, int, int, object]]:
    return [(t.kind, t.text, t.loc.line, t.loc.col, t.value) for t in tokenize(src, "f")]


def test_trailing_blanks_and_newlines_place_eof_after_them() -> None:
    assert _toks("def \t\r") == [("kw", "def", 1, 1, None), ("eof", "", 1, 7, None)]
    assert _toks("x\n") == [("ident", "x", 1, 1, None), ("eof", "", 2, 1, None)]
    assert _toks("") == [("eof", "", 1, 1, None)]
    assert _toks("  # note\n  y # more") == [("ident", "y", 2, 3, None), ("eof", "", 2, 11, None)]


def test_escaped_and_plain_strings_and_bytes() -> None:
    assert _toks('"a\\tb\\"c" "plain" x"00ff"') == [
        ("str", '"a\\tb\\"c"', 1, 1, 'a\tb"c'),
        ("str", '"plain"', 1, 11, "plain"),
        ("bytes", 'x"00ff"', 1, 19, b"\x00\xff"),
        ("eof", "", 1, 26, None),
    ]
    assert _toks('"\\u{e9}"')[0][4] == "\u00e9"


@pytest.mark.parametrize(("src", "where", "found"), [
    ('  "abc', "f:1:3", "end of line"),
    ('"a\\q"', "f:1:3", "'\\\\q'"),
    ("x = 1 \t$", "f:1:8", "'$'"),
    ('x"0"', "f:1:1", "'0'"),
    ("12ab", "f:1:3", "'a'"),
    ("a\n  \u00e9", "f:2:3", "'\u00e9'"),
])
def test_errors_name_the_place(src: str, where: str, found: str) -> None:
    with pytest.raises(TelSyntaxError) as info:
        tokenize(src, "f")
    assert str(info.value).startswith(where) and found in str(info.value)


_PIECES = st.sampled_from(list('ab_x"\\019 \t\r\n#=>-+()[],.;:!&|%<') + ['"\\n"', 'x"0f"', "let "])


@given(st.lists(_PIECES, max_size=30).map("".join))
def test_tokens_cover_the_source_in_order(src: str) -> None:
    """Each token's text is at its location, tokens are in order, and only blanks/comments are between."""
    try:
        toks = tokenize(src, "f")
    except TelSyntaxError:
        return
    lines = src.split("\n")
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln) + 1)
    prev_end = 0
    for t in toks[:-1]:
        assert isinstance(t.loc, Loc)
        off = starts[t.loc.line - 1] + t.loc.col - 1
        assert src[off:off + len(t.text)] == t.text
        gap = src[prev_end:off]
        assert all(c in " \t\r\n" for c in gap.split("#")[0])
        prev_end = off + len(t.text)
    assert toks[-1].kind == "eof"
