"""TEL's parser: tokens to a `Module` (or one `Expr`), by recursive descent and precedence.

Grammar (lowest precedence first; see docs/tel.md for the full reference)::

    module  := (effect | def)*
    effect  := 'effect' Name '{' (op (';')?)* '}'      op := name '(' params ')' '->' type
    def     := 'def' name '(' params ')' '->' type ('!' '{' Names '}')? '=' expr
    expr    := open (';' expr)?                         -- sequencing, right-assoc
    open    := 'let' x (':' type)? '=' expr 'in' expr | 'if' expr 'then' expr 'else' expr
             | 'fn' '(' params ')' '=>' expr | or
    or      := and ('||' and)*        and := cmp ('&&' cmp)*
    cmp     := cat (('=='|'!='|'<'|'<='|'>'|'>=') cat)?    -- non-associative
    cat     := add ('++' add)*        add := mul (('+'|'-') mul)*
    mul     := unary (('*'|'/'|'%') unary)*
    unary   := '-' unary | '!' unary | postfix      -- '-' INT is one negative literal
    postfix := atom ('(' args ')' | '.' INT)*
    atom    := INT | STRING | BYTES | true | false | name | '()' | '(' expr ')'
             | '(' expr ',' expr (',' expr)* ')' | '[' args ']' | 'Some' '(' expr ')' | 'None'
             | 'match' expr '{' 'Some' '(' x ')' '=>' expr ',' 'None' '=>' expr ','? '}'
             | 'perform' Effect '.' op '(' args ')' | open

The bodies of let, if/else and fn extend as far right as possible (over `;` too).
"""

from __future__ import annotations

import sys
from typing import Callable, TypeVar

from ._ast import (
    PRIMITIVE_TYPES, Binary, BoolLit, BytesLit, Call, Decl, Def, EffectDecl, Expr, If,
    IntLit, Lambda, Let, ListLit, Match, Module, NoneE, OpDecl, Param, Perform, Proj, Seq,
    SomeE, StrLit, TFn, TList, TName, TOption, TTuple, TupleLit, Type, Unary, UnitLit, Var,
)
from ._errors import Loc, TelSyntaxError
from ._gc import gc_paused
from ._lexer import Token, tokenize

__all__ = ["parse_module", "parse_expr", "parse_type", "BINARY_LEVELS", "MAX_NESTING"]

#: binary operator -> precedence level (higher binds tighter)
BINARY_LEVELS: dict[str, int] = {
    "||": 2, "&&": 3,
    "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
    "++": 5, "+": 6, "-": 6, "*": 7, "/": 7, "%": 7,
}
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
#: deepest expression/type nesting the parser accepts (protects the host's stack)
MAX_NESTING = 100
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


class _Parser:
    def __init__(self, source: str, file: str) -> None:
        self.source = source
        self.toks = tokenize(source, file)
        self.pos = 0
        self.depth = 0

    # ------------------------------------------------------------ helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def fail(self, expected: str, tok: Token | None = None) -> TelSyntaxError:
        t = self.tok if tok is None else tok
        return TelSyntaxError(t.loc, expected, t.describe(), self.source)

    def at(self, text: str) -> bool:
        # only ever asked about operators and keywords, which no other token's text equals
        return self.toks[self.pos].text == text

    def accept(self, text: str) -> bool:
        if self.toks[self.pos].text == text:
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> Token:
        t = self.toks[self.pos]
        if t.text != text:
            raise self.fail(repr(text))
        self.pos += 1
        return t

    def ident(self, what: str = "a name") -> Token:
        t = self.toks[self.pos]
        if t.kind != "ident":
            raise self.fail(what)
        self.pos += 1
        return t

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise TelSyntaxError(
                self.tok.loc, f"at most {MAX_NESTING} levels of nesting", "deeper nesting",
                self.source)

    # ------------------------------------------------------------ declarations
    def module(self) -> Module:
        decls: list[Decl] = []
        start = self.tok.loc
        while self.tok.kind != "eof":
            if self.at("def"):
                decls.append(self.definition())
            elif self.at("effect"):
                decls.append(self.effect())
            else:
                raise self.fail("'def' or 'effect'")
        return Module(tuple(decls), start)

    def params(self) -> tuple[Param, ...]:
        self.expect("(")
        out: list[Param] = []
        while not self.at(")"):
            name = self.ident("a parameter name")
            self.expect(":")
            out.append(Param(name.text, self.type_(), name.loc))
            if not self.accept(","):
                break
        self.expect(")")
        return tuple(out)

    def row(self) -> frozenset[str]:
        self.expect("{")
        names: list[str] = []
        while not self.at("}"):
            names.append(self.ident("an effect name").text)
            if not self.accept(","):
                break
        self.expect("}")
        return frozenset(names)

    def definition(self) -> Def:
        loc = self.expect("def").loc
        name = self.ident("a definition name").text
        params = self.params()
        self.expect("->")
        ret = self.type_()
        effects = self.row() if self.accept("!") else frozenset()
        self.expect("=")
        return Def(name, params, ret, effects, self.expr(), loc)

    def effect(self) -> EffectDecl:
        loc = self.expect("effect").loc
        name = self.ident("an effect name").text
        self.expect("{")
        ops: list[OpDecl] = []
        while not self.at("}"):
            op = self.ident("an operation name or '}'")
            params = self.params()
            self.expect("->")
            ops.append(OpDecl(op.text, params, self.type_(), op.loc))
            self.accept(";")
        self.expect("}")
        return EffectDecl(name, tuple(ops), loc)

    # ------------------------------------------------------------ types
    def type_(self) -> Type:
        self.enter()  # (on an error the parse is abandoned, so no try/finally is needed)
        t = self._type()
        self.depth -= 1
        return t

    def _type(self) -> Type:
        t = self.tok
        if t.kind == "ident" and t.text in PRIMITIVE_TYPES:
            self.pos += 1
            return TName(t.text, t.loc)
        if t.kind == "ident" and t.text in ("List", "Option"):
            self.pos += 1
            self.expect("[")
            elem = self.type_()
            self.expect("]")
            return TList(elem, t.loc) if t.text == "List" else TOption(elem, t.loc)
        if self.accept("Fn"):
            self.expect("(")
            params: list[Type] = []
            while not self.at(")"):
                params.append(self.type_())
                if not self.accept(","):
                    break
            self.expect(")")
            self.expect("->")
            ret = self.type_()
            effects = self.row() if self.accept("!") else frozenset()
            return TFn(tuple(params), ret, effects, t.loc)
        if self.accept("("):
            first = self.type_()
            if self.accept(")"):
                return first
            items = [first]
            while self.accept(","):
                items.append(self.type_())
            self.expect(")")
            return TTuple(tuple(items), t.loc)
        raise self.fail("a type (Int, Bool, Bytes, String, Unit, List[T], Option[T], (A, B), Fn)")

    # ------------------------------------------------------------ expressions
    def expr(self) -> Expr:
        self.enter()
        first = self.open_()
        t = self.toks[self.pos]
        if t.text == ";":
            self.pos += 1
            first = Seq(first, self.expr(), t.loc)
        self.depth -= 1
        return first

    def open_(self) -> Expr:
        t = self.toks[self.pos]
        if t.kind != "kw":  # the common case: no let/if/fn here
            return self.binary(2)
        if self.accept("let"):
            name = self.ident("a variable name").text
            ty = self.type_() if self.accept(":") else None
            self.expect("=")
            value = self.expr()
            self.expect("in")
            return Let(name, ty, value, self.expr(), t.loc)
        if self.accept("if"):
            cond = self.expr()
            self.expect("then")
            then = self.expr()
            self.expect("else")
            return If(cond, then, self.expr(), t.loc)
        if self.accept("fn"):
            params = self.params()
            self.expect("=>")
            return Lambda(params, self.expr(), t.loc)
        return self.binary(2)

    def binary(self, min_level: int) -> Expr:
        left = self.unary()
        toks = self.toks
        while toks[self.pos].kind == "op" and BINARY_LEVELS.get(toks[self.pos].text, -1) >= min_level:
            op = toks[self.pos]
            level = BINARY_LEVELS[op.text]
            self.pos += 1
            right = self.binary(level + 1)  # at most one level per precedence level: bounded
            left = Binary(op.text, left, right, op.loc)
            if op.text in COMPARISONS and self.tok.kind == "op" and self.tok.text in COMPARISONS:
                raise self.fail("no second comparison (comparisons do not chain; add parentheses)")
        return left

    def unary(self) -> Expr:
        t = self.toks[self.pos]
        if t.text == "-" or t.text == "!":
            self.pos += 1
            if t.text == "-" and self.tok.kind == "int":
                value = -int(self.tok.value)  # type: ignore[call-overload]
                if value < INT_MIN:
                    raise self.fail("an Int literal within 64 bits")
                self.pos += 1
                return IntLit(value, t.loc)
            self.enter()
            u = Unary(t.text, self.unary(), t.loc)
            self.depth -= 1
            return u
        return self.postfix()

    def args(self, close: str) -> tuple[Expr, ...]:
        out: list[Expr] = []
        toks = self.toks
        while toks[self.pos].text != close:
            out.append(self.expr())
            if toks[self.pos].text != ",":
                break
            self.pos += 1
        if toks[self.pos].text != close:
            raise self.fail(repr(close))
        self.pos += 1
        return tuple(out)

    def postfix(self) -> Expr:
        e = self.atom()
        while True:
            t = self.toks[self.pos]
            if t.text == "(":
                self.pos += 1
                e = Call(e, self.args(")"), e.loc)
            elif t.text == "." and self.peek().kind == "int":
                self.pos += 1
                e = Proj(e, int(self.tok.value), e.loc)  # type: ignore[call-overload]
                self.pos += 1
            else:
                return e

    def atom(self) -> Expr:
        t = self.toks[self.pos]
        if t.kind == "ident":
            self.pos += 1
            return Var(t.text, t.loc)
        if t.kind == "int":
            self.pos += 1
            if int(t.value) > INT_MAX:  # type: ignore[call-overload]
                raise self.fail("an Int literal within 64 bits", t)
            return IntLit(int(t.value), t.loc)  # type: ignore[call-overload]
        if t.kind == "str":
            self.pos += 1
            return StrLit(str(t.value), t.loc)
        if t.kind == "bytes":
            self.pos += 1
            assert isinstance(t.value, bytes)
            return BytesLit(t.value, t.loc)
        if self.accept("true") or self.accept("false"):
            return BoolLit(t.text == "true", t.loc)
        if self.accept("None"):
            return NoneE(t.loc)
        if self.accept("Some"):
            self.expect("(")
            value = self.expr()
            self.expect(")")
            return SomeE(value, t.loc)
        if self.accept("("):
            if self.accept(")"):
                return UnitLit(t.loc)
            first = self.expr()
            if self.accept(")"):
                return first
            items = [first]
            while self.accept(","):
                items.append(self.expr())
            self.expect(")")
            return TupleLit(tuple(items), t.loc)
        if self.accept("["):
            return ListLit(self.args("]"), t.loc)
        if self.accept("match"):
            return self.match(t.loc)
        if self.accept("perform"):
            effect = self.ident("an effect name").text
            self.expect(".")
            op = self.ident("an operation name").text
            self.expect("(")
            return Perform(effect, op, self.args(")"), t.loc)
        if t.kind == "kw" and t.text in ("let", "if", "fn"):
            return self.open_()
        raise self.fail("an expression")

    def match(self, loc: Loc) -> Match:
        scrutinee = self.expr()
        self.expect("{")
        some: tuple[str, Expr] | None = None
        none: Expr | None = None
        while not self.at("}"):
            if self.accept("Some"):
                if some is not None:
                    raise self.fail("only one 'Some' arm")
                self.expect("(")
                name = self.ident("a variable name").text
                self.expect(")")
                self.expect("=>")
                some = (name, self.expr())
            elif self.accept("None"):
                if none is not None:
                    raise self.fail("only one 'None' arm")
                self.expect("=>")
                none = self.expr()
            else:
                raise self.fail("a 'Some(x) =>' or 'None =>' arm")
            if not self.accept(","):
                break
        if some is None or none is None:
            raise self.fail("both a 'Some(x) =>' and a 'None =>' arm")
        self.expect("}")
        return Match(scrutinee, some[0], some[1], none, loc)


_T = TypeVar("_T")


def _deep_enough(run: Callable[[], _T]) -> _T:
    """Run a parse with room for MAX_NESTING levels (about 8 Python frames each) on the stack."""
    old = sys.getrecursionlimit()
    need = sys.getrecursionlimit() if old >= 10 * MAX_NESTING + 2000 else 10 * MAX_NESTING + 2000
    if need > old:
        sys.setrecursionlimit(need)
    try:
        return run()
    finally:
        if need > old:
            sys.setrecursionlimit(old)


def parse_module(source: str, file: str = "<input>") -> Module:
    """Parse a whole TEL source file; raises `TelSyntaxError` with file:line:col and a caret."""
    with gc_paused():  # tokens and nodes are acyclic: the collector's passes are pure cost
        return _deep_enough(_Parser(source, file).module)


def parse_expr(source: str, file: str = "<expr>") -> Expr:
    """Parse one TEL expression (the whole input)."""
    p = _Parser(source, file)
    e = _deep_enough(p.expr)
    if p.tok.kind != "eof":
        raise p.fail("end of input")
    return e


def parse_type(source: str, file: str = "<type>") -> Type:
    """Parse one TEL type (the whole input)."""
    p = _Parser(source, file)
    t = _deep_enough(p.type_)
    if p.tok.kind != "eof":
        raise p.fail("end of input")
    return t
