"""TEL's lexer: source text to a list of tokens with line:col locations.

Tokens: identifiers, keywords, Int literals (decimal), String literals
(`"..."` with escapes `\\n \\t \\r \\\\ \\" \\u{hex}`), Bytes literals (`x"00ff"`), the
punctuation and operators of the grammar, and EOF. `#` starts a comment that
runs to the end of the line.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from typing import Callable

from ._errors import Loc, TelSyntaxError

__all__ = ["Token", "tokenize", "KEYWORDS"]

KEYWORDS = frozenset({
    "def", "effect", "let", "in", "if", "then", "else", "fn", "match", "perform",
    "true", "false", "Some", "None", "Fn",
})


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}


class Token(NamedTuple):
    """A token: kind ('ident', 'kw', 'int', 'str', 'bytes', 'op', 'eof'), text, value, place."""

    kind: str
    text: str
    loc: Loc
    value: object = None

    def describe(self) -> str:
        """How the token is named in error messages."""
        if self.kind == "eof":
            return "end of input"
        if self.kind in ("str", "bytes"):
            return f"{self.kind} literal"
        return repr(self.text)


_MASTER = re.compile(r"""
    [ \t\r]*(?:
      (?P<ident>(?!x")[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>=>|->|==|!=|<=|>=|&&|\|\||\+\+|[-+*/%<>!=()\[\]{},;:.])
    | (?P<nl>\n)
    | (?P<int>[0-9]+)
    | (?P<str>"(?:[^"\\\n]|\\[^\n])*")
    | (?P<bytes>x"[^"\n]*")
    | (?P<ws>\#[^\n]*)
    | (?P<strx>")
    | (?P<bad>[^ \t\r])
    )""", re.VERBOSE | re.DOTALL)

# Token and Loc are NamedTuples, whose generated __new__ is a Python function;
# building them with tuple.__new__ gives the same objects for a fraction of the cost.
_new = tuple.__new__


def tokenize(source: str, file: str = "<input>") -> list[Token]:
    """Split `source` into tokens; raises `TelSyntaxError` at the first bad character.

    One pass of one compiled pattern (`finditer`; every character but trailing blanks
    is in some match, the last alternative catching bad characters); each token's Loc is built
    from the running line number and the offset of the line's start.
    """
    tokens: list[Token] = []
    append = tokens.append
    line, line_start = 1, 0
    keywords = KEYWORDS
    n = len(source)

    def here(pos: int) -> Loc:
        return Loc(file, line, pos - line_start + 1)

    for m in _MASTER.finditer(source):
        kind: str = m.lastgroup  # type: ignore[assignment]  # every alternative is a named group
        j = m.end()
        if kind == "nl":
            line, line_start = line + 1, j
            continue
        i = m.start(kind)
        if kind == "ident":
            text = m.group(kind)
            append(_new(Token, ("kw" if text in keywords else "ident", text,
                                _new(Loc, (file, line, i - line_start + 1)), None)))
        elif kind == "op":
            append(_new(Token, ("op", m.group(kind), _new(Loc, (file, line, i - line_start + 1)), None)))
        elif kind == "int":
            if j < n and (source[j].isalpha() or source[j] == "_"):
                raise TelSyntaxError(here(j), "a digit or a separator", repr(source[j]), source)
            text = m.group(kind)
            append(_new(Token, ("int", text, _new(Loc, (file, line, i - line_start + 1)), int(text))))
        elif kind == "ws":
            continue
        elif kind == "str":
            text = m.group(kind)
            if "\\" in text:  # escapes: decoded (and checked) by the careful scanner
                value = _string(source, i, here)[1]
            else:
                value = text[1:-1]
            append(Token("str", text, here(i), value))
        elif kind == "bytes":
            text = m.group(kind)
            digits = text[2:-1]
            try:
                data = bytes.fromhex(digits)
            except ValueError:
                raise TelSyntaxError(here(i), "an even number of hex digits", repr(digits), source)
            if len(digits) != 2 * len(data):
                raise TelSyntaxError(here(i), "hex digits without spaces", repr(digits), source)
            append(Token("bytes", text, here(i), data))
        elif kind == "strx":  # unterminated: the careful scanner says where and why
            _string(source, i, here)
            raise TelSyntaxError(here(i), "a closing '\"'", "end of line", source)  # pragma: no cover
        else:  # "bad": no token starts here
            raise TelSyntaxError(here(i), "a token", repr(source[i]), source)
    tokens.append(Token("eof", "", here(n)))
    return tokens


def _string(source: str, i: int, loc_of: Callable[[int], Loc]) -> tuple[int, str]:
    """Scan a string literal starting at the quote at `i`; return (end, value)."""
    out: list[str] = []
    j, n = i + 1, len(source)
    while True:
        if j >= n or source[j] == "\n":
            raise TelSyntaxError(loc_of(i), "a closing '\"'", "end of line", source)
        c = source[j]
        if c == '"':
            return j + 1, "".join(out)
        if c == "\\":
            e = source[j + 1] if j + 1 < n else ""
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                j += 2
                continue
            if e == "u" and source.startswith("{", j + 2):
                k = source.find("}", j + 3)
                digits = source[j + 3:k] if k > 0 else ""
                if k > 0 and 1 <= len(digits) <= 6 and all(d in "0123456789abcdefABCDEF" for d in digits):
                    code = int(digits, 16)
                    if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                        out.append(chr(code))
                        j = k + 1
                        continue
            raise TelSyntaxError(
                loc_of(j), "an escape \\n \\t \\r \\\\ \\\" or \\u{hex}", repr(source[j:j + 2]), source
            )
        out.append(c)
        j += 1
