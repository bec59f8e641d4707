"""HTTP as clients expect it: CORS for the listed origins, compact JSON-LD, Graph Store reads at /store, the /id/
index. Against the whole app on a real uvicorn (tests.live), with the clients people use: httpx as a browser's
fetch() would send it, rdflib reading a URL, SPARQLWrapper for the CONSTRUCT every graph is compared with.

Graphs are compared by their triples with blank nodes named from their content (graph.rdf_export's
blank_labels, colour refinement): equal sets prove the graphs isomorphic (the naming is a bijection), and it
takes milliseconds where rdflib's canonical form takes seconds on the whole graph.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF
from SPARQLWrapper import TURTLE, SPARQLWrapper

from graph.layout import BASE
from graph.loading import default_graph_store
from graph.rdf_export import blank_labels, canonical_triples, export
from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.config import CORS_EXPOSED, Config, ConfigError, cors_origins
from server.ops.state import SnapshotHolder
from server.web.rdf_files import serialize, snapshot_prefixes
from tests.live import serve

LISTED = ("https://portal.example.org", "http://localhost:3000")
SMALL_BODY = 4096  # HVKG_SPARQL_MAX_BODY_BYTES of the CORS server: a 413 costs a few kB
LDP = "http://www.w3.org/ns/ldp#"
TIMEOUT = 60


@pytest.fixture(scope="module")
def live(snapshot: Snapshot) -> Iterator[str]:
    """The app with two origins listed."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HVKG_CORS_ORIGINS", ", ".join(LISTED))
        env.setenv("HVKG_SPARQL_MAX_BODY_BYTES", str(SMALL_BODY))
        # a CONSTRUCT of the whole graph takes 1-2 s; on a machine this loaded, longer than the 5 s default
        env.setenv("HVKG_SPARQL_TIME_LIMIT", "60")
        app = create_app(holder=SnapshotHolder(current=snapshot))  # reads both now
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def unset(snapshot: Snapshot) -> Iterator[str]:
    """The app as deployed by default: HVKG_CORS_ORIGINS unset."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv("HVKG_CORS_ORIGINS", raising=False)
        app = create_app(holder=SnapshotHolder(current=snapshot))
    with serve(app, lifespan="off") as base:
        yield base


def canonical(graph: Graph) -> set[tuple[Any, ...]]:
    return set(canonical_triples(graph, blank_labels(graph)))


# xsd:integer's derived types, which the SPARQL endpoint's store (pyoxigraph) answers as xsd:integer
# (graph/named_graphs.py, `_ox_quads`): the files give the data as written.
XSD = "http://www.w3.org/2001/XMLSchema#"
DERIVED_INTEGERS = {XSD + name for name in ("nonNegativeInteger", "positiveInteger", "int", "long", "short")}


def as_the_store_types(graph: Graph) -> Graph:
    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype is not None and str(o.datatype) in DERIVED_INTEGERS:
            o = Literal(str(o), datatype=URIRef(XSD + "integer"))  # noqa: PLW2901 -- the same triple, retyped
        out.add((s, p, o))
    return out


def cors_of(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


def fields(value: str) -> set[str]:
    return {field.strip().lower() for field in value.split(",") if field.strip()}


def vary(response: httpx.Response) -> set[str]:
    return {field for value in response.headers.get_list("vary") for field in fields(value)}


# --- CORS -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/graphql", "/sparql", "/store", "/id/vsc"])
def test_a_preflight_from_a_listed_origin_is_answered_before_routing(live: str, path: str) -> None:
    response = httpx.options(
        live + path,
        headers={
            "origin": LISTED[0],
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-request-id, accept",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text  # was 405: no route takes OPTIONS
    assert response.headers["access-control-allow-origin"] == LISTED[0]
    assert {"get", "post", "head"} <= fields(response.headers["access-control-allow-methods"])
    assert {"content-type", "accept", "x-request-id"} <= fields(response.headers["access-control-allow-headers"])
    assert "origin" in vary(response)
    assert "access-control-allow-credentials" not in response.headers


def _post_graphql(base: str, origin: str) -> httpx.Response:
    return httpx.post(base + "/graphql", json={"query": "{ __typename }"}, headers={"origin": origin}, timeout=TIMEOUT)


def test_a_listed_origin_reads_answers_and_errors_with_the_headers_it_needs(live: str) -> None:
    origin = LISTED[1]
    sparql = httpx.get(
        live + "/sparql",
        params={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"},
        headers={"origin": origin, "accept": "application/sparql-results+json"},
        timeout=TIMEOUT,
    )
    answers = {
        "GET /sparql": sparql,
        "POST /graphql": _post_graphql(live, origin),
        "GET /id/vsc": httpx.get(live + "/id/vsc", headers={"origin": origin}, timeout=TIMEOUT),
        "400": httpx.get(live + "/sparql", params={"query": "SELEC nothing"}, headers={"origin": origin}),
        "404": httpx.get(live + "/id/no-such-thing", headers={"origin": origin}, timeout=TIMEOUT),
        "405": httpx.put(live + "/store?default", content=b"", headers={"origin": origin}, timeout=TIMEOUT),
        "413": httpx.post(
            live + "/sparql",
            content=b"query=" + b"x" * (SMALL_BODY + 10),
            headers={"origin": origin, "content-type": "application/x-www-form-urlencoded"},
            timeout=TIMEOUT,
        ),
    }
    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == {
        "GET /sparql": 200, "POST /graphql": 200, "GET /id/vsc": 200, "400": 400, "404": 404, "405": 405, "413": 413,
    }  # fmt: skip
    exposed = {"x-request-id", "x-sparql-row-limit", "x-sparql-row-count", "x-sparql-truncated", "etag"}
    for name, response in answers.items():
        assert response.headers.get("access-control-allow-origin") == origin, name
        assert exposed <= fields(response.headers["access-control-expose-headers"]), name
        assert "origin" in vary(response), name
    # what is exposed is there to read
    assert {"x-request-id", "x-sparql-row-limit", "x-sparql-row-count"} <= set(sparql.headers)
    assert "etag" in answers["GET /id/vsc"].headers


def test_the_exposed_headers_are_the_configured_ones() -> None:
    assert {"X-Request-Id", "X-SPARQL-Row-Limit", "X-SPARQL-Row-Count", "X-SPARQL-Truncated", "ETag"} <= set(
        CORS_EXPOSED
    )


# An origin as a browser sends it, and near misses of the listed ones (another case, a slash, a port, another
# scheme): the list is matched exactly, as the browser compares it.
ORIGINS = st.builds(
    lambda scheme, host, port: f"{scheme}://{host}{port}",
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,12}[a-z0-9])?(?:\.[a-z]{2,8}){0,2}", fullmatch=True),
    st.sampled_from(["", ":3000", ":8443"]),
)
NEAR_MISSES = st.sampled_from(LISTED).flatmap(
    lambda listed: st.sampled_from(
        [
            listed.upper(),
            listed + "/",
            listed + ":8080" if listed.count(":") == 1 else listed.rsplit(":", 1)[0],
            listed.replace("https://", "http://") if listed.startswith("https") else listed.replace("http:", "https:"),
            "null",
        ]
    )
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(origin=st.one_of(ORIGINS, NEAR_MISSES, st.sampled_from(LISTED)))
def test_only_a_listed_origin_is_allowed(live: str, origin: str) -> None:
    listed = origin in LISTED
    read = httpx.get(live + "/healthz", headers={"origin": origin}, timeout=TIMEOUT)
    assert read.status_code == 200  # answered as before either way
    assert read.headers.get("access-control-allow-origin") == (origin if listed else None)
    preflight = httpx.options(
        live + "/sparql",
        headers={"origin": origin, "access-control-request-method": "POST"},
        timeout=TIMEOUT,
    )
    assert preflight.headers.get("access-control-allow-origin") == (origin if listed else None)
    assert (preflight.status_code == 200) is listed
    for response in (read, preflight):
        assert "access-control-allow-credentials" not in response.headers


def test_without_the_setting_nothing_changes(unset: str) -> None:
    preflight = httpx.options(
        unset + "/graphql",
        headers={"origin": LISTED[0], "access-control-request-method": "POST"},
        timeout=TIMEOUT,
    )
    assert preflight.status_code == 405
    assert cors_of(preflight) == {}
    assert cors_of(_post_graphql(unset, LISTED[0])) == {}


def test_any_origin_with_a_star(snapshot: Snapshot) -> None:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HVKG_CORS_ORIGINS", "*")
        app = create_app(holder=SnapshotHolder(current=snapshot))
    with serve(app, lifespan="off") as base:
        response = _post_graphql(base, "https://anywhere.example")
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    "value",
    ["https://portal.example.org/", "HTTPS://portal.example.org", "https://portal.example.org:443",
     "portal.example.org", "ftp://portal.example.org", "https://portal.example.org/app", "null",
     "https://user@portal.example.org", "*, https://portal.example.org", "https://portal.example.org:70000"],
)  # fmt: skip
def test_a_malformed_origin_is_refused_in_both_languages(value: str) -> None:
    with pytest.raises(ConfigError, match="HVKG_CORS_ORIGINS") as refused:
        Config.from_env({"HVKG_CORS_ORIGINS": value})
    assert re.search(r"[\u3040-\u30ff]", str(refused.value))  # and in Japanese


@given(st.lists(ORIGINS, min_size=1, max_size=4, unique=True))
def test_well_formed_origins_are_read_as_written(origins: list[str]) -> None:
    assert cors_origins({"HVKG_CORS_ORIGINS": " , ".join(origins)}) == tuple(origins)
    assert Config.from_env({"HVKG_CORS_ORIGINS": ",".join(origins)}).cors_origins == tuple(origins)
    assert Config.from_env({}).cors_origins == ()


# --- JSON-LD --------------------------------------------------------------------------------------------------


def _jsonld(base: str, path: str, accept: str = "application/ld+json") -> httpx.Response:
    # a renamed IRI redirects (308) to its replacement: followed, as an RDF client does
    response = httpx.get(base + path, headers={"accept": accept}, timeout=TIMEOUT, follow_redirects=True)
    assert response.status_code == 200, (path, response.text[:200])
    return response


def test_jsonld_is_compact_with_the_graphs_own_prefixes(live: str, snapshot: Snapshot) -> None:
    document = _jsonld(live, "/id/vsc").json()
    own = {prefix: str(namespace) for prefix, namespace in snapshot.graph.namespaces() if prefix}
    assert own.items() <= document["@context"].items()
    # every property is a keyword or a prefixed name of the context, never a whole IRI
    properties = [key for key in document if key != "@context"]
    assert properties and all(key.startswith("@") or key.split(":", 1)[0] in own for key in properties)
    assert document["@id"] == "kg:vsc" and "kg" in own


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_expanding_a_pages_jsonld_gives_its_turtle(live: str, snapshot: Snapshot, data: st.DataObject) -> None:
    iri = data.draw(st.sampled_from(sorted(snapshot.descriptions)))
    path = "/id/" + iri[len(BASE) :]
    compact = _jsonld(live, path)
    turtle = _jsonld(live, path, "text/turtle")
    expanded = Graph().parse(data=compact.content, format="json-ld")
    expected = Graph().parse(data=turtle.text, format="turtle")  # empty for an IRI only ever an object
    assert len(expanded) == len(expected) and canonical(expanded) == canonical(expected)
    # plain JSON is the same document
    plain = _jsonld(live, path, "application/json")
    assert plain.headers["content-type"].startswith("application/json") and plain.content == compact.content
    assert compact.headers["content-type"].startswith("application/ld+json")


def test_the_jsonld_is_the_same_bytes_whatever_the_parse(live: str, snapshot: Snapshot) -> None:
    """Written again from a fresh parse of itself (new blank-node ids, another store order): the same bytes."""
    for path in ("/download/graph.jsonld", "/id/guest-row-09"):
        served = _jsonld(live, path).content
        assert _jsonld(live, path).content == served
        again = serialize(Graph().parse(data=served, format="json-ld"), "json-ld", snapshot_prefixes(snapshot))
        assert again == served, path


def test_the_whole_graph_in_jsonld_is_the_whole_graph(live: str, snapshot: Snapshot) -> None:
    document = _jsonld(live, "/download/graph.jsonld")
    assert "@context" in document.json() and "@graph" in document.json()
    assert canonical(Graph().parse(data=document.content, format="json-ld")) == canonical(snapshot.graph)


@pytest.mark.parametrize(("download", "fmt"), [("graph.jsonld", "json-ld"), ("graph.nt", "nt")])
def test_a_download_is_the_bytes_of_hvkg_export(live: str, snapshot: Snapshot, download: str, fmt: str) -> None:
    served = httpx.get(live + "/download/" + download, timeout=TIMEOUT)
    assert served.status_code == 200 and served.content == export(snapshot, fmt)


def test_serving_rdf_binds_no_prefix_into_the_snapshot(snapshot: Snapshot) -> None:
    """rdflib's writers bind ns1, ns2 ... for each namespace they meet into the graph they write, and a page's
    description shares the snapshot's namespace manager: served in Turtle, a page once changed the prefixes,
    hence the @context of every JSON-LD served after it. On a copy of the graph nothing else has written yet."""
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in snapshot.graph.namespaces():
        graph.bind(prefix, namespace)
    graph += snapshot.graph
    fresh = replace(snapshot, graph=graph, content_hash="f" * 64)
    before = sorted(graph.namespaces())
    with serve(create_app(holder=SnapshotHolder(current=fresh)), lifespan="off") as base:
        first = _jsonld(base, "/id/vsc").content
        for path in ("/id/ontology", "/download/graph.ttl"):
            for accept in ("text/turtle", "application/rdf+xml"):
                assert httpx.get(base + path, headers={"accept": accept}, timeout=TIMEOUT).status_code == 200
        assert sorted(graph.namespaces()) == before
        assert _jsonld(base, "/id/vsc").content == first


# --- Graph Store reads ------------------------------------------------------------------------------------------


def construct(base: str, where: str) -> Graph:
    client = SPARQLWrapper(base + "/sparql")
    client.setQuery(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}")
    client.setReturnFormat(TURTLE)
    answer = client.query()
    assert answer.response.headers.get("x-sparql-truncated", "false") == "false"
    body = answer.convert()
    assert isinstance(body, bytes)  # SPARQLWrapper gives Turtle as it came
    return Graph().parse(data=body, format="turtle")


def named_graphs_listed(base: str) -> list[str]:
    response = httpx.get(
        base + "/sparql",
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"accept": "application/sparql-results+json"},
        timeout=TIMEOUT,
    )
    return sorted(row["g"]["value"] for row in response.json()["results"]["bindings"])


def test_the_default_graph_is_what_sparql_constructs(live: str) -> None:
    stored = Graph().parse(live + "/store?default")  # rdflib as a client: its own Accept, the type answered
    assert canonical(stored) == canonical(construct(live, "?s ?p ?o"))


def test_each_named_graph_is_what_sparql_constructs_from_it(live: str) -> None:
    names = named_graphs_listed(live)
    assert len(names) >= 4  # the article, the notes, the editorial graph, the ontology
    for name in names:
        response = httpx.get(
            live + "/store", params={"graph": name}, headers={"accept": "application/n-triples"}, timeout=TIMEOUT
        )
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/n-triples")
        stored = as_the_store_types(Graph().parse(data=response.text, format="nt"))
        assert len(stored) and canonical(stored) == canonical(construct(live, f"GRAPH <{name}> {{ ?s ?p ?o }}"))


def test_the_dataset_is_the_named_graphs_as_the_downloads_give_them(live: str) -> None:
    for media, download in (("application/trig", "graph.trig"), ("application/n-quads", "graph.nq")):
        stored = httpx.get(live + "/store", headers={"accept": media}, timeout=TIMEOUT)
        assert stored.status_code == 200 and stored.headers["content-type"].startswith(media)
        assert stored.content == httpx.get(live + "/download/" + download, timeout=TIMEOUT).content
    dataset = Dataset().parse(live + "/store", format="trig")
    names = {str(g.identifier) for g in dataset.graphs() if isinstance(g.identifier, URIRef) and len(g)}
    assert names == set(named_graphs_listed(live))


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")],
)
def test_a_graph_in_each_format_is_the_same_graph(live: str, accept: str, fmt: str) -> None:
    name = BASE + "ontology"
    response = httpx.get(live + "/store", params={"graph": name}, headers={"accept": accept}, timeout=TIMEOUT)
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
    assert "accept" in vary(response)
    nt = httpx.get(live + "/store", params={"graph": name}, headers={"accept": "application/n-triples"})
    expected = canonical(Graph().parse(data=nt.text, format="nt"))
    assert canonical(Graph().parse(data=response.content, format=fmt)) == expected


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
@pytest.mark.parametrize("query", ["?default", f"?graph={BASE}ontology", ""])
def test_the_store_is_read_only(live: str, method: str, query: str) -> None:
    response = httpx.request(
        method, live + "/store" + query, content=b"<a:b> <a:c> <a:d> .", headers={"content-type": "text/turtle"}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert "read-only" in response.text and "読み取り専用" in response.text


def test_what_the_store_refuses(live: str) -> None:
    both = httpx.get(live + "/store", params={"default": "", "graph": BASE + "ontology"}, timeout=TIMEOUT)
    assert both.status_code == 400 and "?default" in both.text and "どちらか" in both.text
    unknown = httpx.get(live + "/store", params={"graph": BASE + "no-such-graph"}, timeout=TIMEOUT)
    assert unknown.status_code == 404 and "no-such-graph" in unknown.text
    assert all(name in unknown.text for name in named_graphs_listed(live))  # it names the graphs there are
    assert httpx.get(live + "/store?default", headers={"accept": "image/png"}).status_code == 406
    head = httpx.head(live + "/store?default", headers={"accept": "text/turtle"}, timeout=TIMEOUT)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"].startswith("text/turtle")


def test_without_named_graphs_a_graph_is_404_naming_the_setting(snapshot: Snapshot) -> None:
    without = replace(snapshot, store=default_graph_store(snapshot.graph))  # a store as HVKG_NAMED_GRAPHS=off keeps
    with serve(create_app(holder=SnapshotHolder(current=without)), lifespan="off") as base:
        refused = httpx.get(base + "/store", params={"graph": BASE + "doc-article"}, timeout=TIMEOUT)
        assert refused.status_code == 404 and "HVKG_NAMED_GRAPHS" in refused.text and "名前付き" in refused.text
        dataset = Dataset().parse(data=httpx.get(base + "/store", timeout=TIMEOUT).content, format="trig")
        filled = [g for g in dataset.graphs() if len(g)]
        assert [g.identifier for g in filled] == [dataset.default_graph.identifier]  # the default graph alone
        assert canonical(dataset.default_graph) == canonical(snapshot.graph)


# --- the /id/ index -----------------------------------------------------------------------------------------------


class _Index(HTMLParser):
    """The links of the index's <main>, each with the id of the section (its type's heading) it is under."""

    def __init__(self) -> None:
        super().__init__()
        self.in_main = False
        self.section = ""
        self.links: dict[str, set[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "main":
            self.in_main = True
        elif tag == "h2" and self.in_main:
            self.section = attributes.get("id") or ""
        elif tag == "a" and self.in_main and self.section and (attributes.get("href") or "").startswith("/id/"):
            self.links.setdefault(unquote(attributes["href"] or "")[len("/id/") :], set()).add(self.section)

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main = False


def test_the_index_links_every_resource_under_its_type(live: str, snapshot: Snapshot) -> None:
    page = httpx.get(live + "/id/", headers={"accept": "text/html"}, timeout=TIMEOUT)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    index = _Index()
    index.feed(page.text)
    assert {BASE + name for name in index.links} == set(snapshot.descriptions)
    for iri, kind in snapshot.tables.types.items():
        if iri in snapshot.descriptions:
            assert index.links[iri[len(BASE) :]] == {f"type-{kind}"}, iri
    # each link resolves
    for name in list(index.links)[:5]:
        assert httpx.get(live + "/id/" + name, headers={"accept": "text/html"}, timeout=TIMEOUT).status_code == 200


def test_the_index_in_rdf_contains_every_resource(live: str, snapshot: Snapshot) -> None:
    listed = Graph().parse(data=_jsonld(live, "/id/", "text/turtle").text, format="turtle")
    container = URIRef(BASE)
    assert (container, RDF.type, URIRef(LDP + "BasicContainer")) in listed
    assert {str(o) for o in listed.objects(container, URIRef(LDP + "contains"))} == set(snapshot.descriptions)
    compact = json.loads(_jsonld(live, "/id/").content)
    assert canonical(Graph().parse(data=json.dumps(compact), format="json-ld")) == canonical(listed)
