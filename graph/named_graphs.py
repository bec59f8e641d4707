"""One named graph per source: every triple of the served graph, filed under who says it.

The graphs:
- one per document (named by the document's IRI, e.g. BASE + "doc-article", BASE + "doc-external-facts"):
  what that document says, as graph.nodes reads each statement's basis and evidence;
- the editorial graph (BASE + "graph/editorial"): what the project itself decides;
- the ontology's graph (BASE + "ontology", the ontology's own IRI): the vocabulary.

The default graph the service answers from stays the whole merged graph, the union of these.

How a triple is filed (the decision, also in docs/decisions.md, "Named graphs"). Its subject decides first:
1. a term of the vocabulary (the ontology's IRI, an hv: term, or a term of another vocabulary that the
   ontology declares: typed owl:Class, owl:ObjectProperty, owl:NamedIndividual ...): the ontology's graph,
   except the spellings people type for it (skos:hiddenLabel, graph/facts/names.ttl): editorial;
2. an IRI the graph mints (under BASE): graph.nodes.node() gives each of its statements a basis and the
   passages it rests on, and the statement goes
   - to the editorial graph when it is INFERRED (a rule's conclusion), when it rests on no passage at all
     (schemes, documents' catalogue records, rights statements, licences, deprecated IRIs, concepts the
     project names), or when its property is one by which the project names, organises or licenses things
     (`EDITORIAL_PROPERTIES`: spellings people type, definitions and comments the project writes, SKOS
     schemes and broader families, licence and rights);
   - a label (skos:prefLabel, skos:altLabel, rdfs:label, foaf:name) to the graph of each document one of
     whose cited passages contains the label's text verbatim (the source's own name for the thing), else to
     the editorial graph (a translation or a name the project gives);
   - prov:wasDerivedFrom to the graph of the cited passage's document: each graph cites only its own passages;
   - anything else to the graph of every document it rests on: the article's for STATED, the outside
     document's for OUTSIDE; a statement that rests on passages of both (STATED in graph.nodes) is in both,
     each of which says it;
   so a passage's own triples (quote, section, position, document, selectors) are in its document's graph;
3. any other IRI (a licence, a language, a rights statement published elsewhere): the editorial graph;
4. a blank node: the graphs of the triples that point at it (a passage's selectors, an OWL restriction), or
   the editorial graph when nothing does (an owl:Axiom: the project's word on one statement).
Invariant: every triple of the merged graph is in at least one named graph, and no named graph holds a triple
the merged graph does not.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from graph.layout import BASE, VOCAB
from graph.model import Text
from graph.nodes import ARTICLE, Basis, node

if TYPE_CHECKING:
    import pyoxigraph as ox

    from graph.snapshot import Snapshot

Triple = tuple[Node, Node, Node]

ONTOLOGY = BASE + "ontology"
EDITORIAL = BASE + "graph/editorial"

# Properties by which the project names, organises or licenses things: never a source's statement.
EDITORIAL_PROPERTIES = frozenset(
    str(p)
    for p in (
        SKOS.hiddenLabel,  # spellings people type (graph/facts/spellings.ttl, names.ttl)
        SKOS.definition,  # prose the project writes
        SKOS.note,
        SKOS.scopeNote,
        SKOS.editorialNote,
        RDFS.comment,
        SKOS.notation,
        SKOS.inScheme,  # schemes (graph/facts/schemes.ttl)
        SKOS.topConceptOf,
        SKOS.hasTopConcept,
        SKOS.broader,  # operating-system families (graph/facts/names.ttl)
        SKOS.narrower,
        DCTERMS.license,  # rights statements (graph/sources.ttl)
        DCTERMS.rights,
        DCTERMS.rightsHolder,
    )
)
# A label is a source's when one of the passages it rests on has its text.
LABEL_PROPERTIES = frozenset(str(p) for p in (SKOS.prefLabel, SKOS.altLabel, RDFS.label, FOAF.name))
DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"
# A subject outside BASE typed with a class of OWL, RDFS or RDF (owl:Class, owl:ObjectProperty,
# owl:NamedIndividual, rdfs:Datatype ...) is a term the ontology declares: a borrowed class, property or unit.
DECLARATIONS = (str(OWL), str(RDFS), str(RDF))


@dataclass(frozen=True)
class NamedGraph:
    """One named graph: its name, what it is derived from (dcterms:source), its title and its size."""

    iri: str
    source: str  # the document (or the ontology) whose statements the graph holds; the project for editorial
    title: Text | None
    triples: int


def assign(snapshot: Snapshot) -> dict[Triple, frozenset[str]]:
    """Every triple of the snapshot's graph with the names of the graphs it is in (at least one). Memoised."""
    memo_key = ("named-graphs",)
    if memo_key in snapshot.memo:
        cached: dict[Triple, frozenset[str]] = snapshot.memo[memo_key]
        return cached
    graph = snapshot.graph
    found: dict[Triple, set[str]] = {}
    by_subject: dict[Node, list[Triple]] = defaultdict(list)
    for triple in graph:
        by_subject[triple[0]].append(triple)
    for subject, triples in by_subject.items():
        if isinstance(subject, BNode):
            continue
        if _is_term(graph, subject):
            for triple in triples:
                # the words people type for a term (graph/facts/names.ttl) are names, not the vocabulary
                found[triple] = {EDITORIAL} if triple[1] == SKOS.hiddenLabel else {ONTOLOGY}
        elif isinstance(subject, URIRef) and str(subject).startswith(BASE):
            found.update(_minted(snapshot, str(subject), triples))
        else:
            for triple in triples:
                found[triple] = {EDITORIAL}
    _blank_nodes(by_subject, found)
    result = {triple: frozenset(names) for triple, names in found.items()}
    snapshot.memo[memo_key] = result
    return result


def _is_term(graph: Graph, subject: Node) -> bool:
    iri = str(subject)
    if iri == ONTOLOGY or iri.startswith(VOCAB):
        return True
    return not iri.startswith(BASE) and any(str(t).startswith(DECLARATIONS) for t in graph.objects(subject, RDF.type))


def _minted(snapshot: Snapshot, iri: str, triples: list[Triple]) -> dict[Triple, set[str]]:
    view = node(snapshot, iri)
    description = snapshot.descriptions.get(iri)
    if view is None or description is None:  # not minted after all (cannot happen for a subject under BASE)
        return {triple: {EDITORIAL} for triple in triples}
    out: dict[Triple, set[str]] = {}
    # node() builds one statement per triple of the description, in its order (graph/nodes.py, _view)
    for triple, statement in zip(description.triples, view.statements, strict=True):
        _, predicate, obj = triple
        p = str(predicate)
        documents = list(dict.fromkeys(c.document_iri for c in statement.evidence))
        if p in EDITORIAL_PROPERTIES or statement.basis is Basis.INFERRED or not documents:
            out[triple] = {EDITORIAL}
        elif p in LABEL_PROPERTIES:
            said = {c.document_iri for c in statement.evidence if isinstance(obj, Literal) and str(obj) in c.quote}
            out[triple] = said or {EDITORIAL}
        elif p == DERIVED_FROM:
            cited = {c.document_iri for c in statement.evidence if c.iri == str(obj)}
            out[triple] = cited or set(documents)
        else:
            out[triple] = set(documents)
    # a subject's triples outside its description (none today) still land somewhere
    for triple in triples:
        out.setdefault(triple, {EDITORIAL})
    return out


def _blank_nodes(by_subject: dict[Node, list[Triple]], found: dict[Triple, set[str]]) -> None:
    """A blank node's triples go where the triples pointing at it went; one nothing reaches, to editorial."""
    reached: dict[Node, set[str]] = defaultdict(set)
    queue: deque[Node] = deque()

    def reach(blank: Node, names: set[str]) -> None:
        if not names <= reached[blank]:
            reached[blank] |= names
            queue.append(blank)

    def spread() -> None:
        while queue:
            blank = queue.popleft()
            names = reached[blank]
            for triple in by_subject.get(blank, ()):
                found.setdefault(triple, set()).update(names)
                if isinstance(triple[2], BNode):
                    reach(triple[2], names)

    for triple, names in list(found.items()):
        if isinstance(triple[2], BNode):
            reach(triple[2], names)
    spread()
    # what no IRI reaches (an owl:Axiom annotation, and what hangs from it) is the project's word
    for subject in by_subject:
        if isinstance(subject, BNode) and not reached[subject]:
            reach(subject, {EDITORIAL})
    spread()


def order(names: Iterable[str]) -> list[str]:
    """Graph names in a fixed order: the ontology, the article, the other documents, the editorial graph."""
    rank = {ONTOLOGY: 0, ARTICLE: 1, EDITORIAL: 3}
    return sorted(set(names), key=lambda name: (rank.get(name, 2), name))


def quads(snapshot: Snapshot) -> Iterator[tuple[Node, Node, Node, str]]:
    """(subject, predicate, object, graph name) for every triple in every named graph, graph by graph."""
    members: dict[str, list[Triple]] = defaultdict(list)
    for triple, names in assign(snapshot).items():
        for name in names:
            members[name].append(triple)
    for name in order(members):
        for s, p, o in sorted(members[name]):
            yield s, p, o, name


def describe(snapshot: Snapshot) -> list[NamedGraph]:
    """Each named graph with its source, its title (read from the graph) and its triple count."""
    counts = _graph_sizes(snapshot)
    graph = snapshot.graph
    # the editorial graph is the project's word: its source is the project, named as the ontology's creator
    project = graph.value(URIRef(ONTOLOGY), DCTERMS.creator)
    out = []
    for name in order(counts):
        source = str(project or EDITORIAL) if name == EDITORIAL else name
        out.append(NamedGraph(name, source, _title(graph, URIRef(name)), counts[name]))
    return out


def _title(graph: Graph, iri: URIRef) -> Text | None:
    titles: dict[str, str] = {}
    for predicate in (DCTERMS.title, SKOS.prefLabel):
        for value in graph.objects(iri, predicate):
            if isinstance(value, Literal) and value.language in ("en", "ja"):
                titles.setdefault(value.language, str(value))
    return titles or None


# --- pyoxigraph: the store the SPARQL endpoint queries, and the downloads -----------------------------------


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A pyoxigraph term for an rdflib one; a blank node keeps its id, so the store's graphs share it."""
    import pyoxigraph as ox

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def _ox_quads(snapshot: Snapshot) -> Iterator[ox.Quad]:
    """The named graphs' quads as pyoxigraph terms, filed from the snapshot's graph. Not read back from the
    store: pyoxigraph's store keeps a derived integer type as xsd:integer ("1"^^xsd:nonNegativeInteger comes
    back "1"^^xsd:integer), and the downloads give the data as written."""
    import pyoxigraph as ox

    names: dict[str, ox.NamedNode] = {}  # one NamedNode per graph
    for s, p, o, name in quads(snapshot):
        graph_name = names.setdefault(name, ox.NamedNode(name))
        yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), graph_name)  # type: ignore[arg-type]


def _graph_sizes(snapshot: Snapshot) -> dict[str, int]:
    """Triples per named graph: counted in the snapshot's store when it holds them (what SPARQL answers
    from, and no filing to redo for a snapshot read from the cache), else filed afresh."""
    import pyoxigraph as ox

    store = snapshot.store
    if store is not None and next(iter(store.named_graphs()), None) is not None:
        names = [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
        return {name: sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(name))) for name in names}
    counts: dict[str, int] = defaultdict(int)
    for names_of in assign(snapshot).values():
        for name in names_of:
            counts[name] += 1
    return counts


# HVKG_NAMED_GRAPHS: "on" files the named graphs into the store at every build, "off" never, "auto" (the
# default) when the input is small enough to be parsed by rdflib (graph/loading.py, LARGE_INPUT_BYTES; the
# article's graph is). Filing reads every node's statements and doubles the store: on the 1M-triple catalogue
# it took the cached start from 908 to 1,095 MB resident, past the 1 GB goal of bench/README.md.
NAMED_GRAPHS_SETTINGS = ("auto", "on", "off")


def named_graphs_setting(environ: Mapping[str, str] | None = None) -> str:
    """The HVKG_NAMED_GRAPHS setting ("auto" when unset); a value outside NAMED_GRAPHS_SETTINGS is an error."""
    value = (os.environ if environ is None else environ).get("HVKG_NAMED_GRAPHS", "").strip().lower() or "auto"
    if value not in NAMED_GRAPHS_SETTINGS:
        raise ValueError(
            f"HVKG_NAMED_GRAPHS must be one of {', '.join(NAMED_GRAPHS_SETTINGS)} (got {value[:40]!r}) / "
            f"HVKG_NAMED_GRAPHS は {', '.join(NAMED_GRAPHS_SETTINGS)} のいずれかです"
        )
    return value


def wanted(large_input: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a build files the named graphs: as set, or (auto) unless the input is a large catalogue."""
    setting = named_graphs_setting(environ)
    return setting == "on" or (setting == "auto" and not large_input)


def filed(snapshot: Snapshot) -> bool:
    """Whether the snapshot's store holds the named graphs (a FROM or GRAPH naming a source can be answered)."""
    store = snapshot.store
    return store is not None and next(iter(store.named_graphs()), None) is not None


def fill_store(snapshot: Snapshot) -> None:
    """Add the named graphs to the snapshot's pyoxigraph store (its default graph stays the whole graph)."""
    store = snapshot.store
    if store is None or next(iter(store.named_graphs()), None) is not None:
        return
    store.bulk_extend(list(_ox_quads(snapshot)))  # filed first: reading the store while adding to it is not


FORMATS = {"trig": "TRIG", "nquads": "N_QUADS"}


def serialize(snapshot: Snapshot, fmt: str) -> bytes:
    """The named graphs (not the default graph, their union) as TriG ("trig") or N-Quads ("nquads")."""
    import pyoxigraph as ox

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    rdf_format = getattr(ox.RdfFormat, FORMATS[fmt])
    prefixes = {prefix: str(ns) for prefix, ns in snapshot.graph.namespaces() if prefix} if fmt == "trig" else None
    body = ox.serialize(_ox_quads(snapshot), format=rdf_format, prefixes=prefixes)
    return body or b""  # bytes when given no output
