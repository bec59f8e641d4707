"""The RDF files the web adapter serves, each written one way and kept once per snapshot.

Owns which file each web route serves and keeping it: the downloads (/download/graph.*), the RDF of an /id/
page, the Graph Store reads (/store, server.web.graph_store) and the /id/ index's RDF. Writing them is
graph.rdf_export's (`hvkg export`'s canonical form: blank nodes named from their content, triples sorted,
JSON-LD compacted with the graph's own prefixes as its @context, the same bytes every run):
- the whole graph in each format is `export` itself, so a download is the bytes `hvkg export` writes;
- a part of it (one resource's description, one named graph, the index) is written the same way by `serialize`,
  with the whole graph's prefixes;
- the named graphs as quads (TriG, N-Quads) are graph.named_graphs.serialize's, as the downloads had them.
What a snapshot serves is the same for every request: `kept` holds each file of the snapshot being served
(writing the whole graph costs 100-600 ms) and forgets those of the snapshot before.

Every file is written by a graph of its own, never by the snapshot's or one sharing its namespace manager
(graph.describe's descriptions do): rdflib's writers bind a name (ns1, ns2, ...) into the manager of the
graph they write for each namespace they meet, and served in Turtle, a page once changed the snapshot's
prefixes, hence the @context of every JSON-LD served after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from rdflib import Graph

from graph import rdf_export
from graph.named_graphs import quads
from graph.named_graphs import serialize as serialize_quads
from graph.rdf_export import blank_labels, canonical_triples, export, jsonld, prefixes_for

if TYPE_CHECKING:
    from graph.snapshot import Snapshot

# (media type, rdflib format), in the order offered; ?format= picks one by its key
RDF_FORMATS = {
    "turtle": ("text/turtle", "turtle"),
    "json-ld": ("application/ld+json", "json-ld"),
    "nt": ("application/n-triples", "nt"),
    "xml": ("application/rdf+xml", "xml"),
}
DOWNLOADS = {"graph.ttl": "turtle", "graph.jsonld": "json-ld", "graph.nt": "nt", "graph.rdf": "xml"}
# the named graphs, one per source (graph/named_graphs.py), as quads: (media type, graph.named_graphs format)
QUAD_DOWNLOADS = {"graph.trig": ("application/trig", "trig"), "graph.nq": ("application/n-quads", "nquads")}


def serialize(graph: Graph, fmt: str, prefixes_of: Graph) -> bytes:
    """A part of the graph in an rdflib format (RDF_FORMATS), as graph.rdf_export writes the whole: the prefixes
    of `prefixes_of` (the snapshot's, `snapshot_prefixes`) and names for the other namespaces it uses."""
    triples = canonical_triples(graph, blank_labels(graph))
    prefixes = prefixes_for(prefixes_of, triples)
    if fmt == "json-ld":
        return jsonld(triples, prefixes)
    # graph.rdf_export's own writers (its export() has the same four branches for the whole graph)
    if fmt == "nt":
        return ("\n".join(rdf_export._lines(rdf_export._graph(triples, {}))) + "\n").encode("utf-8")
    if fmt == "xml":
        ordered = rdf_export._graph(triples, prefixes, rdf_export._Sorted(bind_namespaces="none"))
        return ordered.serialize(format="xml", encoding="utf-8")
    return rdf_export._graph(triples, prefixes).serialize(format=fmt, encoding="utf-8")


def snapshot_prefixes(snapshot: Snapshot) -> Graph:
    """A graph holding only the snapshot's prefixes, read once: what a part is written with."""
    key = ("rdf_files", "prefixes")
    if key not in snapshot.memo:
        prefixes = Graph(bind_namespaces="none")
        for prefix, namespace in snapshot.graph.namespaces():
            prefixes.bind(prefix, namespace)
        snapshot.memo[key] = prefixes
    found: Graph = snapshot.memo[key]
    return found


# One copy of each file of the snapshot being served: (content hash, what, format) -> bytes. Files are made in
# worker threads (anyio.to_thread), so the dictionary is changed under a lock; a file two requests make at once
# is made twice, the same bytes.
_KEPT: dict[tuple[str, str, str], bytes] = {}
_KEPT_LOCK = threading.Lock()


def kept(snapshot: Snapshot, what: str, fmt: str, make: Callable[[], bytes]) -> bytes:
    """`make()`, made once per snapshot, `what` and format; the files of an earlier snapshot are dropped."""
    key = (snapshot.content_hash, what, fmt)
    found = _KEPT.get(key)
    if found is not None:
        return found
    body = make()
    with _KEPT_LOCK:
        for old in [k for k in _KEPT if k[0] != snapshot.content_hash]:
            del _KEPT[old]
        _KEPT[key] = body
    return body


def whole_graph(snapshot: Snapshot, fmt: str) -> bytes:
    """The whole merged graph (the default graph) in an rdflib format: `hvkg export`'s bytes."""
    return kept(snapshot, "graph", fmt, lambda: export(snapshot, fmt))


def named_graph(snapshot: Snapshot, name: str, fmt: str) -> bytes:
    """One named graph (graph.named_graphs: a source's statements) in an rdflib format; empty for a name the
    snapshot does not file (the caller says 404 first)."""

    def make() -> bytes:
        graph = Graph(bind_namespaces="none")
        for s, p, o, graph_name in quads(snapshot):
            if graph_name == name:
                graph.add((s, p, o))
        return serialize(graph, fmt, snapshot_prefixes(snapshot))

    return kept(snapshot, "graph:" + name, fmt, make)


def dataset(snapshot: Snapshot, fmt: str) -> bytes:
    """The named graphs, one per source, as quads: "trig" or "nquads" (graph.named_graphs.serialize)."""
    return kept(snapshot, "dataset", fmt, lambda: serialize_quads(snapshot, fmt))
