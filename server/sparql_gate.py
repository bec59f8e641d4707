"""The one place that decides what a SPARQL query may do: on its parse, never on patterns over its text.

Every path a query takes goes through `inspect()` first: the endpoint's workers (server/sparql.py), before
pyoxigraph or rdflib sees the query, and `hvkg query` (server/cli.py). What it does, in order:

1. resolve `\\uXXXX` and `\\UXXXXXXXX` escapes, as SPARQL 1.1 §19.2 says happens before parsing. rdflib's
   `parseQuery` does this too, but loosely (`\\u` followed by eight digits, `\\U` by four), so the gate resolves
   them itself and hands rdflib's grammar the resolved text, which nothing resolves again;
2. tokenize the resolved text (strings, IRIs and comments skipped as SPARQL's lexer skips them) and refuse a
   query nested deeper than the limit, before any engine parses it: both parsers recurse per level, and
   pyoxigraph's overflows the C stack (SIGSEGV) near 2,200 nested groups;
3. parse with rdflib's grammar: a text that is not a query is refused, 403 when it is an update (LOAD named),
   400 with the parser's message otherwise;
4. walk the parse tree: SERVICE anywhere (a subquery, EXISTS, MINUS, OPTIONAL ...) is refused, and so is what
   rdflib accepts but SPARQL (and pyoxigraph) does not: SELECT * or an ungrouped variable in a grouped query;
   the dataset clauses, the query form, GRAPH patterns and the query's own final LIMIT are read;
5. translate to rdflib's algebra, mending what rdflib gets wrong on valid queries (DESCRIBE *, CONSTRUCT WHERE
   with solution modifiers) and refusing a variable projected twice.

`mend_rdflib()` corrects one thing rdflib evaluates wrongly (GROUP BY over no solution), so that rdflib and
pyoxigraph answer alike; `lock_rdflib()` is the lock behind the gate in every process that evaluates queries.

pyoxigraph only ever receives a text whose parse the gate accepted, and only when the two parsers cannot read
it differently: no escapes at all (pyoxigraph resolves `\\u` inside strings and IRIs only, not before
parsing, so `"\\u0022 ... "` is one string to it and two to the gate) and a size whose evaluation cannot
overflow pyoxigraph's stack (`oxigraph_may_read`). A query with a dataset or GRAPH goes to pyoxigraph only
with the dataset the endpoint resolved from the gate's parse passed explicitly (server/sparql.py), which
replaces whatever pyoxigraph reads in the text; without a store of named graphs, to rdflib
(`oxigraph_may_answer`).

The dataset IRIs (FROM, FROM NAMED) are read from the translated algebra: resolved against BASE and the
endpoint's URL as pyoxigraph resolves them, so both engines name the same graphs.

`screen()` comes before all this in the worker: a SELECT or ASK whose tokens hold no SERVICE, dataset, GRAPH
or update keyword, no escape and nothing a real parser may read otherwise goes to pyoxigraph without rdflib's
parse (why tokens suffice: see its docstring).

Messages are in English and Japanese; none carries Python's own text.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.plugins.sparql.sparql import FrozenBindings, Query, QueryContext

__all__ = [
    "DEFAULT_MAX_NESTING",
    "Gated",
    "Refused",
    "Screened",
    "allow_deep_queries",
    "find",
    "inspect",
    "lock_rdflib",
    "measure",
    "mend_rdflib",
    "resolve_escapes",
    "screen",
    "short",
    "tokens",
    "worded",
]

logger = logging.getLogger(__name__)

# Levels of { }, ( ) and [ ] together. Hand-written queries rarely pass 15; rdflib's parser needs up to ~41
# Python frames per level, so 100 levels fit well within RECURSION_LIMIT.
DEFAULT_MAX_NESTING = 100
# Python's recursion limit while a query is parsed and evaluated (the worker process, `hvkg query`). rdflib
# recurses per level of nesting and per link of a chain (3,600 BINDs, 4,000 MINUS): measured on the largest
# queries the endpoint accepts (64 KiB), 10,000 frames end in RecursionError, never in a C-stack overflow.
RECURSION_LIMIT = 10_000
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


def worded(error: BaseException) -> str | None:
    """The error's own message when it is meant for a reader (a parser's or rdflib's word on the query), else
    None: a TypeError or KeyError from inside rdflib says something about rdflib, in Python's words."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.sparql import SPARQLError

    # rdflib raises a bare Exception for an unknown prefix ("Unknown namespace prefix : ex")
    if isinstance(error, ParseBaseException | SPARQLError | ValueError) or type(error) is Exception:
        return short(error)
    return None


UPDATE_REFUSED = (
    "This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR ...) is not accepted.",
    "このエンドポイントは読み取り専用です。SPARQL Update（INSERT・DELETE・LOAD・CLEAR など）は受け付けません。",
)
LOAD_REFUSED = (
    "LOAD is not accepted: this endpoint is read-only and never fetches a graph.",
    "LOAD は受け付けません。このエンドポイントは読み取り専用で、グラフを取得することはありません。",
)
TOO_DEEP_FOR_THE_PARSER = (
    "The query is nested too deeply for the parser.",
    "クエリの入れ子が深すぎて構文解析できません。",
)


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


# --- 3.-5. parse, walk, translate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Gated:
    """A query the gate accepted, with what the engines need to know about it."""

    text: str  # as the client sent it
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    query: Query  # rdflib's algebra: what rdflib evaluates, never the text again
    default_graphs: tuple[str, ...]  # FROM
    named_graphs: tuple[str, ...]  # FROM NAMED
    uses_graph: bool  # a GRAPH pattern anywhere
    limit: int | None  # the query's own top-level LIMIT (a subquery's does not count)
    escaped: bool  # the text holds \u or \U
    depth: int
    tokens: int

    @property
    def oxigraph_may_read(self) -> bool:
        """Whether pyoxigraph may run the text given the dataset explicitly: it reads it as the gate did and it
        cannot overflow its stack on it."""
        return (
            self.form in ("SELECT", "ASK")
            and not self.escaped
            and self.depth <= OXIGRAPH_MAX_DEPTH
            and self.tokens <= OXIGRAPH_MAX_TOKENS
        )

    @property
    def oxigraph_may_answer(self) -> bool:
        """Whether pyoxigraph may run the text on a store's default graph alone: it may read it, and the query
        names no dataset and no GRAPH."""
        return self.oxigraph_may_read and not self.default_graphs and not self.named_graphs and not self.uses_graph

    def limited_to(self, row_limit: int) -> bool:
        """Whether the query asks for at most `row_limit` rows itself (no cut, no truncation note, is needed).
        A trailing VALUES is joined before LIMIT applies (SPARQL 1.1 §18.2.4), so it cannot add rows."""
        return self.limit is not None and self.limit <= row_limit


def inspect(
    text: str,
    *,
    base: str | None = None,
    prefixes: Mapping[str, Any] | None = None,
    max_nesting: int = DEFAULT_MAX_NESTING,
) -> Gated:
    """Accept a query (see the module docstring) or raise Refused. Call with `allow_deep_queries()` in force."""
    resolved = resolve_escapes(text)
    depth, tokens = measure(resolved)
    if depth > max_nesting:
        _refuse(
            400,
            f"The query is nested {depth} levels deep; at most {max_nesting} levels of {{ }}, ( ) and [ ] "
            "are accepted.",
            f"クエリの入れ子が {depth} 段あります。{{ }}・( )・[ ] の入れ子は {max_nesting} 段までです。",
        )
    parsed = _parse(resolved)
    body: CompValue = parsed[1]
    service = find(parsed, "ServiceGraphPattern")
    if service is not None:
        target = service.term
        _refuse(
            403,
            f"SERVICE is not allowed ({target}): queries are never sent to other services.",
            f"SERVICE は使えません（{target}）。他のサービスへ問い合わせることはありません。",
        )
    uses_graph = find(body, "GraphGraphPattern") is not None
    _check_grouping(parsed)
    limit = _final_limit(body)
    form = str(body.name).removesuffix("Query").upper()
    query = _translate(parsed, base, prefixes)
    # resolved IRIs (BASE, the endpoint's URL), as pyoxigraph reads them; a prefixed name expanded
    clauses = query.algebra.datasetClause or []
    default_graphs = tuple(str(clause.default) for clause in clauses if clause.default is not None)
    named_graphs = tuple(str(clause.named) for clause in clauses if clause.named is not None)
    return Gated(
        text=text,
        form=form,
        query=query,
        default_graphs=default_graphs,
        named_graphs=named_graphs,
        uses_graph=uses_graph,
        limit=limit,
        escaped="\\u" in text or "\\U" in text,
        depth=depth,
        tokens=tokens,
    )


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


def _parse(resolved: str) -> ParseResults:
    """rdflib's parse of the query, or Refused: 403 for an update, 400 with the parser's message otherwise."""
    from rdflib.plugins.sparql.parser import Query as QueryGrammar
    from rdflib.plugins.sparql.parser import UpdateUnit

    try:
        parsed: ParseResults = QueryGrammar.parse_string(resolved, parse_all=True)
        return parsed
    except RecursionError as error:
        _refuse(400, *TOO_DEEP_FOR_THE_PARSER, cause=error)
    except Exception as error:
        failure = error
    try:
        update = UpdateUnit.parse_string(resolved, parse_all=True)[0]
    except Exception:
        update = None
    # CompValue.get returns the key itself for a missing key: read attributes, which give None.
    requests = getattr(update, "request", None) or []
    if requests:
        if any(getattr(request, "name", None) == "Load" for request in requests):
            _refuse(403, *LOAD_REFUSED)
        _refuse(403, *UPDATE_REFUSED)
    said = worded(failure)
    if said is None:
        logger.warning("rdflib's SPARQL parser failed on a query: %r", failure)
        said = "the parser cannot read it"
    _refuse(400, f"Malformed query: {said}", f"クエリの構文が正しくありません：{said}", cause=failure)


def _check_grouping(parsed: ParseResults) -> None:
    """Refuse what SPARQL forbids in a grouped SELECT (GROUP BY, or an aggregate anywhere in it) and rdflib
    accepts, answering with a sample where pyoxigraph refuses: SELECT *, and a variable projected, alone or in
    an expression, that is neither a group key nor inside an aggregate (SPARQL 1.1 section 11.4, 19.8 note 12)."""
    from rdflib.term import Variable

    for select in _nodes(parsed):
        if getattr(select, "name", None) not in ("SelectQuery", "SubSelect"):
            continue
        projection = select.projection
        grouped = select.groupby is not None or any(
            _aggregated(part) for part in (projection, select.having, select.orderby)
        )
        if not grouped:
            continue
        if not projection:
            _refuse(
                400,
                "Malformed query: SELECT * cannot be used with GROUP BY or aggregates; name what to project.",
                "クエリが正しくありません：GROUP BY や集約関数と SELECT * は併用できません。"
                "射影する変数を指定してください。",
            )
        keys: set[Variable] = set()
        for condition in select.groupby.condition if select.groupby is not None else []:
            if getattr(condition, "name", None) == "GroupAs":
                keys.add(condition.var)
            elif isinstance(condition, Variable):
                keys.add(condition)  # GROUP BY STR(?s) groups by a value no projection can name
        for item in projection:
            used = [item.var] if item.var is not None else _outside_aggregates(item.expr)
            for variable in used:
                if variable not in keys:
                    _refuse(
                        400,
                        f"Malformed query: ?{variable} is projected but neither grouped nor inside an aggregate.",
                        f"クエリが正しくありません：?{variable} はグループ化も集約もされていないため射影できません。",
                    )
            if item.evar is not None:
                keys.add(item.evar)  # an earlier (expression AS ?v) may be used by a later one


def _nodes(tree: object, skip: tuple[str, ...] = ()) -> list[Any]:
    """Every CompValue and Variable under `tree` (explicit stack), not entering nodes whose name starts with
    one of `skip`."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import Variable

    found: list[Any] = []
    stack: list[object] = [tree]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, CompValue):
            if skip and str(item.name).startswith(skip):
                continue
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, Variable):
            found.append(item)
        elif isinstance(item, list | tuple | ParseResults):
            stack.extend(item)
    return found


# EXISTS holds a pattern of its own: its aggregates and variables are not the SELECT's.
_OWN_SCOPE = ("Builtin_EXISTS", "Builtin_NOTEXISTS")


def _aggregated(part: object) -> bool:
    nodes = _nodes(part, skip=_OWN_SCOPE)
    return any(str(getattr(node, "name", "")).startswith("Aggregate_") for node in nodes)


def _outside_aggregates(expression: object) -> list[Any]:
    from rdflib.term import Variable

    return [node for node in _nodes(expression, skip=("Aggregate_", *_OWN_SCOPE)) if isinstance(node, Variable)]


def _final_limit(body: CompValue) -> int | None:
    clauses = body.limitoffset
    limit = getattr(clauses, "limit", None) if clauses is not None else None
    if limit is None:
        return None
    try:
        return int(limit)
    except (TypeError, ValueError):
        return None


def _translate(parsed: ParseResults, base: str | None, prefixes: Mapping[str, Any] | None) -> Query:
    """rdflib's algebra of an accepted parse, with rdflib's gaps on valid queries mended."""
    from rdflib.plugins.sparql.algebra import _findVars, translateQuery, traverse

    body: CompValue = parsed[1]
    if body.name == "DescribeQuery" and body.var is None:
        # DESCRIBE *: every variable in scope of the pattern, as SELECT * takes them (rdflib fails on None).
        found: set[Any] = set()
        if body.where is not None:
            traverse(body.where, functools.partial(_findVars, res=found))
        body["var"] = sorted(found)
    try:
        query = translateQuery(parsed, base=base, initNs=dict(prefixes or {}))
    except RecursionError as error:
        _refuse(400, *TOO_DEEP_FOR_THE_PARSER, cause=error)
    except Exception as error:
        said = worded(error)
        if said is None:
            logger.warning("rdflib could not translate a query: %r", error)
            said = "this engine cannot translate it"
        _refuse(400, f"Malformed query: {said}", f"クエリが正しくありません：{said}", cause=error)
    algebra = query.algebra
    if algebra.name == "ConstructQuery" and not algebra.template:
        # CONSTRUCT WHERE { ... }: the template is the pattern itself. rdflib looks for it at a fixed depth of
        # the algebra, which LIMIT, OFFSET or ORDER BY shift, and then fails.
        pattern = find(algebra.p, "BGP")
        if pattern is not None and pattern.triples:
            algebra["template"] = list(pattern.triples)
    projected = [str(v) for v in algebra.PV or []] if algebra.name == "SelectQuery" else []
    if len(set(projected)) < len(projected):
        twice = next(name for name in projected if projected.count(name) > 1)
        # rdflib accepts SELECT ?x (1 AS ?x) and would write ?x twice in the head.
        _refuse(
            400,
            f"Malformed query: ?{twice} is projected twice.",
            f"クエリが正しくありません：?{twice} が二度射影されています。",
        )
    return query


def find(node: object, name: str) -> CompValue | None:
    """The first parse-tree or algebra node called `name` anywhere under `node`: subqueries, EXISTS and MINUS
    included. Walks with an explicit stack so that a deeply nested query cannot overflow Python's recursion."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack: list[object] = [node]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, CompValue):
            if item.name == name:
                return item
            stack.extend(item.values())
        elif isinstance(item, ParseResults):
            # pyparsing registers ParseResults as a Mapping, whose values() are its named results only: the
            # positional ones (the query itself, at the top) must be walked as well.
            stack.extend(item)
            stack.extend(item.values())  # type: ignore[no-untyped-call]
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
    return None


# --- the process around it ------------------------------------------------------------------------------------


def allow_deep_queries() -> None:
    """Raise Python's recursion limit to RECURSION_LIMIT (never lower it): for a process that parses and
    evaluates queries (a SPARQL worker, `hvkg query`), never for the server's own."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def lock_rdflib() -> None:
    """Make sure rdflib itself never fetches anything, whatever slips past the gate.

    FROM / FROM NAMED would make rdflib parse the IRI (over HTTP, or from disk for file:) unless
    SPARQL_LOAD_GRAPHS is off; SERVICE would send the query to another host. The gate refuses SERVICE and the
    endpoint never passes rdflib a dataset clause; this is the lock behind them.
    """
    import rdflib.plugins.sparql as rdflib_sparql
    from rdflib.plugins.sparql import evaluate as rdflib_evaluate

    rdflib_sparql.SPARQL_LOAD_GRAPHS = False
    rdflib_evaluate.evalServiceQuery = _never_service


def mend_rdflib() -> None:
    """Correct what rdflib evaluates wrongly on valid queries (for a process that evaluates them)."""
    from rdflib.plugins.sparql import evaluate as rdflib_evaluate

    rdflib_evaluate.evalAggregateJoin = _aggregate_join


def _aggregate_join(ctx: QueryContext, agg: CompValue) -> Generator[FrozenBindings, None, None]:
    """rdflib's evalAggregateJoin, except that GROUP BY over no solution makes no group (SPARQL 1.1 section
    18.5.1: one group per key, and no solution has a key); rdflib answers one empty row, as is right only for
    aggregates without GROUP BY (`SELECT (COUNT(*) AS ?n) {}` is one row, n = 0)."""
    from rdflib.plugins.sparql.aggregates import Aggregator
    from rdflib.plugins.sparql.evaluate import evalPart
    from rdflib.plugins.sparql.evalutils import _eval
    from rdflib.plugins.sparql.sparql import FrozenBindings

    group_expr = agg.p.expr
    groups: dict[Any, Aggregator] = {}
    for row in evalPart(ctx, agg.p):
        key = True if group_expr is None else tuple(_eval(e, row, False) for e in group_expr)
        if key not in groups:
            groups[key] = Aggregator(aggregations=agg.A)
        groups[key].update(row)
    if not groups and group_expr is None:
        groups[True] = Aggregator(aggregations=agg.A)
    for aggregator in groups.values():
        yield FrozenBindings(ctx, aggregator.get_bindings())


def _never_service(ctx: QueryContext, part: CompValue) -> NoReturn:
    raise RuntimeError("SERVICE reached evaluation although the gate refuses it")
