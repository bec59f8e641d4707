"""The ontology as OWL tools take it: the merged graph (ontology/hvkg.ttl, graph/sources.ttl and every
graph/facts/*.ttl, as the snapshot loads them) is consistent for HermiT, is in OWL 2 DL for the OWL API's
profile checker with no triple dropped, uses only declared terms within their domains and ranges, and the
ontology's header and concept schemes say what a reuser needs.

The tools are Debian's: a JDK (default-jdk-headless: `java`, `javac`), libowlapi-java 5.1 and its dependency
jars in /usr/share/java, and HermiT as bundled by PyPI's owlready2. `make owl` installs the Debian packages
(`make test` depends on it); a missing tool fails these tests with the command to run, never skips them.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from graph.layout import BASE, VOCAB, DataLayout
from graph.loading import load_files

HV = Namespace(VOCAB)
KG = Namespace(BASE)
VANN = Namespace("http://purl.org/vocab/vann/")
# a plain Namespace: rdflib's XSD warns whenever pytest looks for attributes it does not define
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
ONTOLOGY = URIRef(VOCAB.rstrip("/"))
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")

# The namespaces OWL 2 itself gives meaning to: their terms need no declaration (and must get none).
BUILT_IN = (str(RDF), str(RDFS), str(OWL), str(XSD))

DL_PROFILE = Path(__file__).parent / "owl" / "DLProfile.java"
JAVA_DIR = Path("/usr/share/java")
# libowlapi-java's own jar and those of its Debian dependencies that loading and the profile check need.
JARS = (
    "owlapi-distribution",
    "guava",
    "caffeine",
    "commons-io",
    "hppcrt",
    "slf4j-api",
    "slf4j-nop",
    "atinject-jsr330-api",
    "xz",
    "commons-rdf-api",
    "rdf4j-model-api",
    "rdf4j-rio-api",
    "rdf4j-model",
    "rdf4j-util",
)
INSTALL_HINT = (
    "run `make owl` as root (apt-get install default-jre-headless default-jdk-headless libowlapi-java) / "
    "root で `make owl` を実行してください"
)


@pytest.fixture(scope="module")
def merged() -> Graph:
    loaded, problems = load_files(DataLayout())
    assert loaded is not None, problems
    return loaded.graph


def copy_of(graph: Graph) -> Graph:
    copy = Graph()
    for triple in graph:
        copy.add(triple)
    return copy


# ---- HermiT (through owlready2) -----------------------------------------------------------------------------


def hermit(graph: Graph) -> str:
    """HermiT's verdict on the graph: "consistent", "inconsistent", or "refused: <HermiT's first error line>"
    when it cannot read the graph at all (an unsupported datatype, a malformed axiom)."""
    import owlready2

    if shutil.which(owlready2.JAVA_EXE) is None:
        pytest.fail(f"HermiT needs java on PATH: {INSTALL_HINT}")
    world = owlready2.World()
    data = graph.serialize(format="nt", encoding="utf-8")
    world.get_ontology("https://hyperv-kg.example.org/test/merged").load(fileobj=io.BytesIO(data), format="ntriples")
    # owlready2 hands HermiT a temporary file that it keeps when HermiT fails: a folder of ours holds it
    saved = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="hvkg-hermit-") as folder:
        tempfile.tempdir = folder
        try:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return "inconsistent"
        except owlready2.OwlReadyJavaError as error:
            reason = next((line for line in str(error).splitlines() if "Exception" in line), str(error))
            return "refused: " + reason.strip()
        finally:
            tempfile.tempdir = saved
            world.close()
    return "consistent"


def test_hermit_finds_the_merged_graph_consistent(merged: Graph) -> None:
    assert hermit(merged) == "consistent"


def _two_maxima(graph: Graph) -> None:
    # hv:maxVirtualProcessors is functional: one guest row cannot allow both 4 and 2 processors
    graph.add((KG["guest-row-01"], HV.maxVirtualProcessors, Literal(2)))
    graph.add((KG["guest-row-01"], HV.maxVirtualProcessors, Literal(4)))


def _tagged_number(graph: Graph) -> None:
    # a language-tagged literal is no xsd:integer
    graph.add((KG["guest-row-01"], HV.rowNumber, Literal("一", lang="ja")))


def _lang_string_range(graph: Graph) -> None:
    # the range hv:quote once had: HermiT stops on rdf:langString, which is not in OWL 2's datatype map
    union = BNode()
    members = BNode()
    Collection(graph, members, [XSD.string, RDF.langString])
    graph.set((HV.quote, RDFS.range, union))
    graph.add((union, RDF.type, RDFS.Datatype))
    graph.add((union, OWL.unionOf, members))


@pytest.mark.parametrize(
    ("breakage", "verdict"),
    [(_two_maxima, "inconsistent"), (_tagged_number, "inconsistent"), (_lang_string_range, "refused")],
)
def test_hermit_rejects_a_broken_graph(merged: Graph, breakage: Callable[[Graph], None], verdict: str) -> None:
    """The verdict above could be "inconsistent" or a refusal: the same call says so on a broken copy."""
    broken = copy_of(merged)
    breakage(broken)
    assert hermit(broken).startswith(verdict)


# ---- the OWL API's OWL 2 DL profile check ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileReport:
    violations: tuple[str, ...]
    unparsed: tuple[str, ...]
    summary: str


@pytest.fixture(scope="module")
def dl_profile(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Graph], ProfileReport]:
    """tests/owl/DLProfile.java compiled once; the returned function checks a graph (as RDF/XML) with it."""
    java, javac = shutil.which("java"), shutil.which("javac")
    jars = [JAVA_DIR / f"{name}.jar" for name in JARS]
    missing = [str(j) for j in jars if not j.is_file()] + [n for n, p in (("java", java), ("javac", javac)) if not p]
    if missing:
        pytest.fail(f"the DL profile check needs {', '.join(missing)}: {INSTALL_HINT}")
    assert java is not None and javac is not None
    classes = tmp_path_factory.mktemp("dl-profile")
    classpath = ":".join(str(j) for j in jars)
    compiled = subprocess.run(
        [javac, "-d", str(classes), "-cp", classpath, str(DL_PROFILE)], capture_output=True, text=True, check=False
    )
    assert compiled.returncode == 0, compiled.stderr

    def check(graph: Graph) -> ProfileReport:
        document = classes / "merged.rdf"
        graph.serialize(document, format="xml")
        run = subprocess.run(
            [java, "-cp", f"{classpath}:{classes}", "DLProfile", str(document)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert run.returncode in (0, 1), run.stderr  # 2: the document could not be loaded at all
        lines = [line.split("\t", 1) for line in run.stdout.splitlines()]
        found = {kind: tuple(rest for k, rest in lines if k == kind) for kind in ("violation", "unparsed", "summary")}
        assert len(found["summary"]) == 1, run.stdout
        return ProfileReport(found["violation"], found["unparsed"], found["summary"][0])

    return check


def test_the_merged_graph_is_owl2_dl_with_nothing_dropped(
    merged: Graph, dl_profile: Callable[[Graph], ProfileReport]
) -> None:
    report = dl_profile(merged)
    assert not report.violations, f"{len(report.violations)} OWL 2 DL violations:\n" + "\n".join(report.violations)
    # the component relations once vanished here: their rdf:subject/predicate/object triples were dropped
    assert not report.unparsed, f"{len(report.unparsed)} triples the OWL API dropped:\n" + "\n".join(report.unparsed)


def test_the_dl_check_sees_reification_undeclared_terms_and_reserved_classes(
    merged: Graph, dl_profile: Callable[[Graph], ProfileReport]
) -> None:
    """The three ways the graph once left OWL 2 DL, put back into a copy: each is reported."""
    broken = copy_of(merged)
    relation = min(merged.subjects(RDF.type, HV.ComponentRelation), key=str)
    broken.add((relation, RDF.subject, KG.vsc))  # the old reification: dropped by the parser
    broken.add((HV.ComponentRelation, RDFS.subClassOf, RDF.Statement))  # reserved vocabulary as a class
    broken.add((KG.vsc, URIRef("http://example.org/undeclared#note"), Literal("x")))
    report = dl_profile(broken)
    assert any(str(RDF.subject) in t for t in report.unparsed), report.unparsed
    text = "\n".join(report.violations)
    assert "rdf:Statement" in text
    assert "http://example.org/undeclared#note" in text


# ---- declarations, domains and ranges (read from the graph, no Java) -------------------------------------------


def undeclared_terms(graph: Graph) -> set[URIRef]:
    """The properties and classes the graph uses that nothing declares (OWL 2 DL needs a declaration)."""
    declared_properties = {
        s
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
        for s in graph.subjects(RDF.type, kind)
    }
    declared_classes = set(graph.subjects(RDF.type, OWL.Class)) | set(graph.subjects(RDF.type, RDFS.Datatype))
    used_properties = {p for p in graph.predicates() if isinstance(p, URIRef)}
    used_classes = {o for o in graph.objects(None, RDF.type) if isinstance(o, URIRef)}
    return {t for t in used_properties - declared_properties if not str(t).startswith(BUILT_IN)} | {
        t for t in used_classes - declared_classes if not str(t).startswith(BUILT_IN)
    }


def test_every_term_used_is_declared(merged: Graph) -> None:
    missing = sorted(undeclared_terms(merged))
    assert not missing, (
        "declare these in ontology/hvkg.ttl (section 'Terms reused from other vocabularies') / "
        f"ontology/hvkg.ttl で宣言してください: {missing}"
    )


# The declarations of other vocabularies' terms in ontology/hvkg.ttl, read once for the property below.
_ONTOLOGY = Graph().parse(DataLayout().ontology, format="turtle")
EXTERNAL_DECLARATIONS = sorted(
    (s, o)
    for s, o in _ONTOLOGY.subject_objects(RDF.type)
    if isinstance(s, URIRef) and not str(s).startswith((VOCAB, *BUILT_IN)) and str(o).startswith(str(OWL))
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dropped=st.sets(st.sampled_from(EXTERNAL_DECLARATIONS), max_size=6))
def test_a_dropped_declaration_is_named_exactly_when_the_term_is_used(
    merged: Graph, dropped: set[tuple[Node, Node]]
) -> None:
    graph = copy_of(merged)
    for term, kind in dropped:
        graph.remove((term, RDF.type, kind))
    used = set(merged.predicates()) | set(merged.objects(None, RDF.type))
    assert undeclared_terms(graph) == {term for term, _ in dropped if term in used}


def _members(graph: Graph, expression: Node) -> set[Node]:
    """A class, or the members of an owl:unionOf."""
    union = graph.value(expression, OWL.unionOf) if isinstance(expression, BNode) else None
    return set(Collection(graph, union)) if union is not None else {expression}


def _closure(graph: Graph, start: Iterable[Node], up: URIRef) -> set[Node]:
    seen: set[Node] = set()
    todo = list(start)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.objects(node, up))
    return seen


def domain_range_breaches(graph: Graph) -> list[str]:
    """Uses of a property whose subject is not typed as its rdfs:domain says, or (object properties) whose
    object is not typed as its rdfs:range says, counting super-classes and super-properties. OWL reasoners
    never report these (they infer the type instead), so a domain that forgets a class passes HermiT."""
    breaches = []
    for prop in sorted({p for p in graph.predicates() if isinstance(p, URIRef)}):
        for declared in _closure(graph, [prop], RDFS.subPropertyOf):
            object_property = (declared, RDF.type, OWL.ObjectProperty) in graph
            checks = [(RDFS.domain, 0, True), (RDFS.range, 2, object_property)]
            for axiom, end, applies in checks:
                for expression in graph.objects(declared, axiom) if applies else ():
                    allowed = _members(graph, expression)
                    for triple in graph.triples((None, prop, None)):
                        node = triple[end]
                        if isinstance(node, Literal):
                            continue
                        kinds = _closure(graph, graph.objects(node, RDF.type), RDFS.subClassOf)
                        if not kinds & allowed:
                            breaches.append(f"{node} {prop} is outside the {axiom.fragment} of {declared}")
    return breaches


def test_every_use_of_a_property_is_within_its_domain_and_range(merged: Graph) -> None:
    assert domain_range_breaches(merged) == []


def test_a_domain_that_leaves_out_a_class_is_caught(merged: Graph) -> None:
    """hv:about's domain once left out MigrationNote and Prerequisite, which use it."""
    broken = copy_of(merged)
    (domain,) = broken.objects(HV.about, RDFS.domain)
    members = _members(broken, domain) - {HV.MigrationNote, HV.Prerequisite}
    broken.remove((HV.about, RDFS.domain, domain))
    union, items = BNode(), BNode()
    Collection(broken, items, sorted(members, key=str))
    broken.add((union, OWL.unionOf, items))
    broken.add((HV.about, RDFS.domain, union))
    notes = {s for s in merged.subjects(HV.about, None) if (s, RDF.type, HV.MigrationNote) in merged}
    assert notes
    breaches = domain_range_breaches(broken)
    assert all(any(str(note) in b and "domain" in b for b in breaches) for note in notes), breaches


# ---- component relations: their own properties name the triple ----------------------------------------------


SHACL = "http://www.w3.org/ns/shacl#"
SHAPES_PREFIXES = """PREFIX hv: <https://hyperv-kg.example.org/id/ontology/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def _violations(graph: Graph, shape: str) -> set[str]:
    """The focus nodes the named shape's SPARQL constraints select on `graph` ($this unbound: every one)."""
    shapes = Graph().parse(DataLayout().shapes)
    found: set[str] = set()
    for constraint in shapes.objects(HV[shape], URIRef(SHACL + "sparql")):
        select = str(shapes.value(constraint, URIRef(SHACL + "select")))
        found |= {str(row[0]) for row in graph.query(SHAPES_PREFIXES + select)}  # type: ignore[index]
    return found


def test_the_relation_queries_read_the_relations_own_properties(merged: Graph) -> None:
    """Each hv:ComponentRelation names its triple with hv:relationSubject/Predicate/Object: the two shapes
    that keep relations and plain triples in step find nothing in the shipped graph and a breach on each side."""
    assert _violations(merged, "ComponentRelationShape") == set()
    assert _violations(merged, "RelationStatementShape") == set()
    relation = min(merged.subjects(RDF.type, HV.ComponentRelation), key=str)
    subject = merged.value(relation, HV.relationSubject)
    predicate = merged.value(relation, HV.relationPredicate)
    target = merged.value(relation, HV.relationObject)
    assert None not in (subject, predicate, target)
    without_triple = copy_of(merged)
    without_triple.remove((subject, predicate, target))
    assert _violations(without_triple, "ComponentRelationShape") == {str(relation)}
    without_statement = copy_of(merged)
    without_statement.remove((relation, HV.relationObject, None))
    assert _violations(without_statement, "RelationStatementShape") == {str(subject)}
    # and no relation is told the old way any more
    assert not set(merged.triples((None, RDF.subject, None)))


# ---- the header ---------------------------------------------------------------------------------------------


def _one(graph: Graph, predicate: URIRef) -> Node:
    values = list(graph.objects(ONTOLOGY, predicate))
    assert len(values) == 1, (predicate, values)
    return values[0]


def _languages(graph: Graph, subject: Node, predicate: URIRef) -> list[str]:
    return sorted(v.language or "" for v in graph.objects(subject, predicate) if isinstance(v, Literal))


def test_the_header_names_version_authors_licence_prefix_and_docs(merged: Graph) -> None:
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in merged
    version = str(_one(merged, OWL.versionInfo))
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    version_iri = _one(merged, OWL.versionIRI)
    # its own IRI, naming the version, and not among the terms of the namespace
    assert isinstance(version_iri, URIRef) and version_iri != ONTOLOGY
    assert str(version_iri).endswith(version) and not str(version_iri).startswith(VOCAB)
    for role in (DCTERMS.creator, DCTERMS.contributor):
        agent = _one(merged, role)
        assert isinstance(agent, URIRef)
        assert _languages(merged, agent, SKOS.prefLabel) == ["en", "ja"], (role, agent)
    for text in (DCTERMS.title, DCTERMS.description, RDFS.comment):
        assert _languages(merged, ONTOLOGY, text) == ["en", "ja"], text
    created, modified = _one(merged, DCTERMS.created), _one(merged, DCTERMS.modified)
    assert isinstance(created, Literal) and isinstance(modified, Literal)
    assert created.datatype == modified.datatype == XSD.date
    assert isinstance(created.toPython(), date) and created.toPython() <= modified.toPython() <= date.today()
    assert _one(merged, DCTERMS.license) == CC_BY
    # the prefix and namespace a reuser should bind are the ones the ontology file itself binds
    prefixes = dict(_ONTOLOGY.namespace_manager.namespaces())
    prefix, namespace = str(_one(merged, VANN.preferredNamespacePrefix)), str(_one(merged, VANN.preferredNamespaceUri))
    assert str(prefixes[prefix]) == namespace == VOCAB
    # the ontology reference of the docs, in both languages
    docs = sorted(str(o) for o in merged.objects(ONTOLOGY, RDFS.seeAlso))
    origin = BASE.split("/id/")[0]
    assert docs == [f"{origin}/docs/{lang}/ontology.html" for lang in ("en", "ja")]


# ---- enumerations as SKOS concept schemes ----------------------------------------------------------------------


def test_every_enumeration_is_a_concept_scheme_of_its_own(merged: Graph) -> None:
    """Every SKOS concept (instances of the hv: enumeration classes, and plain skos:Concepts) is in exactly one
    scheme and is one of its top concepts; one enumeration class, one scheme; each scheme named in both
    languages and holding only concepts that say they are in it."""
    classes = set(merged.subjects(RDFS.subClassOf, None)) | {SKOS.Concept}
    enumerations = {c for c in classes if SKOS.Concept in _closure(merged, [c], RDFS.subClassOf)}
    assert {HV.ArchitectureStyle, HV.CpuArchitecture, HV.InstallationMode, HV.IoMode} <= enumerations
    scheme_of_class: dict[Node, set[Node]] = {}
    for enumeration in enumerations:
        for concept in merged.subjects(RDF.type, enumeration):
            schemes = set(merged.objects(concept, SKOS.inScheme))
            assert len(schemes) == 1, (concept, schemes)
            (scheme,) = schemes
            assert (scheme, RDF.type, SKOS.ConceptScheme) in merged, scheme
            assert (scheme, SKOS.hasTopConcept, concept) in merged, (scheme, concept)
            assert (concept, SKOS.topConceptOf, scheme) in merged, (scheme, concept)
            scheme_of_class.setdefault(enumeration, set()).add(scheme)
    assert all(len(schemes) == 1 for schemes in scheme_of_class.values()), scheme_of_class
    used = [next(iter(s)) for s in scheme_of_class.values()]
    assert len(used) == len(set(used)), "two enumerations share a scheme / 2つの列挙が1つのスキームを共有している"
    for scheme in merged.subjects(RDF.type, SKOS.ConceptScheme):
        assert _languages(merged, scheme, SKOS.prefLabel) == ["en", "ja"], scheme
        tops = set(merged.objects(scheme, SKOS.hasTopConcept))
        assert tops, scheme
        assert all((top, SKOS.inScheme, scheme) in merged for top in tops), scheme
