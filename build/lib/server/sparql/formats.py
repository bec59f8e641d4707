"""Result formats: which media types a client may ask for, and the writers of SELECT, ASK and graph results.

Runs in the worker: a result leaves it as the bytes of the negotiated format.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import orjson
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.query import Result
from rdflib.term import Identifier, Node

from server.sparql.errors import _say
from server.sparql.jobs import QueryOutcome, _answer
from server.sparql.lexer import short as _short

# --- content negotiation --------------------------------------------------------------------------------------

# (media type a client may ask for, format key). Order breaks ties: the first is the default.
RESULT_OFFERS: tuple[tuple[str, str], ...] = (
    ("application/sparql-results+json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
    ("application/json", "json"),
    ("application/xml", "xml"),
    ("text/xml", "xml"),
    ("text/html", "json"),  # a browser following a link gets the default
)
GRAPH_OFFERS: tuple[tuple[str, str], ...] = (
    ("text/turtle", "turtle"),
    ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdfxml"),
    ("application/turtle", "turtle"),
    ("application/x-turtle", "turtle"),
    ("application/x-json+ld", "json-ld"),
    ("application/json", "json-ld"),
    ("application/xml", "rdfxml"),
    ("text/plain", "nt"),
    ("text/html", "turtle"),
)
# GET without a query: RDF for machines; text/html (the query page) is decided apart, see _describe.
DESCRIPTION_OFFERS = tuple(offer for offer in GRAPH_OFFERS if offer[0] != "text/html")
MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "json-ld": "application/ld+json",
    "nt": "application/n-triples",
    "rdfxml": "application/rdf+xml",
}
RESULT_TYPES = "application/sparql-results+json, application/sparql-results+xml, text/csv, text/tab-separated-values"
GRAPH_TYPES = "text/turtle, application/ld+json, application/n-triples, application/rdf+xml"


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _ox_json_term(term: object) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "literal", "value": str(term)}


def _ox_rdflib_term(term: object) -> Node:
    """An rdflib term for the writers of the other formats (a plain string stays without a datatype)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    return Literal(str(term))


_json_string = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring  # type: ignore[attr-defined]


def _ox_json_text(term: object) -> str:
    """_ox_json_term as JSON text, written directly: the rows of a result are most of a fast query's time."""
    if isinstance(term, ox.NamedNode):
        return '{"type": "uri", "value": ' + _json_string(term.value) + "}"
    if isinstance(term, ox.Literal):
        if term.language:
            tail = ', "xml:lang": ' + _json_string(term.language)
        elif (datatype := term.datatype.value) != _XSD_STRING:
            tail = ', "datatype": ' + _json_string(datatype)
        else:
            tail = ""
        return '{"type": "literal", "value": ' + _json_string(term.value) + tail + "}"
    return json.dumps(_ox_json_term(term), ensure_ascii=False)


def _ox_select_json(names: list[str], variables: list[Any], rows: list[Any], note: str | None) -> bytes:
    keys = [_json_string(name) + ": " for name in names]
    parts = []
    for row in rows:
        cells = [
            key + _ox_json_text(term) for key, v in zip(keys, variables, strict=True) if (term := row[v]) is not None
        ]
        parts.append("{" + ", ".join(cells) + "}")
    head = json.dumps({"vars": names}, ensure_ascii=False)
    warning = ', "warning": ' + _json_string(note) if note else ""
    return ('{"head": ' + head + ', "results": {"bindings": [' + ", ".join(parts) + "]}" + warning + "}").encode()


# pyoxigraph's own writers, for a result no row of which can be cut: query to bytes 2 to 5 times faster than
# _ox_select_outcome, which reads every term into Python first (bench/sparql_formats.py; docs/decisions.md "SPARQL
# result writers"). Not XML: pyoxigraph (and rdflib) write characters XML 1.0 cannot carry, as they are.
OX_WRITERS = {"json": ox.QueryResultsFormat.JSON, "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}


def _ox_whole_outcome(fmt: str, solutions: ox.QuerySolutions) -> QueryOutcome:
    """Every solution, written by pyoxigraph; the rows counted on what it wrote."""
    body = solutions.serialize(format=OX_WRITERS[fmt]) or b""  # bytes when given no output
    if fmt == "json":
        rows = len(orjson.loads(body)["results"]["bindings"])
    elif fmt == "tsv":
        rows = body.count(b"\n") - 1  # one line per row: a term's own line breaks are escaped
    else:
        rows = sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))) - 1  # quoted line breaks
    return QueryOutcome(200, MEDIA_TYPES[fmt], body, rows=rows)


def _ox_select_outcome(fmt: str, solutions: ox.QuerySolutions, limit: int) -> QueryOutcome:
    variables = solutions.variables
    rows = list(islice(solutions, limit + 1))
    truncated = len(rows) > limit
    rows = rows[:limit]
    names = [v.value for v in variables]
    note = _truncation_note(limit) if truncated else None
    if fmt == "json":
        body = _ox_select_json(names, variables, rows, note)
    else:
        table: Table = [
            [None if (term := row[v]) is None else _ox_rdflib_term(term) for v in variables] for row in rows
        ]
        body = SELECT_WRITERS[fmt](names, table, note)
    return QueryOutcome(200, MEDIA_TYPES[fmt], body, rows=len(rows), truncated=truncated)


# --- serialisation (in the worker) ----------------------------------------------------------------------------


def _truncation_note(limit: int) -> str:
    return _say(
        f"Truncated: only the first {limit} rows are returned (the service's row limit).",
        f"行数の上限 {limit} に達したため、最初の {limit} 行だけを返しています。",
    )


def _select_outcome(
    fmt: str, variables: list[Node], bindings: Iterable[Mapping[Node, Node]], limit: int
) -> QueryOutcome:
    rows = list(islice(bindings, limit + 1))  # one more than the limit tells whether rows were cut
    truncated = len(rows) > limit
    rows = rows[:limit]
    names = [str(v) for v in variables]
    table = [[row.get(v) for v in variables] for row in rows]
    note = _truncation_note(limit) if truncated else None
    body = SELECT_WRITERS[fmt](names, table, note)
    return QueryOutcome(200, MEDIA_TYPES[fmt], body, rows=len(rows), truncated=truncated)


def _ask_outcome(fmt: str, answer: bool) -> QueryOutcome:
    return QueryOutcome(200, MEDIA_TYPES[fmt], ASK_WRITERS[fmt](answer), rows=1)


def _graph_outcome(fmt: str, result: Graph, prefixes: Mapping[str, URIRef], limit: int) -> QueryOutcome:
    out = Graph(bind_namespaces="none")
    for prefix, namespace in prefixes.items():
        out.bind(prefix, namespace)
    triples = list(islice(iter(result), limit + 1))
    truncated = len(triples) > limit
    for triple in triples[:limit]:
        out.add(triple)
    rdflib_format = {"turtle": "turtle", "json-ld": "json-ld", "nt": "nt", "rdfxml": "xml"}[fmt]
    try:
        body = out.serialize(format=rdflib_format, encoding="utf-8")
    except Exception as error:
        # RDF/XML cannot write every predicate IRI (it must split into namespace and local name).
        _answer(
            406,
            f"The result cannot be written as {MEDIA_TYPES[fmt]} ({_short(error)}); ask for text/turtle or "
            "application/n-triples.",
            f"結果を {MEDIA_TYPES[fmt]} で書けません（{_short(error)}）。text/turtle か application/n-triples を"
            "指定してください。",
        )
    if truncated and fmt in ("turtle", "nt"):
        body = f"# {_truncation_note(limit)}\n".encode() + body
    return QueryOutcome(200, MEDIA_TYPES[fmt], body, rows=min(len(triples), limit), truncated=truncated)


Table = list[list[Node | None]]

# XML 1.0 cannot carry these characters at all, even escaped: our XML writer puts U+FFFD in their place, where
# pyoxigraph's and rdflib's write them as they are, which no XML parser reads (a SPARQL string may hold U+0001).
# It is also 2.7 times faster than rdflib's (bench/sparql_formats.py).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _rdflib_result(names: list[str], table: Table) -> Result:
    """The rows as an rdflib Result, for rdflib's own writers."""
    variables = [Variable(name) for name in names]
    result = Result("SELECT")
    result.vars = variables
    result.bindings = [
        {v: term for v, term in zip(variables, row, strict=True) if isinstance(term, Identifier)} for row in table
    ]
    return result


def _select_json(names: list[str], table: Table, note: str | None) -> bytes:
    """rdflib's JSON writer (orjson underneath: a sixth faster than the json.dumps it replaced, the same rows)."""
    body = _rdflib_result(names, table).serialize(format="json") or b""
    if note:
        # Not in the JSON results format; readers ignore members they do not know. The document is one object.
        body = body[: body.rindex(b"}")] + b', "warning": ' + json.dumps(note, ensure_ascii=False).encode() + b"}"
    return body


def _xml_text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))


def _xml_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{_xml_text(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{_xml_text(str(term))}</bnode>"
    if isinstance(term, Literal) and term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{_xml_text(str(term))}</literal>"
    if isinstance(term, Literal) and term.datatype is not None:
        return f"<literal datatype={quoteattr(str(term.datatype))}>{_xml_text(str(term))}</literal>"
    return f"<literal>{_xml_text(str(term))}</literal>"


def _xml_document(head: str, body: str, note: str | None) -> bytes:
    comment = f"<!-- {note.replace('--', '- -')} -->\n" if note else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"{comment}"
        '<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'
        f"<head>{head}</head>\n{body}</sparql>\n"
    ).encode()


def _select_xml(names: list[str], table: Table, note: str | None) -> bytes:
    head = "".join(f"<variable name={quoteattr(name)}/>" for name in names)
    results = []
    for row in table:
        cells = "".join(
            f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>"
            for name, term in zip(names, row, strict=True)
            if term is not None
        )
        results.append(f"<result>{cells}</result>\n")
    return _xml_document(head, "<results>\n" + "".join(results) + "</results>\n", note)


def _select_csv(names: list[str], table: Table, note: str | None) -> bytes:
    """rdflib's CSV writer: the same bytes as the csv.writer lines it replaced, as fast (bench/sparql_formats.py)."""
    return _rdflib_result(names, table).serialize(format="csv") or b""


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _tsv_value(term: Node | None) -> str:
    """A term in Turtle syntax, on one line: rdflib's n3() would write multi-line literals with raw newlines."""
    if isinstance(term, Literal):
        lexical = '"' + str(term).translate(_TSV_ESCAPES) + '"'
        if term.language:
            return f"{lexical}@{term.language}"
        return lexical if term.datatype is None else f"{lexical}^^<{term.datatype}>"
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    return "" if term is None else str(term)


def _select_tsv(names: list[str], table: Table, note: str | None) -> bytes:
    lines = ["\t".join("?" + name for name in names)]
    lines.extend("\t".join(_tsv_value(term) for term in row) for row in table)
    return ("\n".join(lines) + "\n").encode()


SELECT_WRITERS: dict[str, Callable[[list[str], Table, str | None], bytes]] = {
    "json": _select_json,
    "xml": _select_xml,
    "csv": _select_csv,
    "tsv": _select_tsv,
}
# CSV and TSV have no boolean form in the standard; this is the one Apache Jena writes.
ASK_WRITERS: dict[str, Callable[[bool], bytes]] = {
    "json": lambda answer: json.dumps({"head": {}, "boolean": answer}).encode(),
    "xml": lambda answer: _xml_document("", f"<boolean>{str(answer).lower()}</boolean>\n", None),
    "csv": lambda answer: f"_askResult\r\n{str(answer).lower()}\r\n".encode(),
    "tsv": lambda answer: f"?_askResult\n{str(answer).lower()}\n".encode(),
}
