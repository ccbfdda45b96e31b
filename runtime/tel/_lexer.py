"""TEL's lexer: source text to a list of tokens with line:col locations.

Tokens: identifiers, keywords, Int literals (decimal), String literals
(`"..."` with escapes `\\n \\t \\r \\\\ \\" \\u{hex}`), Bytes literals (`x"00ff"`), the
punctuation and operators of the grammar, and EOF. `#` starts a comment that
runs to the end of the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ._errors import Loc, TelSyntaxError

__all__ = ["Token", "tokenize", "KEYWORDS"]

KEYWORDS = frozenset({
    "def", "effect", "let", "in", "if", "then", "else", "fn", "match", "perform",
    "true", "false", "Some", "None", "Fn",
})

# longest first, so "==" wins over "="
_PUNCT = (
    "=>", "->", "==", "!=", "<=", ">=", "&&", "||", "++",
    "+", "-", "*", "/", "%", "<", ">", "!", "=", "(", ")", "[", "]", "{", "}",
    ",", ";", ":", ".",
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}


@dataclass(frozen=True, slots=True)
class Token:
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


def tokenize(source: str, file: str = "<input>") -> list[Token]:
    """Split `source` into tokens; raises `TelSyntaxError` at the first bad character."""
    tokens: list[Token] = []
    i, line, line_start, n = 0, 1, 0, len(source)

    def here(pos: int) -> Loc:
        return Loc(file, line, pos - line_start + 1)

    while i < n:
        c = source[i]
        if c == "\n":
            i += 1
            line, line_start = line + 1, i
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "#":
            while i < n and source[i] != "\n":
                i += 1
            continue
        start = i
        if c == "x" and i + 1 < n and source[i + 1] == '"':
            j = source.find('"', i + 2)
            if j < 0 or "\n" in source[i + 2:j]:
                raise TelSyntaxError(here(i), 'a closing \'"\'', "end of line", source)
            digits = source[i + 2:j]
            try:
                value = bytes.fromhex(digits)
            except ValueError:
                raise TelSyntaxError(here(i), "an even number of hex digits", repr(digits), source)
            if len(digits) != 2 * len(value):
                raise TelSyntaxError(here(i), "hex digits without spaces", repr(digits), source)
            tokens.append(Token("bytes", source[i:j + 1], here(i), value))
            i = j + 1
            continue
        if (c.isalpha() and c.isascii()) or c == "_":
            while i < n and (source[i].isalnum() or source[i] == "_") and source[i].isascii():
                i += 1
            text = source[start:i]
            tokens.append(Token("kw" if text in KEYWORDS else "ident", text, here(start)))
            continue
        if c.isdigit() and c.isascii():
            while i < n and source[i].isdigit() and source[i].isascii():
                i += 1
            if i < n and (source[i].isalpha() or source[i] == "_"):
                raise TelSyntaxError(here(i), "a digit or a separator", repr(source[i]), source)
            text = source[start:i]
            tokens.append(Token("int", text, here(start), int(text)))
            continue
        if c == '"':
            i, text_value = _string(source, i, here)
            tokens.append(Token("str", source[start:i], here(start), text_value))
            continue
        for p in _PUNCT:
            if source.startswith(p, i):
                tokens.append(Token("op", p, here(i)))
                i += len(p)
                break
        else:
            raise TelSyntaxError(here(i), "a token", repr(c), source)
    tokens.append(Token("eof", "", here(i)))
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
