"""Plain SELECT and ASK queries answered by pyoxigraph answer exactly as rdflib does, through a real uvicorn:
the same rows, the same row count, and the same cut at the row limit, including when pyoxigraph writes the
JSON itself (a query whose own final LIMIT is within the row limit)."""

from __future__ import annotations

import contextlib
import types
from collections.abc import AsyncIterator, Iterator

import httpx
import pyoxigraph as ox
import pytest
from rdflib import RDFS, Graph, Literal, Namespace, URIRef
from starlette.applications import Starlette

from server.sparql import SPARQLConfig, SPARQLEndpoint, limited_to
from server.state import SnapshotHolder
from tests.live import serve

ID = Namespace("https://hyperv-kg.example.org/id/")
ROW_LIMIT = 5
JSON = {"Accept": "application/sparql-results+json"}


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
def endpoint_url(graph: Graph, store: ox.Store | None) -> Iterator[str]:
    snapshot = types.SimpleNamespace(
        graph=graph, store=store, content_hash="c0ffee", triple_count=len(graph), queries={}
    )
    endpoint = SPARQLEndpoint(SnapshotHolder(current=snapshot), SPARQLConfig(row_limit=ROW_LIMIT, max_concurrent=2))

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
        ("SELECT * { ?s ?p ?o } LIMIT 2 VALUES ?s { <http://e/a> }", False),
        ("SELECT * { ?s ?p ?o } LIMIT 2\n# the end", False),
        ("SELECT * { ?s ?p ?o } LIMIT 99999999999", False),
    ],
)
def test_only_a_final_limit_within_the_row_limit_counts(text: str, expected: bool) -> None:
    assert limited_to(text, ROW_LIMIT) is expected


QUERIES = [
    "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l ?s LIMIT 5",
    "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY DESC(?l) ?s LIMIT 3 OFFSET 4",
    "SELECT ?s ?r WHERE { ?s <https://hyperv-kg.example.org/id/rank> ?r } ORDER BY ?r LIMIT 9",  # over: cut at 5
    "SELECT ?s ?r WHERE { ?s <https://hyperv-kg.example.org/id/rank> ?r } ORDER BY ?r",  # no LIMIT: cut at 5
    "SELECT ?s ?r WHERE { ?s <https://hyperv-kg.example.org/id/rank> ?r } ORDER BY ?r # LIMIT 2",
    "SELECT ?s WHERE { ?s <https://hyperv-kg.example.org/id/rank> 100 } LIMIT 5",  # no rows
    "SELECT ?l (LANG(?l) AS ?lang) WHERE { ?s ?p ?l FILTER(isLiteral(?l) && LANG(?l) = 'ja') } ORDER BY ?l LIMIT 2",
    "ASK { ?s <https://hyperv-kg.example.org/id/rank> 3 }",
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


def test_pyoxigraph_writes_the_json_only_when_no_row_can_be_cut(urls: tuple[str, str]) -> None:
    oxigraph, _ = urls
    within, beyond = QUERIES[0], QUERIES[2]
    # pyoxigraph writes compact JSON; server.sparql's own writer puts a space after each colon
    assert httpx.post(oxigraph, data={"query": within}, headers=JSON).content.startswith(b'{"head":{"vars":')
    cut = httpx.post(oxigraph, data={"query": beyond}, headers=JSON)
    assert cut.content.startswith(b'{"head": {"vars":')
    assert cut.headers["x-sparql-truncated"] == "true"
