"""One immutable snapshot: the validated graph and everything derived from it, built once.

A snapshot holds data only: the merged graph, its tables, the name index, the networkx projection, the
descriptions of the minted IRIs, and the same triples in a pyoxigraph store for the SPARQL endpoint. What builds
it (load, validate, index, cache) is graph/build.py, above it; what answers questions from it (graph/verdicts.py,
graph/paths.py, graph/nodes.py, ...) sits above it too, so this module imports none of them. A snapshot never
changes after `graph.build.build_snapshot` returns; a reload builds a new one and the holder swaps the
reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rdflib import Graph

from graph.tables import Tables

if TYPE_CHECKING:
    import networkx as nx
    import pyoxigraph as ox

    from graph.describe import Description
    from graph.names import NameIndex


@dataclass(frozen=True)
class Snapshot:
    graph: Graph
    content_hash: str
    triple_count: int
    queries: dict[str, str]
    tables: Tables
    names: NameIndex
    network: nx.MultiDiGraph
    descriptions: Mapping[str, Description]
    built_at: float
    build_seconds: float
    # The same triples in pyoxigraph's default graph, for the SPARQL endpoint's fast path, and the named graphs
    # of graph.named_graphs; None: rdflib answers everything.
    store: ox.Store | None = None
    from_cache: bool = False
    # Answers the question functions derive once per snapshot (graph.verdicts, graph.paths): dropped with it.
    # Not an init field, so dataclasses.replace() starts a new snapshot with an empty memo.
    memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
