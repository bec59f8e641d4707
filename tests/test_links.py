"""Links out (issue 19): skos:exactMatch to Wikidata, and the void:Linkset that counts them.

The linkset's void:triples must equal the number of links it describes (skos:exactMatch from a thing of this
graph to an entity of Wikidata's URI space), read from the data; every link's object is a Wikidata entity IRI
of the canonical form, and its subject a typed thing of this graph.
"""

from __future__ import annotations

import re
from functools import cache

from hypothesis import given
from hypothesis import strategies as st
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

from graph.build import build_snapshot
from graph.layout import BASE
from graph.snapshot import Snapshot

VOID = Namespace("http://rdfs.org/ns/void#")
KG = Namespace(BASE)
LINKSET = KG["linkset-wikidata"]
ENTITY = re.compile(r"^http://www\.wikidata\.org/entity/Q[1-9][0-9]*$")


@cache
def shipped() -> Snapshot:
    return build_snapshot()


def links(graph: Graph, linkset: URIRef) -> set[tuple[URIRef, URIRef]]:
    """The links the linkset describes: its predicate, from its subjects' URI space to its objects'."""
    predicate = graph.value(linkset, VOID.linkPredicate)
    objects_target = graph.value(linkset, VOID.objectsTarget)
    subjects_target = graph.value(linkset, VOID.subjectsTarget)
    object_space = str(graph.value(objects_target, VOID.uriSpace))
    subject_space = str(graph.value(subjects_target, VOID.uriSpace))
    return {
        (s, o)
        for s, o in graph.subject_objects(predicate)
        if isinstance(s, URIRef)
        and isinstance(o, URIRef)
        and str(s).startswith(subject_space)
        and str(o).startswith(object_space)
    }


def declared_count(graph: Graph, linkset: URIRef) -> int:
    value = graph.value(linkset, VOID.triples)
    assert isinstance(value, Literal), "the linkset must state void:triples"
    return int(value.toPython())


def test_the_linkset_is_described() -> None:
    graph = shipped().graph
    assert (LINKSET, RDF.type, VOID.Linkset) in graph
    assert graph.value(LINKSET, VOID.linkPredicate) == SKOS.exactMatch
    assert graph.value(LINKSET, VOID.subjectsTarget) == KG.graph
    assert (
        str(graph.value(graph.value(LINKSET, VOID.objectsTarget), VOID.uriSpace)) == "http://www.wikidata.org/entity/"
    )
    for node in (LINKSET, KG.graph, graph.value(LINKSET, VOID.objectsTarget)):
        languages = {lbl.language for lbl in graph.objects(node, SKOS.prefLabel) if isinstance(lbl, Literal)}
        assert {"en", "ja"} <= languages, node


def test_void_triples_is_the_number_of_links() -> None:
    graph = shipped().graph
    assert declared_count(graph, LINKSET) == len(links(graph, LINKSET))


def test_every_wikidata_link_is_a_canonical_entity_iri_from_a_typed_thing() -> None:
    graph = shipped().graph
    for s, o in graph.subject_objects(SKOS.exactMatch):
        if "wikidata.org" in str(o):
            assert ENTITY.match(str(o)), o
            assert str(s).startswith(BASE) and (s, RDF.type, None) in graph, s


@given(st.lists(st.integers(1, 10**8), unique=True, max_size=8), st.integers(0, 3))
def test_the_count_check_has_teeth(qids: list[int], off: int) -> None:
    """The same check on a copy of the linkset with added links: it holds exactly when the count is right."""
    graph = Graph()
    for triple in shipped().graph.triples((None, None, None)):
        if triple[0] in (LINKSET, KG.graph, shipped().graph.value(LINKSET, VOID.objectsTarget)):
            graph.add(triple)
    base = declared_count(graph, LINKSET)
    for n, qid in enumerate(qids):
        graph.add((KG[f"thing-{n}"], SKOS.exactMatch, URIRef(f"http://www.wikidata.org/entity/Q{qid}")))
    graph.set((LINKSET, VOID.triples, Literal(base + len(qids) + off)))
    assert (declared_count(graph, LINKSET) == len(links(graph, LINKSET))) == (off == 0 and base == 0)
