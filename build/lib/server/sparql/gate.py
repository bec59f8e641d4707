"""The one place that decides what a SPARQL query may do: on its parse, never on patterns over its text.

Every path a query takes goes through `inspect()` first: the endpoint's workers (server/sparql/engine.py), before
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

`mend_rdflib()` (server/sparql/guard.py) corrects one thing rdflib evaluates wrongly (GROUP BY over no
solution), so that rdflib and pyoxigraph answer alike; `lock_rdflib()` is the lock behind the gate in every
process that evaluates queries.

pyoxigraph only ever receives a text whose parse the gate accepted, and only when the two parsers cannot read
it differently: no escapes at all (pyoxigraph resolves `\\u` inside strings and IRIs only, not before
parsing, so `"\\u0022 ... "` is one string to it and two to the gate) and a size whose evaluation cannot
overflow pyoxigraph's stack (`oxigraph_may_read`). A query with a dataset or GRAPH goes to pyoxigraph only
with the dataset the endpoint resolved from the gate's parse passed explicitly (server/sparql/dataset.py),
which replaces whatever pyoxigraph reads in the text; without a store of named graphs, to rdflib
(`oxigraph_may_answer`).

The dataset IRIs (FROM, FROM NAMED) are read from the translated algebra: resolved against BASE and the
endpoint's URL as pyoxigraph resolves them, so both engines name the same graphs.

`screen()` (server/sparql/screen.py) comes before all this in the worker: a SELECT or ASK whose tokens hold no
SERVICE, dataset, GRAPH or update keyword, no escape and nothing a real parser may read otherwise goes to
pyoxigraph without rdflib's parse (why tokens suffice: see its docstring).

Messages are in English and Japanese; none carries Python's own text.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server.sparql.lexer import (
    DEFAULT_MAX_NESTING,
    OXIGRAPH_MAX_DEPTH,
    OXIGRAPH_MAX_TOKENS,
    Refused,
    _refuse,
    measure,
    resolve_escapes,
    short,
)

if TYPE_CHECKING:
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.plugins.sparql.sparql import Query

__all__ = ["LOAD_REFUSED", "UPDATE_REFUSED", "Gated", "find", "inspect", "worded"]

logger = logging.getLogger(__name__)


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
    raise Refused(400, f"Malformed query: {said}", f"クエリの構文が正しくありません：{said}", failure)


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
