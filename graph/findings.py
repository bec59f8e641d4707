"""A validation finding and how it is worded: the file, the resource, the rule and the message, read from the
shapes graph (sh:message in the language asked, the named shape as the rule). graph/validation.py and
graph/shacl_sparql.py word their results here, so a finding reads the same whichever check found it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from graph.layout import BASE, VOCAB, passage_prefixes
from graph.loading import Loaded
from graph.problems import Problem

SH = Namespace("http://www.w3.org/ns/shacl#")
HV = Namespace(VOCAB)
DCTERMS = Namespace("http://purl.org/dc/terms/")

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


def file_of(loaded: Loaded, node: object) -> str | None:
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


def filled(template: str, bindings: Mapping[str, Node]) -> str:
    """A message with its {?name} / {$name} replaced by the value the query gave `name`."""

    def value(found: re.Match[str]) -> str:
        bound = bindings.get(found[1])
        return short_name(bound) if bound is not None else found[0]

    return _TEMPLATE.sub(value, template)


def node_shape(shapes: Graph, shape: Node) -> Node:
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


def rule(shapes: Graph, shape: Node | None) -> str:
    if shape is None:
        return "shape"
    named = node_shape(shapes, shape)
    return short_name(named) if isinstance(named, URIRef) else "shape"


def severity_of(value: Node | None) -> URIRef:
    return value if isinstance(value, URIRef) and value in (SH.Warning, SH.Info) else SH.Violation


def finding_of(
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
        text = message(shapes, shape, lang) or message(shapes, node_shape(shapes, shape), lang)
    text = text or "violates a shape"
    if isinstance(path, URIRef):
        text = f"{short_name(path)}: {text}"
    problem = Problem(file_of(loaded, focus), short_name(focus), rule(shapes, shape), text)
    if key is None and isinstance(focus, Node):
        key = focus.n3()
    return Finding(problem, severity_of(severity if isinstance(severity, Node) else None), key)


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
