"""What the graph says about one IRI: labels, types, every statement out and in, and the quotes behind it.

Built once per snapshot for every IRI the graph mints (under the base), so a page or an RDF description is
a dictionary lookup, not a graph walk per request.

The RDF of a resource is its concise bounded description (`bounded`): its statements, recursively those of
every blank node they reach (a selector, an owl:unionOf list), the reifications of those statements (rdflib's
`Graph.cbd`), and the owl:Axiom annotations of its statements (OWL's reification, which points at the
resource instead of from it). The page shows the same blank nodes by their content (`blank`), nested.

The vocabulary (`vocabulary`) is the ontology's header and every term under the vocabulary namespace, each
with its bounded description: what /id/ontology serves and what the ontology reference is generated from.
Renamed IRIs stay in the data, owl:deprecated with dcterms:isReplacedBy (`replaced_by`, `replacing`).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDFS
from rdflib.term import Node

from graph.layout import BASE, VOCAB
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
    # a blank node, shown by its content: an RDF list's items in order, or its own statements
    members: tuple[Value, ...] | None = None
    nested: tuple[Statement, ...] | None = None


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


# --- bounded descriptions, blank nodes, the vocabulary, deprecation -------------------------------------------

# How deep a page nests blank nodes: the data's deepest is three (a domain's union list); a cycle of blank
# nodes, which Turtle can write, stops at the first repeat anyway.
MAX_NESTING = 12


def bounded(graph: Graph, iri: str) -> Graph:
    """The concise bounded description of `iri` (rdflib's Graph.cbd: blank nodes and reifications, recursively)
    and the owl:Axiom annotations whose owl:annotatedSource it is, each with its own bounded description."""
    node = URIRef(iri)
    found = Graph()
    found.namespace_manager = graph.namespace_manager
    graph.cbd(node, target_graph=found)
    for axiom in graph.subjects(OWL.annotatedSource, node):
        if isinstance(axiom, BNode) and (axiom, RDF.type, OWL.Axiom) in graph:
            graph.cbd(axiom, target_graph=found)
    return found


def axioms_about(graph: Graph, iri: str, tables: Tables) -> tuple[Value, ...]:
    """The owl:Axiom blank nodes about the statements of `iri`, each shown by its content, in a stable order."""
    node = URIRef(iri)
    axioms = [
        axiom
        for axiom in graph.subjects(OWL.annotatedSource, node)
        if isinstance(axiom, BNode) and (axiom, RDF.type, OWL.Axiom) in graph
    ]
    return tuple(blank(graph, axiom, tables) for axiom in sorted(axioms, key=lambda a: _content_key(graph, a)))


def shown_value(graph: Graph, node: Node, tables: Tables) -> Value:
    """An object as a page shows it: a blank node by its content, anything else as `_value`."""
    return blank(graph, node, tables) if isinstance(node, BNode) else _value(node, tables)


def blank(graph: Graph, node: BNode, tables: Tables, seen: frozenset[Node] = frozenset()) -> Value:
    """A blank node by its content, recursively: its id is random per parse and means nothing to a reader,
    so it is never shown (which also keeps the static site byte-identical)."""
    if node in seen or len(seen) >= MAX_NESTING:
        return Value("…")
    inner = seen | {node}

    def show(item: Node) -> Value:
        return blank(graph, item, tables, inner) if isinstance(item, BNode) else _value(item, tables)

    if (node, RDF.first, None) in graph:
        return Value("", members=tuple(show(item) for item in Collection(graph, node)))
    pairs = sorted(graph.predicate_objects(node), key=lambda po: (str(po[0]), _content_key(graph, po[1])))
    return Value(
        "",
        nested=tuple(Statement(str(p), tables.labels.get(str(p), {"en": _short(str(p))}), show(o)) for p, o in pairs),
    )


def _content_key(graph: Graph, node: Node, depth: int = 0) -> str:
    """A blank node's sort key made of its content (its id would order it differently in every parse)."""
    if not isinstance(node, BNode):
        return str(node)
    if depth > MAX_NESTING:
        return "~"
    inner = sorted(f"{p} {_content_key(graph, o, depth + 1)}" for p, o in graph.predicate_objects(node))
    return "~[" + "; ".join(inner) + "]"


def vocabulary(graph: Graph) -> Graph:
    """The ontology's header (every owl:Ontology under the base) and every term whose IRI is under the
    vocabulary namespace, each with its bounded description."""
    found = Graph()
    found.namespace_manager = graph.namespace_manager
    subjects = {s for s in graph.subjects(RDF.type, OWL.Ontology) if isinstance(s, URIRef) and str(s).startswith(BASE)}
    subjects |= {s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(VOCAB)}
    for subject in sorted(subjects):
        found += bounded(graph, str(subject))
    return found


@dataclass(frozen=True)
class Term:
    """One term of the vocabulary as the /id/ontology page lists it."""

    iri: str
    label: Text
    definition: Text | None


# The kinds of term the vocabulary page lists, in this order; a term of none of them is an individual.
TERM_KINDS = (
    ("classes", (str(OWL.Class), str(RDFS.Class))),
    ("object_properties", (str(OWL.ObjectProperty),)),
    ("datatype_properties", (str(OWL.DatatypeProperty),)),
    ("annotation_properties", (str(OWL.AnnotationProperty),)),
    ("properties", (str(RDF.Property),)),
)


def vocabulary_terms(graph: Graph, tables: Tables) -> tuple[tuple[str, tuple[Term, ...]], ...]:
    """Every term under the vocabulary namespace, grouped by kind (TERM_KINDS, then "individuals")."""
    groups: dict[str, list[Term]] = {kind: [] for kind, _ in TERM_KINDS}
    groups["individuals"] = []
    terms = sorted({str(s) for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(VOCAB)})
    for iri in terms:
        types = {str(t) for t in graph.objects(URIRef(iri), RDF.type)}
        kind = next((k for k, names in TERM_KINDS if types & set(names)), "individuals")
        groups[kind].append(Term(iri, tables.labels.get(iri, {"en": local_id(iri)}), tables.definitions.get(iri)))
    return tuple((kind, tuple(found)) for kind, found in groups.items() if found)


def ontology_iri(graph: Graph) -> str | None:
    """The IRI of the ontology's header (the owl:Ontology under the base), when the data has one."""
    found = sorted(
        str(s) for s in graph.subjects(RDF.type, OWL.Ontology) if isinstance(s, URIRef) and str(s).startswith(BASE)
    )
    return found[0] if found else None


def replaced_by(graph: Graph, iri: str) -> str | None:
    """The IRI that replaced `iri` (dcterms:isReplacedBy), when it is one of ours: a renamed IRI redirects there."""
    found = sorted(str(o) for o in graph.objects(URIRef(iri), DCTERMS.isReplacedBy) if isinstance(o, URIRef))
    ours = [o for o in found if o.startswith(BASE) and o != iri]
    return ours[0] if ours else None


def replacing(graph: Graph, iri: str) -> tuple[str, ...]:
    """The IRIs `iri` replaced (the inverse of dcterms:isReplacedBy), for its page."""
    return tuple(sorted(str(s) for s in graph.subjects(DCTERMS.isReplacedBy, URIRef(iri)) if isinstance(s, URIRef)))


class Descriptions(Mapping[str, "Description"]):
    """Every minted IRI's description, built when asked for (pages and the docs need them; start-up does not).

    One IRI's description reads only the statements about it and those pointing at it, so a page looks up
    those two patterns instead of building every description of a large graph; iterating builds them all.
    """

    def __init__(self, graph: Graph, tables: Tables) -> None:
        self._graph = graph
        self._tables = tables
        self._built: dict[str, Description] | None = None
        self._one: dict[str, Description | None] = {}
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        if self._built is not None:
            return self._built.get(key, default)
        if key not in self._one:
            node = URIRef(key)
            around = Graph()
            for triple in self._graph.triples((node, None, None)):
                around.add(triple)
            for triple in self._graph.triples((None, None, node)):
                around.add(triple)
            self._one[key] = build_descriptions(around, self._tables).get(key)
        found = self._one[key]
        return default if found is None else found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def _all(self) -> dict[str, Description]:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = build_descriptions(self._graph, self._tables)
        return self._built

    def __getitem__(self, key: str) -> Description:
        found: Description | None = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())
