"""One named graph per source (graph/named_graphs.py) and the SPARQL dataset made of them (server/sparql/).

Each graph's content is checked against graph.nodes, computed independently per statement with node(); the
endpoint is a real uvicorn on loopback over the shipped snapshot."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import DCTERMS, RDF, SKOS
from rdflib.term import Node
from SPARQLWrapper import JSON, SPARQLWrapper
from starlette.applications import Starlette

from graph import named_graphs
from graph.layout import BASE, ROOT
from graph.named_graphs import EDITORIAL, ONTOLOGY, assign, serialize
from graph.nodes import ARTICLE, Basis, NodeStatement, node
from graph.snapshot import Snapshot
from server.ops.state import SnapshotHolder
from server.sparql.config import SPARQLConfig
from server.sparql.dataset import GRAPH_IRI
from server.sparql.engine import _WorkerData
from server.sparql.jobs import QueryJob
from server.sparql.protocol import SPARQLEndpoint
from tests.live import serve

NOTES = BASE + "doc-external-facts"
PASSAGE = URIRef(BASE + "ontology/Passage")
SD = "http://www.w3.org/ns/sparql-service-description#"


# --- fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def url(snapshot: Snapshot) -> Iterator[str]:
    endpoint = SPARQLEndpoint(SnapshotHolder(current=snapshot), SPARQLConfig())
    try:
        with serve(Starlette(routes=endpoint.routes("/sparql"))) as base:
            yield base + "/sparql"
    finally:
        asyncio.run(endpoint.close())


def select(url: str, query: str, **params: str) -> list[dict[str, Any]]:
    response = httpx.get(url, params={"query": query, **params}, headers={"accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    bindings: list[dict[str, Any]] = response.json()["results"]["bindings"]
    return bindings


def term(cell: dict[str, str]) -> Node:
    if cell["type"] == "uri":
        return URIRef(cell["value"])
    if cell["type"] == "bnode":
        return BNode(cell["value"])
    if "xml:lang" in cell:
        return Literal(cell["value"], lang=cell["xml:lang"])
    datatype = cell.get("datatype")
    return Literal(cell["value"], datatype=URIRef(datatype) if datatype else None)


def statements(snapshot: Snapshot, iri: str) -> dict[tuple[Node, Node], NodeStatement]:
    """graph.nodes' statements about one IRI, by (predicate, object)."""
    view, description = node(snapshot, iri), snapshot.descriptions.get(iri)
    assert view is not None and description is not None
    return {(p, o): s for (_, p, o), s in zip(description.triples, view.statements, strict=True)}


def members(snapshot: Snapshot, name: str) -> set[tuple[Node, Node, Node]]:
    return {triple for triple, names in assign(snapshot).items() if name in names}


def documents(snapshot: Snapshot) -> set[str]:
    """The documents the graph's passages belong to, read straight from the graph."""
    return {
        str(d) for p in snapshot.graph.subjects(RDF.type, PASSAGE) for d in snapshot.graph.objects(p, DCTERMS.isPartOf)
    }


# --- the filing ------------------------------------------------------------------------------------------------


def test_every_triple_is_in_a_named_graph_and_no_graph_holds_more(snapshot: Snapshot) -> None:
    filed = assign(snapshot)
    assert set(filed) == set(snapshot.graph)
    assert all(filed.values())
    store = snapshot.store
    assert store is not None
    union = {(q.subject, q.predicate, q.object) for q in store if not isinstance(q.graph_name, ox.DefaultGraph)}
    default = {(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    assert union == default  # the store's default graph is the union of its named graphs
    assert len(default) == len(snapshot.graph)


def test_the_graphs_are_the_documents_the_ontology_and_the_editorial_graph(snapshot: Snapshot) -> None:
    names = {name for names in assign(snapshot).values() for name in names}
    assert names == documents(snapshot) | {ONTOLOGY, EDITORIAL}
    assert {ARTICLE, NOTES} <= names
    assert ONTOLOGY == BASE + "ontology" and EDITORIAL == BASE + "graph/editorial" and ARTICLE == BASE + "doc-article"


def test_the_ontology_graph_is_the_ontology_file(snapshot: Snapshot) -> None:
    """Independently of how the filing recognises terms: what ontology/hvkg.ttl holds, and nothing else."""
    written = Graph().parse(ROOT / "ontology" / "hvkg.ttl", format="turtle")
    filed = members(snapshot, ONTOLOGY)

    def ground(triples: set[tuple[Node, Node, Node]]) -> set[tuple[Node, Node, Node]]:
        return {t for t in triples if not any(isinstance(x, BNode) for x in t)}

    assert ground(filed) == ground(set(written))
    assert len(filed) == len(written)


def _sample(snapshot: Snapshot) -> list[str]:
    return sorted(
        {str(s) for s in snapshot.graph.subjects() if isinstance(s, URIRef) and str(s).startswith(BASE)} - {ONTOLOGY}
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_each_statement_is_in_the_graphs_of_the_documents_that_say_it(snapshot: Snapshot, data: st.DataObject) -> None:
    iri = data.draw(st.sampled_from(_sample(snapshot)))
    filed = assign(snapshot)
    for (p, o), statement in statements(snapshot, iri).items():
        names = filed[(URIRef(iri), p, o)]
        cited = {c.document_iri for c in statement.evidence}
        for name in names - {EDITORIAL, ONTOLOGY}:
            # a document's graph holds only what rests on that document's passages, never a rule's conclusion
            assert name in cited and statement.basis is not Basis.INFERRED, (iri, p, o, names)
        if statement.basis is Basis.INFERRED or not cited:
            assert names <= {EDITORIAL, ONTOLOGY}, (iri, p, o, names)
        if statement.basis is Basis.OUTSIDE:
            assert ARTICLE not in names
        if str(p) == str(SKOS.hiddenLabel):
            assert names == {EDITORIAL}
        if str(p) == str(SKOS.prefLabel) and ARTICLE in names:
            assert any(str(o) in c.quote for c in statement.evidence if c.document_iri == ARTICLE)


def test_a_passage_and_its_selectors_are_in_its_document_graph(snapshot: Snapshot) -> None:
    graph, filed = snapshot.graph, assign(snapshot)
    passages = list(graph.subjects(RDF.type, PASSAGE))
    assert passages
    for passage in passages:
        document = str(graph.value(passage, DCTERMS.isPartOf))
        own = [(passage, p, o) for p, o in graph.predicate_objects(passage) if p != DCTERMS.license]
        own = [t for t in own if t[1] not in (DCTERMS.rights, DCTERMS.rightsHolder)]
        for s, p, o in own:
            assert filed[(s, p, o)] == {document}, (s, p, o)
            if isinstance(o, BNode):  # a selector
                assert all(filed[t] == {document} for t in graph.triples((o, None, None)))


# --- SPARQL ----------------------------------------------------------------------------------------------------


def test_from_the_article_answers_only_what_the_article_says(url: str, snapshot: Snapshot) -> None:
    rows = select(url, f"SELECT ?s ?p ?o FROM <{ARTICLE}> WHERE {{ ?s ?p ?o }}")  # noqa: S608 (SPARQL, not SQL)
    triples = {(term(r["s"]), term(r["p"]), term(r["o"])) for r in rows}
    assert len(rows) == len(triples) == len(members(snapshot, ARTICLE))
    checked = 0
    for s, p, o in triples:
        if isinstance(s, URIRef) and str(s).startswith(BASE):
            statement = statements(snapshot, str(s))[(p, o)]
            assert statement.basis is Basis.STATED, (s, p, o)
            assert any(c.document_iri == ARTICLE for c in statement.evidence), (s, p, o)
            checked += 1
    assert checked > 1000  # every minted subject's statement was compared, not a handful


def test_from_the_notes_answers_only_what_the_notes_say(url: str, snapshot: Snapshot) -> None:
    rows = select(url, f"SELECT ?s ?p ?o FROM <{NOTES}> WHERE {{ ?s ?p ?o FILTER(isIRI(?s)) }}")  # noqa: S608 (SPARQL, not SQL)
    assert rows
    for r in rows:
        s, p, o = term(r["s"]), term(r["p"]), term(r["o"])
        statement = statements(snapshot, str(s))[(p, o)]
        cited = {c.document_iri for c in statement.evidence}
        assert NOTES in cited, (s, p, o)
        # OUTSIDE, or resting on the article's passages and the notes' both (then in both graphs)
        assert statement.basis is Basis.OUTSIDE or (statement.basis is Basis.STATED and ARTICLE in cited)
    outside = [
        (s, p, o)
        for s in _sample(snapshot)
        for (p, o), statement in statements(snapshot, s).items()
        if statement.basis is Basis.OUTSIDE and NOTES in {c.document_iri for c in statement.evidence}
    ]
    answered = {(term(r["s"]), term(r["p"]), term(r["o"])) for r in rows}
    filed = assign(snapshot)
    assert all((URIRef(s), p, o) in answered for s, p, o in outside if NOTES in filed[(URIRef(s), p, o)])


def test_graph_lists_exactly_the_graphs(url: str, snapshot: Snapshot) -> None:
    rows = select(url, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    counts = {r["g"]["value"]: int(r["n"]["value"]) for r in rows}
    assert set(counts) == documents(snapshot) | {ONTOLOGY, EDITORIAL}
    assert counts == {name: len(members(snapshot, name)) for name in counts}


def test_without_a_dataset_every_query_answers_from_the_whole_graph(url: str, snapshot: Snapshot) -> None:
    (row,) = select(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(row["n"]["value"]) == len(snapshot.graph)
    (row,) = select(url, f"SELECT (COUNT(*) AS ?n) FROM <{GRAPH_IRI}> WHERE {{ ?s ?p ?o }}")  # noqa: S608 (SPARQL, not SQL)
    assert int(row["n"]["value"]) == len(snapshot.graph)


def test_the_protocol_chooses_the_same_graphs(url: str, snapshot: Snapshot) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    (row,) = select(url, count, **{"default-graph-uri": NOTES})
    assert int(row["n"]["value"]) == len(members(snapshot, NOTES))
    (row,) = select(url, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": ONTOLOGY})
    assert int(row["n"]["value"]) == len(members(snapshot, ONTOLOGY))
    # several FROM: their union, each triple once
    (row,) = select(url, f"SELECT (COUNT(*) AS ?n) FROM <{ARTICLE}> FROM <{NOTES}> WHERE {{ ?s ?p ?o }}")  # noqa: S608 (SPARQL, not SQL)
    assert int(row["n"]["value"]) == len(members(snapshot, ARTICLE) | members(snapshot, NOTES))


def test_rdflib_and_pyoxigraph_answer_datasets_alike(snapshot: Snapshot) -> None:
    """CONSTRUCT and an escaped query go to rdflib, a plain SELECT to pyoxigraph: the same graphs either way."""
    worker = _WorkerData(snapshot.graph, snapshot.store)
    for name in (ARTICLE, NOTES, EDITORIAL, ONTOLOGY):
        expected = len(members(snapshot, name))
        for text, graph_format in (
            (f"SELECT * FROM <{name}> WHERE {{ ?s ?p ?o }}", None),  # noqa: S608 (SPARQL, not SQL)
            (f'SELECT * FROM <{name}> WHERE {{ ?s ?p ?o FILTER(?o != "\\u0000") }}', None),  # noqa: S608 (SPARQL, not SQL)
            (f"SELECT * WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}", None),
            (f"CONSTRUCT {{ ?s ?p ?o }} FROM <{name}> WHERE {{ ?s ?p ?o }}", "nt"),
        ):
            job = QueryJob(text, "http://x/sparql", None if graph_format else "json", graph_format, None, None,
                           100_000, False, "r")  # fmt: skip
            outcome = worker.execute(job)
            assert outcome.status == 200, outcome.body
            assert outcome.rows == expected, (text, outcome.rows, expected)


@pytest.mark.parametrize("iri", ["http://127.0.0.1:1/x", "https://example.org/not-ours"])
def test_an_unknown_http_graph_is_empty_and_never_fetched(url: str, iri: str) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    here = f"http://127.0.0.1:{listener.getsockname()[1]}/graph"
    try:
        for name in (iri, here):
            assert select(url, f"SELECT * FROM <{name}> WHERE {{ ?s ?p ?o }}") == []  # noqa: S608 (SPARQL, not SQL)
            assert select(url, f"SELECT * FROM NAMED <{name}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}") == []  # noqa: S608 (SPARQL, not SQL)
            assert select(url, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": name}) == []
            assert select(url, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": name}) == []
        with pytest.raises(BlockingIOError):  # nobody connected while the queries were answered
            listener.accept()
    finally:
        listener.close()


@pytest.mark.parametrize(
    "params",
    [
        {"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"},
        {"query": "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }"},
        {"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": "file:///etc/passwd"},
        {"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": "file:///etc/passwd"},
        # as a prefixed name: decided on the parse, not on the text
        {"query": "PREFIX f: <file:///etc/> SELECT * FROM f:passwd WHERE { ?s ?p ?o }"},
    ],
)
def test_a_file_graph_is_refused_in_both_languages(url: str, params: dict[str, str]) -> None:
    response = httpx.get(url, params=params)
    assert response.status_code == 400
    assert "<file:///etc/passwd> is not a graph of this service" in response.text
    assert "このサービスのグラフではありません" in response.text
    assert ARTICLE in response.text  # it names the graphs that may be chosen
    assert "root:" not in response.text


def test_sparqlwrapper_reads_one_graph(url: str, snapshot: Snapshot) -> None:
    client = SPARQLWrapper(url)
    client.setQuery(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{EDITORIAL}> {{ ?s ?p ?o }} }}")
    client.setReturnFormat(JSON)
    result: Any = client.query().convert()
    assert int(result["results"]["bindings"][0]["n"]["value"]) == len(members(snapshot, EDITORIAL))


def test_the_service_description_lists_each_graph_with_its_size_and_source(url: str, snapshot: Snapshot) -> None:
    response = httpx.get(url, headers={"accept": "text/turtle"})
    assert response.status_code == 200
    sd = Graph().parse(data=response.text, format="turtle")
    described = {}
    for entry in sd.subjects(RDF.type, URIRef(SD + "NamedGraph")):
        content = sd.value(entry, URIRef(SD + "graph"))
        triples = sd.value(content, URIRef("http://rdfs.org/ns/void#triples"))
        described[str(sd.value(entry, URIRef(SD + "name")))] = (int(str(triples)), sd.value(content, DCTERMS.source))
    assert {name: size for name, (size, _) in described.items()} == {
        name: len(members(snapshot, name)) for name in documents(snapshot) | {ONTOLOGY, EDITORIAL}
    }
    assert described[ARTICLE][1] == URIRef(ARTICLE) and described[NOTES][1] == URIRef(NOTES)
    assert all(source is not None for _, source in described.values())


# --- TriG and N-Quads ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "rdflib_format"), [("trig", "trig"), ("nquads", "nquads")])
def test_downloads_round_trip_to_the_same_quads(snapshot: Snapshot, fmt: str, rdflib_format: str) -> None:
    body = serialize(snapshot, fmt)
    dataset = Dataset()
    dataset.parse(data=body, format=rdflib_format)
    names = {name for names in assign(snapshot).values() for name in names}
    parsed = {str(g.identifier): g for g in dataset.graphs() if str(g.identifier) in names}
    assert set(parsed) == names
    assert len(dataset.default_graph) == 0  # only the named graphs: the default graph is their union
    for name in names:
        expected = Graph()
        for triple in members(snapshot, name):
            expected.add(triple)
        # the same triples, blank nodes aside (rdflib.compare's canonical labels)
        assert len(parsed[name]) == len(expected)
        assert set(to_canonical_graph(parsed[name])) == set(to_canonical_graph(expected)), name


def test_an_unknown_format_is_refused(snapshot: Snapshot) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        named_graphs.serialize(snapshot, "turtle")
