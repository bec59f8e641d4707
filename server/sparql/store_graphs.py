"""How a shared store holds the snapshots this service publishes: the graphs' names and the catalogue's words.

A published snapshot HASH lives in <urn:hvkg:snapshot:HASH> (its default graph) and one graph per source under it
(`scoped_graph`); its entry in the catalogue graph <urn:hvkg:published>, written last by server/sparql/publish.py,
says it is whole. The engine (server/sparql/remote.py) reads only graphs of its own snapshot's hash, so a reload
switches every query at once. Shared by the publisher and the engine, so the two never disagree on a name.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from server.sparql.dataset import GRAPH_IRI

SNAPSHOT_PREFIX = "urn:hvkg:snapshot:"
CATALOGUE = "urn:hvkg:published"  # one marker per published snapshot, written last (server/sparql/publish.py)
NO_GRAPH = "urn:hvkg:none"  # a graph no store holds: an empty default graph, no named graph
TRIPLE_COUNT = "urn:hvkg:tripleCount"  # the catalogue's words: <snapshot> tripleCount N; graph <our IRI>; at T
HOLDS_GRAPH = "urn:hvkg:graph"
PUBLISHED_AT = "urn:hvkg:publishedAt"


def snapshot_graph(content_hash: str) -> str:
    """The store's name of a snapshot's whole graph (our default graph, GRAPH_IRI)."""
    return SNAPSHOT_PREFIX + content_hash


def scoped_graph(content_hash: str, iri: str) -> str:
    """The store's name of one of our graphs in the snapshot `content_hash`."""
    if iri == GRAPH_IRI:
        return snapshot_graph(content_hash)
    return f"{snapshot_graph(content_hash)}:{quote(iri, safe='')}"


def unscoped_graph(content_hash: str, name: str) -> str | None:
    """Our IRI for a graph name of the store in snapshot `content_hash`, or None when it is not one."""
    whole = snapshot_graph(content_hash)
    if name == whole:
        return GRAPH_IRI
    if name.startswith(whole + ":"):
        return unquote(name[len(whole) + 1 :])
    return None
