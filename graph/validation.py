"""Is the merged graph fit to serve? SHACL shapes (core and SPARQL), the remaining *-violation.rq queries, and
verbatim quotes.

Each finding names the file, the resource and the rule (graph/findings.py words it), so an analyst who broke a
Turtle file reads where and why without opening Python. Only sh:Violation findings refuse the graph; sh:Warning
findings (what a reviewer should look at) are logged and returned apart. Messages come from ontology/shapes.ttl in
the language asked (`messages_in("ja")`), English by default.

The core constraints run in graph/shacl_core.py: the shapes compiled once, checked in one scan of pyoxigraph's
store (seconds at a million triples, where pyshacl took 83 s; docs/decisions.md). pyshacl stays the reference:
`engine="pyshacl"` runs it instead, tests/test_validation_speed.py holds that both find the same results, and a
shape that shacl_core cannot compile is given to pyshacl whatever the engine. The SPARQL constraints (sh:sparql)
run in graph/shacl_sparql.py, each as one query over the whole graph.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from typing import Literal as Choice

from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from graph.findings import DCTERMS, HV, SH, Finding, file_of, finding_of, short_name
from graph.layout import DataLayout
from graph.loading import Loaded
from graph.problems import Problem
from graph.shacl_sparql import check_sparql_constraints

if TYPE_CHECKING:
    from graph.shacl_shapes import Plan

Engine = Choice["core", "pyshacl"]

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
    core = [*check_shapes(loaded, lang, engine=engine, subjects=subjects), *carried]
    sparql = check_sparql_constraints(loaded, lang, reuse=reuse)
    findings = [
        *core,
        *sparql,
        *(Finding(p) for p in check_violation_queries(loaded)),
        *(Finding(p) for p in check_quotes(loaded, layout, report.sources, lang)),
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
    from graph.shacl_shapes import plan

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
    subjects: Iterable[Any] | None = None,
) -> list[Finding]:
    """The core constraints' findings; with `subjects` (pyoxigraph terms), only those on these focus nodes
    (graph/validation_cache.py knows which nodes an edit can have changed the verdict of)."""
    from oxrdflib._converter import from_ox

    from graph.shacl_core import run

    if engine == "pyshacl":
        return _pyshacl_findings(loaded, lang, None)
    plan = compiled(loaded.shapes)
    results = run(plan, loaded.oxigraph(), subjects)
    findings = [finding_of(loaded, lang, from_ox(r.focus), r.shape, r.path, r.severity, str(r.focus)) for r in results]
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
        finding_of(
            loaded,
            lang,
            report.value(result, SH.focusNode),
            report.value(result, SH.sourceShape),
            report.value(result, SH.resultPath),
            report.value(result, SH.resultSeverity),
        )
        for result in report.subjects(RDF.type, SH.ValidationResult)
    ]


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
                    file_of(loaded, resource),
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
    for passage, quote, source in loaded.oxigraph().query(query):  # type: ignore[union-attr]
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
            problems.append(Problem(file_of(loaded, node), short_name(node), "verbatim-quote", said))
    return problems
