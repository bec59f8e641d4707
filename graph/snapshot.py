"""One immutable snapshot: the validated graph and everything derived from it, built once.

Turtle -> parse and merge -> validate -> tables, name index, networkx projection. A snapshot never
changes after `build_snapshot` returns; a reload builds a new one and the holder swaps the reference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdflib import Graph

from graph.layout import DataLayout
from graph.loading import load_files
from graph.problems import InvalidGraph
from graph.tables import Tables, build_tables
from graph.validation import validate

if TYPE_CHECKING:
    import networkx as nx

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
    descriptions: dict[str, Description]
    built_at: float
    build_seconds: float


def build_snapshot(layout: DataLayout | None = None) -> Snapshot:
    """Load, validate and index the data; raise InvalidGraph listing every problem found."""
    from graph.describe import build_descriptions
    from graph.names import build_name_index
    from graph.paths import build_network

    layout = layout or DataLayout()
    started = time.perf_counter()
    loaded, problems = load_files(layout)
    if loaded is None:
        raise InvalidGraph(problems)
    problems = validate(loaded, layout)
    if problems:
        raise InvalidGraph(problems)
    tables = build_tables(loaded.graph, loaded.queries)
    return Snapshot(
        graph=loaded.graph,
        content_hash=loaded.content_hash,
        triple_count=len(loaded.graph),
        queries=loaded.queries,
        tables=tables,
        names=build_name_index(tables),
        network=build_network(tables),
        descriptions=build_descriptions(loaded.graph, tables),
        built_at=time.time(),
        build_seconds=time.perf_counter() - started,
    )
