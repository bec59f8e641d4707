"""The service description (sd: with VoID statistics), what GET /sparql without a query answers to machines."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from graph.named_graphs import NamedGraph
from server.sparql.config import SnapshotLike, SPARQLConfig
from server.sparql.dataset import GRAPH_IRI, ID_BASE

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
DCTERMS = Namespace("http://purl.org/dc/terms/")


@dataclass(frozen=True)
class GraphStatistics:
    triples: int
    subjects: int
    properties: int
    classes: int
    objects: int
    graphs: tuple[NamedGraph, ...] = ()  # the named graphs of the service's dataset; () for GRAPH_IRI alone


def graph_statistics(graph: Graph) -> GraphStatistics:
    subjects: set[Node] = set()
    properties: set[Node] = set()
    classes: set[Node] = set()
    objects: set[Node] = set()
    triples = 0
    for s, p, o in graph:
        triples += 1
        subjects.add(s)
        properties.add(p)
        objects.add(o)
        if p == RDF.type:
            classes.add(o)
    return GraphStatistics(triples, len(subjects), len(properties), len(classes), len(objects))


def service_description(endpoint: str, snapshot: SnapshotLike, stats: GraphStatistics, config: SPARQLConfig) -> Graph:
    """The sd: description of this endpoint, with VoID statistics of its default graph (the whole graph) and of
    each named graph (its triple count and source); without named graphs, GRAPH_IRI as the one named graph."""
    g = Graph(bind_namespaces="core")
    for prefix, namespace in (("sd", SD), ("void", VOID), ("formats", FORMATS), ("dcterms", DCTERMS)):
        g.bind(prefix, namespace)
    service = URIRef(endpoint)
    dataset = URIRef(endpoint + "#dataset")
    whole = URIRef(endpoint + "#graph")
    named = URIRef(endpoint + "#named-graph")
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for name in (
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "JSON-LD",
        "N-Triples",
        "RDF_XML",
    ):
        g.add((service, SD.resultFormat, FORMATS[name]))
    g.add((service, RDFS.label, Literal("hyperv-kg SPARQL endpoint (read-only)", lang="en")))
    g.add((service, RDFS.label, Literal("hyperv-kg SPARQL エンドポイント（読み取り専用）", lang="ja")))
    limits_en = (
        f"Read-only; no SERVICE, no LOAD. Each query may run {config.time_limit:g} s and return "
        f"{config.row_limit} rows (header X-SPARQL-Row-Limit; X-SPARQL-Truncated: true when rows were cut)."
    )
    limits_ja = (
        f"読み取り専用。SERVICE と LOAD は使えません。クエリごとに実行は {config.time_limit:g} 秒まで、"
        f"結果は {config.row_limit} 行までです"
        "（X-SPARQL-Row-Limit ヘッダー。切り詰めたときは X-SPARQL-Truncated: true）。"
    )
    g.add((service, RDFS.comment, Literal(limits_en, lang="en")))
    g.add((service, RDFS.comment, Literal(limits_ja, lang="ja")))
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, DCTERMS.identifier, Literal(snapshot.content_hash)))
    g.add((dataset, SD.defaultGraph, whole))
    if stats.graphs:
        _describe_named_graphs(g, endpoint, dataset, whole, stats.graphs)
    else:
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(GRAPH_IRI)))
        g.add((named, SD.graph, whole))  # same content as the default graph
    g.add((whole, RDF.type, SD.Graph))
    g.add((whole, RDF.type, VOID.Dataset))
    g.add((whole, VOID.triples, Literal(stats.triples)))
    g.add((whole, VOID.distinctSubjects, Literal(stats.subjects)))
    g.add((whole, VOID.properties, Literal(stats.properties)))
    g.add((whole, VOID.classes, Literal(stats.classes)))
    g.add((whole, VOID.distinctObjects, Literal(stats.objects)))
    g.add((whole, VOID.uriSpace, Literal(ID_BASE)))
    return g


def _describe_named_graphs(
    g: Graph, endpoint: str, dataset: URIRef, whole: URIRef, graphs: tuple[NamedGraph, ...]
) -> None:
    """Each named graph in the service description: its name, and as a VoID subset of the default graph its
    triple count, its source (dcterms:source) and its title."""
    for index, source in enumerate(graphs, start=1):
        entry, content = URIRef(f"{endpoint}#named-graph-{index}"), URIRef(f"{endpoint}#graph-{index}")
        g.add((dataset, SD.namedGraph, entry))
        g.add((entry, RDF.type, SD.NamedGraph))
        g.add((entry, SD.name, URIRef(source.iri)))
        g.add((entry, SD.graph, content))
        g.add((content, RDF.type, SD.Graph))
        g.add((content, RDF.type, VOID.Dataset))
        g.add((whole, VOID.subset, content))
        g.add((content, VOID.triples, Literal(source.triples)))
        g.add((content, DCTERMS.source, URIRef(source.source)))
        for language, title in sorted((source.title or {}).items()):
            g.add((content, DCTERMS.title, Literal(title, lang=language)))
    union_en = f"The default graph is the union of the named graphs; <{GRAPH_IRI}> names it in FROM and FROM NAMED."
    union_ja = f"デフォルトグラフは名前付きグラフの和です。FROM と FROM NAMED では <{GRAPH_IRI}> で指定できます。"
    g.add((whole, RDFS.comment, Literal(union_en, lang="en")))
    g.add((whole, RDFS.comment, Literal(union_ja, lang="ja")))
