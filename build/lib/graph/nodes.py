"""Any IRI the graph mints, with every statement about it: what `node(id)` answers.

The statements are generated from the graph itself (graph.describe), so a new kind of fact is reachable the
day it is added to the Turtle, with no Python. Each statement says how the graph knows it (`Basis`), read
from the data, statement by statement:
- a statement named by an owl:Axiom (owl:annotatedSource / annotatedProperty / annotatedTarget) takes that
  axiom's passages (prov:wasDerivedFrom) and, when it has one, its rule (hv:inferredBy): INFERRED;
- any other statement rests on its subject's passages;
- a passage's statements rest on the passage itself;
- a statement without a rule is OUTSIDE when every passage it rests on belongs to another document than the
  article, else STATED.
Its date (`as_of`) is the subject's hv:asOf, else the date of its passages' document.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from rdflib import Literal, URIRef
from rdflib.term import Node

from graph.describe import Description, Value
from graph.layout import BASE, VOCAB
from graph.model import Citation, Named, Text
from graph.tables import local_id

if TYPE_CHECKING:
    from graph.snapshot import Snapshot

ARTICLE = BASE + "doc-article"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
AS_OF = VOCAB + "asOf"
QUOTE = URIRef(VOCAB + "quote")
SECTION = URIRef(VOCAB + "section")
PART_OF = URIRef("http://purl.org/dc/terms/isPartOf")
TITLE = URIRef("http://purl.org/dc/terms/title")


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


@dataclass(frozen=True)
class _Own:
    """What an owl:Axiom says of one statement: the rule it is read by, and the passages it rests on."""

    rule: str | None
    evidence: tuple[Citation, ...]


def _axioms(snapshot: Snapshot) -> dict[tuple[str, str, Node], _Own]:
    """Every annotated statement of the snapshot, by (subject IRI, predicate IRI, object), read once."""
    memo_key = ("node-axioms",)
    if memo_key in snapshot.memo:
        cached: dict[tuple[str, str, Node], _Own] = snapshot.memo[memo_key]
        return cached
    rules: dict[tuple[str, str, Node], str] = {}
    passages: dict[tuple[str, str, Node], dict[str, tuple[bool, str, int, Citation]]] = {}
    for row in snapshot.graph.query(snapshot.queries["statement-axioms"]):
        r: Any = row
        key = (str(r.source), str(r.property), r.target)
        if r.rule is not None:
            rules[key] = str(r.rule)
        passages.setdefault(key, {})
        if r.passage is not None:
            citation = Citation(
                iri=str(r.passage),
                quote=str(r.quote),
                section=str(r.section) if r.section is not None else None,
                document=str(r.title) if r.title is not None else local_id(r.document),
                document_iri=str(r.document),
                as_of=str(r.docAsOf),
            )
            # the article's passages first, then each document's in its own order
            order = int(r.position) if r.position is not None else 0
            passages[key][citation.iri] = (citation.document_iri != ARTICLE, citation.document_iri, order, citation)
    found = {
        key: _Own(rules.get(key), tuple(c for *_, c in sorted(cites.values(), key=lambda x: x[:3])))
        for key, cites in passages.items()
    }
    snapshot.memo[memo_key] = found
    return found


def statement_evidence(snapshot: Snapshot, subject: str, predicate: str) -> tuple[Citation, ...]:
    """The passages the owl:Axiom annotations of (subject, predicate, any object) rest on, each once: what a
    verdict cites when it uses one statement of a node whose other statements other passages say."""
    found: dict[str, Citation] = {}
    for (s, p, _), own in _axioms(snapshot).items():
        if s == subject and p == predicate:
            for citation in own.evidence:
                found.setdefault(citation.iri, citation)
    return tuple(found.values())


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


def _passage_citation(snapshot: Snapshot, iri: str) -> Citation | None:
    """A passage's own citation (None when the IRI is no passage): the evidence of what it says of itself."""
    memo_key = ("node-passages",)
    if memo_key not in snapshot.memo:
        snapshot.memo[memo_key] = {c.iri: c for cites in snapshot.tables.citations.values() for c in cites}
    cited: dict[str, Citation] = snapshot.memo[memo_key]
    if iri in cited:
        return cited[iri]
    # a passage nothing cites (yet): read it as citations.rq would
    graph, passage = snapshot.graph, URIRef(iri)
    quote, document = graph.value(passage, QUOTE), graph.value(passage, PART_OF)
    if quote is None or document is None:
        return None
    section = graph.value(passage, SECTION)
    titles = [o for o in graph.objects(document, TITLE) if isinstance(o, Literal) and o.language in ("ja", None)]
    as_of = graph.value(document, URIRef(AS_OF))
    return Citation(
        iri=iri,
        quote=str(quote),
        section=None if section is None else str(section),
        document=str(titles[0]) if titles else local_id(document),
        document_iri=str(document),
        as_of=None if as_of is None else str(as_of),
    )


def _view(snapshot: Snapshot, description: Description) -> NodeView:
    evidence = description.evidence
    if not evidence and _type_of(snapshot, description) == "Passage":
        # a passage's quote and section are its document's words: STATED for the article, OUTSIDE otherwise
        itself = _passage_citation(snapshot, description.iri)
        evidence = () if itself is None else (itself,)
    own_date = next((s.value.text for s in description.outgoing if s.predicate == AS_OF), None)
    axioms = _axioms(snapshot)
    statements = []
    for s, (_, _, obj) in zip(description.outgoing, description.triples, strict=True):
        own = axioms.get((description.iri, s.predicate, obj))
        cites = own.evidence if own is not None and own.evidence else evidence
        rule = own.rule if own is not None else None
        statements.append(
            NodeStatement(
                predicate=Named(_short(s.predicate), s.predicate, s.predicate_label, "Property"),
                value=_text(s.value),
                object=s.value.iri if s.value.iri and s.value.iri.startswith(BASE) else None,
                datatype=s.value.datatype,
                evidence=cites,
                basis=_basis(cites, rule),
                rule=rule,
                as_of=own_date if own_date is not None else (cites[0].as_of if cites else None),
            )
        )
    named = Named(local_id(description.iri), description.iri, description.label, _type_of(snapshot, description))
    return NodeView(named, tuple(statements), evidence)
