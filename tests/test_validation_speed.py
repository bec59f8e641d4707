"""The fast validation finds what pyshacl finds, and an edit validated incrementally what a whole validation finds.

graph/shacl_core.py checks the core shapes in one scan of pyoxigraph's store; pyshacl stays the reference. Both
run here on the shipped graph, on every mutation family of tests/test_shape_mutations.py, and on generated
values (ill-typed literals, other datatypes, language tags, IRIs and blank nodes where literals belong), and must
report the same results: the same focus node, source shape, result path and severity. graph/validation_cache.py
re-checks only what an edit can have changed: after generated edits of a catalogue's files (values, removed
and misspelt triples, a product or an architecture that rows of another file cite retyped, a row duplicated
into another file) it must
report exactly what a whole validation reports. No timing is asserted here: bench/validation.py measures.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from graph.findings import SH
from graph.layout import ROOT, DataLayout
from graph.loading import Loaded, load_files
from graph.problems import Problem
from graph.shacl_core import run
from graph.shacl_shapes import Unsupported, plan
from graph.shacl_sparql import focus_nodes
from graph.validation import check, core_shapes
from graph.validation_cache import _footprint, revalidate
from tests.test_shape_mutations import FAMILIES, copy_of, rounds

HV = Namespace("https://hyperv-kg.example.org/id/ontology/")
KG = Namespace("https://hyperv-kg.example.org/id/")
SHAPES = Graph().parse(ROOT / "ontology" / "shapes.ttl")

Result = tuple[Node | None, Node | None, Node | None, Node | None]  # focus node, source shape, result path, severity


@pytest.fixture(scope="module")
def shipped() -> Loaded:
    loaded, problems = load_files(DataLayout())
    assert loaded is not None, problems
    return loaded


def pyshacl_results(graph: Graph, shapes: Graph = SHAPES) -> set[Result]:
    from pyshacl import validate

    _conforms, report, _text = validate(
        graph, shacl_graph=core_shapes(shapes), inference="none", advanced=True, allow_warnings=True
    )
    assert isinstance(report, Graph)
    return {
        (
            report.value(r, SH.focusNode),
            report.value(r, SH.sourceShape),
            report.value(r, SH.resultPath),
            report.value(r, SH.resultSeverity),
        )
        for r in report.subjects(RDF.type, SH.ValidationResult)
    }


def core_results(graph: Graph, shapes: Graph = SHAPES) -> set[Result]:
    from oxrdflib._converter import from_ox

    compiled = plan(shapes)
    assert compiled.left_over == ()
    store = Loaded(graph, shapes, {}).oxigraph()
    return {(from_ox(r.focus), r.shape, r.path, r.severity) for r in run(compiled, store)}  # type: ignore[misc]


def same(graph: Graph, shapes: Graph = SHAPES) -> tuple[set[Result], set[Result]]:
    return core_results(graph, shapes), pyshacl_results(graph, shapes)


# --- the same results as pyshacl -------------------------------------------------------------------------------------


def test_every_shape_of_shapes_ttl_compiles() -> None:
    compiled = plan(SHAPES)
    assert compiled.left_over == ()
    targeted = {s for t in (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode) for s in
                SHAPES.subjects(t, None)}  # fmt: skip
    assert {shape.node for shape in compiled.shapes} == targeted


def test_the_shipped_graph_gives_the_same_results(shipped: Loaded) -> None:
    ours, theirs = same(shipped.graph)
    assert ours == theirs


def test_both_engines_report_the_same_problems_on_a_broken_graph(shipped: Loaded) -> None:
    """The problems, with their files, resources, rules and messages, not only the raw results."""
    graph = copy_of(shipped.graph)
    for group in rounds(FAMILIES["missing required property"](graph))[:1]:
        for mutation in group:
            mutation.apply(graph)
    broken = Loaded(graph, shipped.shapes, shipped.queries, shipped.origin)
    ours = check(broken, DataLayout())
    theirs = check(broken, DataLayout(), engine="pyshacl")
    assert ours.violations and ours.violations == theirs.violations
    assert ours.warnings == theirs.warnings


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_mutation_family_gives_the_same_results(shipped: Loaded, family: str) -> None:
    mutations = FAMILIES[family](shipped.graph)
    assert len(mutations) >= 10
    for group in rounds(mutations):
        graph = copy_of(shipped.graph)
        for mutation in group:
            mutation.apply(graph)
        ours, theirs = same(graph)
        assert ours == theirs, family
        assert {m.resource for m in group} <= {focus for focus, _, _, _ in ours}


def _property_shapes_with_value_tests() -> list[tuple[Node, Node, URIRef]]:
    """(node shape, property shape, path) for the property shapes that test their values one by one."""
    found = []
    for node_shape, prop in SHAPES.subject_objects(SH.property):
        path = SHAPES.value(prop, SH.path)
        tests = (SH.datatype, SH.minInclusive, SH.minExclusive, SH.minLength, SH.pattern, SH["in"], SH.nodeKind,
                 SH["class"], SH["or"])  # fmt: skip
        targeted = (node_shape, SH.targetClass, None) in SHAPES or (node_shape, SH.targetSubjectsOf, None) in SHAPES
        if isinstance(path, URIRef) and targeted and any((prop, t, None) in SHAPES for t in tests):
            found.append((node_shape, prop, path))
    return sorted(found, key=str)


VALUE_TESTED = _property_shapes_with_value_tests()
DATATYPES = [XSD.integer, XSD.string, XSD.boolean, XSD.gYearMonth, XSD.date, XSD.nonNegativeInteger, XSD.decimal,
             XSD.anyURI, RDF.langString]  # fmt: skip


def values() -> st.SearchStrategy[Node]:
    """Terms where a shape expects something else: typed literals whose lexical form may not fit the datatype,
    tagged and plain strings, IRIs, blank nodes."""
    lexical = st.one_of(
        st.integers(min_value=-3, max_value=10**6).map(str),
        st.sampled_from(["", "0", "01", "+1", " 1", "1.5", "true", "1", "2008-08", "2008-13", "2008-08-20", "x"]),
        st.text(alphabet="0123456789-:.abcAZ ", max_size=12),
        st.sampled_from(["cpe:2.3:o:microsoft:windows_xp:-:sp2:*:*:*:*:*:*", "cpe:/o:microsoft:windows_xp"]),
    )
    return st.one_of(
        st.builds(lambda text, dt: Literal(text, datatype=dt), lexical, st.sampled_from(DATATYPES[:-1])),
        st.builds(lambda text, lang: Literal(text, lang=lang), lexical, st.sampled_from(["en", "ja", "EN-GB"])),
        st.builds(Literal, lexical),
        st.sampled_from([KG["windows-xp"], KG["x86"], KG["no-such-resource"], HV.Passage]),
        st.just(BNode("generated")),
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_values_give_the_same_results(shipped: Loaded, data: st.DataObject) -> None:
    graph = copy_of(shipped.graph)
    chosen = data.draw(st.lists(st.sampled_from(VALUE_TESTED), min_size=1, max_size=5, unique=True), label="props")
    for node_shape, _prop, path in chosen:
        nodes = sorted((n for n in focus_nodes(graph, SHAPES, node_shape) if isinstance(n, URIRef)), key=str)
        if not nodes:
            continue
        node = data.draw(st.sampled_from(nodes), label="node")
        value = data.draw(values(), label="value")
        if data.draw(st.booleans(), label="replace"):
            graph.remove((node, path, None))
        graph.add((node, path, value))
    ours, theirs = same(graph)
    assert ours == theirs


def test_a_shape_it_cannot_compile_is_left_to_pyshacl(shipped: Loaded, tmp_path: Path) -> None:
    """sh:qualifiedValueShape and a path expression are not compiled: pyshacl checks those shapes, and their
    violations are still found."""
    extra = """
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix hv: <https://hyperv-kg.example.org/id/ontology/> .
        hv:TwoArchitecturesShape a sh:NodeShape ; sh:targetClass hv:GuestSupport ; sh:severity sh:Violation ;
            sh:message "test"@en ; sh:property [ sh:path ( hv:operatingSystem hv:no-such ) ; sh:minCount 1 ] .
    """
    shapes = Graph()
    shapes += SHAPES
    shapes.parse(data=extra, format="turtle")
    compiled = plan(shapes)
    assert [short for short, _ in compiled.left_over] == [HV.TwoArchitecturesShape]
    loaded = Loaded(shipped.graph, shapes, shipped.queries, shipped.origin)
    found = check(loaded, DataLayout())
    assert {p.rule for p in found.violations} == {"hv:TwoArchitecturesShape"}
    assert len(found.violations) == len(list(shipped.graph.subjects(RDF.type, HV.GuestSupport)))


def test_unsupported_is_said_not_guessed() -> None:
    shapes = Graph().parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:equals ex:p .""",
        format="turtle",
    )
    compiled = plan(shapes)
    assert compiled.shapes == () and "equals" in compiled.left_over[0][1]
    assert issubclass(Unsupported, ValueError)


def test_a_sparql_constraint_reads_only_its_footprint(shipped: Loaded) -> None:
    """What graph/validation_cache.py relies on to keep a constraint's answer: without every triple whose
    predicate is outside the query's footprint, the query gives the same rows."""
    from graph.shacl_sparql import sparql_constraints

    store = shipped.oxigraph()
    read = 0
    for _shape, _constraint, query, _key in sparql_constraints(shipped.shapes):
        footprint = _footprint(query)
        if footprint is None:
            continue
        read += 1
        kept = type(store)()
        kept.extend(q for q in store if q.predicate.value in footprint)
        assert sorted(map(str, store.query(query))) == sorted(map(str, kept.query(query))), query  # type: ignore[arg-type]
        assert footprint, query
    assert read >= 25


def test_a_variable_predicate_or_a_negated_path_reads_everything() -> None:
    assert _footprint("SELECT ?s WHERE { ?s ?p ?o }") is None
    assert _footprint("SELECT ?s WHERE { ?s <http://x/a> ?o FILTER NOT EXISTS { ?o ?p ?s } }") is None
    assert _footprint("SELECT ?s WHERE { ?s !<http://x/a> ?o }") is None
    assert _footprint("SELECT ?s WHERE { ?s <http://x/a>/<http://x/b> ?o FILTER EXISTS { ?o <http://x/c> 1 } }") == {
        "http://x/a",
        "http://x/b",
        "http://x/c",
    }


# --- an edit validated incrementally: what a whole validation finds ------------------------------------------------


def load_catalogue() -> ModuleType:
    spec = importlib.util.spec_from_file_location("catalogue", ROOT / "bench" / "catalogue.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["catalogue"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("catalogue") / "data"
    load_catalogue().generate(directory, 4_000)
    return directory


def _replace_nth(path: Path, old: str, new: str, n: int) -> bool:
    """Replace the n-th (modulo their number) occurrence of `old`; False when there is none (left by an earlier
    edit)."""
    text = path.read_text(encoding="utf-8")
    places = [i for i in range(len(text)) if text.startswith(old, i)]
    if not places:
        return False
    at = places[n % len(places)]
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return True


def _replacing(name: str, old: str, new: str) -> Callable[[Path, int], bool]:
    return lambda directory, n: _replace_nth(directory / name, old, new, n)


SYSTEMS, PRODUCTS = "graph/facts/systems-0000.ttl", "graph/facts/products.ttl"
MAX, DATE = "hv:maxVirtualProcessors", '"2008-08"^^xsd:gYearMonth'


def _edits() -> dict[str, Callable[[Path, int], bool]]:
    """Ways an analyst changes one facts file, each at the n-th place it can."""
    return {
        "a value changed": _replacing(SYSTEMS, f"{MAX} 2 ;", f"{MAX} 3 ;"),
        "an invalid value": _replacing(SYSTEMS, f"{MAX} 2 ;", f"{MAX} 0 ;"),
        "a predicate misspelt": _replacing(SYSTEMS, "hv:rowNumber ", "hv:rowNumbr "),
        "a required value removed": _replacing(SYSTEMS, f"hv:asOf {DATE} ;", ""),
        "a date malformed": _replacing(SYSTEMS, DATE, '"2008-13"^^xsd:gYearMonth'),
        "an edition of another system": _replacing(
            SYSTEMS, "hv:edition kg:syn-os-1-", "hv:edition kg:syn-os-0-e0 , kg:syn-os-1-"
        ),
        # what rows of the systems files cite, retyped in products.ttl: sh:class across files
        "a product retyped": _replacing(PRODUCTS, " a hv:Product ;", " a hv:Feature ;"),
        "an architecture retyped": _replacing(PRODUCTS, "kg:x86 a hv:CpuArchitecture", "kg:x86 a hv:IoMode"),
        "a row duplicated into another file": _duplicate_row,
        # read only inside FILTER NOT EXISTS by hv:QuoteSourceShape
        "a document's source file removed": _replacing(
            PRODUCTS, ' ;\n    hv:sourceFile "graph/sources/synthetic.txt" .', " ."
        ),
    }


def _duplicate_row(directory: Path, n: int) -> bool:
    """A guest row written again, under another name, in products.ttl: hv:GuestRowDuplicateShape across files."""
    text = (directory / "graph/facts/systems-0000.ttl").read_text(encoding="utf-8")
    rows = text.split("kg:syn-row-")[1:]
    row = rows[n % len(rows)]
    block = "kg:syn-row-" + row[: row.index(" .\n") + 3]
    twin = block.replace("kg:syn-row-", "kg:syn-twin-", 1)
    products = directory / "graph/facts/products.ttl"
    products.write_text(products.read_text(encoding="utf-8") + twin, encoding="utf-8")
    return True


EDITS = _edits()


def _report(layout: DataLayout, cache: Path | None) -> tuple[str, list[Problem], list[Problem]]:
    loaded, problems = load_files(layout)
    assert loaded is not None, problems
    outcome = revalidate(loaded, layout, cache)
    return outcome.mode, outcome.report.violations, outcome.report.warnings


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.sampled_from(sorted(EDITS)), st.integers(min_value=0, max_value=50)), min_size=1,
                   max_size=3)
)  # fmt: skip
def test_an_edit_validated_incrementally_finds_what_a_whole_validation_finds(
    catalogue: Path, tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, int]]
) -> None:
    work = tmp_path_factory.mktemp("edit")
    shutil.copytree(catalogue, work / "data")
    layout, cache = DataLayout(work / "data"), work / "cache"
    assert _report(layout, cache)[:2] == ("whole", [])
    made = [name for name, n in edits if EDITS[name](layout.root, n)]
    mode, violations, warnings = _report(layout, cache)
    _, whole_violations, whole_warnings = _report(layout, None)
    assert mode == "edit"
    assert (violations, warnings) == (whole_violations, whole_warnings)
    if any(name != "a value changed" for name in made):
        assert violations  # every other edit breaks something


def test_an_invalid_edit_is_never_the_base_of_the_next(catalogue: Path, tmp_path: Path) -> None:
    shutil.copytree(catalogue, tmp_path / "data")
    layout, cache = DataLayout(tmp_path / "data"), tmp_path / "cache"
    assert _report(layout, cache)[:2] == ("whole", [])
    path = layout.root / "graph/facts/systems-0000.ttl"
    valid = path.read_text(encoding="utf-8")
    EDITS["an invalid value"](layout.root, 0)
    first = _report(layout, cache)
    assert first[0] == "edit" and first[1]
    again = _report(layout, cache)  # compared with the last valid state again, not with the invalid one
    assert again == first
    path.write_text(valid, encoding="utf-8")
    assert _report(layout, cache)[:2] == ("edit", [])


def test_blank_nodes_or_a_lost_state_mean_a_whole_validation(data_copy: DataLayout, tmp_path: Path) -> None:
    """An edit among the article's blank nodes (they get new names at every parse) is validated whole; so is any
    edit once the stored files are gone. An edit elsewhere in the article is validated as an edit."""
    cache = tmp_path / "cache"
    assert _report(data_copy, cache)[:2] == ("whole", [])
    hosts = data_copy.root / "graph/facts/hosts.ttl"  # no blank node in it
    hosts.write_text(
        hosts.read_text(encoding="utf-8").replace("hv:rowNumber 1 ", "hv:rowNumber 0 ", 1), encoding="utf-8"
    )
    mode, violations, _ = _report(data_copy, cache)
    assert (mode, violations) == ("edit", _report(data_copy, None)[1]) and violations
    guests = data_copy.root / "graph/facts/guests.ttl"  # owl:Axiom blank nodes
    guests.write_text(guests.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _report(data_copy, cache)[0] == "whole"
    for kept in (cache / "validation" / "files").iterdir():
        kept.unlink()
    hosts.write_text(
        hosts.read_text(encoding="utf-8").replace("hv:rowNumber 0 ", "hv:rowNumber 1 ", 1), encoding="utf-8"
    )
    assert _report(data_copy, cache)[:2] == ("whole", [])
