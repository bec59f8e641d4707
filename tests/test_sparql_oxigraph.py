"""Plain SELECT and ASK queries answered by pyoxigraph answer exactly as rdflib does, through a real uvicorn:
the same rows, the same row count, and the same cut at the row limit, including when pyoxigraph writes the
JSON itself (a query whose own final LIMIT is within the row limit)."""

from __future__ import annotations

import contextlib
import os
import types
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import RDFS, Graph, Literal, Namespace, URIRef
from starlette.applications import Starlette

from server.ops.state import SnapshotHolder
from server.sparql.config import SPARQLConfig
from server.sparql.gate import inspect
from server.sparql.protocol import SPARQLEndpoint
from tests.live import serve

ID = Namespace("https://hyperv-kg.example.org/id/")
ROW_LIMIT = 5
JSON = {"Accept": "application/sparql-results+json"}
EXAMPLES = int(os.environ.get("HVKG_FUZZ_EXAMPLES", "60"))


def make_graph() -> Graph:
    g = Graph()
    for i in range(9):
        g.add((ID[f"thing-{i}"], RDFS.label, Literal(f"thing {i}", lang="en")))
        g.add((ID[f"thing-{i}"], RDFS.label, Literal(f'もの "{i}"\n', lang="ja")))
        g.add((ID[f"thing-{i}"], ID.rank, Literal(i)))
    return g


def as_store(graph: Graph) -> ox.Store:
    store = ox.Store()
    for s, p, o in graph:
        assert isinstance(s, URIRef) and isinstance(p, URIRef)
        term: ox.Literal | ox.NamedNode
        if isinstance(o, Literal):
            lang, datatype = o.language, o.datatype
            term = ox.Literal(str(o), language=lang) if lang else ox.Literal(str(o), datatype=ox.NamedNode(datatype))
        else:
            term = ox.NamedNode(str(o))
        store.add(ox.Quad(ox.NamedNode(str(s)), ox.NamedNode(str(p)), term))
    return store


@contextlib.contextmanager
def endpoint_url(graph: Graph, store: ox.Store | None, config: SPARQLConfig | None = None) -> Iterator[str]:
    snapshot = types.SimpleNamespace(
        graph=graph, store=store, content_hash="c0ffee", triple_count=len(graph), queries={}
    )
    config = config or SPARQLConfig(row_limit=ROW_LIMIT, max_concurrent=2)
    endpoint = SPARQLEndpoint(SnapshotHolder(current=snapshot), config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await endpoint.close()

    with serve(Starlette(routes=endpoint.routes("/sparql"), lifespan=lifespan)) as base:
        yield base + "/sparql"


@pytest.fixture(scope="module")
def urls() -> Iterator[tuple[str, str]]:
    """(pyoxigraph and rdflib, rdflib alone) over the same triples."""
    graph = make_graph()
    with endpoint_url(graph, as_store(graph)) as oxigraph, endpoint_url(graph, None) as rdflib:
        yield oxigraph, rdflib


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * { ?s ?p ?o } LIMIT 5", True),
        ("SELECT * { ?s ?p ?o } limit 5  \n", True),
        ("SELECT * { ?s ?p ?o } LIMIT 5 OFFSET 3", True),
        ("SELECT * { ?s ?p ?o } OFFSET 3 LIMIT 2", True),
        ("SELECT * { ?s ?p ?o } LIMIT 6", False),  # more than the row limit: cut by the server
        ("SELECT * { ?s ?p ?o }", False),
        ("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 2 } }", False),  # a subquery's LIMIT
        ("SELECT * { ?s ?p ?o } # LIMIT 2", False),  # in a comment
        ("SELECT * { ?s ?p <http://e/#x> } LIMIT 2", True),  # a `#` in an IRI
        ("SELECT * { ?s ?p '#' } LIMIT 2", True),  # in a string
        ("SELECT * { ?s ?p '#' } # ' LIMIT 2", False),
        ("SELECT * { ?s ?p <http://e/#x> } # <x> LIMIT 2", False),
        # a trailing VALUES is joined before LIMIT applies (SPARQL 1.1 section 18.2.4): still at most 2 rows
        ("SELECT * { ?s ?p ?o } LIMIT 2 VALUES ?s { <http://e/a> }", True),
        ("SELECT * { ?s ?p ?o } LIMIT 2\n# the end", True),  # read from the parse: a comment after it is nothing
        ("SELECT * { ?s ?p ?o } LIMIT 99999999999", False),
        ("SELECT * { ?s ?p ?o } LIMIT 2 # LIMIT 99", True),
        ("SELECT * { ?s ?p ?o } \\u004cIMIT 2", True),  # an escaped keyword is the keyword
        ('SELECT * { ?s ?p "} LIMIT 2" }', False),  # in a string
    ],
)
def test_only_the_querys_own_limit_within_the_row_limit_counts(text: str, expected: bool) -> None:
    assert inspect(text).limited_to(ROW_LIMIT) is expected


RANK = "<https://hyperv-kg.example.org/id/rank>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
QUERIES = [
    "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l ?s LIMIT 5",
    "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY DESC(?l) ?s LIMIT 3 OFFSET 4",
    "SELECT ?s ?r WHERE { ?s <https://hyperv-kg.example.org/id/rank> ?r } ORDER BY ?r LIMIT 9",  # over: cut at 5
    "SELECT ?s ?r WHERE { ?s <https://hyperv-kg.example.org/id/rank> ?r } ORDER BY ?r",  # no LIMIT: cut at 5
    "SELECT ?s ?r WHERE { ?s <https://hyperv-kg.example.org/id/rank> ?r } ORDER BY ?r # LIMIT 2",
    "SELECT ?s WHERE { ?s <https://hyperv-kg.example.org/id/rank> 100 } LIMIT 5",  # no rows
    "SELECT ?l (LANG(?l) AS ?lang) WHERE { ?s ?p ?l FILTER(isLiteral(?l) && LANG(?l) = 'ja') } ORDER BY ?l LIMIT 2",
    "ASK { ?s <https://hyperv-kg.example.org/id/rank> 3 }",
    # answered by pyoxigraph since the gate reads the parse: words that only look like SERVICE, FROM or GRAPH
    f'SELECT ?from ?graph WHERE {{ ?from {RANK} ?graph FILTER(!CONTAINS(STR(?from), "service")) }} ORDER BY ?graph',
    f"SELECT ?s WHERE {{ ?s {RANK} ?r }} ORDER BY ?s LIMIT 3 # SERVICE <http://127.0.0.1:1/> {{ }}",
    f"SELECT ?s (COUNT(?l) AS ?n) WHERE {{ ?s {LABEL} ?l }} GROUP BY ?s ORDER BY ?s LIMIT 4",
    f"SELECT * WHERE {{ {{ SELECT ?s WHERE {{ ?s {RANK} ?r }} ORDER BY DESC(?r) LIMIT 2 }} }} ORDER BY ?s",
    f"SELECT ?s ?r WHERE {{ ?s {RANK} ?r }} ORDER BY ?r LIMIT 3 VALUES ?r {{ 1 2 5 }}",
    f"ASK {{ ?s {RANK} ?r FILTER NOT EXISTS {{ ?s {LABEL} ?l }} }}",
    # pyoxigraph refuses an unknown function (RuntimeError): rdflib answers, leaving ?x unbound as SPARQL says
    f"SELECT ?s (<http://e/no-such-function>(?r) AS ?x) WHERE {{ ?s {RANK} ?r }} ORDER BY ?s LIMIT 3",
    # GROUP BY over no solution: no group, no row; an aggregate without GROUP BY: one row (rdflib mended)
    f"SELECT ?s (COUNT(*) AS ?n) WHERE {{ ?s {RANK} 100 }} GROUP BY ?s",
    f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s {RANK} 100 }}",
    # an escape: rdflib on both sides
    f"SELECT ?s WHERE {{ ?s {RANK} \\u0033 }}",
]


@pytest.mark.parametrize("query", QUERIES)
def test_pyoxigraph_answers_as_rdflib_does(urls: tuple[str, str], query: str) -> None:
    oxigraph, rdflib = urls
    fast = httpx.post(oxigraph, data={"query": query}, headers=JSON)
    slow = httpx.post(rdflib, data={"query": query}, headers=JSON)
    assert fast.status_code == slow.status_code == 200
    assert fast.json() == slow.json()
    for header in ("x-sparql-row-count", "x-sparql-truncated", "content-type"):
        assert fast.headers.get(header) == slow.headers.get(header), header
    if query.startswith("SELECT"):
        rows = fast.json()["results"]["bindings"]
        assert int(fast.headers["x-sparql-row-count"]) == len(rows) <= ROW_LIMIT


def test_the_gate_gives_pyoxigraph_the_plain_queries() -> None:
    """The queries above that the old text patterns kept from pyoxigraph reach it now; escapes never do."""
    plain = [q for q in QUERIES if "\\u" not in q]
    assert all(inspect(q).oxigraph_may_answer for q in plain)
    assert not any(inspect(q).oxigraph_may_answer for q in QUERIES if "\\u" in q)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p ?o } GROUP BY ?s",  # pyoxigraph refuses it, rdflib would answer: the gate refuses
        "SELECT ?o WHERE { ?s ?p ?o } GROUP BY ?s",
        "SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }",
        "SELECT * WHERE " + "{" * 500 + "}" * 500,
        "SELECT * WHERE {",
        "SELECT ?x (1 AS ?x) WHERE { }",
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    ],
)
def test_pyoxigraph_and_rdflib_refuse_alike(urls: tuple[str, str], query: str) -> None:
    oxigraph, rdflib = urls
    fast = httpx.post(oxigraph, data={"query": query}, headers=JSON)
    slow = httpx.post(rdflib, data={"query": query}, headers=JSON)
    assert 400 <= fast.status_code < 500
    assert (fast.status_code, fast.text) == (slow.status_code, slow.text)


def test_pyoxigraph_writes_the_json_only_when_no_row_can_be_cut(urls: tuple[str, str]) -> None:
    oxigraph, _ = urls
    within, beyond = QUERIES[0], QUERIES[2]
    # pyoxigraph writes compact JSON; server.sparql's own writer puts a space after each colon
    assert httpx.post(oxigraph, data={"query": within}, headers=JSON).content.startswith(b'{"head":{"vars":')
    cut = httpx.post(oxigraph, data={"query": beyond}, headers=JSON)
    assert cut.content.startswith(b'{"head": {"vars":')
    assert cut.headers["x-sparql-truncated"] == "true"


# --- generated queries: both paths agree -----------------------------------------------------------------------

WIDE = 10_000


@pytest.fixture(scope="module")
def wide_urls() -> Iterator[tuple[str, str]]:
    """As `urls`, with a row limit no generated query reaches: rows compared as multisets, never cut."""
    graph = make_graph()
    config = SPARQLConfig(row_limit=WIDE, max_concurrent=1)
    with endpoint_url(graph, as_store(graph), config) as oxigraph, endpoint_url(graph, None, config) as rdflib:
        yield oxigraph, rdflib


patterns = st.sampled_from([f"?s {LABEL} ?l", f"?s {RANK} ?r", "?s ?p ?o", f"?t {RANK} ?r"])
filters = st.sampled_from(
    [
        "FILTER(?r > 3)",
        'FILTER(LANG(?l) = "en")',
        'FILTER(CONTAINS(STR(?l), "1"))',
        'FILTER(REGEX(STR(?l), "^t"))',
        "FILTER(isIRI(?s))",
        "FILTER(BOUND(?r))",
        'FILTER(?l != "service")',
        f"OPTIONAL {{ ?s {RANK} ?r2 FILTER(?r2 < 4) }}",
        f"MINUS {{ ?s {RANK} 2 }}",
        f"{{ ?s {RANK} 1 }} UNION {{ ?s {RANK} 8 }}",
        "BIND(?r * 2 AS ?d)",
        "VALUES ?r { 1 3 5 }",
        f"FILTER EXISTS {{ ?s {LABEL} ?any }}",
    ]
)
heads = st.sampled_from(["SELECT *", "SELECT DISTINCT ?s", "SELECT (COUNT(*) AS ?n)", "SELECT ?s (COUNT(*) AS ?n)"])


@st.composite
def plain_queries(draw: st.DrawFn) -> str:
    head = draw(heads)
    parts = draw(st.lists(patterns, min_size=1, max_size=3)) + draw(st.lists(filters, max_size=3))
    where = " . ".join(parts) if draw(st.booleans()) else " ".join(parts)
    tail = " GROUP BY ?s" if head.endswith("?s (COUNT(*) AS ?n)") else ""
    return f"{head} WHERE {{ {where} }}{tail}"


def rows(response: httpx.Response) -> Counter[frozenset[tuple[str, str, str]]]:
    return Counter(
        frozenset((name, term["type"], term["value"]) for name, term in row.items())
        for row in response.json()["results"]["bindings"]
    )


@given(query=plain_queries())
@settings(
    max_examples=EXAMPLES * 2,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_generated_queries_agree_on_both_paths(wide_urls: tuple[str, str], query: str) -> None:
    oxigraph, rdflib = wide_urls
    fast = httpx.post(oxigraph, data={"query": query}, headers=JSON, timeout=30)
    slow = httpx.post(rdflib, data={"query": query}, headers=JSON, timeout=30)
    assert fast.status_code == slow.status_code, (query, fast.text, slow.text)
    if fast.status_code == 200:
        assert rows(fast) == rows(slow), query
