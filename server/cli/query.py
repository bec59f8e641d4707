"""`hvkg query`: a named query of queries/, SPARQL text or @FILE, run through the SPARQL endpoint's own gate.

The rows print as a table: IRIs as prefixed names of the graph's prefixes (kg:guest-row-01), literals as their
values (4, not "4"^^xsd:integer). `--json` prints the SPARQL 1.1 JSON results; CONSTRUCT and DESCRIBE print
Turtle, or JSON-LD with `--json`. Every mistake (a misspelt name, a syntax error, a missing file, SERVICE) is
bad input with one or two lines saying where.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import BNode, Literal, URIRef

from graph.model import BadInput
from server.cli.data import snapshot_of
from server.cli.errors import lang_of
from server.cli.reading import shown
from server.cli.tables import Prefixes, Table, cell, dump, render, write_bytes
from server.cli.text import word

if TYPE_CHECKING:
    from graph.snapshot import Snapshot
    from server.sparql.lexer import Refused

# A named query's name: what is not one of these is SPARQL text (a query always has a brace)
_QUERY_NAME = re.compile(r"[\w.\s-]{1,100}")


def _read_query_file(name: str) -> str:
    quoted = shown(name)
    try:
        if not name.strip():
            en, ja = "give a file name after @ (@query.rq)", "@ の後にファイル名を指定してください(@query.rq)"
        else:
            return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        en, ja = f"no such file: {quoted}", f"ファイル {quoted} がありません"
    except IsADirectoryError:
        en, ja = (
            f"{quoted} is a directory, not a query file",
            f"{quoted} はディレクトリです(クエリのファイルではありません)",
        )
    except UnicodeDecodeError:
        en, ja = f"{quoted} is not UTF-8 text", f"{quoted} はUTF-8のテキストではありません"
    except OSError as error:
        reason = error.strerror or type(error).__name__
        en, ja = f"cannot read {quoted}: {reason}", f"{quoted} を読めません: {reason}"
    raise BadInput("query", {"en": f"query: @FILE: {en}", "ja": f"query: @FILE: {ja}"})


def _query_name(name: str) -> str:
    """'Guest Table', 'guest_table' and 'guest-table.rq' name the query guest-table."""
    folded = unicodedata.normalize("NFKC", name).casefold().strip().removesuffix(".rq")
    return re.sub(r"[\s_]+", "-", folded)


def query_text(snapshot: Snapshot, given: str) -> str:
    if not given.strip():
        raise BadInput(
            "query",
            {
                "en": "query: empty; give a named query (guest-table), SPARQL text or @FILE.rq",
                "ja": "query: 空です。名前付きクエリ(guest-table)、SPARQLの本文、@FILE.rq のどれかを指定してください",
            },
        )
    if given.startswith("@"):
        return _read_query_file(given[1:])
    named = snapshot.queries.get(given) or snapshot.queries.get(_query_name(given))
    if named is not None:
        return named
    if not _QUERY_NAME.fullmatch(given):
        return given
    # a word with no braces is meant as a name: say which names there are, the closest first
    names = sorted(snapshot.queries)
    close = difflib.get_close_matches(_query_name(given), names, n=3, cutoff=0.5)
    listed = ", ".join(n for n in names if not n.endswith("-violation"))
    guess_en = f"; did you mean {' or '.join(close)}?" if close else ""
    guess_ja = f"。もしかして: {'、'.join(close)}" if close else ""
    raise BadInput(
        "query",
        {
            "en": f"query: no named query is called {shown(given)}{guess_en}\n"
            f"  named queries: {listed} (or SPARQL text, or @FILE.rq)",
            "ja": f"query: {shown(given)} という名前付きクエリはありません{guess_ja}\n"
            f"  名前付きクエリ: {listed}(SPARQLの本文、@FILE.rq も指定できます)",
        },
    )


def _syntax_error(error: Exception) -> BadInput:
    """One line: where the parser stopped (line, column, the text there) and what it expected."""
    from pyparsing import ParseBaseException

    if isinstance(error, ParseBaseException):
        near = error.line[max(error.col - 1, 0) :].strip()[:40] or "(end)"
        expected = " ".join(str(error.msg).split())[:200]
        return BadInput(
            "query",
            {
                "en": f"query: SPARQL syntax error at line {error.lineno}, column {error.col}, near {near!r}: "
                f"{expected}",
                "ja": f"query: SPARQLの構文エラー({error.lineno}行{error.col}桁目、{near!r} の付近): {expected}",
            },
        )
    detail = " ".join(str(error).split())[:200] or type(error).__name__
    return BadInput(
        "query",
        {
            "en": f"query: not a valid SPARQL query: {detail}",
            "ja": f"query: SPARQLのクエリとして正しくありません: {detail}",
        },
    )


def _refused(refusal: Refused) -> BadInput:
    """The gate's refusal as this command words it: a syntax error by its line and column, else as said."""
    from pyparsing import ParseBaseException

    if isinstance(refusal.cause, ParseBaseException):
        return _syntax_error(refusal.cause)
    return BadInput("query", {"en": f"query: {refusal.english}", "ja": f"query: {refusal.japanese}"})


def term_text(term: object, prefixes: Prefixes) -> str:
    """A result term as a table shows it: a prefixed name, a literal's value, _:id for a blank node."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return prefixes.name(str(term))
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        return cell(str(term))
    return cell(str(term))


def result_table(result: Any, prefixes: Prefixes) -> Table:
    """A SELECT result's rows under its variables, in the order the query gave them."""
    names = [str(v) for v in result.vars or ()]
    rows = tuple(tuple(term_text(row[i], prefixes) for i in range(len(names))) for row in result)
    return Table(tuple(f"?{n}" for n in names), rows)


def cmd_query(args: argparse.Namespace) -> int:
    from server.sparql.gate import inspect
    from server.sparql.guard import allow_deep_queries, lock_rdflib, mend_rdflib
    from server.sparql.lexer import Refused

    lang = lang_of(args)
    snapshot = snapshot_of(args)
    source = query_text(snapshot, args.query)
    lock_rdflib()  # whatever slipped past the gate, rdflib here fetches nothing either
    mend_rdflib()
    allow_deep_queries()
    try:
        # the endpoint's own gate: updates, SERVICE anywhere and deep nesting refused on the parse, not the text
        gated = inspect(source, prefixes=dict(snapshot.graph.namespaces()))
    except Refused as refusal:
        raise _refused(refusal) from None
    try:
        # rdflib evaluates the gate's parse: the text itself goes to no engine, not even the graph's store
        result = snapshot.graph.query(gated.query, use_store_provided=False)
        data = _answer(result, snapshot, lang, args.json)
    except Exception as error:
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        raise BadInput(
            "query",
            {
                "en": f"query: the query could not be run: {detail}",
                "ja": f"query: クエリを実行できませんでした: {detail}",
            },
        ) from None
    write_bytes(data)
    return 0


def _answer(result: Any, snapshot: Snapshot, lang: str, as_json: bool) -> bytes:
    """What the command prints for a result, as bytes (written after the query ran: a closed pipe is no
    query error)."""
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        graph = result.graph
        if as_json:
            from graph.rdf_export import graph_jsonld

            return graph_jsonld(graph, snapshot.graph)
        for prefix, namespace in snapshot.graph.namespaces():
            graph.bind(prefix, namespace, override=False)
        data: bytes = graph.serialize(format="turtle", encoding="utf-8")
        return data
    if as_json:
        return dump(json.loads(result.serialize(format="json") or b"{}")).encode("utf-8")
    if result.type == "ASK":
        return (word("yes" if result.askAnswer else "no", lang) + "\n").encode("utf-8")
    table = result_table(result, Prefixes.of(snapshot))
    lines = render(table) if table.rows else [*render(table), word("no_rows", lang)]
    return ("\n".join(lines) + "\n").encode("utf-8")
