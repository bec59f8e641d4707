"""The gate's fast path: a verdict for pyoxigraph from a query's tokens alone, without rdflib's parse."""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.sparql.lexer import DEFAULT_MAX_NESTING, OXIGRAPH_MAX_DEPTH, OXIGRAPH_MAX_TOKENS, tokens

__all__ = ["Screened", "screen"]

# --- the fast path: tokens alone ------------------------------------------------------------------------------

# Words that make a query rdflib's or no query at all: a way out (SERVICE), a dataset (FROM, GRAPH), an update.
_NOT_FAST = ("SERVICE", "FROM", "GRAPH", "LOAD", "INSERT", "DELETE", "CLEAR", "DROP", "CREATE", "ADD", "MOVE")
_NOT_FAST_TOO = ("COPY", "WITH", "USING")
_NOT_FAST_WORD = re.compile("|".join(_NOT_FAST + _NOT_FAST_TOO), re.IGNORECASE)
# Tokens after which a `<` can be the less-than operator (they end an operand of an expression).
_OPERAND_END = frozenset(("var", "number", "string", "langtag", "pname", "iri", "word", "bnode", "close"))
_INTEGER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Screened:
    """A query the tokens alone let pyoxigraph answer (see `screen`); rdflib never saw it."""

    text: str
    form: str  # SELECT or ASK
    limit: int | None  # the query's own final LIMIT, read from its last tokens
    depth: int
    tokens: int

    oxigraph_may_answer = True

    def limited_to(self, row_limit: int) -> bool:
        return self.limit is not None and self.limit <= row_limit


def screen(text: str, *, max_nesting: int = DEFAULT_MAX_NESTING) -> Screened | None:
    """The fast path: a verdict for pyoxigraph from the query's tokens, without rdflib's parse (~7 ms), or None
    when the tokens cannot decide and `inspect()` must.

    Why tokens suffice. A keyword acts as one only where a tokenizer emits it as a word: inside a string, an
    IRI, a comment, a variable (`?SERVICE`) or a prefixed name (`ex:SERVICE`) it is text, and `1SERVICE` is a
    number followed by the word. So a query with no word that holds SERVICE, FROM, GRAPH or an update keyword
    can neither leave the process nor name a dataset, whatever its grammar; pyoxigraph parses it and refuses
    what is not a query (400). Only texts the gate and pyoxigraph cannot read differently are screened:

    - no `\\u` or `\\U` at all (pyoxigraph resolves those inside strings and IRIs only);
    - a word is refused when it merely contains a keyword (`SERVICESILENT`, `xSERVICE`), not only when it is one,
      and so is a prefixed name whose prefix does (`SERVICEsvc:x` is SERVICE then svc:x to pyoxigraph);
    - a `<...>` that follows an operand inside parentheses may be the less-than operator to a real parser
      (`FILTER(?a<?b)SERVICE?v#>`: the `#` starts a comment there), and so may one right after `<`: such a
      text goes to `inspect()`, as does an IRI holding brackets, a LANGTAG after no string, and a prefixed name
      whose escapes or dots stand next to a keyword;
    - the form is the first word after BASE and PREFIX, SELECT or ASK; nesting and size within what pyoxigraph
      is given (OXIGRAPH_MAX_DEPTH, OXIGRAPH_MAX_TOKENS) and within `max_nesting`.

    And the worker's network wall stands behind this, as behind `inspect()`.
    """
    if "\\u" in text or "\\U" in text:
        return None
    found = tokens(text)
    if len(found) > OXIGRAPH_MAX_TOKENS:
        return None
    depth = deepest = parens = 0
    previous = ""
    for kind, spelled in found:
        if _undecided(kind, spelled, previous, parens):
            return None
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
            parens += spelled == "("
        elif kind == "close" and depth:
            depth -= 1
            parens -= spelled == ")" and parens > 0
        previous = spelled if kind == "other" else kind
    if deepest > min(max_nesting, OXIGRAPH_MAX_DEPTH):
        return None
    form = _form(found)
    if form not in ("SELECT", "ASK"):
        return None
    return Screened(text=text, form=form, limit=_tail_limit(found), depth=deepest, tokens=len(found))


def _undecided(kind: str, spelled: str, previous: str, parens: int) -> bool:
    """Whether this token leaves the fast path (see `screen`): a keyword in a word, or a token a real parser may
    read otherwise than the tokenizer does."""
    if kind in ("word", "bnode"):
        return _NOT_FAST_WORD.search(spelled) is not None
    if kind == "iri":
        return bool(parens and previous in _OPERAND_END) or previous == "<" or any(c in spelled for c in "()[]")
    if kind == "langtag":
        return previous != "string" or _NOT_FAST_WORD.search(spelled) is not None
    if kind == "pname":
        # pyoxigraph's parser takes a keyword where it starts, with no word boundary after it: to it
        # `SERVICEsvc:x` is SERVICE then svc:x, where the grammar's longest match reads one prefixed name
        prefix, _, local = spelled.partition(":")
        tricky = any(c in local for c in "\\.%")
        return _NOT_FAST_WORD.search(spelled if tricky else prefix) is not None
    return False


def _form(found: list[tuple[str, str]]) -> str | None:
    """The query form word: the first token after BASE <iri> and PREFIX p: <iri> declarations."""
    at = 0
    while at < len(found):
        kind, token = found[at]
        word = token.upper() if kind == "word" else ""
        if word == "BASE":
            at += 2
        elif word == "PREFIX":
            at += 3
        else:
            return word or None
    return None


def _tail_limit(found: list[tuple[str, str]]) -> int | None:
    """The final LIMIT when the text ends in LIMIT n, LIMIT n OFFSET m or OFFSET m LIMIT n; else None (a
    trailing VALUES or anything else: no shortcut, the answer is cut as usual)."""
    words = [token.upper() if kind == "word" else token for kind, token in found[-4:]]
    if len(words) >= 2 and words[-2] == "LIMIT" and _INTEGER.fullmatch(words[-1]):
        return int(words[-1])
    if len(words) == 4 and words[0] == "LIMIT" and words[2] == "OFFSET" and _INTEGER.fullmatch(words[1]):
        return int(words[1]) if _INTEGER.fullmatch(words[3]) else None
    return None
