"""Is the merged graph fit to serve? SHACL shapes (core and SPARQL), the remaining *-violation.rq queries, and
verbatim quotes.

Each finding names the file, the resource and the rule, so an analyst who broke a Turtle file reads where and
why without opening Python. Only sh:Violation findings refuse the graph; sh:Warning findings (what a reviewer
should look at) are logged and returned apart. Messages come from ontology/shapes.ttl in the language asked
(`messages_in("ja")`), English by default.

The core constraints run in graph/shacl_core.py: the shapes compiled once, checked in one scan of pyoxigraph's
store (seconds at a million triples, where pyshacl took 83 s). pyshacl stays the reference: `engine="pyshacl"`
runs it instead, tests/test_validation_speed.py holds that both find the same results, and a shape that
shacl_core cannot compile is given to pyshacl whatever the engine. The SPARQL constraints (sh:sparql) run here,
each as one query over the whole graph whose rows are kept for the shape's focus nodes (which the scan records):
pyshacl would run each query once per focus node, which is tens of thousands of queries on a large catalogue.
The shapes are written so that both give the same results (see the header of shapes.ttl;
tests/test_shape_mutations.py compares them).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from typing import Literal as Choice

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from graph.layout import BASE, VOCAB, DataLayout, passage_prefixes
from graph.loading import Loaded
from graph.problems import Problem

if TYPE_CHECKING:
    import pyoxigraph as ox

    from graph.shacl_core import Plan

Engine = Choice["core", "pyshacl"]

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
    """A problem with its severity (sh:Violation, sh:Warning or sh:Info); a core shape's finding also names its
    focus node (N-Triples), so that graph/validation_cache.py can keep it for a node an edit did not touch."""

    problem: Problem
    severity: URIRef = SH.Violation
    focus: str | None = field(default=None, compare=False)
    # the SPARQL constraint that found it (`sparql_constraints`' key), for graph/validation_cache.py
    constraint: str | None = field(default=None, compare=False)

    @property
    def is_violation(self) -> bool:
        return self.severity == SH.Violation


@dataclass
class Report:
    violations: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # the source files the quotes were checked against (name -> sha256)
    sources: dict[str, str] = field(default_factory=dict)
    # the findings of the core shapes and of the SPARQL constraints, with their focus nodes
    core: list[Finding] = field(default_factory=list)
    sparql: list[Finding] = field(default_factory=list)


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
    log_warnings(report, lang)
    return report.violations, report.sources


def log_warnings(report: Report, lang: str) -> None:
    for warning in report.warnings:
        log.warning("%s: %s", _WARNING[lang], warning)


def language() -> str:
    """The language of the messages of the validation running in this context."""
    return _language.get()


def check(
    loaded: Loaded,
    layout: DataLayout,
    lang: str = "en",
    *,
    engine: Engine = "core",
    subjects: Iterable[Any] | None = None,
    carried: Iterable[Finding] = (),
    reuse: Mapping[str, list[Finding]] | None = None,
) -> Report:
    """Every finding, violations and warnings apart, messages in `lang`; the core constraints checked by
    graph/shacl_core.py (`engine="core"`) or by pyshacl (`engine="pyshacl"`), with the same results.

    With `subjects` (pyoxigraph terms), the core constraints are checked on those focus nodes only, and
    `carried` (the core findings of the last valid graph on the other nodes) stands in for the rest, and the
    SPARQL constraints keyed in `reuse` are not run again: what graph/validation_cache.py does after an edit.
    The rest runs on the whole graph every time."""
    report = Report()
    store = sparql_store(loaded)
    core = [*check_shapes(loaded, lang, engine=engine, store=store, subjects=subjects), *carried]
    sparql = check_sparql_constraints(loaded, lang, store=store, reuse=reuse)
    findings = [
        *core,
        *sparql,
        *(Finding(p) for p in check_violation_queries(loaded)),
        *(Finding(p) for p in check_quotes(loaded, layout, report.sources, lang, store=store)),
    ]
    for finding in _unique(findings):
        (report.violations if finding.is_violation else report.warnings).append(finding.problem)
    report.core, report.sparql = _unique(core), sparql
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


# --- core constraints: graph/shacl_core.py, or pyshacl ---------------------------------------------------------------


def core_shapes(shapes: Graph) -> Graph:
    """The shapes without their SPARQL constraints, which check_sparql_constraints runs."""
    core = Graph()
    for triple in shapes:
        if triple[1] != SH.sparql:
            core.add(triple)
    return core


# The compiled shapes, per shapes graph (the shapes of a data directory are parsed once per load; the tests
# validate many graphs against one): a new graph, or one of another size, is compiled again.
_plans: dict[int, tuple[Graph, int, Plan]] = {}


def compiled(shapes: Graph) -> Plan:
    from graph.shacl_core import plan

    kept = _plans.get(id(shapes))
    if kept is None or kept[0] is not shapes or kept[1] != len(shapes):
        _plans.clear()  # one shapes graph at a time is all a process validates against
        kept = _plans[id(shapes)] = (shapes, len(shapes), plan(shapes))
    return kept[2]


def check_shapes(
    loaded: Loaded,
    lang: str = "en",
    *,
    engine: Engine = "core",
    store: ox.Store | None = None,
    subjects: Iterable[Any] | None = None,
) -> list[Finding]:
    """The core constraints' findings; with `subjects` (pyoxigraph terms), only those on these focus nodes
    (graph/validation_cache.py knows which nodes an edit can have changed the verdict of)."""
    from oxrdflib._converter import from_ox

    from graph.shacl_core import run

    if engine == "pyshacl":
        return _pyshacl_findings(loaded, lang, None)
    plan = compiled(loaded.shapes)
    results = run(plan, store or sparql_store(loaded), subjects)
    findings = [_finding(loaded, lang, from_ox(r.focus), r.shape, r.path, r.severity, str(r.focus)) for r in results]
    if plan.left_over:
        for shape, reason in plan.left_over:
            log.info("pyshacl checks %s: %s", short_name(shape), reason)
        findings += _pyshacl_findings(loaded, lang, [shape for shape, _ in plan.left_over])
    return findings


def _pyshacl_findings(loaded: Loaded, lang: str, shapes: list[Node] | None) -> list[Finding]:
    """pyshacl over the core shapes (those named in `shapes`, else all of them)."""
    # Imported here: pyshacl takes a noticeable part of a cold start, and a cached snapshot never needs it.
    from pyshacl import validate as shacl_validate

    # The ontology is part of the data graph, so sh:targetClass reaches instances of subclasses.
    _conforms, report, _text = shacl_validate(
        loaded.graph,
        shacl_graph=core_shapes(loaded.shapes),
        inference="none",
        advanced=True,
        allow_warnings=True,
        use_shapes=cast("list[str | URIRef] | None", shapes),
        # No inference and no SHACL rules: nothing is written into the data graph, so an rdflib graph need not
        # be copied first (a tenth of the run on the article). A large input's graph is a view on pyoxigraph's
        # store, where pyshacl's many small lookups cost forty times more than on its own copy: copied.
        inplace=loaded.store is None,
    )
    assert isinstance(report, Graph)
    return [
        _finding(
            loaded,
            lang,
            report.value(result, SH.focusNode),
            report.value(result, SH.sourceShape),
            report.value(result, SH.resultPath),
            report.value(result, SH.resultSeverity),
        )
        for result in report.subjects(RDF.type, SH.ValidationResult)
    ]


def _finding(
    loaded: Loaded,
    lang: str,
    focus: object,
    shape: Node | None,
    path: object,
    severity: object,
    key: str | None = None,
) -> Finding:
    """A result as a problem: its file, its resource, the named shape as the rule, the message of the shape
    (or of the node shape holding it) after the path the result is about."""
    shapes = loaded.shapes
    text = None
    if shape is not None:
        text = message(shapes, shape, lang) or message(shapes, _node_shape(shapes, shape), lang)
    text = text or "violates a shape"
    if isinstance(path, URIRef):
        text = f"{short_name(path)}: {text}"
    problem = Problem(_file_of(loaded, focus), short_name(focus), _rule(shapes, shape), text)
    if key is None and isinstance(focus, Node):
        key = focus.n3()
    return Finding(problem, _severity(severity if isinstance(severity, Node) else None), key)


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
    """The graph in pyoxigraph, where the constraints run: the store a large input is parsed into, else a copy of
    the rdflib graph (a few hundredths of a second for the article; rdflib's own SPARQL engine took about a
    second for the same queries). Blank nodes keep their labels, so the rows name the graph's nodes."""
    import pyoxigraph as ox
    from oxrdflib._converter import to_ox

    if loaded.store is not None:
        return loaded.store
    store = ox.Store()
    store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in loaded.graph)  # type: ignore[arg-type]
    return store


def sparql_constraints(shapes: Graph) -> list[tuple[Node, Node, str, str]]:
    """Every active SPARQL constraint as (shape, constraint, its query with the prefixes, a key that names it
    across parses of the shapes: the shape and the query's hash)."""
    found = []
    for shape in sorted(set(shapes.subjects(SH.sparql, None)), key=str):
        if not _active(shapes, shape):
            continue
        for constraint in shapes.objects(shape, SH.sparql):
            select = shapes.value(constraint, SH.select)
            if select is None or not _active(shapes, constraint):
                continue
            query = _prologue(shapes, constraint) + str(select)
            found.append((shape, constraint, query, f"{shape}\0{hashlib.sha256(query.encode()).hexdigest()}"))
    return found


def check_sparql_constraints(
    loaded: Loaded,
    lang: str = "en",
    *,
    store: ox.Store | None = None,
    reuse: Mapping[str, list[Finding]] | None = None,
) -> list[Finding]:
    """Each SPARQL constraint as one query over the whole graph; a row counts when its $this is a focus node of
    the shape, as when SHACL binds $this to each focus node in turn. A constraint whose key is in `reuse` is not
    run: its findings are those given (graph/validation_cache.py knows when they cannot have changed)."""
    from oxrdflib._converter import from_ox

    from graph.shacl_core import Focus, targets_of

    shapes = loaded.shapes
    store = store or sparql_store(loaded)
    constraints = sparql_constraints(shapes)
    focus = Focus(store, [(shape, targets_of(shapes, shape)) for shape in {c[0] for c in constraints}])
    findings = []
    for shape, constraint, query, key in constraints:
        if reuse is not None and key in reuse:
            findings.extend(reuse[key])
            continue
        severity = _severity(shapes.value(shape, SH.severity))
        template = message(shapes, constraint, lang) or message(shapes, shape, lang) or "violates a shape"
        solutions = store.query(query)
        names = [variable.value for variable in solutions.variables]  # type: ignore[union-attr]
        for solution in solutions:  # type: ignore[union-attr]
            if solution["this"] is None or not focus(shape, solution["this"]):
                continue
            bindings: dict[str, Node] = {}
            for name in names:
                value = from_ox(solution[name]) if solution[name] is not None else None
                if isinstance(value, Node):
                    bindings[name] = value
            this = bindings["this"]
            problem = Problem(
                _file_of(loaded, this), short_name(this), _rule(shapes, shape), _filled(template, bindings)
            )
            findings.append(Finding(problem, severity, str(solution["this"]), key))
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
    loaded: Loaded,
    layout: DataLayout,
    sources: dict[str, str] | None = None,
    lang: str = "en",
    *,
    store: ox.Store | None = None,
) -> list[Problem]:
    """Every quote must stand, letter for letter, in the source file of its document (of each, if a passage
    names several: hv:PassageShape refuses that anyway).

    `sources` receives the sha256 of each source file read, so a cached verdict can tell when one changed.
    """
    import pyoxigraph as ox

    problems = []
    texts: dict[str, str] = {}
    # A quote that is a whole line is found in a set; only the others are searched for in the text, which
    # keeps a catalogue of many thousand passages from searching megabytes once per passage.
    lines: dict[str, set[str]] = {}
    query = (
        f"SELECT ?passage ?quote ?file WHERE {{ ?passage <{HV.quote}> ?quote ; <{DCTERMS.isPartOf}> ?document . "
        f"?document <{HV.sourceFile}> ?file . }}"  # a document without a source file: hv:QuoteSourceShape
    )
    for passage, quote, source in (store or sparql_store(loaded)).query(query):  # type: ignore[union-attr]
        name = str(source.value)
        if name not in texts:
            path = layout.root / name
            data = path.read_bytes() if path.is_file() else b""
            texts[name] = data.decode("utf-8", errors="replace")  # a file that is not UTF-8 matches no quote
            lines[name] = set(texts[name].splitlines())
            if sources is not None:
                sources[name] = hashlib.sha256(data).hexdigest()
        text = quote.value
        if not isinstance(quote, ox.Literal) or (text not in lines[name] and text not in texts[name]):
            from oxrdflib._converter import from_ox

            node = from_ox(passage)
            said = _NOT_VERBATIM.get(lang, _NOT_VERBATIM["en"]).format(file=name)
            problems.append(Problem(_file_of(loaded, node), short_name(node), "verbatim-quote", said))
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
