"""Is the merged graph fit to serve? SHACL shapes, every *-violation.rq query, and verbatim quotes.

Each check returns Problems that name the file, the resource and the rule, so an analyst who broke a
Turtle file reads where and why without opening Python.
"""

from __future__ import annotations

import hashlib

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from graph.layout import DataLayout
from graph.loading import Loaded
from graph.problems import Problem

SH = Namespace("http://www.w3.org/ns/shacl#")
HV = Namespace("https://hyperv-kg.example.org/id/ontology/")
DCTERMS = Namespace("http://purl.org/dc/terms/")


def validate(loaded: Loaded, layout: DataLayout) -> tuple[list[Problem], dict[str, str]]:
    """Every problem found, and the source files the quotes were checked against (name -> sha256)."""
    sources: dict[str, str] = {}
    problems = [*check_shapes(loaded), *check_violation_queries(loaded), *check_quotes(loaded, layout, sources)]
    return problems, sources


def _file_of(loaded: Loaded, node: object) -> str | None:
    files = loaded.origin.get(node)  # type: ignore[call-overload]
    return ", ".join(files) if files else None


def check_shapes(loaded: Loaded) -> list[Problem]:
    # Imported here: pyshacl takes a noticeable part of a cold start, and a cached snapshot never needs it.
    from pyshacl import validate as shacl_validate

    # The ontology is part of the data graph, so sh:targetClass reaches instances of subclasses.
    _conforms, report, _text = shacl_validate(
        loaded.graph, shacl_graph=loaded.shapes, inference="none", advanced=True, allow_warnings=True
    )
    assert isinstance(report, Graph)
    problems = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        shape = report.value(result, SH.sourceShape)
        # Property shapes are blank nodes: name the rule by the node shape that holds them.
        owner = shape if isinstance(shape, URIRef) else loaded.shapes.value(predicate=SH.property, object=shape)
        rule = _short(owner) if owner is not None else "shape"
        text = str(message) if message is not None else "violates a shape"
        if path is not None and isinstance(path, URIRef):
            text = f"{_short(path)}: {text}"
        problems.append(Problem(_file_of(loaded, focus), _short(focus), rule, text))
    return sorted(problems, key=lambda p: (p.file or "", p.resource or "", p.rule))


def check_violation_queries(loaded: Loaded) -> list[Problem]:
    problems = []
    for name, text in loaded.queries.items():
        if not name.endswith("-violation"):
            continue
        for row in loaded.graph.query(text):
            resource = getattr(row, "resource", None)
            message = getattr(row, "message", None)
            problems.append(
                Problem(
                    _file_of(loaded, resource),
                    _short(resource),
                    f"queries/{name}.rq",
                    str(message) if message is not None else "the violation query matched",
                )
            )
    return problems


def check_quotes(loaded: Loaded, layout: DataLayout, sources: dict[str, str] | None = None) -> list[Problem]:
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
            continue  # reported by quote-outside-document-violation.rq
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
            problems.append(
                Problem(
                    _file_of(loaded, passage),
                    _short(passage),
                    "verbatim-quote",
                    f"the quote is not a verbatim part of {name} / 引用が原文と一致しない",
                )
            )
    return problems


def _short(node: object) -> str:
    if node is None:
        return ""

    text = str(node)
    for prefix, iri in (
        ("hv:", str(HV)),
        ("kg:", "https://hyperv-kg.example.org/id/"),
        ("prov:", "http://www.w3.org/ns/prov#"),
        ("skos:", "http://www.w3.org/2004/02/skos/core#"),
        ("dcterms:", str(DCTERMS)),
    ):
        if text.startswith(iri):
            return prefix + text[len(iri) :]
    return text
