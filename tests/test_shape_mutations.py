"""Shapes that catch mistakes (issue 19): the shipped data passes with no violation, and each way of breaking it
below is refused with its rule named.

The mistakes that once passed `hvkg validate` are made in a copy of the Turtle files (`data_copy`) and
refused end to end. The families (a misspelt predicate on every class, a missing required property, a wrong
datatype, a value of the wrong class) are derived from the shapes themselves and made on an in-memory copy of
the merged graph, several per validation on distinct resources, so that each shape is broken at least once
without a validation run per mutation.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from graph.build import build_snapshot
from graph.findings import SH, short_name
from graph.layout import ROOT, DataLayout
from graph.loading import Loaded, load_files
from graph.problems import InvalidGraph, Problem
from graph.shacl_sparql import focus_nodes
from graph.validation import Report, check, core_shapes, messages_in

HV = Namespace("https://hyperv-kg.example.org/id/ontology/")
KG = Namespace("https://hyperv-kg.example.org/id/")
PROV = Namespace("http://www.w3.org/ns/prov#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
OA = Namespace("http://www.w3.org/ns/oa#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
QUDT = Namespace("http://qudt.org/schema/qudt/")
UNIT = Namespace("http://qudt.org/vocab/unit/")

SHAPES = Graph().parse(ROOT / "ontology" / "shapes.ttl")
SHARED = set(SHAPES.items(HV.AnyResourceMayCarry))
CLOSED = sorted(s for s in SHAPES.subjects(SH.closed, Literal(True)) if isinstance(s, URIRef))
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# What other engineers write on resources of any class (issue 19): every closed shape lets it through.
OTHERS_PREDICATES = [
    DCTERMS.license,
    DCTERMS.rights,
    DCTERMS.rightsHolder,
    DCTERMS.issued,
    OA.hasSelector,
    SKOS.hiddenLabel,
    SKOS.exactMatch,
    SKOS.inScheme,
    OWL.deprecated,
    DCTERMS.isReplacedBy,
]


@pytest.fixture(scope="module")
def shipped() -> Loaded:
    loaded, problems = load_files(DataLayout())
    assert loaded is not None, problems
    return loaded


def validated(shipped: Loaded, graph: Graph, lang: str = "en") -> Report:
    return check(Loaded(graph, shipped.shapes, shipped.queries, shipped.origin), DataLayout(), lang)


def copy_of(graph: Graph) -> Graph:
    copy = Graph()
    copy += graph
    return copy


def refused(report: Report, resource: Node, rule: str, path: Node | None = None) -> list[Problem]:
    """The violations naming `resource` under `rule` (and, when given, the predicate they are about)."""
    name = short_name(resource)
    return [
        p
        for p in report.violations
        if p.resource == name and p.rule == rule and (path is None or short_name(path) in p.message)
    ]


def rule_of(shape: Node) -> str:
    return short_name(shape)


def listed_paths(shape: Node) -> set[Node]:
    return {p for ps in SHAPES.objects(shape, SH.property) for p in SHAPES.objects(ps, SH.path)}


def misspelt(predicate: URIRef) -> URIRef:
    """The predicate with the middle letter of its local name left out: hv:maxVirtualProcessors → ...rocessors."""
    text = str(predicate)
    cut = max(text.rfind("/"), text.rfind("#")) + 1
    local = text[cut:]
    middle = len(local) // 2
    return URIRef(text[:cut] + local[:middle] + local[middle + 1 :])


# --- the shipped data and the shapes themselves ------------------------------------------------------------------


def test_the_shipped_data_has_no_violation(shipped: Loaded) -> None:
    report = check(shipped, DataLayout())
    assert report.violations == []


def test_every_class_with_instances_has_a_closed_shape(shipped: Loaded) -> None:
    """A class of the ontology (declared in hvkg.ttl) whose instances no closed shape reaches would let a
    misspelt predicate through."""
    ontology = Graph().parse(ROOT / "ontology" / "hvkg.ttl")
    graph = shipped.graph
    reached: set[Node] = set()
    for shape in CLOSED:
        for target in SHAPES.objects(shape, SH.targetClass):
            reached.update(graph.transitive_subjects(RDFS.subClassOf, target))
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    with_instances = {c for c in classes if next(graph.subjects(RDF.type, c), None) is not None}
    missing = sorted(str(c) for c in with_instances - reached)
    assert missing == []
    assert len(with_instances) > 40


def test_every_component_relation_property_is_allowed_on_components(shipped: Loaded) -> None:
    relations = set(shipped.graph.transitive_subjects(RDFS.subPropertyOf, HV.componentRelation))
    assert len(relations) > 5
    assert relations <= listed_paths(HV.ComponentShape)


def test_every_closed_shape_shares_one_allowance_with_what_others_write() -> None:
    assert len(CLOSED) > 30
    for shape in CLOSED:
        assert list(SHAPES.objects(shape, SH.ignoredProperties)) == [HV.AnyResourceMayCarry], shape
    assert RDF.type in SHARED
    assert set(OTHERS_PREDICATES) <= SHARED


def shapes_that_report() -> Iterator[Node]:
    """Node shapes and every shape with a path (property shapes, and the alternatives of sh:or)."""
    yield from SHAPES.subjects(RDF.type, SH.NodeShape)
    yield from set(SHAPES.subjects(SH.path, None))


def test_every_shape_has_one_severity() -> None:
    for shape in shapes_that_report():
        severities = list(SHAPES.objects(shape, SH.severity))
        if not severities and (None, SH["or"], None) in SHAPES:
            # an alternative inside sh:or reports nothing itself: its shape does
            inside_or = any(shape in SHAPES.items(lst) for lst in SHAPES.objects(None, SH["or"]))
            if inside_or:
                continue
        assert len(severities) == 1, shape
        assert severities[0] in (SH.Violation, SH.Warning), shape
    assert (None, SH.severity, SH.Warning) in SHAPES


def test_every_message_is_said_once_in_english_and_once_in_japanese() -> None:
    for node in set(SHAPES.subjects(SH.message, None)):
        messages = list(SHAPES.objects(node, SH.message))
        assert sorted(m.language for m in messages if isinstance(m, Literal)) == ["en", "ja"], node
        for literal in messages:
            assert isinstance(literal, Literal)
            if literal.language == "en":
                assert not JAPANESE.search(str(literal)), literal  # never one mixed literal
            else:
                assert JAPANESE.search(str(literal)), literal


def test_every_sparql_constraint_is_on_a_node_shape_and_selects_this() -> None:
    for shape, constraint in SHAPES.subject_objects(SH.sparql):
        assert (shape, RDF.type, SH.NodeShape) in SHAPES
        assert (shape, SH.path, None) not in SHAPES
        select = str(SHAPES.value(constraint, SH.select))
        assert re.search(r"SELECT (DISTINCT )?\$this", select), shape
        # the first triple pattern binds $this (see shapes.ttl): the whole-graph run then equals pyshacl's
        first = re.split(r"\s\.\s|;", select.split("{", 1)[1])[0]
        assert "$this" in first, shape
        assert not re.search(r"\b(MINUS|VALUES)\b|\{\s*SELECT", select), shape


def test_no_moved_violation_query_is_left_in_queries() -> None:
    left = sorted(p.name for p in (ROOT / "queries").glob("*-violation.rq"))
    assert left == []


# --- families of mutations, derived from the shapes -----------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    """One way of breaking one resource, and the refusal expected for it."""

    resource: Node
    rule: str
    path: Node | None
    apply: Callable[[Graph], None]
    what: str


def _instances(graph: Graph, shape: Node) -> list[Node]:
    return sorted(focus_nodes(graph, SHAPES, shape), key=lambda n: (isinstance(n, BNode), str(n)))


def _owner(property_shape: Node) -> Node | None:
    return SHAPES.value(predicate=SH.property, object=property_shape)


def _property_shapes() -> Iterator[tuple[Node, Node, Node]]:
    """(node shape, property shape, path) for each property shape of a node shape with targets."""
    for property_shape in sorted(set(SHAPES.objects(None, SH.property)), key=str):
        owner = _owner(property_shape)
        path = SHAPES.value(property_shape, SH.path)
        if owner is None or not isinstance(path, URIRef) or not isinstance(owner, URIRef):
            continue
        targets = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
        if any((owner, target, None) in SHAPES for target in targets):
            yield owner, property_shape, path


def misspelt_predicate_mutations(graph: Graph) -> list[Mutation]:
    """On an instance of every closed shape: one of its predicates misspelt."""
    found = []
    for shape in CLOSED:
        allowed = listed_paths(shape) | SHARED
        for node in _instances(graph, shape):
            predicates = sorted(p for p in set(graph.predicates(node)) if p != RDF.type and isinstance(p, URIRef))
            own = [p for p in predicates if p in listed_paths(shape)] or predicates
            if not own or misspelt(own[0]) in allowed:
                continue
            right, wrong = own[0], misspelt(own[0])

            def apply(g: Graph, node: Node = node, right: URIRef = right, wrong: URIRef = wrong) -> None:
                for value in list(g.objects(node, right)):
                    g.remove((node, right, value))
                    g.add((node, wrong, value))

            found.append(Mutation(node, rule_of(shape), wrong, apply, f"{short_name(right)} misspelt"))
            break
        else:
            pytest.fail(f"no instance of {shape} to misspell a predicate on")
    return found


def _still_targeted(graph: Graph, shape: Node, node: Node, removed: Node) -> bool:
    """Whether `node` stays a focus node of `shape` once every value of `removed` is taken from it."""
    if node in set(SHAPES.objects(shape, SH.targetNode)):
        return True
    for target in SHAPES.objects(shape, SH.targetClass):
        classes = set(graph.transitive_subjects(RDFS.subClassOf, target))
        if removed != RDF.type and any(c in classes for c in graph.objects(node, RDF.type)):
            return True
    for predicate in SHAPES.objects(shape, SH.targetSubjectsOf):
        if predicate != removed and (node, predicate, None) in graph:
            return True
    return any((None, p, node) in graph for p in SHAPES.objects(shape, SH.targetObjectsOf))


def _spread(nodes: list[Node], turn: int) -> list[Node]:
    """The focus nodes starting at the `turn`-th, so that a shape's mutations fall on different resources."""
    return nodes[turn % len(nodes) :] + nodes[: turn % len(nodes)] if nodes else nodes


def missing_required_mutations(graph: Graph) -> list[Mutation]:
    """For each property a shape requires (sh:minCount >= 1): one focus node without it."""
    found = []
    for turn, (shape, property_shape, path) in enumerate(_property_shapes()):
        if int(SHAPES.value(property_shape, SH.minCount) or 0) < 1:
            continue
        for node in _spread(_instances(graph, shape), turn):
            if (node, path, None) not in graph or not _still_targeted(graph, shape, node, path):
                continue

            def apply(g: Graph, node: Node = node, path: Node = path) -> None:
                g.remove((node, path, None))

            found.append(Mutation(node, rule_of(shape), path, apply, f"without {short_name(path)}"))
            break
        else:
            pytest.fail(f"no focus node of {shape} has {path}")
    return found


def _wrong_value(datatype: Node) -> Literal:
    if datatype == XSD.string:
        return Literal(42)
    return Literal("not a value of its datatype")


def wrong_datatype_mutations(graph: Graph) -> list[Mutation]:
    """For each property with a datatype: one value replaced by a literal of another datatype."""
    found = []
    for turn, (shape, property_shape, path) in enumerate(_property_shapes()):
        datatype = SHAPES.value(property_shape, SH.datatype)
        if datatype is None:
            continue
        for node in _spread(_instances(graph, shape), turn):
            value = graph.value(node, path)
            if value is None:
                continue

            def apply(g: Graph, node: Node = node, path: Node = path, value: Node = value, dt: Node = datatype) -> None:
                g.remove((node, path, value))
                g.add((node, path, _wrong_value(dt)))

            found.append(Mutation(node, rule_of(shape), path, apply, f"{short_name(path)} not {short_name(datatype)}"))
            break  # a property no resource has yet has nothing to break
    return found


def wrong_class_mutations(graph: Graph) -> list[Mutation]:
    """For each property whose values have a class: one value replaced by a resource of another class."""
    found = []
    stranger = KG["no-such-resource"]
    for turn, (shape, property_shape, path) in enumerate(_property_shapes()):
        if SHAPES.value(property_shape, SH["class"]) is None:
            continue
        for node in _spread(_instances(graph, shape), turn):
            value = graph.value(node, path)
            if value is None:
                continue

            def apply(g: Graph, node: Node = node, path: Node = path, value: Node = value) -> None:
                g.remove((node, path, value))
                g.add((node, path, stranger))

            found.append(Mutation(node, rule_of(shape), path, apply, f"{short_name(path)} of the wrong class"))
            break  # a property no resource has yet (hv:providedBy) has nothing to break
    return found


def rounds(mutations: list[Mutation]) -> list[list[Mutation]]:
    """The mutations in as few groups as possible with at most one mutation per resource in each: a mutation
    only ever adds problems for other resources, so those of a group cannot hide each other's refusal."""
    groups: list[tuple[set[Node], list[Mutation]]] = []
    for mutation in mutations:
        for used, group in groups:
            if mutation.resource not in used:
                used.add(mutation.resource)
                group.append(mutation)
                break
        else:
            groups.append(({mutation.resource}, [mutation]))
    return [group for _, group in groups]


FAMILIES = {
    "misspelt predicate": misspelt_predicate_mutations,
    "missing required property": missing_required_mutations,
    "wrong datatype": wrong_datatype_mutations,
    "value of the wrong class": wrong_class_mutations,
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_mutation_of_a_family_is_refused_with_its_rule(shipped: Loaded, family: str) -> None:
    mutations = FAMILIES[family](shipped.graph)
    assert len(mutations) >= 10
    missed = []
    for group in rounds(mutations):
        graph = copy_of(shipped.graph)
        for mutation in group:
            mutation.apply(graph)
        report = validated(shipped, graph)
        missed += [m.what for m in group if not refused(report, m.resource, m.rule, m.path)]
    assert missed == []


def test_each_closed_shape_is_broken_by_a_misspelt_predicate(shipped: Loaded) -> None:
    broken = {m.rule for m in misspelt_predicate_mutations(shipped.graph)}
    assert broken == {rule_of(s) for s in CLOSED}


# --- hypothesis: a random misspelling of a random predicate on random resources --------------------------------


def _misspellings(local: str) -> st.SearchStrategy[str]:
    index = st.integers(min_value=0, max_value=len(local) - 1)
    letter = st.sampled_from("abcdefghijklmnopqrstuvwxyz")
    return st.one_of(
        index.map(lambda i: local[:i] + local[i + 1 :]),  # a letter left out
        index.map(lambda i: local[:i] + local[i] + local[i:]),  # a letter doubled
        st.tuples(index, letter).map(lambda t: local[: t[0]] + t[1] + local[t[0] + 1 :]),  # a letter replaced
        index.filter(lambda i: i + 1 < len(local)).map(
            lambda i: local[:i] + local[i + 1] + local[i] + local[i + 2 :]
        ),  # two letters swapped
    )


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_misspellings_on_random_resources_are_refused(shipped: Loaded, data: st.DataObject) -> None:
    graph = copy_of(shipped.graph)
    shapes = data.draw(st.lists(st.sampled_from(CLOSED), min_size=1, max_size=6, unique=True), label="shapes")
    expected = []
    used: set[Node] = set()
    for shape in shapes:
        candidates = [n for n in _instances(shipped.graph, shape) if n not in used]
        assume(candidates)
        node = data.draw(st.sampled_from(candidates), label="resource")
        used.add(node)
        predicates = sorted(p for p in set(graph.predicates(node)) if p != RDF.type and isinstance(p, URIRef))
        assume(predicates)
        right = data.draw(st.sampled_from(predicates), label="predicate")
        text = str(right)
        cut = max(text.rfind("/"), text.rfind("#")) + 1
        wrong = URIRef(text[:cut] + data.draw(_misspellings(text[cut:]), label="misspelt"))
        assume(wrong not in listed_paths(shape) | SHARED and wrong != right)
        for value in list(graph.objects(node, right)):
            graph.remove((node, right, value))
            graph.add((node, wrong, value))
        expected.append((node, rule_of(shape), wrong))
    report = validated(shipped, graph)
    for node, rule, wrong in expected:
        problems = refused(report, node, rule, wrong)
        assert problems, (node, rule, wrong)
        assert problems[0].message.startswith(short_name(wrong) + ": ")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    month=st.integers(min_value=13, max_value=99),
    day=st.integers(min_value=32, max_value=99),
    junk=st.text(alphabet="0123456789-/. ", min_size=1, max_size=12),
)
def test_malformed_dates_are_refused(shipped: Loaded, month: int, day: int, junk: str) -> None:
    assume(not re.fullmatch(r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?", junk))
    graph = copy_of(shipped.graph)
    rows = sorted(graph.subjects(RDF.type, HV.GuestSupport))
    wrong = [f"2008-{month:02d}", f"2008-08-{day:02d}", junk]
    for row, date in zip(rows, wrong, strict=False):
        graph.remove((row, HV.asOf, None))
        graph.add((row, HV.asOf, Literal(date)))
    report = validated(shipped, graph)
    for row in rows[: len(wrong)]:
        assert refused(report, row, "hv:DateShape", HV.asOf), row


# --- cross-checks and the mistakes that once passed -----------------------------------------------------------------


def _first(graph: Graph, cls: URIRef, where: Callable[[Node], bool] = lambda _: True) -> Node:
    for node in sorted(graph.subjects(RDF.type, cls), key=str):
        if where(node):
            return node
    raise AssertionError(f"no {cls} fit for the mutation")


def _document_date(graph: Graph, passage: Node) -> str:
    return str(graph.value(graph.value(passage, DCTERMS.isPartOf), HV.asOf))


def _later_passage(graph: Graph, date: str) -> Node:
    """A passage of a document written after `date`."""
    return _first(graph, HV.Passage, lambda p: _document_date(graph, p)[:7] > date[:7])


def _cases() -> dict[str, Callable[[Graph], tuple[Node, str, Node | None]]]:
    """Each: break a graph, and name the resource, the rule and (perhaps) the predicate of the refusal."""

    def favours_the_loser(g: Graph) -> tuple[Node, str, Node | None]:
        comparison = _first(g, HV.Comparison)
        g.set((comparison, HV.favors, g.value(comparison, HV.comparedWith)))
        return comparison, "hv:ComparisonSidesShape", None

    def advice_without_about(g: Graph) -> tuple[Node, str, Node | None]:
        advice = _first(g, HV.Advice)
        g.remove((advice, HV.about, None))
        return advice, "hv:AdviceShape", HV.about

    def row_citing_only_later_notes(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.GuestSupport)
        g.remove((row, PROV.wasDerivedFrom, None))
        g.add((row, PROV.wasDerivedFrom, _later_passage(g, str(g.value(row, HV.asOf)))))
        return row, "hv:FactDateShape", None

    def fact_after_its_documents(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.LicenseRights)
        g.set((row, HV.asOf, Literal("2099-01")))
        return row, "hv:FactDateShape", None

    def service_pack_zero_beside_two(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.GuestSupport, lambda r: set(g.objects(r, HV.servicePack)) == {Literal(2)})
        g.add((row, HV.servicePack, Literal(0)))
        return row, "hv:ServicePackZeroShape", None

    def misspelt_max_virtual_processors(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.GuestSupport)
        value = g.value(row, HV.maxVirtualProcessors)
        g.remove((row, HV.maxVirtualProcessors, None))
        g.add((row, HV.maxVirtualProcesors, value))
        return row, "hv:GuestSupportShape", HV.maxVirtualProcesors

    def edition_of_another_system(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.HostSupport)
        other = _first(g, HV.Edition, lambda e: g.value(e, HV.editionOf) != g.value(row, HV.operatingSystem))
        g.add((row, HV.edition, other))
        return row, "hv:EditionOfOwnSystemShape", None

    def duplicate_guest_row(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.GuestSupport, lambda r: (r, HV.edition, None) not in g)
        twin = KG["guest-row-twin"]
        for p, o in g.predicate_objects(row):
            g.add((twin, p, o))
        return (row if str(row) < str(twin) else twin), "hv:GuestRowDuplicateShape", None

    def own_path_of_another_product(g: Graph) -> tuple[Node, str, Node | None]:
        product = _first(g, HV.Product, lambda p: (p, HV.nativePath, None) in g)
        foreign = _first(g, HV.IoPath, lambda path: g.value(path, HV.product) != product)
        g.set((product, HV.nativePath, foreign))
        return product, "hv:NativePathShape", None

    def paths_but_none_its_own(g: Graph) -> tuple[Node, str, Node | None]:
        product = _first(g, HV.Product, lambda p: (p, HV.nativePath, None) in g)
        g.remove((product, HV.nativePath, None))
        return product, "hv:NativePathShape", None

    def outside_fact_citing_the_article_only(g: Graph) -> tuple[Node, str, Node | None]:
        fact = _first(g, HV.Release, lambda f: (f, HV.relationToArticle, None) in g)
        g.remove((fact, PROV.wasDerivedFrom, None))
        g.add(
            (fact, PROV.wasDerivedFrom, _first(g, HV.Passage, lambda p: (p, DCTERMS.isPartOf, KG["doc-article"]) in g))
        )
        return fact, "hv:OutsideFactRecordShape", None

    def _axiom(g: Graph) -> Node:
        return sorted(g.subjects(RDF.type, OWL.Axiom), key=lambda a: str(g.value(a, OWL.annotatedSource)))[0]

    def inferred_by_an_unknown_rule(g: Graph) -> tuple[Node, str, Node | None]:
        axiom = _axiom(g)
        g.set((axiom, HV.inferredBy, KG["rule-nobody-wrote"]))
        return g.value(axiom, OWL.annotatedSource), "hv:InferredByRuleShape", None

    def rule_citing_no_article_passage(g: Graph) -> tuple[Node, str, Node | None]:
        axiom = _axiom(g)
        rule = g.value(axiom, HV.inferredBy)
        g.remove((rule, PROV.wasDerivedFrom, None))
        g.add((rule, PROV.wasDerivedFrom, _later_passage(g, "2008-08")))
        return g.value(axiom, OWL.annotatedSource), "hv:InferredByRuleShape", None

    def axiom_about_a_missing_triple(g: Graph) -> tuple[Node, str, Node | None]:
        axiom = _axiom(g)
        g.set((axiom, OWL.annotatedTarget, KG["nothing-like-it"]))
        return g.value(axiom, OWL.annotatedSource), "hv:AxiomTripleShape", None

    def axiom_with_a_misspelt_rule(g: Graph) -> tuple[Node, str, Node | None]:
        axiom = _axiom(g)
        rule = g.value(axiom, HV.inferredBy)
        g.remove((axiom, HV.inferredBy, None))
        g.add((axiom, HV.inferedBy, rule))
        return axiom, "hv:StatementAxiomPredicatesShape", HV.inferedBy

    def quote_without_source_file(g: Graph) -> tuple[Node, str, Node | None]:
        passage = _first(g, HV.Passage)
        g.remove((g.value(passage, DCTERMS.isPartOf), HV.sourceFile, None))
        return passage, "hv:QuoteSourceShape", None

    def quote_that_is_a_number(g: Graph) -> tuple[Node, str, Node | None]:
        passage = _first(g, HV.Passage)
        g.set((passage, HV.quote, Literal(42)))
        return passage, "hv:PlainTextShape", HV.quote

    def misspelt_class(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.GuestSupport)
        g.remove((row, RDF.type, HV.GuestSupport))
        g.add((row, RDF.type, HV.GuestSuport))
        return row, "hv:DeclaredClassShape", None

    def untyped_resource(g: Graph) -> tuple[Node, str, Node | None]:
        advice = _first(g, HV.Advice)
        g.remove((advice, RDF.type, None))
        return advice, "hv:TypedShape", RDF.type

    def label_without_language(g: Graph) -> tuple[Node, str, Node | None]:
        product = _first(g, HV.Product)
        g.add((product, SKOS.altLabel, Literal("an untagged name")))
        return product, "hv:LabelLiteralShape", SKOS.altLabel

    def two_english_definitions(g: Graph) -> tuple[Node, str, Node | None]:
        product = _first(g, HV.Product, lambda p: (p, SKOS.definition, None) in g)
        g.add((product, SKOS.definition, Literal("A second English definition.", lang="en")))
        return product, "hv:LabelLiteralShape", SKOS.definition

    def missing_japanese_label(g: Graph) -> tuple[Node, str, Node | None]:
        edition = _first(g, HV.Edition)
        for label in list(g.objects(edition, SKOS.prefLabel)):
            if isinstance(label, Literal) and label.language == "ja":
                g.remove((edition, SKOS.prefLabel, label))
        return edition, "hv:LabelShape", SKOS.prefLabel

    def counted_and_unlimited(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.LicenseRights, lambda r: (r, HV.virtualInstances, None) in g)
        g.add((row, HV.unlimitedInstances, Literal(True)))
        return row, "hv:LicenseRightsInstancesShape", None

    def capped_and_unlimited_storage(g: Graph) -> tuple[Node, str, Node | None]:
        storage = _first(g, HV.StorageFormat, lambda s: (s, HV.maxSize, None) in g)
        g.add((storage, HV.noCapacityLimit, Literal(True)))
        return storage, "hv:StorageFormatCapacityShape", None

    def capacity_limit_without_size(g: Graph) -> tuple[Node, str, Node | None]:
        limit = _first(g, HV.CapacityLimit)
        g.remove((limit, HV.maxSizeGB, None))
        g.remove((limit, HV.maxSizeMB, None))
        return limit, "hv:CapacityLimitSizeShape", None

    def list_entry_naming_nothing(g: Graph) -> tuple[Node, str, Node | None]:
        entry = _first(g, HV.GuestListEntry, lambda e: (e, HV.operatingSystem, None) in g)
        g.remove((entry, HV.operatingSystem, None))
        g.remove((entry, HV.listedAs, None))
        return entry, "hv:GuestListEntryNameShape", None

    def axiom_with_neither_rule_nor_passages(g: Graph) -> tuple[Node, str, Node | None]:
        axiom = _axiom(g)
        g.remove((axiom, HV.inferredBy, None))
        g.remove((axiom, PROV.wasDerivedFrom, None))
        return axiom, "hv:StatementAxiomShape", None

    def thirteenth_month(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.HostSupport)
        g.set((row, HV.asOf, Literal("2008-13", datatype=XSD.gYearMonth)))
        return row, "hv:DateShape", HV.asOf

    def citation_that_is_no_passage(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.HostSupport)
        g.add((row, PROV.wasDerivedFrom, g.value(row, HV.product)))
        return row, "hv:CitationShape", PROV.wasDerivedFrom

    def outside_fact_of_an_unknown_relation(g: Graph) -> tuple[Node, str, Node | None]:
        fact = _first(g, HV.Release, lambda f: (f, HV.relationToArticle, None) in g)
        g.set((fact, HV.relationToArticle, KG["relation-nobody-defined"]))
        return fact, "hv:OutsideFactShape", HV.relationToArticle

    # the component relations: each plain triple has its statement, each statement its triple, hops in order

    def relation_triple_without_its_statement(g: Graph) -> tuple[Node, str, Node | None]:
        vsc = KG["vsc"]
        g.add((vsc, HV.runsIn, KG["child-partition"]))
        return vsc, "hv:RelationStatementShape", HV.runsIn

    def relation_statement_without_its_triple(g: Graph) -> tuple[Node, str, Node | None]:
        relation = _first(g, HV.ComponentRelation)
        triple = (g.value(relation, HV.relationSubject), g.value(relation, HV.relationPredicate), None)
        g.remove(triple)  # type: ignore[arg-type]
        return relation, "hv:ComponentRelationShape", None

    def two_hops_with_one_order(g: Graph) -> tuple[Node, str, Node | None]:
        hops = sorted(g.subjects(HV.hopOrder, None), key=lambda h: (str(g.value(h, HV.inPath)), str(h)))
        first, second = hops[0], next(h for h in hops[1:] if g.value(h, HV.inPath) == g.value(hops[0], HV.inPath))
        g.set((second, HV.hopOrder, g.value(first, HV.hopOrder)))
        return first, "hv:HopOrderShape", None

    # releases and Service Pack levels (issue 19: "Service packs as bare integers")

    def row_covering_a_release_of_another_system(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.GuestSupport)
        other = _first(g, HV.Release, lambda r: g.value(r, HV.releaseOf) != g.value(row, HV.operatingSystem))
        g.add((row, HV.coversRelease, other))
        return row, "hv:GuestRowReleaseShape", None

    def row_naming_a_service_pack_none_of_its_releases_is_at(g: Graph) -> tuple[Node, str, Node | None]:
        # added beside its 2, so that only this check can refuse it (every release's level is still listed)
        row = _first(g, HV.GuestSupport, lambda r: set(g.objects(r, HV.servicePack)) == {Literal(2)})
        g.add((row, HV.servicePack, Literal(3)))
        return row, "hv:GuestRowReleaseShape", None

    def row_not_listing_the_level_of_a_release_it_covers(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.GuestSupport, lambda r: set(g.objects(r, HV.servicePack)) == {Literal(2)})
        os = g.value(row, HV.operatingSystem)
        g.add((row, HV.coversRelease, KG["release-extra"]))
        g.add((KG["release-extra"], RDF.type, HV.Release))
        g.add((KG["release-extra"], HV.releaseOf, os))
        g.add((KG["release-extra"], HV.servicePackLevel, KG["service-pack-4"]))
        return row, "hv:GuestRowReleaseShape", None

    def release_whose_number_and_level_disagree(g: Graph) -> tuple[Node, str, Node | None]:
        release = _first(g, HV.Release, lambda r: (r, HV.servicePack, None) in g)
        g.set((release, HV.servicePack, Literal(7)))
        return release, "hv:ReleaseLevelShape", None

    def two_initial_releases_of_one_system(g: Graph) -> tuple[Node, str, Node | None]:
        first = _first(g, HV.Release, lambda r: (r, HV.initialRelease, Literal(True)) in g)
        other = _first(g, HV.Release, lambda r: r != first and g.value(r, HV.releaseOf) == g.value(first, HV.releaseOf))
        g.add((other, HV.initialRelease, Literal(True)))
        return first, "hv:ReleaseLevelShape", None

    def two_levels_with_one_number(g: Graph) -> tuple[Node, str, Node | None]:
        level = _first(g, HV.ServicePackLevel, lambda x: g.value(x, HV.servicePackNumber) == Literal(2))
        g.set((level, HV.servicePackNumber, Literal(3)))
        return level, "hv:ServicePackLevelShape", None

    def size_in_decimal_gigabytes(g: Graph) -> tuple[Node, str, Node | None]:
        size = _first(g, QUDT.QuantityValue)
        g.set((size, QUDT.unit, UNIT.GigaBYTE))
        return size, "hv:QuantityValueShape", QUDT.unit

    def allocation_unit_as_a_string(g: Graph) -> tuple[Node, str, Node | None]:
        storage = _first(g, HV.StorageFormat, lambda x: (x, HV.allocationUnit, None) in g)
        g.set((storage, HV.allocationUnit, Literal("one file")))
        return storage, "hv:StorageFormatShape", HV.allocationUnit

    def product_version_as_a_string(g: Graph) -> tuple[Node, str, Node | None]:
        support = _first(g, HV.FeatureSupport, lambda x: (x, HV.productVersion, None) in g)
        g.set((support, HV.productVersion, Literal("Windows Server 2008 R2")))
        return support, "hv:FeatureSupportShape", HV.productVersion

    def malformed_cpe_name(g: Graph) -> tuple[Node, str, Node | None]:
        release = _first(g, HV.Release, lambda r: (r, HV.cpeName, None) in g)
        g.set((release, HV.cpeName, Literal("cpe:/o:microsoft:windows_xp:-:sp2")))  # CPE 2.2, not 2.3
        return release, "hv:ReleaseShape", HV.cpeName

    def date_as_a_plain_string(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.GuestSupport)
        g.set((row, HV.asOf, Literal("2008-08")))
        return row, "hv:DateShape", HV.asOf

    def date_with_a_day(g: Graph) -> tuple[Node, str, Node | None]:
        row = _first(g, HV.HostSupport)
        g.set((row, HV.asOf, Literal("2008-08-20", datatype=XSD.date)))
        return row, "hv:DateShape", HV.asOf

    def fact_without_a_date(g: Graph) -> tuple[Node, str, Node | None]:
        rule = _first(g, HV.Rule)
        g.remove((rule, HV.asOf, None))
        return rule, "hv:FactAsOfShape", HV.asOf

    return {f.__name__.replace("_", " "): f for f in locals().values() if callable(f) and f.__name__[0] != "_"}


CASES = _cases()


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_graph_is_refused_with_its_rule(shipped: Loaded, case: str) -> None:
    graph = copy_of(shipped.graph)
    resource, rule, path = CASES[case](graph)
    report = validated(shipped, graph)
    assert refused(report, resource, rule, path), report.violations


def test_the_cross_checks_cover_every_sparql_shape(shipped: Loaded) -> None:
    rules = set()
    for case in CASES.values():
        _, rule, _ = case(copy_of(shipped.graph))
        rules.add(rule)
    violation_sparql = {
        rule_of(s) for s in SHAPES.subjects(SH.sparql, None) if SHAPES.value(s, SH.severity) == SH.Violation
    }
    assert violation_sparql <= rules


def test_an_outside_fact_may_hold_before_the_notes_that_record_it(shipped: Loaded) -> None:
    """The notes of 2026-11 record facts of 2008: an outside fact dated long before its document is no
    mistake, and an article fact dated as the article and citing it is none either."""
    graph = shipped.graph
    outside = [f for f in graph.subjects(HV.relationToArticle, None) if str(graph.value(f, HV.asOf)) < "2026"]
    assert outside
    report = check(shipped, DataLayout())
    assert not [p for p in report.violations + report.warnings if p.rule == "hv:FactDateShape"]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_article_fact_citing_only_later_documents_is_refused(shipped: Loaded, data: st.DataObject) -> None:
    graph = copy_of(shipped.graph)
    facts = sorted(
        f
        for f in set(graph.subjects(HV.asOf, None))
        if (f, HV.relationToArticle, None) not in graph and (f, PROV.wasDerivedFrom, None) in graph
    )
    fact = data.draw(st.sampled_from(facts), label="fact")
    later = [
        p
        for p in graph.subjects(RDF.type, HV.Passage)
        if _document_date(graph, p)[:7] > str(graph.value(fact, HV.asOf))
    ]
    assume(later)
    graph.remove((fact, PROV.wasDerivedFrom, None))
    graph.add((fact, PROV.wasDerivedFrom, data.draw(st.sampled_from(sorted(later)), label="passage")))
    assert refused(validated(shipped, graph), fact, "hv:FactDateShape")


# --- the same results as a SHACL engine binding $this one focus node at a time --------------------------------------


def _pyshacl_results(graph: Graph, shapes: list[Node], focus: list[Node] | None = None) -> set[tuple[str, str]]:
    from pyshacl import validate as shacl_validate

    _conforms, results, _text = shacl_validate(
        graph,
        shacl_graph=SHAPES,
        inference="none",
        advanced=True,
        allow_warnings=True,
        use_shapes=shapes,
        focus_nodes=focus,
    )
    assert isinstance(results, Graph)
    found = set()
    for result in results.subjects(RDF.type, SH.ValidationResult):
        node, shape = results.value(result, SH.focusNode), results.value(result, SH.sourceShape)
        # given focus nodes, pyshacl checks them against every shape asked for, targeted or not
        if focus is None or (node is not None and node in focus_nodes(graph, SHAPES, shape)):
            found.add((short_name(node), rule_of(shape)))
    return found


def test_whole_graph_sparql_runs_find_what_pyshacl_finds(shipped: Loaded) -> None:
    """All the cross-checks broken at once, then validated by pyshacl with the shapes as they are (each SPARQL
    constraint once per focus node) and by graph.validation (each once over the whole graph).

    pyshacl takes seconds per shape whose targets are every typed resource or every fact (rdflib parses the
    query again for each of a thousand focus nodes), so those shapes are compared on the broken resources
    and every twenty-fifth other one."""
    graph = copy_of(shipped.graph)
    broken = [case(graph)[0] for _, case in sorted(CASES.items())]
    sparql = sorted(set(SHAPES.subjects(SH.sparql, None)), key=str)
    wide = [s for s in sparql if len(focus_nodes(graph, SHAPES, s)) > 100]
    narrow = [s for s in sparql if s not in wide]
    assert narrow and wide
    typed = sorted({s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef)}, key=str)
    sample = sorted({n for n in broken if isinstance(n, URIRef)} | set(typed[::25]), key=str)
    theirs = _pyshacl_results(graph, narrow)
    for shape in wide:
        targeted = focus_nodes(graph, SHAPES, shape)
        theirs |= _pyshacl_results(graph, [shape], [n for n in sample if n in targeted])

    report = validated(shipped, graph)
    found = {(p.resource, p.rule) for p in report.violations + report.warnings}
    narrow_rules = {rule_of(s) for s in narrow}
    wide_rules = {rule_of(s) for s in wide}
    sampled = {short_name(n) for n in sample}
    ours = {(r, rule) for r, rule in found if rule in narrow_rules or (rule in wide_rules and r in sampled)}
    assert len(ours) >= 10
    assert ours == theirs


def test_core_shapes_leave_the_sparql_constraints_out() -> None:
    core = core_shapes(SHAPES)
    assert (None, SH.sparql, None) not in core
    assert len(core) == len(SHAPES) - len(list(SHAPES.triples((None, SH.sparql, None))))


# --- severities, languages and the command line ---------------------------------------------------------------


def test_a_warning_does_not_refuse_the_graph(shipped: Loaded) -> None:
    graph = copy_of(shipped.graph)
    feature = _first(graph, HV.Feature)
    graph.remove((feature, SKOS.definition, None))
    graph.add((feature, SKOS.definition, Literal("A definition in English only.", lang="en")))
    report = validated(shipped, graph)
    assert report.violations == []
    assert [(p.resource, p.rule) for p in report.warnings] == [(short_name(feature), "hv:DefinitionLanguagesShape")]


def test_messages_come_in_the_language_asked(shipped: Loaded) -> None:
    graph = copy_of(shipped.graph)
    resource, rule, _ = CASES["favours the loser"](graph)
    english = refused(validated(shipped, graph, "en"), resource, rule)
    japanese = refused(validated(shipped, graph, "ja"), resource, rule)
    assert english and japanese
    assert not JAPANESE.search(english[0].message)
    assert JAPANESE.search(japanese[0].message)
    # the value the query found is named in both
    value = short_name(graph.value(resource, HV.favors))
    assert value in english[0].message and value in japanese[0].message


def mutate_file(layout: DataLayout, name: str, change: Callable[[Graph], None]) -> None:
    """Parse one Turtle file of the copy, change its triples, write it back (whatever its layout was)."""
    path = layout.root / name
    graph = Graph().parse(path, format="turtle")
    change(graph)
    path.write_text(graph.serialize(format="turtle"), encoding="utf-8")


def file_problems(layout: DataLayout) -> list[Problem]:
    with pytest.raises(InvalidGraph) as caught:
        build_snapshot(layout, cache_dir=None)
    return caught.value.problems


@pytest.mark.parametrize(
    ("name", "case", "rule"),
    [
        ("graph/facts/guests.ttl", "misspelt max virtual processors", "hv:GuestSupportShape"),
        ("graph/facts/features.ttl", "favours the loser", "hv:ComparisonSidesShape"),
        ("graph/facts/features.ttl", "advice without about", "hv:AdviceShape"),
        ("graph/facts/guests.ttl", "service pack zero beside two", "hv:ServicePackZeroShape"),
    ],
)
def test_the_mistakes_that_once_passed_are_refused_in_their_file(
    data_copy: DataLayout, name: str, case: str, rule: str
) -> None:
    named: list[tuple[Node, str, Node | None]] = []
    mutate_file(data_copy, name, lambda g: named.append(CASES[case](g)))
    resource = short_name(named[0][0])
    problems = file_problems(data_copy)
    assert [p for p in problems if (p.file, p.resource, p.rule) == (name, resource, rule)], problems


def test_a_row_of_the_article_citing_only_the_notes_is_refused_in_its_file(data_copy: DataLayout) -> None:
    sources = Graph().parse(data_copy.root / "graph" / "sources.ttl")
    later = _later_passage(sources, "2008-08")
    named: list[Node] = []

    def cite_the_notes(g: Graph) -> None:
        row = _first(g, HV.GuestSupport)
        g.remove((row, PROV.wasDerivedFrom, None))
        g.add((row, PROV.wasDerivedFrom, later))
        named.append(row)

    mutate_file(data_copy, "graph/facts/guests.ttl", cite_the_notes)
    problems = file_problems(data_copy)
    found = [p for p in problems if p.resource == short_name(named[0]) and p.rule == "hv:FactDateShape"]
    assert found and found[0].file == "graph/facts/guests.ttl", problems
    assert "2008-08" in found[0].message


def test_hvkg_validate_prints_a_warning_and_passes(data_copy: DataLayout, tmp_path: Path) -> None:
    def english_only(g: Graph) -> None:
        feature = _first(g, HV.Feature)
        g.remove((feature, SKOS.definition, None))
        g.add((feature, SKOS.definition, Literal("A definition in English only.", lang="en")))

    mutate_file(data_copy, "graph/facts/features.ttl", english_only)
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(data_copy.root), "validate"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "HVKG_CACHE_DIR": "off", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("valid: ")
    # the files that speak of the feature are named, the one broken among them
    assert re.search(r"warning: [^\n]*graph/facts/features\.ttl[^\n]*: kg:", result.stderr), result.stderr
    assert "[hv:DefinitionLanguagesShape]" in result.stderr
    assert "Traceback" not in result.stderr


def test_japanese_problems_of_a_file(data_copy: DataLayout) -> None:
    named: list[tuple[Node, str, Node | None]] = []
    mutate_file(data_copy, "graph/facts/features.ttl", lambda g: named.append(CASES["advice without about"](g)))
    with messages_in("ja"):
        problems = file_problems(data_copy)
    about = [p for p in problems if p.rule == "hv:AdviceShape"]
    assert about and about[0].message.startswith("hv:about: ")
    assert JAPANESE.search(about[0].message)
