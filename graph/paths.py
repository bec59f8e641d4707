"""Path questions on a networkx projection of the components and their documented relations.

Every edge is one hv:ComponentRelation and keeps its passages, so each hop of an answer carries the
evidence it rests on. I/O paths are the shortest route from a product's virtual machine to the
hardware through the edges that the graph assigns to that path (hv:inPath).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import networkx as nx

from graph.model import ArchitecturePath, BadInput, Component, Hop, IoMode, Layer, Relation
from graph.tables import Tables

if TYPE_CHECKING:
    from graph.snapshot import Snapshot


def build_network(tables: Tables) -> nx.MultiDiGraph:
    network = nx.MultiDiGraph()
    for component in tables.components.values():
        network.add_node(component.id)
    for relation in tables.relations:
        network.add_edge(relation.subject, relation.object, key=relation.iri, relation=relation)
    return network


def _hop(tables: Tables, relation: Relation, forward: bool) -> Hop:
    source, target = (relation.subject, relation.object) if forward else (relation.object, relation.subject)
    label = tables.labels.get(relation.predicate, {"en": relation.predicate})
    if not forward:
        label = tables.inverse_labels.get(relation.predicate, label)
    return Hop(
        tables.components[source],
        tables.components[target],
        label,
        relation.predicate,
        relation.evidence,
        forward,
    )


def _component(snapshot: Snapshot, component_id: str, argument: str) -> Component:
    component = snapshot.tables.components.get(component_id)
    if component is None:
        known = ", ".join(sorted(snapshot.tables.components)[:40])
        raise BadInput(
            argument,
            {
                "en": f"{argument}: unknown component id {component_id[:80]!r}; known ids: {known}",
                "ja": f"{argument}: コンポーネントID {component_id[:80]!r} は存在しません。既知のID: {known}",
            },
        )
    return component


def io_path(snapshot: Snapshot, product: str, mode: IoMode) -> ArchitecturePath | None:
    """The path a virtual machine's device I/O takes to the hardware; None if the product has none.

    Every verdict shows one, so it is worked out once per snapshot and product (snapshot.memo).
    """
    from graph.catalog import require_product

    product = require_product(snapshot, product).id
    key = ("io_path", product, mode)
    if key not in snapshot.memo:
        snapshot.memo[key] = _io_path(snapshot, product, mode)
    found: ArchitecturePath | None = snapshot.memo[key]
    return found


def _io_path(snapshot: Snapshot, product: str, mode: IoMode) -> ArchitecturePath | None:
    tables = snapshot.tables
    definition = next((p for p in tables.io_paths if p.product == product and p.mode is mode), None)
    if definition is None:
        return None
    edges = [
        (u, v, key)
        for u, v, key, data in snapshot.network.edges(keys=True, data=True)
        if data["relation"].path == definition.iri
    ]
    route = nx.shortest_path(snapshot.network.edge_subgraph(edges), definition.start, definition.end)
    hops = []
    for u, v in itertools.pairwise(route):
        relation = min(
            (
                data["relation"]
                for data in snapshot.network.get_edge_data(u, v).values()
                if data["relation"].path == definition.iri
            ),
            key=lambda r: r.iri,
        )
        hops.append(_hop(tables, relation, forward=True))
    return ArchitecturePath(mode, tuple(tables.components[c] for c in route), tuple(hops))


def path(snapshot: Snapshot, source: str, target: str) -> ArchitecturePath | None:
    """The shortest chain of documented relations between two components, in either direction."""
    tables = snapshot.tables
    _component(snapshot, source, "from")
    _component(snapshot, target, "to")
    undirected = snapshot.network.to_undirected(as_view=True)
    try:
        route = nx.shortest_path(undirected, source, target)
    except nx.NetworkXNoPath:
        return None
    hops = []
    for u, v in itertools.pairwise(route):
        forward = [d["relation"] for d in (snapshot.network.get_edge_data(u, v) or {}).values()]
        backward = [d["relation"] for d in (snapshot.network.get_edge_data(v, u) or {}).values()]
        if forward:
            hops.append(_hop(tables, min(forward, key=lambda r: r.iri), forward=True))
        else:
            hops.append(_hop(tables, min(backward, key=lambda r: r.iri), forward=False))
    return ArchitecturePath(None, tuple(tables.components[c] for c in route), tuple(hops))


def layers(snapshot: Snapshot, product: str) -> tuple[Layer, ...]:
    """A product's layer stack from the bottom (hardware) up."""
    tables = snapshot.tables
    return tuple(
        Layer(number, tables.labels[iri], tuple(tables.components[c] for c in parts), tables.cite(iri))
        for number, parts, iri in tables.layers.get(product, ())
    )
