"""What the graph says about one IRI: labels, types, every statement out and in, and the quotes behind it.

Built once per snapshot for every IRI the graph mints (under the base), so a page or an RDF description is
a dictionary lookup, not a graph walk per request.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from graph.layout import BASE
from graph.model import Citation, Text
from graph.tables import Tables, local_id

if TYPE_CHECKING:
    from graph.snapshot import Snapshot


@dataclass(frozen=True)
class Value:
    """An object of a statement: a link (iri and its label) or a literal (text and language)."""

    text: str
    iri: str | None = None
    label: Text | None = None
    language: str | None = None
    datatype: str | None = None


@dataclass(frozen=True)
class Statement:
    predicate: str
    predicate_label: Text
    value: Value


@dataclass(frozen=True)
class Description:
    iri: str
    id: str
    label: Text
    types: tuple[Value, ...]
    definition: Text | None
    outgoing: tuple[Statement, ...]
    incoming: tuple[tuple[Value, Statement], ...]
    evidence: tuple[Citation, ...]
    triples: tuple[tuple[Node, Node, Node], ...]


def _value(node: Node, tables: Tables) -> Value:
    if isinstance(node, URIRef):
        iri = str(node)
        return Value(local_id(iri) if iri.startswith(BASE) else iri, iri, tables.labels.get(iri))
    if isinstance(node, Literal):
        return Value(str(node), language=node.language, datatype=str(node.datatype) if node.datatype else None)
    return Value(str(node))


def build_descriptions(graph: Graph, tables: Tables) -> dict[str, Description]:
    out: dict[str, list[tuple[Node, Node, Node]]] = defaultdict(list)
    incoming: dict[str, list[tuple[Node, Node, Node]]] = defaultdict(list)
    for s, p, o in graph:
        if isinstance(s, URIRef) and str(s).startswith(BASE):
            out[str(s)].append((s, p, o))
        if isinstance(o, URIRef) and str(o).startswith(BASE):
            incoming[str(o)].append((s, p, o))
    descriptions = {}
    for iri in sorted(set(out) | set(incoming)):
        mine = sorted(out.get(iri, ()))
        types = tuple(
            _value(o, tables) for _, p, o in mine if str(p) == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
        )
        descriptions[iri] = Description(
            iri=iri,
            id=local_id(iri),
            label=tables.labels.get(iri, {"en": local_id(iri)}),
            types=types,
            definition=tables.definitions.get(iri),
            outgoing=tuple(
                Statement(str(p), tables.labels.get(str(p), {"en": _short(str(p))}), _value(o, tables))
                for _, p, o in mine
            ),
            incoming=tuple(
                (
                    _value(s, tables),
                    Statement(str(p), tables.labels.get(str(p), {"en": _short(str(p))}), _value(o, tables)),
                )
                for s, p, o in sorted(incoming.get(iri, ()))
                if isinstance(s, URIRef)
            ),
            evidence=tables.citations.get(iri, ()),
            triples=tuple(mine),
        )
    return descriptions


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def describe(snapshot: Snapshot, name: str) -> Description | None:
    """The description of BASE + name, or None when the graph does not mint that IRI."""
    return snapshot.descriptions.get(BASE + name)
