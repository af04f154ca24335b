"""Cucumber-style tag expressions: ``@week1 and not (@negative or @readonly)``.

Why our own: pytest's ``-m`` cannot express plan tags such as ``@plan:W1-TUE-NOMINATE-T1``
(a marker name cannot hold a colon), and QA already writes Cucumber expressions. The grammar
is the usual one: ``not`` binds tighter than ``and``, which binds tighter than ``or``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

Predicate = Callable[[frozenset[str]], bool]

_TOKEN = re.compile(r"\s*(\(|\)|\band\b|\bor\b|\bnot\b|@?[^\s()]+)")


class TagExpressionError(ValueError):
    """A tag expression that cannot be parsed; the message says where."""


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise TagExpressionError(f"cannot read the tag expression {text!r} at position {pos}")
        out.append(m.group(1))
        pos = m.end()
    return out


def normalise(tag: str) -> str:
    """Tags compare without their leading ``@``."""
    return tag[1:] if tag.startswith("@") else tag


def parse(text: str) -> Predicate:
    """Compile an expression into a predicate over a scenario's tag set (tags without ``@``)."""
    tokens = _tokens(text)
    if not tokens:
        return lambda tags: True
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        tok = peek()
        if tok is None:
            raise TagExpressionError(f"the tag expression {text!r} ends too early")
        pos += 1
        return tok

    def expr_or() -> Predicate:
        left = expr_and()
        while peek() == "or":
            take()
            right = expr_and()
            left = (lambda a, b: lambda t: a(t) or b(t))(left, right)
        return left

    def expr_and() -> Predicate:
        left = expr_not()
        while peek() == "and":
            take()
            right = expr_not()
            left = (lambda a, b: lambda t: a(t) and b(t))(left, right)
        return left

    def expr_not() -> Predicate:
        if peek() == "not":
            take()
            inner = expr_not()
            return lambda t: not inner(t)
        return atom()

    def atom() -> Predicate:
        tok = take()
        if tok == "(":
            inner = expr_or()
            if take() != ")":
                raise TagExpressionError(f"missing ')' in the tag expression {text!r}")
            return inner
        if tok in (")", "and", "or"):
            raise TagExpressionError(f"unexpected {tok!r} in the tag expression {text!r}")
        name = normalise(tok)
        return lambda t: name in t

    predicate = expr_or()
    if peek() is not None:
        raise TagExpressionError(f"unexpected {peek()!r} in the tag expression {text!r}")
    return predicate


def matches(text: str | None, tags: Iterable[str]) -> bool:
    return True if not text else parse(text)(frozenset(normalise(t) for t in tags))
