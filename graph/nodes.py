"""Any IRI the graph mints, with every statement about it: what `node(id)` answers.

The statements are generated from the graph itself (graph.describe), so a new kind of fact is reachable the
day it is added to the Turtle, with no Python. Each statement carries the passages its subject rests on and
how the graph knows it (`Basis`): said by the article (STATED), or by another document (OUTSIDE). What the
graph reads by a named rule (INFERRED) is marked in the data (hv:inferredBy); see docs/decisions.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from graph.describe import Description, Value
from graph.layout import BASE, VOCAB
from graph.model import Citation, Named, Text
from graph.tables import local_id

if TYPE_CHECKING:
    from graph.snapshot import Snapshot

ARTICLE = BASE + "doc-article"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
AS_OF = VOCAB + "asOf"
INFERRED_BY = VOCAB + "inferredBy"


class Basis(Enum):
    STATED = "STATED"
    INFERRED = "INFERRED"
    OUTSIDE = "OUTSIDE"


@dataclass(frozen=True)
class NodeStatement:
    predicate: Named  # id: the property's local name (e.g. maxVirtualProcessors), for code to switch on
    value: Text  # a literal as written, or the label of the thing it points to
    object: str | None  # the IRI of the thing it points to, when the graph mints it
    datatype: str | None  # a literal's XML Schema datatype (e.g. xsd:integer)
    evidence: tuple[Citation, ...]
    basis: Basis
    rule: str | None
    as_of: str | None


@dataclass(frozen=True)
class NodeView:
    named: Named
    statements: tuple[NodeStatement, ...]
    evidence: tuple[Citation, ...]


def _type_of(snapshot: Snapshot, description: Description) -> str:
    kind = snapshot.tables.types.get(description.iri)
    if kind:
        return kind
    # things typed outside our vocabulary (a skos:Concept family, a document's passage) by their class's name
    for value in description.types:
        if value.iri:
            return value.iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return "Thing"


def _basis(evidence: tuple[Citation, ...], rule: str | None) -> Basis:
    if rule is not None:
        return Basis.INFERRED
    if evidence and all(c.document_iri != ARTICLE for c in evidence):
        return Basis.OUTSIDE
    return Basis.STATED


def _text(value: Value) -> Text:
    if value.label:
        return value.label
    if value.language:
        return {value.language: value.text}
    return {"en": value.text, "ja": value.text}


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def node(snapshot: Snapshot, node_id: str) -> NodeView | None:
    """The node minted as BASE + node_id (or given by its full IRI), or None when the graph mints no such IRI."""
    iri = node_id if node_id.startswith(BASE) else BASE + node_id
    memo_key = ("node", iri)
    if memo_key in snapshot.memo:
        cached: NodeView | None = snapshot.memo[memo_key]
        return cached
    description: Description | None = snapshot.descriptions.get(iri)
    found = None if description is None else _view(snapshot, description)
    snapshot.memo[memo_key] = found
    return found


def _view(snapshot: Snapshot, description: Description) -> NodeView:
    evidence = description.evidence
    as_of = next((s.value.text for s in description.outgoing if s.predicate == AS_OF), None)
    if as_of is None and evidence:
        as_of = evidence[0].as_of
    rule = next((s.value.iri for s in description.outgoing if s.predicate == INFERRED_BY), None)
    statements = tuple(
        NodeStatement(
            predicate=Named(_short(s.predicate), s.predicate, s.predicate_label, "Property"),
            value=_text(s.value),
            object=s.value.iri if s.value.iri and s.value.iri.startswith(BASE) else None,
            datatype=s.value.datatype,
            evidence=evidence,
            basis=_basis(evidence, rule),
            rule=rule,
            as_of=as_of,
        )
        for s in description.outgoing
    )
    named = Named(local_id(description.iri), description.iri, description.label, _type_of(snapshot, description))
    return NodeView(named, statements, evidence)
