"""The gate's first steps on the text (server/sparql/gate.py): resolve the \\u escapes, cut it into SPARQL's
terminals, measure its nesting; and the gate's refusal, `Refused`, with the limits every step shares."""

from __future__ import annotations

import re
from typing import NoReturn

__all__ = [
    "DEFAULT_MAX_NESTING",
    "OXIGRAPH_MAX_DEPTH",
    "OXIGRAPH_MAX_TOKENS",
    "Refused",
    "measure",
    "resolve_escapes",
    "short",
    "tokens",
]

# Levels of { }, ( ) and [ ] together. Hand-written queries rarely pass 15; rdflib's parser needs up to ~41
# Python frames per level, so 100 levels fit well within RECURSION_LIMIT.
DEFAULT_MAX_NESTING = 100
# What pyoxigraph may be given. Its parser and evaluator recurse without a limit and crash the process
# (SIGSEGV) near 2,200 nested groups, 2,600 MINUS or BIND in a row, 6,700 UNIONs, 6,900 `+` (measured with
# pyoxigraph 0.5 on an 8 MiB stack). A query past these bounds is answered by rdflib, which stops cleanly.
OXIGRAPH_MAX_TOKENS = 4_000
OXIGRAPH_MAX_DEPTH = 200


# --- refusals -------------------------------------------------------------------------------------------------


class Refused(Exception):
    """The gate's no: a status (400 or 403) and the message in both languages; `cause` is the parser's error."""

    def __init__(self, status: int, english: str, japanese: str, cause: BaseException | None = None) -> None:
        super().__init__(f"{english} / {japanese}")
        self.status = status
        self.english = english
        self.japanese = japanese
        self.cause = cause

    @property
    def message(self) -> str:
        return f"{self.english} / {self.japanese}"


def _refuse(status: int, english: str, japanese: str, cause: BaseException | None = None) -> NoReturn:
    raise Refused(status, english, japanese, cause)


def short(error: BaseException, limit: int = 300) -> str:
    """The first line-ish of an error, bounded: pyparsing and pyoxigraph can list hundreds of expected tokens."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- 1. escapes -----------------------------------------------------------------------------------------------

# Exactly four digits after \u and exactly eight after \U (SPARQL 1.1 §19.2); anything else is left as it is.
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def resolve_escapes(text: str) -> str:
    """The text with every \\u and \\U escape replaced by its character, once (an escaped backslash followed
    by `u0053` gives the six characters `\\u0053`, not `S`)."""

    def character(found: re.Match[str]) -> str:
        digits = found.group(1) or found.group(2)
        code = int(digits, 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            _refuse(
                400,
                f"Malformed query: {found.group(0)} is not a Unicode character.",
                f"クエリの構文が正しくありません：{found.group(0)} は Unicode の文字ではありません。",
            )
        return chr(code)

    return _ESCAPE.sub(character, text)


# --- 2. tokens and nesting ------------------------------------------------------------------------------------

# SPARQL 1.1's terminals (§19.8), in the order that makes Python's first match the grammar's longest one: a
# prefixed name before a bare word (`SERVICE:x` is a name, `SERVICE` a keyword), a number before a word
# (`1SERVICE` is INTEGER then SERVICE). An IRI is `<` up to `>` without spaces or <>"{}|^`\\ (IRIREF); a `<` that
# starts none is an operator. An unterminated string runs to the end of its line (or of the text, for a long
# string): the parser refuses it anyway, and nothing after it can nest deeper than what the parser reads before
# it stops. Every other character (+ - * / ! & | ^ = , ; and the rest) is a token of its own, so that `1+1+1`
# counts as the five tokens of the chain it is, never as one word.
_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_CHARS = _BASE + "_\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"  # PN_CHARS
_VARCHARS = _BASE + "_0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_TOKEN = re.compile(
    rf"""
      (?P<space>[\ \t\r\n]+)
    | (?P<comment>\#[^\r\n]*)
    | (?P<iri><[^<>"{{}}|^`\\\x00-\x20]*>)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)
      | \"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|\Z)
      | '(?:[^'\\\r\n]|\\.)*'?
      | "(?:[^"\\\r\n]|\\.)*"?)
    | (?P<var>[?$][{_VARCHARS}]+)
    | (?P<pname>(?:[{_BASE}](?:[{_CHARS}.]*[{_CHARS}])?)?:
        (?:(?:[{_CHARS}:]|{_PLX})(?:(?:[{_CHARS}.:]|{_PLX})*(?:[{_CHARS}:]|{_PLX}))?)?)
    | (?P<bnode>_:[{_VARCHARS}](?:[{_CHARS}.]*[{_CHARS}])?)
    | (?P<number>[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.?[0-9]+[eE][+-]?[0-9]+|[0-9]*\.[0-9]+|[0-9]+)
    | (?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
    | (?P<word>[A-Za-z][A-Za-z0-9_]*)
    | (?P<open>[{{(\[])
    | (?P<close>[}})\]])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(resolved: str) -> list[tuple[str, str]]:
    """(kind, text) of each terminal of a text whose escapes are resolved, blanks and comments left out. Only a
    `word` token can be a keyword: `ex:SERVICE` is a pname, `?SERVICE` a var, `<...SERVICE...>` an iri."""
    return [(kind, t.group()) for t in _TOKEN.finditer(resolved) if (kind := t.lastgroup or "other") not in _BLANK]


_BLANK = ("space", "comment")


def measure(resolved: str) -> tuple[int, int]:
    """(deepest nesting of { }, ( ) and [ ] together, number of tokens) of a text whose escapes are resolved."""
    depth = deepest = count = 0
    for token in _TOKEN.finditer(resolved):
        kind = token.lastgroup
        if kind in _BLANK:
            continue
        count += 1
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "close" and depth:
            depth -= 1
    return deepest, count
