"""Fuzzing /sparql on a real uvicorn with hypothesis: queries built from a small grammar of SPARQL pieces (valid,
hostile and broken), random text, and random HTTP requests (methods, parameters, content types, Accept, bodies).

Whatever comes in: a status below 500, or the announced 503 (busy, out of memory) and 504 (time limit); no
traceback in any body; an answer within a generous client timeout. The time limit is lowered to 1 s so that
runaway queries end quickly; examples are bounded for CI (HVKG_FUZZ_EXAMPLES raises them by hand).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.state import SnapshotHolder
from tests.live import serve

EXAMPLES = int(os.environ.get("HVKG_FUZZ_EXAMPLES", "60"))
CLIENT_TIMEOUT = 30
SETTINGS = settings(
    max_examples=EXAMPLES * 5,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

ID = "https://hyperv-kg.example.org/id/"
HV = ID + "ontology/"


@pytest.fixture(scope="module")
def base_url(snapshot: Snapshot) -> Iterator[str]:
    saved = {name: os.environ.get(name) for name in ("HVKG_SPARQL_TIME_LIMIT", "HVKG_SPARQL_MAX_CONCURRENT")}
    os.environ["HVKG_SPARQL_TIME_LIMIT"] = "1"
    os.environ["HVKG_SPARQL_MAX_CONCURRENT"] = "2"
    try:
        app = create_app(holder=SnapshotHolder(current=snapshot))  # the endpoint reads its limits here
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def assert_answered_well(response: requests.Response) -> None:
    assert response.status_code < 500 or response.status_code in (503, 504), (
        response.status_code,
        response.text[:500],
    )
    assert "Traceback" not in response.text, response.text[:2000]


# --- a small grammar of SPARQL pieces --------------------------------------------------------------------------

own_iris = st.sampled_from(
    [
        f"<{ID}vmbus>",
        f"<{ID}hyper-v>",
        f"<{HV}maxVirtualProcessors>",
        "skos:prefLabel",
        "hv:maxVirtualProcessors",
        "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
    ]
)
odd_iris = st.sampled_from(
    ["<file:///etc/passwd>", "<http://127.0.0.1:1/>", "<../../etc/passwd>", "<>", "nope:thing", "<a b>"]
)
iris = own_iris | odd_iris
variables = st.sampled_from(["?s", "?p", "?o", "?x", "?label", "$y", "?n"])
literals = st.sampled_from(
    ['"Hyper-V"', '"ハイパーバイザ"@ja', '"x"@en', "4", "-1", "1.5e308", '"2008-08-01"^^xsd:date', "true", '""']
) | st.text(max_size=20).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"')
terms = variables | iris | literals
predicates = (
    variables
    | iris
    | st.just("a")
    | st.sampled_from(["skos:prefLabel", "hv:maxVirtualProcessors", "(<urn:p>|skos:altLabel)"]).flatmap(
        lambda p: st.sampled_from([p + "+", p + "*", "^" + p, p + "/" + p, "!" + p])
    )
)
triples = st.tuples(variables | iris, predicates, terms).map(" ".join)
regexes = st.sampled_from(['"Hyper"', '"(a+)+$"', '"(.*a){20}"', '"["', '"\\\\"', '"^.*$"'])
expressions = st.one_of(
    st.tuples(variables, st.sampled_from(["=", "!=", "<", ">"]), terms).map(" ".join),
    st.tuples(variables, regexes).map(lambda t: f"regex(str({t[0]}), {t[1]})"),
    st.sampled_from(["lang(?o) = 'ja'", "isIRI(?s)", "bound(?x)", "?n / 0 > 1", "strlen(str(?o)) > 10", "1"]),
)


def group(depth: int) -> st.SearchStrategy[str]:
    parts: st.SearchStrategy[str] = triples | expressions.map(lambda e: f"FILTER({e})")
    if depth > 0:
        inner = st.deferred(lambda: group(depth - 1))
        parts = parts | st.one_of(
            inner.map(lambda g: f"OPTIONAL {g}"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]} UNION {t[1]}"),
            inner.map(lambda g: f"MINUS {g}"),
            inner.map(lambda g: f"GRAPH ?g {g}"),
            inner.map(lambda g: f"GRAPH <{ID}graph> {g}"),
            inner.map(lambda g: f"SERVICE <http://127.0.0.1:1/sparql> {g}"),
            st.just("BIND(42 AS ?answer)"),
            st.just("VALUES ?x { 1 2 3 }"),
            inner.map(lambda g: f"{{ SELECT * WHERE {g} LIMIT 3 }}"),
        )
    return st.lists(parts, min_size=0, max_size=4).map(lambda ps: "{ " + " . ".join(ps) + " }")


STANDARD_PROLOGUE = (
    f"PREFIX hv: <{HV}>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
)
prologues = st.sampled_from(["", "", "", "BASE <http://example.org/>", "# a comment SELECT"]).map(
    lambda extra: STANDARD_PROLOGUE + extra
)
datasets = st.sampled_from(
    ["", f"FROM <{ID}graph>", "FROM <http://example.org/other>", "FROM <file:///etc/passwd>", f"FROM NAMED <{ID}graph>"]
)
modifiers = st.tuples(
    st.sampled_from(["", "GROUP BY ?s"]),
    st.sampled_from(["", "HAVING (COUNT(?o) > 1)"]),
    st.sampled_from(["", "ORDER BY ?s", "ORDER BY DESC(?o) ?s"]),
    st.sampled_from(["", "LIMIT 5", "LIMIT 999999999999", "LIMIT 0"]),
    st.sampled_from(["", "OFFSET 2", "OFFSET 100000"]),
).map(" ".join)
forms = st.one_of(
    st.sampled_from(["SELECT *", "SELECT DISTINCT ?s ?o", "SELECT (COUNT(*) AS ?n)", "SELECT ?s (SAMPLE(?o) AS ?x)"]),
    st.just("ASK"),
    st.tuples(variables | own_iris, variables | own_iris, terms).map(lambda t: "CONSTRUCT { " + " ".join(t) + " }"),
    st.just("CONSTRUCT"),
    (variables | iris).map(lambda t: "DESCRIBE " + t),
)
updates = st.sampled_from(
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "LOAD <http://127.0.0.1:1/evil.ttl>",
        "CLEAR ALL",
        "DROP GRAPH <urn:g>",
        "CREATE GRAPH <urn:g>",
    ]
)
grammar_queries = st.tuples(prologues, forms, datasets, group(2), modifiers).map(
    lambda t: f"{t[0]}\n{t[1]} {t[2]} WHERE {t[3]} {t[4]}"
)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A query, sometimes cut short or with a character changed: the parser's error paths."""
    text = draw(base)
    how = draw(st.sampled_from(["keep", "keep", "truncate", "replace", "insert"]))
    if not text or how == "keep":
        return text
    at = draw(st.integers(0, len(text) - 1))
    if how == "truncate":
        return text[:at]
    char = draw(st.sampled_from(["{", "}", '"', "<", "\\", "\x00", "?", "(", "ﾟ"]))
    return text[:at] + char + text[at + (how == "replace") :]


# Hostile shapes the grammar above does not make: nesting far past the limit (a parser that recursed on it would
# crash), long chains, and keywords written with SPARQL's \u escapes.
deep_queries = st.tuples(
    st.integers(50, 3000), st.sampled_from([("{", "}"), ("(", ")"), ("[ ?p ", " ]"), ("{ OPTIONAL {", "} }")])
).map(lambda t: f"SELECT * WHERE {{ ?s ?p {t[1][0] * t[0]}1{t[1][1] * t[0]} }}")
chains = st.tuples(st.integers(100, 7000), st.sampled_from(["+", "&&", "||", "*", "/"])).map(
    lambda t: "SELECT * WHERE { FILTER(" + t[1].join(["1"] * t[0]) + ") }"
)
escaped = st.tuples(grammar_queries, st.sampled_from(["SERVICE", "SELECT", "WHERE", "FILTER", "{", "}", '"', "#"])).map(
    lambda t: t[0].replace(t[1], f"\\u{ord(t[1][0]):04X}{t[1][1:]}", 1)
)
any_query = mutated(grammar_queries) | updates | st.text(max_size=200) | deep_queries | chains | escaped

ACCEPTS = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
    "text/html",
    "*/*",
    "image/png",
    "",
    "text/*;q=0.5, application/*;q=0.1",
    "text/csv;q=abc",
]


@given(query=any_query, accept=st.sampled_from(ACCEPTS), how=st.sampled_from(["get", "form", "direct"]))
@settings(SETTINGS, max_examples=EXAMPLES * 10)
def test_generated_queries_are_answered_without_a_server_error(
    base_url: str, session: requests.Session, query: str, accept: str, how: str
) -> None:
    headers = {"accept": accept}
    url = base_url + "/sparql"
    if how == "get":
        response = session.get(url, params={"query": query}, headers=headers, timeout=CLIENT_TIMEOUT)
    elif how == "form":
        response = session.post(url, data={"query": query}, headers=headers, timeout=CLIENT_TIMEOUT)
    else:
        headers["content-type"] = "application/sparql-query"
        response = session.post(url, data=query.encode("utf-8", "surrogatepass"), headers=headers, timeout=30)
    assert_answered_well(response)


parameter_names = st.sampled_from(["query", "update", "default-graph-uri", "named-graph-uri", "format", "", "q"])
parameter_values = st.sampled_from(
    ["SELECT * WHERE { ?s ?p ?o } LIMIT 1", "file:///etc/passwd", f"{ID}graph", "%ZZ", "ASK {}", ""]
) | st.text(max_size=40)


@given(
    method=st.sampled_from(["GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    params=st.lists(st.tuples(parameter_names, parameter_values), max_size=4),
    body=st.none() | st.binary(max_size=300) | st.lists(st.tuples(parameter_names, parameter_values), max_size=3),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/sparql-query",
            "application/sparql-query; charset=latin-1",
            "application/sparql-update",
            "application/json",
            "multipart/form-data; boundary=x",
            "",
            "text/plain;;;",
        ]
    ),
    accept=st.sampled_from(ACCEPTS),
)
@SETTINGS
def test_any_http_request_to_sparql_is_answered_without_a_server_error(
    base_url: str,
    session: requests.Session,
    method: str,
    params: list[tuple[str, str]],
    body: bytes | list[tuple[str, str]] | None,
    content_type: str,
    accept: str,
) -> None:
    headers = {"accept": accept, "content-type": content_type}
    response = session.request(
        method, base_url + "/sparql", params=params, data=body, headers=headers, timeout=CLIENT_TIMEOUT
    )
    assert_answered_well(response)


@given(raw=st.binary(min_size=1, max_size=200), length=st.sampled_from(["", "abc", "-1", "99999999999"]))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
def test_a_malformed_body_or_length_is_refused_cleanly(base_url: str, raw: bytes, length: str) -> None:
    """Bytes the client library would not send: a raw request with an odd Content-Length."""
    host, port = base_url.removeprefix("http://").split(":")
    header = f"Content-Length: {length}\r\n" if length else ""
    request = (
        f"POST /sparql?x={quote(raw[:20])} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/sparql-query\r\n{header}Connection: close\r\n\r\n"
    ).encode() + raw
    with socket.create_connection((host, int(port)), timeout=CLIENT_TIMEOUT) as conn:
        conn.sendall(request)
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    if answer:  # uvicorn may close a connection whose framing it cannot read, without an answer
        status = int(answer.split(b" ", 2)[1])
        assert status < 500 or status in (503, 504), answer[:300]
        assert b"Traceback" not in answer
