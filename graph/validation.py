"""Is the merged graph fit to serve? SHACL shapes (core and SPARQL), the remaining *-violation.rq queries, and
verbatim quotes.

Each finding names the file, the resource and the rule, so an analyst who broke a Turtle file reads where and
why without opening Python. Only sh:Violation findings refuse the graph; sh:Warning findings (what a reviewer
should look at) are logged and returned apart. Messages come from ontology/shapes.ttl in the language asked
(`messages_in("ja")`), English by default.

The core constraints run in pyshacl. The SPARQL constraints (sh:sparql) run here, each as one query over the
whole graph whose rows are kept for the shape's focus nodes: pyshacl would run each query once per focus node,
which is tens of thousands of queries on a large catalogue. The shapes are written so that both give the same
results (see the header of shapes.ttl; tests/test_shape_mutations.py compares them).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from graph.layout import BASE, VOCAB, DataLayout, passage_prefixes
from graph.loading import Loaded
from graph.problems import Problem

if TYPE_CHECKING:
    import pyoxigraph as ox

SH = Namespace("http://www.w3.org/ns/shacl#")
HV = Namespace(VOCAB)
DCTERMS = Namespace("http://purl.org/dc/terms/")

LANGUAGES = ("en", "ja")
log = logging.getLogger("hvkg.validation")

# The language of the messages of the validation that runs in this context: the CLI sets it for
# `hvkg validate --lang ja` (messages_in), everything else reads English.
_language: ContextVar[str] = ContextVar("hvkg_validation_language", default="en")

# The one message not taken from shapes.ttl: the quote check is Python, not a shape.
_NOT_VERBATIM = {
    "en": "the quote is not a verbatim part of {file}",
    "ja": "引用が原文 {file} と一字一句一致しません",
}
_WARNING = {"en": "warning", "ja": "警告"}
_TEMPLATE = re.compile(r"\{[?$](\w+)\}")


@dataclass(frozen=True)
class Finding:
    """A problem with its severity (sh:Violation, sh:Warning or sh:Info)."""

    problem: Problem
    severity: URIRef = SH.Violation

    @property
    def is_violation(self) -> bool:
        return self.severity == SH.Violation


@dataclass
class Report:
    violations: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # the source files the quotes were checked against (name -> sha256)
    sources: dict[str, str] = field(default_factory=dict)


@contextmanager
def messages_in(lang: str) -> Iterator[None]:
    """Validation inside the block words its messages in `lang` ("en" or "ja"; anything else is English)."""
    token = _language.set(lang if lang in LANGUAGES else "en")
    try:
        yield
    finally:
        _language.reset(token)


def validate(loaded: Loaded, layout: DataLayout) -> tuple[list[Problem], dict[str, str]]:
    """The violations found, and the source files the quotes were checked against (name -> sha256).

    Warnings do not refuse the graph: they are logged (printed on stderr by `hvkg validate`).
    """
    lang = _language.get()
    report = check(loaded, layout, lang)
    for warning in report.warnings:
        log.warning("%s: %s", _WARNING[lang], warning)
    return report.violations, report.sources


def check(loaded: Loaded, layout: DataLayout, lang: str = "en") -> Report:
    """Every finding, violations and warnings apart, messages in `lang`."""
    report = Report()
    findings = [
        *check_shapes(loaded, lang),
        *check_sparql_constraints(loaded, lang),
        *(Finding(p) for p in check_violation_queries(loaded)),
        *(Finding(p) for p in check_quotes(loaded, layout, report.sources, lang)),
    ]
    for finding in _unique(findings):
        (report.violations if finding.is_violation else report.warnings).append(finding.problem)
    return report


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    kept = []
    for finding in sorted(findings, key=lambda f: _order(f.problem)):
        if finding not in seen:
            seen.add(finding)
            kept.append(finding)
    return kept


def _order(problem: Problem) -> tuple[str, str, str, str]:
    return (problem.file or "", problem.resource or "", problem.rule, problem.message)


def _file_of(loaded: Loaded, node: object) -> str | None:
    files = loaded.origin.get(node)  # type: ignore[call-overload]
    return ", ".join(files) if files else None


# --- messages and rule names from the shapes graph ---------------------------------------------------------------


def message(shapes: Graph, node: Node, lang: str) -> str | None:
    """The sh:message of a shape or constraint in `lang` (English when there is none in `lang`)."""
    texts = {
        (literal.language or "").lower(): str(literal)
        for literal in shapes.objects(node, SH.message)
        if isinstance(literal, Literal)
    }
    return texts.get(lang) or texts.get("en") or next(iter(sorted(texts.values())), None)


def _filled(template: str, bindings: Mapping[str, Node]) -> str:
    """A message with its {?name} / {$name} replaced by the value the query gave `name`."""

    def value(found: re.Match[str]) -> str:
        bound = bindings.get(found[1])
        return short_name(bound) if bound is not None else found[0]

    return _TEMPLATE.sub(value, template)


def _node_shape(shapes: Graph, shape: Node) -> Node:
    """The named shape a result is reported under: the shape itself when it has an IRI, else the node shape
    that holds it (property shapes are blank nodes)."""
    seen = set()
    while not isinstance(shape, URIRef) and shape not in seen:
        seen.add(shape)
        owner = shapes.value(predicate=SH.property, object=shape)
        if owner is None:
            break
        shape = owner
    return shape


def _rule(shapes: Graph, shape: Node | None) -> str:
    if shape is None:
        return "shape"
    named = _node_shape(shapes, shape)
    return short_name(named) if isinstance(named, URIRef) else "shape"


def _severity(value: Node | None) -> URIRef:
    return value if isinstance(value, URIRef) and value in (SH.Warning, SH.Info) else SH.Violation


# --- core constraints, in pyshacl ----------------------------------------------------------------------------------


def core_shapes(shapes: Graph) -> Graph:
    """The shapes without their SPARQL constraints, which check_sparql_constraints runs."""
    core = Graph()
    for triple in shapes:
        if triple[1] != SH.sparql:
            core.add(triple)
    return core


def check_shapes(loaded: Loaded, lang: str = "en") -> list[Finding]:
    # Imported here: pyshacl takes a noticeable part of a cold start, and a cached snapshot never needs it.
    from pyshacl import validate as shacl_validate

    shapes = loaded.shapes
    # The ontology is part of the data graph, so sh:targetClass reaches instances of subclasses.
    _conforms, report, _text = shacl_validate(
        loaded.graph,
        shacl_graph=core_shapes(shapes),
        inference="none",
        advanced=True,
        allow_warnings=True,
        # No inference and no SHACL rules: nothing is written into the data graph, so an rdflib graph need not
        # be copied first (a tenth of the run on the article). A large input's graph is a view on pyoxigraph's
        # store, where pyshacl's many small lookups cost forty times more than on its own copy: copied.
        inplace=loaded.store is None,
    )
    assert isinstance(report, Graph)
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        shape = report.value(result, SH.sourceShape)
        text = None
        if shape is not None:
            text = message(shapes, shape, lang) or message(shapes, _node_shape(shapes, shape), lang)
        text = text or "violates a shape"
        if isinstance(path, URIRef):
            text = f"{short_name(path)}: {text}"
        problem = Problem(_file_of(loaded, focus), short_name(focus), _rule(shapes, shape), text)
        findings.append(Finding(problem, _severity(report.value(result, SH.resultSeverity))))
    return findings


# --- SPARQL constraints, one query each over the whole graph ----------------------------------------------------------


def focus_nodes(graph: Graph, shapes: Graph, shape: Node) -> set[Node]:
    """The nodes a shape's targets select (SHACL's sh:targetNode / targetClass / targetSubjectsOf / targetObjectsOf;
    a class reaches the instances of its subclasses through the data graph's rdfs:subClassOf)."""
    nodes: set[Node] = set(shapes.objects(shape, SH.targetNode))
    for target in shapes.objects(shape, SH.targetClass):
        for cls in graph.transitive_subjects(RDFS.subClassOf, target):
            nodes.update(graph.subjects(RDF.type, cls))
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        nodes.update(graph.subjects(predicate, None))
    for predicate in shapes.objects(shape, SH.targetObjectsOf):
        nodes.update(graph.objects(None, predicate))
    return nodes


def _prologue(shapes: Graph, constraint: Node) -> str:
    lines = []
    for declarations in shapes.objects(constraint, SH.prefixes):
        for declaration in shapes.objects(declarations, SH.declare):
            prefix = shapes.value(declaration, SH.prefix)
            namespace = shapes.value(declaration, SH.namespace)
            if prefix is not None and namespace is not None:
                lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(sorted(set(lines))) + "\n"


def _active(shapes: Graph, node: Node) -> bool:
    return not any(isinstance(v, Literal) and v.value is True for v in shapes.objects(node, SH.deactivated))


def sparql_store(loaded: Loaded) -> ox.Store:
    """The graph in pyoxigraph, where the SPARQL constraints run: the store a large input is parsed into, else a
    copy of the rdflib graph (a few hundredths of a second for the article; rdflib's own SPARQL engine took
    about a second for the same queries). Blank nodes keep their labels, so the rows name the graph's nodes."""
    import pyoxigraph as ox
    from oxrdflib._converter import to_ox

    if loaded.store is not None:
        return loaded.store
    store = ox.Store()
    store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in loaded.graph)  # type: ignore[arg-type]
    return store


def check_sparql_constraints(loaded: Loaded, lang: str = "en") -> list[Finding]:
    from oxrdflib._converter import from_ox

    shapes, graph = loaded.shapes, loaded.graph
    store = None
    findings = []
    for shape in sorted(set(shapes.subjects(SH.sparql, None)), key=str):
        if not _active(shapes, shape):
            continue
        severity = _severity(shapes.value(shape, SH.severity))
        focus = focus_nodes(graph, shapes, shape)
        for constraint in shapes.objects(shape, SH.sparql):
            select = shapes.value(constraint, SH.select)
            if not focus or select is None or not _active(shapes, constraint):
                continue
            store = store or sparql_store(loaded)
            template = message(shapes, constraint, lang) or message(shapes, shape, lang) or "violates a shape"
            solutions = store.query(_prologue(shapes, constraint) + str(select))
            names = [variable.value for variable in solutions.variables]  # type: ignore[union-attr]
            for solution in solutions:  # type: ignore[union-attr]
                bindings: dict[str, Node] = {}
                for name in names:
                    value = from_ox(solution[name]) if solution[name] is not None else None
                    if isinstance(value, Node):
                        bindings[name] = value
                this = bindings.get("this")
                if this is None or this not in focus:
                    continue
                problem = Problem(
                    _file_of(loaded, this), short_name(this), _rule(shapes, shape), _filled(template, bindings)
                )
                findings.append(Finding(problem, severity))
    return findings


# --- what is not a shape ----------------------------------------------------------------------------------------------


def check_violation_queries(loaded: Loaded) -> list[Problem]:
    """The queries/*-violation.rq still outside the shapes (those of the component relations)."""
    problems = []
    for name, text in loaded.queries.items():
        if not name.endswith("-violation"):
            continue
        for row in loaded.graph.query(text):
            resource = getattr(row, "resource", None)
            said = getattr(row, "message", None)
            problems.append(
                Problem(
                    _file_of(loaded, resource),
                    short_name(resource),
                    f"queries/{name}.rq",
                    str(said) if said is not None else "the violation query matched",
                )
            )
    return problems


def check_quotes(
    loaded: Loaded, layout: DataLayout, sources: dict[str, str] | None = None, lang: str = "en"
) -> list[Problem]:
    """Every quote must stand, letter for letter, in the source file of its document.

    `sources` receives the sha256 of each source file read, so a cached verdict can tell when one changed.
    """
    problems = []
    texts: dict[str, str] = {}
    # A quote that is a whole line is found in a set; only the others are searched for in the text, which
    # keeps a catalogue of many thousand passages from searching megabytes once per passage.
    lines: dict[str, set[str]] = {}
    for passage, quote in loaded.graph.subject_objects(HV.quote):
        document = loaded.graph.value(passage, DCTERMS.isPartOf)
        source = loaded.graph.value(document, HV.sourceFile) if document is not None else None
        if source is None:
            continue  # reported by hv:QuoteSourceShape
        name = str(source)
        if name not in texts:
            path = layout.root / name
            data = path.read_bytes() if path.is_file() else b""
            texts[name] = data.decode("utf-8")
            lines[name] = set(texts[name].splitlines())
            if sources is not None:
                sources[name] = hashlib.sha256(data).hexdigest()
        text = str(quote)
        if not isinstance(quote, Literal) or (text not in lines[name] and text not in texts[name]):
            said = _NOT_VERBATIM.get(lang, _NOT_VERBATIM["en"]).format(file=name)
            problems.append(Problem(_file_of(loaded, passage), short_name(passage), "verbatim-quote", said))
    return problems


def short_name(node: object) -> str:
    """A node as problems name it: kg:guest-row-05, hv:asOf, a blank node by its label."""
    if node is None:
        return ""

    text = str(node)
    for prefix, iri in (
        ("hv:", str(HV)),
        *passage_prefixes(BASE),
        ("kg:", BASE),
        ("prov:", "http://www.w3.org/ns/prov#"),
        ("skos:", "http://www.w3.org/2004/02/skos/core#"),
        ("dcterms:", str(DCTERMS)),
        ("owl:", "http://www.w3.org/2002/07/owl#"),
        ("rdf:", str(RDF)),
        ("rdfs:", str(RDFS)),
    ):
        if text.startswith(iri):
            return prefix + text[len(iri) :]
    return text
