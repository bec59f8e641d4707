"""The SPARQL 1.1 Protocol at /sparql, through a real uvicorn on loopback: formats, negotiation, errors,
the service description, the query page, and the W3C protocol test suite."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import re
import subprocess
import sys
import types
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from xml.dom.minidom import Document

import httpx
import pytest
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from SPARQLWrapper import CSV, GET, JSON, JSONLD, N3, POST, POSTDIRECTLY, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from graph.snapshot import Snapshot
from server.ops.negotiation import negotiate
from server.ops.state import SnapshotHolder
from server.sparql.config import SPARQLConfig
from server.sparql.dataset import GRAPH_IRI
from server.sparql.formats import GRAPH_OFFERS, RESULT_OFFERS
from server.sparql.protocol import SPARQLEndpoint, close, sparql_routes
from tests.live import serve

ID = Namespace("https://hyperv-kg.example.org/id/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
W3C_TOOL = Path(__file__).resolve().parent / "shared" / "tools" / "w3c_protocol.py"  # the copy of ../shared
EVIL_QUERY = 'SELECT * { ?s ?p "</script><script>alert(1)</script>" }'


def make_graph() -> Graph:
    g = Graph()
    g.bind("kg", ID)
    g.bind("skos", SKOS)
    for name, en, ja in [
        ("hypervisor", "hypervisor", "ハイパーバイザ"),
        ("virtual-machine", "virtual machine", "仮想マシン"),
        ("child-partition", "child partition", "子パーティション"),
        ("vsc", "Virtualization Service Client", "仮想化サービスクライアント"),
    ]:
        g.add((ID[name], RDF.type, ID.Component))
        g.add((ID[name], SKOS.prefLabel, Literal(en, lang="en")))
        g.add((ID[name], SKOS.prefLabel, Literal(ja, lang="ja")))
    g.add((ID.vsc, SKOS.altLabel, Literal("VSC")))
    g.add((ID.vsc, RDFS.comment, Literal('tab\there, "quoted",\nnew line, comma')))
    g.add((ID.vsc, ID.maxProcessors, Literal(4)))
    return g


def make_snapshot(graph: Graph) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        graph=graph,
        content_hash="0123456789abcdef",
        triple_count=len(graph),
        queries={
            "labels": "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nSELECT ?s ?l { ?s skos:prefLabel ?l }",
            "evil": EVIL_QUERY,
        },
    )


def make_app(endpoint: SPARQLEndpoint) -> Starlette:
    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await endpoint.close()

    return Starlette(routes=[Route("/healthz", healthz), *endpoint.routes("/sparql")], lifespan=lifespan)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return make_graph()


@pytest.fixture(scope="module")
def endpoint(graph: Graph) -> SPARQLEndpoint:
    return SPARQLEndpoint(SnapshotHolder(current=make_snapshot(graph)), SPARQLConfig())


@pytest.fixture(scope="module")
def base(endpoint: SPARQLEndpoint) -> Iterator[str]:
    with serve(make_app(endpoint)) as url:
        yield url


@pytest.fixture(scope="module")
def url(base: str) -> str:
    return base + "/sparql"


def wrapper(url: str, query: str, fmt: str, method: str = GET) -> SPARQLWrapper:
    sparql = SPARQLWrapper(url)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    sparql.setMethod(method)
    return sparql


LABELS = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT ?s ?l WHERE { ?s skos:prefLabel ?l }"
CONSTRUCT = (
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    "CONSTRUCT { ?s skos:prefLabel ?l } WHERE { ?s skos:prefLabel ?l FILTER(LANG(?l) = 'ja') }"
)


def expected_construct(graph: Graph) -> Graph:
    out = Graph()
    for s, o in graph.subject_objects(SKOS.prefLabel):
        if isinstance(o, Literal) and o.language == "ja":
            out.add((s, SKOS.prefLabel, o))
    return out


# --- SELECT and ASK through SPARQLWrapper ---------------------------------------------------------------------


@pytest.mark.parametrize("method", [GET, POST, POSTDIRECTLY])
def test_select_json(url: str, graph: Graph, method: str) -> None:
    if method == POSTDIRECTLY:
        sparql = wrapper(url, LABELS, JSON, POST)
        sparql.setRequestMethod(POSTDIRECTLY)
    else:
        sparql = wrapper(url, LABELS, JSON, method)
    result = sparql.query()
    assert result.info()["content-type"] == "application/sparql-results+json"
    data = result.convert()
    assert data["head"]["vars"] == ["s", "l"]
    got = {(b["s"]["value"], b["l"]["value"], b["l"].get("xml:lang")) for b in data["results"]["bindings"]}
    assert got == {(str(s), str(o), o.language) for s, o in graph.subject_objects(SKOS.prefLabel)}
    assert "warning" not in data


def test_select_xml(url: str) -> None:
    result = wrapper(url, LABELS, XML).query()
    assert result.info()["content-type"] == "application/sparql-results+xml"
    document = result.convert()
    assert isinstance(document, Document)
    literals = [node.firstChild.data for node in document.getElementsByTagName("literal")]
    assert "仮想マシン" in literals
    langs = {node.getAttribute("xml:lang") for node in document.getElementsByTagName("literal")}
    assert langs == {"en", "ja"}


def test_select_csv_keeps_awkward_literals(url: str) -> None:
    query = "SELECT ?c ?n WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#comment> ?c . OPTIONAL { ?s <x:none> ?n } }"
    result = wrapper(url, query, CSV).query()
    assert result.info()["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(result.convert().decode("utf-8"))))
    assert rows == [["c", "n"], ['tab\there, "quoted",\nnew line, comma', ""]]


def test_select_tsv_is_one_line_per_row(url: str) -> None:
    query = (
        "SELECT ?c ?n WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#comment> ?c . "
        "?s <https://hyperv-kg.example.org/id/maxProcessors> ?n }"
    )
    result = wrapper(url, query, TSV).query()
    assert result.info()["content-type"].startswith("text/tab-separated-values")
    lines = result.convert().decode("utf-8").split("\n")
    assert lines[0] == "?c\t?n"
    assert lines[1] == (
        '"tab\\there, \\"quoted\\",\\nnew line, comma"\t"4"^^<http://www.w3.org/2001/XMLSchema#integer>'
    )
    assert lines[2:] == [""]


@pytest.mark.parametrize(
    ("fmt", "query", "expected"), [(JSON, "ASK { ?s ?p ?o }", True), (JSON, "ASK { <x:a> ?p ?o }", False)]
)
def test_ask_json(url: str, fmt: str, query: str, expected: bool) -> None:
    data = wrapper(url, query, fmt).query().convert()
    assert data == {"head": {}, "boolean": expected}


def test_ask_xml(url: str) -> None:
    document = wrapper(url, "ASK { ?s a <https://hyperv-kg.example.org/id/Component> }", XML).query().convert()
    assert [n.firstChild.data for n in document.getElementsByTagName("boolean")] == ["true"]


# --- CONSTRUCT and DESCRIBE -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type", "rdflib_format"),
    [
        (TURTLE, "text/turtle", "turtle"),
        (RDFXML, "application/rdf+xml", "xml"),
        (JSONLD, "application/ld+json", "json-ld"),
    ],
)
def test_construct_formats(url: str, graph: Graph, fmt: str, content_type: str, rdflib_format: str) -> None:
    result = wrapper(url, CONSTRUCT, fmt).query()
    assert result.info()["content-type"].split(";")[0] == content_type
    got = Graph().parse(data=result.response.read(), format=rdflib_format)
    assert isomorphic(got, expected_construct(graph))
    assert len(got) == 4


def test_construct_n_triples(url: str, graph: Graph) -> None:
    sparql = wrapper(url, CONSTRUCT, N3)
    sparql.addCustomHttpHeader("Accept", "application/n-triples")
    result = sparql.query()
    assert result.info()["content-type"] == "application/n-triples"
    got = Graph().parse(data=result.convert(), format="nt")
    assert isomorphic(got, expected_construct(graph))


def test_construct_where_with_limit(url: str) -> None:
    """rdflib alone fails on CONSTRUCT WHERE with LIMIT; the endpoint supplies the template."""
    response = httpx.get(url, params={"query": "CONSTRUCT WHERE { ?s a ?t } LIMIT 2"})
    assert response.status_code == 200, response.text
    assert len(Graph().parse(data=response.text, format="turtle")) == 2


def test_describe(url: str, graph: Graph) -> None:
    result = wrapper(url, "DESCRIBE <https://hyperv-kg.example.org/id/vsc>", TURTLE).query()
    got = Graph().parse(data=result.convert(), format="turtle")
    expected = Graph()
    for triple in graph.triples((ID.vsc, None, None)):
        expected.add(triple)
    assert isomorphic(got, expected)


# --- content negotiation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("", "json"),
        ("*/*", "json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "json"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "xml"),
        ("application/sparql-results+json;q=0.1, text/*;q=0.5", "csv"),
        ("text/tab-separated-values, text/*;q=0", "tsv"),
        ("text/*;q=0.3, text/csv;q=0", "tsv"),
        ("application/json", "json"),
        ("image/png", None),
        ("application/sparql-results+json;q=0", None),
    ],
)
def test_negotiate_results(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept, RESULT_OFFERS) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "turtle"),
        ("*/*", "turtle"),
        ("text/html", "turtle"),
        ("application/n-triples;q=0.9, application/rdf+xml;q=0.95", "rdfxml"),
        ("application/ld+json", "json-ld"),
        ("application/sparql-results+json", None),
    ],
)
def test_negotiate_graphs(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept, GRAPH_OFFERS) == expected


@pytest.mark.parametrize(
    ("query", "accept", "content_type"),
    [
        (
            "SELECT * { ?s ?p ?o }",
            "text/csv;q=0.4, application/sparql-results+xml;q=0.8, text/turtle",
            "application/sparql-results+xml",
        ),
        ("SELECT * { ?s ?p ?o }", "text/html", "application/sparql-results+json"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "text/html", "text/turtle"),
        (
            "CONSTRUCT WHERE { ?s ?p ?o }",
            "application/sparql-results+json, application/ld+json;q=0.2",
            "application/ld+json",
        ),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "*/*", "text/turtle"),
        ("ASK {}", "text/turtle;q=1, application/sparql-results+json;q=0.1", "application/sparql-results+json"),
    ],
)
def test_q_values_over_http(url: str, query: str, accept: str, content_type: str) -> None:
    response = httpx.get(url, params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.headers["vary"] == "Accept"


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("SELECT * { ?s ?p ?o }", "image/png"),
        ("SELECT * { ?s ?p ?o }", "text/turtle"),  # fits a graph, not a result table
        ("CONSTRUCT WHERE { ?s ?p ?o }", "text/csv"),
        ("ASK {}", "application/sparql-results+json;q=0, text/turtle"),
    ],
)
def test_not_acceptable(url: str, query: str, accept: str) -> None:
    response = httpx.get(url, params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 406
    assert "Accept" in response.text
    assert " / " in response.text and "Accept のメディアタイプ" in response.text  # English / 日本語


# --- protocol errors ------------------------------------------------------------------------------------------


def test_malformed_query_is_a_short_400(url: str) -> None:
    response = httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p "})
    assert response.status_code == 400
    assert response.text.startswith("Malformed query: ")
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert len(response.text) < 1000


def test_unknown_prefix_is_a_400(url: str) -> None:
    response = httpx.get(url, params={"query": "SELECT * { ?s nope:p ?o }"})
    assert response.status_code == 400
    assert "nope" in response.text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods(url: str, method: str) -> None:
    response = httpx.request(method, url, params={"query": "ASK {}"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"


def test_two_queries(url: str) -> None:
    response = httpx.get(url, params=[("query", "ASK {}"), ("query", "SELECT * {}")])
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", b"ASK {}", 415),
        (None, b"query=ASK%20%7B%7D", 415),
        ("application/sparql-query; charset=UTF-16", "ASK {}".encode("utf-16"), 415),
        ("application/sparql-query", b'ASK { ?s ?p "\xff" }', 400),
        ("application/x-www-form-urlencoded", b"query=ASK%20%7B%20%3Fs%20%3Fp%20%22%FF%22%20%7D", 400),
        ("application/x-www-form-urlencoded", b"default-graph-uri=x", 400),
    ],
)
def test_bad_posts(url: str, content_type: str | None, body: bytes, status: int) -> None:
    headers = {"content-type": content_type} if content_type else {}  # httpx adds none for raw content
    response = httpx.post(url, content=body, headers=headers)
    assert response.status_code == status, response.text


def test_form_post_with_raw_utf8(url: str) -> None:
    """curl --data sends UTF-8 unescaped; the form parser takes it."""
    body = 'query=ASK { ?s ?p "仮想マシン"@ja }'.encode()
    response = httpx.post(url, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert response.json()["boolean"] is True


def test_row_limit_is_announced(url: str) -> None:
    response = httpx.get(url, params={"query": "SELECT * { ?s ?p ?o }"})
    assert response.headers["x-sparql-row-limit"] == "10000"
    assert "x-sparql-truncated" not in response.headers
    assert response.headers["x-sparql-row-count"] == str(len(response.json()["results"]["bindings"]))


# --- the dataset ----------------------------------------------------------------------------------------------


def test_the_one_named_graph(url: str, graph: Graph) -> None:
    response = httpx.get(url, params={"query": "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"})
    rows = response.json()["results"]["bindings"]
    assert [(r["g"]["value"], int(r["n"]["value"])) for r in rows] == [(GRAPH_IRI, len(graph))]


@pytest.mark.parametrize(
    ("query", "params", "expected"),
    [
        (f"ASK FROM <{GRAPH_IRI}> {{ ?s ?p ?o }}", [], True),
        (f"ASK FROM NAMED <{GRAPH_IRI}> {{ ?s ?p ?o }}", [], False),  # the default graph is then empty
        (f"ASK FROM NAMED <{GRAPH_IRI}> {{ GRAPH <{GRAPH_IRI}> {{ ?s ?p ?o }} }}", [], True),
        (f"ASK FROM <{GRAPH_IRI}> {{ GRAPH ?g {{ ?s ?p ?o }} }}", [], False),  # and no named graphs here
        ("ASK { ?s ?p ?o }", [("default-graph-uri", GRAPH_IRI)], True),
        ("ASK { ?s ?p ?o }", [("named-graph-uri", GRAPH_IRI)], False),
        ("ASK { ?s ?p ?o }", [("default-graph-uri", "http://example.org/unknown")], False),
        # the protocol's dataset replaces the query's
        (f"ASK FROM NAMED <{GRAPH_IRI}> {{ ?s ?p ?o }}", [("default-graph-uri", GRAPH_IRI)], True),
    ],
)
def test_dataset_selection(url: str, query: str, params: list[tuple[str, str]], expected: bool) -> None:
    response = httpx.get(url, params=[("query", query), *params])
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is expected


# --- service description and query page -----------------------------------------------------------------------

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("*/*", "turtle"),
        (None, "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_service_description(url: str, graph: Graph, accept: str | None, rdflib_format: str) -> None:
    response = httpx.get(url, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    sd = Graph().parse(data=response.content, format=rdflib_format)
    service = URIRef(url)
    assert (service, RDF.type, SD.Service) in sd
    assert (service, SD.endpoint, service) in sd
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in sd
    default_graph = sd.value(sd.value(service, SD.defaultDataset), SD.defaultGraph)
    stats = {
        p: int(sd.value(default_graph, p)) for p in (VOID.triples, VOID.distinctSubjects, VOID.properties, VOID.classes)
    }
    assert stats == {
        VOID.triples: len(graph),
        VOID.distinctSubjects: len(set(graph.subjects())),
        VOID.properties: len(set(graph.predicates())),
        VOID.classes: len(set(graph.objects(None, RDF.type))),
    }
    names = {sd.value(n, SD.name) for n in sd.objects(sd.value(service, SD.defaultDataset), SD.namedGraph)}
    assert names == {URIRef(GRAPH_IRI)}


@pytest.mark.parametrize("accept", ["text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"])
def test_query_page(url: str, accept: str) -> None:
    response = httpx.get(url, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<option value="labels">labels</option>' in page and '<option value="evil">evil</option>' in page
    # the named queries travel as JSON that cannot close the script element
    assert "<script>alert(1)" not in page
    assert json.loads(page.split('id="named-queries">')[1].split("</script>")[0])["evil"] == EVIL_QUERY
    # nothing from the internet: its script and style sheet come from this server, and no font or import
    assert re.findall(r'<script src="([^"]*)"', page) == ["/static/pages/sparql.js"]
    assert re.findall(r'<link [^>]*href="([^"]*)"', page) == ["/static/pages/sparql.css"]
    assert "@import" not in page
    script = (Path(__file__).resolve().parents[1] / "server" / "static" / "pages" / "sparql.js").read_text()
    assert "application/sparql-results+json" in script and '"/id/"' in script


def test_description_406(url: str) -> None:
    assert httpx.get(url, headers={"Accept": "image/png"}).status_code == 406


def test_mount_layout(graph: Graph) -> None:
    """The routes for Mount("/sparql") answer at /sparql/ (and /sparql redirects there)."""
    holder = SnapshotHolder(current=make_snapshot(graph))
    app = Starlette(routes=[Mount("/sparql", routes=sparql_routes(holder))])
    try:
        with serve(app) as base:
            response = httpx.get(base + "/sparql/", params={"query": "ASK { ?s ?p ?o }"})
            assert response.json()["boolean"] is True
            description = httpx.get(base + "/sparql/", headers={"Accept": "text/turtle"})
            assert (URIRef(base + "/sparql/"), RDF.type, SD.Service) in Graph().parse(data=description.text)
            assert httpx.get(base + "/sparql").status_code == 307
    finally:
        asyncio.run(close())


# --- the shipped snapshot -------------------------------------------------------------------------------------


def test_named_queries_answer_as_rdflib_does(snapshot: Snapshot) -> None:
    """Over the real snapshot, /sparql returns for each named query exactly the rows rdflib finds directly."""
    endpoint = SPARQLEndpoint(SnapshotHolder(current=snapshot), SPARQLConfig())
    assert snapshot.queries
    try:
        with serve(make_app(endpoint)) as base:
            for name, text in snapshot.queries.items():
                response = httpx.post(base + "/sparql", data={"query": text}, timeout=30)
                assert response.status_code == 200, (name, response.text)
                # a blank node's label is the engine's own (pyoxigraph relabels them on load): compared as "_:"
                got = Counter(
                    frozenset((var, term["value"] if term["type"] != "bnode" else "_:") for var, term in row.items())
                    for row in response.json()["results"]["bindings"]
                )
                expected = Counter(
                    frozenset(
                        (str(var), "_:" if isinstance(term, BNode) else str(term))
                        for var, term in row.items()
                        if term is not None
                    )
                    for row in snapshot.graph.query(text).bindings
                )
                assert got == expected, name
    finally:
        asyncio.run(endpoint.close())


# --- the W3C protocol tests -----------------------------------------------------------------------------------


def test_w3c_protocol_suite(url: str) -> None:
    run = subprocess.run([sys.executable, str(W3C_TOOL), url], capture_output=True, text=True, timeout=120, check=False)
    lines = run.stdout.strip().splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines[-1].startswith("w3c-protocol: ") and " 0 failed" in lines[-1]
    assert not [line for line in lines if line.startswith("FAIL")]
