"""Path questions on a networkx projection of the components and their documented relations.

Every edge is one hv:ComponentRelation and keeps its passages, so each hop of an answer carries the
evidence it rests on. I/O paths are the shortest route from a product's virtual machine to the
hardware through the edges that the graph assigns to that path (hv:inPath); which of a product's paths is
its own (asked for with no mode) is data too (hv:nativePath).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import networkx as nx

from graph.model import ArchitecturePath, BadInput, Component, Hop, IoMode, IoPathDef, Layer, Relation
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


def io_path(snapshot: Snapshot, product: str, mode: IoMode | None = None) -> ArchitecturePath | None:
    """The path a virtual machine's device I/O takes to the hardware; None if the product has none.

    With no mode, the product's own path (hv:nativePath in the data: Hyper-V's is the one over the VMBus,
    Virtual Server's the emulated one). Every verdict shows one, so it is worked out once per snapshot,
    product and mode (snapshot.memo); the own path and the same path asked for by its mode are one answer.
    """
    from graph.catalog import require_product

    product = require_product(snapshot, product).id
    if mode is None:
        own = _native_definition(snapshot.tables, product)
        if own is None:
            return None
        mode = own.mode
    key = ("io_path", product, mode)
    if key not in snapshot.memo:
        snapshot.memo[key] = _io_path(snapshot, product, mode)
    found: ArchitecturePath | None = snapshot.memo[key]
    return found


def _native_definition(tables: Tables, product: str) -> IoPathDef | None:
    own = tables.native_paths.get(product)
    return next((p for p in tables.io_paths if p.iri == own), None)


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


def path(snapshot: Snapshot, source: str, target: str, directed: bool = True) -> ArchitecturePath | None:
    """The shortest chain of documented relations from one component to another; None if there is none.

    directed=True follows each relation the way it runs (subject to object: the way requests and I/O flow,
    or down the stack towards the hardware), so from the VSC to the hardware is VSC → VMBus → VSP → driver
    → hardware. directed=False may also walk a relation backwards; such a hop has forward=False and reads
    with the relation's inverse label.

    Among routes of the same length, each step prefers a forward hop, then a hop of a documented I/O path
    (hv:inPath: the article's own account of where requests go), then the smaller component id and relation
    IRI, so the answer never depends on the order in which the graph was loaded.
    """
    tables = snapshot.tables
    _component(snapshot, source, "from")
    _component(snapshot, target, "to")
    network = snapshot.network
    # How many hops each component is from the target, counted against the direction of travel.
    towards = network.reverse(copy=False) if directed else network.to_undirected(as_view=True)
    distance: dict[str, int] = nx.single_source_shortest_path_length(towards, target)
    if source not in distance:
        return None
    route = [source]
    hops: list[Hop] = []
    while route[-1] != target:
        here = route[-1]
        steps = [(True, data["relation"], v) for _, v, data in network.out_edges(here, data=True)]
        if not directed:
            steps += [(False, data["relation"], u) for u, _, data in network.in_edges(here, data=True)]
        forward, relation, there = min(
            (step for step in steps if distance.get(step[2]) == distance[here] - 1),
            key=lambda step: (not step[0], step[1].path is None, step[2], step[1].iri),
        )
        hops.append(_hop(tables, relation, forward))
        route.append(there)
    return ArchitecturePath(None, tuple(tables.components[c] for c in route), tuple(hops))


def layers(snapshot: Snapshot, product: str) -> tuple[Layer, ...]:
    """A product's layer stack from the bottom (hardware) up."""
    tables = snapshot.tables
    return tuple(
        Layer(number, tables.labels[iri], tuple(tables.components[c] for c in parts), tables.cite(iri))
        for number, parts, iri in tables.layers.get(product, ())
    )
